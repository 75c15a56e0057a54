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


def test_run_serves_the_health_probe_and_logs_json(sandbox: Sandbox) -> None:
    sandbox.apply_platform()
    sandbox.create("pay", displayName="pay")
    health = f"http://127.0.0.1:{free_port()}/healthz"
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
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    lines = [line for line in output.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert any("reconcile" in record.get("message", "") for record in records)
    assert TOKEN not in output
