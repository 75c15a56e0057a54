"""The sandbox for end-to-end tests: Kubernetes emulator + OnCall simulator on loopback."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kopf
from kopf.testing import KopfRunner

import alertsync.handlers  # noqa: F401 - registers the operator in the default registry
from alertsim.core import Handler
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.kubeapi import EmulatorThread
from alertsim.server import SimulatorThread
from tests.support.waiting import DEFAULT_TIMEOUT, wait_for

# kopf's default registry is process-wide: keep the operator's handlers in a
# registry of their own, so that other kopf tests in this process neither run
# them nor add theirs to ours.
REGISTRY = kopf.get_default_registry()


def _give_others_a_fresh_registry() -> None:
    # Same class (kopf's "smart" registry, with its login handlers), none of our handlers.
    kopf.set_default_registry(type(REGISTRY)())


_give_others_a_fresh_registry()

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
    # Stops the simulators that tests add.
    stack: ExitStack = field(default_factory=ExitStack)
    # Every credential a test handed out: none may show anywhere but in its Secret.
    secrets: set[str] = field(default_factory=lambda: {TOKEN})

    def serve(self, sim: Handler) -> str:
        """Serve a simulator (or a receiver) on loopback for the rest of the test."""
        url: str = self.stack.enter_context(SimulatorThread(sim))
        return url

    def add_secret(self, name: str, data: Mapping[str, str], namespace: str = "default") -> None:
        """A Secret `name` holding `data` (its values count as credentials handed out)."""
        self.secrets.update(value for value in data.values() if len(value) >= 8)
        self.k8s.create_object(
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name},
                "stringData": dict(data),
            },
            namespace=namespace,
        )

    def add_platform(
        self,
        name: str,
        product: str,
        url: str,
        secret: Mapping[str, str],
        credentials: Mapping[str, str],
        resync: str = "1s",
        namespace: str = "default",
        **spec: Any,
    ) -> None:
        """A Secret and an AlertPlatform `name` in `namespace`; `credentials` its secret ref."""
        self.add_secret(f"{name}-credentials", secret, namespace)
        self._platform(
            name,
            namespace,
            productType=product,
            url=url,
            credentialsSecretRef={"name": f"{name}-credentials", **credentials},
            resyncInterval=resync,
            # The sandbox's receivers listen on plain http on 127.0.0.1.
            allowInsecureHttp=True,
            **spec,
        )

    def apply_platform(
        self, resync: str = "1s", name: str = "oncall", secret: bool = True, **spec: Any
    ) -> None:
        """The sandbox's own OnCall as the AlertPlatform `name`, its token in the Secret
        `<name>-token` (made too unless `secret` is False); `spec` added to its spec."""
        if secret:
            self.add_secret(f"{name}-token", {"token": TOKEN})
        defaults: Obj = {
            "productType": "grafana-oncall",
            "displayName": "OnCall sandbox",
            "url": self.oncall_url,
            "credentialsSecretRef": {"name": f"{name}-token"},
            "resyncInterval": resync,
        }
        self._platform(name, "default", **{**defaults, **spec})

    def _platform(self, name: str, namespace: str, **spec: Any) -> None:
        self.k8s.create_object(
            "alertplatforms",
            {
                "apiVersion": "alertsync.dev/v1alpha1",
                "kind": "AlertPlatform",
                "metadata": {"name": name},
                "spec": spec,
            },
            namespace=namespace,
        )

    def patch_platform(self, spec: Obj, name: str = "oncall") -> None:
        """Merge `spec` into the spec of the AlertPlatform `name` in default."""
        self.k8s.update_object("alertplatforms", name, {"spec": spec}, namespace="default")

    def platform_status(self, name: str = "oncall") -> Obj:
        """The status of the AlertPlatform `name` in default ({} while it has none)."""
        platform = self.k8s.read_object("alertplatforms", name, namespace="default") or {}
        return dict(platform.get("status") or {})

    def create(self, name: str, platform: str = "oncall", **spec: Any) -> Obj:
        body = {
            "apiVersion": "alertsync.dev/v1alpha1",
            "kind": "AlertIntegration",
            "metadata": {"name": name},
            "spec": {"platformRef": {"name": platform}, **spec},
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

    def wait_status(
        self, name: str, check: Callable[[Obj], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> Obj:
        def matching() -> Obj | None:
            status = self.status(name)
            return status if status and check(status) else None

        return wait_for(matching, timeout=timeout)

    def wait_ready(self, name: str, timeout: float = DEFAULT_TIMEOUT) -> Obj:
        return self.wait_status(name, lambda s: ready(s) == "True", timeout)

    def assert_quiet(self, name: str, seconds: float = 2.5) -> None:
        """No hot loop: once kopf has recorded the handler's outcome (one last
        annotation patch after our status write), nothing more is written while
        nothing changes, over several resync cycles. A hot loop never settles."""

        def version() -> str:
            return str(self.get(name)["metadata"]["resourceVersion"])  # type: ignore[index]

        def settled() -> str | None:
            before = version()
            time.sleep(0.5)
            return before if version() == before else None

        quiet_since = wait_for(settled, timeout=10)
        time.sleep(seconds)
        assert version() == quiet_since

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


@contextmanager
def running_operator(ready: Callable[[], object] | None = None) -> Iterator[KopfRunner]:
    """The real operator (all of alertsync.handlers) under kopf, in a thread.

    `ready`: yielded once it holds. Stopped in its API discovery, kopf 1.45 waits
    seconds for a re-login that never comes: a test that ends at once waits for
    kopf's watch streams first (see the `operator` fixture).
    """
    try:
        with KopfRunner(["run", "-A", "--standalone"], registry=REGISTRY, timeout=60) as runner:
            if ready is not None:
                wait_for(ready, timeout=20)
            yield runner
    finally:
        # `kopf run` makes the registry it ran with the process-wide default.
        _give_others_a_fresh_registry()
    assert runner.exception is None, runner.output
    assert runner.exit_code == 0


@contextmanager
def operator_process(
    sandbox: Sandbox,
    *,
    log: Path | None = None,
    stop: signal.Signals = signal.SIGTERM,
    **env: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """The operator as its Deployment runs it (`alertsync run -A`), in a process of its own
    with `env` added, its output in `log` (if given). On leaving, it is sent `stop` (SIGKILL:
    a crash at that moment) and waited for."""
    command = [sys.executable, "-m", "alertsync", "run", "-A", "--health", "", "--metrics", ""]
    with ExitStack() as files:
        output = files.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and entry point
            command,
            env={**os.environ, "KUBECONFIG": str(sandbox.kubeconfig), **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.send_signal(stop)
            process.wait(20)
