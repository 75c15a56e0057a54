"""A seeded random fault schedule, and what arms it on a simulator and counts what fired.

:func:`make_schedule` draws, for each round and platform, how many faults of each kind to
arm (the kind's rate is the mean per platform and round) and their parameters; the same
seed gives the same schedule. :class:`Injector` arms one round at a time on one simulator
through its :class:`~alertsim.core.Faults` rules, counts every fault that really fired
(a rule armed but never reached counts nothing), and watches the waits a 429 announced.

Fault kinds, and how each reaches the operator:

* ``throttle``: a 429 in the platform's own words, with its own headers (Grafana OnCall
  ``Retry-After`` and ``RateLimit-Reset``, Confluent ``X-RateLimit-Reset``) or none (iLert,
  Mackerel, ZStack).
* ``status``: 500, 502 or 503, with the page the platform (or its proxy) sends.
* ``timeout``, ``reset``, ``latency``: no answer, a reset connection, a slow answer.
* ``lost_create``: a create that is done on the platform but whose answer never comes.
* ``stale``: the platform's full listing answered as it was up to a few seconds ago, so it
  lags behind writes (:attr:`~alertsim.core.FaultKind.STALE`). Reads of one object, and
  searches by name or id on the listing's route, stay current: AlertSync trusts a listing
  only to say "in sync" and confirms anything else with such a read. Mackerel has no read
  of one channel: there the confirming read is the listing, and may lag as well.
* ``shift``: while a client pages through a listing, an object on an earlier page is
  deleted, so the next page starts one object later and one object is never seen. Only
  where the platform pages by offset (OnCall, iLert, ZStack); Confluent's cursor pages do
  not shift and Mackerel's channels are not paged.
* ``revoked``: for the next few requests the platform refuses the credentials as unknown,
  in its own words (:attr:`~alertsim.core.FaultKind.REVOKED`); then it takes them again,
  as when a key is revoked by mistake and reinstated. ZStack sessions are refused; its
  login (the password in the body) is not.
"""

from __future__ import annotations

import collections
import enum
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from alertsim.core import Clock, FaultKind, FaultRule, Simulator

__all__ = [
    "DEFAULT_RATES",
    "LABELS",
    "Fault",
    "Injector",
    "Kind",
    "Routes",
    "Schedule",
    "make_schedule",
]


class Kind(enum.StrEnum):
    THROTTLE = "throttle"
    STATUS = "status"
    TIMEOUT = "timeout"
    RESET = "reset"
    LATENCY = "latency"
    LOST_CREATE = "lost_create"
    STALE = "stale"
    SHIFT = "shift"
    REVOKED = "revoked"


#: Mean faults armed per platform and round, by kind. A 429 that names no wait costs the
#: operator a backoff of 10 s or more on the whole account, a timeout its whole request
#: timeout, a revoked key a retry two minutes later: those are rarer. A lost create waits
#: for a create, a shift for a reader on a later page, and most expire unfired.
DEFAULT_RATES: Mapping[Kind, float] = {
    Kind.THROTTLE: 0.5,
    Kind.STATUS: 1.0,
    Kind.TIMEOUT: 0.2,
    Kind.RESET: 0.5,
    Kind.LATENCY: 1.0,
    Kind.LOST_CREATE: 1.0,
    Kind.STALE: 1.0,
    Kind.SHIFT: 1.0,
    Kind.REVOKED: 0.2,
}

LABELS: Mapping[Kind, str] = {
    Kind.THROTTLE: "429 throttled",
    Kind.STATUS: "500/502/503",
    Kind.TIMEOUT: "timeout",
    Kind.RESET: "connection reset",
    Kind.LATENCY: "slow response",
    Kind.LOST_CREATE: "create, answer lost",
    Kind.STALE: "listing lagging",
    Kind.SHIFT: "page shifted",
    Kind.REVOKED: "credentials revoked",
}

