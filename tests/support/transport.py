"""In-process transports for platform clients under test."""

from collections.abc import Callable, Coroutine
from typing import Any

import httpx

Handler = Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]


def capped(handler: Handler, cap: int) -> Handler:
    """`handler`, failing the test at once instead of looping until rate limited."""
    sent = 0

    async def handle(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        if sent > cap:
            raise AssertionError(f"more than {cap} requests: is the client looping?")
        return await handler(request)

    return handle
