"""ConfluentAdapter: how integrations are found, compared, repaired, disabled and proven.

Against the Confluent simulator in process; "behind our back" changes use the simulator's
own methods, which skip the API (and its request log).
"""

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from alertsim.confluent import ApiKey, ConfluentSimulator
from alertsim.core import ManualClock
from alertsim.server import SimulatorServer
from alertsync.errors import InvalidSpecError
from alertsync.models import ConfluentSpec, CurrentState, ProductType, TargetState
from alertsync.platforms import build_adapter
from alertsync.platforms.base import DesiredIntegration, Match, Observation, marker
from alertsync.platforms.confluent import ConfluentAdapter
from tests.support.accounts import platform_account
from tests.support.desired import Ask
from tests.support.transport import capped

BASE = "http://confluent.test"
KEY, SECRET = "ADAPTERKEY6A0E", "adapter-secret-6a0e4b7d"
UID = "0f6c1a52-7d0e-4f0b-9d1e-3c2b1a000001"
OTHER_UID = "0f6c1a52-7d0e-4f0b-9d1e-3c2b1a000002"
NAME = "team-a prod alerts"
URL = "https://receiver.example.com/team-a"
SLACK = "https://hooks.slack.com/services/T000/B000/XXXX"
INTEGRATIONS = "/notifications/v1/integrations"
ONE = "/notifications/v1/integrations/{id}"
TEST = "/notifications/v1/integrations:test"
NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


class Receiver:
    """A webhook receiver that records what it gets and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, dict[str, Any]]] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.received.append((str(request.url), json.loads(request.content)))
        return httpx.Response(self.status)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def sim(receiver: Receiver) -> ConfluentSimulator:
    return ConfluentSimulator(
        keys={KEY: ApiKey(SECRET)},
        rate=None,
        base_url=BASE,
        clock=ManualClock(),
        seed=3,
        delivery_transport=httpx.MockTransport(receiver.handle),
    )


class Spy:
    """The simulator, recording each request's method, route and JSON body."""

    def __init__(self, sim: ConfluentSimulator) -> None:
        self.sim = sim
        self.bodies: list[tuple[str, str, Any]] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        body = json.loads(request.content) if request.content else None
        self.bodies.append((request.method, self.sim.route_of(request), body))
        return await self.sim.handle(request)

    def writes(self) -> list[tuple[str, str, Any]]:
        return [entry for entry in self.bodies if entry[0] != "GET"]


@pytest.fixture
def spy(sim: ConfluentSimulator) -> Spy:
    return Spy(sim)


@pytest.fixture
async def adapter(spy: Spy) -> AsyncIterator[ConfluentAdapter]:
    account = platform_account(BASE, SECRET, ProductType.CONFLUENT, username=SecretStr(KEY))
    built = build_adapter(account, transport=httpx.MockTransport(capped(spy.handle, 60)))
    assert isinstance(built, ConfluentAdapter)
    built.clock = lambda: NOW
    yield built
    await built.aclose()


# An AlertIntegration's ask; its `block` is spec.confluent as a user writes it.
desired = Ask(ConfluentSpec, uid=UID, name=NAME, url=URL)


def remote(sim: ConfluentSimulator, id_: str | None) -> dict[str, Any]:
    assert id_ is not None
    found = sim.get(id_)
    assert found is not None, f"{id_} is gone"
    return found


# -- validate ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Webhook", "Slack", "MsTeams"])
def test_validate_accepts_the_writable_kinds(adapter: ConfluentAdapter, kind: str) -> None:
    adapter.validate(desired({"targetKind": kind}))


def test_validate_accepts_no_block_as_a_webhook(adapter: ConfluentAdapter) -> None:
    plain = DesiredIntegration("ns", "n", UID, NAME, TargetState.ENABLED, URL, None)
    adapter.validate(plain)


