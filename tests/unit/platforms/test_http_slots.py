"""A request queued for an in-flight slot must not go into a wait a 429 announced meanwhile."""

import asyncio

import httpx
import pytest

from alertsync.errors import RateLimitedError
from alertsync.platforms.concurrency import AdaptiveLimit
from alertsync.platforms.http import PlatformHttp, Throttle, header_seconds


class Held429:
    """One in-flight slot; every request is answered 429 (Retry-After 30 s) once let go."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.arrived, self.answer = asyncio.Event(), asyncio.Event()
        self.limit = AdaptiveLimit(start=1, floor=1)
        self.http = PlatformHttp(
            client=httpx.AsyncClient(transport=httpx.MockTransport(self.handle)),
            base_url="http://platform.invalid",
            auth_headers={},
            throttle=Throttle(None),
            describe_error=lambda response: response.reason_phrase,
            retry_after=lambda response: header_seconds(response, "Retry-After"),
            in_flight=self.limit,
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.url.path)
        self.arrived.set()
        await self.answer.wait()
        return httpx.Response(429, headers={"Retry-After": "30"})


async def test_a_request_waiting_for_a_slot_does_not_run_into_a_429_announced_meanwhile() -> None:
    held = Held429()
    http, sent, arrived, answer = held.http, held.sent, held.arrived, held.answer
    first = asyncio.create_task(http.request("GET", "/a", what="read a"))
    await arrived.wait()
    # Let through by the throttle before the 429; now waiting for the only slot.
    second = asyncio.create_task(http.request("GET", "/b", what="read b"))
    await asyncio.sleep(0.01)
    answer.set()
    with pytest.raises(RateLimitedError):
        await first
    with pytest.raises(RateLimitedError, match="rate limited by the platform until"):
        await second
    assert sent == ["/a"]
    assert http.in_flight.in_flight == 0


async def test_a_release_cancelled_while_waiting_for_the_lock_still_frees_its_slot() -> None:
    limit = AdaptiveLimit(start=1, floor=1)
    started = await limit.acquire()
    async with limit._changed:  # held elsewhere: the release must wait for it to notify
        release = asyncio.create_task(limit.release(started, failed=False))
        await asyncio.sleep(0)
        release.cancel()
    with pytest.raises(asyncio.CancelledError):
        await release
    assert limit.in_flight == 0
    await asyncio.wait_for(limit.acquire(), 1)  # the slot is there for the next request


async def test_a_slot_is_freed_only_once_its_429_is_taken_in_even_when_freeing_waits() -> None:
    """The pause a 429 announces is set before the slot goes to the next request, also
    when freeing the slot has to wait for the lock its waiters are woken under."""
    held = Held429()
    first = asyncio.create_task(held.http.request("GET", "/a", what="read a"))
    await held.arrived.wait()
    second = asyncio.create_task(held.http.request("GET", "/b", what="read b"))
    await asyncio.sleep(0.01)
    async with held.limit._changed:  # held: the release waits to notify
        held.answer.set()
        for _ in range(10):
            await asyncio.sleep(0)
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(result, RateLimitedError) for result in results)
    assert held.sent == ["/a"]
