"""GrafanaOnCallClient against the Grafana OnCall simulator, in process (no sockets).

Every documented answer of the public API v1 (docs/platforms/grafana-oncall.md) must
come out of the client either as data or as one of AlertSync's errors, with a message
that names the operation, the object and the platform's own words, and never the token.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock
from alertsim.grafana_oncall import GrafanaOnCallSimulator, Rate
from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    PermissionDeniedError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import PlatformKind
from alertsync.platforms import build_adapter
from alertsync.platforms.grafana_oncall import GrafanaOnCallAdapter, GrafanaOnCallClient
from alertsync.platforms.grafana_oncall.client import bad_token, describe_error, retry_after
from alertsync.platforms.http import PlatformHttp, Throttle
from tests.support.accounts import platform_account
from tests.support.transport import Handler, capped

BASE = "http://oncall.test"
TOKEN = "client-editor-token-4f1c9e2a"
VIEWER = "client-viewer-token-8b3d7a61"
WRONG = "client-wrong-token-0c5e2f93"
TEAM = "TAAAAAAAAAAAA"
INTEGRATIONS = "/api/v1/integrations/"
ONE = "/api/v1/integrations/{id}/"
MISSING = "CNOSUCHTHING1"


PLATFORM_RATE = Rate()  # 300 a minute, as the engine


def simulator(clock: ManualClock, rate: Rate | None = PLATFORM_RATE) -> GrafanaOnCallSimulator:
    return GrafanaOnCallSimulator(
        tokens={TOKEN: "editor", VIEWER: "viewer"},
        teams={TEAM},
        base_url=BASE,
        rate=rate,
        clock=clock,
        seed=11,
    )


@pytest.fixture
def sim(clock: ManualClock) -> GrafanaOnCallSimulator:
    return simulator(clock)


def make_client(
    handler: Handler,
    clock: Callable[[], float],
    token: str = TOKEN,
    per_minute: int | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> GrafanaOnCallClient:
    """A client wired like build_adapter wires it, but with the throttle on `clock`."""
    http = PlatformHttp(
        client=httpx.AsyncClient(transport=httpx.MockTransport(capped(handler, 40))),
        base_url=BASE,
        auth_headers={"Authorization": token},
        throttle=Throttle(per_minute, clock=clock, sleep=sleep),
        describe_error=describe_error,
        retry_after=retry_after,
        bad_token=bad_token,
    )
    return GrafanaOnCallClient(http)


@pytest.fixture
async def client(
    sim: GrafanaOnCallSimulator, clock: ManualClock
) -> AsyncIterator[GrafanaOnCallClient]:
    client = make_client(sim.handle, clock)
    yield client
    await client.http.client.aclose()


@pytest.fixture
async def viewer(
    sim: GrafanaOnCallSimulator, clock: ManualClock
) -> AsyncIterator[GrafanaOnCallClient]:
    client = make_client(sim.handle, clock, token=VIEWER)
    yield client
    await client.http.client.aclose()


@pytest.fixture
async def stranger(
    sim: GrafanaOnCallSimulator, clock: ManualClock
) -> AsyncIterator[GrafanaOnCallClient]:
    client = make_client(sim.handle, clock, token=WRONG)
    yield client
    await client.http.client.aclose()


def no_secrets(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        assert TOKEN not in text
        assert VIEWER not in text
        assert WRONG not in text


# -- build_adapter wiring -----------------------------------------------------------------------


async def test_build_adapter_sends_the_raw_token_and_reaches_the_simulator(
    sim: GrafanaOnCallSimulator,
) -> None:
    account = platform_account(BASE + "/", TOKEN)
    adapter = build_adapter(account, transport=httpx.MockTransport(sim.handle))
    try:
        assert isinstance(adapter, GrafanaOnCallAdapter)
        await adapter.check()
        assert sim.requests.count("GET", INTEGRATIONS) == 1
    finally:
        await adapter.aclose()


# -- reads and paging -----------------------------------------------------------------------------


async def test_list_follows_every_page_in_creation_order(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    for number in range(230):
        sim.add_integration(name=f"integration {number:03}")

    found = await client.list_integrations()

    assert [item.id for item in found] == [item["id"] for item in sim.integrations()]
    assert [item.name for item in found] == [f"integration {n:03}" for n in range(230)]
    # 100 per page (the server's cap): pages of 100, 100 and 30.
    assert sim.requests.count("GET", INTEGRATIONS) == 3
    assert sim.requests.total == 3


async def test_the_next_link_is_followed_with_its_own_query(
    sim: GrafanaOnCallSimulator, clock: ManualClock
) -> None:
    for number in range(150):
        sim.add_integration(name=f"integration {number:03}")
    sent: list[httpx.URL] = []

    async def recording(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        if len(sent) > 5:  # a client that loops on page 1 must not loop forever here
            return httpx.Response(400, json={"detail": "looping"})
        return await sim.handle(request)

    client = make_client(recording, clock)
    try:
        await client.list_integrations(name="integration 001")
        assert len(sent) == 1
        sent.clear()

        found = await client.list_integrations()
        assert len(found) == 150
        assert [url.params.get("page") for url in sent] == [None, "2"]
        assert [url.params.get("perpage") for url in sent] == ["100", "100"]
    finally:
        await client.http.client.aclose()


async def test_list_of_nothing_is_one_request(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    assert await client.list_integrations() == []
    assert sim.requests.total == 1


async def test_name_filter_is_exact_and_kept_on_every_page(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    name = "team a & b/prod ü"
    for _ in range(120):  # legacy duplicates: the API itself refuses them, add_integration not
        sim.add_integration(name=name)
    sim.add_integration(name=f"{name} 2")
    sim.add_integration(name="team a")

    found = await client.list_integrations(name=name)

    assert len(found) == 120
    assert {item.name for item in found} == {name}
    assert sim.requests.count("GET", INTEGRATIONS) == 2


async def test_get_parses_the_integration_and_ignores_unknown_fields(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    chain = sim.add_escalation_chain("primary")
    made = sim.add_integration(
        "alertmanager", name="am", team_id=TEAM, description_short="hi", escalation_chain_id=chain
    )
    sim.set_template(made["id"], "slack.title", "{{ payload.title }}")

    found = await client.get_integration(made["id"])

    assert found is not None
    assert (found.id, found.name, found.type, found.team_id) == (
        made["id"],
        "am",
        "alertmanager",
        TEAM,
    )
    assert found.description_short == "hi"
    assert found.link == made["link"]
    assert found.link is not None
    assert found.link.startswith(f"{BASE}/integrations/v1/alertmanager/")
    assert found.default_route is not None
    assert found.default_route.escalation_chain_id == chain
    assert found.templates is not None
    assert found.templates["slack"]["title"] == "{{ payload.title }}"
    assert found.maintenance_mode is None


async def test_get_of_an_unknown_id_is_none(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    assert await client.get_integration(MISSING) is None
    assert sim.requests.count("GET", ONE) == 1


async def test_get_of_a_deleted_integration_is_none(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    made = sim.add_integration(name="gone soon")
    sim.remove(made["id"])
    assert await client.get_integration(made["id"]) is None


# -- writes ----------------------------------------------------------------------------------------


async def test_create_update_and_delete_round_trip(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    created = await client.create_integration(
        {"type": "webhook", "name": "first", "description_short": "mark"}
    )
    assert sim.get(created.id) is not None
    assert created.name == "first"

    updated = await client.update_integration(created.id, {"name": "second"})
    assert updated.name == "second"
    assert updated.description_short == "mark"  # PUT behaves like PATCH

    await client.delete_integration(created.id)
    assert sim.get(created.id) is None


async def test_a_second_delete_is_success(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    made = sim.add_integration(name="twice")
    await client.delete_integration(made["id"])
    await client.delete_integration(made["id"])  # 404: already gone
    await client.delete_integration(MISSING)
    assert sim.requests.count("DELETE", ONE) == 3


async def test_update_of_an_unknown_id_is_rejected_not_ignored(client: GrafanaOnCallClient) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.update_integration(MISSING, {"name": "x"})
    assert caught.value.status_code == 404
    assert f"update integration {MISSING}" in str(caught.value)
    assert "Not found." in str(caught.value)


# -- credentials -----------------------------------------------------------------------------------

Call = Callable[[GrafanaOnCallClient], Awaitable[object]]

CALLS: dict[str, tuple[Call, str]] = {
    "check": (lambda c: c.check(), "list Grafana OnCall integrations"),
    "list": (lambda c: c.list_integrations(), "list Grafana OnCall integrations"),
    "get": (lambda c: c.get_integration("CABC"), "read integration CABC"),
    "create": (
        lambda c: c.create_integration({"type": "webhook", "name": "n1"}),
        "create integration 'n1'",
    ),
    "update": (lambda c: c.update_integration("CABC", {}), "update integration CABC"),
    "delete": (lambda c: c.delete_integration("CABC"), "delete integration CABC"),
    "start_maintenance": (
        lambda c: c.start_maintenance("CABC", "debug", 60),
        "start maintenance of integration CABC",
    ),
    "stop_maintenance": (
        lambda c: c.stop_maintenance("CABC"),
        "stop maintenance of integration CABC",
    ),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_a_rejected_token_is_a_credentials_error_that_never_shows_the_token(
    stranger: GrafanaOnCallClient, call: tuple[Call, str]
) -> None:
    operation, what = call
    with pytest.raises(CredentialsError) as caught:
        await operation(stranger)
    assert str(caught.value) == f"cannot {what}: 403 Invalid token."
    assert caught.value.reason == "CredentialsRejected"
    no_secrets(caught.value)


async def test_a_missing_token_is_a_credentials_error(
    sim: GrafanaOnCallSimulator, clock: ManualClock
) -> None:
    client = make_client(sim.handle, clock, token="")
    try:
        with pytest.raises(CredentialsError, match="Invalid token"):
            await client.check()
    finally:
        await client.http.client.aclose()


async def test_a_viewer_may_read_but_writing_is_permission_denied_with_the_permission_text(
    viewer: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    made = sim.add_integration(name="read me")
    assert await viewer.get_integration(made["id"]) is not None
    assert len(await viewer.list_integrations()) == 1

    with pytest.raises(PermissionDeniedError) as caught:
        await viewer.create_integration({"type": "webhook", "name": "mine"})
    assert str(caught.value) == (
        "cannot create integration 'mine': 403 You do not have permission to perform this "
        "action. (the credentials are accepted but may not make this change: give the token "
        "write permission on the platform)"
    )
    assert caught.value.reason == "PermissionDenied"
    no_secrets(caught.value)

    with pytest.raises(PermissionDeniedError, match=f"delete integration {made['id']}: 403 You"):
        await viewer.delete_integration(made["id"])
    with pytest.raises(PermissionDeniedError, match=r"start maintenance .* 403 You do not have"):
        await viewer.start_maintenance(made["id"], "debug", 60)
    assert sim.get(made["id"]) is not None


# -- the platform refusing a request (400) --------------------------------------------------------


async def test_an_unknown_escalation_chain_is_rejected_with_the_field_and_nothing_is_created(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.create_integration(
            {
                "type": "webhook",
                "name": "routed",
                "default_route": {"escalation_chain_id": "FNOSUCHCHAIN1"},
            }
        )
    assert caught.value.status_code == 400
    assert caught.value.permanent
    assert str(caught.value) == (
        "cannot create integration 'routed': 400 escalation_chain_id: Object does not exist"
    )
    assert sim.integrations() == []  # the engine rolls the whole create back


async def test_several_field_errors_are_all_named(client: GrafanaOnCallClient) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.create_integration(
            {
                "type": "webhook",
                "name": "   ",
                "description_short": "x" * 251,
                "team_id": "TNOSUCHTEAM1",
            }
        )
    message = str(caught.value)
    assert message.startswith("cannot create integration '   ': 400 ")
    assert "name: This field may not be blank." in message
    assert "description_short: Ensure this field has no more than 250 characters." in message
    assert "team_id: Object does not exist" in message


async def test_a_duplicate_name_is_rejected_with_the_platforms_words(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.add_integration(name="taken", team_id=TEAM)
    with pytest.raises(PlatformRejectedError) as caught:
        await client.create_integration({"type": "webhook", "name": "taken", "team_id": TEAM})
    assert caught.value.status_code == 400
    assert str(caught.value) == (
        "cannot create integration 'taken': 400 "
        "An integration with this name already exists for this team"
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"type": "nonsense"}, "Invalid integration type"),
        ({"type": "webhook", "templates": {"slack": {"title": "{{ oops"}}}, "invalid slack title"),
        ({"type": "webhook", "templates": {"resolve_signal": "{% if %}"}}, "resolve_signal"),
    ],
    ids=["type", "chat-template", "behaviour-template"],
)
async def test_other_documented_400s_carry_the_detail(
    client: GrafanaOnCallClient, body: dict[str, Any], detail: str
) -> None:
    with pytest.raises(PlatformRejectedError, match=detail) as caught:
        await client.create_integration(body)
    assert caught.value.status_code == 400


# -- maintenance -----------------------------------------------------------------------------------


async def test_start_maintenance_twice_is_success(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    made = sim.add_integration(name="quiet")
    await client.start_maintenance(made["id"], "debug", 3600)
    await client.start_maintenance(made["id"], "debug", 3600)  # 400 "Already on maintenance"
    found = sim.get(made["id"])
    assert found is not None
    assert found["maintenance_mode"] == "debug"
    assert sim.requests.count("POST", "/api/v1/integrations/{id}/maintenance_start/") == 2

    await client.stop_maintenance(made["id"])
    found = sim.get(made["id"])
    assert found is not None
    assert found["maintenance_mode"] is None


@pytest.mark.parametrize(
    ("mode", "duration", "detail"),
    [("sleepy", 60, "mode: Unknown mode"), ("debug", "soon", "duration: Invalid duration")],
)
async def test_other_maintenance_400s_raise(
    client: GrafanaOnCallClient,
    sim: GrafanaOnCallSimulator,
    mode: str,
    duration: Any,
    detail: str,
) -> None:
    made = sim.add_integration(name="quiet")
    with pytest.raises(PlatformRejectedError) as caught:
        await client.start_maintenance(made["id"], mode, duration)
    assert caught.value.status_code == 400
    assert (
        str(caught.value) == f"cannot start maintenance of integration {made['id']}: 400 {detail}"
    )


async def test_maintenance_of_an_unknown_id_raises(client: GrafanaOnCallClient) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.start_maintenance(MISSING, "debug", 60)
    assert caught.value.status_code == 404
    with pytest.raises(PlatformRejectedError, match=f"stop maintenance of integration {MISSING}"):
        await client.stop_maintenance(MISSING)


# -- rate limits -----------------------------------------------------------------------------------


async def test_a_429_carries_the_platforms_retry_after_and_blocks_until_it_passes(
    clock: ManualClock,
) -> None:
    sim = simulator(clock, rate=Rate(limit=3, window=60))
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    # The throttle reads the simulator's clock and sleeps on it.
    client = make_client(sim.handle, clock, sleep=sleep)
    try:
        for _ in range(3):
            await client.check()
        clock.advance(20)

        with pytest.raises(RateLimitedError) as caught:
            await client.get_integration("CABC")
        assert caught.value.retry_after == 40  # the first request leaves the window at t=60
        assert str(caught.value) == (
            "cannot read integration CABC: 429 Request was throttled. "
            "Expected available in 40 seconds. (retry in 40s)"
        )
        assert sim.requests.total == 4

        # Refused locally, without a request, while the wait is long...
        clock.advance(30)
        with pytest.raises(RateLimitedError) as again:
            await client.list_integrations()
        assert again.value.retry_after == pytest.approx(10)
        assert "list Grafana OnCall integrations" in str(again.value)
        assert "rate limited by the platform until" in str(again.value)
        assert sim.requests.total == 4
        assert slept == []

        # ...and a short one is waited out, then the request goes.
        clock.advance(6)
        assert await client.list_integrations() == []
        assert slept == [pytest.approx(4)]
        assert sim.requests.total == 5
    finally:
        await client.http.client.aclose()


async def test_a_throttled_fault_is_parsed_from_retry_after(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.faults.throttle(retry_after=7)
    with pytest.raises(RateLimitedError) as caught:
        await client.create_integration({"type": "webhook", "name": "later"})
    assert caught.value.retry_after == 7
    assert "create integration 'later': 429" in str(caught.value)
    assert sim.integrations() == []


def test_retry_after_prefers_retry_after_then_ratelimit_reset() -> None:
    both = httpx.Response(429, headers={"Retry-After": "5", "RateLimit-Reset": "9"})
    reset_only = httpx.Response(429, headers={"RateLimit-Reset": "9"})
    garbled = httpx.Response(429, headers={"Retry-After": "soon", "RateLimit-Reset": "3"})
    assert retry_after(both) == 5
    assert retry_after(reset_only) == 9
    assert retry_after(garbled) == 3
    assert retry_after(httpx.Response(429)) is None


def test_retry_after_may_be_an_http_date() -> None:
    """RFC 9110 allows Retry-After as an HTTP date; a past one is no wait."""
    soon = datetime.now(UTC) + timedelta(seconds=90)
    dated = httpx.Response(429, headers={"Retry-After": format_datetime(soon, usegmt=True)})
    waited = retry_after(dated)
    assert waited is not None
    assert 85 <= waited <= 90
    past = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after(past) == 0


async def test_a_429_without_a_time_backs_off_longer_each_time(clock: ManualClock) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"detail": "Organization being synced, please retry."})

    client = make_client(handler, clock)
    try:
        waits = []
        for _ in range(5):
            with pytest.raises(RateLimitedError) as caught:
                await client.check()
            assert "Organization being synced" in str(caught.value)
            waits.append(caught.value.retry_after)
            clock.advance(caught.value.retry_after)
        assert 8 <= waits[0] <= 10
        assert 16 <= waits[1] <= 20
        assert waits == sorted(waits)
        assert 96 <= waits[-1] <= 120  # capped
    finally:
        await client.http.client.aclose()


# -- the platform unavailable ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (500, "500 Internal Server Error"),
        (502, "502 Bad Gateway"),
        (503, "503 Service Unavailable"),
        (504, "504 Gateway Timeout"),
    ],
)
async def test_5xx_pages_are_platform_unavailable(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator, status: int, words: str
) -> None:
    sim.faults.fail(status)
    with pytest.raises(PlatformUnavailableError) as caught:
        await client.get_integration("CABC")
    assert str(caught.value) == f"cannot read integration CABC: {words}"
    assert "<html" not in str(caught.value)


async def test_the_engines_own_html_500_is_platform_unavailable(
    client: GrafanaOnCallClient,
) -> None:
    # The engine answers unsupported methods with Django's HTML error page.
    with pytest.raises(PlatformUnavailableError) as caught:
        await client.http.request("PATCH", INTEGRATIONS, what="patch the list")
    assert str(caught.value) == "cannot patch the list: 500 Internal Server Error"


async def test_an_html_404_is_rejected_with_its_reason(client: GrafanaOnCallClient) -> None:
    with pytest.raises(PlatformRejectedError) as caught:
        await client.http.request("GET", "/api/v1/nowhere/", what="read nowhere")
    assert caught.value.status_code == 404
    assert str(caught.value) == "cannot read nowhere: 404 Not Found"


async def test_a_timeout_is_platform_unavailable(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.faults.timeout()
    with pytest.raises(PlatformUnavailableError) as caught:
        await client.list_integrations()
    assert str(caught.value) == "cannot list Grafana OnCall integrations: the platform timed out"
    assert caught.value.reason == "PlatformUnavailable"


async def test_a_connection_reset_is_platform_unavailable(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.faults.reset()
    with pytest.raises(PlatformUnavailableError) as caught:
        await client.delete_integration("CABC")
    # The exception's class name, never its text (which could carry the request).
    assert str(caught.value) == (
        "cannot delete integration CABC: SimulatedReset connecting to the platform"
    )
    no_secrets(caught.value)


async def test_a_lost_response_is_platform_unavailable_though_the_work_was_done(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.faults.lose_response(method="POST")
    with pytest.raises(PlatformUnavailableError, match="create integration 'lost'"):
        await client.create_integration({"type": "webhook", "name": "lost"})
    assert [item["name"] for item in sim.integrations()] == ["lost"]


async def test_a_fault_in_the_middle_of_paging_fails_the_whole_listing(
    client: GrafanaOnCallClient, sim: GrafanaOnCallSimulator
) -> None:
    for number in range(150):
        sim.add_integration(name=f"i{number}")
    # The first page is answered, the second fails: no partial listing comes back.
    sim.faults.delay(0, path=INTEGRATIONS)  # rules fire in order: this one takes page 1
    sim.faults.fail(503, path=INTEGRATIONS)
    with pytest.raises(PlatformUnavailableError):
        await client.list_integrations()
    assert sim.requests.count("GET", INTEGRATIONS) == 2


# -- error bodies that are not the platform's usual JSON --------------------------------------


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (
            httpx.Response(502, text="upstream exploded"),
            PlatformUnavailableError,
            "cannot probe: 502 Bad Gateway",
        ),
        (
            httpx.Response(500, content=b""),
            PlatformUnavailableError,
            "cannot probe: 500 Internal Server Error",
        ),
        (
            httpx.Response(503, content=b"\xff\xfe\x00garbage"),
            PlatformUnavailableError,
            "cannot probe: 503 Service Unavailable",
        ),
        (
            httpx.Response(400, json=["just", "a", "list"]),
            PlatformRejectedError,
            "cannot probe: 400 Bad Request",
        ),
        (httpx.Response(400, json=None), PlatformRejectedError, "cannot probe: 400 Bad Request"),
        (
            httpx.Response(400, json={"non_field_errors": ["Invalid data."], "code": 7}),
            PlatformRejectedError,
            "cannot probe: 400 non_field_errors: Invalid data., code: 7",
        ),
        (
            httpx.Response(409, json={"detail": "line one\n   line two"}),
            PlatformRejectedError,
            "cannot probe: 409 line one line two",
        ),
        (httpx.Response(401, json={"detail": "who?"}), CredentialsError, "cannot probe: 401 who?"),
    ],
    ids=["text", "empty", "binary", "json-list", "json-null", "fields", "multiline", "401"],
)
async def test_odd_error_bodies_still_give_a_clear_error(
    clock: ManualClock, response: httpx.Response, error: type[AlertSyncError], message: str
) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return response

    client = make_client(handler, clock)
    try:
        with pytest.raises(error) as caught:
            await client.http.request("GET", INTEGRATIONS, what="probe")
        assert type(caught.value) is error
        assert str(caught.value) == message
    finally:
        await client.http.client.aclose()


async def test_a_long_error_body_is_clipped(clock: ManualClock) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"detail": "x" * 5000})

    client = make_client(handler, clock)
    try:
        with pytest.raises(PlatformRejectedError) as caught:
            await client.check()
        assert len(str(caught.value)) < 400
        assert str(caught.value).endswith("…")
    finally:
        await client.http.client.aclose()


async def test_a_token_echoed_by_the_platform_is_masked(clock: ManualClock) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        echoed = request.headers["Authorization"]
        return httpx.Response(403, json={"detail": f"token {echoed} is not valid"})

    account = platform_account(BASE, WRONG, kind=PlatformKind.CLUSTER, namespace=None)
    adapter = build_adapter(account, transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(CredentialsError) as caught:
            await adapter.check()
        no_secrets(caught.value)
        assert "[REDACTED]" in str(caught.value)
    finally:
        await adapter.aclose()


# -- the client-side throttle ----------------------------------------------------------------------


class FakeTime:
    """A clock that moves only when the throttle sleeps (no real waiting)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)  # still a suspension point, as a real sleep is


