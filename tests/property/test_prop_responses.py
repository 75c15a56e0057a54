"""Properties of every platform adapter and client against hostile answers.

Each platform's simulator (the contract suite's row) stands behind a proxy that
Hypothesis steers: any answer may come back with another status, a mangled or
replaced body, odd headers (waits of `inf`, `1e400`, dates; Location and request
ids of any shape), a Content-Encoding its body does not have, or an error body
that echoes the credentials. Whatever comes back:

- adapter and client methods raise nothing but AlertSyncError subclasses;
- no exception text (nor any line an adapter returns for an Event) shows the token;
- nothing loops: every operation ends within a bounded number of requests.

Tokens for the secrets property carry odd characters (any Unicode outside the
surrogates, spaces, quotes, control characters) around a core no message holds
by chance; they are registered as build_adapter registers them.
"""

import asyncio
import base64
import dataclasses
import hashlib
import json
import string
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from hypothesis import event, given
from hypothesis import strategies as st
from pydantic import BaseModel

from alertsim.core import ManualClock, Simulator
from alertsync.errors import AlertSyncError
from alertsync.models import CurrentState, ProductType, TargetState
from alertsync.platforms.base import DesiredIntegration, Match, Observation, PlatformAdapter
from tests.platforms import CASES
from tests.platforms.case import USERNAME, PlatformCase
from tests.property.harness import LoopGuard, build, own_secrets
from tests.property.strategies import (
    Json,
    json_values,
    leaks,
    mutated,
    property_settings,
    tokens,
)

UID = "5a1f0c9e-2b7d-4e3a-8c6f-0d9e8b7a0001"
# Answers a proxy may tamper with in one example; the simulator answers the rest.
TAMPER_BUDGET = 6
# More than any operation needs on an honest platform, far less than a loop makes.
REQUEST_CAP = 400
# Every drifted-field name an adapter acts on: update() is driven through them all.
DRIFTED = (
    "displayName",
    "marker",
    "targetState",
    "webhook.url",
    "grafanaOnCall.teamId",
    "grafanaOnCall.type",
    "grafanaOnCall.templates.groupingKey",
    "ilert.escalationPolicyId",
    "ilert.integrationType",
    "mackerel.events",
    "mackerel.notificationGroups",
    "confluent.targetKind",
    "zstack.topicUuids",
    "zstack.username",
)
STATUSES = (200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 422, 429, 500, 502, 503)
cases = st.sampled_from(CASES)
# data.draw: a strategy and a label in, a value out.
Draw = Callable[..., Any]

# -- what a hostile platform answers ---------------------------------------------------------

_ascii = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
_numbers = st.sampled_from(
    ["inf", "-inf", "nan", "1e400", "-1", "0", "9" * 30, "99999999999", "1.5", " 7 ", ""]
)
_waits = _numbers | st.integers(-5, 10**12).map(str) | st.just("Wed, 21 Oct 2015 07:28:00 GMT")
_locations = _ascii | st.sampled_from(
    [
        "http://[",
        "//elsewhere.invalid/x",
        "http://elsewhere.invalid/zstack/v1/api-jobs/abc",
        "%zz",
        "/",
        "?page_token=x",
    ]
)
HEADERS: dict[str, st.SearchStrategy[str]] = {
    "Retry-After": _waits,
    "RateLimit-Reset": _waits,
    "X-RateLimit-Reset": _waits,
    "X-RateLimit-Remaining": _waits,
    "X-RateLimit-Limit": _waits,
    "Location": _locations,
    "X-Request-Id": _ascii,
    "WWW-Authenticate": _ascii.map(lambda text: f'Basic error_description="{text}"'),
    "Content-Type": st.sampled_from(
        ["text/html", "application/json; charset=bogus", "application/json; charset=utf-16"]
    ),
}
_bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.integers(1_000, 20_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1_000, 20_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.sampled_from([b"", b"NaN", b"9" * 5000, b"<html>502</html>", b'"\\ud800"', b"\xff\xfe"]),
)


def _error_bodies(words: str) -> dict[str, Json]:
    """`words` where each platform's error body puts what it tells people."""
    return {
        "detail": words,
        "message": words,
        "error": {"message": words, "code": "SYS.1006", "description": words, "details": words},
        "errors": [{"title": words, "detail": words, "code": words}],
    }


@dataclasses.dataclass
class Tamper:
    """One example's hostile proxy in front of a simulator."""

    sim: Simulator
    data: st.DataObject
    secrets: tuple[str, ...]
    armed: bool = False
    used: int = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        honest = await self.sim.handle(request)
        if not self.armed or self.used >= TAMPER_BUDGET:
            return honest
        self.used += 1
        return self.data.draw(tampered(self, honest, request), label="answer")


