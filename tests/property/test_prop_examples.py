"""The hostile answers the properties found, kept as explicit cases (Hypothesis @example's
counterpart for tests that draw their answers as they go).

Each broke a client or adapter before its fix: an exception other than AlertSyncError,
a loop, a secret in a message, or an answer trusted that should have been refused.
"""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock, Simulator
from alertsim.mackerel import MackerelSimulator
from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import ProductType, TargetState
from alertsync.platforms.base import PlatformAdapter
from alertsync.platforms.http import MAX_RESPONSE_BYTES
from tests.platforms import CASES
from tests.platforms.case import USERNAME, PlatformCase
from tests.property.harness import build, own_secrets
from tests.property.strategies import leaks

TOKEN = "examples-token-s3cr3tQWERTY"
UID = "5a1f0c9e-2b7d-4e3a-8c6f-0d9e8b7a0001"
Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response | None]
ids = [case.id for case in CASES]
each_platform = pytest.mark.parametrize("case", CASES, ids=ids)


def outcome(
    case: PlatformCase[Any],
    rewrite: Rewrite,
    act: Callable[[PlatformAdapter, Simulator], Awaitable[object]],
    token: str = TOKEN,
) -> tuple[object, list[httpx.Request]]:
    """What `act` returns or raises (an AlertSyncError), the simulator's answers rewritten."""
    sent: list[httpx.Request] = []

    async def go() -> object:
        sim = case.simulator(token, USERNAME if case.two_part_credentials else None)

        async def handle(request: httpx.Request) -> httpx.Response:
            sent.append(request)
            honest = await sim.handle(request)
            return rewrite(request, honest) or honest

        adapter = build(case, token, handle, ManualClock())
        try:
            return await act(adapter, sim)
        except AlertSyncError as exc:
            return exc

    with own_secrets():
        return asyncio.run(go()), sent


def listing(adapter: PlatformAdapter, sim: Simulator) -> Awaitable[object]:
    return adapter.list_all()


def is_listing(request: httpx.Request) -> bool:
    return request.method == "GET" and "login" not in request.url.path


def refused(result: object, kind: type[AlertSyncError] = PlatformUnavailableError) -> str:
    assert isinstance(result, kind), repr(result)
    return result.message


@each_platform
def test_a_content_encoding_the_body_does_not_have(case: PlatformCase[Any]) -> None:
    def garbled(request: httpx.Request, honest: httpx.Response) -> httpx.Response | None:
        if not is_listing(request):
            return None
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(honest.content))

    result, _ = outcome(case, garbled, listing)
    assert "could not be decoded" in refused(result)


@each_platform
def test_a_body_nested_too_deeply_to_parse(case: PlatformCase[Any]) -> None:
    def deep(request: httpx.Request, honest: httpx.Response) -> httpx.Response | None:
        return httpx.Response(200, content=b"[" * 5000) if is_listing(request) else None

    refused(outcome(case, deep, listing)[0])


@each_platform
def test_an_answer_larger_than_the_cap_is_refused(case: PlatformCase[Any]) -> None:
    def huge(request: httpx.Request, honest: httpx.Response) -> httpx.Response | None:
        if not is_listing(request):
            return None
        padded = honest.content + b" " * (MAX_RESPONSE_BYTES + 1 - len(honest.content))
        return httpx.Response(200, headers=honest.headers, content=padded)

    assert "larger than 10 MiB" in refused(outcome(case, huge, listing)[0])


@each_platform
def test_an_id_with_characters_a_url_cannot_carry(case: PlatformCase[Any]) -> None:
    async def delete(adapter: PlatformAdapter, sim: Simulator) -> object:
        await adapter.delete("C\x00")
        return None

    result, _ = outcome(case, lambda request, honest: None, delete)
    if result is not None:  # Confluent quotes ids: "%00" is merely not found
        assert "not valid" in refused(result)


@each_platform
def test_an_echoed_token_with_spaces_is_masked(case: PlatformCase[Any]) -> None:
    token = "two words\t s3cr3tZXCVBN  and more"

    def echo(request: httpx.Request, honest: httpx.Response) -> httpx.Response | None:
        if not is_listing(request):
            return None
        words = f"your token {token} is not valid"
        body = {
            "detail": words,
            "message": words,
            "error": {"message": words, "code": "SYS.1006", "details": words},
            "errors": [{"detail": words}],
        }
        return httpx.Response(500, json=body)

    result, _ = outcome(case, echo, listing, token=token)
    assert not leaks(refused(result), token)


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if not c.two_part_credentials],
    ids=[c.id for c in CASES if not c.two_part_credentials],
)
def test_a_token_an_http_header_cannot_carry_is_a_credentials_error(
    case: PlatformCase[Any],
) -> None:
    token = "caf\u00e9-s3cr3tPOIUYT"
    result, _ = outcome(case, lambda request, honest: None, listing, token=token)
    message = refused(result, CredentialsError)
    assert "printable ASCII" in message
    assert not leaks(message, token)


