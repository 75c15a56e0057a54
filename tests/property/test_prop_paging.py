"""Properties of every paged listing against a server that never says it is done.

A listing follows the platform's cursor: OnCall's `next` link, iLert's offsets,
Mackerel's `nextId`, Confluent's `page_token`, ZStack's `start`. A hostile or
broken server may repeat a cursor (or, for offsets, the same objects) or hand out
new ones for ever. The listing must end either way: at the first repeat, and
after at most `MAX_PAGES` pages of anything, with an AlertSyncError or what it
found; never by looping.
"""

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alertsim.core import ManualClock
from alertsync.errors import AlertSyncError, PlatformUnavailableError
from alertsync.platforms import PLATFORMS
from alertsync.platforms.base import PlatformAdapter
from alertsync.platforms.http import MAX_PAGES
from tests.platforms import CASES
from tests.platforms.case import PlatformCase
from tests.property.harness import LoopGuard, build, http_of
from tests.property.strategies import property_settings

TOKEN = "paging-token-s3cr3tAAAAAA"
# Cursor values of the repeating server: few, so that repeats come early.
CURSORS = "abc"
Cursor = Callable[[], str]


def _listing(case: PlatformCase[Any], adapter: PlatformAdapter) -> Awaitable[object]:
    """The platform's paged listing (the case's, where list_all is not it)."""
    if case.paged_listing is not None:
        return case.paged_listing(adapter)
    return adapter.list_all()


@dataclass
class Server:
    case: PlatformCase[Any]
    cursor: Cursor
    cursors: list[str]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        def next_cursor() -> str:
            value = self.cursor()
            self.cursors.append(value)
            return value

        return self.case.hostile_page(request, next_cursor)


def run(case: PlatformCase[Any], cursor: Cursor, cap: int) -> tuple[LoopGuard, list[str], object]:
    cursors: list[str] = []
    guard = LoopGuard(Server(case, cursor, cursors).handle, cap)

    async def go() -> object:
        adapter = build(case, TOKEN, guard, ManualClock())
        try:
            return await _listing(case, adapter)
        except AlertSyncError as exc:
            return exc
        finally:
            await http_of(adapter).client.aclose()

    return guard, cursors, asyncio.run(go())


def test_every_platform_has_a_hostile_pager() -> None:
    # Each contract case carries its pager (PlatformCase.hostile_page): every platform
    # the operator serves must have a case.
    assert {case.product for case in CASES} == set(PLATFORMS)


@property_settings(max_examples=100)
@given(case=st.sampled_from(CASES), data=st.data())
def test_a_repeated_cursor_ends_the_listing(case: PlatformCase[Any], data: st.DataObject) -> None:
    guard, cursors, _ = run(
        case, lambda: data.draw(st.sampled_from(CURSORS), label="cursor"), cap=50
    )
    logins = case.listing_logins
    # Each distinct cursor is followed once; the first repeat ends it.
    assert len(guard.sent) <= len(set(cursors)) + 1 + logins, cursors


def _fresh() -> Iterator[str]:
    return (f"p{n}" for n in itertools.count())


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_listing_that_never_ends_is_given_up_after_max_pages(case: PlatformCase[Any]) -> None:
    fresh = _fresh()
    guard, _, outcome = run(case, lambda: next(fresh), cap=MAX_PAGES + 5)
    assert isinstance(outcome, PlatformUnavailableError), outcome
    assert "pages" in outcome.message
    assert len(guard.sent) <= MAX_PAGES + 2
