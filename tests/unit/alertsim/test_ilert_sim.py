"""The iLert simulator answers as iLert's API reference and its Alerts API page say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock
from alertsim.ilert import (
    INCLUDE_ONLY_FIELDS,
    ILertSimulator,
    Rate,
    build_parser,
    simulator_from_args,
)
from alertsim.server import SimulatorServer

BASE = "http://ilert.test"
KEY = "admin-key-3c1f"
RESPONDER = "responder-key-77ab"
STAKEHOLDER = "stakeholder-key-90de"
SOURCES = "/api/alert-sources"
ALERTS = "/api/alerts"


@pytest.fixture
def sim(clock: ManualClock) -> ILertSimulator:
    return ILertSimulator(
        keys={KEY: "admin", RESPONDER: "responder", STAKEHOLDER: "stakeholder"},
        base_url=BASE,
        clock=clock,
        seed=7,
        escalation_policies=("Default", "Backup"),
        teams=("team-a", "team-b"),
    )


def client_for(sim: ILertSimulator, key: str | None = KEY) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.AsyncClient(
        transport=httpx.MockTransport(sim.handle), base_url=BASE, headers=headers
    )


@pytest.fixture
async def api(sim: ILertSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sim) as client:
        yield client


def source_body(name: str = "prod", **fields: Any) -> dict[str, Any]:
    return {"name": name, "integrationType": "PROMETHEUS", "escalationPolicy": {"id": 1}, **fields}


async def create(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await api.post(SOURCES, json=source_body(**fields))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status", "message", "code"}
    assert body["status"] == status
    message: str = body["message"]
    return message


# -- authentication, permissions, rate limit ---------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", "wrong-key", "Bearer "])
async def test_a_missing_or_unknown_key_is_401(sim: ILertSimulator, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    async with client_for(sim, None) as client:
        response = await client.get(SOURCES, headers=headers)
    assert "API key" in error(response, 401)


async def test_bearer_and_bare_keys_are_both_accepted(sim: ILertSimulator) -> None:
    async with client_for(sim, None) as client:
        for header in (f"Bearer {KEY}", KEY, f"bearer {KEY}"):
            assert (await client.get(SOURCES, headers={"Authorization": header})).status_code == 200


async def test_roles_decide_what_a_key_may_do(sim: ILertSimulator) -> None:
    source = sim.add_alert_source("prod")
    alert = sim.raise_alert(source["id"])
    assert alert is not None
    async with client_for(sim, STAKEHOLDER) as stakeholder, client_for(sim, RESPONDER) as resp:
        assert (await stakeholder.get(SOURCES)).status_code == 200
        assert (await stakeholder.get(f"{ALERTS}/count")).status_code == 200
        assert "stakeholder" in error(await stakeholder.post(SOURCES, json=source_body()), 403)
        error(await stakeholder.put(f"{ALERTS}/{alert['id']}/accept"), 403)
        error(await resp.delete(f"{SOURCES}/{source['id']}"), 403)
        assert (await resp.put(f"{ALERTS}/{alert['id']}/accept")).status_code == 200
    assert len(sim.alert_sources()) == 1


async def test_120_requests_a_minute_per_key_then_429_without_headers(
    sim: ILertSimulator, clock: ManualClock
) -> None:
    async with client_for(sim) as api, client_for(sim, RESPONDER) as other:
        for _ in range(120):
            assert (await api.get(SOURCES)).status_code == 200
        refused = await api.get(SOURCES)
        error(refused, 429)
        assert "retry-after" not in refused.headers
        assert not [name for name in refused.headers if name.lower().startswith("x-ratelimit")]
        assert (await other.get(SOURCES)).status_code == 200  # per key
        clock.advance(30)
        error(await api.get(SOURCES), 429)
        clock.advance(30.001)
        assert (await api.get(SOURCES)).status_code == 200
    assert sim.rate_limited == 2


async def test_throttle_faults_are_headerless_unless_switched(sim: ILertSimulator) -> None:
    async with client_for(sim) as api:
        sim.faults.throttle(retry_after=17)
        plain = await api.get(SOURCES)
        error(plain, 429)
        assert "retry-after" not in plain.headers
        sim.faults.fail(429)
        assert "retry-after" not in (await api.get(SOURCES)).headers
        sim.retry_after_header = True
        sim.faults.throttle(retry_after=17)
        switched = await api.get(SOURCES)
    assert switched.status_code == 429
    assert switched.headers["retry-after"] == "17"
    assert sim.rate_limited == 0  # injected, not the limiter's


async def test_status_faults(sim: ILertSimulator) -> None:
    async with client_for(sim) as api:
        sim.faults.fail(500)
        assert error(await api.get(SOURCES), 500) == "Internal Server Error"
        sim.faults.fail(502)
        gateway = await api.get(SOURCES)
    assert gateway.status_code == 502
    assert "<html>" in gateway.text


async def test_unknown_paths_and_methods(api: httpx.AsyncClient) -> None:
    error(await api.get("/api/nothing"), 404)
    error(await api.patch(SOURCES), 405)


# -- alert sources -------------------------------------------------------------------------------


async def test_create_is_201_with_location_key_and_url(api: httpx.AsyncClient) -> None:
    response = await api.post(SOURCES, json=source_body("team-a prod", teams=[{"id": 902}]))
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"{BASE}/api/alert-sources/{body['id']}"
    assert body["integrationKey"].startswith("il1prom")
    assert body["integrationUrl"] == f"{BASE}/api/v1/events/prometheus/{body['integrationKey']}"
    assert body["escalationPolicy"]["id"] == 1
    assert body["escalationPolicy"]["name"] == "Default"
    assert body["escalationPolicy"]["escalationRules"][0]["user"] == {"id": 201}
    assert body["teams"] == [{"id": 902, "name": "team-b"}]
    assert (body["active"], body["status"]) == (True, "ALL_RESOLVED")
    assert (body["alertCreation"], body["alertPriorityRule"]) == ("ONE_ALERT_PER_EMAIL", "HIGH")
    assert not set(INCLUDE_ONLY_FIELDS) & set(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"integrationType": "API", "escalationPolicy": {"id": 1}}, "name is required"),
        ({"name": " ", "integrationType": "API", "escalationPolicy": {"id": 1}}, "name is"),
        ({"name": "x", "escalationPolicy": {"id": 1}}, "integrationType is required"),
        (source_body(integrationType="ALERTMANAGER"), "not a known integration type"),
        ({"name": "x", "integrationType": "API"}, "escalationPolicy is required"),
        (source_body(escalationPolicy={"id": 99}), "escalation policy 99 does not exist"),
        (source_body(escalationPolicy=1), "escalationPolicy must be an object"),
        (source_body(teams=[{"id": 5}]), "team 5 does not exist"),
        (source_body(alertCreation="SOMETIMES"), "alertCreation"),
        (source_body(alertPriorityRule="URGENT"), "alertPriorityRule"),
        (source_body(autoResolutionTimeout="4 hours"), "autoResolutionTimeout"),
        (source_body(active="yes"), "active"),
        (source_body(name="x" * 256), "255"),
        (["not", "an", "object"], "alert source object"),
    ],
)
async def test_create_refuses_bad_bodies_with_400(
    api: httpx.AsyncClient, sim: ILertSimulator, body: Any, message: str
) -> None:
    assert message in error(await api.post(SOURCES, json=body), 400)
    assert sim.alert_sources() == []


async def test_invalid_json_is_400(api: httpx.AsyncClient) -> None:
    assert "JSON" in error(await api.post(SOURCES, content=b"{nope"), 400)


async def test_duplicate_names_are_allowed(api: httpx.AsyncClient, sim: ILertSimulator) -> None:
    await create(api, name="same")
    await create(api, name="same")
    assert [s["name"] for s in sim.alert_sources()] == ["same", "same"]


async def test_list_is_a_bare_array_paged_by_start_index_at_most_50(
    api: httpx.AsyncClient, sim: ILertSimulator
) -> None:
    made = [sim.add_alert_source(f"s{n:03}", eventFilter="x")["id"] for n in range(120)]
    first = (await api.get(SOURCES)).json()
    assert isinstance(first, list)
    assert [s["id"] for s in first] == made[:50]  # default 50
    page = (await api.get(SOURCES, params={"start-index": 100, "max-results": 50})).json()
    assert [s["id"] for s in page] == made[100:]
    clamped = (await api.get(SOURCES, params={"max-results": 500})).json()
    assert len(clamped) == 50
    assert (await api.get(SOURCES, params={"start-index": 500})).json() == []
    # Never the include-only fields in a list, even when asked for.
    listed = (await api.get(SOURCES, params={"include": "eventFilter"})).json()
    assert "eventFilter" not in listed[0]
    assert "must be a number" in error(await api.get(SOURCES, params={"max-results": "x"}), 400)
    error(await api.get(SOURCES, params={"start-index": -1}), 400)


async def test_include_fields_come_only_when_asked_for(
    api: httpx.AsyncClient, sim: ILertSimulator
) -> None:
    made = sim.add_alert_source("x", eventFilter="severity > 2", summaryTemplate={"a": 1})
    plain = (await api.get(f"{SOURCES}/{made['id']}")).json()
    assert "eventFilter" not in plain
    both = await api.get(
        f"{SOURCES}/{made['id']}",
        params=[("include", "eventFilter"), ("include", "detailsTemplate")],
    )
    assert both.json()["eventFilter"] == "severity > 2"
    assert both.json()["detailsTemplate"] is None
    assert "summaryTemplate" not in both.json()


# The API reference's list of include-only alert source fields, written here as it reads.
DOCUMENTED_INCLUDE_ONLY = (
    "summaryTemplate",
    "detailsTemplate",
    "routingTemplate",
    "alertKeyTemplate",
    "servicesTemplate",
    "linkTemplates",
    "priorityTemplate",
    "severityTemplate",
    "textTemplate",
    "eventFilter",
    "eventTypeFilterCreate",
    "eventTypeFilterAccept",
    "eventTypeFilterResolve",
)


def test_the_include_only_fields_are_the_documented_ones() -> None:
    assert sorted(INCLUDE_ONLY_FIELDS) == sorted(DOCUMENTED_INCLUDE_ONLY)
    assert len(set(INCLUDE_ONLY_FIELDS)) == len(INCLUDE_ONLY_FIELDS)


@pytest.mark.parametrize("field", DOCUMENTED_INCLUDE_ONLY)
async def test_each_documented_include_only_field_is_stored_and_returned_only_on_request(
    api: httpx.AsyncClient, field: str
) -> None:
    value = "severity > 2" if field.startswith("event") else {"textTemplate": "{{ x }}"}
    created = await create(api, **{field: value})
    assert field not in created
    url = f"{SOURCES}/{created['id']}"

    assert field not in (await api.get(url)).json()
    assert (await api.get(url, params={"include": field})).json()[field] == value
    listed = (await api.get(SOURCES, params={"include": field})).json()
    assert field not in listed[0]


async def test_get_by_id_or_integration_key(api: httpx.AsyncClient, sim: ILertSimulator) -> None:
    made = sim.add_alert_source("x")
    by_key = (await api.get(f"{SOURCES}/{made['integrationKey']}")).json()
    assert by_key["id"] == made["id"]
    assert "not found" in error(await api.get(f"{SOURCES}/424242"), 404)


async def test_put_replaces_the_whole_source(api: httpx.AsyncClient, sim: ILertSimulator) -> None:
    made = await create(
        api,
        teams=[{"id": 901}],
        alertCreation="ONE_OPEN_ALERT_ALLOWED",
        autoResolutionTimeout="PT4H",
        eventFilter="x",
        active=False,
    )
    response = await api.put(f"{SOURCES}/{made['id']}", json=source_body("renamed"))
    assert response.status_code == 200
    after = sim.alert_source(made["id"])
    assert after is not None
    assert after["name"] == "renamed"
    # Everything the body left out is back to its default.
    assert after["teams"] == []
    assert after["alertCreation"] == "ONE_ALERT_PER_EMAIL"
    assert after["autoResolutionTimeout"] is None
    assert after["eventFilter"] is None
    assert after["active"] is True
    assert after["integrationKey"] == made["integrationKey"]


async def test_put_cannot_change_the_integration_type(
    api: httpx.AsyncClient, sim: ILertSimulator
) -> None:
    made = await create(api)
    response = await api.put(f"{SOURCES}/{made['id']}", json=source_body(integrationType="API"))
    assert "integrationType cannot be changed" in error(response, 400)
    error(await api.put(f"{SOURCES}/999", json=source_body()), 404)


async def test_delete_is_204_then_404(api: httpx.AsyncClient, sim: ILertSimulator) -> None:
    made = await create(api)
    assert (await api.delete(f"{SOURCES}/{made['id']}")).status_code == 204
    error(await api.delete(f"{SOURCES}/{made['id']}"), 404)
    assert sim.alert_sources() == []


async def test_inactive_source_reports_disabled(api: httpx.AsyncClient) -> None:
    made = await create(api, active=False)
    assert made["status"] == "DISABLED"


# -- escalation policies -------------------------------------------------------------------------


async def test_escalation_policies(api: httpx.AsyncClient, sim: ILertSimulator) -> None:
    routed = sim.add_escalation_policy("routed", routing_key="payments")
    listed = (await api.get("/api/escalation-policies")).json()
    assert [p["name"] for p in listed] == ["Default", "Backup", "routed"]
    assert (await api.get("/api/escalation-policies/2")).json()["name"] == "Backup"
    error(await api.get("/api/escalation-policies/77"), 404)
    resolved = await api.get("/api/escalation-policies/resolve", params={"routing-key": "payments"})
    assert resolved.json()["id"] == routed
    error(await api.get("/api/escalation-policies/resolve", params={"routing-key": "x"}), 404)
    error(await api.get("/api/escalation-policies/resolve"), 400)


# -- events --------------------------------------------------------------------------------------


async def post_event(api: httpx.AsyncClient, key: str, event_type: str, **fields: Any) -> None:
    body = {"integrationKey": key, "eventType": event_type, "summary": "disk full", **fields}
    response = await api.post("/api/events", json=body)
    assert response.status_code == 202, response.text


async def test_events_open_deduplicate_accept_and_resolve_by_alert_key(
    api: httpx.AsyncClient, sim: ILertSimulator
) -> None:
    source = sim.add_alert_source("prod")
    key = source["integrationKey"]
    await post_event(api, key, "ALERT", alertKey="disk")
    await post_event(api, key, "ALERT", alertKey="disk")  # the same open alert
    await post_event(api, key, "ALERT", alertKey="cpu")
    assert [a["alertKey"] for a in sim.alerts(source["id"])] == ["disk", "cpu"]
    await post_event(api, key, "ACCEPT", alertKey="disk")
    await post_event(api, key, "RESOLVE", alertKey="cpu")
    await post_event(api, key, "COMMENT", alertKey="disk")
    states = {a["alertKey"]: a["status"] for a in sim.alerts(source["id"])}
    assert states == {"disk": "ACCEPTED", "cpu": "RESOLVED"}
    await post_event(api, key, "ALERT", alertKey="cpu")  # resolved: a new alert
    assert len(sim.alerts(source["id"])) == 3


async def test_events_at_the_integration_url_and_their_errors(
    api: httpx.AsyncClient, sim: ILertSimulator
) -> None:
    source = sim.add_alert_source("prod", "PROMETHEUS")
    url = httpx.URL(source["integrationUrl"])
    response = await api.post(url.path, json={"eventType": "ALERT", "summary": "up"})
    assert response.status_code == 202
    assert sim.open_alerts(source["id"]) == 1
    event = {"integrationKey": source["integrationKey"], "eventType": "ALERT", "summary": "x"}
    async with client_for(sim, None) as anonymous:  # the key is the credential here
        assert (await anonymous.post("/api/events", json=event)).status_code == 202
        error(await anonymous.post("/api/events", json={**event, "integrationKey": "nope"}), 404)
        error(await anonymous.post("/api/events", json={**event, "eventType": "PANIC"}), 400)
        error(await anonymous.post("/api/events", json={**event, "summary": ""}), 400)
        error(await anonymous.post("/api/events", json={**event, "eventType": "RESOLVE"}), 400)
        error(await anonymous.post("/api/events", json={**event, "priority": "MEDIUM"}), 400)


async def test_events_are_limited_to_50_a_minute_per_integration_key(sim: ILertSimulator) -> None:
    source = sim.add_alert_source("prod")
    event = {"integrationKey": source["integrationKey"], "eventType": "ALERT", "summary": "x"}
    async with client_for(sim, None) as anonymous:
        for _ in range(50):
            assert (await anonymous.post("/api/events", json=event)).status_code == 202
        error(await anonymous.post("/api/events", json=event), 429)


async def test_an_inactive_source_raises_nothing(sim: ILertSimulator) -> None:
    source = sim.add_alert_source("prod", active=False)
    assert sim.raise_alert(source["id"]) is None
    assert sim.alerts(source["id"]) == []


@pytest.mark.parametrize(
    ("creation", "expected"),
    [
        ("ONE_ALERT_PER_EMAIL", 3),
        ("ONE_OPEN_ALERT_ALLOWED", 1),
        ("ONE_PENDING_ALERT_ALLOWED", 2),  # the first one is accepted in between
    ],
)
def test_alert_creation_decides_whether_events_open_new_alerts(
    sim: ILertSimulator, creation: str, expected: int
) -> None:
    source = sim.add_alert_source("prod")
    sim.patch(source["id"], alert_creation=creation)
    first = sim.raise_alert(source["id"], "one")
    assert first is not None
    sim.accept_alert(first["id"])
    sim.raise_alert(source["id"], "two")
    sim.raise_alert(source["id"], "three")
    assert len(sim.alerts(source["id"])) == expected


def test_grouping_window_and_auto_resolution(sim: ILertSimulator, clock: ManualClock) -> None:
    source = sim.add_alert_source("prod")
    sim.patch(
        source["id"],
        alert_creation="ONE_ALERT_GROUPED_PER_WINDOW",
        alert_grouping_window="PT10M",
        auto_resolution_timeout="PT1H",
    )
    sim.raise_alert(source["id"])
    clock.advance(300)
    sim.raise_alert(source["id"])  # within 10 minutes: grouped
    clock.advance(600)
    sim.raise_alert(source["id"])  # 15 minutes after the first: new
    assert len(sim.alerts(source["id"])) == 2
    clock.advance(3600 - 900)
    assert [a["status"] for a in sim.alerts(source["id"])] == ["RESOLVED", "PENDING"]


# -- alerts --------------------------------------------------------------------------------------


async def test_alert_list_filters_paging_and_count(
    api: httpx.AsyncClient, sim: ILertSimulator, clock: ManualClock
) -> None:
    one = sim.add_alert_source("one")
    two = sim.add_alert_source("two", escalation_policy_id=2)
    for number in range(130):
        clock.advance(1)
        sim.raise_alert(one["id"], f"one {number}")
    middle = clock() + 0.5
    for number in range(20):
        clock.advance(1)
        sim.raise_alert(two["id"], f"two {number}")
    alerts = sim.alerts(one["id"])
    sim.accept_alert(alerts[0]["id"])
    sim.resolve_alert(alerts[1]["id"])

    async def ids(**params: Any) -> list[int]:
        response = await api.get(ALERTS, params=params)
        assert response.status_code == 200, response.text
        return [alert["id"] for alert in response.json()]

    async def count(**params: Any) -> int:
        response = await api.get(f"{ALERTS}/count", params=params)
        assert response.status_code == 200, response.text
        result: int = response.json()["count"]
        return result

    assert len(await ids()) == 50  # default page
    assert len(await ids(**{"max-results": 1000})) == 100  # the cap
    page = await ids(**{"sources": one["id"], "start-index": 100, "max-results": 100})
    assert page == [a["id"] for a in alerts[100:]]
    assert await count(sources=[one["id"]], states=["PENDING", "ACCEPTED"]) == 129
    assert await count(sources=[one["id"], two["id"]]) == 150
    assert await count(states="RESOLVED") == 1
    assert await count(policies=2) == 20
    assert await count(**{"from": _iso(middle)}) == 20
    assert await count(until=_iso(middle)) == 130
    assert await count(responders="sim.admin") == 150  # first user of every policy here
    assert await count(responders="201") == 150
    assert await count(responders="nobody") == 0
    assert "states" in error(await api.get(ALERTS, params={"states": "OPEN"}), 400)
    error(await api.get(ALERTS, params={"sources": "one"}), 400)
    error(await api.get(f"{ALERTS}/count", params={"from": "yesterday"}), 400)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


async def test_accept_and_resolve_follow_the_state_machine(
    api: httpx.AsyncClient, sim: ILertSimulator, clock: ManualClock
) -> None:
    source = sim.add_alert_source("prod")
    alert = sim.raise_alert(source["id"])
    assert alert is not None
    assert (alert["status"], alert["resolvedOn"]) == ("PENDING", None)
    path = f"{ALERTS}/{alert['id']}"
    accepted = (await api.put(f"{path}/accept")).json()
    assert accepted["status"] == "ACCEPTED"
    assert accepted["responders"][0]["status"] == "ACCEPTED"
    assert (await api.put(f"{path}/accept")).json()["status"] == "ACCEPTED"
    clock.advance(60)
    resolved = (await api.put(f"{path}/resolve")).json()
    assert resolved["status"] == "RESOLVED"
    assert resolved["resolvedOn"] is not None
    again = await api.put(f"{path}/resolve")
    assert (again.status_code, again.json()["resolvedOn"]) == (200, resolved["resolvedOn"])
    assert "cannot be accepted" in error(await api.put(f"{path}/accept"), 400)
    error(await api.put(f"{ALERTS}/1/resolve"), 404)
    error(await api.get(f"{ALERTS}/nope"), 404)
    log = (await api.get(f"{path}/log-entries")).json()
    kinds = [entry["logEntryType"] for entry in log]
    assert kinds[0] == "AlertReceivedLogEntry"
    assert "AlertAcceptedLogEntry" in kinds
    assert kinds[-1] == "AlertResolvedLogEntry"


async def test_create_get_and_assign_an_alert(api: httpx.AsyncClient, sim: ILertSimulator) -> None:
    source = sim.add_alert_source("prod")
    user = sim.add_user("Grace", "Hopper")
    body = {
        "summary": "manual",
        "details": "by hand",
        "alertSource": {"id": source["id"]},
        "priority": "LOW",
        "links": [{"href": "https://example.com", "text": "runbook"}],
    }
    response = await api.post(ALERTS, json=body)
    assert response.status_code == 201
    alert = response.json()
    assert (alert["priority"], alert["alertSource"]["id"]) == ("LOW", source["id"])
    got = (await api.get(f"{ALERTS}/{alert['id']}", params={"include": "escalationRules"})).json()
    assert got["links"] == body["links"]
    assert got["escalationRules"][0]["user"] == {"id": 201}
    assigned = await api.put(f"{ALERTS}/{alert['id']}/assign", params={"user": user})
    assert assigned.json()["assignedTo"] == {"id": user}
    error(await api.put(f"{ALERTS}/{alert['id']}/assign"), 400)
    error(await api.put(f"{ALERTS}/{alert['id']}/assign", params={"user": 1, "policy": 1}), 400)
    error(await api.put(f"{ALERTS}/{alert['id']}/assign", params={"user": 999}), 400)
    by_policy = await api.put(f"{ALERTS}/{alert['id']}/assign", params={"policy": 2})
    assert by_policy.json()["escalationPolicy"]["id"] == 2
    assert "summary" in error(await api.post(ALERTS, json={"alertSource": {"id": 1}}), 400)
    error(await api.post(ALERTS, json={"summary": "x", "alertSource": {"id": 5}}), 400)


async def test_responders_suggestions_and_notifications(
    api: httpx.AsyncClient, sim: ILertSimulator
) -> None:
    source = sim.add_alert_source("prod")
    user = sim.add_user("Grace", "Hopper")
    alert = sim.raise_alert(source["id"], "disk full")
    assert alert is not None
    path = f"{ALERTS}/{alert['id']}"
    suggested = (await api.get(f"{path}/suggested-responders")).json()
    assert {
        "group": "SUGGESTED",
        "id": user,
        "name": "Grace Hopper",
        "disabled": False,
    } in suggested
    added = await api.post(f"{path}/responders", json={"user": {"id": user}})
    assert added.status_code == 201
    assert added.json()["user"]["id"] == user
    error(await api.post(f"{path}/responders", json={"user": {"id": user}}), 400)
    assert (await api.delete(f"{path}/responders/{user}")).status_code == 204
    error(await api.delete(f"{path}/responders/{user}"), 404)
    notifications = (await api.get(f"{path}/notifications")).json()
    assert notifications[0]["alertId"] == alert["id"]
    assert notifications[0]["user"]["firstname"] == "Sim"
    sim.resolve_alert(alert["id"])
    error(await api.post(f"{path}/responders", json={"user": {"id": user}}), 405)


async def test_log_entries_are_paged(api: httpx.AsyncClient, sim: ILertSimulator) -> None:
    source = sim.add_alert_source("prod")
    alert = sim.raise_alert(source["id"], alert_key="k")
    assert alert is not None
    for _ in range(120):
        sim.raise_alert(source["id"], alert_key="k")  # each adds a log entry
    path = f"{ALERTS}/{alert['id']}/log-entries"
    assert len((await api.get(path, params={"max-results": 500})).json()) == 100
    rest = (await api.get(path, params={"start-index": 100, "max-results": 100})).json()
    assert len(rest) == 22  # received, notification, 120 events


async def test_alerts_outlive_their_deleted_source(
    api: httpx.AsyncClient, sim: ILertSimulator
) -> None:
    source = sim.add_alert_source("prod")
    sim.raise_alert(source["id"])
    assert (await api.delete(f"{SOURCES}/{source['id']}")).status_code == 204
    count = await api.get(f"{ALERTS}/count", params={"sources": source["id"], "states": "PENDING"})
    assert count.json() == {"count": 1}
    listed = (await api.get(ALERTS, params={"sources": source["id"]})).json()
    assert listed[0]["alertSource"]["name"] == "prod"


# -- behind the back, over HTTP ------------------------------------------------------------------


async def test_admin_routes_drive_the_simulator(sim: ILertSimulator) -> None:
    async with client_for(sim, None) as admin:
        made = await admin.post("/_sim/alert-sources", json={"name": "x", "integrationType": "API"})
        assert made.status_code == 201
        pk = made.json()["id"]
        patched = await admin.patch(
            f"/_sim/alert-sources/{pk}",
            json={"name": "y", "active": False, "escalationPolicyId": 2},
        )
        assert (patched.json()["name"], patched.json()["active"]) == ("y", False)
        assert patched.json()["escalationPolicy"]["id"] == 2
        await admin.patch(f"/_sim/alert-sources/{pk}", json={"active": True})
        raised = await admin.post(f"/_sim/alert-sources/{pk}/alerts", json={"alertKey": "a"})
        assert raised.status_code == 201
        alert_id = raised.json()["id"]
        assert (await admin.put(f"/_sim/alerts/{alert_id}/accept")).json()["status"] == "ACCEPTED"
        listed = await admin.get("/_sim/alerts", params={"source": pk, "state": "ACCEPTED"})
        assert [a["id"] for a in listed.json()] == [alert_id]
        resolved = await admin.post(f"/_sim/alert-sources/{pk}/resolve", json={})
        assert resolved.json() == {"resolved": 1}
        policy = await admin.post("/_sim/escalation-policies", json={"name": "p"})
        assert policy.json()["id"] == 3
        assert (await admin.delete("/_sim/escalation-policies/3")).status_code == 204
        team = await admin.post("/_sim/teams", json={"name": "t"})
        assert team.json() == {"id": 903, "name": "t"}
        user = await admin.post("/_sim/users", json={"firstName": "A", "lastName": "B"})
        assert user.json()["id"] == 202
        assert (await admin.get("/_sim/rate-limited")).json() == {"count": 0}
        assert (await admin.delete(f"/_sim/alert-sources/{pk}")).status_code == 204
        assert (await admin.get(f"/_sim/alert-sources/{pk}")).status_code == 404
        assert (await admin.post("/_sim/alert-sources", json={"nme": "x"})).status_code == 400
        assert (await admin.get("/_sim/requests")).json()["total"] == 0


def test_python_api_refuses_what_it_cannot_do(sim: ILertSimulator) -> None:
    with pytest.raises(ValueError, match="integration type"):
        sim.add_alert_source("x", "ALERTMANAGER")
    with pytest.raises(KeyError):
        sim.rename(5, "y")
    with pytest.raises(ValueError, match="cannot patch"):
        sim.patch(sim.add_alert_source("x")["id"], colour="red")
    alert = sim.raise_alert(sim.add_alert_source("z")["id"])
    assert alert is not None
    sim.resolve_alert(alert["id"])
    with pytest.raises(ValueError, match="cannot be accepted"):
        sim.accept_alert(alert["id"])


# -- served over loopback, and from the command line ---------------------------------------------


async def test_served_over_http_with_the_same_behaviour() -> None:
    sim = ILertSimulator(keys={KEY: "admin"})
    async with SimulatorServer(sim) as url:
        headers = {"Authorization": KEY}
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            response = await client.post(SOURCES, json=source_body())
        assert response.status_code == 201
        assert response.json()["integrationUrl"].startswith(f"{url}/api/v1/events/")
        assert response.headers["location"].startswith(url)


def test_command_line_options_build_the_simulator() -> None:
    args = build_parser().parse_args(
        ["--key", "k1:stakeholder", "--key", "k2", "--escalation-policy", "P", "--team", "T"]
    )
    sim = simulator_from_args(args)
    assert sim._keys == {"k1": "stakeholder", "k2": "admin"}
    assert [p["name"] for p in sim.escalation_policies()] == ["P"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--key", "k:boss"])
    assert Rate() == Rate(120, 60.0)
