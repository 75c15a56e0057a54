"""Fixtures for end-to-end tests: a fresh sandbox per test, and the operator running in it."""

import base64
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from kopf.testing import KopfRunner

from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.kubeapi import ApiCall, EmulatorThread, StrictEmulator
from alertsim.server import SimulatorThread
from tests.platforms import ROWS
from tests.platforms.row import PlatformRow
from tests.support.sandbox import ROOT, TOKEN, Sandbox, running_operator


@pytest.fixture(scope="session")
def api_calls() -> set[ApiCall]:
    """Every request the emulators of this session's e2e tests served (test_rbac.py checks)."""
    return set()


@pytest.fixture
def sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_calls: set[ApiCall]
) -> Iterator[Sandbox]:
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
        with box.stack:
            yield box
        api_calls.update(k8s.emu.take_audit())
        # No test may leave a credential anywhere but in its Secret.
        stored = box.everything()
        assert [secret for secret in box.secrets if secret in stored] == []
        SECRETS_HANDED_OUT.update(box.secrets)


# The credentials of the current test's sandbox, for the log check (which runs later).
SECRETS_HANDED_OUT: set[str] = set()


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every e2e test, at DEBUG: no credential shows in any log line, plain or base64."""
    caplog.set_level(logging.DEBUG)
    SECRETS_HANDED_OUT.clear()
    SECRETS_HANDED_OUT.add(TOKEN)
    yield
    for secret in SECRETS_HANDED_OUT:
        assert secret not in caplog.text
        assert base64.b64encode(secret.encode()).decode() not in caplog.text


@pytest.fixture(params=ROWS, ids=[row.id for row in ROWS])
def row(request: pytest.FixtureRequest) -> PlatformRow[Any]:
    """Each platform of the suite in turn (the `ROW` of each module in tests/platforms/)."""
    chosen: PlatformRow[Any] = request.param
    return chosen


@pytest.fixture
def operator(sandbox: Sandbox) -> Iterator[KopfRunner]:
    def watching() -> bool:
        return sandbox.k8s.call(sandbox.k8s.emu.watched, "alertintegrations")

    with running_operator(ready=watching) as runner:
        yield runner
