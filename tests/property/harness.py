"""Adapters wired as build_adapter wires them, over a transport a property test controls.

Time is a manual clock for everything that waits (the throttle, ZStack's job polling),
so a hostile `Retry-After` or a job that never ends costs no real time.
"""

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from alertsim.core import ManualClock
from alertsync import redaction
from alertsync.platforms import build_adapter
from alertsync.platforms.base import PlatformAdapter
from alertsync.platforms.http import PlatformHttp
from tests.platforms.case import PlatformCase
from tests.support.transport import Handler

__all__ = ["Handler", "LoopGuard", "build", "http_of", "own_secrets"]


class LoopGuard:
    """Fails the test at once when a client sends more requests than `cap`."""

    def __init__(self, handler: Handler, cap: int) -> None:
        self.handler, self.cap = handler, cap
        self.sent: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if len(self.sent) > self.cap:
            raise AssertionError(f"more than {self.cap} requests: the client does not stop")
        return await self.handler(request)


def http_of(adapter: PlatformAdapter) -> PlatformHttp:
    """Every adapter keeps its client as `.client`, and every client its `.http`."""
    loose: Any = adapter
    http: PlatformHttp = loose.client.http
    return http


def build(
    case: PlatformCase[Any], token: str, handler: Handler, clock: ManualClock
) -> PlatformAdapter:
    """The adapter build_adapter makes for `case`'s account (registering its secrets)."""
    adapter = build_adapter(case.account(token), transport=httpx.MockTransport(handler))

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    http = http_of(adapter)
    http.throttle.clock, http.throttle.sleep = clock, sleep
    http.throttle.updated = clock()
    loose: Any = adapter
    if hasattr(loose.client, "sleep"):  # ZStack polls its jobs
        loose.client.sleep, loose.client.clock = sleep, clock
    return adapter


@contextlib.contextmanager
def own_secrets() -> Iterator[None]:
    """Each example registers its token; the registry is left as it was found."""
    # The registry is module state: restoring it keeps hundreds of examples' tokens
    # from slowing every later redact() in the session.
    saved = set(redaction._secrets)
    try:
        yield
    finally:
        with redaction._lock:
            redaction._secrets.clear()
            redaction._secrets.update(saved)
