"""The sandbox for end-to-end tests: Kubernetes emulator + OnCall simulator on loopback."""

import base64
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from kopf.testing import KopfRunner
from tests.support.waiting import wait_for

from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.kubeapi import EmulatorThread, StrictEmulator
from alertsim.server import SimulatorThread

ROOT = Path(__file__).parents[2]
TOKEN = "e2e-oncall-token-5b7f3c9a"
INTEGRATIONS = "alertintegrations"

Obj = dict[str, Any]


@dataclass
class Sandbox:
    k8s: EmulatorThread
    oncall: GrafanaOnCallSimulator
    oncall_url: str
    kubeconfig: Path

    def apply_platform(self, resync: str = "1s", name: str = "oncall") -> None:
        self.k8s.create_object(
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"{name}-token"},
                "stringData": {"token": TOKEN},
            },
            namespace="default",
        )
        self.k8s.create_object(
            "alertplatforms",
            {
                "apiVersion": "alertsync.dev/v1alpha1",
                "kind": "AlertPlatform",
                "metadata": {"name": name},
                "spec": {
                    "productType": "grafana-oncall",
                    "displayName": "OnCall sandbox",
                    "url": self.oncall_url,
                    "credentialsSecretRef": {"name": f"{name}-token"},
                    "resyncInterval": resync,
                },
            },
            namespace="default",
        )

    def create(self, name: str, **spec: Any) -> Obj:
        body = {
            "apiVersion": "alertsync.dev/v1alpha1",
            "kind": "AlertIntegration",
            "metadata": {"name": name},
            "spec": {"platformRef": {"name": "oncall"}, **spec},
        }
        return self.k8s.create_object(INTEGRATIONS, body, namespace="default")

    def patch_spec(self, name: str, spec: Obj) -> Obj:
        return self.k8s.update_object(INTEGRATIONS, name, {"spec": spec}, namespace="default")

    def delete(self, name: str) -> None:
        self.k8s.delete_object(INTEGRATIONS, name, namespace="default")

    def get(self, name: str) -> Obj | None:
        return self.k8s.read_object(INTEGRATIONS, name, namespace="default")

    def status(self, name: str) -> Obj:
        obj = self.get(name)
        return dict(obj.get("status") or {}) if obj else {}

    def wait_status(self, name: str, check: Callable[[Obj], bool], timeout: float = 20) -> Obj:
        def matching() -> Obj | None:
            status = self.status(name)
            return status if status and check(status) else None

        return wait_for(matching, timeout=timeout)

    def wait_ready(self, name: str, timeout: float = 20) -> Obj:
        return self.wait_status(name, lambda s: ready(s) == "True", timeout)

    def events(self, name: str) -> list[Obj]:
        return [
            e
            for e in self.k8s.list_objects("events", namespace="default")
            if e.get("involvedObject", {}).get("name") == name
        ]

    def everything(self) -> str:
        """Every stored object but the credential Secrets, as one text (for leak checks)."""
        names = [
            "alertintegrations",
            "alertplatforms",
            "clusteralertplatforms",
            "events",
            "configmaps",
        ]
        return json.dumps([self.k8s.list_objects(resource) for resource in names])


def ready(status: Obj) -> str | None:
    for condition in status.get("conditions", []):
        if condition["type"] == "Ready":
            return str(condition["status"])
    return None


def reason(status: Obj) -> str | None:
    for condition in status.get("conditions", []):
        if condition["type"] == "Ready":
            return str(condition["reason"])
    return None


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    emulator = StrictEmulator()
    emulator.load_crd(ROOT / "crds")
    oncall = GrafanaOnCallSimulator(tokens={TOKEN: "admin"})
    with EmulatorThread(emulator) as k8s, SimulatorThread(oncall) as oncall_url:
        kubeconfig = tmp_path / "kubeconfig"
        k8s.write_kubeconfig(kubeconfig)
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        # The kubernetes client (kopf logs in through it) read $KUBECONFIG at import.
        monkeypatch.setattr(
            kubernetes.config.kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig)
        )
        box = Sandbox(k8s, oncall, oncall_url, kubeconfig)
        yield box
        # No test may leave the token anywhere but in its Secret.
        assert TOKEN not in box.everything()


@contextmanager
def running_operator() -> Iterator[KopfRunner]:
    """The real operator (all of alertsync.handlers) under kopf, in a thread."""
    args = ["run", "-A", "--standalone", "-m", "alertsync.handlers"]
    with KopfRunner(args, timeout=60) as runner:
        yield runner
    assert runner.exception is None, runner.output
    assert runner.exit_code == 0


@pytest.fixture
def operator(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> Iterator[KopfRunner]:
    caplog.set_level(logging.DEBUG)
    with running_operator() as runner:
        yield runner
    assert TOKEN not in caplog.text
    assert base64.b64encode(TOKEN.encode()).decode() not in caplog.text