@pytest.mark.parametrize("wait", ["inf", "1e400", "nan", "9" * 30])
@each_platform
def test_an_endless_announced_wait_is_bounded(case: PlatformCase[Any], wait: str) -> None:
    def throttled(request: httpx.Request, honest: httpx.Response) -> httpx.Response | None:
        headers = {"Retry-After": wait, "X-RateLimit-Reset": wait, "X-RateLimit-Remaining": "0"}
        return httpx.Response(429, headers=headers) if is_listing(request) else None

    async def twice(adapter: PlatformAdapter, sim: Simulator) -> object:
        for _ in range(2):
            try:
                await adapter.list_all()
            except RateLimitedError as exc:
                last = exc
        return last

    result, _ = outcome(case, throttled, twice)
    assert isinstance(result, RateLimitedError), result
    assert result.retry_after <= 86_400


def test_a_confluent_window_that_never_resets_is_bounded() -> None:
    (case,) = [c for c in CASES if c.product is ProductType.CONFLUENT]

    def spent(request: httpx.Request, honest: httpx.Response) -> httpx.Response | None:
        window = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9" * 400}
        return httpx.Response(
            honest.status_code, headers={**honest.headers, **window}, content=honest.content
        )

    async def twice(adapter: PlatformAdapter, sim: Simulator) -> object:
        await adapter.list_all()
        return await adapter.list_all()

    result, _ = outcome(case, spent, twice)
    assert isinstance(result, RateLimitedError), result


def test_oncall_never_follows_a_next_link_to_another_host() -> None:
    (case,) = [c for c in CASES if c.product is ProductType.GRAFANA_ONCALL]

    def elsewhere(request: httpx.Request, honest: httpx.Response) -> httpx.Response | None:
        if request.url.params.get("page") is not None:
            return httpx.Response(200, json={"count": 1, "next": None, "results": []})
        link = "http://elsewhere.invalid/api/v1/integrations/?page=2&perpage=100"
        return httpx.Response(200, json={"count": 2, "next": link, "results": []})

    result, sent = outcome(case, elsewhere, listing)
    assert result == []
    assert {request.url.host for request in sent} == {"oncall.test"}
    assert sent[-1].url.params["page"] == "2"


def test_a_mackerel_suspension_at_no_showable_time_is_refused() -> None:
    (case,) = [c for c in CASES if c.product is ProductType.MACKEREL]

    async def observe(adapter: PlatformAdapter, sim: Simulator) -> object:
        assert isinstance(sim, MackerelSimulator)
        desired = case.desired(UID, "hook", TargetState.ENABLED)
        created = await adapter.create(desired)
        sim.suspend(created.external_id or "", at=10**20)
        return await adapter.observe(dataclasses.replace(desired, external_id=created.external_id))

    refused(outcome(case, lambda request, honest: None, observe)[0])


@pytest.mark.parametrize("product", [ProductType.CONFLUENT, ProductType.ZSTACK])
def test_a_location_that_is_no_url(product: ProductType) -> None:
    (case,) = [c for c in CASES if c.product is product]

    def unreadable(request: httpx.Request, honest: httpx.Response) -> httpx.Response | None:
        if request.method != "POST" or "login" in request.url.path:
            return None
        if product is ProductType.ZSTACK:
            return httpx.Response(202, json={"location": "http://["})
        return httpx.Response(201, headers={"Location": "http://["}, json={})

    async def create(adapter: PlatformAdapter, sim: Simulator) -> object:
        return await adapter.create(case.desired(UID, "hook", TargetState.ENABLED))

    refused(outcome(case, unreadable, create)[0])


def test_zstack_words_in_a_charset_they_are_not_in() -> None:
    (case,) = [c for c in CASES if c.product is ProductType.ZSTACK]

    def utf16(request: httpx.Request, honest: httpx.Response) -> httpx.Response | None:
        if not is_listing(request):
            return None
        headers = {"Content-Type": "text/plain; charset=utf-16"}
        return httpx.Response(503, headers=headers, content=b"\x00not utf-16 \xff")

    refused(outcome(case, utf16, listing)[0])
