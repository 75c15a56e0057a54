"""Status bookkeeping: conditions, and the patch that writes only what changed."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from alertsync.models import Condition

__all__ = [
    "HEARTBEAT",
    "ConditionStatus",
    "condition",
    "drop_condition",
    "set_condition",
    "status_patch",
    "to_wire",
]

ConditionStatus = Literal["True", "False", "Unknown"]

# lastReconcileAt is refreshed with every change, but a quiet resync only
# refreshes it this often: steady state costs almost no Kubernetes writes.
HEARTBEAT = timedelta(minutes=10)


def set_condition(
    conditions: tuple[Condition, ...],
    type_: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    now: datetime,
    generation: int | None,
) -> tuple[Condition, ...]:
    """Replace or add one condition; lastTransitionTime moves only when status does."""
    old = next((c for c in conditions if c.type == type_), None)
    since = old.last_transition_time if old is not None and old.status == status else now
    new = Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=since,
        observed_generation=generation,
    )
    return (*(c for c in conditions if c.type != type_), new)


def condition(conditions: tuple[Condition, ...], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def drop_condition(conditions: tuple[Condition, ...], type_: str) -> tuple[Condition, ...]:
    return tuple(c for c in conditions if c.type != type_)


def to_wire(status: BaseModel) -> dict[str, Any]:
    return status.model_dump(mode="json", by_alias=True, exclude_none=True)


def status_patch(
    old: Mapping[str, Any],
    new: BaseModel,
    now: datetime,
    stamp: str = "lastReconcileAt",
    heartbeat: timedelta | None = HEARTBEAT,
) -> dict[str, Any] | None:
    """The merge patch from `old` (as stored) to `new`, or None when nothing is due.

    Nothing is due when only the `stamp` time would move and the stored one is
    younger than `heartbeat` (None: the stamp is written whenever it moves).
    Keys that `new` drops are sent as null (merge-patch deletion); unknown keys
    in `old` (written by others) are left alone.
    """
    wire = to_wire(new)
    patch: dict[str, Any] = {k: v for k, v in wire.items() if old.get(k) != v}
    own = {field.alias or name for name, field in type(new).model_fields.items()}
    for key in own - wire.keys():
        if old.get(key) is not None:
            patch[key] = None
    if set(patch) <= {stamp}:
        previous = _parse_time(old.get(stamp))
        if heartbeat is not None and previous is not None and now - previous < heartbeat:
            return None
    return patch or None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
