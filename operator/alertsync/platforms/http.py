"""HTTP plumbing shared by every platform client: errors, rate limits, throttling.

Each platform client states how its platform words errors and rate limits;
this module turns every failure into one of AlertSync's errors in one place, so
adapters and the reconciler never see an httpx exception.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx

from alertsync.errors import (
    CredentialsError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.redaction import redact

__all__ = ["PlatformHttp", "Throttle", "header_seconds"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class Throttle:
    """Client-side limit for one platform account, shared by all its reconciles.

    A token bucket holding ten seconds' worth of requests, so a listing of a few
    pages goes out at once while the per-minute limit still holds. It also
    keeps the platform's own "wait until" after a 429, so no reconcile sends
    into a window the platform said is spent.
    """

    def __init__(
        self,
        per_minute: int | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.rate = per_minute / 60.0 if per_minute else None
        self.capacity = max(1.0, (per_minute or 0) / 6.0)
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.updated = clock()
        self.blocked_until = 0.0
        self._lock = asyncio.Lock()

    def block(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)

    def blocked_for(self) -> float:
        return max(0.0, self.blocked_until - self.clock())

    async def acquire(self) -> None:
        if self.rate is None:
            return
        async with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens < 1.0:
                await self.sleep((1.0 - self.tokens) / self.rate)
                self.updated = self.clock()
                self.tokens = 1.0
            self.tokens -= 1.0


def header_seconds(response: httpx.Response, *names: str) -> float | None:
    """The first of `names` that holds relative seconds (never an epoch here)."""
    for name in names:
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            continue
    return None


@dataclass
class PlatformHttp:
    """One platform account's connection: base URL, auth headers, error wording."""

    client: httpx.AsyncClient
    base_url: str
    auth_headers: Mapping[str, str] = field(repr=False)
    throttle: Throttle
    # How the platform words an error body, and how long it asks us to wait.
    describe_error: Callable[[httpx.Response], str]
    retry_after: Callable[[httpx.Response], float | None]
    # Waiting on a 429 that names no time (iLert, Mackerel, ZStack).
    default_retry_after: float = 30.0
    # Requests to one account at once, whatever the number of reconciles.
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(8))

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        ok_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send one request; return 2xx (and `ok_statuses`), raise AlertSync errors else.

        `what` names the operation and object for messages: "create integration x".
        `path` may also be an absolute URL the platform handed out (paging links).
        """
        wait = self.throttle.blocked_for()
        if wait > 0:
            raise RateLimitedError(
                f"cannot {what}: rate limited by the platform for {wait:.0f}s more", wait
            )
        await self.throttle.acquire()
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        try:
            async with self.in_flight:
                response = await self.client.request(
                    method, url, json=json, params=params, headers=dict(self.auth_headers)
                )
        except httpx.TimeoutException:
            raise PlatformUnavailableError(f"cannot {what}: the platform timed out") from None
        except httpx.TransportError as exc:
            raise PlatformUnavailableError(
                f"cannot {what}: {type(exc).__name__} connecting to the platform"
            ) from None
        logger.debug("%s %s -> %d", method, httpx.URL(url).path, response.status_code)
        if 200 <= response.status_code < 300 or response.status_code in ok_statuses:
            return response
        self.raise_for(response, what)

    def raise_for(self, response: httpx.Response, what: str) -> NoReturn:
        """Raise the AlertSync error that a non-success `response` means."""
        status = response.status_code
        detail = redact(_clip(self.describe_error(response)))
        message = f"cannot {what}: {status} {detail}".rstrip()
        if status == 429:
            announced = self.retry_after(response)
            seconds = self.default_retry_after if announced is None else announced
            self.throttle.block(seconds)
            raise RateLimitedError(f"{message} (retry in {seconds:.0f}s)", seconds)
        if status in (401, 403):
            raise CredentialsError(message)
        if status >= 500:
            raise PlatformUnavailableError(message)
        raise PlatformRejectedError(message, status)


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
