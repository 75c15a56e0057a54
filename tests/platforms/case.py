"""One platform's row in the adapter contract suite: what the scenarios need to know of it."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx
from pydantic import SecretStr

from alertsim.core import Simulator
from alertsync.models import ProductType, TargetState
from alertsync.platforms import build_adapter
from alertsync.platforms.base import DesiredIntegration, PlatformAccount, PlatformAdapter
from tests.support.accounts import platform_account
from tests.support.desired import Ask
from tests.support.transport import capped

__all__ = ["TOKEN", "USERNAME", "WRONG", "Page", "PlatformCase"]

SimT = TypeVar("SimT", bound=Simulator)
# One answer of a hostile paging server: a page of the listing that hands out the cursor
# the given function returns next (tests/property/test_prop_paging.py).
Page = Callable[[httpx.Request, Callable[[], str]], httpx.Response]

TOKEN = "contract-good-token-9e4a1f6b"
WRONG = "contract-wrong-token-2d8c5e07"
# The first part of two-part credentials, for platforms that use it.
USERNAME = "contract-key-id-7c3b"


@dataclass(frozen=True)
class PlatformCase(Generic[SimT]):
    """Everything the scenarios need to know about one platform."""

    id: str
    product: ProductType
    url: str
    # A simulator of the platform that accepts exactly these credentials (no rate limit):
    # (token, username) where the platform uses two parts, else (token, None).
    simulator: Callable[[str, str | None], SimT]
    # The platform's ask of an AlertIntegration: its spec model, block and webhook url.
    ask: Ask
    # Change the object with this id on the platform, as a person would...
    drift: Callable[[SimT, str], None]
    # ...and the name of the drift-checked field that this makes differ.
    drifted_field: str
    # Delete the object with this id on the platform, as a person would.
    remove: Callable[[SimT, str], None]
    # Someone else creates an object with this name (no marker); returns its id. Only as
    # the real platform allows it: where names are unique within a scope (an OnCall team),
    # a namesake goes to a scope where the name is still free, never beside another one.
    add_foreign: Callable[[SimT, str], str]
    # A server that never says the listing is done: one page, naming the next cursor.
    hostile_page: Page
    # Whether the platform uses two-part credentials (credentialsSecretRef.usernameKey).
    two_part_credentials: bool = False
    # Whether the platform has no enable switch, so that `targetState: disabled` means no
    # object on it (the adapter's `disable_by_delete`): the disable scenario checks that.
    disable_by_delete: bool = False
    # Whether the platform's 429 says how long to wait (Retry-After or the like). Platforms
    # that announce nothing (iLert, Mackerel, ZStack) get the shared backoff instead.
    announces_wait: bool = True
    # Whether the platform has no field to carry the marker, so that the exact name is the
    # marker (iLert): our own object found without its id is then only a name match
    # (Match.NAME, claimed by the reconciler while a create is pending), and a foreign
    # object of the name may look exactly like ours.
    marker_is_name: bool = False
    # The listing that pages, where list_all reads one page (Mackerel's channels are one
    # page, its alerts are paged) or goes through more than the paged listing (ZStack).
    paged_listing: Callable[[PlatformAdapter], Awaitable[object]] | None = None
    # Requests a listing sends besides its pages (ZStack's session log-in).
    listing_logins: int = 0

    def desired(self, uid: str, name: str, state: TargetState) -> DesiredIntegration:
        """The DesiredIntegration for an AlertIntegration with this uid, name, state."""
        return self.ask(uid=uid, name=name, state=state)

    def account(self, token: str = TOKEN) -> PlatformAccount:
        """The platform's account with this token (and USERNAME where it takes two parts)."""
        return platform_account(
            self.url,
            token,
            self.product,
            name=f"{self.id}-account",
            uid=f"{self.id}-account-uid",
            display_name=self.id,
            username=SecretStr(USERNAME) if self.two_part_credentials else None,
        )

    def adapter(self, sim: SimT, token: str = TOKEN) -> PlatformAdapter:
        transport = httpx.MockTransport(capped(sim.handle, 50))
        return build_adapter(self.account(token), transport=transport)

    def make_simulator(self) -> SimT:
        return self.simulator(TOKEN, USERNAME if self.two_part_credentials else None)
