"""The Mackerel simulator answers as Mackerel's API reference and its Alerts page say."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock
from alertsim.mackerel import (
    DEFAULT_KEY,
    READ_ONLY,
    READ_WRITE,
    MackerelSimulator,
    build_parser,
    simulator_from_args,
)
from alertsim.server import SimulatorServer, SimulatorThread

BASE = "http://mackerel.test"
KEY = "sim-read-write-key"
READER = "sim-read-only-key"
CHANNELS = "/api/v0/channels"
GROUPS = "/api/v0/notification-groups"
ALERTS = "/api/v0/alerts"
ID = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{11}$")
WEBHOOK = {
    "name": "ops",
    "type": "webhook",
    "url": "https://receiver.example.com/mackerel",
    "enabledGraphImage": False,
    "events": ["alert", "alertGroup"],
}


@pytest.fixture
def sim(clock: ManualClock) -> MackerelSimulator:
    return MackerelSimulator(keys={KEY: READ_WRITE, READER: READ_ONLY}, clock=clock, seed=7)


def client_for(sim: MackerelSimulator, key: str | None = KEY) -> httpx.AsyncClient:
    headers = {"X-Api-Key": key} if key is not None else {}
    transport = httpx.MockTransport(sim.handle)
    return httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers)


@pytest.fixture
async def api(sim: MackerelSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sim) as client:
        yield client


async def create(api: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await api.post(CHANNELS, json={**WEBHOOK, **changes})
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def default_group(sim: MackerelSimulator) -> dict[str, Any]:
    found = sim.notification_group(sim.default_group_id)
    assert found is not None
    return found


# -- authentication and permissions ------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "wrong-key"])
async def test_missing_or_unknown_key_is_403_with_mackerels_error_body(
    sim: MackerelSimulator, key: str | None
) -> None:
    async with client_for(sim, key) as client:
        response = await client.get(CHANNELS)
    assert response.status_code == 403
    assert set(response.json()) == {"error"}
    assert response.json()["error"]["message"]


async def test_read_only_key_reads_but_every_write_is_403(sim: MackerelSimulator) -> None:
    channel = sim.add_channel("theirs")
    alert_monitor = sim.add_monitor("cpu")
    alert = sim.open_alert(alert_monitor, deliver=False)
    async with client_for(sim, READER) as reader:
        assert (await reader.get(CHANNELS)).status_code == 200
        assert (await reader.get(ALERTS)).status_code == 200
        writes = [
            await reader.post(CHANNELS, json=WEBHOOK),
            await reader.put(f"{CHANNELS}/{channel['id']}", json=WEBHOOK),
            await reader.delete(f"{CHANNELS}/{channel['id']}"),
            await reader.put(f"{GROUPS}/{sim.default_group_id}", json={}),
            await reader.post(f"{ALERTS}/{alert['id']}/close", json={"reason": "x"}),
        ]
    assert [response.status_code for response in writes] == [403] * 5
    assert "Write permission" in writes[0].json()["error"]["message"]
    assert len(sim.channels()) == 1
    assert sim.alerts() == [alert]


async def test_the_org_answers_with_its_name(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v0/org")
    assert response.json() == {"name": "alertsync-sandbox"}


# -- channels ---------------------------------------------------------------------------------


async def test_create_returns_the_channel_with_id_and_no_suspension(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    body = await create(api)
    assert ID.match(body["id"])
    assert body == {**WEBHOOK, "id": body["id"], "suspendedAt": None}
    # The default of addToDefaultNotificationGroup is taken as "joins" (the web UI's).
    assert body["id"] in default_group(sim)["childChannelIds"]


async def test_a_channel_may_stay_out_of_the_default_group(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    body = await create(api, addToDefaultNotificationGroup=False)
    assert body["id"] not in default_group(sim)["childChannelIds"]


async def test_list_is_the_whole_organization_in_one_answer(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    for number in range(250):
        sim.add_channel(f"channel {number}")
    response = await api.get(CHANNELS)
    assert set(response.json()) == {"channels"}
    assert len(response.json()["channels"]) == 250


async def test_there_is_no_get_by_id(api: httpx.AsyncClient) -> None:
    body = await create(api)
    assert (await api.get(f"{CHANNELS}/{body['id']}")).status_code == 405


async def test_only_the_type_fields_of_email_slack_and_webhook_are_shown(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    sim.add_channel("line", type="line")
    email = await create(api, type="email", emails=["a@example.com"], userIds=[], url=None)
    listed = {c["name"]: c for c in (await api.get(CHANNELS)).json()["channels"]}
    assert set(listed["line"]) == {"id", "name", "type", "suspendedAt"}
    assert set(email) == {"id", "name", "type", "suspendedAt", "emails", "userIds", "events"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "name"),
        ({"type": None}, "type"),
        ({"type": "carrier-pigeon"}, "unknown channel type"),
        ({"type": "line"}, "cannot be created"),
        ({"url": None}, "url"),
        ({"url": "ftp://nope"}, "url"),
        ({"events": ["alert", "alarm"]}, "alarm"),
        ({"enabledGraphImage": "yes"}, "enabledGraphImage"),
        ({"addToDefaultNotificationGroup": "yes"}, "addToDefaultNotificationGroup"),
    ],
)
async def test_create_errors_are_400_and_leave_nothing(
    api: httpx.AsyncClient, sim: MackerelSimulator, changes: dict[str, Any], message: str
) -> None:
    response = await api.post(CHANNELS, json={**WEBHOOK, **changes})
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert sim.channels() == []


async def test_an_empty_events_list_is_accepted(api: httpx.AsyncClient) -> None:
    assert (await create(api, events=[]))["events"] == []


async def test_put_is_a_full_replace_and_keeps_id_and_suspension(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    body = await create(api, enabledGraphImage=True)
    sim.suspend(body["id"], at=1_700_000_000)
    response = await api.put(
        f"{CHANNELS}/{body['id']}",
        json={"name": "renamed", "type": "webhook", "url": "https://other.example.com/x"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": body["id"],
        "name": "renamed",
        "type": "webhook",
        "suspendedAt": 1_700_000_000,
        "url": "https://other.example.com/x",
        # Left out of the PUT: reset, not kept.
        "enabledGraphImage": False,
        "events": [],
    }


async def test_put_cannot_change_the_type_and_404s_an_unknown_id(api: httpx.AsyncClient) -> None:
    body = await create(api)
    changed = await api.put(f"{CHANNELS}/{body['id']}", json={**WEBHOOK, "type": "slack"})
    assert changed.status_code == 400
    missing = await api.put(f"{CHANNELS}/nosuchchan1", json=WEBHOOK)
    assert missing.status_code == 404


async def test_an_older_mackerel_has_no_channel_put(sim: MackerelSimulator) -> None:
    sim.channel_put = False
    async with client_for(sim) as client:
        body = await create(client)
        response = await client.put(f"{CHANNELS}/{body['id']}", json=WEBHOOK)
    assert response.status_code == 405


async def test_delete_returns_the_channel_then_404_and_leaves_every_group(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    body = await create(api)
    group = sim.add_notification_group("team", channel_ids=[body["id"]])
    first = await api.delete(f"{CHANNELS}/{body['id']}")
    assert (first.status_code, first.json()) == (200, body)
    assert (await api.delete(f"{CHANNELS}/{body['id']}")).status_code == 404
    assert body["id"] not in default_group(sim)["childChannelIds"]
    assert sim.notification_group(group) is not None
    assert sim.notification_group(group)["childChannelIds"] == []  # type: ignore[index]


# -- notification groups -----------------------------------------------------------------------


async def test_groups_list_has_the_default_group(api: httpx.AsyncClient) -> None:
    groups = (await api.get(GROUPS)).json()["notificationGroups"]
    assert [group.get("type") for group in groups] == ["group-default"]


async def test_group_create_and_full_replace(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    channel = await create(api)
    monitor = sim.add_monitor("cpu")
    body = {
        "name": "team",
        "notificationLevel": "critical",
        "childNotificationGroupIds": [],
        "childChannelIds": [channel["id"]],
        "monitors": [{"id": monitor, "skipDefault": True}],
        "services": [{"name": "checkout"}],
    }
    created = (await api.post(GROUPS, json=body)).json()
    assert created == {**body, "id": created["id"]}

    replaced = await api.put(
        f"{GROUPS}/{created['id']}",
        json={"name": "team", "notificationLevel": "all", "childChannelIds": []},
    )
    assert replaced.json()["monitors"] == []
    assert replaced.json()["childChannelIds"] == []


@pytest.mark.parametrize(
    "changes",
    [
        {"childChannelIds": ["nosuchchan1"]},
        {"childNotificationGroupIds": ["nosuchgrp12"]},
        {"monitors": [{"id": "nosuchmon12"}]},
        {"notificationLevel": "some"},
        {"name": ""},
    ],
)
async def test_group_errors_are_400(api: httpx.AsyncClient, changes: dict[str, Any]) -> None:
    body = {"name": "team", "notificationLevel": "all", **changes}
    response = await api.post(GROUPS, json=body)
    assert response.status_code == 400


async def test_the_default_group_takes_channels_but_cannot_be_deleted(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    channel = await create(api, addToDefaultNotificationGroup=False)
    default = default_group(sim)
    updated = await api.put(
        f"{GROUPS}/{default['id']}",
        json={**default, "childChannelIds": [channel["id"]]},
    )
    assert updated.json()["type"] == "group-default"
    assert updated.json()["childChannelIds"] == [channel["id"]]
    assert (await api.delete(f"{GROUPS}/{default['id']}")).status_code == 400


# -- alerts -------------------------------------------------------------------------------------


def open_alerts(sim: MackerelSimulator, count: int, clock: ManualClock) -> list[str]:
    monitor = sim.add_monitor("cpu")
    ids = []
    for _ in range(count):
        clock.advance(1)
        ids.append(sim.open_alert(monitor, deliver=False)["id"])
    return ids


async def test_alerts_are_open_only_by_default_newest_first(
    api: httpx.AsyncClient, sim: MackerelSimulator, clock: ManualClock
) -> None:
    first, second, third = open_alerts(sim, 3, clock)
    sim.close_alert(second, deliver=False)

    opened = (await api.get(ALERTS)).json()
    assert opened == {"alerts": [sim.alert(third), sim.alert(first)]}
    every = (await api.get(ALERTS, params={"withClosed": "true"})).json()
    assert [alert["id"] for alert in every["alerts"]] == [third, second, first]
    assert "nextId" not in every


async def test_alert_keys_follow_the_seed(
    api: httpx.AsyncClient, sim: MackerelSimulator, clock: ManualClock
) -> None:
    monitor = sim.add_monitor("disk", type="check")
    opened = sim.open_alert(monitor, host_id="2eQGEaLxibb", message="disk full", deliver=False)
    assert set(opened) == {"id", "status", "monitorId", "type", "hostId", "message", "openedAt"}
    assert opened["type"] == "check"
    assert opened["openedAt"] == int(clock())


async def test_nextid_pages_by_100_and_is_there_only_while_more_remain(
    api: httpx.AsyncClient, sim: MackerelSimulator, clock: ManualClock
) -> None:
    ids = list(reversed(open_alerts(sim, 250, clock)))  # newest first
    seen: list[str] = []
    pages = []
    params: dict[str, str] = {}
    while True:
        body = (await api.get(ALERTS, params=params)).json()
        pages.append(len(body["alerts"]))
        seen.extend(alert["id"] for alert in body["alerts"])
        if "nextId" not in body:
            break
        assert body["nextId"] == body["alerts"][-1]["id"]
        params = {"nextId": body["nextId"]}
    assert pages == [100, 100, 50]
    assert seen == ids


async def test_exactly_100_alerts_is_one_page_without_nextid(
    api: httpx.AsyncClient, sim: MackerelSimulator, clock: ManualClock
) -> None:
    open_alerts(sim, 100, clock)
    body = (await api.get(ALERTS)).json()
    assert len(body["alerts"]) == 100
    assert "nextId" not in body


async def test_paging_with_closed_counts_closed_alerts_too(
    api: httpx.AsyncClient, sim: MackerelSimulator, clock: ManualClock
) -> None:
    ids = open_alerts(sim, 120, clock)
    for alert_id in ids[:60]:
        sim.close_alert(alert_id, deliver=False)
    assert "nextId" not in (await api.get(ALERTS)).json()
    first = (await api.get(ALERTS, params={"withClosed": "true"})).json()
    assert len(first["alerts"]) == 100
    rest = await api.get(ALERTS, params={"withClosed": "true", "nextId": first["nextId"]})
    assert len(rest.json()["alerts"]) == 20


async def test_limit_is_honoured_up_to_100(
    api: httpx.AsyncClient, sim: MackerelSimulator, clock: ManualClock
) -> None:
    open_alerts(sim, 5, clock)
    body = (await api.get(ALERTS, params={"limit": "2"})).json()
    assert len(body["alerts"]) == 2
    assert "nextId" in body
    assert (await api.get(ALERTS, params={"limit": "101"})).status_code == 400


async def test_close_requires_a_reason_and_returns_the_closed_alert(
    api: httpx.AsyncClient, sim: MackerelSimulator, clock: ManualClock
) -> None:
    (alert_id,) = open_alerts(sim, 1, clock)
    missing = await api.post(f"{ALERTS}/{alert_id}/close", json={})
    assert missing.status_code == 400
    assert "reason" in missing.json()["error"]["message"]

    clock.advance(60)
    closed = await api.post(f"{ALERTS}/{alert_id}/close", json={"reason": "fixed"})
    assert closed.status_code == 200
    assert closed.json()["status"] == "OK"
    assert closed.json()["reason"] == "fixed"
    assert closed.json()["closedAt"] == int(clock())
    assert sim.alerts() == []

    unknown = await api.post(f"{ALERTS}/nosuchalert/close", json={"reason": "x"})
    assert unknown.status_code == 404


# -- routing and delivery -----------------------------------------------------------------------


class Receiver:
    """A webhook endpoint: records what Mackerel posts to it."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        with self._lock:
            self.received.append((request.url.path, json.loads(request.content)))
        return httpx.Response(self.status)

    def sync_handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.received.append((request.url.path, json.loads(request.read())))
        return httpx.Response(self.status)


