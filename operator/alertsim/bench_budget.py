"""`make bench-budget`: N integrations applied at once, under each platform's own rate limit.

For each platform (Grafana OnCall at 300 requests a minute with 429 + ``Retry-After``, iLert
at 120 a minute with a bare 429, Confluent in windows of 5 requests per 10 s announced in
``X-RateLimit-*``), and each observation mode, a fresh sandbox: the Kubernetes emulator and
that platform's simulator with its limit on and 20 ms per request. The real operator runs
as its own process with default settings (no ``spec.rateLimit``); once it has checked the
AlertPlatform, N AlertIntegrations are applied at once, as a GitOps sync would. Measured:

* time until every integration is Ready, and its ratio to the floor
  ``(N + ceil(N / page size)) / budget per second``: one write each plus one listing;
* platform requests per created integration, 429s, requests sent into a wait the platform
  announced (``Retry-After``, or ``X-RateLimit-Remaining: 0`` until ``X-RateLimit-Reset``),
  Kubernetes writes per integration (AlertIntegration status writes, and all of them);
* one drift made behind the operator's back while the creates run (once ~100 are Ready):
  the time until its ``driftCount`` goes up and the platform is repaired, and whether
  that came before the last create;
* requests per minute in a quiet window after convergence;
* a mass spec change (every displayName of min(N, 300) at once) against its floor,
  ``changed / budget per second``;
* the operator's peak RSS.

Confluent also runs once with a window that shrinks under the operator (60 per 60 s, then
5 per 10 s once it has sent some requests). Every phase has a hard time limit (a multiple
of its floor): a run that does not converge says so and the bench goes on. One table per
platform goes to stdout, every number to a JSON file; the exit status is 1 when a target of
issue 13 is missed by the default (batched) mode or a run failed.
"""

from __future__ import annotations

import abc
import argparse
import collections
import dataclasses
import json
import math
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from alertsim import confluent, grafana_oncall, ilert
from alertsim.bench import (
    INTEGRATIONS,
    MODES,
    NS,
    ROOT,
    CountingEmulator,
    Operator,
    delta,
    machine,
    new_emulator,
    ready_webhook,
    render,
    statuses,
)
from alertsim.core import ADMIN_PREFIX, Clock, Simulator
from alertsim.kubeapi import EmulatorThread, StrictEmulator
from alertsim.server import SimulatorThread

__all__ = ["PLATFORMS", "Door", "Platform", "floor_seconds", "main", "summary"]

Obj = dict[str, Any]
PLATFORM_NAME = "budget"
# Where Confluent integrations point: never called (no delivery test is asked for).
RECEIVER = "https://alerts.example.com/alertsync-bench"
APPLY_CHUNK = 200  # integrations created per call into the emulator's loop
POLL_SECONDS = 0.5
READY_TIMEOUT = 60.0  # for the operator's first check of the AlertPlatform
# Requests that arrive this soon after the announcement were under way when it was sent:
# not the client's fault (the same grace as `make chaos`).
GRACE_SECONDS = 0.25
# The window the shrinking run starts with (Confluent's simulator's default).
SHRINK_FROM = (60, 60.0)


# -- the platforms -----------------------------------------------------------------------


class Side(abc.ABC):
    """One platform simulator, and what the bench does to it behind the operator's back."""

    sim: Simulator

    @abc.abstractmethod
    def name_of(self, object_id: str) -> str | None:
        """The object's name on the platform (``None``: it does not exist)."""

    @abc.abstractmethod
    def rename(self, object_id: str, name: str) -> None: ...

    def rate_limited(self) -> int | None:
        """429s the simulator's own limiter answered, where it counts them."""
        return None

    def set_rate(self, limit: int, window: float) -> None:
        raise NotImplementedError(f"{type(self).__name__} has a fixed rate")


class _OnCall(Side):
    def __init__(self, token: str, limit: int, window: float) -> None:
        rate = grafana_oncall.Rate(limit, window)
        self.sim = self.oncall = grafana_oncall.GrafanaOnCallSimulator(
            tokens={token: "admin"}, rate=rate
        )

    def name_of(self, object_id: str) -> str | None:
        found = self.oncall.get(object_id)
        return str(found["name"]) if found else None

    def rename(self, object_id: str, name: str) -> None:
        self.oncall.rename(object_id, name)


class _ILert(Side):
    def __init__(self, key: str, limit: int, window: float) -> None:
        rate = ilert.Rate(limit, window)
        self.sim = self.ilert = ilert.ILertSimulator(keys={key: "admin"}, rate=rate)

    def name_of(self, object_id: str) -> str | None:
        found = self.ilert.alert_source(object_id)
        return str(found["name"]) if found else None

    def rename(self, object_id: str, name: str) -> None:
        self.ilert.rename(object_id, name)

    def rate_limited(self) -> int:
        return self.ilert.rate_limited


