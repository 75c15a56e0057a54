"""The decision table of reconcile(), with an in-memory adapter: no kopf, no HTTP."""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    CredentialsMissingError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import (
    AlertIntegrationStatus,
    CurrentState,
    PlatformRef,
    ProductType,
    TargetState,
    ZStackSpec,
)
from alertsync.platforms.base import (
    DeliveryTest,
    DesiredIntegration,
    Match,
    Observation,
    PlatformAccount,
    PlatformAdapter,
    ReadSecret,
)
from alertsync.platforms.zstack.adapter import with_password
from alertsync.reconcile import (
    Dependencies,
    IntegrationResource,
    Outcome,
    Reason,
    Update,
    reconcile,
)
from tests.support.accounts import platform_account
from tests.support.memory import MemoryPlatform, Remote

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ACCOUNT = platform_account("http://oncall.invalid", "secret-token-value", namespace="team")


@dataclass
class FakeAdapter(MemoryPlatform):
    """The in-memory platform, its writes recorded, with switchable failures and the
    optional capabilities (off unless a test sets them)."""

    writes: list[str] = field(default_factory=list)
    fail_with: AlertSyncError | None = None
    open_alert_counts: dict[str, int] | None = None
    count_error: AlertSyncError | None = None
    create_error: AlertSyncError | None = None
    created: list[DesiredIntegration] = field(default_factory=list)
    note_before_delete: str | None = None
    delivery: bool | None = None
    # Objects a listing misses (a page that shifted while it was read).
    unlisted: set[str] = field(default_factory=set)

    async def observe(
        self, desired: DesiredIntegration, listing: Sequence[object] | None = None
    ) -> Observation:
        if self.fail_with:
            raise self.fail_with
        if listing is None or not self.unlisted:
            return await super().observe(desired, listing)
        everything = self.objects
        self.objects = {k: v for k, v in everything.items() if k not in self.unlisted}
        try:
            return await super().observe(desired, listing)
        finally:
            self.objects = everything

    async def create(self, desired: DesiredIntegration) -> Observation:
        if self.create_error:
            raise self.create_error
        self.created.append(desired)
        observed = await super().create(desired)
        self.writes.append(f"create {observed.external_id}")
        return observed

    async def update(self, desired: DesiredIntegration, observed: Observation) -> Observation:
        self.writes.append(f"update {observed.external_id}")
        return await super().update(desired, observed)

    async def delete(self, external_id: str) -> None:
        await super().delete(external_id)
        self.writes.append(f"delete {external_id}")

    async def open_alerts(self, desired: DesiredIntegration, observed: Observation) -> int | None:
        if self.open_alert_counts is None:
            return None
        if self.count_error:
            raise self.count_error
        return self.open_alert_counts.get(observed.external_id or "", 0)

    async def before_delete(self, desired: DesiredIntegration, external_id: str) -> str | None:
        if self.note_before_delete:
            self.writes.append(f"before delete {external_id}")
        return self.note_before_delete

    async def after_write(
        self, desired: DesiredIntegration, before: Observation | None, after: Observation
    ) -> DeliveryTest | None:
        if self.delivery is None:
            return None
        self.writes.append(f"test {after.external_id}")
        return DeliveryTest(NOW, self.delivery, "delivered" if self.delivery else "HTTP 500")


@dataclass
class ZStackSecretsAdapter(FakeAdapter):
    """The fake with the real ZStack adapter's Secret hook (the endpoint password)."""

    def __init__(self, fake: FakeAdapter) -> None:
        self.__dict__.update(fake.__dict__)

    async def with_secrets(
        self, desired: DesiredIntegration, read_secret: ReadSecret
    ) -> DesiredIntegration:
        assert isinstance(desired.block, ZStackSpec)
        return await with_password(desired.with_block(desired.block), read_secret)


class DeletingFakeAdapter(FakeAdapter):
    """A platform with no enable switch: disabled means deleted (Confluent)."""

    disable_by_delete: ClassVar[bool] = True

    async def update(self, desired: DesiredIntegration, observed: Observation) -> Observation:
        if desired.target_state is TargetState.DISABLED:
            assert observed.external_id
            await self.delete(observed.external_id)
            return Observation(Match.NONE, CurrentState.DISABLED)
        return await super().update(desired, observed)


