"""The ZStack simulator answers as the platform notes (and ZStack's RestServer) say ZStack does."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import re
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock
from alertsim.server import SimulatorThread
from alertsim.zstack import (
    SYSTEM_PLATFORM_UUID,
    ZStackSimulator,
    access_key_signature,
    build_parser,
    password_hash,
    simulator_from_args,
)

BASE = "http://zstack.test:8080"
NODE = "http://10.0.0.5:8080"  # the address the node believes it has
ACCOUNT, PASSWORD = "admin", "sim-password-7f3a"
KEY_ID, KEY_SECRET = "AKIDSIM0001", "sim-key-secret-93c1"
HTTP = "/zstack/v1/sns/application-endpoints/http"
ENDPOINTS = "/zstack/v1/sns/application-endpoints"
TOPICS = "/zstack/v1/sns/topics"
TOPIC = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"
UUID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def sim(clock: ManualClock) -> ZStackSimulator:
    return ZStackSimulator(
        accounts={ACCOUNT: PASSWORD},
        access_keys={KEY_ID: KEY_SECRET},
        base_url=NODE,
        clock=clock,
        topics={TOPIC: "alarms"},
        seed=3,
    )


@pytest.fixture
async def api(sim: ZStackSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(sim.handle), base_url=BASE) as c:
        yield c


async def login(api: httpx.AsyncClient, password: str = PASSWORD) -> str:
    body = {"logInByAccount": {"accountName": ACCOUNT, "password": password_hash(password)}}
    response = await api.put("/zstack/v1/accounts/login", json=body)
    assert response.status_code == 200, response.text
    session: str = response.json()["inventory"]["uuid"]
    return session


def oauth(session: str) -> dict[str, str]:
    return {"Authorization": f"OAuth {session}"}


async def job(api: httpx.AsyncClient, accepted: httpx.Response) -> httpx.Response:
    """Poll an accepted job once, at the path below our base (the location names the node)."""
    assert accepted.status_code == 202, accepted.text
    location = accepted.json()["location"]
    assert location.startswith(f"{NODE}/zstack/v1/api-jobs/")
    return await api.get(httpx.URL(location).path)


async def create(
    api: httpx.AsyncClient, session: str, **params: Any
) -> tuple[httpx.Response, httpx.Response]:
    body = {"params": {"name": "hook", "url": "http://receiver.test/a", **params}}
    accepted = await api.post(HTTP, json=body, headers=oauth(session))
    return accepted, await job(api, accepted)


# -- sessions and credentials ---------------------------------------------------------------------


async def test_login_takes_the_sha512_of_the_password_and_gives_a_session(
    api: httpx.AsyncClient, sim: ZStackSimulator
) -> None:
    assert password_hash(PASSWORD) == hashlib.sha512(PASSWORD.encode()).hexdigest()
    session = await login(api)
    assert UUID.match(session)
    assert sim.session_count == 1

    plain = {"logInByAccount": {"accountName": ACCOUNT, "password": PASSWORD}}
    refused = await api.put("/zstack/v1/accounts/login", json=plain)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "ID.1000"
    assert "wrong account name or password" in refused.json()["error"]["details"]


async def test_a_missing_or_foreign_authorization_is_a_plain_400(api: httpx.AsyncClient) -> None:
    missing = await api.get(HTTP)
    assert (missing.status_code, missing.text) == (400, "missing header 'Authorization'")
    foreign = await api.get(HTTP, headers={"Authorization": "Bearer x"})
    assert (foreign.status_code, foreign.text) == (400, "Authorization type must be 'OAuth'")


async def test_an_expired_session_fails_a_query_at_once_and_a_job_when_it_runs(
    api: httpx.AsyncClient, sim: ZStackSimulator, clock: ManualClock
) -> None:
    session = await login(api)
    clock.advance(7200)  # session.timeout
    query = await api.get(HTTP, headers=oauth(session))
    assert query.status_code == 503
    assert query.json()["error"]["code"] == "ID.1001"

    session = await login(api)
    sim.expire_sessions()
    accepted, result = await create(api, session)
    assert accepted.status_code == 202  # accepted before the session is checked
    assert result.status_code == 503
    assert result.json()["error"]["code"] == "ID.1001"
    assert sim.endpoints() == []


async def test_sessions_per_account_are_capped(clock: ManualClock) -> None:
    sim = ZStackSimulator(accounts={ACCOUNT: PASSWORD}, clock=clock, max_sessions=2)
    async with httpx.AsyncClient(transport=httpx.MockTransport(sim.handle), base_url=BASE) as api:
        await login(api)
        session = await login(api)
        body = {"logInByAccount": {"accountName": ACCOUNT, "password": password_hash(PASSWORD)}}
        third = await api.put("/zstack/v1/accounts/login", json=body)
        assert third.json()["error"]["code"] == "ID.1006"
        logout = await api.delete(f"/zstack/v1/accounts/sessions/{session}")
        assert logout.status_code == 200
        await login(api)


async def test_a_read_only_account_may_query_but_its_jobs_are_refused(
    clock: ManualClock,
) -> None:
    sim = ZStackSimulator(
        accounts={ACCOUNT: PASSWORD}, read_only=[ACCOUNT], base_url=NODE, clock=clock
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(sim.handle), base_url=BASE) as api:
        session = await login(api)
        assert (await api.get(HTTP, headers=oauth(session))).status_code == 200
        _, refused = await create(api, session)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "ID.1002"
        assert sim.endpoints() == []


async def test_access_keys_sign_method_date_and_path_within_15_minutes(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    def signed(secret: str, skew: float = 0.0) -> dict[str, str]:
        date = email.utils.formatdate(clock() + skew, usegmt=True)
        signature = access_key_signature(secret, "GET", date, "/v1/sns/application-endpoints/http")
        return {"Authorization": f"ZStack {KEY_ID}:{signature}", "Date": date}

    assert (await api.get(HTTP, headers=signed(KEY_SECRET))).status_code == 200
    wrong = await api.get(HTTP, headers=signed("another-secret"))
    assert wrong.json()["error"]["details"] == "wrong accessKey signature"
    stale = await api.get(HTTP, headers=signed(KEY_SECRET, skew=-16 * 60))
    assert stale.json()["error"]["code"] == "ID.1000"
    unknown = await api.get(HTTP, headers={"Authorization": "ZStack NOBODY:x", "Date": "x"})
    assert "access key id[NOBODY] not found" in unknown.json()["error"]["details"]


def test_the_signature_is_hmac_sha1_in_base64() -> None:
    # printf 'GET\nThu, 01 Jan 2026 00:00:00 GMT\n/v1/x' | openssl dgst -sha1 -hmac secret \
    #   -binary | base64
    date = "Thu, 01 Jan 2026 00:00:00 GMT"
    assert access_key_signature("secret", "GET", date, "/v1/x") == "+HQviqNs0DQM6NP4l9pfybJ2I2I="


# -- the job machinery ----------------------------------------------------------------------------


async def test_a_job_runs_after_its_delay_and_its_result_expires(
    api: httpx.AsyncClient, sim: ZStackSimulator, clock: ManualClock
) -> None:
    session = await login(api)
    sim.job_delay = 5.0
    accepted, running = await create(api, session)
    assert running.status_code == 202
    assert running.content == b""
    assert sim.endpoints() == []  # nothing happens before the job runs

    clock.advance(5)
    done = await job(api, accepted)
    assert done.status_code == 200
    assert done.json()["inventory"]["name"] == "hook"
    assert len(sim.endpoints()) == 1

    clock.advance(sim.job_expiry)
    gone = await job(api, accepted)
    assert (gone.status_code, gone.text) == (404, "the job has been expired")
    assert (await api.post("/zstack/v1/api-jobs/x")).status_code == 405


async def test_an_expired_job_did_its_work_but_says_404(
    api: httpx.AsyncClient, sim: ZStackSimulator
) -> None:
    session = await login(api)
    sim.expire_jobs()
    _, result = await create(api, session)
    assert result.status_code == 404
    assert len(sim.endpoints()) == 1
    _, result = await create(api, session)
    assert result.status_code == 200  # only the next job was lost


async def test_fail_with_fails_a_job_or_a_query_with_an_error_code(
    api: httpx.AsyncClient, sim: ZStackSimulator
) -> None:
    session = await login(api)
    sim.fail_with("SYS.1006", "An operation failed", "busy", method="POST")
    _, result = await create(api, session)
    assert result.status_code == 503
    assert result.json() == {
        "error": {"code": "SYS.1006", "description": "An operation failed", "details": "busy"}
    }
    assert sim.endpoints() == []
    sim.fail_with("SYS.1012", method="GET", path=HTTP)
    assert (await api.get(HTTP, headers=oauth(session))).status_code == 503
    assert (await api.get(HTTP, headers=oauth(session))).status_code == 200


async def test_generic_faults_look_like_a_proxy_in_front(
    api: httpx.AsyncClient, sim: ZStackSimulator
) -> None:
    session = await login(api)
    sim.faults.fail(503)
    page = await api.get(HTTP, headers=oauth(session))
    assert page.status_code == 503
    assert "<html>" in page.text
    sim.faults.throttle(retry_after=17)
    throttled = await api.get(HTTP, headers=oauth(session))
    assert throttled.status_code == 429
    assert "Retry-After" not in throttled.headers  # ZStack names no wait


# -- SNS HTTP endpoints ---------------------------------------------------------------------------


async def test_create_honours_resource_uuid_and_refuses_it_twice(
    api: httpx.AsyncClient, sim: ZStackSimulator
) -> None:
    session = await login(api)
    chosen = "0f1e2d3c4b5a46978a1b2c3d4e5f6071"
    _, made = await create(
        api, session, resourceUuid=chosen, username="u", password="p4ss", description="d"
    )
    inventory = made.json()["inventory"]
    assert inventory["uuid"] == chosen
    assert "password" not in inventory
    assert sim.password_of(chosen) == "p4ss"
    assert inventory["type"] == "HTTP"
    assert inventory["state"] == "Enabled"
    assert inventory["platformUuid"] == SYSTEM_PLATFORM_UUID

    _, again = await create(api, session, resourceUuid=chosen)
    assert again.status_code == 503
    assert again.json()["error"]["code"] == "SYS.1000"
    assert chosen in again.json()["error"]["details"]
    assert len(sim.endpoints()) == 1

    _, invalid = await create(api, session, resourceUuid="not-a-uuid")
    assert invalid.json()["error"]["code"] == "SYS.1007"


async def test_create_validates_like_api_message_validator(
    api: httpx.AsyncClient, sim: ZStackSimulator
) -> None:
    session = await login(api)
    accepted = await api.post(HTTP, json={"params": {"url": "http://x"}}, headers=oauth(session))
    missing = await job(api, accepted)
    assert missing.json()["error"]["code"] == "SYS.1007"
    assert "field[name]" in missing.json()["error"]["details"]
    _, long = await create(api, session, url="http://x/" + "a" * 2048)
    assert "exceeds max length" in long.json()["error"]["details"]


async def test_queries_take_conditions_paging_and_counts(
    api: httpx.AsyncClient, sim: ZStackSimulator
) -> None:
    session = await login(api)
    made = [sim.add_endpoint(f"hook {n}", description="ours" if n % 2 else None) for n in range(5)]

    async def query(*params: tuple[str, str]) -> dict[str, Any]:
        response = await api.get(HTTP, params=list(params), headers=oauth(session))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    assert len((await query())["inventories"]) == 5
    page = await query(("limit", "2"), ("start", "2"), ("replyWithCount", "true"))
    assert [e["name"] for e in page["inventories"]] == ["hook 2", "hook 3"]
    assert page["total"] == 5
    assert await query(("count", "true")) == {"total": 5}
    assert len((await query(("q", "description=ours")))["inventories"]) == 2
    assert len((await query(("q", "description is null")))["inventories"]) == 3
    two = ",".join(e["uuid"] for e in made[:2])
    assert len((await query(("q", f"uuid?={two}")))["inventories"]) == 2
    assert len((await query(("q", "name~=hook%"), ("q", "name!=hook 0")))["inventories"]) == 4
    descending = await query(("sort", "-name"), ("limit", "1"))
    assert descending["inventories"][0]["name"] == "hook 4"
    # GET .../{uuid} is a query for that uuid and ignores any other parameter.
    one = await api.get(f"{HTTP}/{made[0]['uuid']}", params={"limit": "0"}, headers=oauth(session))
    assert [e["uuid"] for e in one.json()["inventories"]] == [made[0]["uuid"]]
    none = await api.get(f"{HTTP}/{'0' * 32}", headers=oauth(session))
    assert none.json() == {"inventories": []}
    # description is left out when null, as Gson does.
    assert "description" not in one.json()["inventories"][0]


async def test_a_value_holding_an_operator_is_split_there_as_on_zstack(
    api: httpx.AsyncClient, sim: ZStackSimulator
) -> None:
    session = await login(api)
    sim.add_endpoint("cpu>=90")
    # RestServer finds ">=" before "=": the condition becomes `name=cpu >= 90`... on "name=cpu".
    response = await api.get(HTTP, params={"q": "name=cpu>=90"}, headers=oauth(session))
    assert response.json()["error"]["code"] == "SYS.1007"  # no field "name=cpu"


async def test_bad_query_parameters_are_plain_400s(api: httpx.AsyncClient) -> None:
    session = await login(api)
    limit = await api.get(HTTP, params={"limit": "x"}, headers=oauth(session))
    assert (limit.status_code, limit.text) == (
        400,
        "Invalid query parameter. 'limit' must be an integer",
    )
    no_op = await api.get(HTTP, params={"q": "name"}, headers=oauth(session))
    assert no_op.status_code == 400
    assert "doesn't contain any query operator" in no_op.text


async def test_update_change_state_and_delete(api: httpx.AsyncClient, sim: ZStackSimulator) -> None:
    session = await login(api)
    uuid = sim.add_endpoint("hook", "http://a")["uuid"]
    update = {"updateSNSHttpEndpoint": {"url": "http://b", "name": None, "password": "s3cret"}}
    accepted = await api.put(f"{HTTP}/{uuid}/actions", json=update, headers=oauth(session))
    updated = (await job(api, accepted)).json()["inventory"]
    assert (updated["url"], updated["name"]) == ("http://b", "hook")  # null: unchanged
    assert sim.password_of(uuid) == "s3cret"

    state = {"changeSNSApplicationEndpointState": {"stateEvent": "disable"}}
    accepted = await api.put(f"{ENDPOINTS}/{uuid}/actions", json=state, headers=oauth(session))
    assert (await job(api, accepted)).json()["inventory"]["state"] == "Disabled"
    bad = {"changeSNSApplicationEndpointState": {"stateEvent": "off"}}
    accepted = await api.put(f"{ENDPOINTS}/{uuid}/actions", json=bad, headers=oauth(session))
    assert (await job(api, accepted)).json()["error"]["code"] == "SYS.1007"

    generic = {"updateSNSApplicationEndpoint": {"description": "x"}}
    accepted = await api.put(f"{ENDPOINTS}/{uuid}/actions", json=generic, headers=oauth(session))
    assert (await job(api, accepted)).json()["inventory"]["description"] == "x"

    accepted = await api.delete(f"{ENDPOINTS}/{uuid}", headers=oauth(session))
    assert (await job(api, accepted)).status_code == 200
    assert sim.endpoints() == []
    # successIfResourceNotExisting: deleting it again succeeds; updating it does not.
    accepted = await api.delete(f"{ENDPOINTS}/{uuid}", headers=oauth(session))
    assert (await job(api, accepted)).status_code == 200
    accepted = await api.put(f"{HTTP}/{uuid}/actions", json=update, headers=oauth(session))
    missing = (await job(api, accepted)).json()["error"]
    assert missing["code"] == "SYS.1003"
    assert f"resource[uuid:{uuid}" in missing["details"]


async def test_topics_subscriptions_and_subscribers(
    api: httpx.AsyncClient, sim: ZStackSimulator
) -> None:
    session = await login(api)
    uuid = sim.add_endpoint("hook")["uuid"]
    path = f"{TOPICS}/{TOPIC}/endpoints/{uuid}"
    assert (await job(api, await api.post(path, headers=oauth(session)))).status_code == 200
    assert sim.subscriptions(uuid) == {TOPIC}
    again = await job(api, await api.post(path, headers=oauth(session)))
    assert again.status_code == 503

    subscribers = await api.get(
        f"{TOPICS}/subscribers", params={"q": f"endpointUuid={uuid}"}, headers=oauth(session)
    )
    assert subscribers.json()["inventories"] == [{"topicUuid": TOPIC, "endpointUuid": uuid}]

    nowhere = f"{TOPICS}/{'1' * 32}/endpoints/{uuid}"
    missing = (await job(api, await api.post(nowhere, headers=oauth(session)))).json()["error"]
    assert missing["code"] == "SYS.1003"
    assert "SNSTopicVO" in missing["details"]

    assert (await job(api, await api.delete(path, headers=oauth(session)))).status_code == 200
    assert sim.subscriptions(uuid) == set()

    accepted = await api.post(TOPICS, json={"params": {"name": "more"}}, headers=oauth(session))
    topic = (await job(api, accepted)).json()["inventory"]["uuid"]
    listed = await api.get(TOPICS, headers=oauth(session))
    assert {t["uuid"] for t in listed.json()["inventories"]} == {TOPIC, topic}


async def test_unknown_paths_and_methods_are_plain_text(api: httpx.AsyncClient) -> None:
    unknown = await api.get("/zstack/v1/nothing")
    assert (unknown.status_code, unknown.text) == (404, "no api mapping to /v1/nothing")
    wrong = await api.patch(HTTP)
    assert wrong.status_code == 405
    outside = await api.get("/v1/sns/topics")
    assert outside.status_code == 404


async def test_requests_are_counted_by_route(api: httpx.AsyncClient, sim: ZStackSimulator) -> None:
    session = await login(api)
    await create(api, session)
    assert sim.requests.snapshot() == {
        "PUT /zstack/v1/accounts/login": 1,
        "POST /zstack/v1/sns/application-endpoints/http": 1,
        "GET /zstack/v1/api-jobs/{uuid}": 1,
    }


# -- behind the back, deliveries, admin API, CLI ------------------------------------------------


def test_behind_the_back_changes(sim: ZStackSimulator) -> None:
    uuid = sim.add_endpoint("hook", "http://a", description="d")["uuid"]
    sim.rename(uuid, "renamed")
    sim.set_url(uuid, "http://b")
    sim.set_state(uuid, "Disabled")
    sim.patch(uuid, username="someone", description=None)
    found = sim.get(uuid)
    assert found is not None
    assert (found["name"], found["url"], found["state"], found["username"]) == (
        "renamed",
        "http://b",
        "Disabled",
        "someone",
    )
    assert "description" not in found
    sim.subscribe(TOPIC, uuid)
    sim.unsubscribe(TOPIC, uuid)
    with pytest.raises(KeyError):
        sim.unsubscribe(TOPIC, uuid)
    with pytest.raises(ValueError, match="cannot patch"):
        sim.patch(uuid, type="EMAIL")
    sim.remove(uuid)
    assert sim.get(uuid) is None
    with pytest.raises(KeyError):
        sim.remove(uuid)


def test_an_alarm_is_posted_to_enabled_subscribed_endpoints(sim: ZStackSimulator) -> None:
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    sim = ZStackSimulator(topics={TOPIC: "alarms"}, delivery_transport=httpx.MockTransport(receive))
    with_auth = sim.add_endpoint("a", "http://receiver.test/a", username="bot")["uuid"]
    sim.patch(with_auth, password="pw")
    disabled = sim.add_endpoint("b", "http://receiver.test/b", state="Disabled")["uuid"]
    sim.add_endpoint("c", "http://receiver.test/c")
    sim.subscribe(TOPIC, with_auth)
    sim.subscribe(TOPIC, disabled)

    deliveries = sim.raise_alarm(topic_uuid=TOPIC, alarm_name="disk-full")

    assert [(d.endpoint_uuid, d.status, d.delivered) for d in deliveries] == [
        (with_auth, 204, True)
    ]
    assert [str(r.url) for r in seen] == ["http://receiver.test/a"]
    assert seen[0].headers["Authorization"] == "Basic " + base64.b64encode(b"bot:pw").decode()
    body = json.loads(seen[0].content)
    assert (body["alarmName"], body["topicUuid"], body["currentStatus"]) == (
        "disk-full",
        TOPIC,
        "Alarm",
    )
    assert len(sim.raise_alarm()) == 2  # every enabled endpoint
    assert sim.deliveries[0] == deliveries[0]


class _Receiver:
    """A tiny HTTP receiver for real deliveries."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.lock = threading.Lock()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        with self.lock:
            self.bodies.append(json.loads(request.content))
        return httpx.Response(200)


