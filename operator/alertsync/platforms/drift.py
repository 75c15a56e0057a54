"""Comparing one platform object with its spec: which fields drifted, and what it means.

Field names are the spec's (`displayName`, `grafanaOnCall.teamId`): safe to log and to
show in status. A field the spec leaves out (None) is the platform's to keep, never drift.
"""

from alertsync.models import CurrentState, TargetState
from alertsync.platforms.base import Match, Observation

__all__ = ["Drift"]


class Drift:
    """The drift-checked fields of one object that differ from the spec, in checking order."""

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.recreate_reason: str | None = None

    def add(self, name: str) -> None:
        self.fields.append(name)

    def check(self, name: str, platform: object, spec: object) -> None:
        """`name` drifted when the platform's value is not the spec's."""
        if platform != spec:
            self.fields.append(name)

    def check_if_set(self, name: str, platform: object, spec: object | None) -> None:
        """As `check`, for a field the spec may leave out."""
        if spec is not None:
            self.check(name, platform, spec)

    def check_state(self, state: CurrentState, target: TargetState) -> None:
        self.check("targetState", state.value, target.value)

    def recreate(self, name: str, reason: str) -> None:
        """`name` drifted and the platform cannot change it in place: repair recreates."""
        self.fields.append(name)
        self.recreate_reason = reason

    def observation(
        self,
        match: Match,
        state: CurrentState,
        external_id: str,
        webhook_url: str | None,
        state_reason: str | None = None,
    ) -> Observation:
        return Observation(
            match=match,
            current_state=state,
            external_id=external_id,
            webhook_url=webhook_url,
            drifted_fields=tuple(self.fields),
            recreate_reason=self.recreate_reason,
            state_reason=state_reason,
        )
