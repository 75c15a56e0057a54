"""One platform's row in the end-to-end suite: its simulator, credentials and drifts."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from alertsim.core import Simulator

__all__ = ["RECEIVER", "Drift", "PlatformRow"]

SimT = TypeVar("SimT", bound=Simulator)

# Where outbound platforms deliver in the suite (nothing listens: delivery is not
# what the suite checks; each platform's own e2e file does that).
RECEIVER = "http://127.0.0.1:9/alertsync-e2e-receiver"


@dataclass(frozen=True)
class Drift(Generic[SimT]):
    """A change a person makes on the platform behind AlertSync's back."""

    name: str
    # Make the change to the object with this id.
    apply: Callable[[SimT, str], None]


@dataclass(frozen=True)
class PlatformRow(Generic[SimT]):
    id: str
    product: str
    # A fresh simulator that accepts `secret`.
    simulator: Callable[[], SimT]
    # The Secret's data, and credentialsSecretRef beyond its name.
    secret: Mapping[str, str]
    credentials: Mapping[str, str]
    # spec of an AlertIntegration (beyond platformRef), delivering to RECEIVER.
    spec: Callable[[], dict[str, Any]]
    # A spec change (merged into spec) and the check that the platform took it.
    edit: dict[str, Any]
    edited: Callable[[SimT, str], bool]
    # Whether the object with this id is on the platform exactly as `spec` declares
    # (after `edit`), name and marker included.
    as_declared: Callable[[SimT, str], bool]
    # Every object on the platform the operator could have made (to count duplicates).
    objects: Callable[[SimT], list[str]]
    drifts: list[Drift[SimT]] = field(default_factory=list)
    # Credentials (Secret data) the simulator accepts for reading only.
    read_only_secret: Mapping[str, str] | None = None
    # The platform has no enable switch: disabled means the object is deleted.
    disable_by_delete: bool = False