def test_alarms_go_out_over_real_http_and_through_the_admin_api() -> None:
    receiver = _Receiver()
    sim = ZStackSimulator(accounts={ACCOUNT: PASSWORD})
    with SimulatorThread(receiver) as receiver_url, SimulatorThread(sim) as sim_url:
        uuid = sim.add_endpoint("hook", f"{receiver_url}/alarms")["uuid"]
        deliveries = sim.raise_alarm(endpoint_uuid=uuid)
        assert deliveries[0].delivered
        over_http = httpx.post(f"{sim_url}/_sim/alarms", json={"alarmName": "over-http"})
        assert over_http.status_code == 200
        assert over_http.json()[0]["status"] == 200
        sim.set_url(uuid, "http://127.0.0.1:9/closed")
        failed = sim.raise_alarm()
        assert failed[0].status is None
        assert failed[0].error
    assert [b["alarmName"] for b in receiver.bodies] == ["cpu-high", "over-http"]


async def test_the_admin_api_drives_the_same_state(
    api: httpx.AsyncClient, sim: ZStackSimulator, clock: ManualClock
) -> None:
    made = (await api.post("/_sim/endpoints", json={"name": "foreign"})).json()
    uuid = made["uuid"]
    patched = await api.patch(
        f"/_sim/endpoints/{uuid}", json={"url": "http://c", "state": "Disabled"}
    )
    assert (patched.json()["url"], patched.json()["state"]) == ("http://c", "Disabled")
    sim.subscribe(TOPIC, uuid)
    assert (await api.delete(f"/_sim/endpoints/{uuid}/topics/{TOPIC}")).status_code == 204
    assert (await api.get(f"/_sim/endpoints/{uuid}")).json()["name"] == "foreign"
    topic = (await api.post("/_sim/topics", json={"name": "t"})).json()["uuid"]
    assert topic in {t["uuid"] for t in (await api.get("/_sim/topics")).json()}

    session = await login(api)
    assert (await api.delete("/_sim/sessions")).status_code == 204
    assert (await api.get(HTTP, headers=oauth(session))).json()["error"]["code"] == "ID.1001"

    jobs = await api.put("/_sim/jobs", json={"delaySeconds": 3, "expirySeconds": 60})
    assert jobs.json() == {"delaySeconds": 3.0, "expirySeconds": 60.0}
    assert (sim.job_delay, sim.job_expiry) == (3.0, 60.0)
    assert (await api.post("/_sim/jobs/expire", json={"times": 2})).status_code == 204
    assert (await api.post("/_sim/errors", json={"code": "SYS.1012"})).status_code == 204
    assert (await api.delete("/_sim/errors")).status_code == 204
    assert (await api.get("/_sim/deliveries")).json() == []
    assert (await api.delete(f"/_sim/endpoints/{uuid}")).status_code == 204
    assert (await api.get(f"/_sim/endpoints/{uuid}")).status_code == 404
    assert (await api.patch(f"/_sim/endpoints/{uuid}", json={"bogus": 1})).status_code == 400


def test_the_command_line_builds_the_simulator() -> None:
    args = build_parser().parse_args(
        ["--account", "ops:pw-1", "--access-key", "AK:SK", "--topic", "alarms", "--job-delay", "2"]
    )
    sim = simulator_from_args(args)
    assert sim.job_delay == 2.0
    assert [t["name"] for t in sim.topics()] == ["alarms"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--account", "no-colon"])
