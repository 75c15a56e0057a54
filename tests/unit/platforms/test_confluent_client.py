"""ConfluentClient against the Confluent Cloud simulator, in process (no sockets).

Every documented answer of notifications/v1 (docs/platforms/confluent.md) must
come out of the client as data or as one of AlertSync's errors whose message names the
operation, the offending field and the request id, and never the API key or its secret.
Rate limits run on one ManualClock shared by the simulator and the throttle: nothing sleeps.
"""

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from alertsim.confluent import ApiKey, ConfluentSimulator, Rate
from alertsim.core import ManualClock
from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    CredentialsMissingError,
    PermissionDeniedError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import ProductType
from alertsync.platforms import build_adapter
from alertsync.platforms.confluent import ConfluentAdapter, ConfluentClient, basic_auth
from alertsync.platforms.confluent.client import (
    INTEGRATIONS,
    describe_error,
    rate_window,
    retry_after,
)
from alertsync.platforms.confluent.wire import Failure, Integration, IntegrationList
from alertsync.platforms.http import PlatformHttp, RateWindow, Throttle
from tests.support.accounts import platform_account
from tests.support.transport import Handler, capped

BASE = "http://confluent.test"
KEY, SECRET = "CLIENTKEY4F1C", "client-secret-9e2a4f1c9e2a"
VIEWER, VIEWER_SECRET = "VIEWERKEY8B3D", "viewer-secret-8b3d7a61"
WRONG_SECRET = "client-wrong-secret-0c5e2f93"
ONE = "/notifications/v1/integrations/{id}"
TEST = "/notifications/v1/integrations:test"
RECEIVER = "https://receiver.example.com/confluent"
Sleep = Callable[[float], Awaitable[None]]


def simulator(clock: ManualClock, rate: Rate | None = None, **options: Any) -> ConfluentSimulator:
    options.setdefault("base_url", BASE)
    return ConfluentSimulator(
        keys={KEY: ApiKey(SECRET), VIEWER: ApiKey(VIEWER_SECRET, "MetricsViewer")},
        rate=rate,
        clock=clock,
        seed=11,
        **options,
    )


@pytest.fixture
def sim(clock: ManualClock) -> ConfluentSimulator:
    return simulator(clock)


def sleeper(clock: ManualClock, slept: list[float] | None = None) -> Sleep:
    """Time passes to the end of the sleep on `clock` (once for waiters sharing an end)."""

    async def sleep(seconds: float) -> None:
        if slept is not None:
            slept.append(seconds)
        until = clock() + seconds
        await asyncio.sleep(0)
        if clock() < until:
            clock.advance(until - clock())

    return sleep


def make_client(
    handler: Handler,
    clock: Callable[[], float],
    key: str = KEY,
    secret: str = SECRET,
    sleep: Sleep = asyncio.sleep,
    cap: int = 40,
) -> ConfluentClient:
    """A client wired like build() wires it, with the throttle on `clock`."""
    http = PlatformHttp(
        client=httpx.AsyncClient(transport=httpx.MockTransport(capped(handler, cap))),
        base_url=BASE,
        auth_headers={"Authorization": basic_auth(key, secret)},
        throttle=Throttle(None, clock=clock, sleep=sleep, probe_first=True),
        describe_error=describe_error,
        retry_after=retry_after,
        rate_window=rate_window,
    )
    return ConfluentClient(http)


@pytest.fixture
async def client(sim: ConfluentSimulator, clock: ManualClock) -> AsyncIterator[ConfluentClient]:
    made = make_client(sim.handle, clock)
    yield made
    await made.http.client.aclose()


def no_secrets(exc: BaseException) -> None:
    encoded = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        for secret in (SECRET, VIEWER_SECRET, WRONG_SECRET, encoded):
            assert secret not in text


def webhook(name: str = "team-a prod", url: str = RECEIVER, **extra: Any) -> dict[str, Any]:
    return {"display_name": name, "target": {"kind": "Webhook", "url": url}, **extra}


# -- build() wiring ---------------------------------------------------------------------------


