"""ZStackAdapter: how SNS HTTP endpoints are found, compared, repaired, disabled, subscribed.

Against the ZStack simulator in process; "behind our back" changes use the simulator's own
methods, which skip the API (and its request log). The clock is the simulator's; the
adapter's waits for slow jobs move it instead of sleeping.
"""

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any, Unpack

import httpx
import pytest
from pydantic import SecretStr

from alertsim.core import ManualClock
from alertsim.zstack import ZStackSimulator
from alertsync.errors import (
    CredentialsError,
    CredentialsMissingError,
    InvalidSpecError,
    PlatformUnavailableError,
)
from alertsync.models import CurrentState, ProductType, TargetState, ZStackSpec
from alertsync.platforms import build_adapter
from alertsync.platforms.base import DesiredIntegration, Match, marker
from alertsync.platforms.zstack import ZStackAdapter, resource_uuid
from alertsync.platforms.zstack.errors import ZStackRejectedError
from alertsync.platforms.zstack.wire import Listed
from tests.support.accounts import platform_account
from tests.support.desired import Ask, Changes
from tests.support.transport import capped

BASE = "http://zstack.test:8080"
ACCOUNT, PASSWORD = "admin", "adapter-password-2c9d4e71"
UID = "0f6c1a52-7d0e-4f0b-9d1e-3c2b1a000001"
OTHER_UID = "0f6c1a52-7d0e-4f0b-9d1e-3c2b1a000002"
NAME = "team-a prod alarms"
URL = "http://receiver.test/alarms"
TOPIC_A = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"
TOPIC_B = "6e1d9b2f4a3c4d5e8f7a0b1c2d3e4f50"
NO_TOPIC = "7f2e0c3a5b4d4e6f9a8b1c2d3e4f5061"
HTTP_ROUTE = "/zstack/v1/sns/application-endpoints/http"
STATE_ROUTE = "/zstack/v1/sns/application-endpoints/{uuid}/actions"
UPDATE_ROUTE = "/zstack/v1/sns/application-endpoints/http/{uuid}/actions"
SUBSCRIBE_ROUTE = "/zstack/v1/sns/topics/{topic}/endpoints/{endpoint}"
# ZStack's own check of a resourceUuid (ApiMessageInterceptor).
ZSTACK_UUID = re.compile(r"[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}")


@pytest.fixture
def sim(clock: ManualClock) -> ZStackSimulator:
    return ZStackSimulator(
        accounts={ACCOUNT: PASSWORD},
        clock=clock,
        topics={TOPIC_A: "alarms", TOPIC_B: "events"},
        seed=4,
    )


@pytest.fixture
async def adapter(sim: ZStackSimulator, clock: ManualClock) -> AsyncIterator[ZStackAdapter]:
    account = platform_account(BASE, PASSWORD, ProductType.ZSTACK, username=SecretStr(ACCOUNT))
    built = build_adapter(account, transport=httpx.MockTransport(capped(sim.handle, 80)))
    assert isinstance(built, ZStackAdapter)

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    built.client.sleep, built.client.clock = sleep, clock
    yield built
    await built.aclose()


ASK = Ask(ZStackSpec, uid=UID, name=NAME, url=URL, resource="prod-alarms")


def desired(
    block: dict[str, Any] | None = None, *, password: str | None = None, **changes: Unpack[Changes]
) -> DesiredIntegration:
    """An AlertIntegration's ask, with the password its Secret holds (resolved by the core)."""
    want = ASK(block, **changes)
    if password is None:
        return want
    assert isinstance(want.block, ZStackSpec)
    return dataclasses.replace(want, block=want.block.with_password(SecretStr(password)))


def recorded(want: DesiredIntegration, external_id: str | None) -> DesiredIntegration:
    return dataclasses.replace(want, external_id=external_id)


# -- identity -------------------------------------------------------------------------------------


