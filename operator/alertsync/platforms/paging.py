"""Following a platform's pages: each page names the next, until one names none.

A server whose cursors repeat, or never end, must not keep a listing going for ever:
a cursor seen before ends the listing, and no listing reads more than MAX_PAGES pages.
Platforms that page by offset (iLert, ZStack) stop at a page that adds nothing new.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from alertsync.errors import PlatformUnavailableError
from alertsync.platforms.http import MAX_PAGES

__all__ = ["follow_pages"]

Item = TypeVar("Item")


async def follow_pages(
    read: Callable[[str | None], Awaitable[tuple[Sequence[Item], str | None]]],
    *,
    what: str,
    repeated: str | None,
) -> list[Item]:
    """Every item of every page: `read(None)` is the first page, `read(cursor)` the next.

    `read` answers a page's items and the next page's cursor (None after the last page).
    A cursor seen before ends the listing: PlatformUnavailableError saying `repeated`,
    or, when `repeated` is None, the items read so far.
    """
    found: list[Item] = []
    seen: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        items, cursor = await read(cursor)
        found.extend(items)
        if cursor is None:
            return found
        if cursor in seen:
            if repeated is None:
                return found
            raise PlatformUnavailableError(f"cannot {what}: {repeated}")
        seen.add(cursor)
    raise PlatformUnavailableError(f"cannot {what}: more than {MAX_PAGES} pages")
