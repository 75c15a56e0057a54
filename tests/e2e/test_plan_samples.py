"""`alertsync plan` on deploy/samples/ against the sandbox's simulators served on loopback.

The samples name fixed ports (alertsim/simulators.py, for `make demo`); here each simulator is
served on a free port and the sample AlertPlatforms' URLs are rewritten to match.
The simulators' request logs prove that planning writes nothing.
"""

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from alertsim.demo import Platforms, leftovers
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.kubeapi import EmulatorThread, StrictEmulator
from alertsim.server import SimulatorThread
from alertsim.simulators import SIMULATORS as ROWS
from alertsync import plan as planning
from alertsync.config import OperatorConfig
from alertsync.kube import Kube
from alertsync.records import IntegrationRecord
from alertsync.runtime import Runtime
from tests.support.samples import sample_file, sample_names

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "deploy" / "samples"
SIMULATORS = tuple(row.name for row in ROWS)
# Every AlertIntegration in deploy/samples/: each is planned.
INTEGRATIONS = sample_names("AlertIntegration")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# ZStack logs in (PUT) and out (DELETE) around every use of its API: sessions, not objects.
SESSION_ROUTES = ("/zstack/v1/accounts/login", "/zstack/v1/accounts/sessions/{uuid}")
# What the samples hold that must never be printed.
SAMPLE_SECRETS = (
    "sandbox-oncall-token",
    "sandbox-ilert-token",
    "sandbox-confluent-secret",
    "sandbox-mackerel-key",
    "sandbox-zstack-password",
    "sandbox-receiver-password",
)


class Served:
    def __init__(self, platforms: Platforms, urls: dict[str, str], manifests: Path) -> None:
        self.platforms, self.urls, self.manifests = platforms, urls, manifests

    def writes(self) -> dict[str, int]:
        """Platform writes the simulators saw (ZStack's session log-in and -out aside)."""
        found = {}
        for name in SIMULATORS:
            for key, count in self.platforms.sims[name].requests.snapshot().items():
                method, route = key.split(" ", 1)
                if method in WRITES and route not in SESSION_ROUTES:
                    found[f"{name} {key}"] = count
        return found

    def clear(self) -> None:
        for name in SIMULATORS:
            self.platforms.sims[name].requests.clear()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    platforms = Platforms()
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(SimulatorThread(platforms.sims[name])) for name in SIMULATORS
        }
        manifests = tmp_path / "manifests"
        manifests.mkdir()
        for source in sorted(SAMPLES.glob("*.yaml")):
            documents = list(yaml.safe_load_all(source.read_text()))
            for document in documents:
                if document["kind"] == "AlertPlatform":
                    document["spec"]["url"] = urls[document["metadata"]["name"]]
            (manifests / source.name).write_text(yaml.safe_dump_all(documents))
        yield Served(platforms, urls, manifests)


def test_plan_offline_shows_every_sample_created_and_writes_nothing(served: Served) -> None:
    done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "alertsync.plan", "-f", str(served.manifests), "--offline"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    blocks = _blocks(done.stdout)
    assert {name: lines[0] for name, lines in blocks.items()} == {
        f"default/{name}": "+ create" for name in INTEGRATIONS
    }
    assert {"payments-alerts", "storage-alarms"} <= INTEGRATIONS
    assert "    name: 'storage prod alarms' (enabled)" in blocks["default/storage-alarms"]
    assert done.stdout.rstrip().endswith(
        f"Plan: {len(INTEGRATIONS)} to create, 0 to update, 0 to replace, 0 unchanged, 0 invalid."
    )
    # Every platform was read, none written to, nothing exists anywhere.
    for name in SIMULATORS:
        assert served.platforms.sims[name].requests.count("GET") > 0, name
    assert served.writes() == {}
    assert leftovers(served.platforms) == []
    for secret in SAMPLE_SECRETS:
        assert secret not in done.stdout + done.stderr


def test_plan_against_the_cluster_shows_drift_as_an_update_of_its_fields(
    served: Served,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator = StrictEmulator()
    emulator.load_crd(ROOT / "crds")
    with EmulatorThread(emulator) as k8s:
        monkeypatch.setenv("KUBECONFIG", str(k8s.write_kubeconfig(tmp_path / "kubeconfig")))
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        # The cluster holds the OnCall sample only, and the operator has reconciled it.
        sample = served.manifests / sample_file("grafana-oncall").name
        for document in yaml.safe_load_all(sample.read_text()):
            plural = document["kind"].lower() + "s"
            k8s.create_object(plural, document, namespace="default")
        status = asyncio.run(
            _operator_pass(k8s.read_object("alertintegrations", "payments-alerts"))
        )
        webhook = status["webhookId"]
        oncall = served.platforms.get("oncall", GrafanaOnCallSimulator)
        assert oncall.get(webhook) is not None
        # Behind the operator's back.
        oncall.rename(webhook, "renamed by hand")
        oncall.set_template(webhook, "slack.title", "someone else's title")
        served.clear()
        k8s.emu.take_audit()

        code = planning.main(["-f", str(served.manifests)])

        calls = k8s.emu.take_audit()
    out = capsys.readouterr().out
    assert code == 2
    blocks = _blocks(out)
    assert blocks["default/payments-alerts"] == [
        "~ update displayName, grafanaOnCall.templates.slack.title",
        f"    id: {webhook}",
        "    why: drift: changed on the platform behind AlertSync's back",
    ]
    others = {name: lines[0] for name, lines in blocks.items() if name != "default/payments-alerts"}
    assert set(others.values()) == {"+ create"}
    assert set(others) == {f"default/{name}" for name in INTEGRATIONS - {"payments-alerts"}}
    assert out.rstrip().endswith(
        f"Plan: {len(INTEGRATIONS) - 1} to create, 1 to update, 0 to replace, 0 unchanged, "
        "0 invalid."
    )
    # Nothing written: not on any platform, not in Kubernetes.
    assert served.writes() == {}
    assert (oncall.get(webhook) or {})["name"] == "renamed by hand"
    assert len(leftovers(served.platforms)) == 1
    assert {call.verb for call in calls} == {"get"}
    assert {call.resource for call in calls if call.resource} <= {"alertintegrations"}
    for secret in SAMPLE_SECRETS:
        assert secret not in out


async def _operator_pass(body: dict[str, Any] | None) -> dict[str, Any]:
    """One real reconcile by the operator's runtime, which writes the status to the cluster."""
    assert body is not None
    runtime = Runtime(
        Kube.connect(),
        OperatorConfig(operator_namespace="default"),
        post_event=lambda record, event: None,
    )
    try:
        outcome = await runtime.poll(IntegrationRecord.from_body(body))
    finally:
        await runtime.aclose()
        runtime.kube.api.close()
    assert outcome.error is None, outcome.error
    return runtime.statuses.written[body["metadata"]["uid"]]


def _blocks(out: str) -> dict[str, list[str]]:
    """The plan's blocks: 'namespace/name' -> the lines under its '# ...' heading."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in out.splitlines():
        if line.startswith("# "):
            current = blocks.setdefault(line[2:].split(" ", 1)[0], [])
        elif not line:
            current = None
        elif current is not None:
            current.append(line)
    return blocks
