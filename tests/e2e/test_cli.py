"""The `alertsync` command as a real process: run (health, metrics, JSON logs), reconcile,
version, and --kubeconfig / --context on every command."""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from alertsync import __version__ as alertsync_version
from alertsync import cli
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
    assert any("Handler 'track'" in record.get("message", "") for record in records)
    assert TOKEN not in output


def alertsync(
    *args: str, kubeconfig: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own entry point
        [sys.executable, "-m", "alertsync", *args],
        env={**os.environ, "KUBECONFIG": kubeconfig, **(env or {})},
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
    assert "None" not in done.stdout + failing.stdout  # only what is known is printed

    missing = alertsync("reconcile", "nope", kubeconfig=str(sandbox.kubeconfig))
    assert missing.returncode == 1
    assert "AlertIntegration default/nope not found" in missing.stderr


@pytest.mark.usefixtures("operator")
def test_reconcile_reads_the_secret_as_it_is_now_not_as_the_last_resync_saw_it(
    sandbox: Sandbox,
) -> None:
    sandbox.apply_platform(resync="1h")  # the resync will not re-read the Secret
    sandbox.create("pay", displayName="pay")
    webhook = sandbox.wait_ready("pay")["webhookId"]
    sandbox.k8s.update_object(
        "secrets", "oncall-token", {"data": {"token": None}}, namespace="default"
    )
    sandbox.oncall.rename(webhook, "renamed by hand")

    done = alertsync("reconcile", "pay", kubeconfig=str(sandbox.kubeconfig))

    assert done.returncode == 2, done.stdout + done.stderr
    assert "CredentialsMissing" in done.stdout
    assert sandbox.oncall.get(webhook)["name"] == "renamed by hand"  # type: ignore[index]
    assert sandbox.oncall.requests.count("PUT") == 0


# -- --kubeconfig and --context, as kubectl takes them -------------------------------------


def two_contexts(sandbox: Sandbox, path: Path) -> Path:
    """A kubeconfig whose current context leads nowhere; context "sandbox" is the emulator."""
    config = yaml.safe_load(sandbox.kubeconfig.read_text())
    config["contexts"][0]["name"] = "sandbox"
    dead_end = {"server": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    config["clusters"].append({"name": "nowhere", "cluster": dead_end})
    nowhere = {"cluster": "nowhere", "user": config["users"][0]["name"]}
    config["contexts"].append({"name": "nowhere", "context": nowhere})
    config["current-context"] = "nowhere"
    path.write_text(yaml.safe_dump(config))
    return path


def without_default_config(tmp_path: Path) -> dict[str, str]:
    """An environment where only the flags can lead to the cluster."""
    return {"KUBECONFIG": str(tmp_path / "missing"), "HOME": str(tmp_path)}


def test_every_command_takes_kubeconfig_and_context(capsys: pytest.CaptureFixture[str]) -> None:
    def usage(*args: str) -> str:
        with pytest.raises(SystemExit):
            cli.main([*args, "--help"])
        return capsys.readouterr().out

    listed = re.search(r"\{([a-z,-]+)\}", usage())
    assert listed is not None
    commands = listed.group(1).split(",")
    assert {"run", "plan", "reconcile", "version"} <= set(commands)
    for command in commands:
        text = usage(command)
        assert "--kubeconfig PATH" in text, command
        assert "--context CONTEXT" in text, command


@pytest.mark.usefixtures("operator")
def test_reconcile_uses_the_kubeconfig_and_context_given(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(two_contexts(sandbox, tmp_path / "config"))
    sandbox.apply_platform()
    sandbox.create("pay", displayName="pay")
    sandbox.wait_ready("pay")
    env = without_default_config(tmp_path)

    after = alertsync("reconcile", "pay", "--kubeconfig", config, "--context", "sandbox", env=env)
    assert after.returncode == 0, after.stderr
    assert "default/pay: Ready=True" in after.stdout

    current = alertsync("reconcile", "pay", "--kubeconfig", config, "--timeout", "5", env=env)
    assert current.returncode == 1
    assert current.stderr.startswith("error: cannot reach the Kubernetes API")
    unknown = alertsync("reconcile", "pay", "--kubeconfig", config, "--context", "nope", env=env)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: ")
    assert "nope" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_plan_reads_the_cluster_of_the_context_given(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(two_contexts(sandbox, tmp_path / "config"))
    sandbox.apply_platform()  # the platform and its Secret exist only in the cluster
    manifest = tmp_path / "pay.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "alertsync.dev/v1alpha1",
                "kind": "AlertIntegration",
                "metadata": {"name": "pay", "namespace": "default"},
                "spec": {"platformRef": {"name": "oncall"}, "displayName": "pay"},
            }
        )
    )
    env = without_default_config(tmp_path)

    # The flags may come before the command too, as kubectl's do.
    planned = alertsync(
        "--kubeconfig", config, "--context", "sandbox", "plan", "-f", str(manifest), env=env
    )
    assert planned.returncode == 2, planned.stdout + planned.stderr  # 2: changes planned
    assert "pay" in planned.stdout
    unreachable = alertsync("plan", "-f", str(manifest), "--kubeconfig", config, env=env)
    assert unreachable.returncode == 1


def test_run_watches_and_writes_through_the_context_given(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(two_contexts(sandbox, tmp_path / "config"))
    sandbox.apply_platform()
    sandbox.create("pay", displayName="pay")
    command = ["run", "-n", "default", "--kubeconfig", config, "--context", "sandbox"]
    process = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [sys.executable, "-m", "alertsync", *command, "--health=", "--metrics="],
        env={**os.environ, **without_default_config(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # kopf's watch and the operator's own Secret read and status writes all got there.
        sandbox.wait_ready("pay")
    finally:
        process.terminate()
        process.wait(timeout=20)