@dataclass
class World:
    adapter: FakeAdapter = field(default_factory=FakeAdapter)
    status_writes: list[AlertIntegrationStatus] = field(default_factory=list)
    resolve_error: AlertSyncError | None = None
    resolved: int = 0
    may_write: bool = True
    # Whether passes get the resync's listing (else each observes with targeted reads).
    listed: bool = False
    account: PlatformAccount = ACCOUNT
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def deps(self) -> Dependencies:
        async def resolve(ref: PlatformRef, namespace: str) -> PlatformAccount:
            self.resolved += 1
            if self.resolve_error:
                raise self.resolve_error
            return self.account

        async def read_secret(namespace: str, name: str) -> dict[str, str] | None:
            return self.secrets.get((namespace, name))

        async def write(status: AlertIntegrationStatus) -> None:
            self.status_writes.append(status.model_copy(deep=True))

        def adapter_for(account: PlatformAccount) -> PlatformAdapter:
            return self.adapter

        return Dependencies(
            resolve,
            adapter_for,
            write,
            clock=lambda: NOW,
            may_write=lambda: self.may_write,
            read_secret=read_secret,
            listing=(lambda adapter: adapter.list_all()) if self.listed else None,
        )

    async def run(
        self,
        spec: dict[str, Any] | None = None,
        status: AlertIntegrationStatus | None = None,
        *,
        generation: int = 1,
        deleting: bool = False,
    ) -> Outcome:
        resource = IntegrationResource(
            namespace="team",
            name="pay",
            uid="uid-1",
            generation=generation,
            spec=spec if spec is not None else SPEC,
            status=status or AlertIntegrationStatus(),
            deleting=deleting,
        )
        return await reconcile(resource, self.deps())


SPEC: dict[str, Any] = {"platformRef": {"name": "oncall"}, "displayName": "pay alerts"}
MARKER = "managed-by=alertsync uid=uid-1"


def condition(outcome: Outcome, type_: str) -> tuple[str, str]:
    found = next(c for c in outcome.status.conditions if c.type == type_)
    return found.status, found.reason


async def converge(world: World, spec: dict[str, Any] | None = None) -> Outcome:
    return await world.run(spec)


class MarkingFakeAdapter(FakeAdapter):
    """A platform whose created objects carry the marker (OnCall, Confluent, ZStack)."""

    marks_creates = True


async def test_where_the_marker_finds_a_lost_create_nothing_is_written_ahead_of_it() -> None:
    world = World(adapter=MarkingFakeAdapter())
    outcome = await world.run()
    assert world.adapter.writes == ["create C1"]
    assert world.status_writes == []  # the pass's one status write comes after it
    assert outcome.status.create_pending_since is None
    assert outcome.status.webhook_id == "C1"


async def test_absent_object_is_created_after_recording_a_pending_create() -> None:
    world = World()
    outcome = await world.run()
    assert world.adapter.writes == ["create C1"]
    # The pending record landed before the create, and is cleared after it.
    assert world.status_writes[0].create_pending_since == NOW
    assert world.status_writes[0].webhook_id is None
    status = outcome.status
    assert status.create_pending_since is None
    assert (status.webhook_id, status.webhook_url) == ("C1", "https://hook/C1")
    assert (status.uuid, status.platform_uuid, status.platform_name) == (
        "uid-1",
        "platform-uid",
        "OnCall",
    )
    assert (status.product_type, status.target_state) == ("grafana-oncall", TargetState.ENABLED)
    assert (status.current_state, status.drift_count, status.last_error) == ("enabled", 0, "")
    assert (status.create_date, status.last_op_date, status.last_reconcile_at) == (NOW, NOW, NOW)
    assert (status.origin, status.observed_generation) == ("created", 1)
    assert condition(outcome, "Ready") == ("True", "Reconciled")
    assert [e.reason for e in outcome.events] == [Reason.CREATED]
    assert (outcome.created, outcome.vanished, outcome.adopted, outcome.updated) == (
        True,
        None,
        False,
        None,
    )


async def test_in_sync_object_gets_no_write_and_no_event() -> None:
    world = World()
    first = await world.run()
    world.adapter.writes.clear()
    second = await world.run(status=first.status)
    assert world.adapter.writes == []
    assert second.events == ()
    assert second.status.drift_count == 0
    assert (second.created, second.adopted, second.updated) == (False, False, None)


