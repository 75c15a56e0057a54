"""What each platform's export mapper provides, and one platform object as the export sees it.

A platform package's `export` module maps its listing to `Found` objects through a
`Mapper`; `alertsync export` (export/exporting.py) turns them into AlertIntegrations.
"""

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alertsync.models import TargetState
from alertsync.platforms.base import PlatformAdapter, marker

__all__ = ["MARKER_PREFIX", "Found", "Mapper", "list_all", "marker_uid"]

# "managed-by=alertsync uid=": what every object AlertSync created carries (OnCall's
# description_short, Confluent's description, ZStack's description).
MARKER_PREFIX = marker("")
_MARKER = re.compile(re.escape(MARKER_PREFIX) + r"(\S+)$")


def marker_uid(text: str | None) -> str | None:
    """The resource uid in an AlertSync marker, or None when `text` is not one."""
    found = _MARKER.match((text or "").strip())
    return found[1] if found else None


@dataclass(frozen=True)
class Found:
    """A platform object, mapped to what an AlertIntegration would declare for it."""

    id: str
    # The object's name on the platform: spec.displayName, which adoption matches.
    name: str
    # spec.<block> (camelCase, as the CRD takes it); None: the block is left out.
    block: Mapping[str, Any] | None = None
    target_state: TargetState = TargetState.ENABLED
    # spec.webhook.url where the platform delivers to a URL the spec declares.
    webhook_url: str | None = None
    # Another AlertIntegration's marker on the object: its uid, or its namespace/name
    # (Mackerel's name suffix).
    owner_uid: str | None = None
    owner_ref: tuple[str, str] | None = None
    # Why AlertSync cannot represent it (then nothing else is looked at).
    unsupported: str | None = None
    # What a person should know before applying (fields left out, a lapsing maintenance).
    notes: tuple[str, ...] = field(default=())

    @property
    def owner(self) -> str | None:
        """The marker's owner, said for people."""
        if self.owner_uid is not None:
            return f"uid {self.owner_uid}"
        if self.owner_ref is not None:
            return f"AlertIntegration {self.owner_ref[0]}/{self.owner_ref[1]}"
        return None


@dataclass(frozen=True)
class Mapper:
    # One listing of the account (all pages), as the adapter's `observe` accepts it:
    # the export compares each manifest against it without another request.
    listing: Callable[[PlatformAdapter], Awaitable[Sequence[Any]]]
    # Every object of the listing, mapped (unsupported ones too, with the reason).
    found: Callable[[Sequence[Any]], list[Found]]


async def list_all(adapter: PlatformAdapter) -> Sequence[Any]:
    """The adapter's own batched listing: what a resync reads."""
    return await adapter.list_all()
