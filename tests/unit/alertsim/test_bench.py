"""`make bench` and `make bench-budget` on a small N: counted, not timed.

A regression to per-object polling shows here as platform requests or AlertIntegration
writes per quiet cycle that grow with N, whatever the machine's speed. The budget mode's
counting (answers by status, requests into an announced wait, writes per integration) is
checked on its own against the simulators in process, then once with the real operator.
"""

import base64
import json
import math
from pathlib import Path

import httpx
import pytest

from alertsim import bench_budget, confluent, grafana_oncall, ilert
from alertsim.bench import main
from alertsim.bench_budget import PLATFORMS, Door, floor_seconds, summary
from alertsim.core import ManualClock


# It runs the real operator as a subprocess, like the end-to-end tests.
@pytest.mark.e2e
def test_small_bench_is_quiet_and_repairs_every_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    argv = ["--n", "5", "--interval", "1", "--drifts", "2", "--cycles", "2", "--latency", "0"]
    main([*argv, "--modes", "batched", "--json", str(out)])

    report = json.loads(out.read_text())
    assert report["parameters"]["n"] == 5
    assert set(report["machine"]) >= {"nproc", "python", "date"}
    assert list(report["modes"]) == ["batched"]
    batched = report["modes"]["batched"]
    assert batched["exit_code"] == 0, (tmp_path / "bench-operator-batched.log").read_text()
    assert batched["converged_fraction"] == 1.0
    assert batched["converge_seconds"] is not None
    assert len(batched["cycles"]) == 2
    for cycle in batched["cycles"]:
        # One listing page per interval (5 fit one page), at most one more from jitter.
        assert cycle["platform_requests"] <= 2, cycle
        assert cycle["alertintegration"] == 0, cycle
    assert batched["platform_requests_per_cycle"] <= 2
    assert batched["alertintegration_per_cycle"] == 0
    assert batched["drifts"] == 2
    assert batched["drifts_unrepaired"] == 0
    assert len(batched["drift_latencies"]) == 2
    assert list(batched["drift_counts"].values()) == [1, 1]  # each drift counted once
    assert batched["cpu_seconds"] > 0
    assert batched["peak_rss_mib"] > 0

    table = capsys.readouterr().out
    assert "platform requests / cycle" in table
    assert "batched" in table


# -- make bench-budget ---------------------------------------------------------------------


def test_the_floor_is_the_issues() -> None:
    oncall, confluent_ = PLATFORMS["grafana-oncall"], PLATFORMS["confluent"]
    assert (oncall.limit, oncall.window, oncall.page) == (300, 60.0, 100)
    # The issue rounds: 61 s for N=300, 202 s for N=1,000.
    assert floor_seconds(300, math.ceil(300 / oncall.page), oncall.budget) == pytest.approx(60.6)
    assert floor_seconds(1000, math.ceil(1000 / oncall.page), oncall.budget) == 202.0
    assert (PLATFORMS["ilert"].limit, PLATFORMS["ilert"].page) == (120, 50)
    # Confluent, a window of 5 per 10 s and 15 integrations: 16 requests, 32 s.
    assert floor_seconds(15, math.ceil(15 / confluent_.page), confluent_.budget) == 32.0


def test_summary_counts_per_integration_and_tells_status_writes_apart() -> None:
    writes = {
        "PATCH alertintegrations/status": 6,
        "PATCH alertintegrations": 4,
        "PATCH alertplatforms/status": 1,
        "POST events": 3,
    }
    door = {"statuses": {"200": 5, "429": 1}, "into_wait": 0, "into_wait_refused": 0}
    door["announced"] = 1
    counted = summary(4, {"GET /list": 2, "POST /list": 4}, door, writes)

    assert counted["platform_requests"] == 6
    assert counted["requests_per_integration"] == 1.5
    assert (counted["status_429"], counted["share_429"]) == (1, 1 / 6)
    assert counted["status_writes_per_integration"] == 6 / 4
    assert counted["integration_writes_per_integration"] == 10 / 4


async def _send(door: Door, url: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.MockTransport(door.handle)) as client:
        return await client.get(url, headers=headers)


async def test_door_counts_requests_sent_into_a_retry_after() -> None:
    clock = ManualClock()
    sim = grafana_oncall.GrafanaOnCallSimulator(
        tokens={"t": "admin"}, rate=grafana_oncall.Rate(1, 60), clock=clock
    )
    door = Door(sim, grace=0.25, clock=clock)
    url, headers = "http://oncall.test/api/v1/integrations/", {"Authorization": "t"}

    assert (await _send(door, url, headers)).status_code == 200
    throttled = await _send(door, url, headers)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "60")
    clock.advance(0.1)  # under way when the 429 was sent: not the client's fault
    await _send(door, url, headers)
    clock.advance(1)  # sent inside the announced wait
    await _send(door, url, headers)
    clock.advance(60)  # the wait is over
    assert (await _send(door, url, headers)).status_code == 200

    counted = door.snapshot()
    assert counted["statuses"] == {"200": 2, "429": 3}
    assert (counted["into_wait"], counted["announced"], counted["requests"]) == (1, 3, 5)
    assert counted["into_wait_refused"] == 1
    # The third request's 429 announced 60 s at 0.1 s; the fourth came at 1.1 s.
    assert counted["most_early"] == pytest.approx(59.0)


