"""Stalls: a permanent error is left alone until something its pass read changes."""

from collections import defaultdict

from alertsync.errors import AlertSyncError, InvalidSpecError, PlatformUnavailableError
from alertsync.models import AlertIntegrationStatus
from alertsync.reconcile import Outcome
from alertsync.records import IntegrationRecord, PlatformKey
from alertsync.stalls import Stalls

SPEC = {"platformRef": {"name": "oncall"}, "displayName": "pay"}


def record(generation: int = 1) -> IntegrationRecord:
    return IntegrationRecord("team", "pay", "uid-1", generation, SPEC, {})


def failed(error: AlertSyncError) -> Outcome:
    return Outcome(AlertIntegrationStatus(), error=error)


class World:
    def __init__(self) -> None:
        self.secrets: dict[str, dict[str, str] | None] = {"hook": {"url": "not a url"}}
        self.versions: defaultdict[PlatformKey, int] = defaultdict(int)
        self.reads = 0
        self.stalls = Stalls(lambda key: self.versions[key], self.read)

    async def read(self, namespace: str, name: str) -> dict[str, str] | None:
        self.reads += 1
        return self.secrets.get(name)

    async def stall(self, generation: int = 1, *, read: bool = True) -> IntegrationRecord:
        stalled = record(generation)
        reader = self.stalls.reader(stalled.uid)
        if read:
            await reader("team", "hook")
        self.stalls.note(stalled, failed(InvalidSpecError("spec.webhook.urlSecretRef", "bad")))
        return stalled


async def test_a_permanent_error_stalls_until_the_generation_or_the_platform_moves() -> None:
    world = World()
    stalled = await world.stall(read=False)
    assert await world.stalls.stalled(stalled)
    assert not await world.stalls.stalled(record(generation=2))
    world.versions[stalled.platform] += 1
    assert not await world.stalls.stalled(stalled)


async def test_a_secret_the_pass_read_ends_the_stall_when_it_changes() -> None:
    world = World()
    stalled = await world.stall()
    assert await world.stalls.stalled(stalled)
    world.secrets["hook"] = {"url": "https://fixed.example/hook"}
    assert not await world.stalls.stalled(stalled)


async def test_a_secret_deleted_or_created_counts_as_a_change() -> None:
    world = World()
    world.secrets["hook"] = None
    stalled = await world.stall()
    assert await world.stalls.stalled(stalled)
    world.secrets["hook"] = {"url": "https://fixed.example/hook"}
    assert not await world.stalls.stalled(stalled)


async def test_a_stall_that_read_no_secret_costs_no_kubernetes_read() -> None:
    world = World()
    stalled = await world.stall(read=False)
    for _ in range(3):
        assert await world.stalls.stalled(stalled)
    assert world.reads == 0


async def test_a_temporary_error_or_a_success_is_no_stall() -> None:
    world = World()
    stalled = await world.stall()
    world.stalls.note(stalled, failed(PlatformUnavailableError("503")))
    assert not await world.stalls.stalled(stalled)
    await world.stall()
    world.stalls.note(stalled, Outcome(AlertIntegrationStatus()))
    assert not await world.stalls.stalled(stalled)


async def test_what_is_kept_is_a_digest_never_the_secret() -> None:
    world = World()
    world.secrets["hook"] = {"url": "https://user:s3cr3t-value@hooks.example/x"}
    await world.stall()
    assert "s3cr3t-value" not in repr(vars(world.stalls))
