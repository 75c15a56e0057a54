"""One platform's row in the end-to-end suite: its simulator, credentials and drifts."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from alertsim.core import Simulator
from tests.support.sandbox import Sandbox

__all__ = ["NAME", "RECEIVER", "Drift", "PlatformRow"]

SimT = TypeVar("SimT", bound=Simulator)

# Where outbound platforms deliver in the suite (nothing listens: delivery is not
# what the suite checks; each platform's own e2e file does that).
RECEIVER = "http://127.0.0.1:9/alertsync-e2e-receiver"
# The displayName of every row's AlertIntegration.
NAME = "suite payments"


@dataclass(frozen=True)
class Drift(Generic[SimT]):
    """A change a person makes on the platform behind AlertSync's back."""

    name: str
    # Make the change to the object with this id.
    apply: Callable[[SimT, str], None]


@dataclass(frozen=True)
class PlatformRow(Generic[SimT]):
    id: str  # the platform's productType
    # A fresh simulator that accepts `secret`.
    simulator: Callable[[], SimT]
    # The Secret's data.
    secret: Mapping[str, str]
    # spec of an AlertIntegration beyond platformRef and displayName (NAME), delivering
    # to RECEIVER.
    declares: Callable[[], dict[str, Any]]
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
    # credentialsSecretRef beyond its name.
    credentials: Mapping[str, str] = field(default_factory=dict)

    @property
    def product(self) -> str:
        return self.id

    def spec(self) -> dict[str, Any]:
        """The AlertIntegration's spec, beyond platformRef."""
        return {"displayName": NAME, **self.declares()}

    def add_platform(
        self, sandbox: Sandbox, url: str, secret: Mapping[str, str] | None = None
    ) -> None:
        """The AlertPlatform `suite` on the simulator at `url`, with `secret` (or the row's)."""
        chosen = self.secret if secret is None else secret
        sandbox.add_platform("suite", self.product, url, chosen, self.credentials)
