"""`alertsync run` as a real process: health probe and JSON logs."""

import json
import os
import socket
import subprocess
import sys

import httpx
import pytest

from alertsync import __version__ as alertsync_version
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


def alertsync(*args: str, kubeconfig: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own entry point
        [sys.executable, "-m", "alertsync", *args],
        env={**os.environ, "KUBECONFIG": kubeconfig},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version_prints_the_package_version() -> None:
    done = alertsync("version", kubeconfig="/nonexistent")
    assert done.returncode == 0
    assert done.stdout.strip() == f"alertsync {alertsync_version}"


@pytest.mark.usefixtures("operator")
def test_reconcile_asks_for_a_pass_and_prints_its_outcome(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1h")  # only the request can find the drift
    sandbox.create("pay", displayName="pay")
    webhook = sandbox.wait_ready("pay")["webhookId"]
    sandbox.oncall.rename(webhook, "renamed by hand")

    done = alertsync("reconcile", "pay", "-n", "default", kubeconfig=str(sandbox.kubeconfig))

    assert done.returncode == 0, done.stderr
    assert "default/pay: Ready=True (Reconciled)" in done.stdout
    assert "driftCount=1" in done.stdout
    assert sandbox.oncall.get(webhook)["name"] == "pay"  # type: ignore[index]

    sandbox.oncall.faults.fail(503, times=None)
    failing = alertsync("reconcile", "pay", kubeconfig=str(sandbox.kubeconfig))
    assert failing.returncode == 2
    assert "Ready=False (PlatformUnavailable)" in failing.stdout
    assert "lastError: cannot" in failing.stdout

    missing = alertsync("reconcile", "nope", kubeconfig=str(sandbox.kubeconfig))
    assert missing.returncode == 1
    assert "AlertIntegration default/nope not found" in missing.stderr