class _Confluent(Side):
    def __init__(self, key: str, secret: str, limit: int, window: float) -> None:
        self.sim = self.confluent = confluent.ConfluentSimulator(
            keys={key: confluent.ApiKey(secret)}, rate=confluent.Rate(limit, window)
        )

    def name_of(self, object_id: str) -> str | None:
        found = self.confluent.get(object_id)
        return str(found["display_name"]) if found else None

    def rename(self, object_id: str, name: str) -> None:
        self.confluent.rename(object_id, name[:64])  # its display_name limit

    def rate_limited(self) -> int:
        return self.confluent.rate_limited

    def set_rate(self, limit: int, window: float) -> None:
        self.confluent.set_rate(confluent.Rate(limit, window))


@dataclasses.dataclass(frozen=True)
class Platform:
    """What the bench needs of one platform: its limit, listing page, spec and simulator."""

    product: str
    limit: int  # requests per window, the platform's own
    window: float  # seconds
    page: int  # the largest page of its listing
    default_n: int
    secret: Mapping[str, str]
    credentials: Mapping[str, str]  # credentialsSecretRef's key names
    spec: Callable[[str], Obj]  # the integration's spec (platformRef aside) for a displayName
    side: Callable[[int, float], Side]  # a fresh simulator with this limit and window

    @property
    def budget(self) -> float:
        """Requests per second."""
        return self.limit / self.window


def _oncall() -> Platform:
    token = "bench-budget-oncall-token"
    rate = grafana_oncall.Rate()  # the simulator's default: OnCall's 300 a minute per user
    return Platform(
        product="grafana-oncall",
        limit=rate.limit,
        window=rate.window,
        page=100,
        default_n=1000,
        secret={"token": token},
        credentials={"key": "token"},
        spec=lambda display: {"displayName": display},
        side=lambda limit, window: _OnCall(token, limit, window),
    )


def _ilert() -> Platform:
    key = "bench-budget-ilert-key"
    rate = ilert.Rate()  # 120 a minute per key
    return Platform(
        product="ilert",
        limit=rate.limit,
        window=rate.window,
        page=50,
        default_n=300,
        secret={"token": key},
        credentials={"key": "token"},
        spec=lambda display: {
            "displayName": display,
            "ilert": {"integrationType": "PROMETHEUS", "escalationPolicyId": 1},
        },
        side=lambda limit, window: _ILert(key, limit, window),
    )


def _confluent() -> Platform:
    key, secret = "BENCHBUDGETKEY", "bench-budget-confluent-secret"
    return Platform(
        product="confluent",
        limit=5,
        window=10.0,
        page=confluent.PAGE_SIZE_MAX,  # page_size up to 250
        default_n=50,
        secret={"apiKey": key, "apiSecret": secret},
        credentials={"key": "apiSecret", "usernameKey": "apiKey"},
        spec=lambda display: {
            "displayName": display,
            "webhook": {"url": RECEIVER},
            "confluent": {"targetKind": "Webhook"},
        },
        side=lambda limit, window: _Confluent(key, secret, limit, window),
    )


PLATFORMS: Mapping[str, Platform] = {p.product: p for p in (_oncall(), _ilert(), _confluent())}


def floor_seconds(writes: int, pages: int, budget: float) -> float:
    """The fastest the work can be done without exceeding the budget (requests/second)."""
    return (writes + pages) / budget


# -- counting at the platform's door ------------------------------------------------------


@dataclasses.dataclass
class _Wait:
    announced: float
    until: float


class Door:
    """Serves a simulator and counts what passes: answers by status, and requests sent into
    a wait the platform announced.

    A wait is announced by a 429's ``Retry-After``, or by ``X-RateLimit-Remaining: 0``
    with ``X-RateLimit-Reset`` (relative seconds), on any answer. A request arriving
    inside such a wait more than ``grace`` seconds after the answer left is counted in
    ``into_wait`` (one already under way when it was sent is not the client's fault);
    ``into_wait_refused`` counts those the platform refused (429), and ``most_early``
    is the longest any came before its wait's announced end. Announced waits are whole
    seconds (rounded up), so a request up to a second early may find the window already
    open: the announcement still said to wait.
    """

    def __init__(
        self, sim: Simulator, *, grace: float = GRACE_SECONDS, clock: Clock = time.monotonic
    ):
        self.sim = sim
        self.grace = grace
        self._clock = clock
        self._lock = threading.Lock()
        self._statuses: collections.Counter[str] = collections.Counter()
        self._into_wait = 0
        self._into_wait_refused = 0
        self._most_early = 0.0
        self._announced = 0
        self._requests = 0
        self._waits: list[_Wait] = []
        self._actions: list[tuple[int, Callable[[], None]]] = []

    def after(self, requests: int, action: Callable[[], None]) -> None:
        """Run ``action`` once, just before the request that follows the first ``requests``."""
        with self._lock:
            self._actions.append((requests, action))

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    def snapshot(self) -> Obj:
        """What was counted so far: ``statuses`` (by code, as strings), ``into_wait``,
        ``into_wait_refused``, ``most_early`` (seconds), ``announced`` (answers that
        announced a wait) and ``requests``."""
        with self._lock:
            return {
                "statuses": dict(self._statuses),
                "into_wait": self._into_wait,
                "into_wait_refused": self._into_wait_refused,
                "most_early": self._most_early,
                "announced": self._announced,
                "requests": self._requests,
            }

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == ADMIN_PREFIX or path.startswith(f"{ADMIN_PREFIX}/"):
            return await self.sim.handle(request)
        arrived = self._clock()
        with self._lock:
            self._requests += 1
            due = [action for after, action in self._actions if self._requests > after]
            self._actions = [(a, f) for a, f in self._actions if self._requests <= a]
            self._waits = [w for w in self._waits if w.until > arrived]
            ignored = [w.until - arrived for w in self._waits if arrived > w.announced + self.grace]
            if ignored:
                self._into_wait += 1
                self._most_early = max(self._most_early, *ignored)
        for action in due:
            action()
        try:
            response = await self.sim.handle(request)
        except Exception:
            with self._lock:
                self._statuses["no answer"] += 1
            raise
        answered = self._clock()
        wait = _announced_wait(response)
        with self._lock:
            self._statuses[str(response.status_code)] += 1
            if ignored and response.status_code == 429:
                self._into_wait_refused += 1
            if wait is not None:
                self._announced += 1
                self._waits.append(_Wait(answered, answered + wait))
        return response


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: none of these simulators sends one


