"""ZStackClient against the ZStack simulator, in process (no sockets, no real sleeps).

Every answer of ZStack's REST server (docs/platforms/zstack.md) must come out of the
client as data or as one of AlertSync's errors, with a message that names the operation
and ZStack's own words (its ErrorCode), and never the password, its hash or a session id.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from alertsim.core import ManualClock
from alertsim.zstack import ZStackSimulator, password_hash
from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import ProductType
from alertsync.platforms import build_adapter
from alertsync.platforms.http import PlatformHttp, Throttle
from alertsync.platforms.zstack import ZStackAdapter, build_with_access_key
from alertsync.platforms.zstack.auth import AccessKeyAuth, SessionAuth, sign
from alertsync.platforms.zstack.client import HTTP_ENDPOINTS, ZStackClient, api_base, equals
from alertsync.platforms.zstack.errors import (
    ZStackRejectedError,
    ZStackUnavailableError,
    describe_error,
    retry_after,
)
from alertsync.redaction import redact
from alertsync.retry import THROTTLE_FIRST
from tests.support.accounts import platform_account
from tests.support.transport import Handler, capped

BASE = "http://zstack.test:8080"
ACCOUNT = "ops"
PASSWORD = "client-password-5b7e1c93"
WRONG = "client-wrong-password-0d4a"
KEY_ID, KEY_SECRET = "AKIDCLIENT01", "client-key-secret-6e2f8a10"
TOPIC = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"
HTTP_ROUTE = "/zstack/v1/sns/application-endpoints/http"
JOB_ROUTE = "/zstack/v1/api-jobs/{uuid}"
LOGIN_ROUTE = "/zstack/v1/accounts/login"


@pytest.fixture
def sim(clock: ManualClock) -> ZStackSimulator:
    # The node believes it is 10.0.0.5: its job locations name an address we cannot reach.
    return ZStackSimulator(
        accounts={ACCOUNT: PASSWORD},
        access_keys={KEY_ID: KEY_SECRET},
        base_url="http://10.0.0.5:8080",
        clock=clock,
        topics={TOPIC: "alarms"},
        seed=9,
    )


class Sleeper:
    """A fake sleep that moves the shared clock; `hook` runs before each sleep."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.slept: list[float] = []
        self.hook: Callable[[], None] = lambda: None

    async def __call__(self, seconds: float) -> None:
        self.hook()
        self.slept.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture
def sleeper(clock: ManualClock) -> Sleeper:
    return Sleeper(clock)


def make_client(
    handler: Handler,
    clock: ManualClock,
    sleeper: Sleeper,
    *,
    password: str = PASSWORD,
    auth: SessionAuth | AccessKeyAuth | None = None,
    page_size: int = 100,
    job_timeout: float = 60.0,
    cap: int = 60,
) -> ZStackClient:
    """A client wired as build() wires it, with the clock and sleep under the test's control."""
    chosen = auth or SessionAuth(ACCOUNT, SecretStr(password))
    http = PlatformHttp(
        client=httpx.AsyncClient(transport=httpx.MockTransport(capped(handler, cap)), auth=chosen),
        base_url=api_base(BASE),
        auth_headers={},
        throttle=Throttle(None, clock=clock, sleep=sleeper),
        describe_error=describe_error,
        retry_after=retry_after,
    )
    return ZStackClient(
        http, chosen, sleep=sleeper, clock=clock, page_size=page_size, job_timeout=job_timeout
    )