@pytest.mark.parametrize("kind", ["RoleEmail", "UserEmail"])
def test_an_email_kind_is_refused_with_a_clear_message(
    adapter: ConfluentAdapter, spy: Spy, kind: str
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(desired({"targetKind": kind}))
    assert caught.value.field == "spec.confluent.targetKind"
    assert f"{kind} integrations belong to Confluent Cloud and are read-only" in str(caught.value)
    assert "Webhook, Slack or MsTeams" in str(caught.value)
    assert caught.value.permanent
    assert spy.bodies == []


def test_a_display_name_over_64_characters_is_refused(adapter: ConfluentAdapter) -> None:
    adapter.validate(desired(name="x" * 64))
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(desired(name="x" * 65))
    assert caught.value.field == "spec.displayName"
    assert "64 characters, this name has 65" in str(caught.value)
    long_default = dataclasses.replace(desired(), name="n" * 60, display_name=f"team-a/{'n' * 60}")
    with pytest.raises(InvalidSpecError, match="the default <namespace>/<name>"):
        adapter.validate(long_default)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (None, "required"),
        ("http://exa mple.com/hook", "must not contain whitespace"),
        ("http://[::1/hook", "not a valid URL"),
        ("ftp://files.example.com/hook", "http(s) URL"),
        ("https:///no-host", "http(s) URL with a host"),
    ],
)
def test_a_missing_or_invalid_url_names_spec_webhook_url(
    adapter: ConfluentAdapter, url: str | None, problem: str
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(desired(url=url))
    assert caught.value.field == "spec.webhook.url"
    assert problem in str(caught.value)


def test_the_marker_must_fit_the_description(adapter: ConfluentAdapter) -> None:
    assert len(marker(UID)) <= 128
    with pytest.raises(InvalidSpecError, match="128-character description"):
        adapter.validate(desired(uid="u" * 120))


def test_a_block_of_another_shape_is_refused(adapter: ConfluentAdapter) -> None:
    odd = DesiredIntegration("ns", "n", UID, NAME, TargetState.ENABLED, URL, {"targetKind": "x"})
    with pytest.raises(InvalidSpecError, match=r"spec\.confluent: must be an object"):
        adapter.validate(odd)


# -- create, observe, compare ----------------------------------------------------------------------


async def test_create_sends_name_marker_and_target(
    adapter: ConfluentAdapter, sim: ConfluentSimulator, spy: Spy
) -> None:
    created = await adapter.create(desired())
    assert created.match is Match.ID
    assert created.current_state is CurrentState.ENABLED
    assert created.webhook_url == URL
    assert created.up_to_date
    assert spy.writes() == [
        (
            "POST",
            INTEGRATIONS,
            {
                "display_name": NAME,
                "description": marker(UID),
                "target": {"kind": "Webhook", "url": URL},
            },
        )
    ]
    assert remote(sim, created.external_id)["description"] == marker(UID)
    assert sim.requests.total == 1  # the 201's body is the object: no re-read


@pytest.mark.parametrize("kind", ["Slack", "MsTeams"])
async def test_chat_targets_carry_the_url_as_webhook_url(
    adapter: ConfluentAdapter, sim: ConfluentSimulator, kind: str
) -> None:
    created = await adapter.create(desired({"targetKind": kind}, url=SLACK))
    assert remote(sim, created.external_id)["target"] == {"kind": kind, "webhook_url": SLACK}
    assert created.webhook_url == SLACK
    assert created.up_to_date


async def test_observe_finds_by_id_then_marker_then_name(
    adapter: ConfluentAdapter, sim: ConfluentSimulator
) -> None:
    created = await adapter.create(desired())
    by_id = await adapter.observe(desired(external_id=created.external_id))
    by_marker = await adapter.observe(desired(name="renamed in the spec"))
    foreign = sim.add_integration("someone else's", url=URL)
    by_name = await adapter.observe(desired(uid=OTHER_UID, name="someone else's"))

    assert (by_id.match, by_id.external_id) == (Match.ID, created.external_id)
    assert (by_marker.match, by_marker.external_id) == (Match.MARKER, created.external_id)
    assert by_marker.drifted_fields == ("displayName",)
    assert (by_name.match, by_name.external_id) == (Match.NAME, foreign["id"])
    assert by_name.drifted_fields == ("marker",)


async def test_a_stored_id_that_is_gone_falls_back_to_the_marker(
    adapter: ConfluentAdapter, sim: ConfluentSimulator
) -> None:
    created = await adapter.create(desired())
    found = await adapter.observe(desired(external_id="i-vanished"))
    assert (found.match, found.external_id) == (Match.MARKER, created.external_id)


async def test_email_integrations_are_listed_but_never_matched(
    adapter: ConfluentAdapter, sim: ConfluentSimulator
) -> None:
    default = sim.integrations()[0]
    assert default["target"]["kind"] == "RoleEmail"
    sim.add_integration(NAME, kind="UserEmail", description=marker(UID))

    all_of_them = await adapter.client.list_integrations()
    assert {item.target.kind for item in all_of_them} == {"RoleEmail", "UserEmail"}
    assert await adapter.list_all() == []
    by_id = await adapter.observe(desired(external_id=default["id"]))
    by_name = await adapter.observe(desired(name=default["display_name"]))
    assert not by_id.exists
    assert not by_name.exists


async def test_observe_with_a_listing_sends_nothing_and_skips_email_kinds(
    adapter: ConfluentAdapter, sim: ConfluentSimulator
) -> None:
    created = await adapter.create(desired())
    listing = [*await adapter.client.list_integrations()]  # the client's: email included
    sim.requests.clear()
    default_id = sim.integrations()[0]["id"]

    mine = await adapter.observe(desired(external_id=created.external_id), listing)
    email = await adapter.observe(
        desired(uid=OTHER_UID, name="another", external_id=default_id), listing
    )

    assert sim.requests.total == 0
    assert (mine.match, mine.external_id) == (Match.ID, created.external_id)
    assert not email.exists


async def test_two_of_the_name_conflict(adapter: ConfluentAdapter, sim: ConfluentSimulator) -> None:
    first = sim.add_integration(NAME)["id"]
    second = sim.add_integration(NAME)["id"]
    seen = await adapter.observe(desired())
    assert seen.match is Match.NAME
    assert set(seen.conflicting_ids) == {first, second}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda sim, id_: sim.rename(id_, "renamed by hand"), "displayName"),
        (lambda sim, id_: sim.set_description(id_, "hand-written"), "marker"),
        (lambda sim, id_: sim.set_url(id_, "https://elsewhere.test/h"), "webhook.url"),
        (lambda sim, id_: sim.set_target(id_, "Slack", URL), "confluent.targetKind"),
    ],
)
async def test_each_drift_checked_field_is_named(
    adapter: ConfluentAdapter, sim: ConfluentSimulator, change: Any, field: str
) -> None:
    created = await adapter.create(desired())
    change(sim, created.external_id)
    seen = await adapter.observe(desired(external_id=created.external_id))
    assert seen.drifted_fields == (field,)