async def test_build_adapter_sends_basic_auth_of_key_id_and_secret(
    sim: ConfluentSimulator,
) -> None:
    seen: list[str] = []

    async def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return await sim.handle(request)

    account = platform_account(BASE + "/", SECRET, ProductType.CONFLUENT, username=SecretStr(KEY))
    adapter = build_adapter(account, transport=httpx.MockTransport(spy))
    try:
        assert isinstance(adapter, ConfluentAdapter)
        await adapter.check()
    finally:
        await adapter.aclose()
    assert seen == ["Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()]
    assert sim.requests.count("GET", INTEGRATIONS) == 1


def test_build_without_a_key_id_says_which_setting_is_missing() -> None:
    account = platform_account(BASE, SECRET, ProductType.CONFLUENT, name="confluent")
    with pytest.raises(CredentialsMissingError) as caught:
        build_adapter(account)
    assert "spec.credentialsSecretRef.usernameKey" in str(caught.value)
    assert "AlertPlatform 'confluent'" in str(caught.value)
    no_secrets(caught.value)


async def test_an_echoed_authorization_header_is_masked(clock: ManualClock) -> None:
    async def echo(request: httpx.Request) -> httpx.Response:
        detail = f"bad header {request.headers['Authorization']}"
        return httpx.Response(400, json={"errors": [{"status": "400", "detail": detail}]})

    account = platform_account(BASE, SECRET, ProductType.CONFLUENT, username=SecretStr(KEY))
    adapter = build_adapter(account, transport=httpx.MockTransport(echo))
    try:
        with pytest.raises(PlatformRejectedError) as caught:
            await adapter.check()
    finally:
        await adapter.aclose()
    no_secrets(caught.value)
    assert "Basic [REDACTED]" in str(caught.value)


# -- reads and paging -----------------------------------------------------------------------------


async def test_list_follows_opaque_tokens_across_several_pages(
    client: ConfluentClient, sim: ConfluentSimulator
) -> None:
    for number in range(600):
        sim.add_integration(f"integration {number:03}")

    found = await client.list_integrations()

    assert [item.id for item in found] == [item["id"] for item in sim.integrations()]
    assert found[0].target.kind == "RoleEmail"  # listed, email kinds included
    assert [item.display_name for item in found[1:]] == [f"integration {n:03}" for n in range(600)]
    # 250 a page (the server's maximum): 250, 250, 101.
    assert sim.requests.count("GET", INTEGRATIONS) == 3


async def test_only_the_page_token_goes_back_and_only_to_our_own_url(clock: ManualClock) -> None:
    # Links name the public API host; the key must never be sent anywhere else.
    sim = simulator(clock, base_url="https://api.confluent.cloud")
    for number in range(300):
        sim.add_integration(f"n{number}")
    sent: list[httpx.URL] = []

    async def spy(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        return await sim.handle(request)

    client = make_client(spy, clock)
    try:
        assert len(await client.list_integrations()) == 301
    finally:
        await client.http.client.aclose()
    assert {url.host for url in sent} == {"confluent.test"}
    assert dict(sent[0].params) == {"page_size": "250"}
    assert list(sent[1].params) == ["page_token"]


async def test_a_repeated_page_token_stops_the_listing(clock: ManualClock) -> None:
    async def loop(request: httpx.Request) -> httpx.Response:
        body = {
            "api_version": "notifications/v1",
            "kind": "IntegrationList",
            "metadata": {"next": f"{BASE}{INTEGRATIONS}?page_token=same"},
            "data": [],
        }
        return httpx.Response(200, json=body)

    client = make_client(loop, clock)
    try:
        with pytest.raises(PlatformUnavailableError, match="repeated a page token"):
            await client.list_integrations()
    finally:
        await client.http.client.aclose()


async def test_a_null_next_is_the_last_page(clock: ManualClock) -> None:
    async def last(request: httpx.Request) -> httpx.Response:
        body = {
            "api_version": "notifications/v1",
            "kind": "IntegrationList",
            "metadata": {"first": "x", "last": None, "prev": None, "next": None, "total_size": 0},
            "data": [],
        }
        return httpx.Response(200, json=body)

    client = make_client(last, clock)
    try:
        assert await client.list_integrations() == []
    finally:
        await client.http.client.aclose()


async def test_get_ignores_unknown_fields_and_404_is_none(
    clock: ManualClock, sim: ConfluentSimulator
) -> None:
    made = sim.add_integration("x", url="https://a.test/h")

    async def newer(request: httpx.Request) -> httpx.Response:
        response = await sim.handle(request)
        if response.status_code != 200:
            return response
        body = response.json() | {"owner": {"id": "u-1"}, "labels": ["x"]}
        body["target"] = body["target"] | {"headers": {"X-A": "b"}}
        body["metadata"] = body["metadata"] | {"etag": "1"}
        return httpx.Response(200, json=body)

    client = make_client(newer, clock)
    try:
        found = await client.get_integration(made["id"])
        assert await client.get_integration("i-missing") is None
    finally:
        await client.http.client.aclose()
    assert found is not None
    assert (found.id, found.display_name, found.target.address) == (
        made["id"],
        "x",
        "https://a.test/h",
    )


async def test_create_patch_delete_round_trip(
    client: ConfluentClient, sim: ConfluentSimulator
) -> None:
    created = await client.create_integration(webhook(description="m"))
    assert sim.get(created.id) is not None
    slack = {"kind": "Slack", "webhook_url": "https://hooks.slack.com/services/T/B/z"}
    updated = await client.update_integration(created.id, {"target": slack})
    assert updated.target.kind == "Slack"
    assert updated.target.address == slack["webhook_url"]
    assert updated.description == "m"  # PATCH left it
    await client.delete_integration(created.id)
    assert sim.get(created.id) is None
    await client.delete_integration(created.id)  # already gone is success
    assert sim.requests.count("DELETE", ONE) == 2


async def test_a_201_without_a_body_is_read_from_its_location(
    clock: ManualClock, sim: ConfluentSimulator
) -> None:
    async def bodiless(request: httpx.Request) -> httpx.Response:
        response = await sim.handle(request)
        if response.status_code == 201:
            return httpx.Response(201, headers={"Location": response.headers["Location"]})
        return response

    client = make_client(bodiless, clock)
    try:
        created = await client.create_integration(webhook())
    finally:
        await client.http.client.aclose()
    assert created.display_name == "team-a prod"
    assert sim.requests.count("GET", ONE) == 1


async def test_an_unreadable_answer_is_platform_unavailable(clock: ManualClock) -> None:
    async def garbled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    client = make_client(garbled, clock)
    try:
        with pytest.raises(PlatformUnavailableError, match="unreadable"):
            await client.get_integration("i-1")
        with pytest.raises(PlatformUnavailableError, match="list Confluent integrations"):
            await client.list_integrations()
    finally:
        await client.http.client.aclose()


# -- the documented payloads parse without loss ----------------------------------------------------

# The reference's "Read an Integration" examples, field by field (values copied verbatim).
SEED_INTEGRATION: dict[str, Any] = {
    "api_version": "notifications/v1",
    "kind": "Integration",
    "id": "dlz-f3a90de",
    "metadata": {
        "self": "https://api.confluent.cloud/notifications/v1/integrations/i-12345",
        "resource_name": (
            "crn://confluent.cloud/organization=9bb441c4-edef-46ac-8a41-c49e44a3fd9a"
            "/integration=i-12345"
        ),
        "created_at": "2006-01-02T15:04:05-07:00",
        "updated_at": "2006-01-02T15:04:05-07:00",
        "deleted_at": "2006-01-02T15:04:05-07:00",
    },
    "display_name": "Slack integration",
    "description": "A Slack channel integration",
    "target": {"kind": "Slack", "webhook_url": "https://hooks.slack.com/services/{id}/{id}/{id}"},
}
SEED_TARGETS: list[dict[str, Any]] = [
    {"kind": "Slack", "webhook_url": "https://hooks.slack.com/services/{id}/{id}/{id}"},
    {"kind": "RoleEmail", "role_name": "OrganizationAdmin"},
    {
        "kind": "UserEmail",
        "user": {
            "id": "u-12345",
            "related": "https://api.confluent.cloud/iam/v2/users/u-12345",
            "resource_name": "crn://confluent.cloud/user=u-12345",
        },
    },
    {"kind": "Webhook", "url": "https://my.webhook.url/{id}"},
    {
        "kind": "MsTeams",
        "webhook_url": "https://admin.webhook.office.com/webhookb2/{id}/IncomingWebhook/{id}",
    },
]
# The reference's Failure examples, one per documented status.
SEED_FAILURES: dict[int, dict[str, Any]] = {
    400: {
        "errors": [
            {
                "id": "ed42afdc-f0d5-4c0d-b428-9fc6ed6e279d",
                "status": "400",
                "code": "invalid_filter",
                "title": "Invalid Filter",
                "detail": "The 'delorean' resource can't be filtered by 'num_doors'",
                "source": {"parameter": "num_doors"},
            }
        ]
    },
    401: {
        "errors": [
            {
                "id": "ed42afdc-f0d5-4c0d-b428-9fc6ed6e279d",
                "status": "401",
                "code": "user_unauthenticated",
                "title": "Authentication Required",
                "detail": "Valid authentication credentials must be provided",
            }
        ]
    },
    403: {
        "errors": [
            {
                "id": "ed42afdc-f0d5-4c0d-b428-9fc6ed6e279d",
                "status": "403",
                "code": "user_unauthorized",
                "title": "User Access Unauthorized",
                "detail": "The user 'mcfly' is not allowed to access the 'delorean' resource "
                "without the 'plutonium' role.",
            }
        ]
    },
    404: {
        "errors": [
            {"id": "ed42afdc-f0d5-4c0d-b428-9fc6ed6e279d", "status": "404", "title": "Not Found"}
        ]
    },
    500: {
        "errors": [
            {
                "id": "ed42afdc-f0d5-4c0d-b428-9fc6ed6e279d",
                "status": "500",
                "code": "out_of_gas",
                "title": "DeLorean Out Of Gas",
                "detail": "The DeLorean has run out of gas, but Doc Brown will fill 'er up for "
                "you asap",
            }
        ]
    },
}


def test_the_seed_integration_parses_without_loss() -> None:
    parsed = Integration.model_validate(SEED_INTEGRATION)
    assert parsed.model_dump(by_alias=True, exclude_unset=True) == SEED_INTEGRATION
    assert parsed.target.address == "https://hooks.slack.com/services/{id}/{id}/{id}"


@pytest.mark.parametrize("target", SEED_TARGETS, ids=lambda target: target["kind"])
def test_every_seed_target_parses_without_loss(target: dict[str, Any]) -> None:
    body = {**SEED_INTEGRATION, "target": target}
    parsed = Integration.model_validate(body)
    assert parsed.model_dump(by_alias=True, exclude_unset=True) == body


def test_the_platform_notes_list_example_parses_without_loss() -> None:
    body = {
        "api_version": "notifications/v1",
        "kind": "IntegrationList",
        "metadata": {
            "first": "https://api.confluent.cloud/notifications/v1/integrations",
            "last": None,
            "prev": None,
            "next": (
                "https://api.confluent.cloud/notifications/v1/integrations"
                "?page_token=UvmDWOB1iwfAIBPj6EYb"
            ),
            "total_size": 123,
        },
        "data": [SEED_INTEGRATION],
    }
    parsed = IntegrationList.model_validate(body)
    assert parsed.model_dump(by_alias=True, exclude_unset=True) == body


def test_a_kind_this_code_does_not_know_still_parses() -> None:
    body = {**SEED_INTEGRATION, "target": {"kind": "InApp", "user": {"id": "u-1"}}}
    assert Integration.model_validate(body).target.kind == "InApp"


@pytest.mark.parametrize("status", sorted(SEED_FAILURES))
def test_every_seed_failure_parses_without_loss(status: int) -> None:
    body = SEED_FAILURES[status]
    assert Failure.model_validate(body).model_dump(exclude_unset=True) == body


def test_every_failure_field_parses() -> None:
    body = {
        "errors": [
            {
                "id": "e1",
                "status": "422",
                "code": "invalid_configuration",
                "title": "Validation Failed",
                "detail": "bad",
                "source": {"pointer": "/target/url"},
                "error_code": 4221,
                "message": None,
            }
        ]
    }
    assert Failure.model_validate(body).model_dump(exclude_unset=True) == body


# -- every error of the Failure model -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (
            400,
            PlatformRejectedError,
            "400 [request id req-1] Invalid Filter (invalid_filter) in query parameter "
            "num_doors: The 'delorean' resource can't be filtered by 'num_doors'",
        ),
        (
            401,
            CredentialsError,
            "401 [request id req-1] Authentication Required (user_unauthenticated): "
            "Valid authentication credentials must be provided",
        ),
        (
            # A write refused to a key the platform knows: not a bad key, a missing role.
            403,
            PermissionDeniedError,
            "403 [request id req-1] User Access Unauthorized (user_unauthorized): The user "
            "'mcfly' is not allowed to access the 'delorean' resource without the "
            "'plutonium' role. (the credentials are accepted but may not make this change: "
            "give the token write permission on the platform)",
        ),
        (404, PlatformRejectedError, "404 [request id req-1] Not Found"),
        (
            500,
            PlatformUnavailableError,
            "500 [request id req-1] DeLorean Out Of Gas (out_of_gas): The DeLorean has run "
            "out of gas, but Doc Brown will fill 'er up for you asap",
        ),
    ],
)
async def test_the_seed_failures_become_alertsync_errors_with_the_request_id(
    clock: ManualClock, status: int, error: type[AlertSyncError], words: str
) -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=SEED_FAILURES[status], headers={"X-Request-Id": "req-1"})

    client = make_client(answer, clock)
    try:
        with pytest.raises(error) as caught:
            await client.update_integration("i-1", {"display_name": "x"})
    finally:
        await client.http.client.aclose()
    assert str(caught.value) == f"cannot update integration i-1: {words}"
    assert type(caught.value) is error


