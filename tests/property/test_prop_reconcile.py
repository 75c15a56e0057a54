"""Properties of reconcile() over any spec and any stored status, on an in-memory platform.

- It never raises: every failure ends in the returned status.
- A spec that is invalid in itself reaches no platform: the adapter is asked to
  validate it and nothing else (no observe, create, update, delete), and Ready=False
  names the field.
- No hot loop, no churn: a pass run again on its own output writes no status (as the
  runtime decides, `status_patch` with the heartbeat) and posts no new Event. A valid
  spec may need one more pass to converge (a create is confirmed by the next
  observe); after that, the same holds and nothing is written to the platform.
"""

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    CredentialsMissingError,
    InvalidSpecError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import (
    AlertIntegrationSpec,
    AlertIntegrationStatus,
    CurrentState,
    PlatformRef,
    ProductType,
)
from alertsync.models.common import parse_spec
from alertsync.platforms import PLATFORMS
from alertsync.platforms.base import (
    DeliveryTest,
    DesiredIntegration,
    Observation,
    PlatformAccount,
    PlatformAdapter,
    marker,
)
from alertsync.reconcile import Dependencies, IntegrationResource, Outcome, reconcile
from alertsync.status import status_patch, to_wire
from tests.property.strategies import (
    Json,
    integration_specs,
    integration_statuses,
    json_dicts,
    mutated,
    property_settings,
)
from tests.support.accounts import platform_account
from tests.support.memory import MemoryPlatform, Remote

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NAMESPACE, NAME, UID = "team", "pay", "uid-1"
OURS = marker(UID)
# What a platform object may be called: a spec's displayName is drawn from the CRD,
# so these are the default name and two plain ones, often shared with the spec's.
NAMES = (f"{NAMESPACE}/{NAME}", "pay alerts", "other")
PLATFORM_WRITES = frozenset({"create", "update", "delete", "before_delete", "after_write"})
PLATFORM_CALLS = PLATFORM_WRITES | {"observe", "open_alerts"}


def _adapter_class(product: ProductType) -> type[PlatformAdapter]:
    module = sys.modules[PLATFORMS[product].build.__module__]
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and PlatformAdapter in value.__mro__
        and value is not PlatformAdapter
        and getattr(value, "product", None) is product
    ]
    assert len(found) == 1, (product, found)
    return found[0]


# The real adapters' rules (validate needs no client), so that what each platform
# refuses before any call is refused here too.
REAL = {product: _adapter_class(product) for product in PLATFORMS}


@dataclass
class RecordingAdapter(MemoryPlatform):
    """A platform of named objects that records every call the reconciler makes."""

    # The reconciler never reads it; `product_type` picks the platform's rules.
    product_type: ProductType = ProductType.GRAFANA_ONCALL
    calls: list[str] = field(default_factory=list)
    # The same failure on every platform call, as a platform that stays down would.
    failure: AlertSyncError | None = None
    # Ids apart from the drawn objects' (C0, C1...).
    next_id: int = 100

    def validate(self, desired: DesiredIntegration) -> None:
        self.calls.append("validate")
        real = REAL[self.product_type]
        # An instance without its client: validating a spec needs none.
        real.__new__(real).validate(desired)

    async def check(self) -> None:
        self._call("check")

    async def list_all(self) -> Sequence[object]:
        self._call("list_all")
        return await super().list_all()

    async def observe(
        self, desired: DesiredIntegration, listing: Sequence[object] | None = None
    ) -> Observation:
        self._call("observe")
        return await super().observe(desired, listing)

    async def create(self, desired: DesiredIntegration) -> Observation:
        self._call("create")
        return await super().create(desired)

    async def update(self, desired: DesiredIntegration, observed: Observation) -> Observation:
        self._call("update")
        return await super().update(desired, observed)

    async def delete(self, external_id: str) -> None:
        self._call("delete")
        await super().delete(external_id)

    async def open_alerts(self, desired: DesiredIntegration, observed: Observation) -> int | None:
        self._call("open_alerts")
        return None

    async def before_delete(self, desired: DesiredIntegration, external_id: str) -> str | None:
        self._call("before_delete")
        return None

    async def after_write(
        self, desired: DesiredIntegration, before: Observation | None, after: Observation
    ) -> DeliveryTest | None:
        self._call("after_write")
        return None

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.failure is not None:
            raise self.failure


class DeletingRecordingAdapter(RecordingAdapter):
    """A platform where disabled means no object (Confluent)."""

    disable_by_delete: ClassVar[bool] = True


