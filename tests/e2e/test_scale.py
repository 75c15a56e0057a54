"""Batched observation against the per-object baseline, counted (never timed).

A regression to per-object polling fails here: the batched operator must read
each platform once per resync, whatever the number of integrations, and write
nothing to Kubernetes while nothing changes.
"""

from collections import Counter
from contextlib import AbstractContextManager

import httpx
import pytest

from alertsim.grafana_oncall import GrafanaOnCallSimulator, Rate
from alertsim.kubeapi import ApiCall
from tests.support.sandbox import TOKEN, Sandbox, operator_process, ready
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

N = 5
LIST = "/api/v1/integrations/"
ONE = "/api/v1/integrations/{id}/"


def observing(sandbox: Sandbox, mode: str) -> AbstractContextManager[object]:
    """The operator in a process, observing in `mode` ("batched" or "per-object")."""
    log = sandbox.kubeconfig.parent / "operator.log"
    return operator_process(
        sandbox, log=log, ALERTSYNC_OBSERVE_MODE=mode, ALERTSYNC_POLL_INTERVAL="1"
    )


def steady_counts(sandbox: Sandbox, mode: str) -> tuple[int, int, int]:
    """(listings, single GETs, integrations whose object was written) over 3 cycles."""
    sandbox.apply_platform(resync="1s")
    names = [f"i{n}" for n in range(N)]
    for name in names:
        sandbox.create(name, displayName=name)
    with observing(sandbox, mode):
        for name in names:
            sandbox.wait_ready(name, timeout=30)
        requests = sandbox.oncall.requests
        # Start counting after two more ticks: a listing begun before the last
        # create finished is stale and rightly costs a confirming GET.
        settled = requests.count("GET", LIST) + 2, requests.count("GET", ONE) + 2 * N
        wait_for(
            lambda: (
                requests.count("GET", LIST) >= settled[0]
                or requests.count("GET", ONE) >= settled[1]
            ),
            timeout=15,
        )
        versions = {n: sandbox.get(n)["metadata"]["resourceVersion"] for n in names}  # type: ignore[index]
        lists, gets = requests.count("GET", LIST), requests.count("GET", ONE)
        checks = requests.count("GET", LIST) + 3 if mode == "batched" else None
        # Three resync cycles: counted by the listings (batched) or by the timers.
        if checks is not None:
            wait_for(lambda: requests.count("GET", LIST) >= checks, timeout=15)
        else:
            wait_for(lambda: requests.count("GET", ONE) >= gets + 3 * N, timeout=15)
        written = sum(
            sandbox.get(n)["metadata"]["resourceVersion"] != versions[n]  # type: ignore[index]
            for n in names
        )
        return requests.count("GET", LIST) - lists, requests.count("GET", ONE) - gets, written


def test_batched_mode_lists_once_per_cycle_and_writes_nothing(sandbox: Sandbox) -> None:
    listings, single_gets, written = steady_counts(sandbox, "batched")
    assert listings >= 3
    assert single_gets == 0
    assert written == 0


def test_per_object_baseline_reads_and_writes_each_integration(sandbox: Sandbox) -> None:
    _, single_gets, written = steady_counts(sandbox, "per-object")
    assert single_gets >= 3 * N
    assert written == N


def test_a_drift_storm_is_repaired_on_the_queue_with_one_read_and_one_write_each(
    sandbox: Sandbox,
) -> None:
    sandbox.apply_platform(resync="1s")
    names = ["a", "b", "c"]
    for name in names:
        sandbox.create(name, displayName=name)
    with observing(sandbox, "batched"):
        ids = [sandbox.wait_ready(name, timeout=30)["webhookId"] for name in names]
        requests = sandbox.oncall.requests
        puts, gets = requests.count("PUT"), requests.count("GET", ONE)
        for id_, name in zip(ids, names, strict=True):
            sandbox.oncall.rename(id_, f"{name} renamed")
        for name in names:
            sandbox.wait_status(name, lambda s: s["driftCount"] == 1, timeout=20)
        wait_for(
            lambda: all((sandbox.oncall.get(i) or {}).get("name") in names for i in ids),
            timeout=10,
        )
    # Found in the listing, confirmed with one read (a listing may lag), repaired with
    # one PUT each, and not read again after.
    assert requests.count("PUT") - puts == len(names)
    assert requests.count("GET", ONE) - gets == len(names)


