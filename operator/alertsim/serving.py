"""A platform simulator's row: what `python -m alertsim`, the sandbox and the demo need to
know of a platform. Each simulator module defines its own row, `SERVED = served(...)`, at its
end; alertsim/simulators.py collects them.

This module stands apart from that collection so that a simulator module can build its row
without importing the other simulators (and without an import cycle through the sandbox).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from alertsim.core import Simulator

__all__ = ["Running", "Served", "served"]

S = TypeVar("S", bound=Simulator)


@dataclass(frozen=True)
class Running:
    """A row's simulator, made."""

    sim: Simulator
    # What AlertSync created on it that is still there (the platform's own objects aside).
    created: Callable[[], Sequence[object]]


@dataclass(frozen=True)
class Served:
    """One platform simulator as the sandbox serves it for deploy/samples/."""

    # The samples' AlertPlatform (metadata.name): the simulator's name in the sandbox.
    name: str
    # Its productType, which names its sample file (deploy/samples/<product>.yaml);
    # `python -m alertsim <product>` serves this simulator alone.
    product: str
    # The port of the samples' AlertPlatform URL (tests/e2e/test_sandbox.py holds them to it).
    port: int
    # The samples' AlertIntegration (metadata.name) on it.
    sample: str
    main: Callable[[Sequence[str] | None], None]
    # A new simulator that accepts the samples' credentials.
    start: Callable[[], Running]


def served(
    name: str,
    product: str,
    port: int,
    sample: str,
    main: Callable[[Sequence[str] | None], None],
    start: Callable[[], S],
    created: Callable[[S], Sequence[object]],
) -> Served:
    """A row, typed by its simulator: `created` reads the simulator `start` makes."""

    def run() -> Running:
        sim = start()
        return Running(sim, lambda: created(sim))

    return Served(name, product, port, sample, main, run)