_STATUSES = (500, 502, 503)
# The simulator's fault kind that each of ours fires as (a shift fires as no rule at all).
_FIRES_AS: Mapping[FaultKind, Kind] = {
    FaultKind.THROTTLE: Kind.THROTTLE,
    FaultKind.STATUS: Kind.STATUS,
    FaultKind.TIMEOUT: Kind.TIMEOUT,
    FaultKind.RESET: Kind.RESET,
    FaultKind.LATENCY: Kind.LATENCY,
    FaultKind.LOSE_RESPONSE: Kind.LOST_CREATE,
    FaultKind.STALE: Kind.STALE,
    FaultKind.REVOKED: Kind.REVOKED,
}


@dataclass(frozen=True)
class Fault:
    """One fault to arm at the start of `round` on `platform`, hitting `times` requests."""

    round: int
    platform: str
    kind: Kind
    times: int = 1
    status: int = 503
    seconds: float = 0.0
    retry_after: int = 1


@dataclass(frozen=True)
class Schedule:
    seed: int
    rounds: int
    platforms: tuple[str, ...]
    faults: tuple[Fault, ...]

    def round(self, number: int, platform: str | None = None) -> list[Fault]:
        return [
            f
            for f in self.faults
            if f.round == number and (platform is None or f.platform == platform)
        ]

    def armed(self) -> collections.Counter[Kind]:
        return collections.Counter(f.kind for f in self.faults)


def make_schedule(
    seed: int,
    rounds: int,
    platforms: Sequence[str],
    rates: Mapping[Kind, float] = DEFAULT_RATES,
    *,
    max_lag: float = 3.0,
) -> Schedule:
    """Every fault of `rounds` rounds on `platforms`, drawn from `seed` alone."""
    rng = random.Random(seed)
    faults: list[Fault] = []
    for number in range(rounds):
        for platform in platforms:
            drawn: list[Fault] = []
            for kind in Kind:
                rate = rates.get(kind, 0.0)
                # The whole part always, the fraction by chance: the mean is `rate`.
                count = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
                drawn.extend(_draw(rng, number, platform, kind, max_lag) for _ in range(count))
            # Rules fire in the order they were armed: no kind always goes first.
            rng.shuffle(drawn)
            faults.extend(drawn)
    return Schedule(seed, rounds, tuple(platforms), tuple(faults))


def _draw(rng: random.Random, number: int, platform: str, kind: Kind, max_lag: float) -> Fault:
    if kind is Kind.THROTTLE:
        return Fault(number, platform, kind, times=rng.randint(1, 3), retry_after=rng.randint(1, 3))
    if kind is Kind.STATUS:
        return Fault(number, platform, kind, times=rng.randint(1, 3), status=rng.choice(_STATUSES))
    if kind is Kind.LATENCY:
        return Fault(number, platform, kind, times=rng.randint(1, 4), seconds=rng.uniform(0.5, 2))
    if kind is Kind.STALE:
        lag = round(rng.uniform(0.5, max_lag), 2)
        return Fault(number, platform, kind, times=rng.randint(1, 3), seconds=lag)
    if kind is Kind.RESET:
        return Fault(number, platform, kind, times=rng.randint(1, 2))
    if kind is Kind.REVOKED:
        return Fault(number, platform, kind, times=rng.randint(2, 6))
    # A timeout costs a whole request timeout; a create or a shift happens once.
    return Fault(number, platform, kind)


@dataclass(frozen=True)
class Routes:
    """Where a platform's faults aim (the simulator's route templates)."""

    #: The route of a create (POST), for lost answers.
    create: str
    #: The route of the listing, for stale answers, and what tells the full listing (the
    #: batched resync's) from a search on the same route: ``{"name": None}``, no name filter.
    listing: str
    listing_params: Mapping[str, str | None] | None = None
    #: Whether a request reads a later page of the listing (offset paging only).
    later_page: Callable[[httpx.Request], bool] | None = None
    #: Whether its 429 names the wait (then no request may come before it ends).
    announces_wait: bool = False


