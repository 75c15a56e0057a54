"""A circuit breaker per platform account: stop hammering a platform that is down.

After `threshold` failures in a row (timeouts, connection errors, 5xx) the
circuit opens: requests fail at once, without being sent, for a pause that
doubles each time a probe fails (15 s up to 5 min). When the pause is over one
request goes through as a probe; its success closes the circuit.
"""

import time
from collections.abc import Callable

from alertsync.errors import PlatformUnavailableError

__all__ = ["Circuit"]


class Circuit:
    def __init__(
        self,
        threshold: int = 5,
        pause: float = 15.0,
        max_pause: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold, self.first_pause, self.max_pause = threshold, pause, max_pause
        self.clock = clock
        self.failures = 0
        self.pause = pause
        self.open_until = 0.0
        self.probing = False

    @property
    def open(self) -> bool:
        return self.failures >= self.threshold

    def check(self, what: str) -> bool:
        """Raise instead of sending while the circuit is open; let one probe through after.

        True: this request is the probe, and must end in `failed`, `succeeded` or `release`.
        """
        if not self.open:
            return False
        if self.probing or self.clock() < self.open_until:
            # Worded without times or counts, so that it is the same on every
            # retry: a status that says it rewrites nothing while it holds.
            raise PlatformUnavailableError(
                f"cannot {what}: the platform failed {self.threshold} times in a row; "
                "AlertSync pauses its calls to it and tries again later"
            )
        self.probing = True
        return True

    def release(self) -> None:
        """The probe was never answered (cancelled, held back): let another one go."""
        self.probing = False

    def failed(self) -> None:
        self.failures += 1
        if self.probing:
            self.pause = min(self.max_pause, self.pause * 2)
        if self.open:
            self.open_until = self.clock() + self.pause
        self.probing = False

    def succeeded(self) -> None:
        self.failures, self.pause, self.probing = 0, self.first_pause, False