@st.composite
def tampered(
    draw: st.DrawFn, tamper: Tamper, honest: httpx.Response, request: httpx.Request
) -> httpx.Response:
    status, headers, body = honest.status_code, dict(honest.headers), honest.content
    headers.pop("content-length", None)
    headers.pop("content-encoding", None)
    how = draw(
        st.sampled_from(["honest", "status", "body", "json", "headers", "encoding", "echo"]),
        label="how",
    )
    event(f"answer: {how}")
    if how == "honest":
        return honest
    if how == "status":
        status = draw(st.sampled_from(STATUSES) | st.integers(100, 599), label="status")
    elif how == "body":
        body = draw(_bodies, label="body")
    elif how == "json":
        body = json.dumps(draw(_mangled(_json_of(honest)), label="mangled")).encode()
    elif how == "headers":
        extra = draw(st.fixed_dictionaries({}, optional=HEADERS), label="headers")
        headers.update(extra)
        status = draw(st.sampled_from([status, 429, 503, 201, 202]), label="status")
    elif how == "encoding":
        # The body is sent as it is, claimed compressed: decoding it fails.
        encoding = draw(st.sampled_from(["gzip", "deflate"]), label="encoding")
        return httpx.Response(
            status, headers={**headers, "Content-Encoding": encoding}, stream=httpx.ByteStream(body)
        )
    else:
        words = draw(_echoes(tamper.secrets, request), label="echo")
        status = draw(st.sampled_from([400, 401, 403, 404, 409, 429, 500, 503]), label="status")
        body = json.dumps(_error_bodies(words)).encode() if draw(st.booleans()) else words.encode()
        if draw(st.booleans(), label="echo in headers") and words.isascii():
            headers.update({"X-Request-Id": words, "Location": words, "Retry-After": words})
    return httpx.Response(status, headers=headers, content=body)


def _json_of(response: httpx.Response) -> Json:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _mangled(value: Json) -> st.SearchStrategy[Json]:
    if isinstance(value, dict):
        return mutated(st.just(value))
    if isinstance(value, list):
        return mutated(st.just({"_": value})).map(lambda wrapped: wrapped.get("_", wrapped))
    return json_values


def _echoes(secrets: tuple[str, ...], request: httpx.Request) -> st.SearchStrategy[str]:
    """What a platform echoing our request would say: our credentials, in its words."""
    sent = [value for name, value in request.headers.items() if name.lower() == "authorization"]
    shown = [*secrets, *sent, request.content.decode(errors="replace")]
    return st.builds(
        lambda before, secret, after: f"{before}{secret}{after}",
        _ascii,
        st.sampled_from(shown),
        _ascii,
    )


# -- what is asked of the adapter ------------------------------------------------------------


@dataclasses.dataclass
class Run:
    case: PlatformCase[Any]
    adapter: PlatformAdapter
    desired: DesiredIntegration
    ids: list[str]

    def observation(self, draw: Draw) -> Observation:
        return Observation(
            match=draw(st.sampled_from(list(Match)), label="match"),
            current_state=draw(st.sampled_from(list(CurrentState)), label="state"),
            external_id=draw(self.external_ids(), label="id"),
            webhook_url=self.desired.webhook_url,
            drifted_fields=tuple(draw(st.lists(st.sampled_from(DRIFTED), max_size=4))),
            recreate_reason=draw(st.none() | st.just("type differs"), label="recreate"),
        )

    def external_ids(self) -> st.SearchStrategy[str]:
        ours = st.sampled_from(self.ids) if self.ids else st.nothing()
        return ours | st.text(max_size=12) | st.text(string.digits, min_size=1, max_size=4)


Operation = Callable[[Run, Draw], Awaitable[object]]


async def _observe_listed(run: Run, draw: Draw) -> object:
    listing = await run.adapter.list_all()
    return await run.adapter.observe(run.desired, listing)


async def _observe(run: Run, draw: Draw) -> object:
    ids = st.none() | run.external_ids()
    desired = dataclasses.replace(run.desired, external_id=draw(ids, label="stored id"))
    return await run.adapter.observe(desired)


async def _create(run: Run, draw: Draw) -> object:
    created = await run.adapter.create(run.desired)
    if created.external_id:
        run.ids.append(created.external_id)
    return created


async def _update(run: Run, draw: Draw) -> object:
    observed = run.observation(draw)
    if observed.external_id is None:
        return None
    return await run.adapter.update(run.desired, observed)


async def _delete(run: Run, draw: Draw) -> object:
    await run.adapter.delete(draw(run.external_ids(), label="id"))
    return None


async def _open_alerts(run: Run, draw: Draw) -> object:
    return await run.adapter.open_alerts(run.desired, run.observation(draw))


async def _before_delete(run: Run, draw: Draw) -> object:
    return await run.adapter.before_delete(run.desired, draw(run.external_ids(), label="id"))


