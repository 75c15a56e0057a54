"""The ReconcileAlertIntegration API, served by the running operator."""

import dataclasses
import socket
from collections.abc import Iterator

import httpx
import pytest
from kopf.testing import KopfRunner

import alertsync.handlers
from tests.support.openapi import conforms
from tests.support.sandbox import Sandbox, ready, running_operator
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

API_TOKEN = "e2e-seed-api-token-93d1a7"
SEED = "/api/v1/alerting/integrations/{platformUuid}/reconcile"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def api(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    port = free_port()
    config = dataclasses.replace(
        alertsync.handlers.CONFIG, api_listen=f"127.0.0.1:{port}", api_token=API_TOKEN
    )
    monkeypatch.setattr(alertsync.handlers, "CONFIG", config)
    sandbox.secrets.add(API_TOKEN)
    with running_operator(), httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        wait_for(lambda: _answers(client))
        yield client


def _answers(client: httpx.Client) -> bool:
    try:
        client.get("/api/v1/alerting/integrations")
    except httpx.TransportError:
        return False
    return True


def bearer(token: str = API_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def test_reconcile_repairs_now_and_answers_the_seeds_fields(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    # A resync far away: only the API call can find the drift in this test.
    sandbox.apply_platform(resync="1h")
    created = sandbox.create("pay", displayName="payments alerts")
    status = sandbox.wait_ready("pay")
    platform = sandbox.k8s.read_object("alertplatforms", "oncall", namespace="default")
    assert platform is not None
    uuid = platform["metadata"]["uid"]
    sandbox.oncall.rename(status["webhookId"], "renamed by hand")

    response = api.post(SEED.format(platformUuid=uuid), headers=bearer(), content="{}")

    assert response.status_code == 200, response.text
    conforms(response, SEED, "post")
    [entry] = response.json()
    assert entry["uuid"] == created["metadata"]["uid"]
    assert entry["platformUuid"] == uuid
    assert (entry["driftCount"], entry["lastError"]) == (1, "")
    assert entry["webhookId"] == status["webhookId"]
    assert (entry["platformName"], entry["productType"]) == ("OnCall sandbox", "grafana-oncall")
    assert sandbox.oncall.get(status["webhookId"])["name"] == "payments alerts"  # type: ignore[index]
    # The answer is what the resource's status says.
    stored = sandbox.status("pay")
    assert (stored["driftCount"], stored["lastReconcileAt"]) == (1, entry["lastReconcileAt"])

    sandbox.oncall.faults.fail(503, times=None)
    failing = api.post(SEED.format(platformUuid=uuid), headers=bearer(), json={})
    conforms(failing, SEED, "post")
    [entry] = failing.json()
    assert "503" in entry["lastError"]
    assert entry["currentState"] == "unknown"
    sandbox.oncall.faults.clear()
    healed = api.post(SEED.format(platformUuid=uuid), headers=bearer(), json={})
    [entry] = healed.json()
    assert (entry["lastError"], entry["currentState"], entry["driftCount"]) == ("", "enabled", 1)
    assert ready(sandbox.status("pay")) == "True"

    listed = api.get("/api/v1/alerting/integrations", headers=bearer())
    conforms(listed, "/api/v1/alerting/integrations", "get")
    assert [e["uuid"] for e in listed.json()] == [created["metadata"]["uid"]]


def test_unauthenticated_and_unknown_calls_are_refused(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.apply_platform(resync="1h")
    sandbox.create("pay")
    sandbox.wait_ready("pay")
    platform = sandbox.k8s.read_object("alertplatforms", "oncall", namespace="default")
    assert platform is not None
    uuid = platform["metadata"]["uid"]
    requests_before = sandbox.oncall.requests.total

    for headers in ({}, bearer("not-the-token")):
        refused = api.post(SEED.format(platformUuid=uuid), headers=headers, json={})
        assert refused.status_code == 401
        conforms(refused, SEED, "post")
    unknown = api.post(SEED.format(platformUuid="no-such-platform"), headers=bearer(), json={})
    assert unknown.status_code == 404
    conforms(unknown, SEED, "post")
    assert sandbox.oncall.requests.total == requests_before


def test_the_api_is_off_unless_configured(sandbox: Sandbox, operator: KopfRunner) -> None:
    assert alertsync.handlers.CONFIG.api_listen is None