def _announced_wait(response: httpx.Response) -> float | None:
    """Seconds the answer says no request may come, if it says so."""
    headers = response.headers
    waits = []
    if response.status_code == 429 and (retry := _seconds(headers.get("retry-after"))):
        waits.append(retry)
    if headers.get("x-ratelimit-remaining") == "0":
        reset = _seconds(headers.get("x-ratelimit-reset"))
        if reset:
            waits.append(reset)
    return max(waits) if waits else None


# -- what a run measures ------------------------------------------------------------------


def _writes_to(writes: Mapping[str, int], *, status: bool) -> int:
    """AlertIntegration writes (keys as ``"PATCH alertintegrations/status"``): to the
    status subresource only, or all of them."""
    total = 0
    for key, count in writes.items():
        resource = key.split(" ", 1)[1]
        if resource == f"{INTEGRATIONS}/status" or (
            not status and resource.split("/", 1)[0] == INTEGRATIONS
        ):
            total += count
    return total


def summary(count: int, requests: Mapping[str, int], door: Obj, writes: Mapping[str, int]) -> Obj:
    """The per-integration figures of one phase, from its counts (deltas over the phase):
    platform ``requests`` by route, the :class:`Door`'s snapshot delta, Kubernetes
    ``writes`` by verb and resource, for ``count`` integrations."""
    total = sum(requests.values())
    answers = door["statuses"]
    throttled = int(answers.get("429", 0))
    status_writes = _writes_to(writes, status=True)
    all_writes = _writes_to(writes, status=False)
    return {
        "platform_requests": total,
        "requests_by_route": dict(requests),
        "requests_per_integration": total / count if count else None,
        "answers_by_status": dict(answers),
        "status_429": throttled,
        "share_429": throttled / total if total else 0.0,
        "into_announced_wait": door["into_wait"],
        "into_announced_wait_refused": door["into_wait_refused"],
        "announced_waits": door["announced"],
        "status_writes_per_integration": status_writes / count if count else None,
        "integration_writes_per_integration": all_writes / count if count else None,
        "k8s_writes": dict(writes),
    }


def _door_delta(before: Obj, after: Obj) -> Obj:
    return {
        "statuses": delta(before["statuses"], after["statuses"]),
        "into_wait": after["into_wait"] - before["into_wait"],
        "into_wait_refused": after["into_wait_refused"] - before["into_wait_refused"],
        "announced": after["announced"] - before["announced"],
    }


@dataclasses.dataclass
class _Counts:
    requests: dict[str, int]
    door: Obj
    writes: dict[str, int]
    at: float


@dataclasses.dataclass
class _Run:
    """One sandbox and one operator process: what the phases share."""

    platform: Platform
    side: Side
    door: Door
    k8s: EmulatorThread
    emulator: CountingEmulator
    operator: Operator
    names: list[str]
    args: argparse.Namespace

    def counts(self) -> _Counts:
        writes = self.k8s.call(lambda: dict(self.emulator.writes))
        requests = self.side.sim.requests.snapshot()
        return _Counts(requests, self.door.snapshot(), writes, time.monotonic())

    def since(self, before: _Counts, count: int) -> Obj:
        after = self.counts()
        return summary(
            count,
            delta(before.requests, after.requests),
            _door_delta(before.door, after.door),
            delta(before.writes, after.writes),
        )

    def pick(self, names: Sequence[str], how: Callable[[Obj], Any]) -> dict[str, Any]:
        return self.k8s.call(statuses, self.emulator, names, how)

    def timeout(self, floor: float) -> float:
        if self.args.timeout is not None:
            return float(self.args.timeout)
        return float(max(self.args.min_timeout, self.args.timeout_factor * floor))

    def display(self, name: str, generation: int = 1) -> str:
        number = name.removeprefix("bench-")
        return f"budget {number}" if generation == 1 else f"budget {number} renamed"


