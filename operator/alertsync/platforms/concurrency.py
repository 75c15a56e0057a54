"""How many requests one platform account has in flight: adapted to its answers.

A struggling platform answers slowly or with 5xx before it fails outright. The
limit halves on such an answer and grows back by one after as many good answers
as the limit (additive increase, multiplicative decrease, as TCP does), so that
AlertSync eases off before the circuit breaker has to open.
"""

import asyncio
import time
from collections.abc import Callable

__all__ = ["AdaptiveLimit"]

START, FLOOR, CEILING = 8, 1, 16
# An answer slower than this counts as the platform struggling.
SLOW_SECONDS = 5.0


class AdaptiveLimit:
    def __init__(
        self,
        start: int = START,
        floor: int = FLOOR,
        ceiling: int = CEILING,
        slow: float = SLOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.floor, self.ceiling, self.slow = start, floor, ceiling, slow
        self.clock = clock
        self.in_flight = 0
        self.good = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> float:
        """Wait for a slot; returns when the request may go (the start of its latency)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
        return self.clock()

    async def give_back(self) -> None:
        """A slot taken but not used (nothing was sent): no verdict on the platform."""
        self.in_flight -= 1
        await self._wake()

    async def release(self, started: float, *, failed: bool) -> None:
        """The request ended; `failed`: a 5xx, a timeout or a broken connection."""
        # Counted at once, not under the lock: a caller cancelled while waiting for
        # the lock (a listing's waiter) must not keep its slot for good.
        self.in_flight -= 1
        if failed or self.clock() - started > self.slow:
            self.limit = max(self.floor, self.limit // 2)
            self.good = 0
        else:
            self.good += 1
            if self.good >= self.limit and self.limit < self.ceiling:
                self.limit += 1
                self.good = 0
        await self._wake()

    async def _wake(self) -> None:
        """Let waiters look again; finished even if the caller is cancelled meanwhile."""
        if not self._changed.locked():
            # A free lock is taken without yielding: a release costs no task switch.
            async with self._changed:
                self._changed.notify_all()
            return
        await asyncio.shield(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
