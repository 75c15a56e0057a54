"""What a pass takes (the resource, its dependencies) and what it returns (the outcome)."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from alertsync.errors import AlertSyncError
from alertsync.events import Event
from alertsync.models import AlertIntegrationStatus, PlatformRef
from alertsync.platforms.base import PlatformAccount, PlatformAdapter

__all__ = [
    "ABSENT",
    "MARKER_FIELD",
    "Dependencies",
    "DriftAction",
    "IntegrationResource",
    "Outcome",
    "Update",
]

# A drift in which the object itself disappeared from the platform.
ABSENT = "absent"
# The drifted-field name adapters use when our marker is missing or wrong.
MARKER_FIELD = "marker"


@dataclass(frozen=True)
class IntegrationResource:
    namespace: str
    name: str
    uid: str
    generation: int
    spec: Mapping[str, Any]
    status: AlertIntegrationStatus
    deleting: bool = False
    # The reconcile-requested-at annotation: echoed as lastHandledReconcileAt.
    requested_at: str | None = None


DriftAction = Literal["repaired", "reported"]


@dataclass(frozen=True)
class Update:
    """An update a pass sent to an object that exists (a plan's: would have sent)."""

    external_id: str | None
    # The fields that differed, sorted (the names of status.lastDrift.fields).
    fields: tuple[str, ...]
    # A field that cannot change in place differed: the object was deleted and
    # created again, for this reason.
    recreate_reason: str | None = None
    # It repaired drift (the platform changed behind AlertSync's back), rather than
    # carrying out a spec change, an adoption or the rest of a create.
    drift: bool = False


@dataclass(frozen=True)
class Outcome:
    status: AlertIntegrationStatus
    events: tuple[Event, ...] = ()
    error: AlertSyncError | None = None
    # Deletion is complete: the finalizer may go.
    released: bool = False
    # A write was due and `may_write` said not now: nothing written or counted.
    deferred: bool = False
    # A platform write was sent and may have changed the object (a listing
    # taken before it no longer shows that object as it is).
    wrote: bool = False
    # This pass counted a new drift, and repaired or only reported it.
    drift: DriftAction | None = None
    # What the pass did to the platform object, as facts for whoever must tell
    # (the plan, metrics); the Events say the same to a person.
    # It took over an object it did not create (adoptionPolicy: AdoptExisting).
    adopted: bool = False
    # It created the object; `vanished`: again, in place of this one, which had
    # disappeared from the platform.
    created: bool = False
    vanished: str | None = None
    updated: Update | None = None


@dataclass(frozen=True)
class Dependencies:
    resolve_platform: Callable[[PlatformRef, str], Awaitable[PlatformAccount]]
    adapter_for: Callable[[PlatformAccount], PlatformAdapter]
    # Writes the status at once; used for the pending-create record.
    write_status: Callable[[AlertIntegrationStatus], Awaitable[None]]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC).replace(microsecond=0))
    # Asked before each platform write; False defers the write (the resync
    # compares in memory and leaves the writes to the account's work queue).
    may_write: Callable[[], bool] = field(default=lambda: True)
    # A Secret's data in a namespace, or None: for Secrets a spec block names.
    read_secret: Callable[[str, str], Awaitable[dict[str, str] | None]] | None = None
    # The account's listing, recent enough for this resource (no request of
    # this pass's own); None: targeted reads instead (per-object mode).
    listing: Callable[[PlatformAdapter], Awaitable[Sequence[object]]] | None = None