async def test_drift_behind_our_back_is_repaired_and_counted_once() -> None:
    world = World()
    first = await world.run()
    world.adapter.objects["C1"].name = "renamed by hand"
    second = await world.run(status=first.status)
    assert world.adapter.writes[-1] == "update C1"
    assert world.adapter.objects["C1"].name == "pay alerts"
    assert second.status.drift_count == 1
    assert second.status.last_drift is not None
    assert second.status.last_drift.fields == ("displayName",)
    assert not second.status.last_drift.active
    assert [e.reason for e in second.events] == [Reason.DRIFT_REPAIRED]
    assert second.updated == Update("C1", ("displayName",), drift=True)
    third = await world.run(status=second.status)
    assert third.status.drift_count == 1


async def test_spec_change_updates_without_counting_drift() -> None:
    world = World()
    first = await world.run()
    second = await world.run({**SPEC, "displayName": "new name"}, first.status, generation=2)
    assert world.adapter.writes == ["create C1", "update C1"]
    assert second.status.drift_count == 0
    assert second.status.observed_generation == 2
    assert [e.reason for e in second.events] == [Reason.UPDATED]
    assert second.updated == Update("C1", ("displayName",), drift=False)


async def test_object_deleted_behind_our_back_is_recreated_as_drift() -> None:
    world = World()
    first = await world.run()
    del world.adapter.objects["C1"]
    second = await world.run(status=first.status)
    assert world.adapter.writes == ["create C1", "create C2"]
    assert second.status.webhook_id == "C2"
    assert second.status.drift_count == 1
    assert second.status.last_drift is not None
    assert second.status.last_drift.fields == ("absent",)
    assert [e.reason for e in second.events] == [Reason.DRIFT_REPAIRED]
    assert (second.created, second.vanished) == (True, "C1")


async def test_disabled_target_state_is_applied_and_reported() -> None:
    world = World()
    first = await world.run()
    second = await world.run({**SPEC, "targetState": "disabled"}, first.status, generation=2)
    assert world.adapter.objects["C1"].state is CurrentState.DISABLED
    assert second.status.current_state is CurrentState.DISABLED
    assert second.status.target_state is TargetState.DISABLED
    assert second.status.drift_count == 0


async def test_observe_only_reports_drift_once_and_never_writes() -> None:
    world = World()
    world.adapter.objects["C7"] = Remote("other name", MARKER)
    spec = {**SPEC, "managementPolicy": "ObserveOnly"}
    status = AlertIntegrationStatus(webhook_id="C7", origin="created", observed_generation=1)
    first = await world.run(spec, status)
    second = await world.run(spec, first.status)
    assert world.adapter.writes == []
    assert first.status.drift_count == second.status.drift_count == 1
    assert condition(second, "Ready") == ("False", "DriftDetected")
    assert [e.reason for e in first.events] == ["DriftDetected"]
    assert second.events == ()


async def test_observe_only_adopting_a_foreign_object_is_not_drift_for_the_missing_marker() -> None:
    world = World()
    world.adapter.objects["C9"] = Remote("pay alerts", marker=None)
    spec = {**SPEC, "managementPolicy": "ObserveOnly", "adoptionPolicy": "AdoptExisting"}
    outcome = await world.run(spec)
    assert world.adapter.writes == []
    assert (outcome.status.origin, outcome.status.drift_count) == ("adopted", 0)
    assert condition(outcome, "Ready") == ("True", "Reconciled")


async def test_observe_only_does_not_create_a_missing_object() -> None:
    world = World()
    outcome = await world.run({**SPEC, "managementPolicy": "ObserveOnly"})
    assert world.adapter.writes == []
    assert outcome.status.current_state is CurrentState.ABSENT
    assert condition(outcome, "Ready") == ("False", "NotFound")


async def test_foreign_object_with_the_same_name_is_not_taken_over_by_default() -> None:
    world = World()
    world.adapter.objects["C9"] = Remote("pay alerts", marker=None)
    outcome = await world.run()
    assert world.adapter.writes == []
    assert condition(outcome, "Ready") == ("False", "AdoptionRefused")
    assert condition(outcome, "Stalled") == ("True", "AdoptionRefused")
    assert "C9" in (outcome.status.last_error or "")
    assert "adoptionPolicy: AdoptExisting" in (outcome.status.last_error or "")


