"""The Confluent Cloud simulator answers as Confluent's notifications/v1 reference says."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from alertsim.confluent import (
    ApiKey,
    ConfluentSimulator,
    Rate,
    build_parser,
    simulator_from_args,
)
from alertsim.core import ManualClock
from alertsim.server import SimulatorServer, SimulatorThread

BASE = "http://confluent.test"
KEY, SECRET = "ADMINKEY1234", "admin-secret-9f8e7d"
VIEWER, VIEWER_SECRET = "VIEWKEY5678", "viewer-secret-1a2b3c"
INTEGRATIONS = "/notifications/v1/integrations"
TEST = "/notifications/v1/integrations:test"
RECEIVER = "https://receiver.example.com/confluent"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def make_sim(clock: ManualClock, **options: Any) -> ConfluentSimulator:
    options.setdefault("rate", None)
    return ConfluentSimulator(
        keys={KEY: ApiKey(SECRET), VIEWER: ApiKey(VIEWER_SECRET, "MetricsViewer")},
        base_url=BASE,
        clock=clock,
        seed=7,
        **options,
    )


@pytest.fixture
def sim(clock: ManualClock) -> ConfluentSimulator:
    return make_sim(clock)


def client_for(
    sim: ConfluentSimulator, authorization: str | None = basic(KEY, SECRET)
) -> httpx.AsyncClient:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return httpx.AsyncClient(
        transport=httpx.MockTransport(sim.handle), base_url=BASE, headers=headers
    )


@pytest.fixture
async def api(sim: ConfluentSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sim) as client:
        yield client


def webhook(name: str = "team-a prod", url: str = RECEIVER, **extra: Any) -> dict[str, Any]:
    return {"display_name": name, "target": {"kind": "Webhook", "url": url}, **extra}


async def create(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await api.post(INTEGRATIONS, json=webhook(**body))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def errors(response: httpx.Response) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = response.json()["errors"]
    for error in found:
        assert UUID.match(error["id"])
        assert error["status"] == str(response.status_code)
    return found


# -- authentication and permissions ----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        basic(KEY, "wrong-secret"),
        basic("NOSUCHKEY", SECRET),
        f"Bearer {SECRET}",
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
    ],
)
async def test_missing_or_bad_credentials_are_401_with_a_basic_challenge(
    sim: ConfluentSimulator, header: str | None
) -> None:
    async with client_for(sim, header) as client:
        response = await client.get(INTEGRATIONS)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Basic error="invalid_key", error_description="The API Key is invalid"'
    )
    [error] = errors(response)
    assert error["code"] == "user_unauthenticated"
    assert error["title"] == "Authentication Required"
    assert SECRET not in response.text
    assert UUID.match(response.headers["X-Request-Id"])


async def test_a_read_only_key_may_list_but_every_write_is_403(sim: ConfluentSimulator) -> None:
    existing = sim.add_integration("someone's")
    async with client_for(sim, basic(VIEWER, VIEWER_SECRET)) as viewer:
        assert (await viewer.get(INTEGRATIONS)).status_code == 200
        assert (await viewer.get(f"{INTEGRATIONS}/{existing['id']}")).status_code == 200
        refused = [
            await viewer.post(INTEGRATIONS, json=webhook()),
            await viewer.patch(f"{INTEGRATIONS}/{existing['id']}", json={"display_name": "x"}),
            await viewer.delete(f"{INTEGRATIONS}/{existing['id']}"),
            await viewer.post(TEST, json=webhook()),
        ]
    for response in refused:
        assert response.status_code == 403
        [error] = errors(response)
        assert error["code"] == "user_unauthorized"
        assert "OrganizationAdmin" in error["detail"]
    assert [item["display_name"] for item in sim.integrations()][-1] == "someone's"
    assert len(sim.integrations()) == 2


async def test_every_answer_has_its_own_request_id(
    api: httpx.AsyncClient, sim: ConfluentSimulator
) -> None:
    sim.faults.fail(503)
    answers = [
        await api.get(INTEGRATIONS),  # the fault
        await api.get(INTEGRATIONS),
        await api.get(f"{INTEGRATIONS}/i-nothing"),
        await api.post(INTEGRATIONS, json={}),
        await api.get("/notifications/v1/unknown"),
    ]
    ids = [answer.headers["X-Request-Id"] for answer in answers]
    assert [answer.status_code for answer in answers] == [503, 200, 404, 422, 404]
    assert all(UUID.match(value) for value in ids)
    assert len(set(ids)) == len(ids)


# -- the default email integration and read-only kinds ---------------------------------------


async def test_an_organisation_starts_with_a_read_only_role_email_integration(
    api: httpx.AsyncClient,
) -> None:
    [default] = (await api.get(INTEGRATIONS)).json()["data"]
    assert default["target"] == {"kind": "RoleEmail", "role_name": "OrganizationAdmin"}
    one = f"{INTEGRATIONS}/{default['id']}"

    patched = await api.patch(one, json={"display_name": "mine now"})
    deleted = await api.delete(one)

    for response in (patched, deleted):
        assert response.status_code == 400
        [error] = errors(response)
        assert error["code"] == "invalid_request"
        assert "RoleEmail" in error["detail"]
    assert (await api.get(one)).json() == default


@pytest.mark.parametrize(
    "target",
    [
        {"kind": "RoleEmail", "role_name": "OrganizationAdmin"},
        {"kind": "UserEmail", "user": {"id": "u-123"}},
        {"kind": "UserEmailTarget", "user": {"id": "u-123"}},
    ],
)
async def test_email_kinds_cannot_be_created_tested_or_patched_in(
    api: httpx.AsyncClient, sim: ConfluentSimulator, target: dict[str, Any]
) -> None:
    mine = await create(api)
    body = {"display_name": "mail", "target": target}
    answers = [
        await api.post(INTEGRATIONS, json=body),
        await api.post(TEST, json=body),
        await api.patch(f"{INTEGRATIONS}/{mine['id']}", json={"target": target}),
    ]
    for response in answers:
        assert response.status_code == 400
        [error] = errors(response)
        assert error["source"] == {"pointer": "/target/kind"}
    assert len(sim.integrations()) == 2
    assert sim.deliveries == []


def test_without_the_default_the_organisation_is_empty(clock: ManualClock) -> None:
    assert make_sim(clock, default_email=False).integrations() == []


# -- create, read, update, delete ------------------------------------------------------------


async def test_create_is_201_with_location_and_the_full_object(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    response = await api.post(
        INTEGRATIONS,
        json=webhook(description="managed-by=alertsync uid=1", id="ignored", kind="ignored"),
    )
    assert response.status_code == 201
    body = response.json()
    id_ = body["id"]
    assert re.fullmatch(r"i-[a-z0-9]{8}", id_)
    assert response.headers["Location"] == f"{BASE}{INTEGRATIONS}/{id_}"
    assert body == {
        "api_version": "notifications/v1",
        "kind": "Integration",
        "id": id_,
        "metadata": {
            "self": f"{BASE}{INTEGRATIONS}/{id_}",
            "resource_name": (
                "crn://confluent.cloud/organization=9bb441c4-edef-46ac-8a41-c49e44a3fd9a"
                f"/integration={id_}"
            ),
            "created_at": "2027-01-15T08:00:00Z",
            "updated_at": "2027-01-15T08:00:00Z",
        },
        "display_name": "team-a prod",
        "description": "managed-by=alertsync uid=1",
        "target": {"kind": "Webhook", "url": RECEIVER},
    }
    assert (await api.get(f"{INTEGRATIONS}/{id_}")).json() == body


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        ({"kind": "SlackTarget", "webhook_url": "https://hooks.slack.com/services/T/B/x"}, "Slack"),
        (
            {"kind": "notifications.v1.MsTeamsTarget", "webhook_url": "https://teams.test/h"},
            "MsTeams",
        ),
        ({"kind": "WebhookTarget", "url": RECEIVER}, "Webhook"),
    ],
)
async def test_kind_aliases_are_accepted_and_answered_as_the_spec_spells_them(
    api: httpx.AsyncClient, sent: dict[str, str], answered: str
) -> None:
    response = await api.post(INTEGRATIONS, json={"display_name": "x", "target": sent})
    assert response.status_code == 201, response.text
    assert response.json()["target"]["kind"] == answered


async def test_validation_names_every_bad_field_with_a_pointer(api: httpx.AsyncClient) -> None:
    response = await api.post(
        INTEGRATIONS,
        json={"display_name": "x" * 65, "description": "d" * 129, "target": {"kind": "Webhook"}},
    )
    assert response.status_code == 422
    found = errors(response)
    assert {error["code"] for error in found} == {"invalid_configuration"}
    assert {error["title"] for error in found} == {"Validation Failed"}
    assert [error["source"]["pointer"] for error in found] == [
        "/display_name",
        "/description",
        "/target/url",
    ]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"target": {"kind": "Webhook", "url": RECEIVER}}, "/display_name"),
        ({"display_name": "", "target": {"kind": "Webhook", "url": RECEIVER}}, "/display_name"),
        ({"display_name": "x"}, "/target"),
        ({"display_name": "x", "target": "Webhook"}, "/target"),
        ({"display_name": "x", "target": {"kind": "Pager"}}, "/target/kind"),
        ({"display_name": "x", "target": {"kind": "Webhook", "url": "not a url"}}, "/target/url"),
        (
            {"display_name": "x", "target": {"kind": "Webhook", "url": "ftp://x.test"}},
            "/target/url",
        ),
        (
            {"display_name": "x", "target": {"kind": "Slack", "url": RECEIVER}},
            "/target/webhook_url",
        ),
        (
            {"display_name": "x", "target": {"kind": "MsTeams", "webhook_url": 5}},
            "/target/webhook_url",
        ),
    ],
)
async def test_one_bad_field_is_a_422_pointing_at_it(
    api: httpx.AsyncClient, sim: ConfluentSimulator, body: dict[str, Any], pointer: str
) -> None:
    response = await api.post(INTEGRATIONS, json=body)
    assert response.status_code == 422
    [error] = errors(response)
    assert error["source"] == {"pointer": pointer}
    assert len(sim.integrations()) == 1


@pytest.mark.parametrize("content", [b"", b"[]", b"{not json"])
async def test_a_body_that_is_no_json_object_is_400(api: httpx.AsyncClient, content: bytes) -> None:
    response = await api.post(INTEGRATIONS, content=content)
    assert response.status_code == 400
    assert errors(response)[0]["code"] == "malformed_request"


async def test_patch_changes_only_what_it_sends(api: httpx.AsyncClient, clock: ManualClock) -> None:
    made = await create(api, description="keep me")
    one = f"{INTEGRATIONS}/{made['id']}"
    clock.advance(60)

    renamed = await api.patch(one, json={"display_name": "renamed"})
    assert renamed.status_code == 200
    assert renamed.json()["display_name"] == "renamed"
    assert renamed.json()["description"] == "keep me"
    assert renamed.json()["target"] == made["target"]
    assert renamed.json()["metadata"]["updated_at"] == "2027-01-15T08:01:00Z"
    assert renamed.json()["metadata"]["created_at"] == made["metadata"]["created_at"]

    slack = {"kind": "Slack", "webhook_url": "https://hooks.slack.com/services/T/B/y"}
    moved = await api.patch(one, json={"target": slack})
    assert moved.json()["target"] == slack
    assert moved.json()["display_name"] == "renamed"

    cleared = await api.patch(one, json={"description": None})
    assert "description" not in cleared.json()

    bad = await api.patch(one, json={"display_name": "y" * 65})
    assert bad.status_code == 422
    assert (await api.get(one)).json()["display_name"] == "renamed"


async def test_unknown_ids_are_404_for_read_patch_and_delete(api: httpx.AsyncClient) -> None:
    one = f"{INTEGRATIONS}/i-nothing"
    for response in (
        await api.get(one),
        await api.patch(one, json={"display_name": "x"}),
        await api.delete(one),
    ):
        assert response.status_code == 404
        assert errors(response)[0]["title"] == "Not Found"


async def test_delete_is_204_and_again_404_and_ids_are_never_reused(
    api: httpx.AsyncClient,
) -> None:
    made = await create(api)
    one = f"{INTEGRATIONS}/{made['id']}"
    first = await api.delete(one)
    assert first.status_code == 204
    assert first.content == b""
    assert (await api.delete(one)).status_code == 404
    again = [await create(api) for _ in range(20)]
    assert made["id"] not in {item["id"] for item in again}


async def test_the_quota_of_integrations_is_402(clock: ManualClock) -> None:
    sim = make_sim(clock, quota=3)  # the RoleEmail one counts
    async with client_for(sim) as api:
        await create(api)
        await create(api)
        refused = await api.post(INTEGRATIONS, json=webhook())
        assert refused.status_code == 402
        [error] = errors(refused)
        assert error["code"] == "quota_exceeded"
        assert "integrations_per_org" in error["detail"]
        sim.set_quota(4)
        await create(api)


async def test_duplicate_names_are_allowed_unless_switched_to_409(clock: ManualClock) -> None:
    async with client_for(make_sim(clock)) as api:
        await create(api, name="same")
        await create(api, name="same")

    sim = make_sim(clock, unique_names=True)
    async with client_for(sim) as api:
        first = await create(api, name="same")
        refused = await api.post(INTEGRATIONS, json=webhook("same"))
        assert refused.status_code == 409
        assert errors(refused)[0]["code"] == "resource_already_exists"
        assert refused.headers["Location"] == f"{BASE}{INTEGRATIONS}/{first['id']}"
        other = await create(api, name="other")
        renamed = await api.patch(f"{INTEGRATIONS}/{other['id']}", json={"display_name": "same"})
        assert renamed.status_code == 409


# -- paging ----------------------------------------------------------------------------------


async def test_pages_follow_opaque_tokens_until_next_is_absent(
    api: httpx.AsyncClient, sim: ConfluentSimulator
) -> None:
    for number in range(7):
        sim.add_integration(f"n{number}")
    seen: list[str] = []
    tokens: list[str] = []
    response = await api.get(INTEGRATIONS, params={"page_size": 3})
    while True:
        body = response.json()
        assert body["api_version"] == "notifications/v1"
        assert body["kind"] == "IntegrationList"
        assert body["metadata"]["total_size"] == 8
        assert body["metadata"]["first"] == f"{BASE}{INTEGRATIONS}"
        seen.extend(item["display_name"] for item in body["data"])
        link = body["metadata"].get("next")
        if link is None:
            assert "next" not in body["metadata"]
            break
        assert link.startswith(f"{BASE}{INTEGRATIONS}?page_token=")
        token = httpx.URL(link).params["page_token"]
        assert not token.isdigit()
        assert len(token) <= 255
        tokens.append(token)
        response = await api.get(link)
    assert seen == ["Organization admins"] + [f"n{number}" for number in range(7)]
    assert len(tokens) == 2
    assert len(set(tokens)) == 2


async def test_a_deletion_between_pages_skips_nothing_that_remains(
    api: httpx.AsyncClient, sim: ConfluentSimulator
) -> None:
    made = [sim.add_integration(f"n{number}")["id"] for number in range(5)]
    first = (await api.get(INTEGRATIONS, params={"page_size": 3})).json()
    sim.remove(made[0])
    second = (await api.get(first["metadata"]["next"])).json()
    names = [item["display_name"] for item in first["data"] + second["data"]]
    assert names == ["Organization admins", "n0", "n1", "n2", "n3", "n4"]


async def test_the_default_page_size_is_100(
    api: httpx.AsyncClient, sim: ConfluentSimulator
) -> None:
    for number in range(150):
        sim.add_integration(f"n{number}")
    body = (await api.get(INTEGRATIONS)).json()
    assert len(body["data"]) == 100
    assert body["metadata"]["total_size"] == 151


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page_size": 251}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": "many"}, "page_size"),
        ({"page_token": "made-up"}, "page_token"),
    ],
)
async def test_bad_paging_parameters_are_400_naming_the_parameter(
    api: httpx.AsyncClient, params: dict[str, Any], parameter: str
) -> None:
    response = await api.get(INTEGRATIONS, params=params)
    assert response.status_code == 400
    [error] = errors(response)
    assert error["code"] == "invalid_filter"
    assert error["source"] == {"parameter": parameter}


# -- rate limits -----------------------------------------------------------------------------


async def test_the_window_is_announced_on_every_success_in_relative_seconds(
    clock: ManualClock,
) -> None:
    sim = make_sim(clock, rate=Rate(limit=3, window=60))
    async with client_for(sim) as api:
        first = await api.get(INTEGRATIONS)
        clock.advance(20.5)
        second = await api.get(INTEGRATIONS)
        third = await api.post(INTEGRATIONS, json=webhook())
        refused = await api.get(INTEGRATIONS)
        clock.advance(39.5)
        fresh = await api.get(INTEGRATIONS)

    def window(response: httpx.Response) -> tuple[str, str, str]:
        headers = response.headers
        return (
            headers["X-RateLimit-Limit"],
            headers["X-RateLimit-Remaining"],
            headers["X-RateLimit-Reset"],
        )

    assert window(first) == ("3", "2", "60")
    assert window(second) == ("3", "1", "40")  # relative: never 1_800_000_060
    assert window(third) == ("3", "0", "40")
    assert refused.status_code == 429
    assert window(refused) == ("3", "0", "40")
    assert refused.headers["Retry-After"] == "40"
    assert errors(refused)[0]["status"] == "429"
    assert window(fresh) == ("3", "2", "60")
    assert sim.rate_limited == 1


async def test_windows_are_per_api_key_and_errors_count_too(clock: ManualClock) -> None:
    sim = make_sim(clock, rate=Rate(limit=2, window=10))
    async with client_for(sim) as admin, client_for(sim, basic(VIEWER, VIEWER_SECRET)) as viewer:
        assert (await admin.get(f"{INTEGRATIONS}/i-none")).status_code == 404
        assert (await admin.get(INTEGRATIONS)).status_code == 200
        assert (await admin.get(INTEGRATIONS)).status_code == 429
        assert (await viewer.get(INTEGRATIONS)).status_code == 200
        async with client_for(sim, basic(KEY, "bad")) as stranger:
            # An unknown key is turned away before it can spend anyone's window.
            assert (await stranger.get(INTEGRATIONS)).status_code == 401
    assert sim.rate_limited == 1


async def test_an_unlimited_simulator_sends_no_rate_headers(api: httpx.AsyncClient) -> None:
    response = await api.get(INTEGRATIONS)
    assert "X-RateLimit-Remaining" not in response.headers


async def test_set_rate_starts_fresh_windows(clock: ManualClock) -> None:
    sim = make_sim(clock, rate=Rate(limit=1, window=60))
    async with client_for(sim) as api:
        await api.get(INTEGRATIONS)
        assert (await api.get(INTEGRATIONS)).status_code == 429
        sim.set_rate(Rate(limit=5, window=30))
        again = await api.get(INTEGRATIONS)
    assert again.headers["X-RateLimit-Remaining"] == "4"
    assert again.headers["X-RateLimit-Reset"] == "30"
    assert sim.rate == Rate(5, 30)


async def test_a_throttle_fault_is_a_429_with_all_headers(
    api: httpx.AsyncClient, sim: ConfluentSimulator
) -> None:
    sim.faults.throttle(retry_after=17, method="POST")
    response = await api.post(INTEGRATIONS, json=webhook())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "17"
    assert response.headers["X-RateLimit-Reset"] == "17"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert sim.rate_limited == 0  # injected, not the window
    assert len(sim.integrations()) == 1


async def test_a_500_fault_is_a_failure_body_and_gateway_errors_are_pages(
    api: httpx.AsyncClient, sim: ConfluentSimulator
) -> None:
    sim.faults.fail(500)
    sim.faults.fail(502)
    server_error = await api.get(INTEGRATIONS)
    gateway = await api.get(INTEGRATIONS)
    assert errors(server_error)[0]["title"] == "Internal Server Error"
    assert gateway.status_code == 502
    assert "<html" in gateway.text


# -- :test delivers for real -----------------------------------------------------------------


class Receiver:
    """A webhook receiver: records what it gets, answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, dict[str, Any]]] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.received.append((request.url.path, json.loads(request.content)))
        return httpx.Response(self.status, text="ok")


