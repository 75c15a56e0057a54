"""A platform in memory, for tests that drive the real reconcile() without HTTP.

Its objects have a name, a marker and a state, and it finds them as the real adapters
do: by the id recorded in status, then by our marker, then by the exact name (more
than one namesake is a conflict). Tests subclass it to record calls or to fail.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from alertsync.models import CurrentState, ProductType
from alertsync.platforms.base import DesiredIntegration, Match, Observation, PlatformAdapter

__all__ = ["MemoryPlatform", "Remote"]


@dataclass
class Remote:
    """One object on the platform."""

    name: str
    marker: str | None
    state: CurrentState = CurrentState.ENABLED


@dataclass
class MemoryPlatform(PlatformAdapter):
    """Objects by id; every write takes effect at once and is seen by the next observe."""

    product: ClassVar[ProductType] = ProductType.GRAFANA_ONCALL
    objects: dict[str, Remote] = field(default_factory=dict)
    # The number in the next created object's id (C1, C2...).
    next_id: int = 1
    # Set: the platform holds every object in this state, not ours to repair (no drift).
    held_by_platform: str | None = None
    # The fields observe compares: displayName, marker, targetState.
    drift_checked: ClassVar[frozenset[str]] = frozenset({"displayName", "marker", "targetState"})

    def validate(self, desired: DesiredIntegration) -> None:
        pass

    async def check(self) -> None:
        pass

    async def list_all(self) -> Sequence[object]:
        return list(self.objects.items())

    async def observe(
        self, desired: DesiredIntegration, listing: Sequence[object] | None = None
    ) -> Observation:
        if desired.external_id in self.objects:
            return self.compare(desired, desired.external_id, Match.ID)
        for id_, obj in self.objects.items():
            if obj.marker == desired.marker:
                return self.compare(desired, id_, Match.MARKER)
        named = [id_ for id_, obj in self.objects.items() if obj.name == desired.display_name]
        if len(named) > 1:
            return Observation(Match.NAME, CurrentState.UNKNOWN, conflicting_ids=tuple(named))
        if named:
            return self.compare(desired, named[0], Match.NAME)
        return Observation.absent()

    def compare(self, desired: DesiredIntegration, id_: str, match: Match) -> Observation:
        """The object `id_` as observe reports it: the drift-checked fields that differ."""
        obj = self.objects[id_]
        drifted = [
            name
            for name, differs in (
                ("displayName", obj.name != desired.display_name),
                ("marker", obj.marker != desired.marker),
                ("targetState", obj.state.value != desired.target_state.value),
            )
            if differs and name in self.drift_checked
        ]
        return Observation(
            match,
            obj.state,
            id_,
            f"https://hook/{id_}",
            drifted_fields=tuple(drifted) if self.held_by_platform is None else (),
            state_reason=self.held_by_platform,
        )

    async def create(self, desired: DesiredIntegration) -> Observation:
        id_ = f"C{self.next_id}"
        self.next_id += 1
        return self._put(desired, id_)

    async def update(self, desired: DesiredIntegration, observed: Observation) -> Observation:
        assert observed.external_id is not None
        return self._put(desired, observed.external_id)

    async def delete(self, external_id: str) -> None:
        self.objects.pop(external_id, None)

    async def aclose(self) -> None:
        pass

    def _put(self, desired: DesiredIntegration, id_: str) -> Observation:
        state = CurrentState(desired.target_state.value)
        self.objects[id_] = Remote(desired.display_name, desired.marker, state)
        return self.compare(desired, id_, Match.ID)