async def test_adopt_existing_takes_over_and_orphans_on_delete() -> None:
    world = World()
    world.adapter.objects["C9"] = Remote("pay alerts", marker=None)
    spec = {**SPEC, "adoptionPolicy": "AdoptExisting"}
    adopted = await world.run(spec)
    assert world.adapter.writes == ["update C9"]  # the marker is written, nothing created
    assert (adopted.status.origin, adopted.status.webhook_id) == ("adopted", "C9")
    assert adopted.status.drift_count == 0
    assert [e.reason for e in adopted.events] == [Reason.ADOPTED]
    assert (adopted.adopted, adopted.created) == (True, False)
    assert adopted.updated == Update("C9", ("marker",), drift=False)
    deleted = await world.run(spec, adopted.status, deleting=True)
    assert deleted.released
    assert "C9" in world.adapter.objects
    assert [e.reason for e in deleted.events] == ["Orphaned"]


async def test_name_match_while_a_create_was_pending_is_our_own_object() -> None:
    world = World()
    world.adapter.objects["C3"] = Remote("pay alerts", marker=None)
    pending = AlertIntegrationStatus(create_pending_since=NOW)
    outcome = await world.run(status=pending)
    assert world.adapter.writes == ["update C3"]  # marker added, no duplicate
    assert (outcome.status.origin, outcome.status.webhook_id) == ("created", "C3")
    assert outcome.status.create_pending_since is None


async def test_object_with_our_marker_and_no_recorded_id_is_recovered() -> None:
    world = World()
    world.adapter.objects["C4"] = Remote("pay alerts", MARKER)
    outcome = await world.run()
    assert world.adapter.writes == []
    assert (outcome.status.origin, outcome.status.webhook_id) == ("created", "C4")
    assert outcome.status.drift_count == 0


async def test_several_objects_with_the_name_are_a_conflict_not_a_guess() -> None:
    world = World()
    world.adapter.objects["C5"] = Remote("pay alerts", None)
    world.adapter.objects["C6"] = Remote("pay alerts", None)
    outcome = await world.run({**SPEC, "adoptionPolicy": "AdoptExisting"})
    assert world.adapter.writes == []
    assert condition(outcome, "Ready") == ("False", "AdoptionRefused")
    assert "C5, C6" in (outcome.status.last_error or "")


@pytest.mark.parametrize(
    ("policy", "origin", "deleted"),
    [
        (None, "created", True),
        (None, "adopted", False),
        ("Delete", "adopted", True),
        ("Orphan", "created", False),
    ],
)
async def test_delete_follows_the_deletion_policy(
    policy: str | None, origin: str, deleted: bool
) -> None:
    world = World()
    world.adapter.objects["C1"] = Remote("pay alerts", MARKER)
    spec = {**SPEC, **({"deletionPolicy": policy} if policy else {})}
    status = AlertIntegrationStatus(webhook_id="C1", origin=origin)
    outcome = await world.run(spec, status, deleting=True)
    assert outcome.released
    assert ("C1" not in world.adapter.objects) is deleted


async def test_delete_after_a_crash_mid_create_removes_the_object() -> None:
    world = World()
    world.adapter.objects["C1"] = Remote("pay alerts", MARKER)
    outcome = await world.run(
        status=AlertIntegrationStatus(create_pending_since=NOW), deleting=True
    )
    assert outcome.released
    assert world.adapter.objects == {}


async def test_delete_of_an_already_gone_object_succeeds() -> None:
    world = World()
    status = AlertIntegrationStatus(webhook_id="C1", origin="created")
    outcome = await world.run(status=status, deleting=True)
    assert outcome.released
    assert world.adapter.writes == []


async def test_observe_only_never_deletes() -> None:
    world = World()
    world.adapter.objects["C1"] = Remote("pay alerts", MARKER)
    spec = {**SPEC, "managementPolicy": "ObserveOnly", "deletionPolicy": "Delete"}
    status = AlertIntegrationStatus(webhook_id="C1", origin="created")
    assert (await world.run(spec, status, deleting=True)).released
    assert "C1" in world.adapter.objects


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"displayName": "x"}, "spec.platformRef"),
        ({**SPEC, "targetState": "paused"}, "spec.targetState"),
        ({**SPEC, "ilert": {"integrationType": "API"}}, "spec.ilert"),
        ({**SPEC, "grafanaOnCall": {"type": "nonsense"}}, "spec.grafanaOnCall.type"),
        ({**SPEC, "grafanaOnCall": {"tpye": "webhook"}}, "spec.grafanaOnCall.tpye"),
    ],
)
async def test_invalid_spec_names_the_field_and_calls_no_platform(
    spec: dict[str, Any], field: str
) -> None:
    world = World()
    outcome = await world.run(spec)
    assert world.adapter.writes == []
    assert outcome.error is not None
    assert outcome.error.permanent
    assert (outcome.status.last_error or "").startswith(field)
    assert condition(outcome, "Ready") == ("False", "InvalidSpec")
    assert outcome.status.current_state is CurrentState.UNKNOWN
    assert [e.type for e in outcome.events] == ["Warning"]
    # The same error again posts no second Event (no flood on retries).
    again = await world.run(spec, outcome.status)
    assert again.events == ()


