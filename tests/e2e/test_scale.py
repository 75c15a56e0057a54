"""Batched observation against the per-object baseline, counted (never timed).

A regression to per-object polling fails here: the batched operator must read
each platform once per resync, whatever the number of integrations, and write
nothing to Kubernetes while nothing changes.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.sandbox import Sandbox
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

N = 5
LIST = "/api/v1/integrations/"
ONE = "/api/v1/integrations/{id}/"


@contextmanager
def operator_process(sandbox: Sandbox, mode: str, **env: str) -> Iterator[None]:
    environment = {
        **os.environ,
        "KUBECONFIG": str(sandbox.kubeconfig),
        "ALERTSYNC_OBSERVE_MODE": mode,
        "ALERTSYNC_POLL_INTERVAL": "1",
        **env,
    }
    with (sandbox.kubeconfig.parent / "operator.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "alertsync", "run", "-A", "--health", ""],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            process.terminate()
            process.wait(20)


def steady_counts(sandbox: Sandbox, mode: str) -> tuple[int, int, int]:
    """(listings, single GETs, integrations whose object was written) over 3 cycles."""
    sandbox.apply_platform(resync="1s")
    names = [f"i{n}" for n in range(N)]
    for name in names:
        sandbox.create(name, displayName=name)
    with operator_process(sandbox, mode):
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


def test_repairs_beyond_the_cycle_budget_wait_for_the_next_cycle(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1s")
    names = ["a", "b", "c"]
    for name in names:
        sandbox.create(name, displayName=name)
    with operator_process(sandbox, "batched", ALERTSYNC_MAX_REPAIRS_PER_CYCLE="1"):
        ids = [sandbox.wait_ready(name, timeout=30)["webhookId"] for name in names]
        for id_, name in zip(ids, names, strict=True):
            sandbox.oncall.rename(id_, f"{name} renamed")
        for name in names:
            sandbox.wait_status(name, lambda s: s["driftCount"] == 1, timeout=20)
    log = (sandbox.kubeconfig.parent / "operator.log").read_text()
    assert "repairs deferred to the next resync (at most 1 a cycle)" in log