async def test_test_posts_a_notification_to_a_real_local_receiver(clock: ManualClock) -> None:
    receiver = Receiver()
    async with SimulatorServer(receiver) as url:
        sim = make_sim(clock)  # the real network: no delivery transport
        async with client_for(sim) as api:
            response = await api.post(TEST, json=webhook("probe", f"{url}/hooks/confluent"))
    assert response.status_code == 204
    assert "X-Request-Id" in response.headers
    [(path, payload)] = receiver.received
    assert path == "/hooks/confluent"
    assert payload["notification_type"] == "TEST_NOTIFICATION"
    assert payload["integration"] == "probe"
    [delivery] = sim.deliveries
    assert (delivery.url, delivery.status, delivery.delivered) == (
        f"{url}/hooks/confluent",
        200,
        True,
    )


async def test_slack_and_teams_targets_get_a_text_payload(clock: ManualClock) -> None:
    receiver = Receiver()
    sim = make_sim(clock, delivery_transport=httpx.MockTransport(receiver.handle))
    async with client_for(sim) as api:
        for kind in ("Slack", "MsTeams"):
            target = {"kind": kind, "webhook_url": f"https://hooks.test/{kind}"}
            response = await api.post(TEST, json={"display_name": "chat", "target": target})
            assert response.status_code == 204
    assert [path for path, _ in receiver.received] == ["/Slack", "/MsTeams"]
    assert all("chat" in payload["text"] for _, payload in receiver.received)
    assert sim.integrations()[1:] == []  # a test creates nothing