async def test_missing_credentials_is_a_temporary_error_with_no_platform_call() -> None:
    world = World(resolve_error=CredentialsMissingError("Secret team/x does not exist"))
    outcome = await world.run()
    assert outcome.error is not None
    assert not outcome.error.permanent
    assert condition(outcome, "Ready") == ("False", "CredentialsMissing")
    assert world.adapter.writes == []


async def test_unreachable_platform_reports_unknown_state_and_is_retried() -> None:
    world = World()
    first = await world.run()
    world.adapter.fail_with = PlatformUnavailableError("cannot list: 503")
    outcome = await world.run(status=first.status)
    assert outcome.error is not None
    assert not outcome.error.permanent
    assert outcome.status.current_state is CurrentState.UNKNOWN
    assert outcome.status.last_error == "cannot list: 503"
    assert condition(outcome, "Synced") == ("False", "PlatformUnavailable")
    assert all(c.type != "Stalled" for c in outcome.status.conditions)
    # The last successful check stays the last successful check.
    assert outcome.status.last_reconcile_at == first.status.last_reconcile_at
    world.adapter.fail_with = None
    healed = await world.run(status=outcome.status)
    assert healed.status.last_error == ""
    assert condition(healed, "Ready") == ("True", "Reconciled")


async def test_delete_with_an_invalid_spec_releases_without_platform_calls() -> None:
    world = World()
    outcome = await world.run({"platformRef": {}}, deleting=True)
    assert outcome.released
    assert world.resolved == 0


async def test_without_write_budget_a_repair_waits_and_counts_nothing() -> None:
    world = World()
    first = await world.run()
    world.adapter.objects["C1"].name = "renamed by hand"
    world.may_write = False
    deferred = await world.run(status=first.status)
    assert world.adapter.writes == ["create C1"]
    assert deferred.status == first.status
    assert deferred.events == ()
    world.may_write = True
    repaired = await world.run(status=deferred.status)
    assert repaired.status.drift_count == 1
    assert world.adapter.writes[-1] == "update C1"


async def test_without_write_budget_a_create_waits() -> None:
    world = World(may_write=False)
    outcome = await world.run()
    assert world.adapter.writes == []
    assert world.status_writes == []
    assert outcome.status.webhook_id is None


# -- optional capabilities ---------------------------------------------------------------------


async def test_open_alerts_are_counted_while_the_object_exists() -> None:
    world = World()
    world.adapter.open_alert_counts = {"C1": 3}
    outcome = await world.run()
    assert outcome.status.open_alerts == 3
    world.adapter.open_alert_counts["C1"] = 0
    quiet = await world.run(status=outcome.status)
    assert quiet.status.open_alerts == 0


async def test_open_alerts_are_unset_where_the_platform_counts_none_or_the_object_is_gone() -> None:
    world = World()
    outcome = await world.run()
    assert outcome.status.open_alerts is None
    world.adapter.open_alert_counts = {"C1": 2}
    counted = await world.run(status=outcome.status)
    assert counted.status.open_alerts == 2
    observe_only = {**SPEC, "managementPolicy": "ObserveOnly"}
    world.adapter.objects.clear()
    gone = await world.run(observe_only, counted.status)
    assert gone.status.open_alerts is None


async def test_a_spec_change_keeps_the_count_without_counting_again() -> None:
    """An update changes none of the object's alerts: a mass spec change lists no alerts."""
    world = World()
    world.adapter.open_alert_counts = {"C1": 3}
    first = await world.run()
    world.adapter.open_alert_counts["C1"] = 1  # not seen until the object is observed
    changed = await world.run({**SPEC, "displayName": "new name"}, first.status, generation=2)
    assert world.adapter.writes[-1] == "update C1"
    assert changed.status.open_alerts == 3
    quiet = await world.run({**SPEC, "displayName": "new name"}, changed.status, generation=2)
    assert quiet.status.open_alerts == 1  # the next observation counts