def test_routing_follows_default_group_skipdefault_level_and_children(
    sim: MackerelSimulator,
) -> None:
    in_default = sim.add_channel("default")["id"]
    critical_only = sim.add_channel("critical", add_to_default_group=False)["id"]
    child = sim.add_channel("child", add_to_default_group=False)["id"]
    cpu = sim.add_monitor("cpu")
    disk = sim.add_monitor("disk")
    child_group = sim.add_notification_group("child", channel_ids=[child])
    sim.add_notification_group(
        "critical",
        notification_level="critical",
        channel_ids=[critical_only],
        monitors=[(disk, True)],
        child_group_ids=[child_group],
    )

    cpu_warning = sim.open_alert(cpu, status="WARNING", deliver=False)["id"]
    disk_warning = sim.open_alert(disk, status="WARNING", deliver=False)["id"]
    disk_critical = sim.open_alert(disk, deliver=False)["id"]

    assert sim.routed_channels(cpu_warning) == [in_default]
    assert sim.routed_channels(disk_warning) == []  # skipDefault, and below the level
    assert set(sim.routed_channels(disk_critical)) == {critical_only, child}


def test_an_alert_is_delivered_to_the_routed_webhook_over_the_injected_transport(
    clock: ManualClock,
) -> None:
    receiver = Receiver()
    sim = MackerelSimulator(
        delivery_transport=httpx.MockTransport(receiver.sync_handle), clock=clock, seed=1
    )
    channel = sim.add_channel("ops", url="https://hooks.example.com/in")["id"]
    monitor = sim.add_monitor("cpu", type="host")

    alert = sim.open_alert(monitor, host_id="2eQGEaLxibb", value=97.5)

    ((path, payload),) = receiver.received
    assert path == "/in"
    assert payload["orgName"] == "alertsync-sandbox"
    assert payload["event"] == "alert"
    assert payload["host"]["id"] == "2eQGEaLxibb"
    assert payload["alert"]["id"] == alert["id"]
    assert payload["alert"]["isOpen"] is True
    assert payload["alert"]["status"] == "critical"
    assert payload["alert"]["monitorName"] == "cpu"
    assert payload["alert"]["metricValue"] == 97.5
    (delivery,) = sim.deliveries(channel)
    assert delivery.delivered

    sim.close_alert(alert["id"])
    assert receiver.received[-1][1]["alert"]["isOpen"] is False