class Counting:
    """A simulator behind a tally of the answers' status codes."""

    def __init__(self, sim: GrafanaOnCallSimulator) -> None:
        self.sim = sim
        self.statuses: Counter[int] = Counter()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        response = await self.sim.handle(request)
        self.statuses[response.status_code] += 1
        return response


def converge_on_a_rate_limited_platform(
    sandbox: Sandbox, rate: Rate, word: str, n: int, timeout: float
) -> Counting:
    """`n` integrations (`<word>0`, `<word>1`...) made on a platform that allows `rate`,
    and the batched operator run until every one is Ready."""
    counting = Counting(GrafanaOnCallSimulator(tokens={TOKEN: "admin"}, rate=rate))
    url = sandbox.serve(counting)
    sandbox.add_platform("budget", "grafana-oncall", url, {"token": TOKEN}, {"key": "token"}, "30s")
    for i in range(n):
        sandbox.create(f"{word}{i}", platform="budget", displayName=f"{word} {i}")
    with observing(sandbox, "batched"):
        for i in range(n):
            sandbox.wait_ready(f"{word}{i}", timeout=timeout)
    return counting


def test_a_mass_create_costs_one_write_each_plus_the_listing(
    sandbox: Sandbox, api_calls: set[ApiCall]
) -> None:
    n = 40
    sandbox.k8s.emu.take_audit()  # what the sandbox's set-up wrote is not counted
    counting = converge_on_a_rate_limited_platform(sandbox, Rate(300, 60.0), "mass", n, 60)
    requests = counting.sim.requests
    assert requests.count("POST") == n
    assert requests.count("GET", ONE) == 0  # no re-read after a create, no lookup by name
    # The resync's listing and, at most, one a job needed: never one per create.
    assert requests.count("GET", LIST) <= 3
    assert counting.statuses[429] == 0
    # Kubernetes: kopf's finalizer once each (no annotation of its own, no patch of
    # it made to go again), then the result, and at most a Queued notice before it.
    calls = sandbox.k8s.emu.take_audit()
    api_calls.update(calls)
    patches = Counter(
        call.subresource
        for call in calls.elements()
        if call.resource == "alertintegrations" and call.verb == "patch"
    )
    assert patches[""] == n
    assert n <= patches["status"] <= 2 * n


def test_a_mass_spec_change_costs_one_write_each_and_no_read(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1s")
    names = [f"r{i}" for i in range(6)]
    for name in names:
        sandbox.create(name, displayName=name)
    with observing(sandbox, "batched"):
        for name in names:
            sandbox.wait_ready(name, timeout=30)
        requests = sandbox.oncall.requests
        puts, gets = requests.count("PUT"), requests.count("GET", ONE)
        for name in names:
            sandbox.patch_spec(name, {"displayName": f"{name} renamed"})
        for name in names:
            sandbox.wait_status(
                name, lambda s: s.get("observedGeneration") == 2 and ready(s) == "True"
            )
    # The listing names the object; the new spec is written without reading it first.
    assert requests.count("PUT") - puts == len(names)
    assert requests.count("GET", ONE) - gets == 0


def test_a_small_budget_converges_without_a_storm_of_429s(sandbox: Sandbox) -> None:
    """The platform allows 10 requests in any 5 s, far below the default budget: each
    429 pauses the whole account until the time the platform names."""
    n = 24
    counting = converge_on_a_rate_limited_platform(sandbox, Rate(10, 5.0), "small", n, 90)
    assert len(counting.sim.integrations()) == n  # no create carried out twice
    # The requests in flight when the first 429 came, then about one per window of
    # the platform's while the account slows down to it: never one per request (the
    # operator before the account queue had more 429s than creates, most of them).
    assert counting.statuses[429] < n, counting.statuses