def test_the_resource_uuid_is_derived_from_the_uid_as_zstack_wants_it() -> None:
    derived = resource_uuid(UID)
    assert derived == resource_uuid(UID)
    assert derived != resource_uuid(OTHER_UID)
    assert ZSTACK_UUID.fullmatch(derived)
    # Pinned: a different derivation would lose every endpoint made before it.
    assert derived == "cfca5d4c0fb05958a388cce56c15c3fe"


# -- validate -------------------------------------------------------------------------------------


def test_validate_needs_a_webhook_url_and_an_object_block(adapter: ZStackAdapter) -> None:
    adapter.validate(desired())
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(desired(url=None))
    assert caught.value.field == "spec.webhook.url"
    with pytest.raises(InvalidSpecError, match=r"spec\.zstack"):
        adapter.validate(dataclasses.replace(desired(), block={"username": "x"}))
    with pytest.raises(InvalidSpecError, match="255"):
        adapter.validate(desired(name="n" * 256))


def test_a_password_ref_the_core_did_not_resolve_is_missing_credentials(
    adapter: ZStackAdapter,
) -> None:
    block = {"username": "bot", "passwordSecretRef": {"name": "hook-auth", "key": "pw"}}
    with pytest.raises(CredentialsMissingError) as caught:
        adapter.validate(desired(block))
    assert "spec.zstack.passwordSecretRef" in caught.value.message
    assert "'hook-auth'" in caught.value.message
    assert not caught.value.permanent
    adapter.validate(desired(block, password="pw-from-secret"))


# -- create ---------------------------------------------------------------------------------------


