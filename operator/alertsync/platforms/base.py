"""The adapter contract every platform implements (after Crossplane's ExternalClient).

`observe` never writes. `create` is only called after `observe` found nothing,
and every created object carries a marker (`marker(uid)`) so that a later
`observe` finds it again even when its id was never recorded. `update` makes the
platform match the spec. `delete` treats "already gone" as success.

`PlatformAdapter` is the contract as the core holds it, for any platform: the spec
block as parsed (`object`), listings of objects. A platform implements it typed,
through `typed.TypedAdapter` (its own spec block, objects and client).
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Generic, Protocol, TypeVar

from pydantic import SecretStr
from typing_extensions import TypeVar as DefaultTypeVar

from alertsync.errors import CredentialsMissingError
from alertsync.models import CurrentState, LabelSelector, PlatformKind, ProductType, TargetState
from alertsync.platforms.http import Throttle
from alertsync.redaction import register_secret

__all__ = [
    "DeliveryTest",
    "DesiredIntegration",
    "Match",
    "Observation",
    "PlatformAccount",
    "PlatformAdapter",
    "ReadSecret",
    "marker",
    "secret_value",
]

# A Secret's data in a namespace, or None when there is no such Secret.
ReadSecret = Callable[[str, str], Awaitable[dict[str, str] | None]]


async def secret_value(read: ReadSecret, namespace: str, name: str, key: str, field: str) -> str:
    """One key of a Secret a spec names by `field`; registered so it is never logged."""
    data = await read(namespace, name)
    value = (data or {}).get(key, "").strip()
    if not value:
        raise CredentialsMissingError(
            f"{field}: Secret {namespace}/{name} "
            + ("does not exist" if data is None else f"has no key {key!r}")
        )
    register_secret(value)
    return value


def marker(uid: str) -> str:
    """The text AlertSync writes on every object it creates, to find it again."""
    return f"managed-by=alertsync uid={uid}"


@dataclass(frozen=True)
class PlatformAccount:
    """A resolved AlertPlatform or ClusterAlertPlatform: where, and as whom, to call."""

    kind: PlatformKind
    namespace: str | None
    name: str
    uid: str
    display_name: str
    product_type: ProductType
    url: str
    # The token, API secret or password (credentialsSecretRef.key).
    token: SecretStr = field(repr=False)
    # The API key id or account name where the platform needs two parts
    # (credentialsSecretRef.usernameKey): Confluent, ZStack.
    username: SecretStr | None = field(default=None, repr=False)
    resync_seconds: float = 300.0
    requests_per_minute: int | None = None
    # ClusterAlertPlatform: the namespaces whose integrations may use it.
    namespace_selector: LabelSelector | None = None
    allow_insecure_http: bool = False
    auth_method: str = "Session"

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.kind.value, self.namespace, self.name)


# The spec block a DesiredIntegration carries: `object` where the core holds it (so
# a bare `DesiredIntegration` means that: a TypeVar default, typing has it from 3.13),
# the platform's own model (e.g. GrafanaOnCallSpec) inside its adapter.
Block_co = DefaultTypeVar("Block_co", covariant=True, default=object)
OtherBlock = TypeVar("OtherBlock")


@dataclass(frozen=True)
class DesiredIntegration(Generic[Block_co]):
    """What one AlertIntegration asks for, in platform-neutral terms."""

    namespace: str
    name: str
    uid: str
    display_name: str
    target_state: TargetState
    webhook_url: str | None
    # The platform's spec block as parsed (None when the spec leaves it out).
    block: Block_co
    external_id: str | None = None
    # A create was sent whose outcome is unknown: our object may exist under
    # any name, so a targeted observe must look for the marker everywhere.
    create_pending: bool = False

    @property
    def marker(self) -> str:
        return marker(self.uid)

    def with_block(self, block: OtherBlock) -> "DesiredIntegration[OtherBlock]":
        """The same ask with `block` for its spec block (every other field kept)."""
        kept = {
            item.name: getattr(self, item.name) for item in fields(self) if item.name != "block"
        }
        return DesiredIntegration(block=block, **kept)


class Match(StrEnum):
    """How an observed object was found, which decides whether it is ours."""

    ID = "id"  # the id recorded in status
    MARKER = "marker"  # carries our marker with this resource's uid
    NAME = "name"  # only the name matches: ours only if a create was pending
    NONE = "none"


@dataclass(frozen=True)
class Observation:
    match: Match
    current_state: CurrentState
    external_id: str | None = None
    webhook_url: str | None = None
    # Names of drift-checked fields that differ (safe to log and show).
    drifted_fields: tuple[str, ...] = ()
    # Set when a create-only field differs: repair means delete and create.
    recreate_reason: str | None = None
    # Ids of every object that matched by name when there was more than one.
    conflicting_ids: tuple[str, ...] = ()
    # Why the platform holds it in current_state when it is not what we asked
    # for and not ours to repair (e.g. Mackerel suspended the channel).
    state_reason: str | None = None

    @property
    def exists(self) -> bool:
        return self.match is not Match.NONE

    @property
    def up_to_date(self) -> bool:
        return not self.drifted_fields and self.recreate_reason is None

    @classmethod
    def absent(cls) -> "Observation":
        return cls(match=Match.NONE, current_state=CurrentState.ABSENT)

    @classmethod
    def conflict(cls, ids: Iterable[str], match: Match = Match.NAME) -> "Observation":
        """Several objects could be ours: AlertSync will not guess which one."""
        return cls(match=match, current_state=CurrentState.UNKNOWN, conflicting_ids=tuple(ids))


@dataclass(frozen=True)
class DeliveryTest:
    """The outcome of asking the platform to send a test notification."""

    at: datetime
    delivered: bool
    message: str


class PlatformAdapter(Protocol):
    """What the core holds for any platform.

    Platforms subclass `typed.TypedAdapter`; wrappers (plan's RecordingAdapter) subclass
    this explicitly, to inherit the optional capabilities' defaults.
    """

    product: ClassVar[ProductType]
    # Platforms without an enable switch (Confluent): `targetState: disabled`
    # means no object on the platform, and absent is in sync.
    disable_by_delete: ClassVar[bool] = False
    # Whether every object it creates carries AlertSync's marker (a description, a
    # derived id): a create whose answer was lost is then found as ours by the
    # marker, and no status write ahead of the create (createPendingSince) is needed.
    marks_creates: ClassVar[bool] = False

    def validate(self, desired: DesiredIntegration) -> None:
        """Platform rules the CRD schema cannot express; raises InvalidSpecError."""

    async def check(self) -> None:
        """One cheap authenticated call: proves the API answers and accepts us."""

    async def list_all(self) -> Sequence[object]:
        """Every object of the managed kind, all pages: the batched resync's one read."""

    async def observe(
        self, desired: DesiredIntegration, listing: Sequence[object] | None = None
    ) -> Observation:
        """Find the object (stored id, then marker, then name) and compare it.

        With `listing`, no request is made; without, a targeted read is.
        """

    async def create(self, desired: DesiredIntegration) -> Observation: ...

    async def update(self, desired: DesiredIntegration, observed: Observation) -> Observation: ...

    async def delete(self, external_id: str) -> None: ...

    async def aclose(self) -> None: ...

    # -- optional capabilities: the defaults mean "this platform has none" ----

    def throttle(self) -> Throttle | None:
        """The account's client-side budget, shared by every request it sends."""
        return None

    async def with_secrets(
        self, desired: DesiredIntegration, read_secret: ReadSecret
    ) -> DesiredIntegration:
        """Fill in write-only values that the block names in Secrets (never compared)."""
        return desired

    async def open_alerts(self, desired: DesiredIntegration, observed: Observation) -> int | None:
        """How many alerts the object has open now (status.openAlerts), or None."""
        return None

    async def before_delete(self, desired: DesiredIntegration, external_id: str) -> str | None:
        """Work the spec asks for before the object is deleted; a line for the Event."""
        return None

    async def after_write(
        self, desired: DesiredIntegration, before: Observation | None, after: Observation
    ) -> DeliveryTest | None:
        """Called after each create (`before` None) or update: e.g. a delivery test."""
        return None