@pytest.mark.parametrize("answer", ["absent", "404"])
async def test_an_object_deleted_while_it_is_repaired_keeps_its_id_and_is_counted_next(
    answer: str,
) -> None:
    """The update's answer (ABSENT, or the 404 most platforms give) says the object is
    gone: its id is kept, and the next pass counts the deletion as drift and creates it
    again. Never Stalled: nothing in the spec is wrong."""
    world = World()
    first = await world.run()
    world.adapter.objects["C1"].name = "renamed by hand"
    vanishing = world.adapter.update

    async def update(desired: DesiredIntegration, observed: Observation) -> Observation:
        await world.adapter.delete("C1")  # someone deletes it as the repair is sent
        if answer == "404":
            raise PlatformRejectedError("cannot update C1: 404 not found", 404)
        return Observation.absent()

    world.adapter.update = update  # type: ignore[method-assign]
    during = await world.run(status=first.status)
    assert isinstance(during.error, PlatformUnavailableError)
    assert during.status.webhook_id == "C1"
    assert during.status.drift_count == 1
    world.adapter.update = vanishing  # type: ignore[method-assign]
    after = await world.run(status=during.status)
    assert after.error is None
    assert after.status.webhook_id not in (None, "C1")
    assert after.status.drift_count == 2
    assert after.status.last_drift is not None
    assert not after.status.last_drift.active


async def test_the_rest_of_a_lost_recreate_is_the_deletions_repair_not_a_new_drift() -> None:
    """Deleted behind our back (one drift), created again, and that create's answer lost
    half-way (ZStack subscribes topics after the create): finishing it is no new drift."""
    world = World()
    first = await world.run()
    await world.adapter.delete("C1")
    creating = world.adapter.create

    async def lost(desired: DesiredIntegration) -> Observation:
        made = await creating(desired)
        assert made.external_id is not None
        world.adapter.objects[made.external_id].name = "half made"
        raise PlatformUnavailableError("cannot create: the platform timed out")

    world.adapter.create = lost  # type: ignore[method-assign]
    during = await world.run(status=first.status)
    assert isinstance(during.error, PlatformUnavailableError)
    assert during.status.drift_count == 1
    world.adapter.create = creating  # type: ignore[method-assign]
    after = await world.run(status=during.status)
    assert after.error is None
    assert after.status.webhook_id == "C2"
    assert world.adapter.objects["C2"].name == "pay alerts"
    assert after.status.drift_count == 1
    settled = (await world.run(status=after.status)).status.last_drift
    assert settled is not None
    assert not settled.active


async def test_a_create_whose_answer_was_lost_is_looked_for_before_creating_again() -> None:
    """Seen in `make chaos`: the answer lost, and the next listing missed the object (a
    page that shifted): a second create made a duplicate. A failed pass is confirmed
    with a targeted read before it creates."""
    world = World(adapter=MarkingFakeAdapter(), listed=True)
    creating = world.adapter.create

    async def lost(desired: DesiredIntegration) -> Observation:
        await creating(desired)
        raise PlatformUnavailableError("cannot create: connection reset")

    world.adapter.create = lost  # type: ignore[method-assign]
    first = await world.run()
    assert isinstance(first.error, PlatformUnavailableError)
    assert first.status.create_pending_since is None  # the marker finds it, not a record
    world.adapter.create = creating  # type: ignore[method-assign]
    world.adapter.unlisted = {"C1"}
    again = await world.run(status=first.status)
    assert again.error is None
    assert list(world.adapter.objects) == ["C1"]
    assert again.status.webhook_id == "C1"
    assert again.status.drift_count == 0


async def test_a_recorded_object_deleted_while_a_lost_creates_object_remains() -> None:
    """Two of ours after a lost create: when the recorded one is deleted, the other takes
    its place (found by the marker), and the deletion counts as a drift, repaired."""
    world = World()
    first = await world.run()
    world.adapter.objects["C0"] = Remote("pay alerts", MARKER)  # the lost create's
    await world.adapter.delete("C1")
    after = await world.run(status=first.status)
    assert after.error is None
    assert after.status.webhook_id == "C0"
    assert after.status.drift_count == 1
    assert after.status.last_drift is not None
    assert not after.status.last_drift.active
    assert [e.reason for e in after.events] == [Reason.DRIFT_REPAIRED]
    assert world.adapter.writes == ["create C1", "delete C1"]