async def test_create_makes_one_endpoint_under_the_derived_uuid(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    want = desired({"username": "bot", "passwordSecretRef": {"name": "s"}}, password="pw-1-pw-1")
    assert not (await adapter.observe(want)).exists

    created = await adapter.create(want)

    assert created.external_id == resource_uuid(UID)
    assert (created.match, created.current_state) == (Match.ID, CurrentState.ENABLED)
    assert created.webhook_url == URL
    assert created.up_to_date, created.drifted_fields
    endpoint = sim.get(resource_uuid(UID))
    assert endpoint is not None
    assert (endpoint["name"], endpoint["url"], endpoint["description"], endpoint["username"]) == (
        NAME,
        URL,
        marker(UID),
        "bot",
    )
    assert sim.password_of(resource_uuid(UID)) == "pw-1-pw-1"


async def test_create_disabled_and_subscribed(adapter: ZStackAdapter, sim: ZStackSimulator) -> None:
    want = desired({"topicUuids": [TOPIC_B, TOPIC_A]}, state=TargetState.DISABLED)
    created = await adapter.create(want)
    assert created.current_state is CurrentState.DISABLED
    assert created.up_to_date, created.drifted_fields
    assert sim.subscriptions(resource_uuid(UID)) == {TOPIC_A, TOPIC_B}
    assert sim.requests.count("PUT", STATE_ROUTE) == 1


async def test_a_topic_that_does_not_exist_is_an_invalid_spec_before_anything_is_made(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        await adapter.create(desired({"topicUuids": [TOPIC_A, NO_TOPIC]}))
    assert caught.value.field == "spec.zstack.topicUuids"
    assert NO_TOPIC in caught.value.message
    assert TOPIC_A not in caught.value.message
    assert sim.endpoints() == []


async def test_a_create_whose_job_outcome_was_lost_leaves_one_endpoint(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    want = desired({"topicUuids": [TOPIC_A]})
    sim.expire_jobs()
    with pytest.raises(PlatformUnavailableError, match="expired"):
        await adapter.create(want)  # the operator is killed here, say: nothing recorded

    # The reconciler tries again; ZStack refuses the uuid our first create took.
    again = await adapter.create(want)

    assert [e["uuid"] for e in sim.endpoints()] == [resource_uuid(UID)]
    assert again.external_id == resource_uuid(UID)
    assert again.up_to_date, again.drifted_fields
    assert sim.subscriptions(resource_uuid(UID)) == {TOPIC_A}
    found = await adapter.observe(want)
    assert (found.match, found.external_id) == (Match.MARKER, resource_uuid(UID))


async def test_a_create_still_running_when_given_up_then_retried_leaves_one_endpoint(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    want = desired()
    adapter.client.job_timeout = 10.0
    sim.job_delay = 15.0
    with pytest.raises(PlatformUnavailableError, match="still running"):
        await adapter.create(want)
    assert not (await adapter.observe(want)).exists  # the job has not run yet

    adapter.client.job_timeout = 60.0
    again = await adapter.create(want)  # queued behind the first, which takes the uuid

    assert [e["uuid"] for e in sim.endpoints()] == [resource_uuid(UID)]
    assert again.external_id == resource_uuid(UID)


async def test_a_create_refused_for_another_reason_is_raised(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    with pytest.raises(ZStackRejectedError) as caught:
        await adapter.create(desired(url="http://x/" + "a" * 2048))
    assert caught.value.error.code == "SYS.1007"
    assert sim.endpoints() == []


# -- observe --------------------------------------------------------------------------------------


async def test_observe_finds_by_id_then_by_derived_uuid_then_by_name(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    created = await adapter.create(desired())
    uuid = created.external_id
    assert uuid is not None
    by_id = await adapter.observe(desired(external_id=uuid))
    assert by_id.match is Match.ID

    # Renamed and its description changed: the uuid still says it is ours.
    sim.patch(uuid, name="renamed", description="someone's notes")
    by_uuid = await adapter.observe(desired())
    assert (by_uuid.match, by_uuid.external_id) == (Match.MARKER, uuid)
    assert set(by_uuid.drifted_fields) == {"displayName", "marker"}

    foreign = sim.add_endpoint(NAME)["uuid"]
    by_name = await adapter.observe(desired(uid=OTHER_UID))
    assert (by_name.match, by_name.external_id) == (Match.NAME, foreign)
    assert "marker" in by_name.drifted_fields


async def test_observe_by_marker_description_for_an_endpoint_under_another_uuid(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    elsewhere = sim.add_endpoint("whatever", URL, description=marker(UID))["uuid"]
    found = await adapter.observe(desired())
    assert (found.match, found.external_id) == (Match.MARKER, elsewhere)


async def test_names_that_zstack_would_split_are_matched_from_the_listing(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    odd = "cpu>=90% alarms"
    uuid = sim.add_endpoint(odd)["uuid"]
    sim.add_endpoint("other")
    found = await adapter.observe(desired(name=odd))
    assert (found.match, found.external_id) == (Match.NAME, uuid)


async def test_several_endpoints_of_the_name_conflict(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    first = sim.add_endpoint(NAME)["uuid"]
    second = sim.add_endpoint(NAME)["uuid"]
    seen = await adapter.observe(desired())
    assert seen.match is Match.NAME
    assert set(seen.conflicting_ids) == {first, second}
    listing = await adapter.list_all()
    assert set((await adapter.observe(desired(), listing)).conflicting_ids) == {first, second}


async def test_observe_never_writes_and_with_a_listing_sends_nothing(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    want = desired({"topicUuids": [TOPIC_A]})
    created = await adapter.create(want)
    sim.requests.clear()
    targeted = await adapter.observe(want)
    assert sim.requests.count("GET") == sim.requests.total
    listing = await adapter.list_all()
    assert all(isinstance(item, Listed) for item in listing)
    assert [item.topics for item in listing] == [frozenset({TOPIC_A})]
    sim.requests.clear()
    assert await adapter.observe(want, listing) == targeted
    assert (await adapter.observe(recorded(want, created.external_id), listing)).match is Match.ID
    assert not (await adapter.observe(desired(uid=OTHER_UID, name="x"), listing)).exists
    assert sim.requests.total == 0


async def test_subscriptions_are_read_only_when_the_spec_lists_topics(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    created = await adapter.create(desired())
    sim.subscribe(TOPIC_A, resource_uuid(UID))  # not ours to judge: topicUuids unset
    sim.requests.clear()
    seen = await adapter.observe(desired(external_id=created.external_id))
    assert seen.up_to_date, seen.drifted_fields
    assert sim.requests.count("GET", "/zstack/v1/sns/topics/subscribers") == 0


# -- drift and repair -----------------------------------------------------------------------------

DRIFTS = [
    ("displayName", lambda sim, uuid: sim.rename(uuid, "renamed by hand")),
    ("webhook.url", lambda sim, uuid: sim.set_url(uuid, "http://elsewhere.test/")),
    ("marker", lambda sim, uuid: sim.patch(uuid, description="changed by hand")),
    ("zstack.username", lambda sim, uuid: sim.patch(uuid, username="someone-else")),
    ("targetState", lambda sim, uuid: sim.set_state(uuid, "Disabled")),
    ("zstack.topicUuids", lambda sim, uuid: sim.unsubscribe(TOPIC_A, uuid)),
    ("zstack.topicUuids", lambda sim, uuid: sim.subscribe(TOPIC_B, uuid)),
]


@pytest.mark.parametrize(
    ("field", "change"), DRIFTS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(DRIFTS)]
)
async def test_each_drift_is_named_and_repaired(
    adapter: ZStackAdapter, sim: ZStackSimulator, field: str, change: Any
) -> None:
    want = desired({"username": "bot", "topicUuids": [TOPIC_A]})
    created = await adapter.create(want)
    uuid = created.external_id
    assert uuid is not None
    change(sim, uuid)
    spec = recorded(want, uuid)

    seen = await adapter.observe(spec)
    assert seen.drifted_fields == (field,)

    repaired = await adapter.update(spec, seen)
    assert repaired.up_to_date, repaired.drifted_fields
    assert (await adapter.observe(spec)).up_to_date
    endpoint = sim.get(uuid)
    assert endpoint is not None
    assert (endpoint["name"], endpoint["url"], endpoint["state"]) == (NAME, URL, "Enabled")
    assert sim.subscriptions(uuid) == {TOPIC_A}


async def test_topics_are_a_set_in_any_order(adapter: ZStackAdapter, sim: ZStackSimulator) -> None:
    created = await adapter.create(desired({"topicUuids": [TOPIC_A, TOPIC_B]}))
    seen = await adapter.observe(
        desired({"topicUuids": [TOPIC_B, TOPIC_A]}, external_id=created.external_id)
    )
    assert seen.up_to_date, seen.drifted_fields
    # An emptied list is a set too: every subscription goes.
    none = desired({"topicUuids": []}, external_id=created.external_id)
    seen = await adapter.observe(none)
    assert seen.drifted_fields == ("zstack.topicUuids",)
    await adapter.update(none, seen)
    assert sim.subscriptions(resource_uuid(UID)) == set()


async def test_a_topic_gone_from_the_platform_is_an_invalid_spec_on_repair(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    created = await adapter.create(desired())
    want = desired({"topicUuids": [NO_TOPIC]}, external_id=created.external_id)
    seen = await adapter.observe(want)
    assert seen.drifted_fields == ("zstack.topicUuids",)
    with pytest.raises(InvalidSpecError) as caught:
        await adapter.update(want, seen)
    assert caught.value.field == "spec.zstack.topicUuids"
    assert "create it there or remove it" in caught.value.message


async def test_state_changes_go_through_change_state(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    created = await adapter.create(desired())
    off = desired(state=TargetState.DISABLED, external_id=created.external_id)
    seen = await adapter.observe(off)
    assert seen.drifted_fields == ("targetState",)
    sim.requests.clear()
    disabled = await adapter.update(off, seen)
    assert disabled.current_state is CurrentState.DISABLED
    assert sim.requests.count("PUT", STATE_ROUTE) == 1
    assert sim.requests.count("PUT", UPDATE_ROUTE) == 0  # nothing else was touched


async def test_the_password_is_never_compared_but_sent_again_when_it_changes(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    block = {"username": "bot", "passwordSecretRef": {"name": "hook-auth"}}
    created = await adapter.create(desired(block, password="first-password"))
    uuid = created.external_id
    assert uuid is not None
    sim.patch(uuid, password="changed-by-hand")  # invisible through the API
    assert (
        await adapter.observe(desired(block, password="first-password", external_id=uuid))
    ).up_to_date

    rotated = desired(block, password="second-password", external_id=uuid)
    seen = await adapter.observe(rotated)
    assert seen.drifted_fields == ("zstack.passwordSecretRef",)
    repaired = await adapter.update(rotated, seen)
    assert repaired.up_to_date, repaired.drifted_fields
    assert sim.password_of(uuid) == "second-password"
    for text in (repr(seen), repr(repaired), repr(rotated)):
        assert "second-password" not in text
    # Without a password handed over there is nothing to compare (nor to send).
    unresolved = desired({"username": "bot"}, external_id=uuid)
    assert (await adapter.observe(unresolved)).up_to_date


async def test_a_repair_resends_the_password_with_the_other_fields(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    block = {"username": "bot", "passwordSecretRef": {"name": "hook-auth"}}
    created = await adapter.create(desired(block, password="the-password"))
    uuid = created.external_id
    assert uuid is not None
    sim.patch(uuid, url="http://elsewhere.test/", password="lost")
    want = desired(block, password="the-password", external_id=uuid)
    await adapter.update(want, await adapter.observe(want))
    assert sim.password_of(uuid) == "the-password"


async def test_adopting_a_foreign_endpoint_writes_our_marker(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    foreign = sim.add_endpoint(NAME, URL)["uuid"]
    seen = await adapter.observe(desired())
    assert (seen.match, seen.drifted_fields) == (Match.NAME, ("marker",))
    adopted = await adapter.update(desired(), seen)
    assert adopted.up_to_date
    assert adopted.external_id == foreign
    endpoint = sim.get(foreign)
    assert endpoint is not None
    assert endpoint["description"] == marker(UID)


# -- delete and close -----------------------------------------------------------------------------


async def test_delete_then_gone_then_delete_again(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    created = await adapter.create(desired({"topicUuids": [TOPIC_A]}))
    assert created.external_id is not None
    await adapter.delete(created.external_id)
    assert sim.endpoints() == []
    assert not (await adapter.observe(desired(external_id=created.external_id))).exists
    await adapter.delete(created.external_id)


async def test_an_expired_session_mid_reconcile_is_invisible(
    adapter: ZStackAdapter, sim: ZStackSimulator
) -> None:
    created = await adapter.create(desired())
    sim.expire_sessions()
    seen = await adapter.observe(desired(external_id=created.external_id))
    assert seen.up_to_date
    assert sim.requests.count("PUT", "/zstack/v1/accounts/login") == 2


async def test_an_account_that_may_only_read_cannot_create(clock: ManualClock) -> None:
    sim = ZStackSimulator(accounts={ACCOUNT: PASSWORD}, read_only=[ACCOUNT], clock=clock)
    account = platform_account(BASE, PASSWORD, ProductType.ZSTACK, username=SecretStr(ACCOUNT))
    adapter = build_adapter(account, transport=httpx.MockTransport(capped(sim.handle, 20)))
    try:
        await adapter.check()  # reading works
        with pytest.raises(CredentialsError) as caught:
            await adapter.create(desired())
    finally:
        await adapter.aclose()
    assert caught.value.message.startswith("cannot create SNS HTTP endpoint")
    assert "ID.1002" in caught.value.message
    assert PASSWORD not in caught.value.message
    assert sim.endpoints() == []