def _drift_count(status: Obj) -> int:
    return int(status.get("driftCount") or 0)


def _generation_ready(status: Obj) -> tuple[int, bool, str | None]:
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return int(status.get("observedGeneration") or 0), ready, status.get("webhookId")


def _apply(emu: StrictEmulator, bodies: Sequence[Obj]) -> None:
    for body in bodies:
        emu.create_object(INTEGRATIONS, body, namespace=NS)


def _change(emu: StrictEmulator, displays: Mapping[str, str]) -> dict[str, int]:
    """Set each integration's displayName; its new generation, by name."""
    generations = {}
    for name, display in displays.items():
        changed = emu.update_object(
            INTEGRATIONS, name, {"spec": {"displayName": display}}, namespace=NS
        )
        generations[name] = int(changed["metadata"]["generation"])
    return generations


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _wait_for_platform_check(run: _Run) -> float | None:
    """Seconds until the operator has checked the AlertPlatform (``None``: not in time)."""
    started = time.monotonic()
    while time.monotonic() < started + READY_TIMEOUT and run.operator.alive():
        found = run.k8s.read_object("alertplatforms", PLATFORM_NAME, namespace=NS) or {}
        status = found.get("status") or {}
        if status.get("lastCheckAt") or status.get("conditions"):
            return time.monotonic() - started
        time.sleep(0.2)
    return None


class _Repair(NamedTuple):
    at: float
    pending: int  # creates still pending then


@dataclasses.dataclass
class _Drift:
    name: str
    webhook: str
    display: str
    counted_before: int
    at: float
    during_creates: bool
    # Both values of the moment it was seen repaired, or none.
    repair: _Repair | None = None


def _start_drift(run: _Run, name: str, webhook: str, during: bool) -> _Drift:
    before = run.pick([name], _drift_count)[name]
    drift = _Drift(name, webhook, run.display(name), before, time.monotonic(), during)
    run.side.rename(webhook, f"renamed by hand {name}")
    return drift


def _check_drift(run: _Run, drift: _Drift, pending: int) -> None:
    if drift.repair is not None:
        return
    counted = run.pick([drift.name], _drift_count)[drift.name]
    if counted > drift.counted_before and run.side.name_of(drift.webhook) == drift.display:
        drift.repair = _Repair(time.monotonic(), pending)


def _converge(
    run: _Run, applied: float, deadline: float, drift_after: int | None
) -> tuple[Obj, _Drift | None]:
    """Until every integration has been Ready (with its webhookId); once ``drift_after``
    are, one drift behind the operator's back on the first that was."""
    pending, ready = list(run.names), 0
    first_ready: str | None = None
    webhooks: dict[str, str] = {}
    drift: _Drift | None = None
    while pending and time.monotonic() < deadline and run.operator.alive():
        found = run.pick(pending, ready_webhook)
        webhooks |= {n: w for n, w in found.items() if w}
        pending = [name for name, webhook in found.items() if webhook is None]
        ready = len(run.names) - len(pending)
        if first_ready is None and webhooks:
            first_ready = min(webhooks)
        due = drift_after is not None and ready >= drift_after
        if drift is None and first_ready is not None and due and pending:
            drift = _start_drift(run, first_ready, webhooks[first_ready], during=True)
        if drift is not None:
            _check_drift(run, drift, len(pending))
        if pending:
            time.sleep(POLL_SECONDS)
    done = time.monotonic()
    out: Obj = {
        "converge_seconds": done - applied if not pending else None,
        "converged_fraction": ready / len(run.names),
        "converge_deadline_seconds": deadline - applied,
    }
    return out, drift


def _finish_drift(
    run: _Run, drift: _Drift | None, applied: float, creates_done: float | None
) -> Obj:
    """Wait for the drift's repair (up to its own limit), and say how it went."""
    if drift is None and creates_done is not None:
        # The creates were done before enough were Ready: drift one now, after them.
        name = run.names[0]
        webhook = run.pick([name], ready_webhook)[name]
        drift = _start_drift(run, name, webhook, during=False) if webhook else None
    if drift is None:
        return {"drift_repair_seconds": None, "drift_during_creates": None}
    # Three intervals from the drift, and at least two more after the creates.
    interval = run.args.interval
    limit = max(drift.at + max(3.0 * interval, 30.0), time.monotonic() + 2.0 * interval)
    while drift.repair is None and time.monotonic() < limit and run.operator.alive():
        _check_drift(run, drift, 0)
        time.sleep(0.2)
    repaired = drift.repair.at if drift.repair is not None else None
    before_done = None
    if drift.during_creates:  # never repaired is not before
        before_done = repaired is not None and (creates_done is None or repaired < creates_done)
    return {
        "drift_name": drift.name,
        "drift_during_creates": drift.during_creates,
        "drift_made_at_seconds": drift.at - applied,
        "drift_repair_seconds": repaired - drift.at if repaired is not None else None,
        # How long it was watched: from the drift to its repair, or to giving up.
        "drift_watched_seconds": (repaired or time.monotonic()) - drift.at,
        "drift_repaired_before_creates_finished": before_done,
        "drift_pending_creates_at_repair": drift.repair.pending if drift.repair else None,
    }


