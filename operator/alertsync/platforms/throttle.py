"""One platform account's budget: our own rate, the platform's pauses and windows.

PlatformHttp asks it before every request (alertsync.platforms.http).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alertsync.errors import RateLimitedError
from alertsync.retry import throttle_backoff

__all__ = ["NOTICE_SECONDS", "WAIT_NOTICE", "RateWindow", "Throttle"]

logger = logging.getLogger(__name__)

# acquire re-checks after each wait; a bound, in case a clock does not move.
MAX_WAKEUPS = 50
# Awaited, in the task that waits, when a request is about to wait this long or
# longer for the platform's budget: the operator says so on the waiting resource.
WAIT_NOTICE: ContextVar[Callable[[float], Awaitable[None]] | None] = ContextVar(
    "wait_notice", default=None
)
NOTICE_SECONDS = 5.0
# After 429s our rate drops by 30 % each, to no less than this share of the limit,
# and wins back 1/RECOVERY_STEPS of the gap with each request that goes through.
MIN_RATE_SHARE, RECOVERY_STEPS = 0.05, 300
# Announced resets are whole seconds, rounded up (Confluent's X-RateLimit-Reset).
WINDOW_ROUNDING = 1.0


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
    holding three seconds' worth, so a listing of a few pages goes out at once
    while no minute ever sees more than 105 % of the limit),
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
        self.limit = self.rate
        self.capacity = max(1.0, (per_minute or 0) / 20.0)
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

    def per_second(self) -> float | None:
        """Requests a second this account may send, where known."""
        if self.rate is not None:
            return self.rate
        if self.window_limit and self.window_span > 0:
            return self.window_limit / self.window_span
        return None

    def expected_wait(self) -> float:
        """Seconds the next request would wait for the platform (a 429, a spent window)."""
        wait = self.blocked_for()
        if self.window_remaining is not None and self.window_remaining <= 0:
            wait = max(wait, self.window_ends - self.clock())
        return max(0.0, wait)

    def block(self, seconds: float) -> None:
        """The platform said 429: nothing goes until then, and no more bursts after."""
        again = self.clock() < self.blocked_until  # another answer of the same episode
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)
        # Our limit is above the platform's real one (a stricter plan, another
        # user of the key): from now on requests go at a steady pace, one at a
        # time, so that the next window costs at most one 429, not a burst of them.
        self.capacity = 1.0
        self.tokens = min(self.tokens, 0.0)
        if self.rate is not None and self.limit is not None and not again:
            # ...and slower (multiplicative decrease), won back slowly on success.
            self.rate = max(self.limit * MIN_RATE_SHARE, self.rate * 0.7)

    def succeeded(self) -> None:
        """A request went through: a rate slowed by 429s creeps back to the limit."""
        self.strikes = 0
        if self.rate is not None and self.limit is not None and self.rate < self.limit:
            self.rate = min(self.limit, self.rate + (self.limit - self.rate) / RECOVERY_STEPS)

    def blocked_for(self) -> float:
        return max(0.0, self.blocked_until - self.clock())

    def backoff(self) -> float:
        """The wait after a 429 that named none (alertsync.retry decides how long)."""
        seconds = throttle_backoff(self.strikes)
        self.strikes += 1
        return seconds

    def note_window(self, window: RateWindow, in_flight: int, sent_at: float | None = None) -> None:
        """Take in an answer's announced window; requests still in flight use it up too.

        `sent_at` (this throttle's clock) tells a late answer from a window that
        has ended since from the platform changing the window it is in.
        """
        self.strikes = 0
        self.learned.set()
        now = self.clock()
        ends = now + window.reset_seconds
        left = max(0, window.remaining - in_flight)
        same_limit = window.limit is None or window.limit == self.window_limit
        span = window.reset_seconds
        if self.window_remaining is not None and same_limit:
            # Resets are whole seconds, rounded up: where the window began is known
            # to a second. Only an answer to a request sent before that is stale; one
            # in doubt is taken as the current window's, which can only wait longer.
            began = self.window_ends - self.window_span - WINDOW_ROUNDING
            if sent_at is not None and sent_at < began:
                return  # counted in a window that has ended since: nothing of ours
            if self.window_estimated or now < self.window_ends - WINDOW_ROUNDING:
                # The window we are in (answers come late and out of order):
                # within one window the lowest count is the truest, and the
                # newest word on when it ends wins, sooner or later.
                left = min(self.window_remaining, left)
                if not self.window_estimated:
                    # Mid-window, the reset is what is left of it, not its length.
                    span = max(self.window_span, window.reset_seconds)
        # else: the first answer, a known window that has ended, or a new limit
        # (a stricter plan, a shorter window): the newest announcement is the window.
        self.window_remaining = left
        self.window_ends = ends
        self.window_estimated = False
        self.window_span = span
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
            logger.debug("waiting %.1fs for the platform's rate limit before: %s", wait, what)
            notice = WAIT_NOTICE.get()
            if notice is not None and wait >= NOTICE_SECONDS:
                await notice(wait)
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
