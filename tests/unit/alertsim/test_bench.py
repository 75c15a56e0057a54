"""`python -m alertsim.bench` on a small N: the issue's regression guards, counted, not timed.

A regression to per-object polling shows here as platform requests or AlertIntegration
writes per quiet cycle that grow with N, whatever the machine's speed.
"""

import json
from pathlib import Path

import pytest

from alertsim.bench import main

# It runs the real operator as a subprocess, like the end-to-end tests.
pytestmark = pytest.mark.e2e


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