async def test_a_bad_secret_is_a_credentials_error_with_the_challenge_and_no_secret(
    sim: ConfluentSimulator, clock: ManualClock
) -> None:
    client = make_client(sim.handle, clock, secret=WRONG_SECRET)
    try:
        with pytest.raises(CredentialsError) as caught:
            await client.check()
    finally:
        await client.http.client.aclose()
    message = str(caught.value)
    assert message.startswith("cannot list Confluent integrations: 401 [request id ")
    assert "Authentication Required (user_unauthenticated)" in message
    assert "The API Key is invalid" in message
    assert not caught.value.permanent
    no_secrets(caught.value)


async def test_a_read_only_key_may_read_but_writing_is_a_credentials_error(
    sim: ConfluentSimulator, clock: ManualClock
) -> None:
    client = make_client(sim.handle, clock, key=VIEWER, secret=VIEWER_SECRET)
    try:
        assert len(await client.list_integrations()) == 1
        with pytest.raises(CredentialsError) as caught:
            await client.create_integration(webhook())
    finally:
        await client.http.client.aclose()
    assert "403" in str(caught.value)
    assert "user_unauthorized" in str(caught.value)
    assert "OrganizationAdmin" in str(caught.value)
    no_secrets(caught.value)
    assert len(sim.integrations()) == 1