@dataclass
class _Window:
    answered: float
    until: float


@dataclass
class Injector:
    """Arms a schedule's faults on one simulator and counts what reached the operator.

    `shift` deletes one object ahead of a paging reader (the caller's foreign decoys) and
    says whether it could. Requests that arrive inside a window a 429 announced, more than
    `grace` seconds after it was answered (requests already under way when it was sent are
    not the client's fault), are counted in :attr:`into_windows`.
    """

    sim: Simulator
    routes: Routes
    shift: Callable[[], bool] | None = None
    clock: Clock = time.monotonic
    grace: float = 0.25
    fired: collections.Counter[Kind] = field(init=False, default_factory=collections.Counter)
    armed: collections.Counter[Kind] = field(init=False, default_factory=collections.Counter)
    into_windows: int = field(init=False, default=0)
    shifts_pending: int = field(init=False, default=0)
    _windows: list[_Window] = field(init=False, default_factory=list)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.sim.hooks.append(self._seen)

    def arm(self, faults: Iterable[Fault]) -> None:
        for fault in faults:
            self._arm(fault)

    def off(self) -> None:
        """The round is over (or the faults are): armed rules that never fired are dropped."""
        self.sim.faults.clear()
        with self._lock:
            self.shifts_pending = 0

    def detach(self) -> None:
        if self._seen in self.sim.hooks:
            self.sim.hooks.remove(self._seen)

    def _arm(self, fault: Fault) -> None:
        faults, kind = self.sim.faults, fault.kind
        if kind is Kind.SHIFT:
            if self.shift is None or self.routes.later_page is None:
                return  # this platform's listing cannot shift under a reader
            with self._lock:
                self.shifts_pending += fault.times
        elif kind is Kind.THROTTLE:
            faults.throttle(fault.retry_after, times=fault.times)
        elif kind is Kind.STATUS:
            faults.fail(fault.status, times=fault.times)
        elif kind is Kind.TIMEOUT:
            faults.timeout(times=fault.times)
        elif kind is Kind.RESET:
            faults.reset(times=fault.times)
        elif kind is Kind.LATENCY:
            faults.delay(fault.seconds, times=fault.times)
        elif kind is Kind.LOST_CREATE:
            faults.add(
                FaultRule(
                    kind=FaultKind.LOSE_RESPONSE,
                    method="POST",
                    route=self.routes.create,
                    times=fault.times,
                )
            )
        elif kind is Kind.STALE:
            params = dict(self.routes.listing_params) if self.routes.listing_params else None
            faults.stale(fault.seconds, times=fault.times, route=self.routes.listing, params=params)
        elif kind is Kind.REVOKED:
            faults.revoke(times=fault.times)
        self.armed[kind] += 1

    def _seen(self, request: httpx.Request, rule: FaultRule | None) -> None:
        now = self.clock()
        with self._lock:
            self._windows = [w for w in self._windows if w.until > now]
            if any(now > w.answered + self.grace for w in self._windows):
                self.into_windows += 1
            if rule is not None:
                self.fired[_FIRES_AS[rule.kind]] += 1
                if rule.kind is FaultKind.THROTTLE and self.routes.announces_wait:
                    self._windows.append(_Window(now, now + rule.retry_after))
            shifting = (
                rule is None
                and self.shifts_pending > 0
                and self.routes.later_page is not None
                and self.routes.later_page(request)
            )
            if shifting:
                self.shifts_pending -= 1  # taken now: two readers at once shift once
        if not shifting:
            return
        # Outside our lock: the shift takes the simulator's own.
        done = self.shift is not None and self.shift()
        with self._lock:
            if done:
                self.fired[Kind.SHIFT] += 1
            else:
                self.shifts_pending += 1