now = FakeTime()


@pytest.fixture(autouse=True)
def _fresh_time() -> None:
    now.now = 0.0


async def test_an_unlimited_throttle_never_waits() -> None:
    throttle = Throttle(None, clock=now, sleep=now.sleep)
    start = now()
    for _ in range(1000):
        await throttle.acquire()
    assert now() == start


async def test_the_throttle_allows_a_three_second_burst_then_spaces_requests() -> None:
    throttle = Throttle(60, clock=now, sleep=now.sleep)  # one a second, bursts of three
    start = now()
    times = []
    for _ in range(13):
        await throttle.acquire()
        times.append(round(now() - start, 6))
    assert times == [0.0] * 3 + [float(n) for n in range(1, 11)]


async def test_no_minute_sees_more_than_105_percent_of_the_limit() -> None:
    """A platform that counts a sliding minute (OnCall's 300/min) never sees more."""
    throttle = Throttle(285, clock=now, sleep=now.sleep)
    start = now()
    sent = 0
    while now() - start < 60:
        await throttle.acquire()
        sent += 1
    assert sent <= 300


async def test_the_throttle_refills_while_idle_but_never_beyond_its_burst() -> None:
    throttle = Throttle(120, clock=now, sleep=now.sleep)  # two a second, bursts of six
    for _ in range(6):
        await throttle.acquire()
    await now.sleep(3)  # six requests' worth
    start = now()
    for _ in range(6):
        await throttle.acquire()
    assert now() == start
    await throttle.acquire()
    assert now() - start == pytest.approx(0.5)

    await now.sleep(3600)
    start = now()
    for _ in range(6):
        await throttle.acquire()
    assert now() == start
    await throttle.acquire()
    assert now() - start == pytest.approx(0.5)


async def test_the_throttle_is_shared_by_concurrent_callers() -> None:
    throttle = Throttle(6, clock=now, sleep=now.sleep)  # one every ten seconds, bursts of one
    start = now()
    done: list[float] = []

    async def call() -> None:
        await throttle.acquire()
        done.append(round(now() - start, 6))

    await asyncio.gather(*(call() for _ in range(4)))
    assert sorted(done) == [0.0, 10.0, 20.0, 30.0]


async def test_the_client_spaces_its_requests_through_the_throttle(
    sim: GrafanaOnCallSimulator,
) -> None:
    client = make_client(sim.handle, now, per_minute=6, sleep=now.sleep)
    try:
        start = now()
        for _ in range(3):
            await client.check()
        assert now() - start == pytest.approx(20)
        assert sim.requests.total == 3
    finally:
        await client.http.client.aclose()


def test_block_keeps_the_latest_wait(clock: ManualClock) -> None:
    throttle = Throttle(None, clock=clock)
    assert throttle.blocked_for() == 0
    throttle.block(30)
    throttle.block(10)  # a shorter wait does not shorten the block
    clock.advance(5)
    assert throttle.blocked_for() == 25
    clock.advance(30)
    assert throttle.blocked_for() == 0