async def test_a_validation_failure_names_every_field_and_its_spec_path(
    client: ConfluentClient, sim: ConfluentSimulator
) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.create_integration(
            {"display_name": "x" * 65, "target": {"kind": "Webhook", "url": "not a url"}}
        )
    message = str(caught.value)
    assert caught.value.status_code == 422
    assert caught.value.permanent
    assert (
        "Validation Failed (invalid_configuration) at /display_name (spec.displayName)" in message
    )
    assert "at /target/url (spec.webhook.url): url must be an absolute http(s) URI" in message
    assert "[request id " in message
    assert len(sim.integrations()) == 1


async def test_a_read_only_kind_is_rejected_naming_the_target_kind(
    client: ConfluentClient, sim: ConfluentSimulator
) -> None:
    default = sim.integrations()[0]["id"]
    with pytest.raises(PlatformRejectedError) as caught:
        await client.delete_integration(default)
    assert "400" in str(caught.value)
    assert "RoleEmail integrations cannot be deleted" in str(caught.value)
    with pytest.raises(PlatformRejectedError) as created:
        await client.create_integration(
            {"display_name": "mail", "target": {"kind": "RoleEmail", "role_name": "x"}}
        )
    assert "at /target/kind (spec.confluent.targetKind)" in str(created.value)


