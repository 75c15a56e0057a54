"""The adapter contract (base.py, models-of-style 7.3), one scenario suite for every platform.

Each platform joins with its module in `tests/platforms/`, whose `CASE` (a `PlatformCase`)
says how to build its simulator, what a DesiredIntegration for it looks like, and how to change
or delete its object behind our back. The scenarios themselves never name a platform.
"""

import dataclasses
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from alertsim.core import Simulator
from alertsync import metrics
from alertsync.errors import (
    CredentialsError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import CurrentState, TargetState
from alertsync.platforms import build_adapter
from alertsync.platforms.base import DesiredIntegration, Match, Observation, PlatformAdapter
from alertsync.retry import THROTTLE_FIRST
from tests.platforms import CASES
from tests.platforms.case import TOKEN, WRONG, PlatformCase

UID = "5a1f0c9e-2b7d-4e3a-8c6f-0d9e8b7a0001"
OTHER_UID = "5a1f0c9e-2b7d-4e3a-8c6f-0d9e8b7a0002"


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request: pytest.FixtureRequest) -> PlatformCase[Any]:
    chosen: PlatformCase[Any] = request.param
    return chosen


@pytest.fixture
def sim(case: PlatformCase[Any]) -> Simulator:
    made: Simulator = case.make_simulator()
    return made


@pytest.fixture
async def adapter(case: PlatformCase[Any], sim: Simulator) -> AsyncIterator[PlatformAdapter]:
    built = case.adapter(sim)
    yield built
    await built.aclose()


def want(
    case: PlatformCase[Any],
    *,
    uid: str = UID,
    name: str = "team-a prod alerts",
    state: TargetState = TargetState.ENABLED,
    external_id: str | None = None,
) -> DesiredIntegration:
    return dataclasses.replace(case.desired(uid, name, state), external_id=external_id)


