"""MackerelClient against the Mackerel simulator (and scripted answers), in process.

Every documented answer of the API v0 (docs/platforms/mackerel.md, the Alerts page)
must come out of the client either as data or as one of AlertSync's errors, with a
message that names the operation and Mackerel's own words, and never the API key.
"""

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock
from alertsim.mackerel import READ_ONLY, READ_WRITE, MackerelSimulator
from alertsync.errors import (
    CredentialsError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import ProductType
from alertsync.platforms import build_adapter
from alertsync.platforms.http import PlatformHttp, Throttle
from alertsync.platforms.mackerel import MackerelAdapter, MackerelClient
from alertsync.platforms.mackerel.client import describe_error, retry_after
from alertsync.platforms.mackerel.wire import MackerelAlert, MackerelAlertPage
from alertsync.retry import THROTTLE_FIRST
from tests.support.accounts import platform_account
from tests.support.transport import Handler, capped

BASE = "http://mackerel.test"
KEY = "client-read-write-key-5b2e9c1d"
READER = "client-read-only-key-7a4f0e38"
WRONG = "client-wrong-key-1d6c8b52"
WEBHOOK = {
    "name": "ops",
    "type": "webhook",
    "url": "https://receiver.example.com/mackerel",
    "enabledGraphImage": False,
    "events": ["alert"],
    "addToDefaultNotificationGroup": True,
}

# The reference's examples, verbatim (Mackerel "Alerts" API page). Placeholders are made JSON
# by `concrete` below; the close example's "opendAt" is the reference's own misspelling.
SEED_LIST_RESPONSE = """{
  "alerts": [<alert>, <alert>, ...],
  "nextId": xxx
}"""
SEED_CLOSE_RESPONSE = """{
  "id": "<alertId>",
  "status": "OK",
  ...
  "reason": <reason>,
  "opendAt": <opendAt>,
  "closedAt": <closedAt>
}"""
# Every key of the reference's <alert> table (plus memo, from the newer docs), with a value.
SEED_ALERT = {
    "id": "2bj5DoWAoTa",
    "status": "CRITICAL",
    "monitorId": "2cSZzK3XfmA",
    "type": "host",
    "hostId": "2eQGEaLxibb",
    "value": 97.5,
    "message": "CPU 97.5% > 90%",
    "reason": "recovered",
    "openedAt": 1473129912,
    "closedAt": 1473130092,
    "memo": "checked by ops",
}


def concrete(seed_text: str) -> dict[str, Any]:
    """The reference's example with its placeholders filled in, and nothing else changed."""
    text = re.sub(r"^\s*\.\.\.\n", "", seed_text, flags=re.MULTILINE)
    text = text.replace(
        "<alert>, <alert>, ...", f"{json.dumps(SEED_ALERT)}, {json.dumps(SEED_ALERT)}"
    )
    text = text.replace('"nextId": xxx', '"nextId": "2bj5DoWAoTb"')
    text = text.replace("<reason>", '"closed by a person"')
    text = text.replace("<opendAt>", "1473129912").replace("<closedAt>", "1473130092")
    parsed: dict[str, Any] = json.loads(text)
    return parsed


@pytest.fixture
def sim(clock: ManualClock) -> MackerelSimulator:
    return MackerelSimulator(keys={KEY: READ_WRITE, READER: READ_ONLY}, clock=clock, seed=11)


def make_client(
    handler: Handler,
    clock: Callable[[], float],
    key: str = KEY,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> MackerelClient:
    """A client wired like build_adapter wires it, but with the throttle on `clock`."""

    async def no_sleep(_: float) -> None:
        raise AssertionError("the client slept")

    http = PlatformHttp(
        client=httpx.AsyncClient(transport=httpx.MockTransport(capped(handler, 40))),
        base_url=BASE,
        auth_headers={"X-Api-Key": key},
        throttle=Throttle(None, clock=clock, sleep=sleep or no_sleep),
        describe_error=describe_error,
        retry_after=retry_after,
    )
    return MackerelClient(http)


@pytest.fixture
async def client(sim: MackerelSimulator, clock: ManualClock) -> AsyncIterator[MackerelClient]:
    made = make_client(sim.handle, clock)
    yield made
    await made.http.client.aclose()


@pytest.fixture
async def reader(sim: MackerelSimulator, clock: ManualClock) -> AsyncIterator[MackerelClient]:
    made = make_client(sim.handle, clock, key=READER)
    yield made
    await made.http.client.aclose()


def no_secrets(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        for key in (KEY, READER, WRONG):
            assert key not in text


def open_alerts(sim: MackerelSimulator, clock: ManualClock, count: int) -> list[str]:
    monitor = sim.add_monitor("cpu")
    ids = []
    for _ in range(count):
        clock.advance(1)
        ids.append(sim.open_alert(monitor, deliver=False)["id"])
    return ids


# -- build_adapter wiring -----------------------------------------------------------------------


async def test_build_adapter_sends_the_key_as_x_api_key(sim: MackerelSimulator) -> None:
    seen: list[httpx.Headers] = []

    async def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return await sim.handle(request)

    account = platform_account(BASE, KEY, ProductType.MACKEREL)
    adapter = build_adapter(account, transport=httpx.MockTransport(spy))
    try:
        assert isinstance(adapter, MackerelAdapter)
        await adapter.check()
    finally:
        await adapter.aclose()
    assert seen[0]["x-api-key"] == KEY
    assert "authorization" not in seen[0]
    assert KEY not in repr(account)


# -- the documented payloads ----------------------------------------------------------------------


def test_the_seeds_list_example_parses_without_loss() -> None:
    raw = concrete(SEED_LIST_RESPONSE)
    page = MackerelAlertPage.model_validate(raw)
    assert page.next_id == "2bj5DoWAoTb"
    assert len(page.alerts) == 2
    assert page.model_dump(by_alias=True, exclude_none=True, mode="json") == raw


def test_every_key_of_the_seeds_alert_table_is_kept() -> None:
    alert = MackerelAlert.model_validate(SEED_ALERT)
    assert alert.model_dump(by_alias=True, exclude_none=True) == SEED_ALERT
    assert not alert.open


def test_the_seeds_close_example_with_its_opendat_misspelling_parses() -> None:
    raw = concrete(SEED_CLOSE_RESPONSE)
    assert "opendAt" in raw  # the reference's spelling, kept
    alert = MackerelAlert.model_validate({**raw, "monitorId": "2cSZzK3XfmA", "type": "host"})
    assert (alert.id, alert.status, alert.reason) == ("<alertId>", "OK", "closed by a person")
    assert (alert.opened_at, alert.closed_at) == (1473129912, 1473130092)
    dumped = alert.model_dump(by_alias=True, exclude_none=True)
    assert dumped["openedAt"] == raw["opendAt"]  # the real key on the way out
    assert {key for key in raw if key != "opendAt"} <= set(dumped)


def test_an_alert_without_the_optional_keys_parses() -> None:
    minimal = {"id": "a", "status": "WARNING", "monitorId": "m", "type": "service", "openedAt": 1}
    alert = MackerelAlert.model_validate(minimal)
    assert alert.open
    assert alert.host_id is None


# -- alerts: paging and close -----------------------------------------------------------------


async def test_list_alerts_follows_nextid_across_pages_and_stops_when_it_is_absent(
    sim: MackerelSimulator, clock: ManualClock, client: MackerelClient
) -> None:
    ids = open_alerts(sim, clock, 250)
    found = await client.list_alerts()
    assert [alert.id for alert in found] == list(reversed(ids))  # newest first, all pages
    assert sim.requests.count("GET", "/api/v0/alerts") == 3


async def test_list_alerts_sends_back_each_nextid_and_repeats_withclosed(
    clock: ManualClock,
) -> None:
    pages = {
        None: ({"alerts": [dict(SEED_ALERT, id="a3")], "nextId": "a3"}),
        "a3": ({"alerts": [dict(SEED_ALERT, id="a2")], "nextId": "a2"}),
        "a2": ({"alerts": [dict(SEED_ALERT, id="a1")]}),
    }
    asked: list[httpx.QueryParams] = []

    async def script(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params)
        return httpx.Response(200, json=pages[request.url.params.get("nextId")])

    scripted = make_client(script, clock)
    found = await scripted.list_alerts(with_closed=True)
    await scripted.http.client.aclose()

    assert [alert.id for alert in found] == ["a3", "a2", "a1"]
    assert [params.get("nextId") for params in asked] == [None, "a3", "a2"]
    assert all(params.get("withClosed") == "true" for params in asked)


async def test_list_alerts_without_withclosed_sends_no_such_parameter(
    sim: MackerelSimulator, clock: ManualClock, client: MackerelClient
) -> None:
    first, second = open_alerts(sim, clock, 2)
    sim.close_alert(first, deliver=False)
    assert [alert.id for alert in await client.list_alerts()] == [second]
    both = await client.list_alerts(with_closed=True)
    assert [alert.id for alert in both] == [second, first]


async def test_a_repeated_cursor_ends_the_listing(clock: ManualClock) -> None:
    async def stuck(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"alerts": [SEED_ALERT], "nextId": "same"})

    scripted = make_client(stuck, clock)
    found = await scripted.list_alerts()
    await scripted.http.client.aclose()
    assert len(found) == 2


async def test_close_alert_sends_the_reason_and_a_missing_alert_is_none(
    sim: MackerelSimulator, clock: ManualClock, client: MackerelClient
) -> None:
    (alert_id,) = open_alerts(sim, clock, 1)
    closed = await client.close_alert(alert_id, "AlertSync removed the channel")
    assert closed is not None
    assert (closed.status, closed.reason) == ("OK", "AlertSync removed the channel")
    assert await client.close_alert("nosuchalert", "x") is None


# -- channels and groups ----------------------------------------------------------------------


async def test_channels_create_list_update_delete(
    sim: MackerelSimulator, client: MackerelClient
) -> None:
    created = await client.create_channel(WEBHOOK)
    assert created.suspended_at is None
    assert [c.id for c in await client.list_channels()] == [created.id]

    updated = await client.update_channel(created.id, {**WEBHOOK, "events": ["alertGroup"]})
    assert updated is not None
    assert updated.events == ("alertGroup",)

    await client.delete_channel(created.id)
    await client.delete_channel(created.id)  # 404: already gone
    assert await client.list_channels() == []


async def test_update_channel_is_none_where_mackerel_has_no_put(
    sim: MackerelSimulator, client: MackerelClient
) -> None:
    created = await client.create_channel(WEBHOOK)
    sim.channel_put = False
    assert await client.update_channel(created.id, WEBHOOK) is None


async def test_groups_list_create_update_keep_what_they_do_not_know(
    sim: MackerelSimulator, clock: ManualClock
) -> None:
    sent: list[Any] = []

    async def spy(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            sent.append(json.loads(request.content))
        return await sim.handle(request)

    spied = make_client(spy, clock)
    channel = await spied.create_channel(WEBHOOK)
    made = await spied.create_notification_group(
        {"name": "team", "notificationLevel": "all", "childNotificationGroupIds": []}
    )
    (default,) = [g for g in await spied.list_notification_groups() if g.is_default]
    assert default.id == sim.default_group_id
    assert made.name == "team"
    assert made.model_extra == {}

    future = made.model_validate({**made.model_dump(by_alias=True), "futureField": 1})
    await spied.update_notification_group(made.id, future.replacement((channel.id,)))
    await spied.http.client.aclose()
    assert sent[0]["futureField"] == 1
    assert sent[0]["childChannelIds"] == [channel.id]
    assert "id" not in sent[0]


# -- errors ---------------------------------------------------------------------------------------


async def test_an_unknown_key_is_a_credentials_error_saying_what_to_check(
    sim: MackerelSimulator, clock: ManualClock
) -> None:
    stranger = make_client(sim.handle, clock, key=WRONG)
    with pytest.raises(CredentialsError) as caught:
        await stranger.list_channels()
    await stranger.http.client.aclose()
    assert caught.value.message.startswith("cannot list Mackerel channels: 403 ")
    assert "Read permission" in caught.value.message
    assert not caught.value.permanent
    no_secrets(caught.value)


async def test_a_read_only_key_reads_but_a_write_says_it_needs_write_permission(
    reader: MackerelClient,
) -> None:
    assert await reader.list_channels() == []
    with pytest.raises(CredentialsError) as caught:
        await reader.create_channel(WEBHOOK)
    message = caught.value.message
    assert message.startswith("cannot create channel 'ops': 403 ")
    assert "does not have Write permission" in message  # Mackerel's words
    assert "Read and Write permission" in message  # and what to do
    no_secrets(caught.value)


async def test_a_400_is_a_permanent_rejection_with_mackerels_message(
    client: MackerelClient,
) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.create_channel({**WEBHOOK, "events": ["alarm"]})
    assert caught.value.status_code == 400
    assert caught.value.permanent
    assert caught.value.message == "cannot create channel 'ops': 400 unknown events: alarm"


async def test_a_missing_group_update_is_a_404_rejection(client: MackerelClient) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.update_notification_group(
            "nosuchgrp12", {"name": "x", "notificationLevel": "all"}
        )
    assert caught.value.status_code == 404


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(400, json={"error": {"message": "name is required"}}), "name is required"),
        (httpx.Response(400, json={"error": "older form"}), "older form"),
        (httpx.Response(502, html="<html>bad gateway</html>"), "Bad Gateway"),
        (httpx.Response(400, json=["unexpected"]), "Bad Request"),
    ],
)
def test_describe_error_reads_mackerels_body_or_falls_back(
    response: httpx.Response, expected: str
) -> None:
    assert describe_error(response) == expected


async def test_5xx_and_timeouts_are_unavailable(
    sim: MackerelSimulator, client: MackerelClient
) -> None:
    sim.faults.fail(503)
    with pytest.raises(PlatformUnavailableError, match="503"):
        await client.list_channels()
    sim.faults.timeout()
    with pytest.raises(PlatformUnavailableError, match="timed out"):
        await client.list_alerts()


async def test_a_bare_429_backs_off_and_grows(
    sim: MackerelSimulator, client: MackerelClient, clock: ManualClock
) -> None:
    sim.faults.throttle(times=2)
    with pytest.raises(RateLimitedError) as first:
        await client.list_channels()
    assert THROTTLE_FIRST * 0.8 <= first.value.retry_after <= THROTTLE_FIRST
    clock.advance(first.value.retry_after)
    with pytest.raises(RateLimitedError) as second:
        await client.list_channels()
    assert second.value.retry_after > THROTTLE_FIRST  # the second strike waits longer
    no_secrets(second.value)


def test_a_retry_after_would_be_honoured() -> None:
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    assert retry_after(httpx.Response(429)) is None