async def test_the_quota_is_a_permanent_rejection(clock: ManualClock) -> None:
    sim = simulator(clock, quota=1)
    client = make_client(sim.handle, clock)
    try:
        with pytest.raises(PlatformRejectedError) as caught:
            await client.create_integration(webhook())
    finally:
        await client.http.client.aclose()
    assert caught.value.status_code == 402
    assert "quota_exceeded" in str(caught.value)
    assert "integrations_per_org" in str(caught.value)


async def test_a_duplicate_name_409_is_a_rejection(clock: ManualClock) -> None:
    sim = simulator(clock, unique_names=True)
    client = make_client(sim.handle, clock)
    try:
        await client.create_integration(webhook("same"))
        with pytest.raises(PlatformRejectedError) as caught:
            await client.create_integration(webhook("same"))
    finally:
        await client.http.client.aclose()
    assert caught.value.status_code == 409
    assert "resource_already_exists" in str(caught.value)
    assert "(spec.displayName)" in str(caught.value)


async def test_a_patch_of_an_unknown_id_is_rejected_not_ignored(client: ConfluentClient) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.update_integration("i-gone", {"display_name": "x"})
    assert caught.value.status_code == 404
    assert "Integration 'i-gone' was not found" in str(caught.value)


async def test_a_bad_page_size_names_the_query_parameter(clock: ManualClock) -> None:
    sim = simulator(clock)
    http = make_client(sim.handle, clock).http
    try:
        with pytest.raises(PlatformRejectedError) as caught:
            await http.request("GET", INTEGRATIONS, what="list", params={"page_size": 500})
    finally:
        await http.client.aclose()
    assert "in query parameter page_size" in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_is_platform_unavailable(
    client: ConfluentClient, sim: ConfluentSimulator, status: int
) -> None:
    sim.faults.fail(status)
    with pytest.raises(PlatformUnavailableError) as caught:
        await client.get_integration("i-1")
    assert f"cannot read integration i-1: {status} [request id " in str(caught.value)
    assert "<html" not in str(caught.value)