async def _after_write(run: Run, draw: Draw) -> object:
    before = draw(st.none() | st.just(run.observation(draw)), label="before")
    return await run.adapter.after_write(run.desired, before, run.observation(draw))


async def _check(run: Run, draw: Draw) -> object:
    await run.adapter.check()
    return None


async def _list_all(run: Run, draw: Draw) -> object:
    return await run.adapter.list_all()


OPERATIONS: dict[str, Operation] = {
    "check": _check,
    "list_all": _list_all,
    "observe": _observe,
    "observe_listed": _observe_listed,
    "create": _create,
    "update": _update,
    "delete": _delete,
    "open_alerts": _open_alerts,
    "before_delete": _before_delete,
    "after_write": _after_write,
}


def desired_for(case: PlatformCase[Any], draw: Draw) -> DesiredIntegration:
    """The case's desired integration, with every switch of its block drawn."""
    state = draw(st.sampled_from(list(TargetState)), label="target")
    desired = case.desired(UID, draw(st.sampled_from(["team-a prod alerts", "x"])), state)
    block = desired.block
    assert isinstance(block, BaseModel)
    switches = {
        name: draw(st.booleans(), label=name)
        for name, info in type(block).model_fields.items()
        if info.annotation in (bool, bool | None)
    }
    return dataclasses.replace(desired, block=block.model_copy(update=switches))


@dataclasses.dataclass(frozen=True)
class Credentials:
    token: str
    # What the adapter derives from the token and sends: Basic auth, a password's hash.
    derived: tuple[str, ...]

    @classmethod
    def of(cls, case: PlatformCase[Any], token: str) -> "Credentials":
        derived = []
        if case.product is ProductType.CONFLUENT:
            derived.append(base64.b64encode(f"{USERNAME}:{token}".encode()).decode())
        if case.product is ProductType.ZSTACK:
            derived.append(hashlib.sha512(token.encode()).hexdigest())
        return cls(token, tuple(derived))

    def shown_in(self, text: str) -> bool:
        return leaks(text, self.token) or any(value in text for value in self.derived)


def refused_cleanly(exc: BaseException, credentials: Credentials) -> None:
    assert isinstance(exc, AlertSyncError), repr(exc)
    for text in (str(exc), exc.message, exc.stable_message, repr(exc)):
        assert not credentials.shown_in(text), text


def told_cleanly(result: object, credentials: Credentials) -> None:
    """Lines an adapter returns for Events and conditions show no secret either."""
    for text in (getattr(result, "message", None), result if isinstance(result, str) else None):
        if isinstance(text, str):
            assert not credentials.shown_in(text), text


def exercise(case: PlatformCase[Any], token: str, data: st.DataObject) -> None:
    with own_secrets():
        asyncio.run(_exercise(case, token, data))


async def _exercise(case: PlatformCase[Any], token: str, data: st.DataObject) -> None:
    sim = case.simulator(token, USERNAME if case.two_part_credentials else None)
    credentials = Credentials.of(case, token)
    tamper = Tamper(sim, data, secrets=(token, *credentials.derived))
    guard = LoopGuard(tamper, REQUEST_CAP)
    adapter = build(case, token, guard, ManualClock())
    draw = data.draw
    desired = desired_for(case, draw)
    run = Run(case, adapter, desired, ids=[])
    # An honest start: sometimes our object exists, sometimes a stranger's of its name.
    try:
        if draw(st.booleans(), label="ours exists"):
            await _create(run, draw)
        if draw(st.booleans(), label="a stranger's exists"):
            run.ids.append(case.add_foreign(sim, desired.display_name))
    except AlertSyncError as exc:
        refused_cleanly(exc, credentials)
    tamper.armed = True
    names = draw(st.lists(st.sampled_from(sorted(OPERATIONS)), min_size=1, max_size=3))
    for name in names:
        try:
            told_cleanly(await OPERATIONS[name](run, draw), credentials)
            event(f"{name}: returned")
        except AlertSyncError as exc:
            refused_cleanly(exc, credentials)
            event(f"{name}: {type(exc).__name__}")
    try:
        await adapter.aclose()
    except AlertSyncError as exc:
        refused_cleanly(exc, credentials)


printable_tokens = tokens(printable=True)


@property_settings(max_examples=400)
@given(case=cases, token=printable_tokens, data=st.data())
def test_hostile_answers_end_in_alertsync_errors_without_the_token(
    case: PlatformCase[Any], token: str, data: st.DataObject
) -> None:
    exercise(case, token, data)


@property_settings(max_examples=200)
@given(case=cases, token=tokens(), data=st.data())
def test_tokens_of_any_characters_never_crash_nor_show(
    case: PlatformCase[Any], token: str, data: st.DataObject
) -> None:
    exercise(case, token, data)