async def drifted(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> tuple[Observation, DesiredIntegration, Observation]:
    """An object created, then changed behind our back: (created, its spec, observed)."""
    created = await adapter.create(want(case))
    assert created.external_id
    case.drift(sim, created.external_id)
    spec = want(case, external_id=created.external_id)
    return created, spec, await adapter.observe(spec)


def ours(case: PlatformCase[Any]) -> Match:
    """How our own object is found without its stored id."""
    return Match.NAME if case.marker_is_name else Match.MARKER


def no_token(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        assert TOKEN not in text
        assert WRONG not in text


async def disabled_is_no_object_then_enabled(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    """The disable scenario of a platform without an enable switch: disabled is no object."""
    disabled = want(case, state=TargetState.DISABLED)
    nothing = await adapter.observe(disabled)
    assert not nothing.exists
    assert nothing.current_state is CurrentState.DISABLED
    assert nothing.up_to_date
    sim.requests.clear()
    not_made = await adapter.create(disabled)
    assert not not_made.exists
    assert not_made.current_state is CurrentState.DISABLED
    assert sim.requests.total == 0

    created = await adapter.create(want(case))
    assert created.external_id
    spec = want(case, state=TargetState.DISABLED, external_id=created.external_id)
    seen = await adapter.observe(spec)
    assert (seen.match, seen.current_state) == (Match.ID, CurrentState.ENABLED)
    assert "targetState" in seen.drifted_fields

    gone = await adapter.update(spec, seen)
    assert not gone.exists
    assert gone.current_state is CurrentState.DISABLED
    settled = await adapter.observe(spec)
    assert not settled.exists
    assert settled.current_state is CurrentState.DISABLED

    enabled = want(case, external_id=created.external_id)
    absent = await adapter.observe(enabled)
    assert not absent.exists
    assert absent.current_state is CurrentState.ABSENT
    again = await adapter.create(enabled)
    assert again.current_state is CurrentState.ENABLED
    assert again.up_to_date, again.drifted_fields


# -- the scenarios ---------------------------------------------------------------------------------


async def test_absent_then_create_then_in_sync(
    case: PlatformCase[Any], adapter: PlatformAdapter
) -> None:
    first = await adapter.observe(want(case))
    assert not first.exists
    assert first.current_state is CurrentState.ABSENT

    adapter.validate(want(case))
    created = await adapter.create(want(case))
    assert created.exists
    assert created.external_id
    assert created.current_state is CurrentState.ENABLED
    assert created.up_to_date, created.drifted_fields

    again = await adapter.observe(want(case, external_id=created.external_id))
    assert again.match is Match.ID
    assert again.external_id == created.external_id
    assert again.webhook_url == created.webhook_url
    assert again.current_state is CurrentState.ENABLED
    assert again.up_to_date, again.drifted_fields


async def test_drift_behind_our_back_is_named_then_repaired(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    created, spec, seen = await drifted(case, adapter, sim)
    assert case.drifted_field in seen.drifted_fields
    assert not seen.up_to_date
    assert seen.external_id == created.external_id

    repaired = await adapter.update(spec, seen)
    assert repaired.up_to_date, repaired.drifted_fields
    assert repaired.external_id == created.external_id

    settled = await adapter.observe(spec)
    assert settled.up_to_date, settled.drifted_fields
    assert settled.external_id == created.external_id


async def test_target_state_disabled_then_enabled(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    assert type(adapter).disable_by_delete is case.disable_by_delete
    if case.disable_by_delete:
        await disabled_is_no_object_then_enabled(case, adapter, sim)
        return
    created = await adapter.create(want(case, state=TargetState.DISABLED))
    assert created.current_state is CurrentState.DISABLED
    assert created.up_to_date, created.drifted_fields

    spec = want(case, external_id=created.external_id)
    seen = await adapter.observe(spec)
    assert seen.current_state is CurrentState.DISABLED
    assert not seen.up_to_date

    enabled = await adapter.update(spec, seen)
    assert enabled.current_state is CurrentState.ENABLED
    assert enabled.up_to_date, enabled.drifted_fields
    assert enabled.external_id == created.external_id


async def test_delete_then_absent_then_delete_again(
    case: PlatformCase[Any], adapter: PlatformAdapter
) -> None:
    created = await adapter.create(want(case))
    assert created.external_id

    await adapter.delete(created.external_id)
    gone = await adapter.observe(want(case, external_id=created.external_id))
    assert not gone.exists
    assert gone.current_state is CurrentState.ABSENT

    await adapter.delete(created.external_id)  # already gone is success


async def test_deleted_behind_our_back_is_absent(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    created = await adapter.create(want(case))
    assert created.external_id
    case.remove(sim, created.external_id)

    assert not (await adapter.observe(want(case, external_id=created.external_id))).exists
    await adapter.delete(created.external_id)


async def test_after_a_crash_the_object_is_found_by_marker_not_duplicated(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    created = await adapter.create(want(case))  # then the operator dies: no id recorded
    sim.requests.clear()

    found = await adapter.observe(want(case))

    assert found.match is ours(case)
    assert found.external_id == created.external_id
    assert found.up_to_date, found.drifted_fields
    assert sim.requests.count("GET") == sim.requests.total  # observe never writes

    listing = await adapter.list_all()
    assert len(listing) == 1
    assert await adapter.observe(want(case), listing) == found


async def test_a_create_whose_answer_was_lost_is_found_by_marker(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    sim.faults.lose_response(method="POST")
    with pytest.raises(PlatformUnavailableError):
        await adapter.create(want(case))

    found = await adapter.observe(want(case))

    assert found.match is ours(case)
    assert found.external_id


async def test_observe_with_a_listing_sends_nothing(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    created = await adapter.create(want(case))
    listing = await adapter.list_all()
    sim.requests.clear()

    by_id = await adapter.observe(want(case, external_id=created.external_id), listing)
    by_marker = await adapter.observe(want(case), listing)
    absent = await adapter.observe(want(case, uid=OTHER_UID, name="another"), listing)

    assert sim.requests.total == 0
    assert (by_id.match, by_id.external_id) == (Match.ID, created.external_id)
    assert (by_marker.match, by_marker.external_id) == (ours(case), created.external_id)
    assert not absent.exists


async def test_a_foreign_object_of_the_name_is_a_name_match_and_two_conflict(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    first = case.add_foreign(sim, "team-a prod alerts")

    seen = await adapter.observe(want(case))
    assert (seen.match, seen.external_id) == (Match.NAME, first)
    if not case.marker_is_name:  # else nothing tells a namesake from ours but the match
        assert not seen.up_to_date

    # Where the platform keeps names unique per scope, the second lives in another scope
    # (add_foreign sees to it), which a spec naming no scope still matches.
    second = case.add_foreign(sim, "team-a prod alerts")
    seen = await adapter.observe(want(case))
    assert seen.match is Match.NAME
    assert set(seen.conflicting_ids) == {first, second}


async def test_list_all_returns_every_object_across_pages(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    made = [case.add_foreign(sim, f"someone else's {number}") for number in range(250)]
    listing = await adapter.list_all()
    assert len(listing) == len(made)
    mine = await adapter.observe(want(case, name="someone else's 249"), listing)
    assert (mine.match, mine.external_id) == (Match.NAME, made[-1])


async def test_a_429_carries_the_platforms_wait(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    sim.faults.throttle(retry_after=17)

    with pytest.raises(RateLimitedError) as caught:
        await adapter.observe(want(case))

    if case.announces_wait:
        assert caught.value.retry_after == 17
    else:
        # Nothing announced: the first step of the shared backoff (jittered down to 80%).
        assert THROTTLE_FIRST * 0.8 <= caught.value.retry_after <= THROTTLE_FIRST
    no_token(caught.value)


async def test_a_retry_after_given_as_an_http_date_is_the_wait_until_then(
    case: PlatformCase[Any], sim: Simulator
) -> None:
    """RFC 9110 allows Retry-After as a date; every client that reads the header takes it."""

    async def dated_429(request: httpx.Request) -> httpx.Response:
        answer = await sim.handle(request)
        if request.method == "GET" and answer.status_code == 200:
            then = formatdate(time.time() + 60, usegmt=True)
            return httpx.Response(429, headers={"Retry-After": then}, json={})
        return answer

    adapter = build_adapter(case.account(), transport=httpx.MockTransport(dated_429))
    try:
        with pytest.raises(RateLimitedError) as caught:
            await adapter.observe(want(case))
    finally:
        await adapter.aclose()
    assert 55 <= caught.value.retry_after <= 61


async def test_a_rejected_token_is_a_credentials_error_without_the_token(
    case: PlatformCase[Any], sim: Simulator
) -> None:
    adapter = case.adapter(sim, token=WRONG)
    try:
        with pytest.raises(CredentialsError) as checked:
            await adapter.check()
        with pytest.raises(CredentialsError) as observed:
            await adapter.observe(want(case))
        with pytest.raises(CredentialsError) as created:
            await adapter.create(want(case))
    finally:
        await adapter.aclose()
    for caught in (checked, observed, created):
        no_token(caught.value)
        assert not caught.value.permanent


async def test_requests_are_counted_under_the_platforms_own_label(
    case: PlatformCase[Any], adapter: PlatformAdapter
) -> None:
    def sent() -> float:
        return sum(
            sample.value
            for family in metrics.REGISTRY.collect()
            if family.name == "alertsync_platform_requests"
            for sample in family.samples
            if sample.name.endswith("_total") and sample.labels["platform"] == case.product.value
        )

    before = sent()
    await adapter.check()
    assert sent() > before


async def test_an_object_deleted_before_its_repair_is_reported_absent_not_created_again(
    case: PlatformCase[Any], adapter: PlatformAdapter, sim: Simulator
) -> None:
    """Absent means a drift to count and a create: the reconciler's decision, not the adapter's."""
    created, spec, seen = await drifted(case, adapter, sim)
    assert not seen.up_to_date
    assert created.external_id
    case.remove(sim, created.external_id)
    sim.requests.clear()

    try:
        answer = await adapter.update(spec, seen)
    except PlatformRejectedError as exc:
        gone = exc.status_code == 404  # the reconciler reads again to tell it from a spec error
    except (PlatformUnavailableError, RateLimitedError):
        gone = True  # a temporary failure is as good: the next pass finds the object gone
    else:
        gone = answer.current_state is CurrentState.ABSENT
    assert gone
    assert sim.requests.count("POST") == 0