async def test_timeouts_resets_and_lost_answers_are_platform_unavailable(
    client: ConfluentClient, sim: ConfluentSimulator
) -> None:
    sim.faults.timeout()
    sim.faults.reset()
    sim.faults.lose_response(method="POST")
    with pytest.raises(PlatformUnavailableError, match="timed out"):
        await client.check()
    with pytest.raises(PlatformUnavailableError, match="connecting to the platform"):
        await client.check()
    with pytest.raises(PlatformUnavailableError):
        await client.create_integration(webhook("lost"))
    assert [item["display_name"] for item in sim.integrations()][-1] == "lost"


def test_odd_error_bodies_still_describe_the_error() -> None:
    plain = httpx.Response(502, text="<html>bad gateway</html>", headers={"X-Request-Id": "r"})
    assert describe_error(plain) == "[request id r] Bad Gateway"
    newer = httpx.Response(400, json={"status": 400, "error": {"code": "x", "message": "m"}})
    assert describe_error(newer) == "Bad Request"
    empty = httpx.Response(400, json={"errors": []})
    assert describe_error(empty) == "Bad Request"
    message_only = httpx.Response(400, json={"errors": [{"message": "only a message"}]})
    assert describe_error(message_only) == "only a message"


# -- :test ---------------------------------------------------------------------------------------


async def test_the_test_call_delivers_through_the_simulator(clock: ManualClock) -> None:
    received: list[httpx.Request] = []

    async def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    sim = simulator(clock, delivery_transport=httpx.MockTransport(receiver))
    client = make_client(sim.handle, clock)
    try:
        await client.test_integration(webhook("probe", "https://hooks.test/here"))
        sim.delivery_transport = httpx.MockTransport(lambda request: httpx.Response(503))
        with pytest.raises(PlatformRejectedError) as caught:
            await client.test_integration(webhook("probe", "https://hooks.test/here"))
    finally:
        await client.http.client.aclose()
    assert [str(request.url) for request in received] == ["https://hooks.test/here"]
    assert "test_notification_failed" in str(caught.value)
    assert "(spec.webhook.url)" in str(caught.value)
    assert "503" in str(caught.value)
    assert sim.requests.count("POST", TEST) == 2


# -- rate limits: the headers, exactly as Confluent documents them ------------------------------


