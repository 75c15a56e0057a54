"""A platform's resync sleeps until its interval ends, or less when its spec changes."""

import asyncio
from collections import defaultdict
from collections.abc import Awaitable

from alertsync.records import PlatformKey

__all__ = ["Wakeups"]


class Wakeups:
    def __init__(self) -> None:
        self.events: defaultdict[PlatformKey, asyncio.Event] = defaultdict(asyncio.Event)

    def wake(self, key: PlatformKey) -> None:
        self.events[key].set()

    async def sleep(self, key: PlatformKey, timer: Awaitable[object]) -> None:
        """Wait until `timer` ends (the next resync, or the operator stopping), or
        less when the platform's spec changes."""
        event = self.events[key]
        waits = {asyncio.ensure_future(timer), asyncio.ensure_future(event.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        event.clear()