async def test_a_failed_delivery_is_a_400_pointing_at_the_url(clock: ManualClock) -> None:
    receiver = Receiver(status=500)
    sim = make_sim(clock, delivery_transport=httpx.MockTransport(receiver.handle))
    async with client_for(sim) as api:
        response = await api.post(TEST, json=webhook())
    assert response.status_code == 400
    [error] = errors(response)
    assert error["code"] == "test_notification_failed"
    assert error["source"] == {"pointer": "/target/url"}
    assert "500" in error["detail"]
    assert not sim.deliveries[0].delivered


async def test_an_unreachable_target_is_a_400_naming_the_transport_error(
    clock: ManualClock,
) -> None:
    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sim = make_sim(clock, delivery_transport=httpx.MockTransport(refuse))
    async with client_for(sim) as api:
        response = await api.post(TEST, json=webhook())
    assert response.status_code == 400
    assert "ConnectError" in errors(response)[0]["detail"]
    assert sim.deliveries[0].error == "ConnectError"


async def test_an_invalid_test_body_is_a_422_and_nothing_is_sent(
    api: httpx.AsyncClient, sim: ConfluentSimulator
) -> None:
    response = await api.post(TEST, json={"display_name": "x", "target": {"kind": "Webhook"}})
    assert response.status_code == 422
    assert sim.deliveries == []


