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

from alertsim.core import ManualClock, json_response
from alertsync.errors import AlertSyncError, PlatformUnavailableError
from alertsync.models import ProductType
from alertsync.platforms.base import PlatformAdapter
from alertsync.platforms.http import MAX_PAGES
from tests.contract.cases import CASES
from tests.contract.platform_case import PlatformCase
from tests.property.harness import LoopGuard, build, http_of
from tests.property.strategies import property_settings

TOKEN = "paging-token-s3cr3tAAAAAA"
# Cursor values of the repeating server: few, so that repeats come early.
CURSORS = "abc"
Cursor = Callable[[], str]
Page = Callable[[httpx.Request, Cursor], httpx.Response]


def _oncall(request: httpx.Request, cursor: Cursor) -> httpx.Response:
    at = cursor()
    return json_response(
        200,
        {
            "count": 10**6,
            "next": f"http://oncall.test/api/v1/integrations/?page={at}&perpage=100",
            "results": [{"id": f"C{at}", "name": f"n{at}", "type": "webhook"}],
        },
    )


def _ilert(request: httpx.Request, cursor: Cursor) -> httpx.Response:
    # Offsets: a full page (50) of the ids the cursor names, so only ids can repeat.
    first = int.from_bytes(cursor().encode()) * 100
    items = [{"id": first + i, "name": "n", "integrationType": "API"} for i in range(50)]
    return json_response(200, items)


def _mackerel(request: httpx.Request, cursor: Cursor) -> httpx.Response:
    at = cursor()
    alert = {"id": f"A{at}", "status": "OK", "monitorId": "m", "type": "host", "openedAt": 1}
    return json_response(200, {"alerts": [alert], "nextId": at})


def _confluent(request: httpx.Request, cursor: Cursor) -> httpx.Response:
    at = cursor()
    return json_response(
        200,
        {
            "metadata": {
                "next": f"http://confluent.test/notifications/v1/integrations?page_token={at}"
            },
            "data": [{"id": f"I{at}", "display_name": "d", "target": {"kind": "Webhook"}}],
        },
    )


def _zstack(request: httpx.Request, cursor: Cursor) -> httpx.Response:
    if request.url.path.endswith("/accounts/login"):
        return json_response(200, {"inventory": {"uuid": "0" * 32}})
    at = cursor()
    endpoint = {"name": "n", "url": "http://x.test", "state": "Enabled"}
    # A full page (100) of the uuids the cursor names; no total, so only the uuids tell.
    inventories = [{**endpoint, "uuid": f"{at}-{i}"} for i in range(100)]
    return json_response(200, {"inventories": inventories})


PAGES: dict[ProductType, Page] = {
    ProductType.GRAFANA_ONCALL: _oncall,
    ProductType.ILERT: _ilert,
    ProductType.MACKEREL: _mackerel,
    ProductType.CONFLUENT: _confluent,
    ProductType.ZSTACK: _zstack,
}


def _listing(adapter: PlatformAdapter, product: ProductType) -> Awaitable[object]:
    """The platform's paged listing; Mackerel's channels are one page, its alerts are paged."""
    loose: Any = adapter
    if product is ProductType.MACKEREL:
        listed: Awaitable[object] = loose.client.list_alerts()
        return listed
    if product is ProductType.ZSTACK:
        endpoints: Awaitable[object] = loose.client.list_endpoints()
        return endpoints
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

        return PAGES[self.case.product](request, next_cursor)


def run(case: PlatformCase[Any], cursor: Cursor, cap: int) -> tuple[LoopGuard, list[str], object]:
    cursors: list[str] = []
    guard = LoopGuard(Server(case, cursor, cursors).handle, cap)

    async def go() -> object:
        adapter = build(case, TOKEN, guard, ManualClock())
        try:
            return await _listing(adapter, case.product)
        except AlertSyncError as exc:
            return exc
        finally:
            await http_of(adapter).client.aclose()

    return guard, cursors, asyncio.run(go())


def test_every_platform_has_a_hostile_pager() -> None:
    assert {case.product for case in CASES} == set(PAGES)


@property_settings(max_examples=100)
@given(case=st.sampled_from(CASES), data=st.data())
def test_a_repeated_cursor_ends_the_listing(case: PlatformCase[Any], data: st.DataObject) -> None:
    guard, cursors, _ = run(
        case, lambda: data.draw(st.sampled_from(CURSORS), label="cursor"), cap=50
    )
    logins = 1 if case.product is ProductType.ZSTACK else 0
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
