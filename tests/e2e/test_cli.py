"""`alertsync run` as a real process: health probe and JSON logs."""

import json
import os
import socket
import subprocess
import sys

import httpx
import pytest

from tests.support.sandbox import TOKEN, Sandbox
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scrape(url: str) -> dict[str, float]:
    """Every sample of the metrics endpoint: 'name{labels}' -> value."""
    samples = {}
    for line in httpx.get(url).text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_run_serves_health_and_metrics_and_logs_json(sandbox: Sandbox) -> None:
    sandbox.apply_platform()
    sandbox.create("pay", displayName="pay")
    health = f"http://127.0.0.1:{free_port()}/healthz"
    metrics_at = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [
            sys.executable,
            "-m",
            "alertsync",
            "run",
            "-n",
            "default",
            "--log-format",
            "json",
            "--log-level",
            "debug",
            "--health",
            health,
            "--metrics",
            metrics_at,
        ],
        env={**os.environ, "KUBECONFIG": str(sandbox.kubeconfig)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        sandbox.wait_ready("pay")

        def healthy() -> bool:
            try:
                return httpx.get(health).status_code == 200
            except httpx.TransportError:
                return False

        assert wait_for(healthy)

        sandbox.oncall.rename(sandbox.status("pay")["webhookId"], "renamed by hand")
        sandbox.wait_status("pay", lambda s: s.get("driftCount") == 1)
        oncall = 'platform="grafana-oncall"'
        samples = wait_for(
            lambda: (
                found
                if (found := scrape(f"http://{metrics_at}/metrics")).get(
                    f'alertsync_drift_total{{action="repaired",field="displayName",{oncall}}}'
                )
                else None
            )
        )
        # What happened: one create, one drift repaired by one update, one Ready integration.
        assert (
            samples[f'alertsync_platform_requests_total{{code="201",operation="create",{oncall}}}']
            == 1
        )
        assert (
            samples[f'alertsync_platform_requests_total{{code="200",operation="update",{oncall}}}']
            == 1
        )
        assert samples[f'alertsync_integrations{{{oncall},ready="True"}}'] == 1
        assert samples[f'alertsync_reconciles_total{{{oncall},result="Reconciled"}}'] >= 2
        assert samples[f"alertsync_resync_duration_seconds_count{{{oncall}}}"] >= 1
        assert (
            f'alertsync_platform_request_duration_seconds_count{{operation="read",{oncall}}}'
            in samples
        )
        assert not [name for name in samples if "pay" in name or TOKEN in name]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    lines = [line for line in output.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert any("reconcile" in record.get("message", "") for record in records)
    assert TOKEN not in output
