"""A platform adapter that reads for real and only records what it would write."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

from alertsync.models import (
    CurrentState,
    ProductType,
    TargetState,
)
from alertsync.platforms.base import (
    DeliveryTest,
    DesiredIntegration,
    Match,
    Observation,
    PlatformAdapter,
    ReadSecret,
)

# The id a planned create would get: unknown until the platform assigns it.
NEW_ID = "(new)"


Action = Literal[
    "create", "adopt", "update", "replace", "no-change", "invalid", "refused", "failed"
]
# The actions that change something on a platform.
CHANGES: frozenset[Action] = frozenset({"create", "adopt", "update", "replace"})
PROBLEMS: frozenset[Action] = frozenset({"invalid", "refused", "failed"})


@dataclass(frozen=True)
class PlannedWrite:
    """One platform write the operator would make, not made."""

    operation: Literal["create", "update", "delete", "before_delete", "after_write"]
    external_id: str | None = None
    fields: tuple[str, ...] = ()
    recreate_reason: str | None = None
    # What a create would name the object, and the state it would be in.
    display_name: str | None = None
    target_state: str | None = None


class RecordingAdapter(PlatformAdapter):
    """A real adapter whose reads go through and whose writes are only recorded.

    The answers to writes are what the platform would hold afterwards, as far as
    the spec tells, so that the pass completes the way it would for real.
    """

    # The real adapter's, by __getattr__ (a class variable cannot be a property).
    product: ClassVar[ProductType]

    def __init__(self, real: PlatformAdapter) -> None:
        self.real = real
        self.writes: list[PlannedWrite] = []

    def __getattr__(self, name: str) -> Any:
        if name == "product":
            return self.real.product
        raise AttributeError(name)

    @property
    def disable_by_delete(self) -> bool:  # type: ignore[override]
        # The decision table asks the real platform's answer (Confluent: True).
        return self.real.disable_by_delete

    @property
    def marks_creates(self) -> bool:  # type: ignore[override]
        return self.real.marks_creates

    def validate(self, desired: DesiredIntegration) -> None:
        self.real.validate(desired)

    async def with_secrets(
        self, desired: DesiredIntegration, read_secret: ReadSecret
    ) -> DesiredIntegration:
        return await self.real.with_secrets(desired, read_secret)

    async def check(self) -> None:
        await self.real.check()

    async def list_all(self) -> Sequence[object]:
        return await self.real.list_all()

    async def observe(
        self, desired: DesiredIntegration, listing: Sequence[object] | None = None
    ) -> Observation:
        return await self.real.observe(desired, listing)

    async def create(self, desired: DesiredIntegration) -> Observation:
        self.writes.append(
            PlannedWrite(
                "create",
                NEW_ID,
                display_name=desired.display_name,
                target_state=desired.target_state.value,
            )
        )
        return Observation(
            match=Match.ID,
            current_state=_state(desired.target_state),
            external_id=NEW_ID,
            webhook_url=desired.webhook_url,
        )

    async def update(self, desired: DesiredIntegration, observed: Observation) -> Observation:
        self.writes.append(
            PlannedWrite(
                "update",
                observed.external_id,
                tuple(sorted(set(observed.drifted_fields))),
                observed.recreate_reason,
            )
        )
        # A state the platform holds is not ours to change: the update leaves it.
        held = observed.state_reason is not None
        return replace(
            observed,
            match=Match.ID,
            current_state=observed.current_state if held else _state(desired.target_state),
            external_id=NEW_ID if observed.recreate_reason else observed.external_id,
            drifted_fields=(),
            recreate_reason=None,
            conflicting_ids=(),
        )

    async def delete(self, external_id: str) -> None:
        self.writes.append(PlannedWrite("delete", external_id))

    async def aclose(self) -> None:
        """The runtime owns the real adapter and closes it."""

    async def open_alerts(self, desired: DesiredIntegration, observed: Observation) -> int | None:
        return None

    async def before_delete(self, desired: DesiredIntegration, external_id: str) -> str | None:
        self.writes.append(PlannedWrite("before_delete", external_id))
        return None

    async def after_write(
        self, desired: DesiredIntegration, before: Observation | None, after: Observation
    ) -> DeliveryTest | None:
        # e.g. Confluent's delivery test: it sends a notification, so it is a write too.
        self.writes.append(PlannedWrite("after_write", after.external_id))
        return None


def _state(target: TargetState) -> CurrentState:
    return CurrentState(target.value)