async def test_a_404_for_an_object_still_there_is_the_platform_refusing_the_spec() -> None:
    world = World()
    first = await world.run()
    world.adapter.objects["C1"].name = "renamed by hand"

    async def update(desired: DesiredIntegration, observed: Observation) -> Observation:
        raise PlatformRejectedError("cannot update C1: 404 escalation chain not found", 404)

    world.adapter.update = update  # type: ignore[method-assign]
    outcome = await world.run(status=first.status)
    assert isinstance(outcome.error, PlatformRejectedError)
    assert outcome.status.webhook_id == "C1"


async def test_a_failed_count_keeps_the_last_one_and_the_pass_succeeds() -> None:
    world = World()
    world.adapter.open_alert_counts = {"C1": 4}
    first = await world.run()
    world.adapter.count_error = RateLimitedError("cannot count alerts: 429", 10)
    outcome = await world.run(status=first.status)
    assert outcome.error is None
    assert outcome.status.open_alerts == 4
    assert condition(outcome, "Ready") == ("True", "Reconciled")


async def test_before_delete_runs_before_the_delete_and_is_told() -> None:
    world = World()
    world.adapter.note_before_delete = "resolved 2 open alerts"
    first = await world.run()
    outcome = await world.run(status=first.status, deleting=True)
    assert world.adapter.writes == ["create C1", "before delete C1", "delete C1"]
    assert ("BeforeDelete", "resolved 2 open alerts") in [
        (e.reason, e.message) for e in outcome.events
    ]


async def test_a_delivery_test_after_a_write_is_recorded_as_a_condition() -> None:
    world = World()
    world.adapter.delivery = True
    outcome = await world.run()
    assert world.adapter.writes == ["create C1", "test C1"]
    assert outcome.status.last_test_at == NOW
    assert condition(outcome, "Delivered") == ("True", "Delivered")
    quiet = await world.run(status=outcome.status)
    assert world.adapter.writes == ["create C1", "test C1"]  # no write, no test
    assert quiet.events == ()

    world.adapter.delivery = False
    renamed = await world.run({**SPEC, "displayName": "renamed"}, quiet.status, generation=2)
    assert condition(renamed, "Delivered") == ("False", "DeliveryFailed")
    assert condition(renamed, "Ready") == ("True", "Reconciled")
    assert ("Warning", "DeliveryFailed") in [(e.type, e.reason) for e in renamed.events]


async def test_where_disabled_means_deleted_absent_is_in_sync() -> None:
    world = World(adapter=DeletingFakeAdapter())
    created = await world.run()
    disabled_spec = {**SPEC, "targetState": "disabled"}
    disabled = await world.run(disabled_spec, created.status, generation=2)
    assert world.adapter.writes == ["create C1", "delete C1"]
    assert (disabled.status.current_state, disabled.status.webhook_id) == ("disabled", None)
    assert condition(disabled, "Ready") == ("True", "Reconciled")
    assert disabled.status.drift_count == 0

    quiet = await world.run(disabled_spec, disabled.status, generation=2)
    assert world.adapter.writes == ["create C1", "delete C1"]
    assert quiet.status == disabled.status

    enabled = await world.run(SPEC, quiet.status, generation=3)
    assert world.adapter.writes[-1] == "create C2"
    assert (enabled.status.current_state, enabled.status.webhook_id) == ("enabled", "C2")
    assert enabled.status.drift_count == 0


async def test_a_state_the_platform_holds_is_reported_not_repaired() -> None:
    world = World()
    first = await world.run()
    world.adapter.held_by_platform = "suspended by the platform at 2026-11-23T11:00:00Z"
    world.adapter.objects["C1"].state = CurrentState.DISABLED
    outcome = await world.run(status=first.status)
    assert world.adapter.writes == ["create C1"]
    assert outcome.status.current_state is CurrentState.DISABLED
    assert condition(outcome, "Ready") == ("False", "HeldByPlatform")
    assert outcome.status.drift_count == 0


async def test_a_create_retried_after_a_refusal_records_its_pending_state_once() -> None:
    world = World()
    world.adapter.create_error = CredentialsError("cannot create integration: 403 read-only key")
    first = await world.run()
    again = await world.run(status=first.status)
    assert len(world.status_writes) == 1  # not one per retry: that would be churn
    assert again.status.create_pending_since == first.status.create_pending_since == NOW
    assert again.status == first.status