# -- behind the operator's back, in Python and over HTTP -------------------------------------


def test_python_methods_change_state_without_validation(sim: ConfluentSimulator) -> None:
    made = sim.add_integration("x", url="https://a.test/h")
    sim.rename(made["id"], "y" * 80)
    sim.set_url(made["id"], "https://b.test/h")
    sim.set_description(made["id"], "hand-written")
    found = sim.get(made["id"])
    assert found is not None
    assert found["display_name"] == "y" * 80
    assert found["target"] == {"kind": "Webhook", "url": "https://b.test/h"}
    assert found["description"] == "hand-written"
    sim.set_target(made["id"], "Slack", "https://hooks.slack.com/services/a")
    assert sim.get(made["id"]) is not None
    sim.remove(made["id"])
    assert sim.get(made["id"]) is None
    with pytest.raises(KeyError):
        sim.remove(made["id"])
    with pytest.raises(ValueError, match="writable"):
        sim.set_target(sim.integrations()[0]["id"], "RoleEmail", "x")
    with pytest.raises(ValueError, match="no URL"):
        sim.set_url(sim.integrations()[0]["id"], "https://c.test")
    user = sim.add_integration("one person", kind="UserEmail", user_id="u-42")
    assert user["target"]["user"]["id"] == "u-42"
    with pytest.raises(ValueError, match="cannot patch"):
        sim.patch(user["id"], kind="Webhook")