def test_suspended_channels_and_channels_without_alert_events_hear_nothing(
    clock: ManualClock,
) -> None:
    receiver = Receiver()
    sim = MackerelSimulator(
        delivery_transport=httpx.MockTransport(receiver.sync_handle), clock=clock, seed=1
    )
    suspended = sim.add_channel("suspended", url="https://hooks.example.com/suspended")["id"]
    sim.suspend(suspended)
    sim.add_channel("hosts only", url="https://hooks.example.com/hosts", events=["hostStatus"])
    sim.add_channel("slack", type="slack", url="https://hooks.slack.com/x")
    sim.open_alert(sim.add_monitor("cpu"))
    assert receiver.received == []


def test_an_unreachable_url_is_recorded_not_raised(clock: ManualClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sim = MackerelSimulator(delivery_transport=httpx.MockTransport(refuse), clock=clock)
    channel = sim.add_channel("ops")["id"]
    sim.open_alert(sim.add_monitor("cpu"))
    (delivery,) = sim.deliveries(channel)
    assert (delivery.delivered, delivery.error) == (False, "ConnectError")


def test_delivery_goes_over_real_http(sim: MackerelSimulator) -> None:
    receiver = Receiver()
    with SimulatorThread(receiver) as receiver_url:
        channel = sim.add_channel("ops", url=f"{receiver_url}/hooks/mackerel")["id"]
        alert = sim.open_alert(sim.add_monitor("cpu"))
        again = sim.deliver(channel, alert["id"])
    assert again.status_code == 200
    assert [path for path, _ in receiver.received] == ["/hooks/mackerel"] * 2
    assert receiver.received[0][1]["alert"]["id"] == alert["id"]


async def test_admin_alerts_deliver_without_blocking_the_loop_that_serves_the_receiver(
    sim: MackerelSimulator,
) -> None:
    receiver = Receiver()
    async with (
        SimulatorServer(receiver) as receiver_url,
        SimulatorServer(sim) as url,
        httpx.AsyncClient(base_url=url, timeout=5.0) as admin,
    ):
        channel = (
            await admin.post("/_sim/channels", json={"name": "ops", "url": f"{receiver_url}/x"})
        ).json()
        monitor = (await admin.post("/_sim/monitors", json={"name": "cpu"})).json()
        opened = await admin.post("/_sim/alerts", json={"monitorId": monitor["id"]})
        assert opened.status_code == 201
        deliveries = (await admin.get("/_sim/deliveries")).json()
        closed = await admin.post(f"/_sim/alerts/{opened.json()['id']}/close", json={})
        assert closed.json()["status"] == "OK"
    assert deliveries[0]["channelId"] == channel["id"]
    assert deliveries[0]["statusCode"] == 200
    assert len(receiver.received) == 2


# -- behind the operator's back, over HTTP -------------------------------------------------------


async def test_admin_routes_stage_drift(sim: MackerelSimulator) -> None:
    async with client_for(sim, None) as admin:
        channel = (await admin.post("/_sim/channels", json={"name": "ops"})).json()
        cid = channel["id"]
        patched = await admin.patch(
            f"/_sim/channels/{cid}", json={"url": "https://elsewhere.example.com", "events": []}
        )
        assert patched.json()["url"] == "https://elsewhere.example.com"
        assert patched.json()["events"] == []
        suspended = await admin.post(f"/_sim/channels/{cid}/suspension", json={"at": 1234})
        assert suspended.json()["suspendedAt"] == 1234
        resumed = await admin.delete(f"/_sim/channels/{cid}/suspension")
        assert resumed.json()["suspendedAt"] is None
        group = (await admin.post("/_sim/notification-groups", json={"name": "team"})).json()
        joined = await admin.post(f"/_sim/notification-groups/{group['id']}/channels/{cid}")
        assert joined.json()["childChannelIds"] == [cid]
        left = await admin.delete(f"/_sim/notification-groups/{group['id']}/channels/{cid}")
        assert left.json()["childChannelIds"] == []
        await admin.post("/_sim/keys", json={"key": "late-reader", "permissions": ["read"]})
        settings = await admin.patch("/_sim/settings", json={"channelPut": False})
        assert settings.json() == {"channelPut": False}
        assert not sim.channel_put
        assert (await admin.delete(f"/_sim/channels/{cid}")).status_code == 204
        assert (await admin.get(f"/_sim/channels/{cid}")).status_code == 404
    assert sim.requests.total == 0  # admin calls are not platform calls
    async with client_for(sim, "late-reader") as reader:
        assert (await reader.post(CHANNELS, json=WEBHOOK)).status_code == 403


def test_behind_the_back_methods_change_state_directly(sim: MackerelSimulator) -> None:
    cid = sim.add_channel("ops")["id"]
    sim.set_url(cid, "https://elsewhere.example.com")
    sim.set_events(cid, ["hostStatus"])
    sim.patch_channel(cid, type="slack")
    assert sim.channel(cid) is not None
    assert sim.channel(cid)["type"] == "slack"  # type: ignore[index]
    sim.remove_from_group(sim.default_group_id, cid)
    assert cid not in default_group(sim)["childChannelIds"]
    sim.remove_channel(cid)
    assert sim.channel(cid) is None
    with pytest.raises(KeyError):
        sim.suspend(cid)
    with pytest.raises(ValueError, match="cannot patch"):
        sim.patch_channel(cid, colour="red")


# -- faults, counting, CLI -----------------------------------------------------------------------


async def test_a_throttle_fault_is_a_bare_429(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    sim.faults.throttle(retry_after=17)
    response = await api.get(CHANNELS)
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    assert response.json() == {"error": {"message": "Too Many Requests"}}


async def test_an_optional_rate_limit_is_a_bare_429_too(clock: ManualClock) -> None:
    sim = MackerelSimulator(keys={KEY: READ_WRITE}, requests_per_minute=2, clock=clock)
    async with client_for(sim) as client:
        statuses = [(await client.get(CHANNELS)).status_code for _ in range(3)]
        clock.advance(60)
        assert (await client.get(CHANNELS)).status_code == 200
    assert statuses == [200, 200, 429]


async def test_requests_are_counted_by_route(
    api: httpx.AsyncClient, sim: MackerelSimulator
) -> None:
    body = await create(api)
    await api.delete(f"{CHANNELS}/{body['id']}")
    await api.get(ALERTS)
    assert sim.requests.snapshot() == {
        "POST /api/v0/channels": 1,
        "DELETE /api/v0/channels/{id}": 1,
        "GET /api/v0/alerts": 1,
    }


def test_cli_builds_a_simulator_with_keys_monitors_and_groups() -> None:
    args = build_parser().parse_args(
        ["--key", "k1", "--key", "k2:read", "--monitor", "cpu", "--group", "team", "--seed", "3"]
    )
    sim = simulator_from_args(args)
    assert len(sim.monitors()) == 1
    (team,) = [g for g in sim.notification_groups() if g["name"] == "team"]
    assert team["monitors"] == [{"id": sim.monitors()[0]["id"], "skipDefault": False}]
    assert sim._keys == {"k1": READ_WRITE, "k2": READ_ONLY}
    default = simulator_from_args(build_parser().parse_args([]))
    assert default._keys == {DEFAULT_KEY: READ_WRITE}