def test_rate_window_reads_the_three_headers_as_relative_seconds() -> None:
    response = httpx.Response(
        200,
        headers={
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": "12",
            "X-RateLimit-Reset": "42",
        },
    )
    assert rate_window(response) == RateWindow(remaining=12, reset_seconds=42.0, limit=60)
    assert rate_window(httpx.Response(200)) is None
    partial = httpx.Response(200, headers={"X-RateLimit-Remaining": "3"})
    assert rate_window(partial) is None
    garbled = httpx.Response(
        200, headers={"X-RateLimit-Remaining": "many", "X-RateLimit-Reset": "4"}
    )
    assert rate_window(garbled) is None
    no_limit = httpx.Response(200, headers={"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "4"})
    assert rate_window(no_limit) == RateWindow(remaining=3, reset_seconds=4.0, limit=None)


def test_retry_after_prefers_retry_after_then_the_relative_reset() -> None:
    both = httpx.Response(429, headers={"Retry-After": "5", "X-RateLimit-Reset": "9"})
    reset_only = httpx.Response(429, headers={"X-RateLimit-Reset": "9"})
    garbled = httpx.Response(429, headers={"Retry-After": "soon", "X-RateLimit-Reset": "3"})
    assert retry_after(both) == 5
    assert retry_after(reset_only) == 9
    assert retry_after(garbled) == 3
    assert retry_after(httpx.Response(429)) is None


async def test_the_reset_is_taken_as_relative_seconds_not_an_epoch(clock: ManualClock) -> None:
    # The clock reads 1.8e9: taken as an epoch, "30" would be long past and the third
    # request would go out into a 429.
    sim = simulator(clock, rate=Rate(limit=2, window=30))
    client = make_client(sim.handle, clock)
    try:
        await client.check()
        await client.check()  # announces: 0 left, reset in 30 s
        with pytest.raises(RateLimitedError) as caught:
            await client.check()
    finally:
        await client.http.client.aclose()
    assert caught.value.retry_after == 30
    assert sim.requests.total == 2
    assert sim.rate_limited == 0


async def test_a_spent_window_is_waited_out_instead_of_sent_into(clock: ManualClock) -> None:
    sim = simulator(clock, rate=Rate(limit=5, window=3))
    slept: list[float] = []
    client = make_client(sim.handle, clock, sleep=sleeper(clock, slept))
    try:
        for _ in range(12):
            await client.check()
    finally:
        await client.http.client.aclose()
    assert sim.requests.total == 12
    assert sim.rate_limited == 0
    assert slept == [3, 3]  # once per spent window, exactly to its reset


async def test_after_a_429_nothing_is_sent_before_retry_after(clock: ManualClock) -> None:
    sim = simulator(clock, rate=Rate(limit=10, window=60))
    sent_at: list[float] = []

    async def timed(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock())
        return await sim.handle(request)

    client = make_client(timed, clock, sleep=sleeper(clock))
    try:
        await client.check()  # the window is known: 9 left
        clock.advance(15)
        # Another process with the same key spends the rest of the window.
        async with httpx.AsyncClient(transport=httpx.MockTransport(sim.handle)) as other:
            for _ in range(9):
                await other.get(
                    BASE + INTEGRATIONS, headers={"Authorization": basic_auth(KEY, SECRET)}
                )
        with pytest.raises(RateLimitedError) as caught:
            await client.check()
        assert caught.value.retry_after == 45
        refused_at = clock()

        for offset in (10, 20, 30, 39):  # refused locally: nothing sent
            clock.advance(offset - (clock() - refused_at))
            with pytest.raises(RateLimitedError) as waiting:
                await client.get_integration("i-1")
            assert waiting.value.retry_after == pytest.approx(45 - offset)
        clock.advance(41 - (clock() - refused_at))
        await client.check()  # a 4 s wait is waited out, then it goes
    finally:
        await client.http.client.aclose()
    assert sim.rate_limited == 1
    assert sent_at[-1] == refused_at + 45
    assert len(sent_at) == 3


async def test_a_burst_of_200_concurrent_calls_sends_none_into_a_429(clock: ManualClock) -> None:
    sim = simulator(clock, rate=Rate(limit=60, window=60))

    async def concurrent(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let the other callers run while this one is "on the wire"
        return await sim.handle(request)

    client = make_client(concurrent, clock, sleep=sleeper(clock), cap=1000)
    try:
        await client.check()  # the platform announces its window: 59 left
        results = await asyncio.gather(
            *(client.get_integration(f"i-{n}") for n in range(200)), return_exceptions=True
        )
    finally:
        await client.http.client.aclose()
    refused = [result for result in results if isinstance(result, RateLimitedError)]
    done = [result for result in results if result is None]
    assert sim.rate_limited == 0
    assert sim.requests.total == 60
    assert (len(done), len(refused)) == (59, 141)
    assert {round(error.retry_after) for error in refused} == {60}
    assert all("rate limited by the platform until" in str(error) for error in refused)


async def test_a_cold_burst_before_any_answer_is_held_to_the_window(clock: ManualClock) -> None:
    sim = simulator(clock, rate=Rate(limit=60, window=60))

    async def concurrent(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        return await sim.handle(request)

    client = make_client(concurrent, clock, sleep=sleeper(clock), cap=1000)
    try:
        await asyncio.gather(*(client.check() for _ in range(200)), return_exceptions=True)
    finally:
        await client.http.client.aclose()
    assert sim.rate_limited == 0