FAILURES: list[AlertSyncError] = [
    PlatformUnavailableError("cannot observe: the platform timed out"),
    RateLimitedError("cannot observe: 429 (retry in 30s)", 30.0),
    PlatformRejectedError("cannot create: 400 bad request", 400),
    CredentialsError("cannot observe: 401 token rejected"),
]
RESOLVE_FAILURES: list[AlertSyncError] = [
    CredentialsMissingError("Secret team/creds does not exist"),
    PlatformUnavailableError("cannot read the AlertPlatform"),
]


@dataclass
class World:
    """One resource, its platform and the Kubernetes side, as the runtime keeps them."""

    product: ProductType
    adapter: RecordingAdapter
    resolve_failure: AlertSyncError | None
    may_write: bool
    secrets: dict[str, dict[str, str]]
    now: datetime = START
    early_writes: list[AlertIntegrationStatus] = field(default_factory=list)

    @property
    def account(self) -> PlatformAccount:
        return platform_account("https://platform.invalid", "token-value-1", self.product)

    def deps(self) -> Dependencies:
        async def resolve(ref: PlatformRef, namespace: str) -> PlatformAccount:
            if self.resolve_failure is not None:
                raise self.resolve_failure
            return self.account

        async def write(status: AlertIntegrationStatus) -> None:
            self.early_writes.append(status.model_copy(deep=True))

        async def read_secret(namespace: str, name: str) -> dict[str, str] | None:
            return self.secrets.get(name)

        return Dependencies(
            resolve,
            lambda _: self.adapter,
            write,
            clock=lambda: self.now,
            may_write=lambda: self.may_write,
            read_secret=read_secret,
        )

    async def run(
        self,
        spec: dict[str, Json],
        stored: dict[str, Json],
        generation: int,
        deleting: bool,
        requested_at: str | None,
    ) -> Outcome:
        resource = IntegrationResource(
            namespace=NAMESPACE,
            name=NAME,
            uid=UID,
            generation=generation,
            spec=spec,
            status=read_status(stored),
            deleting=deleting,
            requested_at=requested_at,
        )
        return await reconcile(resource, self.deps())


def read_status(stored: dict[str, Json]) -> AlertIntegrationStatus:
    """As the runtime reads a stored status: an unreadable one starts afresh."""
    try:
        return AlertIntegrationStatus.model_validate(stored)
    except ValidationError:
        count = stored.get("driftCount")
        return AlertIntegrationStatus(drift_count=count if isinstance(count, int) else 0)


remotes = st.builds(
    Remote,
    name=st.sampled_from(NAMES),
    marker=st.sampled_from([OURS, marker("someone-else"), None]),
    state=st.sampled_from([CurrentState.ENABLED, CurrentState.DISABLED]),
)


def mostly_none(values: list[AlertSyncError]) -> st.SearchStrategy[AlertSyncError | None]:
    """None two times in three: failures are drawn, but most passes must get far."""
    return st.sampled_from([*[None] * (2 * len(values)), *values])


@st.composite
def worlds(draw: st.DrawFn, spec: dict[str, Json]) -> World:
    blocks = [p for p in PLATFORMS if p.block in spec]
    # Mostly the platform of the spec's block: another platform is one invalid spec only.
    product = draw(st.sampled_from([*blocks * 8, *sorted(PLATFORMS)]), label="product")
    objects = draw(st.lists(remotes, max_size=3), label="platform")
    cls = DeletingRecordingAdapter if REAL[product].disable_by_delete else RecordingAdapter
    adapter = cls(
        product_type=product,
        objects={f"C{i}": obj for i, obj in enumerate(objects)},
        failure=draw(mostly_none(FAILURES), label="platform failure"),
    )
    return World(
        product=product,
        adapter=adapter,
        resolve_failure=draw(mostly_none(RESOLVE_FAILURES), label="resolve failure"),
        may_write=draw(st.sampled_from([True, True, True, False]), label="may write"),
        secrets=draw(
            st.sampled_from([{}, {"password": "zstack-hook-password"}]).map(
                lambda data: {name: data for name in ("s", "password")}
            ),
            label="secrets",
        ),
    )


_statuses = integration_statuses()


@st.composite
def stored_statuses(draw: st.DrawFn) -> dict[str, Json]:
    stored = draw(_statuses)
    # Often pointing at an object the platform has, as a real status would.
    if draw(st.booleans()):
        stored["webhookId"] = draw(st.sampled_from(["C0", "C1", "C2"]))
    return stored


