"""HTTP plumbing shared by every platform client: errors, rate limits, throttling.

Each platform client states how its platform words errors and rate limits;
this module turns every failure into one of AlertSync's errors in one place, so
adapters and the reconciler never see an httpx exception.
"""

import asyncio
import contextlib
import json as jsonlib
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import httpx

from alertsync import metrics
from alertsync.errors import (
    CredentialsError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.platforms.circuit import Circuit
from alertsync.redaction import redact

__all__ = [
    "MAX_ANNOUNCED_WAIT",
    "MAX_PAGES",
    "MAX_RESPONSE_BYTES",
    "PlatformHttp",
    "RateWindow",
    "Throttle",
    "header_seconds",
    "json_of",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# A 429 without a wait in it (iLert, Mackerel, ZStack): back off 10 s, 20 s,
# 40 s... up to two minutes, each with jitter so that replicas do not align.
BACKOFF_FIRST, BACKOFF_CAP = 10.0, 120.0
# acquire re-checks after each wait; a bound, in case a clock does not move.
MAX_WAKEUPS = 50
# No answer of any platform comes near this (a page of 250 objects is well under
# 1 MiB); a larger one is refused rather than parsed.
MAX_RESPONSE_BYTES = 10 * 2**20
# A listing ends within this many pages (100,000 objects at 100 a page): a server
# whose cursors never end is given up on rather than followed for ever.
MAX_PAGES = 1000
# A wait a platform announces is honoured up to a day; `inf` or 1e400 is no wait.
MAX_ANNOUNCED_WAIT = 86_400.0


@dataclass(frozen=True)
class RateWindow:
    """What a platform announces of its current rate-limit window (Confluent)."""

    remaining: int
    # Relative seconds until the window resets (never an epoch).
    reset_seconds: float
    limit: int | None = None


class Throttle:
    """Client-side limits for one platform account, shared by all its reconciles.

    Three things hold a request back: our own per-minute limit (a token bucket
    holding ten seconds' worth, so a listing of a few pages goes out at once),
    the platform's "wait until" after a 429, and the window a platform announces
    in its headers (Confluent): when that is spent, nothing is sent until it
    resets. Short waits are waited out; a longer one raises RateLimitedError so
    the reconcile reports it and is retried when the window is open again.
    """

    def __init__(
        self,
        per_minute: int | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_wait: float = 5.0,
        probe_first: bool = False,
    ):
        self.rate = per_minute / 60.0 if per_minute else None
        self.capacity = max(1.0, (per_minute or 0) / 6.0)
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.max_wait = max_wait
        self.updated = clock()
        self.blocked_until = 0.0
        # The platform's announced window: requests left in it (None: unknown),
        # when it ends (estimated for a new window no answer has told of yet),
        # its size, and how long windows last.
        self.window_remaining: int | None = None
        self.window_ends = 0.0
        self.window_estimated = False
        self.window_limit: int | None = None
        self.window_span = 60.0
        # Platforms that announce windows: the first request probes, alone.
        self.probe_first = probe_first
        self.probing = False
        self.learned = asyncio.Event()
        # 429s in a row that named no wait, for the exponential backoff.
        self.strikes = 0
        self._lock = asyncio.Lock()

    def block(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)

    def blocked_for(self) -> float:
        return max(0.0, self.blocked_until - self.clock())

    def backoff(self) -> float:
        """The wait after a 429 that named none: 10 s, 20 s, 40 s... with jitter."""
        seconds = min(BACKOFF_CAP, BACKOFF_FIRST * 2.0**self.strikes)
        self.strikes += 1
        jitter: float = random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not a secret
        return seconds * jitter

    def note_window(self, window: RateWindow, in_flight: int) -> None:
        """Take in an answer's announced window; requests still in flight use it up too."""
        self.strikes = 0
        self.learned.set()
        now = self.clock()
        ends = now + window.reset_seconds
        left = max(0, window.remaining - in_flight)
        if self.window_remaining is None:
            self.window_remaining = left  # the first answer
        elif not self.window_estimated and ends < self.window_ends - 1.0:
            return  # from a window that has ended: answers only ever arrive late
        elif self.window_estimated or now < self.window_ends - 1.0:
            # The window we are in (answers come late and out of order): within
            # one window the lowest count is the truest.
            self.window_remaining = min(self.window_remaining, left)
        else:
            self.window_remaining = left  # the known window has ended: a newer one
        self.window_ends = ends
        self.window_estimated = False
        self.window_span = window.reset_seconds
        self.window_limit = window.limit

    def answered(self) -> None:
        """An answer without a window (an error, a platform that announces none)."""
        self.learned.set()

    async def acquire(self, what: str = "send a request") -> None:
        if self.probing and not self.learned.is_set():
            # Nothing known of the window yet: one request went first; the rest
            # wait for its answer rather than run into a window nearly spent.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.learned.wait(), self.max_wait)
        for _ in range(MAX_WAKEUPS):
            wait = self._wait()
            if wait is None:
                break
            if wait > self.max_wait:
                until = datetime.now(UTC) + timedelta(seconds=wait)
                raise RateLimitedError(
                    f"cannot {what}: rate limited by the platform until "
                    f"{until:%Y-%m-%dT%H:%M:%SZ} ({wait:.0f}s)",
                    wait,
                )
            logger.info("waiting %.1fs for the platform's rate limit before: %s", wait, what)
            await self.sleep(wait)
        else:
            raise RateLimitedError(f"cannot {what}: the rate limit did not open", self.max_wait)
        if self.window_remaining is not None:
            self.window_remaining -= 1
        if self.probe_first and not self.learned.is_set():
            self.probing = True
        await self._take_token()

    def _wait(self) -> float | None:
        """Seconds to wait before a request may go; None: it may go now."""
        now = self.clock()
        if self.window_remaining is not None and now >= self.window_ends:
            # A new window, as large as announced and, until an answer says
            # when it ends, as long as the last one.
            self.window_remaining = self.window_limit
            self.window_ends = now + self.window_span
            self.window_estimated = True
        wait = self.blocked_for()
        if self.window_remaining is not None and self.window_remaining <= 0:
            wait = max(wait, self.window_ends - now)
        return wait if wait > 0 else None

    async def _take_token(self) -> None:
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
            seconds = float(value)
        except ValueError:
            continue
        if math.isfinite(seconds):
            return min(max(0.0, seconds), MAX_ANNOUNCED_WAIT)
    return None


def json_of(response: httpx.Response) -> Any:
    """The body as JSON; ValueError for anything else, a body nested too deep included."""
    try:
        return jsonlib.loads(response.content)
    except RecursionError:
        raise ValueError("the body is nested too deeply") from None


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
    # The metrics' platform label: the product type.
    platform: str = "unknown"
    # The window a platform announces in its headers, if it does (Confluent).
    rate_window: Callable[[httpx.Response], RateWindow | None] = lambda _: None
    # Requests to one account at once, whatever the number of reconciles.
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(8))
    sent: int = 0
    circuit: Circuit = field(default_factory=Circuit)

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
        await self._acquire(what)
        probe = self.circuit.check(what)
        try:
            return await self._send(method, path, what, json, params, ok_statuses)
        finally:
            if probe and self.circuit.probing:
                # Neither answered nor failed (cancelled): the next request probes.
                self.circuit.release()

    async def _send(
        self,
        method: str,
        path: str,
        what: str,
        json: Any,
        params: Mapping[str, str | int] | None,
        ok_statuses: frozenset[int],
    ) -> httpx.Response:
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        operation = metrics.operation_of(method)
        started = time.monotonic()
        code = "error"
        try:
            # Sent from acquire to answer: every one of them spends the window.
            self.sent += 1
            try:
                async with self.in_flight:
                    started = time.monotonic()  # latency, not the wait for a slot
                    response = await self.client.request(
                        method, url, json=json, params=params, headers=dict(self.auth_headers)
                    )
                    code = str(response.status_code)
            finally:
                self.sent -= 1
        except httpx.TimeoutException:
            code = "timeout"
            self.throttle.answered()
            self.circuit.failed()
            raise PlatformUnavailableError(f"cannot {what}: the platform timed out") from None
        except httpx.TransportError as exc:
            self.throttle.answered()
            self.circuit.failed()
            raise PlatformUnavailableError(
                f"cannot {what}: {type(exc).__name__} connecting to the platform"
            ) from None
        except httpx.DecodingError:
            # A Content-Encoding its body does not have (a broken proxy, say).
            self.throttle.answered()
            self.circuit.failed()
            raise PlatformUnavailableError(
                f"cannot {what}: the platform's answer could not be decoded"
            ) from None
        except (httpx.InvalidURL, UnicodeEncodeError) as exc:
            # Nothing was sent; failed() still ends a probe the circuit let through.
            self.throttle.answered()
            self.circuit.failed()
            if isinstance(exc, UnicodeEncodeError):
                # Only header values are encoded this strictly: the credentials.
                raise CredentialsError(
                    f"cannot {what}: the credentials hold characters an HTTP header "
                    "cannot carry (only printable ASCII)"
                ) from None
            raise PlatformUnavailableError(
                f"cannot {what}: the request URL is not valid (an id with characters "
                "a URL cannot carry)"
            ) from None
        finally:
            metrics.REQUESTS.labels(self.platform, operation, code).inc()
            metrics.REQUEST_SECONDS.labels(self.platform, operation).observe(
                time.monotonic() - started
            )
        if response.status_code >= 500:
            self.circuit.failed()
        else:
            self.circuit.succeeded()
        window = self.rate_window(response)
        if window is not None:
            self.throttle.note_window(window, in_flight=self.sent)
        else:
            self.throttle.answered()
        logger.debug("%s %s -> %d", method, httpx.URL(url).path, response.status_code)
        if len(response.content) > MAX_RESPONSE_BYTES:
            # Checked once read (httpx reads the whole body before returning it):
            # this bounds what is parsed and kept, not what arrives.
            raise PlatformUnavailableError(
                f"cannot {what}: the platform's answer is larger than "
                f"{MAX_RESPONSE_BYTES // 2**20} MiB; refused"
            )
        if 200 <= response.status_code < 300 or response.status_code in ok_statuses:
            self.throttle.strikes = 0
            return response
        self.raise_for(response, what)

    async def _acquire(self, what: str) -> None:
        started = time.monotonic()
        try:
            await self.throttle.acquire(what)
        except RateLimitedError:
            metrics.RATE_LIMIT_DEFERRED.labels(self.platform).inc()
            raise
        waited = time.monotonic() - started
        if waited > 0.001:
            metrics.RATE_LIMIT_WAITS.labels(self.platform).inc()
            metrics.RATE_LIMIT_WAIT_SECONDS.labels(self.platform).inc(waited)

    def raise_for(self, response: httpx.Response, what: str) -> NoReturn:
        """Raise the AlertSync error that a non-success `response` means."""
        status = response.status_code
        try:
            described = self.describe_error(response)
        except ValueError:  # a body no decoding makes sense of (UnicodeError included)
            described = response.reason_phrase
        # Redacted before clipping: clipping squeezes spaces and cuts, and a secret
        # changed by either would no longer be found.
        detail = _clip(redact(described))
        message = redact(f"cannot {what}: {status} {detail}".rstrip())
        if status == 429:
            announced = self.retry_after(response)
            seconds = self.throttle.backoff() if announced is None else announced
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
