"""Wait for a condition instead of sleeping for a guessed time."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


# Generous: only a failing test waits it out, and `make test` runs two workers on two
# cores, each with an operator, an emulator and simulators.
DEFAULT_TIMEOUT = 40.0


def wait_for(
    check: Callable[[], T | None], timeout: float = DEFAULT_TIMEOUT, interval: float = 0.05
) -> T:
    """Poll `check` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met in {timeout}s; last value: {last!r}")