_valid = integration_specs()


@st.composite
def scenarios(
    draw: st.DrawFn, specs: st.SearchStrategy[dict[str, Json]]
) -> tuple[World, dict[str, Json]]:
    spec = draw(specs, label="spec")
    return draw(worlds(spec)), spec


def field_of(outcome: Outcome) -> str | None:
    ready = next((c for c in outcome.status.conditions if c.type == "Ready"), None)
    if ready is None or ready.reason != InvalidSpecError.reason:
        return None
    return ready.message.partition(": ")[0]


def spec_problem(world: World, spec: dict[str, Json]) -> str | None:
    """The field an oracle independent of reconcile() finds invalid, if any."""
    try:
        parsed = parse_spec(AlertIntegrationSpec, spec)
    except InvalidSpecError as exc:
        return exc.field
    if world.resolve_failure is not None:
        return None  # which platform, and so which block, is not known
    others = [name for name in parsed.platform_blocks() if name != world.product.block]
    return f"spec.{others[0]}" if others else None


def check(world: World, spec: dict[str, Json], stored: dict[str, Json], **how: Any) -> None:
    asyncio.run(_check(world, spec, stored, **how))


async def _check(
    world: World,
    spec: dict[str, Json],
    stored: dict[str, Json],
    *,
    generation: int,
    deleting: bool,
    requested_at: str | None,
) -> None:
    calls = world.adapter.calls
    problem = spec_problem(world, spec)
    first = await world.run(spec, stored, generation, deleting, requested_at)

    invalid = field_of(first)
    if problem is not None:
        assert invalid == problem, (invalid, problem)
    if invalid is not None:
        assert invalid.startswith(("spec", "metadata.")), invalid
        assert set(calls) <= {"validate"}, calls
        assert world.early_writes == []
        ready = next(c for c in first.status.conditions if c.type == "Ready")
        assert ready.status == "False"
    if deleting:
        return  # released, or retried by the finalizer: either way no second life

    # Converged: at most one more pass for a valid spec (a create is confirmed by the
    # next observe), then a pass on its own output changes nothing.
    passes = 1 if invalid is not None else 2
    outcome = first
    for _ in range(passes - 1):
        world.now += timedelta(minutes=1)
        outcome = await world.run(spec, to_wire(outcome.status), generation, deleting, requested_at)
    settled = to_wire(outcome.status)
    done = len(calls)
    world.now += timedelta(minutes=1)
    again = await world.run(spec, settled, generation, deleting, requested_at)
    assert status_patch(settled, again.status, world.now) is None, (settled, to_wire(again.status))
    assert again.events == (), again.events
    assert not PLATFORM_WRITES & set(calls[done:]), calls[done:]
    if invalid is not None:
        assert set(calls) <= {"validate"}, calls


SETTINGS = property_settings(max_examples=200)
KEYWORDS = {
    "stored": stored_statuses(),
    "generation": st.integers(min_value=1, max_value=3),
    "deleting": st.booleans(),
    "requested_at": st.none() | st.text(max_size=8),
}


@SETTINGS
@given(scenario=scenarios(mutated(_valid) | json_dicts), **KEYWORDS)
@example(
    scenario=(
        World(
            ProductType.CONFLUENT,
            DeletingRecordingAdapter(product_type=ProductType.CONFLUENT),
            None,
            True,
            {},
        ),
        {"platformRef": {"name": "p"}, "webhook": {"url": "https://x"}, "mackerel": {}},
    ),
    stored={},
    generation=1,
    deleting=False,
    requested_at=None,
).via("a block of another platform")
def test_a_broken_spec_reaches_no_platform_and_settles_at_once(
    scenario: tuple[World, dict[str, Json]],
    stored: dict[str, Json],
    generation: int,
    deleting: bool,
    requested_at: str | None,
) -> None:
    world, spec = scenario
    check(world, spec, stored, generation=generation, deleting=deleting, requested_at=requested_at)


@SETTINGS
@given(scenario=scenarios(_valid), **KEYWORDS)
def test_a_valid_spec_converges_and_then_settles(
    scenario: tuple[World, dict[str, Json]],
    stored: dict[str, Json],
    generation: int,
    deleting: bool,
    requested_at: str | None,
) -> None:
    world, spec = scenario
    check(world, spec, stored, generation=generation, deleting=deleting, requested_at=requested_at)