@pytest.fixture
async def client(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> AsyncIterator[ZStackClient]:
    made = make_client(sim.handle, clock, sleeper)
    yield made
    await made.http.client.aclose()


class Recorder:
    """Wraps a handler and keeps every request it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.handler(request)


def no_secrets(exc: BaseException, *extra: str) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        for secret in (PASSWORD, WRONG, password_hash(PASSWORD), password_hash(WRONG), *extra):
            assert secret not in text


def session(client: ZStackClient) -> str | None:
    assert isinstance(client.auth, SessionAuth)
    return client.auth.session


async def made(client: ZStackClient, name: str = "hook", **params: str) -> str:
    created = await client.create_endpoint(
        {"name": name, "url": "http://receiver.test/a", **params}
    )
    return created.uuid


# -- wiring ---------------------------------------------------------------------------------------


def test_the_rest_root_is_the_url_plus_zstack_unless_it_has_a_path() -> None:
    assert api_base("http://mn:8080") == "http://mn:8080/zstack"
    assert api_base("http://mn:8080/") == "http://mn:8080/zstack"
    assert api_base("https://proxy.example/zstack/") == "https://proxy.example/zstack"
    assert api_base("https://proxy.example/zs-api") == "https://proxy.example/zs-api"


async def test_build_logs_in_with_the_username_key_as_account(sim: ZStackSimulator) -> None:
    account = platform_account(
        BASE, PASSWORD, ProductType.ZSTACK, username=SecretStr(ACCOUNT), requests_per_minute=120
    )
    adapter = build_adapter(account, transport=httpx.MockTransport(sim.handle))
    assert isinstance(adapter, ZStackAdapter)
    assert adapter.client.http.base_url == f"{BASE}/zstack"
    assert adapter.client.http.throttle.rate == 2.0
    await adapter.check()
    assert sim.session_count == 1
    for text in (repr(adapter.client.auth), repr(adapter.client.http)):
        assert PASSWORD not in text
        assert password_hash(PASSWORD) not in text
    await adapter.aclose()
    assert sim.session_count == 0  # logged out: ZStack caps sessions per account


async def test_build_without_a_username_key_logs_in_as_admin(clock: ManualClock) -> None:
    sim = ZStackSimulator(accounts={"admin": PASSWORD}, clock=clock)
    account = platform_account(BASE, PASSWORD, ProductType.ZSTACK)
    adapter = build_adapter(account, transport=httpx.MockTransport(sim.handle))
    await adapter.check()
    await adapter.aclose()


# -- sessions -------------------------------------------------------------------------------------


async def test_login_sends_the_sha512_and_uses_the_session_as_oauth(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> None:
    recorder = Recorder(sim.handle)
    client = make_client(recorder, clock, sleeper)
    await client.check()
    login, query = recorder.requests
    sent = json.loads(login.content)
    assert sent == {"logInByAccount": {"accountName": ACCOUNT, "password": password_hash(PASSWORD)}}
    assert PASSWORD.encode() not in login.content
    assert "Authorization" not in login.headers
    live = session(client)
    assert live is not None
    assert query.headers["Authorization"] == f"OAuth {live}"
    # The session id and the hash are registered secrets: masked wherever they show up.
    assert live not in redact(f"session {live}")
    assert password_hash(PASSWORD) not in redact(password_hash(PASSWORD))
    await client.http.client.aclose()


async def test_a_wrong_password_is_a_credentials_error_naming_zstacks_words(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> None:
    client = make_client(sim.handle, clock, sleeper, password=WRONG)
    with pytest.raises(CredentialsError) as caught:
        await client.check()
    assert not caught.value.permanent
    assert "cannot log in to ZStack: ID.1000" in caught.value.message
    assert "wrong account name or password" in caught.value.message
    assert "credentials Secret" in caught.value.message
    no_secrets(caught.value)
    await client.http.client.aclose()


async def test_an_expired_session_is_logged_in_again_once(
    client: ZStackClient, sim: ZStackSimulator, clock: ManualClock
) -> None:
    await client.check()
    first = session(client)
    clock.advance(7200)  # session.timeout
    assert await client.list_endpoints() == []
    assert session(client) not in (None, first)
    assert sim.requests.count("PUT", LOGIN_ROUTE) == 2


async def test_a_request_sent_while_another_logs_in_again_carries_a_session(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> None:
    """Seen in `make chaos`: a request that took its session before a re-login began, and
    went out (after its turn in the budget) while the login ran, had no session to send:
    ZStack answered 400 "missing header 'Authorization'" and the integration stalled."""
    logging_in = asyncio.Event()
    go_on = asyncio.Event()
    seen = Recorder(sim.handle)

    async def slow_second_login(request: httpx.Request) -> httpx.Response:
        if request.url.path == LOGIN_ROUTE and sim.requests.count("PUT", LOGIN_ROUTE) == 1:
            logging_in.set()
            await go_on.wait()
        return await seen(request)

    client = make_client(slow_second_login, clock, sleeper)
    try:
        await client.check()
        clock.advance(7200)  # the session expires: the next request logs in again
        relisting = asyncio.create_task(client.list_endpoints())
        await logging_in.wait()
        # A request whose session was taken before the re-login, sent now.
        refused = frozenset({400, 503})
        await client.http.request("GET", HTTP_ENDPOINTS, what="list", ok_statuses=refused)
        go_on.set()
        assert await relisting == []
    finally:
        await client.http.client.aclose()
    unsigned = [
        r.url.path
        for r in seen.requests
        if "Authorization" not in r.headers and r.url.path != LOGIN_ROUTE
    ]
    assert unsigned == []


async def test_a_job_refused_for_its_session_is_sent_again_after_a_login(
    client: ZStackClient, sim: ZStackSimulator, sleeper: Sleeper
) -> None:
    await client.check()
    sim.job_delay = 1.0
    # The session ends while the job waits to run: ZStack checks it when the job runs.
    ended: list[bool] = []

    def end_once() -> None:
        if not ended:
            ended.append(True)
            sim.expire_sessions()

    sleeper.hook = end_once
    uuid = await made(client)
    assert [e["uuid"] for e in sim.endpoints()] == [uuid]
    assert sim.requests.count("POST", HTTP_ROUTE) == 2
    assert sim.requests.count("PUT", LOGIN_ROUTE) == 2


async def test_a_session_refused_twice_is_a_credentials_error(
    clock: ManualClock, sleeper: Sleeper
) -> None:
    sim = ZStackSimulator(accounts={ACCOUNT: PASSWORD}, clock=clock, session_timeout=0.0)
    client = make_client(sim.handle, clock, sleeper)
    with pytest.raises(CredentialsError) as caught:
        await client.list_endpoints()
    assert "ID.1001" in caught.value.message
    assert sim.requests.count("PUT", LOGIN_ROUTE) == 2
    no_secrets(caught.value, session(client) or "no session")
    await client.http.client.aclose()


async def test_concurrent_requests_after_expiry_log_in_once(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    await client.check()
    sim.expire_sessions()
    await asyncio.gather(*(client.list_endpoints() for _ in range(5)))
    assert sim.requests.count("PUT", LOGIN_ROUTE) == 2


async def test_logout_ends_the_session_and_tolerates_failure(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    await client.check()
    sim.faults.fail(503, method="DELETE")
    await client.logout()  # best effort: no error
    assert session(client) is None
    await client.logout()  # nothing to end


# -- access keys ----------------------------------------------------------------------------------


def test_sign_is_hmac_sha1_base64_of_method_date_and_uri() -> None:
    # printf 'GET\nThu, 01 Jan 2026 00:00:00 GMT\n/v1/x' | openssl dgst -sha1 -hmac secret \
    #   -binary | base64
    date = "Thu, 01 Jan 2026 00:00:00 GMT"
    assert sign("secret", "GET", date, "/v1/x") == "+HQviqNs0DQM6NP4l9pfybJ2I2I="


async def test_access_key_auth_signs_each_request_below_the_context_path(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> None:
    now = datetime.fromtimestamp(clock(), UTC)
    auth = AccessKeyAuth(SecretStr(KEY_ID), SecretStr(KEY_SECRET), "/zstack", lambda: now)
    recorder = Recorder(sim.handle)
    client = make_client(recorder, clock, sleeper, auth=auth)
    uuid = await made(client)
    assert await client.get_endpoint(uuid) is not None
    assert sim.requests.count("PUT", LOGIN_ROUTE) == 0  # no session with access keys
    first = recorder.requests[0]
    assert first.headers["Date"] == "Fri, 15 Jan 2027 08:00:00 GMT"
    path = "/v1/sns/application-endpoints/http"
    expected = sign(KEY_SECRET, "POST", first.headers["Date"], path)
    assert first.headers["Authorization"] == f"ZStack {KEY_ID}:{expected}"
    assert KEY_SECRET not in repr(auth)
    await client.http.client.aclose()


async def test_a_wrong_or_stale_signature_is_a_credentials_error(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> None:
    now = datetime.fromtimestamp(clock(), UTC)
    wrong = AccessKeyAuth(SecretStr(KEY_ID), SecretStr("not-the-secret"), "/zstack", lambda: now)
    client = make_client(sim.handle, clock, sleeper, auth=wrong)
    with pytest.raises(CredentialsError, match="wrong accessKey signature"):
        await client.check()
    await client.http.client.aclose()

    stale_now = now - timedelta(minutes=20)
    stale = AccessKeyAuth(SecretStr(KEY_ID), SecretStr(KEY_SECRET), "/zstack", lambda: stale_now)
    client = make_client(sim.handle, clock, sleeper, auth=stale)
    with pytest.raises(CredentialsError) as caught:
        await client.check()
    no_secrets(caught.value, KEY_SECRET)
    await client.http.client.aclose()


async def test_build_with_access_key_uses_the_username_key_as_key_id() -> None:
    # The real clock on both sides: build() signs with the time of day.
    sim = ZStackSimulator(access_keys={KEY_ID: KEY_SECRET})
    account = platform_account(BASE, KEY_SECRET, ProductType.ZSTACK, username=SecretStr(KEY_ID))
    async with httpx.AsyncClient(transport=httpx.MockTransport(sim.handle)) as http_client:
        adapter = build_with_access_key(account, http_client)
        assert isinstance(adapter, ZStackAdapter)
        await adapter.check()  # the real clock: within ZStack's 15 minutes of the sim's
    with pytest.raises(ValueError, match="usernameKey"):
        build_with_access_key(platform_account(BASE, KEY_SECRET, ProductType.ZSTACK), http_client)


# -- the job protocol -----------------------------------------------------------------------------


async def test_a_job_is_polled_at_our_base_not_at_the_location_it_names(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> None:
    recorder = Recorder(sim.handle)
    client = make_client(recorder, clock, sleeper)
    await made(client)
    hosts = {request.url.host for request in recorder.requests}
    assert hosts == {"zstack.test"}
    assert sleeper.slept == []  # a job already done is read at once
    await client.http.client.aclose()


async def test_a_slow_job_is_polled_with_growing_waits(
    client: ZStackClient, sim: ZStackSimulator, sleeper: Sleeper
) -> None:
    sim.job_delay = 5.0
    uuid = await made(client)
    assert sleeper.slept == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert sim.get(uuid) is not None


async def test_a_job_that_never_ends_is_given_up_after_the_bound(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> None:
    client = make_client(sim.handle, clock, sleeper, job_timeout=30.0)
    sim.job_delay = 3600.0
    with pytest.raises(PlatformUnavailableError) as caught:
        await made(client)
    assert "still running after 30s" in caught.value.message
    assert sum(sleeper.slept) <= 30.0
    assert sim.requests.count("GET", JOB_ROUTE) < 25
    await client.http.client.aclose()


async def test_an_expired_job_is_an_unknown_outcome(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    sim.expire_jobs()
    with pytest.raises(PlatformUnavailableError) as caught:
        await made(client)
    assert "expired before its result was read" in caught.value.message
    assert len(sim.endpoints()) == 1  # the work was done all the same


# -- queries --------------------------------------------------------------------------------------


async def test_queries_page_with_limit_and_start_and_count_once(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> None:
    for number in range(25):
        sim.add_endpoint(f"hook {number:02d}")
    recorder = Recorder(sim.handle)
    client = make_client(recorder, clock, sleeper, page_size=10)
    found = await client.list_endpoints()
    assert [e.name for e in found] == [f"hook {n:02d}" for n in range(25)]
    queries = [r.url.params for r in recorder.requests if r.method == "GET"]
    assert [(q["limit"], q["start"]) for q in queries] == [("10", "0"), ("10", "10"), ("10", "20")]
    assert [q.get("replyWithCount") for q in queries] == ["true", None, None]
    await client.http.client.aclose()


async def test_paging_stops_at_the_total_without_an_empty_page(
    sim: ZStackSimulator, clock: ManualClock, sleeper: Sleeper
) -> None:
    for number in range(20):
        sim.add_endpoint(f"hook {number}")
    client = make_client(sim.handle, clock, sleeper, page_size=10)
    assert len(await client.list_endpoints()) == 20
    assert sim.requests.count("GET", HTTP_ROUTE) == 2
    await client.http.client.aclose()


async def test_conditions_are_sent_as_repeated_q(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    wanted = sim.add_endpoint("a", description="x")["uuid"]
    sim.add_endpoint("a", description="y")
    sim.add_endpoint("b", description="x")
    found = await client.list_endpoints(["name=a", "description=x"])
    assert [e.uuid for e in found] == [wanted]


def test_equals_refuses_values_that_zstack_would_split_elsewhere() -> None:
    assert equals("name", "team-a prod alerts") == "name=team-a prod alerts"
    assert equals("description", "managed-by=alertsync uid=x") is not None
    assert equals("name", "a<b") is not None  # "=" is found first
    for value in ("cpu>=90", "a!=b", "x<=1", "like~=this", "what?=x"):
        assert equals("name", value) is None


async def test_subscribers_and_topics(client: ZStackClient, sim: ZStackSimulator) -> None:
    uuid = await made(client)
    await client.subscribe(TOPIC, uuid)
    subscribers = await client.list_subscribers([uuid])
    assert [(s.topic_uuid, s.endpoint_uuid) for s in subscribers] == [(TOPIC, uuid)]
    assert await client.list_subscribers([]) == []
    assert [t.uuid for t in await client.list_topics([TOPIC, "0" * 32])] == [TOPIC]
    await client.unsubscribe(TOPIC, uuid)
    await client.unsubscribe(TOPIC, uuid)  # not subscribed: fine
    assert sim.subscriptions(uuid) == set()


# -- error mapping --------------------------------------------------------------------------------


async def test_an_invalid_argument_is_rejected_for_good(client: ZStackClient) -> None:
    with pytest.raises(ZStackRejectedError) as caught:
        await made(client, url="http://x/" + "a" * 2048)
    assert caught.value.permanent
    assert caught.value.error.code == "SYS.1007"
    assert caught.value.message.startswith("cannot create SNS HTTP endpoint 'hook': SYS.1007")
    assert "exceeds max length" in caught.value.message


async def test_other_error_codes_are_inspected_and_mostly_transient(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    sim.fail_with("SYS.1012", "Management node unavailable", "mn is down", method="POST")
    with pytest.raises(ZStackUnavailableError) as unavailable:
        await made(client)
    assert not unavailable.value.permanent
    assert unavailable.value.error.code == "SYS.1012"

    sim.fail_with("ID.1002", "Permission denied", "no SNS permission", method="GET")
    with pytest.raises(CredentialsError, match=r"ID\.1002"):
        await client.list_endpoints()

    sim.fail_with("SYS.1008", "Unknown message", "no such API on this version", method="PUT")
    uuid = await made(client)
    with pytest.raises(PlatformRejectedError):
        await client.change_state(uuid, enable=False)


async def test_a_503_without_an_error_code_is_the_platform_unavailable(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    await client.check()
    sim.faults.fail(503)
    with pytest.raises(PlatformUnavailableError) as caught:
        await client.list_endpoints()
    assert not isinstance(caught.value, ZStackUnavailableError)
    assert "503" in caught.value.message


async def test_plain_text_errors_keep_zstacks_words(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    await client.check()
    with pytest.raises(PlatformRejectedError) as caught:
        await client._send("GET", "/v1/nothing", what="read nothing")
    assert caught.value.message == "cannot read nothing: 404 no api mapping to /v1/nothing"


async def test_a_429_waits_as_announced_or_backs_off(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    await client.check()
    sim.faults.throttle()
    with pytest.raises(RateLimitedError) as caught:
        await client.list_endpoints()
    assert THROTTLE_FIRST * 0.8 <= caught.value.retry_after <= THROTTLE_FIRST
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0


async def test_delete_treats_not_found_as_gone(client: ZStackClient, sim: ZStackSimulator) -> None:
    uuid = await made(client)
    await client.delete_endpoint(uuid)
    await client.delete_endpoint(uuid)  # successIfResourceNotExisting
    sim.fail_with("SYS.1003", "Resource not found", "gone", method="DELETE")
    await client.delete_endpoint(uuid)
    assert sim.endpoints() == []


async def test_update_and_state_change_return_the_inventory(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    uuid = await made(client)
    updated = await client.update_endpoint(uuid, {"url": "http://b", "password": "pw-pw-pw"})
    assert updated.url == "http://b"
    assert sim.password_of(uuid) == "pw-pw-pw"
    assert (await client.change_state(uuid, enable=False)).state == "Disabled"
    assert (await client.change_state(uuid, enable=True)).state == "Enabled"


async def test_no_message_ever_holds_the_password_its_hash_or_the_session(
    client: ZStackClient, sim: ZStackSimulator
) -> None:
    await client.check()
    live = session(client)
    assert live is not None
    caught: list[AlertSyncError] = []
    # A platform that echoes what it was sent (a proxy's debug page, a careless error).
    sim.fail_with("SYS.1000", "echo", f"login {password_hash(PASSWORD)} session {live}", times=2)
    for call in (client.list_endpoints, client.check):
        try:
            await call()
        except AlertSyncError as exc:
            caught.append(exc)
    assert len(caught) == 2
    for error in caught:
        no_secrets(error, live)


async def test_an_unreachable_management_node_is_unavailable_with_a_clear_message(
    clock: ManualClock, sleeper: Sleeper
) -> None:
    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = make_client(refuse, clock, sleeper)
    with pytest.raises(PlatformUnavailableError) as caught:
        await client.check()
    assert caught.value.message == (
        "cannot log in to ZStack: ConnectError connecting to the platform"
    )
    no_secrets(caught.value)
    await client.http.client.aclose()