def _quiet(run: _Run) -> Obj:
    """Requests and writes in a window after convergence where nothing changes."""
    before = run.counts()
    time.sleep(run.args.quiet)
    seconds = time.monotonic() - before.at
    counted = run.since(before, len(run.names))
    requests = counted["platform_requests"]
    return {
        "quiet_seconds": seconds,
        "quiet_requests": requests,
        "quiet_requests_per_minute": requests * 60 / seconds,
        "quiet_requests_per_interval": requests * run.args.interval / seconds,
        "quiet_pages_expected": math.ceil(len(run.names) / run.platform.page),
        "quiet_requests_by_route": counted["requests_by_route"],
        "quiet_integration_writes": _writes_to(counted["k8s_writes"], status=False),
    }


def _spec_change(run: _Run, budget: float) -> Obj:
    """Every displayName of the first min(N, --spec-changes) changed at once."""
    chosen = run.names[: min(len(run.names), run.args.spec_changes)]
    floor = floor_seconds(len(chosen), 0, budget)
    before = run.counts()
    started = time.monotonic()
    generations: dict[str, int] = {}
    for chunk in _chunks(chosen, APPLY_CHUNK):
        displays = {name: run.display(name, 2) for name in chunk}
        generations |= run.k8s.call(_change, run.emulator, displays)
    deadline = started + run.timeout(floor)

    def done(name: str, observed: int, ready: bool, webhook: str | None) -> bool:
        """Ready for the new generation, and so on the platform (the status could lie)."""
        return (
            ready
            and observed >= generations[name]
            and webhook is not None
            and run.side.name_of(webhook) == run.display(name, 2)
        )

    pending = list(chosen)
    while pending and time.monotonic() < deadline and run.operator.alive():
        found = run.pick(pending, _generation_ready)
        pending = [name for name, seen in found.items() if not done(name, *seen)]
        if pending:
            time.sleep(POLL_SECONDS)
    finished = time.monotonic()
    counted = run.since(before, len(chosen))
    seconds = finished - started if not pending else None
    return {
        "spec_changes": len(chosen),
        "spec_floor_seconds": floor,
        "spec_converge_seconds": seconds,
        "spec_deadline_seconds": deadline - started,
        "spec_ratio": seconds / floor if seconds is not None else None,
        "spec_converged_fraction": 1 - len(pending) / len(chosen),
        **{f"spec_{key}": value for key, value in counted.items()},
    }


def run_one(
    platform: Platform, mode: str, args: argparse.Namespace, work: Path, *, shrink: bool = False
) -> Obj:
    """One fresh sandbox, one operator process, every phase of one (platform, mode)."""
    limit, window = args.limit or platform.limit, args.window or platform.window
    budget = limit / window
    # The shrinking run starts with a looser window and drops to the platform's later.
    side = platform.side(*SHRINK_FROM) if shrink else platform.side(limit, window)
    side.sim.faults.latency = args.latency / 1000
    door = Door(side.sim, grace=args.grace)
    n = args.n or platform.default_n
    names = [f"bench-{i:05d}" for i in range(1, n + 1)]
    floor = floor_seconds(n, math.ceil(n / platform.page), budget)
    label = f"{platform.product}-{mode}" + ("-shrink" if shrink else "")
    result: Obj = {
        "platform": platform.product,
        "mode": mode,
        "shrinking_window": shrink,
        "n": n,
        "limit": limit,
        "window_seconds": window,
        "page_size": platform.page,
        "floor_seconds": floor,
        # The window lets its first `limit` requests through at once: below this no run can go.
        "burst_floor_seconds": max(0, n + math.ceil(n / platform.page) - limit) / budget,
        "interval_seconds": args.interval,
        "failures": [],
    }
    emulator = new_emulator()
    with SimulatorThread(door) as url, EmulatorThread(emulator) as k8s:
        _load_platform(k8s, platform, url, args.interval)
        kubeconfig = k8s.write_kubeconfig(work / f"bench-budget-kubeconfig-{label}")
        log = work / f"bench-budget-{label}.log"
        with Operator(kubeconfig, log, mode=mode, interval=args.interval) as operator:
            run = _Run(platform, side, door, k8s, emulator, operator, names, args)
            result["platform_check_seconds"] = _wait_for_platform_check(run)
            if result["platform_check_seconds"] is None:
                result["failures"].append("the operator did not check the AlertPlatform in time")
            try:
                result |= _measure(run, floor, budget, shrink, result["failures"])
            except Exception as exc:  # a bug here must not lose the other runs' numbers
                traceback.print_exc()
                result["failures"].append(f"the bench failed: {exc!r}")
            # Read just before stopping: /proc/<pid> goes away with the process.
            result["cpu_seconds"], result["peak_rss_mib"] = operator.usage()
            alive = operator.alive()
        result["stop_seconds"], result["exit_code"] = operator.stop_seconds, operator.exit_code
        if not alive:
            result["failures"].append(f"the operator exited early ({operator.exit_code})")
        result["simulator_rate_limited"] = side.rate_limited()
        # Over the whole run: how far before an announced end a request came, at most.
        result["into_announced_wait_most_early_seconds"] = door.snapshot()["most_early"]
        result["log"] = str(log)
    return result