async def test_the_url_drift_is_reported_with_the_platforms_url(
    adapter: ConfluentAdapter, sim: ConfluentSimulator
) -> None:
    created = await adapter.create(desired())
    assert created.external_id is not None
    sim.set_url(created.external_id, "https://elsewhere.test/h")
    seen = await adapter.observe(desired(external_id=created.external_id))
    assert seen.webhook_url == "https://elsewhere.test/h"


# -- update: PATCH only what drifted -----------------------------------------------------------


async def test_update_patches_only_the_drifted_fields(
    adapter: ConfluentAdapter, sim: ConfluentSimulator, spy: Spy
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id
    assert id_ is not None
    sim.rename(id_, "renamed by hand")
    spec = desired(external_id=id_)
    repaired = await adapter.update(spec, await adapter.observe(spec))
    assert repaired.up_to_date
    assert spy.writes()[-1] == ("PATCH", ONE, {"display_name": NAME})

    moved = desired({"targetKind": "MsTeams"}, url=SLACK, external_id=id_)
    seen = await adapter.observe(moved)
    assert set(seen.drifted_fields) == {"confluent.targetKind", "webhook.url"}
    updated = await adapter.update(moved, seen)
    assert updated.up_to_date
    assert spy.writes()[-1] == ("PATCH", ONE, {"target": {"kind": "MsTeams", "webhook_url": SLACK}})
    assert remote(sim, id_)["display_name"] == NAME


async def test_an_adopted_integration_gets_name_marker_and_target(
    adapter: ConfluentAdapter, sim: ConfluentSimulator, spy: Spy
) -> None:
    foreign = sim.add_integration(NAME, url="https://theirs.test/h")["id"]
    seen = await adapter.observe(desired())
    assert set(seen.drifted_fields) == {"marker", "webhook.url"}
    adopted = await adapter.update(desired(), seen)
    assert adopted.up_to_date
    assert adopted.external_id == foreign
    assert spy.writes()[-1] == (
        "PATCH",
        ONE,
        {"description": marker(UID), "target": {"kind": "Webhook", "url": URL}},
    )


# -- targetState: disabled is no integration ------------------------------------------------------


async def test_disabled_deletes_the_integration_and_is_then_in_sync(
    adapter: ConfluentAdapter, sim: ConfluentSimulator, spy: Spy
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id
    off = desired(state=TargetState.DISABLED, external_id=id_)

    seen = await adapter.observe(off)
    assert seen.drifted_fields == ("targetState",)
    assert seen.current_state is CurrentState.ENABLED

    gone = await adapter.update(off, seen)
    assert gone == Observation(match=Match.NONE, current_state=CurrentState.DISABLED)
    assert spy.writes()[-1] == ("DELETE", ONE, None)
    assert sim.get(id_ or "") is None

    settled = await adapter.observe(off)
    assert (settled.exists, settled.current_state) == (False, CurrentState.DISABLED)


async def test_disabled_creates_nothing(adapter: ConfluentAdapter, spy: Spy) -> None:
    nothing = await adapter.create(desired(state=TargetState.DISABLED))
    assert (nothing.exists, nothing.current_state) == (False, CurrentState.DISABLED)
    assert spy.bodies == []


async def test_a_disabled_resource_leaves_someone_elses_namesake_alone(
    adapter: ConfluentAdapter, sim: ConfluentSimulator
) -> None:
    foreign = sim.add_integration(NAME)["id"]
    off = await adapter.observe(desired(state=TargetState.DISABLED))
    assert not off.exists
    assert off.current_state is CurrentState.DISABLED
    # Unless it is our own create whose answer was lost: then it is ours to remove.
    pending = await adapter.observe(desired(state=TargetState.DISABLED, create_pending=True))
    assert (pending.match, pending.external_id) == (Match.NAME, foreign)
    assert pending.drifted_fields == ("targetState",)


async def test_delete_twice_is_success_and_never_touches_email_kinds(
    adapter: ConfluentAdapter, sim: ConfluentSimulator
) -> None:
    created = await adapter.create(desired())
    assert created.external_id is not None
    await adapter.delete(created.external_id)
    await adapter.delete(created.external_id)
    assert [item["target"]["kind"] for item in sim.integrations()] == ["RoleEmail"]


# -- after_write: the delivery test ---------------------------------------------------------------


async def test_no_delivery_test_unless_asked(
    adapter: ConfluentAdapter, receiver: Receiver, spy: Spy
) -> None:
    created = await adapter.create(desired())
    assert await adapter.after_write(desired(), None, created) is None
    assert receiver.received == []
    assert ("POST", TEST) not in {(method, route) for method, route, _ in spy.bodies}


async def test_a_create_with_test_on_change_proves_the_webhook(
    adapter: ConfluentAdapter, receiver: Receiver, spy: Spy
) -> None:
    spec = desired({"testOnChange": True})
    created = await adapter.create(spec)

    result = await adapter.after_write(spec, None, created)

    assert result is not None
    assert (result.at, result.delivered) == (NOW, True)
    assert result.message == f"Confluent Cloud delivered a test notification to {URL}"
    [(url, payload)] = receiver.received
    assert url == URL
    assert payload["integration"] == NAME
    assert spy.writes()[-1] == (
        "POST",
        TEST,
        {
            "display_name": NAME,
            "description": marker(UID),
            "target": {"kind": "Webhook", "url": URL},
        },
    )


async def test_an_update_tests_only_when_the_target_changed(
    adapter: ConfluentAdapter, sim: ConfluentSimulator, receiver: Receiver
) -> None:
    spec = desired({"testOnChange": True})
    created = await adapter.create(spec)
    id_ = created.external_id
    assert id_ is not None
    spec = desired({"testOnChange": True}, external_id=id_)

    sim.rename(id_, "renamed by hand")
    renamed = await adapter.observe(spec)
    assert await adapter.after_write(spec, renamed, await adapter.update(spec, renamed)) is None

    sim.set_url(id_, "https://elsewhere.test/h")
    moved = await adapter.observe(spec)
    result = await adapter.after_write(spec, moved, await adapter.update(spec, moved))
    assert result is not None
    assert result.delivered
    assert [url for url, _ in receiver.received] == [URL]


async def test_a_failed_delivery_is_recorded_not_raised(
    adapter: ConfluentAdapter, receiver: Receiver
) -> None:
    receiver.status = 503
    spec = desired({"testOnChange": True})
    created = await adapter.create(spec)
    result = await adapter.after_write(spec, None, created)
    assert result is not None
    assert not result.delivered
    assert "Test Notification Failed" in result.message
    assert "the target answered 503" in result.message
    assert "[request id " in result.message
    assert SECRET not in result.message


async def test_a_delivery_test_that_cannot_run_is_recorded_as_not_delivered(
    adapter: ConfluentAdapter, sim: ConfluentSimulator
) -> None:
    spec = desired({"testOnChange": True})
    created = await adapter.create(spec)
    sim.faults.throttle(retry_after=30, path=TEST)
    result = await adapter.after_write(spec, None, created)
    assert result is not None
    assert not result.delivered
    assert "429" in result.message


async def test_nothing_is_tested_once_disabled_removed_it(adapter: ConfluentAdapter) -> None:
    spec = desired({"testOnChange": True}, state=TargetState.DISABLED)
    nothing = Observation(match=Match.NONE, current_state=CurrentState.DISABLED)
    assert await adapter.after_write(spec, None, nothing) is None


async def test_the_delivery_test_reaches_a_real_local_receiver() -> None:
    receiver = Receiver()
    async with SimulatorServer(receiver) as receiver_url:
        # The simulator delivers over the real network, as Confluent would.
        sim = ConfluentSimulator(keys={KEY: ApiKey(SECRET)}, rate=None, base_url=BASE, seed=9)
        account = platform_account(BASE, SECRET, ProductType.CONFLUENT, username=SecretStr(KEY))
        adapter = build_adapter(account, transport=httpx.MockTransport(sim.handle))
        try:
            spec = desired({"testOnChange": True}, url=f"{receiver_url}/alerts/confluent")
            adapter.validate(spec)
            created = await adapter.create(spec)
            result = await adapter.after_write(spec, None, created)
        finally:
            await adapter.aclose()
    assert result is not None
    assert result.delivered, result.message
    [(url, payload)] = receiver.received
    assert url == f"{receiver_url}/alerts/confluent"
    assert payload["notification_type"] == "TEST_NOTIFICATION"
    assert sim.deliveries[0].status == 200