async def test_door_counts_no_wait_where_the_429_names_none() -> None:
    clock = ManualClock()
    sim = ilert.ILertSimulator(keys={"k": "admin"}, rate=ilert.Rate(1, 60), clock=clock)
    door = Door(sim, grace=0, clock=clock)
    for _ in range(3):
        await _send(door, "http://ilert.test/api/alert-sources", {"Authorization": "Bearer k"})
        clock.advance(1)

    counted = door.snapshot()
    assert counted["statuses"] == {"200": 1, "429": 2}
    assert (counted["into_wait"], counted["announced"]) == (0, 0)
    assert sim.rate_limited == 2


async def test_door_counts_requests_into_a_spent_window_after_it_shrinks() -> None:
    clock = ManualClock()
    sim = confluent.ConfluentSimulator(
        keys={"KEY": confluent.ApiKey("secret")}, rate=confluent.Rate(60, 60), clock=clock
    )
    door = Door(sim, grace=0, clock=clock)
    door.after(2, lambda: sim.set_rate(confluent.Rate(2, 10)))
    url = "http://confluent.test/notifications/v1/integrations"
    headers = {"Authorization": "Basic " + base64.b64encode(b"KEY:secret").decode()}

    remaining = []
    for _ in range(4):
        answer = await _send(door, url, headers)
        remaining.append(answer.headers["X-RateLimit-Remaining"])
        clock.advance(1)
    # Two in the old window, then the new one of two: its last answer says it is spent.
    assert remaining == ["59", "58", "1", "0"]
    assert (await _send(door, url, headers)).status_code == 429  # sent into it
    clock.advance(10)
    assert (await _send(door, url, headers)).status_code == 200  # a new window

    counted = door.snapshot()
    assert counted["statuses"] == {"200": 5, "429": 1}
    assert (counted["into_wait"], counted["announced"]) == (1, 2)
    assert counted["into_wait_refused"] == 1
    # The new window opened at 2 s; spent at 3 s with 9 s to go; the fifth came at 4 s.
    assert counted["most_early"] == pytest.approx(8.0)
    assert sim.rate_limited == 1


def test_a_run_that_did_not_converge_says_so() -> None:
    failed = {
        "platform": "ilert",
        "mode": "batched",
        "shrinking_window": False,
        "n": 300,
        "limit": 120,
        "window_seconds": 60.0,
        "interval_seconds": 10,
        "converge_seconds": None,
        "converge_deadline_seconds": 459.0,
        "ratio": None,
        "status_429": 12,
    }
    assert "did not converge in 459 s" in bench_budget.table({"batched": failed})
    assert dict(bench_budget.checks(failed)) == {
        "converged within 1.25x the floor": None,
        "spec change within 1.25x its floor": None,
        "no 429": False,
    }


@pytest.mark.e2e
def test_small_budget_run_reports_from_real_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench-budget.json"
    argv = ["--platforms", "grafana-oncall", "--n", "5", "--limit", "60", "--window", "60"]
    argv += ["--modes", "batched", "--interval", "1", "--quiet", "2", "--json", str(out)]
    bench_budget.main(argv)  # its exit status is the targets' verdict: not this test's concern

    report = json.loads(out.read_text())
    run = report["runs"]["grafana-oncall"]["batched"]
    assert run["failures"] == [], Path(run["log"]).read_text()
    assert (run["n"], run["limit"], run["window_seconds"]) == (5, 60, 60.0)
    assert run["floor_seconds"] == 6.0  # 5 creates and 1 listing page at 1 request a second
    assert run["burst_floor_seconds"] == 0  # all 6 fit the window's first 60
    assert run["converged_fraction"] == 1.0
    routes = run["requests_by_route"]
    assert routes["POST /api/v1/integrations/"] == 5  # one create each, no duplicate
    assert run["platform_requests"] == sum(routes.values())
    assert run["requests_per_integration"] == run["platform_requests"] / 5
    assert sum(run["answers_by_status"].values()) == run["platform_requests"]
    assert run["status_429"] == run["answers_by_status"].get("429", 0)
    writes = run["k8s_writes"]
    status_writes = sum(n for key, n in writes.items() if key.endswith(" alertintegrations/status"))
    assert status_writes >= 5  # each integration's Ready was written
    assert run["status_writes_per_integration"] == status_writes / 5
    assert run["integration_writes_per_integration"] > run["status_writes_per_integration"]
    assert run["drift_repair_seconds"] is not None  # the drift was counted and repaired
    assert run["quiet_pages_expected"] == 1
    assert run["spec_changes"] == 5
    assert run["spec_floor_seconds"] == 5.0
    assert run["spec_converged_fraction"] == 1.0
    assert run["spec_platform_requests"] >= 5  # one write each at least
    assert run["peak_rss_mib"] > 0
    assert report["targets"]["grafana-oncall"]["batched"]

    table = capsys.readouterr().out
    assert "ratio to the floor" in table
    assert "did not converge" not in table