async def test_a_failure_retried_unchanged_but_for_its_request_id_writes_the_same_status() -> None:
    world = World()
    world.adapter.create_error = CredentialsError("cannot create: 403 [request id r-1] read-only")
    first = await world.run()
    world.adapter.create_error = CredentialsError("cannot create: 403 [request id r-2] read-only")
    again = await world.run(status=first.status)
    assert first.status.last_error == "cannot create: 403 read-only"
    assert again.status == first.status
    assert [e.reason for e in again.events] == []  # no second Warning for the same failure


async def test_a_secret_the_block_names_is_read_in_the_namespace_and_handed_over() -> None:
    """The platform's with_secrets hook (ZStack's endpoint password) fills in the block."""
    world = World(account=replace(ACCOUNT, product_type=ProductType.ZSTACK))
    world.adapter = ZStackSecretsAdapter(world.adapter)
    world.secrets[("team", "hook-auth")] = {"password": "endpoint-password-9c1e"}
    spec = {
        **SPEC,
        "zstack": {"username": "alerts", "passwordSecretRef": {"name": "hook-auth"}},
    }
    outcome = await world.run(spec)
    assert outcome.error is None
    [given] = world.adapter.created
    assert isinstance(given.block, ZStackSpec)
    assert given.block.password is not None
    assert given.block.password.get_secret_value() == "endpoint-password-9c1e"
    assert "endpoint-password-9c1e" not in repr(given) + outcome.status.model_dump_json()

    del world.secrets[("team", "hook-auth")]
    missing = await world.run(spec, outcome.status)
    assert missing.error is not None
    assert missing.status.last_error == (
        "spec.zstack.passwordSecretRef: Secret team/hook-auth does not exist"
    )
    assert not missing.error.permanent  # it may be created later


async def test_a_webhook_url_comes_from_the_secret_the_spec_names() -> None:
    world = World()
    url = "https://hooks.example/in?token=url-secret-7c2a"
    world.secrets[("team", "hook-url")] = {"url": url}
    spec = {**SPEC, "webhook": {"urlSecretRef": {"name": "hook-url"}}}
    outcome = await world.run(spec)
    assert outcome.error is None
    [given] = world.adapter.created
    assert given.webhook_url == url
    assert "CredentialsInSpec" not in [e.reason for e in outcome.events]

    world.secrets[("team", "hook-url")] = {"url": "not a url"}
    bad = await world.run(spec, outcome.status, generation=2)
    assert bad.status.last_error == (
        "spec.webhook.urlSecretRef: the value of key 'url' in Secret 'hook-url' is not an "
        "http(s) URL of at most 2048 characters"
    )
    assert "not a url" not in bad.status.model_dump_json()


async def test_an_inline_url_with_a_credential_earns_one_warning_pointing_at_the_secret() -> None:
    world = World()
    spec = {**SPEC, "webhook": {"url": "https://user:pw-in-url-93d1@hooks.example/in"}}
    outcome = await world.run(spec)
    [warning] = [e for e in outcome.events if e.reason == "CredentialsInSpec"]
    assert warning.type == "Warning"
    assert "spec.webhook.urlSecretRef" in warning.message
    again = await world.run(spec, outcome.status)  # the same generation: said once
    assert "CredentialsInSpec" not in [e.reason for e in again.events]


async def test_a_plain_http_webhook_needs_the_platforms_permission() -> None:
    world = World()
    spec = {**SPEC, "webhook": {"url": "http://receiver.example/hook"}}
    refused = await world.run(spec)
    assert condition(refused, "Ready") == ("False", "InvalidSpec")
    assert refused.status.last_error is not None
    assert refused.status.last_error.startswith("spec.webhook.url: must be https://")
    assert world.adapter.writes == []

    world.account = replace(ACCOUNT, allow_insecure_http=True)
    allowed = await world.run(spec, refused.status, generation=2)
    assert condition(allowed, "Ready") == ("True", "Reconciled")


async def test_finishing_a_create_whose_answer_was_lost_is_not_drift() -> None:
    world = World()
    first = await world.run()
    # As if the create landed but its answer (and the rest of it) did not.
    world.adapter.objects["C1"].name = "half made"
    lost = first.status.model_copy(
        update={
            "webhook_id": None,
            "origin": None,
            "create_pending_since": NOW,
            "drift_count": 0,
            "observed_generation": 1,
        }
    )
    outcome = await world.run(status=lost)
    assert world.adapter.writes == ["create C1", "update C1"]
    assert (outcome.status.webhook_id, outcome.status.drift_count) == ("C1", 0)
    assert condition(outcome, "Ready") == ("True", "Reconciled")