def test_the_admin_api_over_real_http(sim: ConfluentSimulator) -> None:
    with SimulatorThread(sim) as url, httpx.Client(base_url=url) as http:
        made = http.post("/_sim/integrations", json={"display_name": "x"})
        assert made.status_code == 201
        id_ = made.json()["id"]
        moved = http.patch(
            f"/_sim/integrations/{id_}", json={"url": "https://else.test/h", "display_name": "z"}
        )
        assert moved.json()["target"]["url"] == "https://else.test/h"
        assert moved.json()["display_name"] == "z"
        slack = http.patch(f"/_sim/integrations/{id_}", json={"kind": "Slack"})
        assert slack.json()["target"] == {"kind": "Slack", "webhook_url": "https://else.test/h"}
        assert http.put("/_sim/rate", json={"limit": 2, "window": 5}).status_code == 200
        assert http.get("/_sim/rate").json() == {
            "rate": {"limit": 2, "window": 5.0},
            "rate_limited": 0,
        }
        assert http.put("/_sim/quota", json={"quota": 9}).status_code == 200
        assert http.post("/_sim/keys", json={"id": "K2", "secret": "s2"}).status_code == 201
        auth = {"Authorization": basic("K2", "s2")}
        listed = http.get(INTEGRATIONS, headers=auth)
        assert listed.status_code == 200
        assert listed.headers["X-RateLimit-Remaining"] == "1"
        assert "X-Request-Id" not in http.get("/_sim/integrations").headers
        assert http.get("/_sim/deliveries").json() == []
        assert http.delete(f"/_sim/integrations/{id_}").status_code == 204
        assert http.get(f"/_sim/integrations/{id_}").status_code == 404
        assert http.put("/_sim/rate", json={"limit": 0}).status_code == 200
    assert sim.rate is None
    assert sim.quota == 9


def test_the_command_line_builds_the_simulator() -> None:
    args = build_parser().parse_args(
        ["--key", "K:S", "--key", "R:T:MetricsViewer", "--rate-limit", "10", "--quota", "5"]
    )
    sim = simulator_from_args(args)
    assert sim.rate == Rate(10, 60.0)
    assert sim.quota == 5
    unlimited = simulator_from_args(build_parser().parse_args(["--rate-limit", "0"]))
    assert unlimited.rate is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--key", "only-a-key"])


async def test_a_target_can_point_at_the_simulators_own_sink(clock: ManualClock) -> None:
    sim = make_sim(clock)
    async with SimulatorServer(sim) as url, client_for(sim) as api:
        target = f"{url}/_sim/sink/kafka-notifications"
        response = await api.post(TEST, json=webhook("demo", target))
        async with httpx.AsyncClient() as http:
            received = (await http.get(f"{url}/_sim/sink")).json()
    assert response.status_code == 204
    assert [item["path"] for item in received] == ["kafka-notifications"]
    assert received[0]["body"]["integration"] == "demo"
    assert sim.requests.total == 1  # the sink is not platform traffic
