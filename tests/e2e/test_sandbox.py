"""`make sandbox`, then `kubectl apply -f deploy/samples/` and `alertsync run`: all Ready.

As a user does it, with real processes: `python -m alertsim sandbox` (what `make sandbox`
runs; the Kubernetes API on a free port, the simulators on the ports the samples name),
the real kubectl applies deploy/samples/ unchanged, and `alertsync run` gets the kubeconfig
the sandbox wrote through --kubeconfig.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from alertsim.sandbox import kubectl_path
from alertsim.simulators import SIMULATORS
from tests.support.samples import sample_names
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "deploy" / "samples"
GROUP = "/apis/alertsync.dev/v1alpha1/namespaces/default"


def ready(obj: dict[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


@pytest.fixture
def sandbox_command(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """`alertsim sandbox` running; yields its kubeconfig and what it printed."""
    kubeconfig = tmp_path / "kubeconfig"
    with subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [sys.executable, "-m", "alertsim", "sandbox", f"--kubeconfig={kubeconfig}", "--port=0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        printed = []
        try:
            for line in process.stdout:  # it prints its usage once everything is served
                printed.append(line)
                if "kubectl get" in line:
                    break
            assert kubeconfig.exists(), "".join(printed)
            yield kubeconfig, "".join(printed)
        finally:
            process.terminate()
            assert process.wait(timeout=15) == 0


def test_the_samples_become_ready_in_the_sandbox(
    sandbox_command: tuple[Path, str], tmp_path: Path
) -> None:
    kubeconfig, printed = sandbox_command
    assert f"KUBECONFIG={kubeconfig}" in printed
    assert "kubectl apply -f deploy/samples/" in printed
    kubectl = kubectl_path()
    assert kubectl is not None

    applied = subprocess.run(  # noqa: S603 - kubectl with fixed arguments
        [kubectl, "--kubeconfig", str(kubeconfig), "apply", "-f", str(SAMPLES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr

    log = (tmp_path / "operator.log").open("w")
    # No $KUBECONFIG: --kubeconfig alone must lead kopf and the operator's own calls.
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    command = ["run", "-A", f"--kubeconfig={kubeconfig}", "--health=", "--metrics="]
    operator = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [sys.executable, "-m", "alertsync", *command],
        env={**env, "HOME": str(tmp_path)},  # and no ~/.kube/config to fall back on
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    done = False
    try:
        with httpx.Client(base_url=server, timeout=5) as http:

            def all_ready(plural: str, kind: str) -> bool:
                items = http.get(f"{GROUP}/{plural}").json()["items"]
                names = {i["metadata"]["name"] for i in items if ready(i)}
                return names == sample_names(kind)

            wait_for(lambda: all_ready("alertintegrations", "AlertIntegration"), 25, 0.25)
            wait_for(lambda: all_ready("alertplatforms", "AlertPlatform"), 10, 0.25)
        done = True
    finally:
        operator.terminate()
        operator.wait(timeout=20)
        log.close()
        if not done:  # pytest shows this with the failure
            print((tmp_path / "operator.log").read_text()[-6000:])
    # Every simulator's sample was among them.
    assert sample_names("AlertIntegration") == {row.sample for row in SIMULATORS}
