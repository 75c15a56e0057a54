"""The ReconcileAlertIntegration API served by the operator, against a fake backend
and its own OpenAPI file."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from alertsync.api import QUEUED_BEHIND, SEED_FIELDS, ApiServer, Backend, Reconciled
from alertsync.models import AlertIntegrationStatus
from tests.support.openapi import OPENAPI, conforms

TOKEN = "api-test-token-4f1c9b7e"
SEED = "/api/v1/alerting/integrations/{uuid}/reconcile"
AT = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def status(uid: str, drift: int = 0, error: str = "") -> AlertIntegrationStatus:
    return AlertIntegrationStatus.model_validate(
        {
            "uuid": uid,
            "platformUuid": "plat-001-abc",
            "platformName": "Production ZStack",
            "productType": "zstack",
            "targetState": "enabled",
            "currentState": "enabled",
            "webhookId": "wh-plat-001",
            "webhookUrl": "https://zcf.example.com/api/v1/alerting/receive",
            "lastReconcileAt": AT,
            "createDate": AT,
            "lastOpDate": AT,
            "driftCount": drift,
            "lastError": error,
            "origin": "created",
            "observedGeneration": 3,
        }
    )


class FakeOperator:
    def __init__(self) -> None:
        self.reconciled: list[str] = []
        self.delay = 0.0
        self.queued_behind = 0
        self.statuses = {"plat-001-abc": [status("integ-001", drift=20), status("integ-002")]}

    async def reconcile(self, uid: str) -> Reconciled | None:
        self.reconciled.append(uid)
        await asyncio.sleep(self.delay)
        found = self.statuses.get(uid)
        return None if found is None else (found, self.queued_behind)

    def entries(self, uid: str | None) -> Sequence[AlertIntegrationStatus] | None:
        if uid is None:
            return [s for group in self.statuses.values() for s in group]
        return self.statuses.get(uid)


@pytest.fixture
def fake() -> FakeOperator:
    return FakeOperator()


@pytest.fixture
async def api(fake: FakeOperator) -> AsyncIterator[httpx.AsyncClient]:
    server = ApiServer(Backend(fake.reconcile, fake.entries), TOKEN, "127.0.0.1", 0, timeout=0.5)
    port = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        await server.stop()


BEARER = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


async def test_the_answer_says_how_much_work_was_queued_before_it(
    api: httpx.AsyncClient, fake: FakeOperator
) -> None:
    fake.queued_behind = 42
    response = await api.post(SEED.format(uuid="plat-001-abc"), headers=BEARER, content="{}")
    assert response.status_code == 200
    assert response.headers[QUEUED_BEHIND] == "42"


async def test_the_seeds_example_request_answers_every_seed_field(
    api: httpx.AsyncClient, fake: FakeOperator
) -> None:
    # curl -X POST '{host}/api/v1/alerting/integrations/{platformUuid}/reconcile'
    #   -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' -d '{}'
    response = await api.post(SEED.format(uuid="plat-001-abc"), headers=BEARER, content="{}")

    assert response.status_code == 200
    conforms(response, SEED.format(uuid="{platformUuid}"), "post")
    assert response.headers[QUEUED_BEHIND] == "0"
    first, second = response.json()
    assert list(first) == list(SEED_FIELDS)
    assert first == {
        "uuid": "integ-001",
        "platformUuid": "plat-001-abc",
        "targetState": "enabled",
        "currentState": "enabled",
        "webhookUrl": "https://zcf.example.com/api/v1/alerting/receive",
        "webhookId": "wh-plat-001",
        "lastReconcileAt": "2026-01-15T08:00:00Z",
        "driftCount": 20,
        "lastError": "",
        "createDate": "2026-01-15T08:00:00Z",
        "lastOpDate": "2026-01-15T08:00:00Z",
        "platformName": "Production ZStack",
        "productType": "zstack",
    }
    assert second["uuid"] == "integ-002"
    assert fake.reconciled == ["plat-001-abc"]


async def test_an_error_is_reported_as_it_happened(
    api: httpx.AsyncClient, fake: FakeOperator
) -> None:
    fake.statuses["plat-001-abc"] = [status("integ-001", drift=2, error="timeout after 30s")]
    response = await api.post(SEED.format(uuid="plat-001-abc"), headers=BEARER, json={})
    conforms(response, SEED.format(uuid="{platformUuid}"), "post")
    [only] = response.json()
    assert (only["driftCount"], only["lastError"]) == (2, "timeout after 30s")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
    ids=["none", "wrong", "no-scheme", "basic"],
)
async def test_without_the_token_nothing_runs(
    api: httpx.AsyncClient, fake: FakeOperator, headers: dict[str, str]
) -> None:
    response = await api.post(SEED.format(uuid="plat-001-abc"), headers=headers, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    conforms(response, SEED.format(uuid="{platformUuid}"), "post")
    assert TOKEN not in response.text
    listed = await api.get("/api/v1/alerting/integrations", headers=headers)
    assert listed.status_code == 401
    assert fake.reconciled == []


async def test_an_unknown_platform_is_404_with_a_json_error(api: httpx.AsyncClient) -> None:
    response = await api.post(SEED.format(uuid="no-such-uid"), headers=BEARER, json={})
    assert response.status_code == 404
    conforms(response, SEED.format(uuid="{platformUuid}"), "post")
    assert response.json()["error"]["code"] == "PlatformNotFound"
    assert "no-such-uid" in response.json()["error"]["message"]


async def test_list_all_or_one_platform(api: httpx.AsyncClient, fake: FakeOperator) -> None:
    fake.statuses["other"] = [status("integ-009")]
    everything = await api.get("/api/v1/alerting/integrations", headers=BEARER)
    conforms(everything, "/api/v1/alerting/integrations", "get")
    assert [e["uuid"] for e in everything.json()] == ["integ-001", "integ-002", "integ-009"]
    one = await api.get(
        "/api/v1/alerting/integrations", params={"platformUuid": "other"}, headers=BEARER
    )
    assert [e["uuid"] for e in one.json()] == ["integ-009"]
    missing = await api.get(
        "/api/v1/alerting/integrations", params={"platformUuid": "nope"}, headers=BEARER
    )
    assert missing.status_code == 404
    assert fake.reconciled == []  # listing reconciles nothing


async def test_a_slow_reconcile_answers_504_and_goes_on(
    api: httpx.AsyncClient, fake: FakeOperator
) -> None:
    fake.delay = 1.0
    response = await api.post(SEED.format(uuid="plat-001-abc"), headers=BEARER, json={})
    assert response.status_code == 504
    conforms(response, SEED.format(uuid="{platformUuid}"), "post")


def test_the_openapi_entry_is_the_seeds_field_list() -> None:
    entry: dict[str, Any] = OPENAPI["components"]["schemas"]["IntegrationEntry"]
    assert list(entry["properties"]) == list(SEED_FIELDS)
    assert entry["required"] == list(SEED_FIELDS)
