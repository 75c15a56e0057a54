"""What each platform's export module provides: one listing, and its objects mapped."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from alertsync.export.found import Found
from alertsync.platforms.base import PlatformAdapter

__all__ = ["Mapper"]


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