def _measure(run: _Run, floor: float, budget: float, shrink: bool, failures: list[str]) -> Obj:
    """Apply N at once, then each phase in turn; a phase that fails ends the run."""
    out: Obj = {}
    before = run.counts()
    drift_after: int | None = min(run.args.drift_after, max(1, len(run.names) // 10))
    shrunk: list[float] = []
    if shrink:
        # No drift here: the run is about the window. It shrinks a few requests in, early
        # enough that most of the work is still to do.
        drift_after = None
        strict = (run.args.limit or run.platform.limit, run.args.window or run.platform.window)
        after = min(run.args.shrink_after, max(1, len(run.names) // 5))

        def shrink_now() -> None:
            run.side.set_rate(*strict)
            shrunk.append(time.monotonic())

        run.door.after(run.door.requests + after, shrink_now)
        out["shrink_after_requests"] = after
    bodies = [
        {
            "metadata": {"name": name},
            "spec": {
                "platformRef": {"name": PLATFORM_NAME},
                **run.platform.spec(run.display(name)),
            },
        }
        for name in run.names
    ]
    applied = time.monotonic()
    for chunk in _chunks(bodies, APPLY_CHUNK):
        run.k8s.call(_apply, run.emulator, chunk)
    converged, drift = _converge(run, applied, applied + run.timeout(floor), drift_after)
    out |= converged | run.since(before, len(run.names))
    seconds = out["converge_seconds"]
    # The shrinking run spends part of its time under the looser window: no floor to meet.
    out["ratio"] = seconds / floor if seconds is not None and not shrink else None
    if seconds is None:
        failures.append(
            f"did not converge in {out['converge_deadline_seconds']:.0f} s "
            f"({out['converged_fraction']:.0%} Ready)"
        )
    if shrink:
        ended = applied + seconds if seconds is not None else math.inf
        out["shrank_after_seconds"] = shrunk[0] - applied if shrunk else None
        out["shrank_before_converged"] = bool(shrunk) and shrunk[0] < ended
        if not out["shrank_before_converged"]:
            failures.append("the window did not shrink before the creates were done")
        return out
    out |= _finish_drift(run, drift, applied, applied + seconds if seconds is not None else None)
    if seconds is None:
        return out  # no quiet window or spec change to measure after a failure
    out |= _quiet(run)
    out |= _spec_change(run, budget)
    if out["spec_converge_seconds"] is None:
        failures.append(
            f"the spec change did not converge in {out['spec_deadline_seconds']:.0f} s "
            f"({out['spec_converged_fraction']:.0%})"
        )
    return out


def _load_platform(k8s: EmulatorThread, platform: Platform, url: str, interval: int) -> None:
    """The Secret and the AlertPlatform: default settings, no spec.rateLimit."""
    secret = {"metadata": {"name": "budget-credentials"}, "stringData": dict(platform.secret)}
    k8s.create_object("secrets", secret, namespace=NS)
    spec: Obj = {
        "productType": platform.product,
        "url": url,
        "credentialsSecretRef": {"name": "budget-credentials", **platform.credentials},
        "resyncInterval": f"{interval}s",
    }
    body = {"metadata": {"name": PLATFORM_NAME}, "spec": spec}
    k8s.create_object("alertplatforms", body, namespace=NS)


# -- the targets of issue 13, the table, the command line ---------------------------------


def checks(result: Obj) -> list[tuple[str, bool | None]]:
    """The issue's targets for one batched run: (what, held); ``None``: not measured."""
    product, n, interval = result["platform"], result["n"], result["interval_seconds"]

    def at_most(value: Any, bound: float) -> bool | None:
        return None if value is None else bool(value <= bound)

    if result["shrinking_window"]:
        return [
            ("the window shrank while the creates ran", result.get("shrank_before_converged")),
            ("converged while the window shrank", result.get("converge_seconds") is not None),
            (
                "no request into a window announced as spent",
                at_most(result.get("into_announced_wait"), 0),
            ),
        ]
    found: list[tuple[str, bool | None]] = [
        ("converged within 1.25x the floor", at_most(result.get("ratio"), 1.25)),
        ("spec change within 1.25x its floor", at_most(result.get("spec_ratio"), 1.25)),
    ]
    # Meaningful only where the creates ran on long enough after the drift to repair it
    # (one interval plus the queue's wait): at scale, not for a small N.
    creates = result.get("converge_seconds")
    made = result.get("drift_made_at_seconds")
    long_enough = creates is None or (made is not None and creates - made >= 2 * interval)
    if result.get("drift_during_creates") and long_enough:
        found.append(
            (
                "drift repaired before the creates finished",
                result.get("drift_repaired_before_creates_finished"),
            )
        )
    if product == "grafana-oncall":
        found += [
            ("429s <= 1% of requests", at_most(result.get("share_429"), 0.01)),
            ("<= 1.1 requests per created", at_most(result.get("requests_per_integration"), 1.1)),
            (
                "<= 3 AlertIntegration writes per created",
                at_most(result.get("integration_writes_per_integration"), 3),
            ),
            (
                "quiet: <= ceil(N/100) requests per interval",
                at_most(result.get("quiet_requests_per_interval"), math.ceil(n / 100)),
            ),
        ]
    if product == "ilert":
        found.append(("no 429", at_most(result.get("status_429"), 0)))
    if product == "confluent":
        found.append(
            (
                "no request into a window announced as spent",
                at_most(result.get("into_announced_wait"), 0),
            )
        )
    if n >= 10_000:
        found.append(("peak RSS <= 300 MiB", at_most(result.get("peak_rss_mib"), 300)))
    return found


def _num(fmt: str) -> Callable[[Obj, str], str]:
    def cell(result: Obj, key: str) -> str:
        value = result.get(key)
        return fmt.format(value) if isinstance(value, int | float) else "-"

    return cell


_DEADLINES = {  # a time, when it ran out: its limit, and what to say
    "converge_seconds": ("converge_deadline_seconds", "did not converge"),
    "spec_converge_seconds": ("spec_deadline_seconds", "did not converge"),
    "drift_repair_seconds": ("drift_watched_seconds", "not repaired"),
}


def _converge_cell(result: Obj, key: str) -> str:
    if result.get(key) is not None:
        return f"{result[key]:.1f}"
    limit, words = _DEADLINES[key]
    deadline = result.get(limit)
    return f"{words} in {deadline:.0f} s" if deadline is not None else "-"


def _limit_cell(result: Obj, _: str) -> str:
    limit = f"{result['limit']}/{result['window_seconds']:g}"
    loose = "{}/{:g}".format(*SHRINK_FROM)
    return f"{loose} then {limit}" if result["shrinking_window"] else limit


_2f = _num("{:.2f}")


def _yes_no(result: Obj, key: str) -> str:
    value = result.get(key)
    return "-" if value is None else ("yes" if value else "no")


ROWS: tuple[tuple[str, str, Callable[[Obj, str], str]], ...] = (
    ("integrations applied at once", "n", _num("{:d}")),
    ("platform limit (requests / window s)", "limit", _limit_cell),
    ("floor (s)", "floor_seconds", _num("{:.1f}")),
    ("floor less the window's first burst (s)", "burst_floor_seconds", _num("{:.1f}")),
    ("time to converge (s)", "converge_seconds", _converge_cell),
    ("ratio to the floor", "ratio", _num("{:.2f}")),
    ("converged", "converged_fraction", _num("{:.1%}")),
    ("platform requests while converging", "platform_requests", _num("{:d}")),
    ("platform requests / created", "requests_per_integration", _num("{:.2f}")),
    ("429 answers", "status_429", _num("{:d}")),
    ("429 share of requests", "share_429", _num("{:.1%}")),
    ("429s the simulator's limiter counted", "simulator_rate_limited", _num("{:d}")),
    ("requests sent into an announced wait", "into_announced_wait", _num("{:d}")),
    ("  of them refused (429)", "into_announced_wait_refused", _num("{:d}")),
    ("  most early before its end (s)", "into_announced_wait_most_early_seconds", _num("{:.2f}")),
    ("k8s status writes / integration", "status_writes_per_integration", _num("{:.2f}")),
    ("k8s AlertIntegration writes / integration", "integration_writes_per_integration", _2f),
    ("drift made while the creates ran", "drift_during_creates", _yes_no),
    ("drift repair (s)", "drift_repair_seconds", _converge_cell),
    ("drift repaired before the creates ended", "drift_repaired_before_creates_finished", _yes_no),
    ("quiet window: platform requests / min", "quiet_requests_per_minute", _num("{:.1f}")),
    ("quiet window: requests / interval", "quiet_requests_per_interval", _num("{:.1f}")),
    ("quiet window: listing pages expected", "quiet_pages_expected", _num("{:d}")),
    ("spec change: integrations", "spec_changes", _num("{:d}")),
    ("spec change: floor (s)", "spec_floor_seconds", _num("{:.1f}")),
    ("spec change: time to converge (s)", "spec_converge_seconds", _converge_cell),
    ("spec change: ratio to the floor", "spec_ratio", _num("{:.2f}")),
    ("spec change: requests / changed", "spec_requests_per_integration", _num("{:.2f}")),
    ("spec change: 429 answers", "spec_status_429", _num("{:d}")),
    ("operator peak RSS (MiB)", "peak_rss_mib", _num("{:.0f}")),
    ("operator CPU seconds", "cpu_seconds", _num("{:.1f}")),
)  # fmt: skip


def table(runs: Mapping[str, Obj]) -> str:
    """One column per run of one platform."""
    header = ["metric", *runs]
    lines = [[label, *(cell(r, key) for r in runs.values())] for label, key, cell in ROWS]
    return render(header, lines)


def _column(result: Obj) -> str:
    return f"{result['mode']}, window shrinks" if result["shrinking_window"] else result["mode"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m alertsim.bench_budget", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--platforms", default=",".join(PLATFORMS), help="comma-separated")
    parser.add_argument("--n", type=int, help="integrations (default: 1000, 300, 50)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated")
    parser.add_argument("--limit", type=int, help="requests per window, instead of the platform's")
    parser.add_argument(
        "--window", type=float, help="the window, seconds, instead of the platform's"
    )
    parser.add_argument("--interval", type=int, default=10, help="resyncInterval, seconds")
    parser.add_argument("--latency", type=float, default=20.0, help="per request, ms")
    parser.add_argument("--quiet", type=float, default=30.0, help="quiet window, seconds")
    parser.add_argument("--spec-changes", type=int, default=300, help="at most this many")
    parser.add_argument("--drift-after", type=int, default=100, help="Ready ones (or N/10)")
    parser.add_argument("--shrink-after", type=int, default=10, help="requests (or N/5)")
    parser.add_argument("--no-shrink", action="store_true", help="skip Confluent's shrink run")
    parser.add_argument("--grace", type=float, default=GRACE_SECONDS, help="seconds")
    parser.add_argument("--timeout", type=float, help="per phase, seconds (default: by floor)")
    parser.add_argument("--timeout-factor", type=float, default=3.0, help="x the phase's floor")
    parser.add_argument("--min-timeout", type=float, default=60.0, help="seconds")
    parser.add_argument("--json", type=Path, default=ROOT / ".sandbox" / "bench-budget.json")
    args = parser.parse_args(argv)
    platforms, modes = args.platforms.split(","), args.modes.split(",")
    if set(platforms) - set(PLATFORMS):
        parser.error(f"--platforms: a comma-separated list of {', '.join(PLATFORMS)}")
    if set(modes) - set(MODES):
        parser.error(f"--modes: a comma-separated list of {', '.join(MODES)}")
    numbers = (args.n, args.limit, args.interval, args.spec_changes, args.drift_after)
    if any(value is not None and value < 1 for value in numbers):
        parser.error("--n, --limit, --interval, --spec-changes and --drift-after must be >= 1")
    if args.window is not None and args.window <= 0:
        parser.error("--window must be positive")
    args.platforms, args.modes = platforms, modes
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    taken = machine()  # before the runs: the date they started, the source they ran
    began = time.monotonic()
    results: dict[str, dict[str, Obj]] = {}
    for product in args.platforms:
        platform = PLATFORMS[product]
        runs = results.setdefault(product, {})
        for mode in args.modes:
            print(f"{product}, {mode}...", flush=True)
            runs[mode] = run_one(platform, mode, args, args.json.parent)
        if product == "confluent" and not args.no_shrink:
            print(f"{product}, batched, window shrinking...", flush=True)
            runs["batched-shrink"] = run_one(
                platform, "batched", args, args.json.parent, shrink=True
            )
    print(
        f"resyncInterval={args.interval}s, latency={args.latency:g} ms, quiet window "
        f"{args.quiet:g} s, default settings (no spec.rateLimit)"
    )
    failed = False
    verdicts: dict[str, dict[str, list[Obj]]] = {}
    for product, runs in results.items():
        print(f"\n{product}")
        print(table({_column(r): r for r in runs.values()}))
        for key, result in runs.items():
            for failure in result["failures"]:
                print(f"  {_column(result)}: FAILED: {failure}")
                failed = failed or result["mode"] == "batched"
            if result["mode"] != "batched":
                continue  # per-object polling is the comparison, not held to the targets
            held = checks(result)
            verdicts.setdefault(product, {})[key] = [{"target": t, "held": h} for t, h in held]
            for target, ok in held:
                word = "n/a " if ok is None else ("PASS" if ok else "FAIL")
                print(f"  {word} {_column(result)}: {target}")
                failed = failed or ok is False
    parameters = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    report: Obj = {"parameters": parameters, "machine": taken, "runs": results}
    report |= {"targets": verdicts, "run_seconds": time.monotonic() - began}
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nrun time {report['run_seconds']:.0f} s; raw numbers in {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
