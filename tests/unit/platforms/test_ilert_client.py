"""ILertClient against the iLert simulator, in process (no sockets).

Every documented answer of the REST API (docs/platforms/ilert.md, iLert's Alerts API page)
must come out of the client either as data or as one of AlertSync's errors, with a message
that names the operation and the object and gives iLert's own words, never the key.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock
from alertsim.ilert import ILertSimulator, Rate
from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    PermissionDeniedError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import ProductType
from alertsync.platforms import build_adapter
from alertsync.platforms.http import PlatformHttp, Throttle
from alertsync.platforms.ilert import DEFAULT_REQUESTS_PER_MINUTE, ILertAdapter, ILertClient
from alertsync.platforms.ilert.client import INCLUDE_FIELDS, describe_error, retry_after
from alertsync.platforms.ilert.wire import ILertAlert, ILertAlertCount, ILertAlertSource
from tests.support.accounts import platform_account
from tests.support.transport import Handler, capped

BASE = "http://ilert.test"
KEY = "client-admin-key-5e2a9c71"
STAKEHOLDER = "client-stakeholder-key-0b8d4f26"
WRONG = "client-wrong-key-6a3c1e90"
SOURCES = "/api/alert-sources"
ONE = "/api/alert-sources/{id}"
ALERTS = "/api/alerts"
MISSING = "424242"

# The example payloads of iLert's Alerts API page, copied verbatim:
# the 200 answer of GET /api/alerts, and of GET /api/alerts/count. The page's answers to
# create, get, assign, accept and resolve are the very same alert object as this list's item.
SEED_ALERT_LIST = r"""
[
  {
    "id": 1,
    "summary": "text",
    "details": "text",
    "reportTime": "2025-07-08T10:34:03.807Z",
    "resolvedOn": "2025-07-08T10:34:03.807Z",
    "status": "PENDING",
    "alertSource": {
      "id": 1,
      "teams": [
        {
          "id": 1,
          "name": "text"
        }
      ],
      "name": "text",
      "iconUrl": "text",
      "lightIconUrl": "text",
      "darkIconUrl": "text",
      "escalationPolicy": {
        "id": 1,
        "name": "text",
        "escalationRules": [
          {
            "escalationTimeout": 1,
            "user": {
              "id": 1
            },
            "schedule": {
              "id": 1
            },
            "users": [
              {
                "id": 1,
                "firstName": "text",
                "lastName": "text"
              }
            ],
            "schedules": [
              {
                "id": 1,
                "name": "text",
                "type": "STATIC"
              }
            ]
          }
        ],
        "teams": [
          {
            "id": 1,
            "name": "text"
          }
        ],
        "repeating": false,
        "frequency": 1,
        "delayMin": 0,
        "routingKey": "text"
      },
      "integrationType": "NAGIOS",
      "integrationKey": "text",
      "integrationUrl": "text",
      "autoResolutionTimeout": "text",
      "alertGroupingWindow": "text",
      "alertCreation": "ONE_ALERT_PER_EMAIL",
      "status": "PENDING",
      "active": true,
      "alertPriorityRule": "HIGH",
      "supportHours": {
        "id": 1,
        "name": "text",
        "teams": [
          {
            "id": 1,
            "name": "text"
          }
        ],
        "timezone": "Europe/Berlin",
        "supportDays": {
          "MONDAY": {
            "start": "10:34:03",
            "end": "10:34:03"
          },
          "TUESDAY": {
            "start": "10:34:03",
            "end": "10:34:03"
          },
          "WEDNESDAY": {
            "start": "10:34:03",
            "end": "10:34:03"
          },
          "THURSDAY": {
            "start": "10:34:03",
            "end": "10:34:03"
          },
          "FRIDAY": {
            "start": "10:34:03",
            "end": "10:34:03"
          },
          "SATURDAY": {
            "start": "10:34:03",
            "end": "10:34:03"
          },
          "SUNDAY": {
            "start": "10:34:03",
            "end": "10:34:03"
          }
        }
      },
      "bidirectional": true,
      "summaryTemplate": {
        "textTemplate": "text",
        "elements": [
          {
            "type": "TEXT",
            "val": "text",
            "func": "text",
            "args": [
              {
                "S": "text",
                "N": 1
              }
            ]
          }
        ]
      },
      "detailsTemplate": {
        "textTemplate": "text",
        "elements": [
          {
            "type": "TEXT",
            "val": "text",
            "func": "text",
            "args": [
              {
                "S": "text",
                "N": 1
              }
            ]
          }
        ]
      },
      "routingTemplate": {
        "textTemplate": "text",
        "elements": [
          {
            "type": "TEXT",
            "val": "text",
            "func": "text",
            "args": [
              {
                "S": "text",
                "N": 1
              }
            ]
          }
        ]
      },
      "linkTemplates": [
        {
          "text": "text",
          "hrefTemplate": {
            "textTemplate": "text",
            "elements": [
              {
                "type": "TEXT",
                "val": "text",
                "func": "text",
                "args": [
                  {
                    "S": "text",
                    "N": 1
                  }
                ]
              }
            ]
          }
        }
      ],
      "priorityTemplate": {
        "valueTemplate": {
          "textTemplate": "text",
          "elements": [
            {
              "type": "TEXT",
              "val": "text",
              "func": "text",
              "args": [
                {
                  "S": "text",
                  "N": 1
                }
              ]
            }
          ]
        },
        "mappings": [
          {
            "value": "text",
            "priority": "LOW"
          }
        ]
      },
      "eventFilter": "text",
      "alertKeyTemplate": {
        "textTemplate": "text",
        "elements": [
          {
            "type": "TEXT",
            "val": "text",
            "func": "text",
            "args": [
              {
                "S": "text",
                "N": 1
              }
            ]
          }
        ]
      },
      "eventTypeFilterCreate": "text",
      "eventTypeFilterAccept": "text",
      "eventTypeFilterResolve": "text"
    },
    "escalationPolicy": {
      "id": 1,
      "name": "text",
      "escalationRules": [
        {
          "escalationTimeout": 1,
          "user": {
            "id": 1
          },
          "schedule": {
            "id": 1
          },
          "users": [
            {
              "id": 1,
              "firstName": "text",
              "lastName": "text"
            }
          ],
          "schedules": [
            {
              "id": 1,
              "name": "text",
              "type": "STATIC"
            }
          ]
        }
      ],
      "teams": [
        {
          "id": 1,
          "name": "text"
        }
      ],
      "repeating": false,
      "frequency": 1,
      "delayMin": 0,
      "routingKey": "text"
    },
    "priority": "HIGH",
    "alertKey": "text",
    "assignedTo": {
      "id": 1
    },
    "nextEscalation": "2025-07-08T10:34:03.807Z",
    "escalationRules": [
      {
        "escalationTimeout": 1,
        "user": {
          "id": 1
        },
        "schedule": {
          "id": 1
        },
        "users": [
          {
            "id": 1,
            "firstName": "text",
            "lastName": "text"
          }
        ],
        "schedules": [
          {
            "id": 1,
            "name": "text",
            "type": "STATIC"
          }
        ]
      }
    ],
    "nextEscalationUser": {
      "id": 1,
      "firstName": "text",
      "lastName": "text",
      "email": "text",
      "timezone": "Europe/Berlin",
      "position": "text",
      "department": "text",
      "avatarUrl": "text",
      "language": "de",
      "region": "DE",
      "role": "STAKEHOLDER",
      "shiftColor": "text",
      "mutedUntil": "2025-07-08T10:34:03.807Z",
      "createdAt": "2025-07-08T10:34:03.807Z",
      "updatedAt": "2025-07-08T10:34:03.807Z"
    },
    "nextEscalationRuleIndex": 1,
    "images": [
      {
        "src": "text",
        "href": "text",
        "alt": "text"
      }
    ],
    "links": [
      {
        "href": "text",
        "text": "text"
      }
    ],
    "responders": [
      {
        "user": {
          "id": 1,
          "firstName": "text",
          "lastName": "text"
        },
        "status": "PENDING",
        "acceptedAt": "2025-07-08T10:34:03.807Z"
      }
    ]
  }
]
"""
SEED_ALERT_COUNT = r"""
{
  "count": 1
}
"""


ILERT_RATE = Rate()  # 120 a minute per key, as iLert


def simulator(clock: ManualClock, rate: Rate | None = ILERT_RATE) -> ILertSimulator:
    return ILertSimulator(
        keys={KEY: "admin", STAKEHOLDER: "stakeholder"},
        base_url=BASE,
        rate=rate,
        clock=clock,
        seed=11,
        escalation_policies=("Default", "Backup"),
        teams=("team-a", "team-b"),
    )


@pytest.fixture
def sim(clock: ManualClock) -> ILertSimulator:
    return simulator(clock)


def make_client(
    handler: Handler,
    clock: Callable[[], float],
    key: str = KEY,
    per_minute: int | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    cap: int = 40,
) -> ILertClient:
    """A client wired like build() wires it, but with the throttle on `clock`."""
    http = PlatformHttp(
        client=httpx.AsyncClient(transport=httpx.MockTransport(capped(handler, cap))),
        base_url=BASE,
        auth_headers={"Authorization": f"Bearer {key}"},
        throttle=Throttle(per_minute, clock=clock, sleep=sleep),
        describe_error=describe_error,
        retry_after=retry_after,
    )
    return ILertClient(http)


@pytest.fixture
async def client(sim: ILertSimulator, clock: ManualClock) -> AsyncIterator[ILertClient]:
    made = make_client(sim.handle, clock)
    yield made
    await made.http.client.aclose()


def recorder(sim: ILertSimulator) -> tuple[list[httpx.Request], Handler]:
    sent: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return await sim.handle(request)

    return sent, handle


def no_secrets(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        for secret in (KEY, STAKEHOLDER, WRONG):
            assert secret not in text


# -- build_adapter wiring -------------------------------------------------------------------------


@pytest.mark.parametrize("url", [BASE, f"{BASE}/", f"{BASE}/api", f"{BASE}/api/"])
async def test_build_sends_a_bearer_key_and_reaches_the_simulator(
    sim: ILertSimulator, url: str
) -> None:
    sent, handle = recorder(sim)
    account = platform_account(url, KEY, ProductType.ILERT)
    adapter = build_adapter(account, transport=httpx.MockTransport(handle))
    try:
        assert isinstance(adapter, ILertAdapter)
        await adapter.check()
    finally:
        await adapter.aclose()
    assert [str(request.url) for request in sent] == [f"{BASE}/api/alert-sources?max-results=1"]
    assert sent[0].headers["authorization"] == f"Bearer {KEY}"
    assert sent[0].headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("configured", "expected"), [(None, DEFAULT_REQUESTS_PER_MINUTE), (30, 30)]
)
async def test_the_client_side_limit_is_the_accounts_or_a_default_under_ilerts(
    configured: int | None, expected: int
) -> None:
    account = platform_account(BASE, KEY, ProductType.ILERT, requests_per_minute=configured)
    adapter = build_adapter(account)
    try:
        assert isinstance(adapter, ILertAdapter)
        assert adapter.client.http.throttle.rate == pytest.approx(expected / 60)
    finally:
        await adapter.aclose()
    assert DEFAULT_REQUESTS_PER_MINUTE < 120


# -- paging ---------------------------------------------------------------------------------------


async def test_alert_sources_are_read_in_pages_of_50_until_a_short_page(
    sim: ILertSimulator, clock: ManualClock
) -> None:
    made = [sim.add_alert_source(f"source {n:03}")["id"] for n in range(120)]
    sent, handle = recorder(sim)
    client = make_client(handle, clock)
    try:
        found = await client.list_alert_sources()
    finally:
        await client.http.client.aclose()
    assert [item.id for item in found] == made
    assert [(r.url.params["start-index"], r.url.params["max-results"]) for r in sent] == [
        ("0", "50"),
        ("50", "50"),
        ("100", "50"),
    ]


@pytest.mark.parametrize(("number", "requests"), [(0, 1), (49, 1), (50, 2), (100, 3)])
async def test_a_full_last_page_costs_one_empty_page(
    client: ILertClient, sim: ILertSimulator, number: int, requests: int
) -> None:
    for n in range(number):
        sim.add_alert_source(f"s{n}")
    assert len(await client.list_alert_sources()) == number
    assert sim.requests.count("GET", SOURCES) == requests


async def test_paging_stops_when_the_server_repeats_a_page(clock: ManualClock) -> None:
    page = [{"id": n, "name": f"s{n}", "integrationType": "API"} for n in range(50)]

    async def ignores_start_index(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=page)

    client = make_client(ignores_start_index, clock)
    try:
        assert len(await client.list_alert_sources()) == 50
    finally:
        await client.http.client.aclose()


async def test_alerts_are_read_in_pages_of_100_with_their_filters_on_every_page(
    sim: ILertSimulator, clock: ManualClock
) -> None:
    source = sim.add_alert_source("busy")
    other = sim.add_alert_source("other")
    for n in range(250):
        sim.raise_alert(source["id"], f"alert {n}")
    sim.raise_alert(other["id"])
    sent, handle = recorder(sim)
    client = make_client(handle, clock)
    try:
        found = await client.list_alerts([source["id"]], ["PENDING", "ACCEPTED"])
    finally:
        await client.http.client.aclose()
    assert len(found) == 250
    assert {alert.alert_source.id for alert in found if alert.alert_source} == {source["id"]}
    assert [r.url.params["start-index"] for r in sent] == ["0", "100", "200"]
    for request in sent:
        assert request.url.params.get_list("states") == ["PENDING", "ACCEPTED"]
        assert request.url.params.get_list("sources") == [str(source["id"])]
        assert request.url.params["max-results"] == "100"


async def test_count_sends_repeated_filters(client: ILertClient, sim: ILertSimulator) -> None:
    source = sim.add_alert_source("prod")
    first = sim.raise_alert(source["id"], "a")
    second = sim.raise_alert(source["id"], "b")
    sim.raise_alert(source["id"], "c")
    assert first is not None
    assert second is not None
    sim.accept_alert(first["id"])
    sim.resolve_alert(second["id"])
    assert await client.count_alerts([source["id"]], ["PENDING", "ACCEPTED"]) == 2
    assert await client.count_alerts([source["id"]], ["RESOLVED"]) == 1
    assert await client.count_alerts([source["id"] + 1], ["PENDING"]) == 0


# -- alert sources --------------------------------------------------------------------------------


async def test_include_fields_are_asked_for_only_when_wanted(
    sim: ILertSimulator, clock: ManualClock
) -> None:
    made = sim.add_alert_source("x", eventFilter="severity > 3")
    sent, handle = recorder(sim)
    client = make_client(handle, clock)
    try:
        plain = await client.get_alert_source(str(made["id"]))
        await client.get_alert_source(str(made["id"]), include=["eventFilter"])
    finally:
        await client.http.client.aclose()
    assert plain is not None
    assert plain.integration_url == made["integrationUrl"]
    assert "include" not in sent[0].url.params
    assert sent[1].url.params.get_list("include") == ["eventFilter"]


async def test_get_of_an_unknown_id_is_none(client: ILertClient) -> None:
    assert await client.get_alert_source(MISSING) is None


async def test_create_returns_the_source_with_its_key_and_url(
    client: ILertClient, sim: ILertSimulator
) -> None:
    created = await client.create_alert_source(
        {"name": "prod", "integrationType": "PROMETHEUS", "escalationPolicy": {"id": 2}}
    )
    assert sim.alert_source(created.id) is not None
    assert created.integration_key
    assert created.integration_url == f"{BASE}/api/v1/events/prometheus/{created.integration_key}"
    assert created.escalation_policy is not None
    assert (created.escalation_policy.id, created.escalation_policy.name) == (2, "Backup")


async def test_update_reads_everything_first_so_that_put_resets_nothing(
    sim: ILertSimulator, clock: ManualClock
) -> None:
    made = sim.add_alert_source(
        "before", "PROMETHEUS", teams=[901], eventFilter="x", summaryTemplate={"textTemplate": "t"}
    )
    sim.patch(
        made["id"],
        alert_creation="ONE_OPEN_ALERT_ALLOWED",
        auto_resolution_timeout="PT4H",
        support_hours_id=7,
    )
    sent, handle = recorder(sim)
    client = make_client(handle, clock)
    try:
        updated = await client.update_alert_source(str(made["id"]), {"name": "after"})
    finally:
        await client.http.client.aclose()
    assert updated.name == "after"
    after = sim.alert_source(made["id"])
    assert after is not None
    assert after["teams"] == [{"id": 901, "name": "team-a"}]
    assert after["alertCreation"] == "ONE_OPEN_ALERT_ALLOWED"
    assert after["autoResolutionTimeout"] == "PT4H"
    assert after["supportHours"] == {"id": 7}
    assert after["eventFilter"] == "x"
    assert after["summaryTemplate"] == {"textTemplate": "t"}
    assert after["integrationKey"] == made["integrationKey"]

    read, put = sent
    assert read.method == "GET"
    assert read.url.params.get_list("include") == list(INCLUDE_FIELDS)
    assert put.method == "PUT"
    body = json.loads(put.content)
    assert body["escalationPolicy"] == {"id": 1}
    assert body["teams"] == [{"id": 901}]
    assert not {"id", "integrationKey", "integrationUrl", "status", "createdAt"} & set(body)


async def test_a_source_unchanged_since_our_last_write_is_put_without_a_read(
    sim: ILertSimulator, clock: ManualClock
) -> None:
    """A mass spec change costs one PUT per source: the body comes from the last answer."""
    sent, handle = recorder(sim)
    client = make_client(handle, clock)
    try:
        made = await client.create_alert_source(
            {"name": "first", "integrationType": "PROMETHEUS", "escalationPolicy": {"id": 1}}
        )
        clock.advance(1)
        sim.patch(made.id, eventFilter="kept")  # by hand, before the listing
        await client.list_alert_sources()
        await client.update_alert_source(str(made.id), {"name": "second"})  # read: changed
        clock.advance(1)
        await client.list_alert_sources()
        sent.clear()
        await client.update_alert_source(str(made.id), {"name": "third"})
    finally:
        await client.http.client.aclose()
    assert [request.method for request in sent] == ["PUT"]
    assert sent[0].url.params.get_list("include") == list(INCLUDE_FIELDS)
    after = sim.alert_source(made.id)
    assert after is not None
    assert (after["name"], after["eventFilter"]) == ("third", "kept")


async def test_a_source_this_client_has_not_written_is_read_first(
    sim: ILertSimulator, clock: ManualClock
) -> None:
    """After a restart nothing is kept: the first PUT of each source needs its read."""
    made = sim.add_alert_source("first", "PROMETHEUS", summaryTemplate={"textTemplate": "t"})
    sent, handle = recorder(sim)
    client = make_client(handle, clock)
    try:
        await client.list_alert_sources()
        sent.clear()
        await client.update_alert_source(str(made["id"]), {"name": "second"})
        await client.list_alert_sources()
        await client.update_alert_source(str(made["id"]), {"name": "third"})
    finally:
        await client.http.client.aclose()
    assert [request.method for request in sent] == ["GET", "PUT", "GET", "PUT"]
    after = sim.alert_source(made["id"])
    assert after is not None
    assert (after["name"], after["summaryTemplate"]) == ("third", {"textTemplate": "t"})


async def test_update_of_an_unknown_id_is_rejected_before_any_put(
    client: ILertClient, sim: ILertSimulator
) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.update_alert_source(MISSING, {"name": "x"})
    assert caught.value.status_code == 404
    assert str(caught.value) == (
        f"cannot update alert source {MISSING}: 404 alert source {MISSING} not found"
    )
    assert sim.requests.count("PUT") == 0


async def test_a_second_delete_is_success(client: ILertClient, sim: ILertSimulator) -> None:
    made = sim.add_alert_source("twice")
    await client.delete_alert_source(str(made["id"]))
    await client.delete_alert_source(str(made["id"]))
    await client.delete_alert_source(MISSING)
    assert sim.requests.count("DELETE", ONE) == 3
    assert sim.alert_sources() == []


async def test_escalation_policies_are_read_or_none(client: ILertClient) -> None:
    found = await client.get_escalation_policy(2)
    assert found is not None
    assert found.name == "Backup"
    assert await client.get_escalation_policy(99) is None


async def test_resolve_an_alert_or_none_when_gone(client: ILertClient, sim: ILertSimulator) -> None:
    alert = sim.raise_alert(sim.add_alert_source("prod")["id"])
    assert alert is not None
    resolved = await client.resolve_alert(alert["id"])
    assert resolved is not None
    assert resolved.status == "RESOLVED"
    assert resolved.resolved_on is not None
    assert await client.resolve_alert(1) is None


# -- credentials ----------------------------------------------------------------------------------

Call = Callable[[ILertClient], Awaitable[object]]

CALLS: dict[str, tuple[Call, str]] = {
    "check": (lambda c: c.check(), "list iLert alert sources"),
    "list": (lambda c: c.list_alert_sources(), "list iLert alert sources"),
    "get": (lambda c: c.get_alert_source("1001"), "read alert source 1001"),
    "create": (
        lambda c: c.create_alert_source({"name": "n1", "integrationType": "API"}),
        "create alert source 'n1'",
    ),
    "update": (lambda c: c.update_alert_source("1001", {}), "update alert source 1001"),
    "delete": (lambda c: c.delete_alert_source("1001"), "delete alert source 1001"),
    "policy": (lambda c: c.get_escalation_policy(1), "read escalation policy 1"),
    "count": (lambda c: c.count_alerts([1001], ["PENDING"]), "count iLert alerts"),
    "alerts": (lambda c: c.list_alerts([1001], ["PENDING"]), "list iLert alerts"),
    "resolve": (lambda c: c.resolve_alert(50001), "resolve alert 50001"),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_an_unknown_key_is_a_credentials_error_that_never_shows_the_key(
    sim: ILertSimulator, clock: ManualClock, call: tuple[Call, str]
) -> None:
    operation, what = call
    stranger = make_client(sim.handle, clock, key=WRONG)
    try:
        with pytest.raises(CredentialsError) as caught:
            await operation(stranger)
    finally:
        await stranger.http.client.aclose()
    assert str(caught.value) == f"cannot {what}: 401 missing or invalid API key"
    assert not caught.value.permanent
    no_secrets(caught.value)


async def test_a_key_without_write_permission_reads_but_gets_403_on_writes(
    sim: ILertSimulator, clock: ManualClock
) -> None:
    made = sim.add_alert_source("read me")
    alert = sim.raise_alert(made["id"])
    assert alert is not None
    stakeholder = make_client(sim.handle, clock, key=STAKEHOLDER)
    try:
        assert len(await stakeholder.list_alert_sources()) == 1
        assert await stakeholder.count_alerts([made["id"]], ["PENDING"]) == 1
        with pytest.raises(PermissionDeniedError) as caught:
            await stakeholder.delete_alert_source(str(made["id"]))
        assert str(caught.value) == (
            f"cannot delete alert source {made['id']}: 403 "
            "the API key's stakeholder role does not permit this operation (the credentials "
            "are accepted but may not make this change: give the token write permission on "
            "the platform)"
        )
        no_secrets(caught.value)
        with pytest.raises(PermissionDeniedError, match=r"resolve alert .*: 403"):
            await stakeholder.resolve_alert(alert["id"])
    finally:
        await stakeholder.http.client.aclose()
    assert sim.alert_source(made["id"]) is not None


# -- the platform refusing a request --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "x", "integrationType": "API", "escalationPolicy": {"id": 99}},
            "escalation policy 99 does not exist",
        ),
        (
            {"name": "x", "integrationType": "ALERTMANAGER", "escalationPolicy": {"id": 1}},
            "integrationType 'ALERTMANAGER' is not a known integration type",
        ),
        ({"integrationType": "API", "escalationPolicy": {"id": 1}}, "name is required"),
    ],
    ids=["policy", "type", "name"],
)
async def test_a_400_carries_ilerts_message_and_is_permanent(
    client: ILertClient, sim: ILertSimulator, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.create_alert_source(body)
    assert caught.value.status_code == 400
    assert caught.value.permanent
    assert str(caught.value).endswith(f": 400 {message}")
    assert sim.alert_sources() == []


async def test_changing_the_type_in_place_is_a_400(
    client: ILertClient, sim: ILertSimulator
) -> None:
    made = sim.add_alert_source("x", "PROMETHEUS")
    with pytest.raises(PlatformRejectedError, match="integrationType cannot be changed") as caught:
        await client.update_alert_source(str(made["id"]), {"integrationType": "API"})
    assert caught.value.status_code == 400


async def test_a_405_is_rejected(client: ILertClient) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.http.request("PATCH", SOURCES, what="patch the list")
    assert caught.value.status_code == 405
    assert str(caught.value) == "cannot patch the list: 405 method PATCH is not allowed here"


# -- rate limits ----------------------------------------------------------------------------------


async def test_a_429_without_a_wait_backs_off_and_blocks_locally(clock: ManualClock) -> None:
    sim = simulator(clock, rate=Rate(limit=3, window=60))
    client = make_client(sim.handle, clock)
    try:
        for _ in range(3):
            await client.check()
        with pytest.raises(RateLimitedError) as caught:
            await client.get_alert_source("1001")
        assert 8 <= caught.value.retry_after <= 10  # the shared backoff's first step
        assert str(caught.value).startswith(
            "cannot read alert source 1001: 429 Too many requests, retry later (retry in"
        )
        no_secrets(caught.value)
        # Refused without a request while the backoff runs.
        with pytest.raises(RateLimitedError, match="rate limited by the platform until"):
            await client.list_alert_sources()
        assert sim.requests.total == 4
        assert sim.rate_limited == 1
    finally:
        await client.http.client.aclose()


async def test_a_429_without_a_wait_backs_off_longer_each_time(clock: ManualClock) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        body = {"status": 429, "message": "Too many requests", "code": "TOO_MANY_REQUESTS"}
        return httpx.Response(429, json=body)

    client = make_client(handler, clock)
    try:
        waits = []
        for _ in range(5):
            with pytest.raises(RateLimitedError) as caught:
                await client.check()
            waits.append(caught.value.retry_after)
            clock.advance(caught.value.retry_after)
        assert 8 <= waits[0] <= 10
        assert 16 <= waits[1] <= 20
        assert waits == sorted(waits)
        assert 96 <= waits[-1] <= 120
    finally:
        await client.http.client.aclose()


async def test_a_retry_after_is_honoured_should_ilert_ever_send_one(
    client: ILertClient, sim: ILertSimulator
) -> None:
    sim.retry_after_header = True
    sim.faults.throttle(retry_after=17)
    with pytest.raises(RateLimitedError) as caught:
        await client.list_alert_sources()
    assert caught.value.retry_after == 17


async def test_a_burst_of_concurrent_calls_never_exceeds_the_per_key_limit(
    clock: ManualClock,
) -> None:
    sim = simulator(clock)  # 120 a minute per key, as iLert
    made = sim.add_alert_source("busy")
    start = clock()

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    client = make_client(
        sim.handle, clock, per_minute=DEFAULT_REQUESTS_PER_MINUTE, sleep=sleep, cap=400
    )
    try:
        found = await asyncio.gather(
            *(client.get_alert_source(str(made["id"])) for _ in range(300))
        )
    finally:
        await client.http.client.aclose()
    assert all(item is not None for item in found)
    assert sim.rate_limited == 0
    assert sim.requests.total == 300
    # The burst took what the default budget asks for, after the bucket's first tokens.
    rate = DEFAULT_REQUESTS_PER_MINUTE
    assert clock() - start == pytest.approx((300 - rate / 20) * 60 / rate, abs=1)


async def test_the_same_burst_without_our_limit_is_refused(clock: ManualClock) -> None:
    sim = simulator(clock)
    made = sim.add_alert_source("busy")
    client = make_client(sim.handle, clock, cap=400)
    try:
        outcomes = await asyncio.gather(
            *(client.get_alert_source(str(made["id"])) for _ in range(130)),
            return_exceptions=True,
        )
    finally:
        await client.http.client.aclose()
    assert any(isinstance(outcome, RateLimitedError) for outcome in outcomes)
    assert sim.rate_limited > 0


# -- the platform unavailable ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (500, "500 Internal Server Error"),
        (502, "502 Bad Gateway"),
        (503, "503 Service Unavailable"),
    ],
)
async def test_5xx_is_platform_unavailable(
    client: ILertClient, sim: ILertSimulator, status: int, words: str
) -> None:
    sim.faults.fail(status)
    with pytest.raises(PlatformUnavailableError) as caught:
        await client.get_alert_source("1001")
    assert str(caught.value) == f"cannot read alert source 1001: {words}"


async def test_timeouts_resets_and_lost_answers_are_platform_unavailable(
    client: ILertClient, sim: ILertSimulator
) -> None:
    sim.faults.timeout()
    with pytest.raises(PlatformUnavailableError, match="timed out"):
        await client.list_alert_sources()
    sim.faults.reset()
    with pytest.raises(PlatformUnavailableError, match="SimulatedReset"):
        await client.delete_alert_source("1001")
    sim.faults.lose_response(method="POST")
    with pytest.raises(PlatformUnavailableError, match="create alert source 'lost'"):
        await client.create_alert_source(
            {"name": "lost", "integrationType": "API", "escalationPolicy": {"id": 1}}
        )
    assert [s["name"] for s in sim.alert_sources()] == ["lost"]


async def test_a_fault_in_the_middle_of_paging_fails_the_whole_listing(
    client: ILertClient, sim: ILertSimulator
) -> None:
    for n in range(120):
        sim.add_alert_source(f"s{n}")
    sim.faults.delay(0, path=SOURCES)
    sim.faults.fail(503, path=SOURCES)
    with pytest.raises(PlatformUnavailableError):
        await client.list_alert_sources()
    assert sim.requests.count("GET", SOURCES) == 2


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (
            httpx.Response(502, text="upstream exploded"),
            PlatformUnavailableError,
            "cannot probe: 502 Bad Gateway",
        ),
        (httpx.Response(400, json=["a"]), PlatformRejectedError, "cannot probe: 400 Bad Request"),
        (
            httpx.Response(400, json={"status": 400, "code": "X"}),
            PlatformRejectedError,
            "cannot probe: 400 Bad Request",
        ),
        (
            httpx.Response(409, json={"status": 409, "message": "line one\n  line two"}),
            PlatformRejectedError,
            "cannot probe: 409 line one line two",
        ),
    ],
    ids=["text", "json-list", "no-message", "multiline"],
)
async def test_odd_error_bodies_still_give_a_clear_error(
    clock: ManualClock, response: httpx.Response, error: type[AlertSyncError], message: str
) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return response

    client = make_client(handler, clock)
    try:
        with pytest.raises(error) as caught:
            await client.http.request("GET", SOURCES, what="probe")
        assert type(caught.value) is error
        assert str(caught.value) == message
    finally:
        await client.http.client.aclose()


@pytest.mark.parametrize(
    "body", [b"<html>maintenance</html>", b'{"items": []}', b'[{"id": "not a number"}]']
)
async def test_a_success_of_the_wrong_shape_is_platform_unavailable(
    clock: ManualClock, body: bytes
) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    client = make_client(handler, clock)
    try:
        with pytest.raises(PlatformUnavailableError) as caught:
            await client.list_alert_sources()
        assert str(caught.value) == (
            "cannot list iLert alert sources: iLert answered 200 with a body that is not of "
            "the documented shape"
        )
    finally:
        await client.http.client.aclose()


# -- the documented payloads --------------------------------------------------------------------


def modelled(model_dump: Any, seed: Any, path: str = "") -> None:
    """Every value the model kept equals the documented one: nothing the operator reads is lost."""
    if isinstance(model_dump, Mapping):
        for key, value in model_dump.items():
            assert key in seed, f"{path}.{key} is not in the documented payload"
            modelled(value, seed[key], f"{path}.{key}")
    elif isinstance(model_dump, list):
        assert len(model_dump) == len(seed), path
        for number, (value, original) in enumerate(zip(model_dump, seed, strict=True)):
            modelled(value, original, f"{path}[{number}]")
    else:
        assert model_dump == seed, path


def test_the_seeds_alert_list_parses_without_loss() -> None:
    raw = json.loads(SEED_ALERT_LIST)
    alerts = [ILertAlert.model_validate(item) for item in raw]
    assert len(alerts) == 1
    alert, item = alerts[0], raw[0]
    modelled(alert.model_dump(mode="json", by_alias=True, exclude_unset=True), item)
    assert (alert.id, alert.status, alert.priority) == (1, "PENDING", "HIGH")
    assert alert.alert_key == "text"
    assert alert.report_time == "2025-07-08T10:34:03.807Z"
    assert alert.assigned_to is not None
    assert alert.escalation_policy is not None
    assert alert.escalation_policy.routing_key == "text"
    assert alert.responders[0].user is not None
    assert alert.responders[0].status == "PENDING"
    # The embedded alert source: everything the adapter compares or reports.
    source = alert.alert_source
    assert source is not None
    assert (source.id, source.name, source.integration_type) == (1, "text", "NAGIOS")
    assert (source.integration_key, source.integration_url) == ("text", "text")
    assert source.escalation_policy is not None
    assert source.escalation_policy.id == 1
    assert (source.active, source.status) == (True, "PENDING")
    assert (source.alert_creation, source.alert_priority_rule) == ("ONE_ALERT_PER_EMAIL", "HIGH")
    assert (source.auto_resolution_timeout, source.alert_grouping_window) == ("text", "text")
    assert [team.id for team in source.teams] == [1]
    modelled(
        ILertAlertSource.model_validate(item["alertSource"]).model_dump(
            mode="json", by_alias=True, exclude_unset=True
        ),
        item["alertSource"],
    )


def test_the_seeds_count_parses() -> None:
    assert ILertAlertCount.model_validate(json.loads(SEED_ALERT_COUNT)).count == 1


async def test_the_client_reads_the_seeds_answers(clock: ManualClock) -> None:
    async def seed_answers(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"{ALERTS}/count":
            return httpx.Response(200, content=SEED_ALERT_COUNT.encode())
        if request.method == "PUT":
            item = json.loads(SEED_ALERT_LIST)[0]
            return httpx.Response(200, json=item)
        return httpx.Response(200, content=SEED_ALERT_LIST.encode())

    client = make_client(seed_answers, clock)
    try:
        assert await client.count_alerts([1], ["PENDING", "ACCEPTED"]) == 1
        listed = await client.list_alerts([1], ["PENDING"])
        assert [alert.id for alert in listed] == [1]
        resolved = await client.resolve_alert(1)
        assert resolved == listed[0]
    finally:
        await client.http.client.aclose()
