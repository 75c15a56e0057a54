"""MackerelAdapter: how channels are found, compared, repaired, disabled, routed, counted.

Against the Mackerel simulator in process; "behind our back" changes use the simulator's
own methods, which skip the API (and its request log).
"""

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock
from alertsim.mackerel import READ_ONLY, READ_WRITE, MackerelSimulator
from alertsync.errors import CredentialsError, InvalidSpecError, PlatformUnavailableError
from alertsync.models import CurrentState, MackerelSpec, ProductType, TargetState
from alertsync.platforms import build_adapter
from alertsync.platforms.base import Match
from alertsync.platforms.mackerel import MackerelAdapter
from alertsync.platforms.mackerel.adapter import ALERTS_TTL, ChannelListing
from alertsync.platforms.mackerel.channels import channel_name
from alertsync.platforms.mackerel.groups import GROUPS_FIELD
from tests.support.accounts import platform_account
from tests.support.desired import Ask
from tests.support.transport import capped

BASE = "http://mackerel.test"
KEY = "adapter-read-write-key-3c9d1e7f"
READER = "adapter-read-only-key-8e2a6b40"
UID = "7b0e2c41-1a5d-4c8e-9f3b-2d6e8a000001"
NAME = "team-a prod alerts"
URL = "https://receiver.example.com/mackerel/team-a"
OTHER_URL = "https://elsewhere.example.com/hook"
MARKED = f"{NAME} [alertsync:team-a/prod-alerts]"
CHANNELS = "/api/v0/channels"
ONE = "/api/v0/channels/{id}"
GROUP = "/api/v0/notification-groups/{id}"
ALERTS = "/api/v0/alerts"


@pytest.fixture
def sim(clock: ManualClock) -> MackerelSimulator:
    return MackerelSimulator(keys={KEY: READ_WRITE, READER: READ_ONLY}, clock=clock, seed=3)


def make_adapter(sim: MackerelSimulator, key: str = KEY) -> MackerelAdapter:
    account = platform_account(BASE, key, ProductType.MACKEREL)
    built = build_adapter(account, transport=httpx.MockTransport(capped(sim.handle, 80)))
    assert isinstance(built, MackerelAdapter)
    return built


@pytest.fixture
async def adapter(sim: MackerelSimulator, clock: ManualClock) -> AsyncIterator[MackerelAdapter]:
    built = make_adapter(sim)
    built.clock = clock
    yield built
    await built.aclose()


# An AlertIntegration's ask; its `block` is spec.mackerel as a user writes it.
desired = Ask(MackerelSpec, uid=UID, name=NAME, url=URL)


def remote(sim: MackerelSimulator, id_: str | None) -> dict[str, Any]:
    assert id_ is not None
    found = sim.channel(id_)
    assert found is not None, f"{id_} is gone"
    return found


def group(sim: MackerelSimulator, group_id: str) -> dict[str, Any]:
    found = sim.notification_group(group_id)
    assert found is not None
    return found


def members(sim: MackerelSimulator, group_id: str) -> list[str]:
    found: list[str] = group(sim, group_id)["childChannelIds"]
    return found


# -- validate -------------------------------------------------------------------------------------


def test_validate_accepts_a_webhook_spec_or_none(adapter: MackerelAdapter) -> None:
    adapter.validate(desired({"events": ["alert"]}))
    adapter.validate(dataclasses.replace(desired(), block=None))


def test_validate_refuses_another_channel_type_naming_the_field(adapter: MackerelAdapter) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(desired({"type": "slack"}))
    assert caught.value.field == "spec.mackerel.type"
    assert "type: webhook" in caught.value.message


def test_validate_needs_the_webhook_url(adapter: MackerelAdapter) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(desired(url=None))
    assert caught.value.field == "spec.webhook.url"


def test_validate_refuses_another_platforms_block(adapter: MackerelAdapter) -> None:
    with pytest.raises(InvalidSpecError, match=r"spec\.mackerel"):
        adapter.validate(dataclasses.replace(desired(), block={"events": ["alert"]}))


# -- create and find -----------------------------------------------------------------------------


async def test_create_makes_a_marked_webhook_channel_in_the_default_group(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired({"events": ["alert", "alertGroup"]}))

    channel = remote(sim, created.external_id)
    assert channel == {
        "id": created.external_id,
        "name": MARKED,
        "type": "webhook",
        "suspendedAt": None,
        "url": URL,
        "enabledGraphImage": False,
        "events": ["alert", "alertGroup"],
    }
    assert created.external_id in members(sim, sim.default_group_id)
    assert (created.match, created.current_state) == (Match.ID, CurrentState.ENABLED)
    assert created.webhook_url == URL
    assert created.up_to_date, created.drifted_fields


async def test_without_events_in_the_spec_the_channel_takes_alerts(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    assert remote(sim, created.external_id)["events"] == ["alert"]


async def test_found_again_by_its_marked_name(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    sim.add_channel(NAME)  # a stranger's channel of the same display name
    found = await adapter.observe(desired())
    assert (found.match, found.external_id) == (Match.MARKER, created.external_id)
    want = desired()
    assert isinstance(want.block, MackerelSpec)
    assert channel_name(want.with_block(want.block)) == MARKED


async def test_without_the_suffix_the_name_is_exact_and_only_a_name_match(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired({"nameSuffix": False}))
    assert remote(sim, created.external_id)["name"] == NAME
    again = await adapter.observe(desired({"nameSuffix": False}, create_pending=True))
    # Our own create is recognised through the pending-create record, not a marker.
    assert (again.match, again.external_id) == (Match.NAME, created.external_id)
    assert again.up_to_date


async def test_a_strangers_channel_of_the_display_name_is_a_name_match_to_mark(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    theirs = sim.add_channel(NAME, url=URL)["id"]
    seen = await adapter.observe(desired())
    assert (seen.match, seen.external_id) == (Match.NAME, theirs)
    assert seen.drifted_fields == ("marker",)

    adopted = await adapter.update(desired(external_id=theirs), seen)
    assert adopted.external_id == theirs
    assert remote(sim, theirs)["name"] == MARKED


async def test_two_marked_channels_are_a_conflict(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    first = sim.add_channel(MARKED)["id"]
    second = sim.add_channel(MARKED)["id"]
    seen = await adapter.observe(desired())
    assert seen.match is Match.MARKER
    assert set(seen.conflicting_ids) == {first, second}
    assert seen.current_state is CurrentState.UNKNOWN


async def test_two_channels_of_the_display_name_are_a_conflict(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    ids = {sim.add_channel(NAME)["id"], sim.add_channel(NAME, type="email")["id"]}
    seen = await adapter.observe(desired({"nameSuffix": False}))
    assert (seen.match, set(seen.conflicting_ids)) == (Match.NAME, ids)


async def test_observe_never_writes_and_a_listing_sends_nothing(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    team = sim.add_notification_group("team")
    created = await adapter.create(desired({"notificationGroups": ["team"]}))
    sim.remove_from_group(team, remote(sim, created.external_id)["id"])
    sim.requests.clear()

    targeted = await adapter.observe(desired({"notificationGroups": ["team"]}))
    assert sim.requests.count("GET") == sim.requests.total == 2  # channels + groups

    listing = await adapter.list_all()
    assert isinstance(listing, ChannelListing)
    assert len(listing) == 1
    sim.requests.clear()
    listed = await adapter.observe(desired({"notificationGroups": ["team"]}), listing)
    assert sim.requests.total == 0
    assert listed == targeted
    assert GROUPS_FIELD in listed.drifted_fields


# -- drift: events, url, graph image, type -------------------------------------------------------


async def test_events_are_compared_as_a_set(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    spec = {"events": ["alert", "alertGroup"]}
    created = await adapter.create(desired(spec))
    id_ = created.external_id
    assert id_ is not None

    sim.set_events(id_, ["alertGroup", "alert"])  # the same set, in another order
    assert (await adapter.observe(desired(spec, external_id=id_))).up_to_date

    sim.set_events(id_, ["alert", "hostStatus"])
    seen = await adapter.observe(desired(spec, external_id=id_))
    assert seen.drifted_fields == ("mackerel.events",)

    repaired = await adapter.update(desired(spec, external_id=id_), seen)
    assert repaired.up_to_date
    assert repaired.external_id == id_
    assert set(remote(sim, id_)["events"]) == {"alert", "alertGroup"}


async def test_events_left_unset_are_not_compared(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    assert created.external_id is not None
    sim.set_events(created.external_id, ["hostStatus"])
    assert (await adapter.observe(desired(external_id=created.external_id))).up_to_date


async def test_a_changed_url_is_drift_repaired_in_place(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired({"enabledGraphImage": True}))
    id_ = created.external_id
    assert id_ is not None
    sim.set_url(id_, OTHER_URL)
    sim.requests.clear()

    seen = await adapter.observe(desired(external_id=id_))
    assert seen.drifted_fields == ("webhook.url",)
    assert seen.webhook_url == OTHER_URL
    repaired = await adapter.update(desired(external_id=id_), seen)

    assert repaired.webhook_url == URL
    assert repaired.external_id == id_
    # Unset in the spec now, so the full-replace PUT kept what the channel had.
    assert remote(sim, id_)["enabledGraphImage"] is True
    assert sim.requests.count("PUT", ONE) == 1
    assert sim.requests.count("PUT", GROUP) == 0


async def test_enabled_graph_image_is_compared_only_when_set(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id
    assert id_ is not None
    assert (await adapter.observe(desired(external_id=id_))).up_to_date
    seen = await adapter.observe(desired({"enabledGraphImage": True}, external_id=id_))
    assert seen.drifted_fields == ("mackerel.enabledGraphImage",)
    await adapter.update(desired({"enabledGraphImage": True}, external_id=id_), seen)
    assert remote(sim, id_)["enabledGraphImage"] is True


async def test_a_renamed_channel_is_display_name_drift(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    assert created.external_id is not None
    sim.patch_channel(created.external_id, name="someone's name")
    seen = await adapter.observe(desired(external_id=created.external_id))
    assert seen.drifted_fields == ("displayName",)


async def test_a_changed_type_is_recreated_keeping_group_memberships(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    extra = sim.add_notification_group("theirs")
    created = await adapter.create(desired())
    old = created.external_id
    assert old is not None
    sim.add_to_group(extra, old)
    sim.patch_channel(old, type="slack")

    seen = await adapter.observe(desired(external_id=old))
    assert "mackerel.type" in seen.drifted_fields
    assert seen.recreate_reason is not None
    assert "slack" in seen.recreate_reason
    assert "webhook" in seen.recreate_reason

    replaced = await adapter.update(desired(external_id=old), seen)
    new = replaced.external_id
    assert new is not None
    assert new != old
    assert sim.channel(old) is None
    assert remote(sim, new)["type"] == "webhook"
    assert members(sim, extra) == [new]
    assert new in members(sim, sim.default_group_id)
    assert replaced.up_to_date, replaced.drifted_fields


async def test_without_channel_put_an_update_is_delete_and_create_reported_once(
    adapter: MackerelAdapter, sim: MackerelSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    team = sim.add_notification_group("team")
    spec = {"notificationGroups": ["team"]}
    created = await adapter.create(desired(spec))
    old = created.external_id
    assert old is not None
    sim.channel_put = False
    sim.set_url(old, OTHER_URL)

    seen = await adapter.observe(desired(spec, external_id=old))
    with caplog.at_level(logging.WARNING, logger="alertsync.platforms.mackerel.adapter"):
        replaced = await adapter.update(desired(spec, external_id=old), seen)

    new = replaced.external_id
    assert new is not None
    assert new != old
    assert sim.channel(old) is None
    assert (remote(sim, new)["url"], members(sim, team)) == (URL, [new])
    assert replaced.up_to_date
    (record,) = [r for r in caplog.records if r.name == "alertsync.platforms.mackerel.adapter"]
    assert old in record.getMessage()
    assert new in record.getMessage()
    assert "404/405" in record.getMessage()

    # Remembered: the next update goes straight to delete + create, no PUT first.
    sim.set_url(new, OTHER_URL)
    sim.requests.clear()
    seen = await adapter.observe(desired(spec, external_id=new))
    again = await adapter.update(desired(spec, external_id=new), seen)
    assert sim.requests.count("PUT", ONE) == 0
    assert again.external_id not in (None, new)


async def test_a_channel_deleted_before_the_update_is_reported_absent(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    """Not created again here: the reconciler counts the deletion as drift, then creates."""
    created = await adapter.create(desired())
    assert created.external_id is not None
    sim.set_url(created.external_id, OTHER_URL)
    seen = await adapter.observe(desired(external_id=created.external_id))
    sim.remove_channel(created.external_id)
    again = await adapter.update(desired(external_id=created.external_id), seen)
    assert again.current_state is CurrentState.ABSENT
    assert [c for c in sim.channels() if c["type"] == "webhook"] == []


# -- notification groups -------------------------------------------------------------------------


async def test_groups_by_name_and_id_are_joined_without_touching_their_other_members(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    cpu = sim.add_monitor("cpu")
    child = sim.add_notification_group("child")
    someone = sim.add_channel("someone's", add_to_default_group=False)["id"]
    team = sim.add_notification_group(
        "team",
        notification_level="critical",
        channel_ids=[someone],
        monitors=[(cpu, True)],
        child_group_ids=[child],
        services=["checkout"],
    )
    ops = sim.add_notification_group("ops")
    before = group(sim, team)

    created = await adapter.create(desired({"notificationGroups": ["team", ops]}))
    id_ = created.external_id
    assert id_ is not None

    assert group(sim, team) == {**before, "childChannelIds": [someone, id_]}
    assert members(sim, ops) == [id_]
    # Groups named, the default not among them: the channel stays out of it.
    assert id_ not in members(sim, sim.default_group_id)
    assert created.up_to_date, created.drifted_fields


async def test_removed_from_its_group_is_drift_repaired_leaving_the_others_alone(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    cpu = sim.add_monitor("cpu")
    someone = sim.add_channel("someone's", add_to_default_group=False)["id"]
    team = sim.add_notification_group("team", channel_ids=[someone], monitors=[cpu])
    spec = {"notificationGroups": ["team"]}
    created = await adapter.create(desired(spec))
    id_ = created.external_id
    assert id_ is not None
    sim.remove_from_group(team, id_)
    sim.requests.clear()

    seen = await adapter.observe(desired(spec, external_id=id_))
    assert seen.drifted_fields == (GROUPS_FIELD,)
    repaired = await adapter.update(desired(spec, external_id=id_), seen)

    assert repaired.up_to_date
    assert members(sim, team) == [someone, id_]
    assert group(sim, team)["monitors"] == [{"id": cpu, "skipDefault": False}]
    assert sim.requests.count("PUT", ONE) == 0  # the channel itself was fine
    assert sim.requests.count("PUT", GROUP) == 1


async def test_removed_from_the_default_group_when_none_is_named(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    other = sim.add_channel("someone's")["id"]
    created = await adapter.create(desired())
    id_ = created.external_id
    assert id_ is not None
    sim.remove_from_group(sim.default_group_id, id_)
    seen = await adapter.observe(desired(external_id=id_))
    assert seen.drifted_fields == (GROUPS_FIELD,)
    await adapter.update(desired(external_id=id_), seen)
    assert members(sim, sim.default_group_id) == [other, id_]


async def test_an_empty_group_list_leaves_membership_alone(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired({"notificationGroups": []}))
    assert created.external_id not in members(sim, sim.default_group_id)
    assert created.up_to_date
    assert sim.requests.count("GET", "/api/v0/notification-groups") == 0


async def test_a_group_that_does_not_exist_stops_the_create_before_any_write(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        await adapter.create(desired({"notificationGroups": ["no such team"]}))
    assert caught.value.field == "spec.mackerel.notificationGroups"
    assert "'no such team'" in caught.value.message
    assert caught.value.permanent
    assert sim.channels() == []


async def test_a_group_deleted_later_is_drift_whose_repair_says_why(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    sim.add_notification_group("team")
    spec = {"notificationGroups": ["team"]}
    created = await adapter.create(desired(spec))
    id_ = created.external_id
    assert id_ is not None
    spec = {"notificationGroups": ["renamed team"]}

    seen = await adapter.observe(desired(spec, external_id=id_))  # observe does not raise
    assert GROUPS_FIELD in seen.drifted_fields
    with pytest.raises(InvalidSpecError, match="renamed team"):
        await adapter.update(desired(spec, external_id=id_), seen)


async def test_an_ambiguous_group_name_must_be_given_by_id(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    first = sim.add_notification_group("team")
    second = sim.add_notification_group("team")
    with pytest.raises(InvalidSpecError) as caught:
        await adapter.create(desired({"notificationGroups": ["team"]}))
    assert first in caught.value.message
    assert second in caught.value.message
    created = await adapter.create(desired({"notificationGroups": [second]}))
    assert members(sim, second) == [created.external_id]


# -- targetState and suspension -----------------------------------------------------------------


async def test_disabled_keeps_the_channel_and_its_id_with_no_events(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    spec = {"events": ["alert", "monitor"]}
    created = await adapter.create(desired(spec))
    id_ = created.external_id
    assert id_ is not None

    off = desired(spec, state=TargetState.DISABLED, external_id=id_)
    seen = await adapter.observe(off)
    assert seen.drifted_fields == ("targetState",)
    disabled = await adapter.update(off, seen)
    assert (disabled.external_id, disabled.current_state) == (id_, CurrentState.DISABLED)
    assert disabled.up_to_date
    assert remote(sim, id_)["events"] == []
    assert id_ in members(sim, sim.default_group_id)

    on = desired(spec, external_id=id_)
    seen = await adapter.observe(on)
    assert seen.drifted_fields == ("targetState",)
    enabled = await adapter.update(on, seen)
    assert (enabled.external_id, enabled.current_state) == (id_, CurrentState.ENABLED)
    assert set(remote(sim, id_)["events"]) == {"alert", "monitor"}


async def test_enabled_again_without_events_in_the_spec_takes_alerts(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired(state=TargetState.DISABLED))
    id_ = created.external_id
    assert created.current_state is CurrentState.DISABLED
    seen = await adapter.observe(desired(external_id=id_))
    await adapter.update(desired(external_id=id_), seen)
    assert remote(sim, id_)["events"] == ["alert"]


async def test_a_channel_mackerel_suspended_is_reported_not_repaired(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id
    assert id_ is not None
    sim.suspend(id_, at=1_800_000_000)

    seen = await adapter.observe(desired(external_id=id_))
    assert seen.current_state is CurrentState.DISABLED
    assert seen.state_reason is not None
    assert seen.state_reason.startswith("suspended by Mackerel at 2027-01-15T08:00:00Z")
    assert seen.up_to_date  # nothing for AlertSync to write
    assert seen.drifted_fields == ()

    # Asked to be disabled, a suspended channel is what was asked for: nothing held back.
    off = await adapter.observe(desired(state=TargetState.DISABLED, external_id=id_))
    assert off.current_state is CurrentState.DISABLED
    assert off.state_reason is None
    assert off.drifted_fields == ("targetState",)  # its events still go: empty them


async def test_a_suspended_channel_still_gets_real_drift_repaired(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id
    assert id_ is not None
    sim.suspend(id_)
    sim.set_url(id_, OTHER_URL)
    seen = await adapter.observe(desired(external_id=id_))
    assert seen.drifted_fields == ("webhook.url",)
    repaired = await adapter.update(desired(external_id=id_), seen)
    assert repaired.current_state is CurrentState.DISABLED  # still suspended
    assert remote(sim, id_)["suspendedAt"] is not None


# -- credentials ---------------------------------------------------------------------------------


async def test_a_read_only_key_observes_but_cannot_create(sim: MackerelSimulator) -> None:
    reader = make_adapter(sim, READER)
    try:
        assert not (await reader.observe(desired())).exists
        with pytest.raises(CredentialsError) as caught:
            await reader.create(desired())
    finally:
        await reader.aclose()
    assert "Write permission" in caught.value.message
    assert READER not in str(caught.value)
    assert sim.channels() == []


# -- open alerts ---------------------------------------------------------------------------------


async def test_open_alerts_counts_what_the_groups_route_to_the_channel(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    cpu, disk, memory = (sim.add_monitor(name) for name in ("cpu", "disk", "memory"))
    sim.add_notification_group("team", monitors=[cpu])
    sim.add_notification_group("quiet", monitors=[(memory, True)])
    created = await adapter.create(desired({"notificationGroups": ["team"]}))
    assert await adapter.open_alerts(desired(), created) == 0

    sim.open_alert(cpu, deliver=False)
    sim.open_alert(cpu, status="WARNING", deliver=False)
    closed = sim.open_alert(cpu, deliver=False)["id"]
    sim.close_alert(closed, deliver=False)
    sim.open_alert(disk, deliver=False)  # the default group's, not this channel's
    adapter.clock = lambda: 1e12  # past the cache
    assert await adapter.open_alerts(desired(), created) == 2


async def test_open_alerts_through_the_default_group_unless_skipped(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    cpu, disk = sim.add_monitor("cpu"), sim.add_monitor("disk")
    sim.add_notification_group("elsewhere", monitors=[(disk, True)])
    created = await adapter.create(desired({"notificationGroups": ["Default"]}))
    sim.open_alert(cpu, status="WARNING", deliver=False)  # the default group's: counted
    sim.open_alert(disk, deliver=False)  # skipDefault elsewhere: not counted
    assert await adapter.open_alerts(desired(), created) == 1


async def test_a_critical_group_counts_only_critical_alerts_and_passes_them_to_children(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    disk = sim.add_monitor("disk")
    child = sim.add_notification_group("child")
    sim.add_notification_group(
        "pager", notification_level="critical", monitors=[disk], child_group_ids=[child]
    )
    created = await adapter.create(desired({"notificationGroups": [child]}))
    sim.open_alert(disk, status="WARNING", deliver=False)
    sim.open_alert(disk, status="CRITICAL", deliver=False)
    assert await adapter.open_alerts(desired(), created) == 1


async def test_open_alerts_reads_every_page(
    adapter: MackerelAdapter, sim: MackerelSimulator, clock: ManualClock
) -> None:
    cpu = sim.add_monitor("cpu")
    created = await adapter.create(desired())
    for _ in range(230):
        clock.advance(1)
        sim.open_alert(cpu, deliver=False)
    sim.requests.clear()
    assert await adapter.open_alerts(desired(), created) == 230
    assert sim.requests.count("GET", ALERTS) == 3


async def test_one_alert_listing_serves_every_channel_of_a_resync(
    adapter: MackerelAdapter, sim: MackerelSimulator, clock: ManualClock
) -> None:
    cpu = sim.add_monitor("cpu")
    first = await adapter.create(desired())
    second = await adapter.create(desired(uid="other", name="other", resource="other"))
    sim.open_alert(cpu, deliver=False)
    sim.requests.clear()

    counts = [await adapter.open_alerts(desired(), obs) for obs in (first, second)]
    assert counts == [1, 1]
    assert sim.requests.count("GET", ALERTS) == 1

    sim.open_alert(cpu, deliver=False)
    clock.advance(ALERTS_TTL + 0.1)
    assert await adapter.open_alerts(desired(), first) == 2
    assert sim.requests.count("GET", ALERTS) == 2


async def test_concurrent_counts_share_one_fetch(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    sim.open_alert(sim.add_monitor("cpu"), deliver=False)
    sim.requests.clear()
    counts = await asyncio.gather(*(adapter.open_alerts(desired(), created) for _ in range(5)))
    assert counts == [1] * 5
    assert sim.requests.count("GET", ALERTS) == 1


async def test_open_alerts_without_an_id_is_none(adapter: MackerelAdapter) -> None:
    assert await adapter.open_alerts(desired(), await adapter.observe(desired())) is None


# -- close on delete -------------------------------------------------------------------------------


async def test_before_delete_does_nothing_unless_asked(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    sim.open_alert(sim.add_monitor("cpu"), deliver=False)
    sim.requests.clear()
    assert await adapter.before_delete(desired(), str(created.external_id)) is None
    assert sim.requests.total == 0
    assert len(sim.alerts()) == 1


async def test_before_delete_closes_only_the_alerts_no_other_channel_reports(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    ours_only, shared, shared_with_suspended, shared_with_muted = (
        sim.add_monitor(name) for name in ("ours", "shared", "suspended", "muted")
    )
    spec = {"notificationGroups": ["team"], "closeOpenAlertsOnDelete": True}
    other = sim.add_channel("other", add_to_default_group=False)["id"]
    suspended = sim.add_channel("suspended", add_to_default_group=False)["id"]
    sim.suspend(suspended)
    muted = sim.add_channel("muted", add_to_default_group=False, events=["hostStatus"])["id"]
    sim.add_notification_group("team", monitors=[ours_only])
    sim.add_notification_group("shared", channel_ids=[other], monitors=[shared])
    sim.add_notification_group("s", channel_ids=[suspended], monitors=[shared_with_suspended])
    sim.add_notification_group("m", channel_ids=[muted], monitors=[shared_with_muted])
    created = await adapter.create(desired(spec))
    id_ = str(created.external_id)
    for gid in [g["id"] for g in sim.notification_groups() if g["name"] in ("shared", "s", "m")]:
        sim.add_to_group(gid, id_)
    mine = sim.open_alert(ours_only, deliver=False)["id"]
    kept = sim.open_alert(shared, deliver=False)["id"]
    closed_too = sim.open_alert(shared_with_suspended, deliver=False)["id"]
    muted_alert = sim.open_alert(shared_with_muted, deliver=False)["id"]
    unrelated = sim.open_alert(sim.add_monitor("unrelated"), deliver=False)["id"]

    line = await adapter.before_delete(desired(spec), id_)

    still_open = {alert["id"] for alert in sim.alerts()}
    assert still_open == {kept, unrelated}
    closed = sim.alert(mine)
    assert closed is not None
    assert "AlertSync" in closed["reason"]
    assert id_ in closed["reason"]
    assert "team-a/prod-alerts" in closed["reason"]
    assert line is not None
    assert line.startswith(f"closed 3 open alert(s) that only channel {id_}")
    for alert_id in (mine, closed_too, muted_alert):
        assert alert_id in line


async def test_before_delete_with_nothing_to_close_says_so(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    spec = {"closeOpenAlertsOnDelete": True}
    created = await adapter.create(desired(spec))
    line = await adapter.before_delete(desired(spec), str(created.external_id))
    assert line is not None
    assert line.startswith("no open alert")


async def test_a_404_put_for_a_channel_deleted_meanwhile_is_not_taken_for_a_missing_put(
    adapter: MackerelAdapter, sim: MackerelSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id
    assert id_ is not None
    sim.set_url(id_, OTHER_URL)
    seen = await adapter.observe(desired(external_id=id_))

    async def vanish_then_put(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            sim.remove_channel(id_)
        return await sim.handle(request)

    racing = make_adapter(sim)
    await racing.client.http.client.aclose()
    racing.client.http.client = httpx.AsyncClient(transport=httpx.MockTransport(vanish_then_put))
    try:
        again = await racing.update(desired(external_id=id_), seen)
    finally:
        await racing.aclose()
    assert again.current_state is CurrentState.ABSENT
    assert not racing.channel_put_missing


async def test_channels_created_at_once_into_one_group_all_stay_members(
    sim: MackerelSimulator,
) -> None:
    group = sim.add_notification_group("ops")

    async def interleaving(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let the other creates run between every request
        return await sim.handle(request)

    account = platform_account(BASE, KEY, ProductType.MACKEREL)
    adapter = build_adapter(account, transport=httpx.MockTransport(interleaving))
    try:
        made = await asyncio.gather(
            *(
                adapter.create(
                    desired(
                        {"notificationGroups": ["ops"]},
                        uid=f"uid-{number}",
                        name=f"channel {number}",
                        resource=f"r{number}",
                    )
                )
                for number in range(4)
            )
        )
    finally:
        await adapter.aclose()
    members = (sim.notification_group(group) or {})["childChannelIds"]
    assert sorted(members) == sorted(str(obs.external_id) for obs in made)


@pytest.mark.parametrize("gone", ["another", "ours"])
async def test_a_channel_deleted_while_a_group_is_joined_is_not_a_permanent_error(
    sim: MackerelSimulator, gone: str
) -> None:
    """Mackerel refuses a group naming a channel that is gone (400): read again, not Stalled."""
    ops = sim.add_notification_group("ops")
    other = sim.add_channel("someone's", add_to_default_group=False)["id"]
    sim.add_to_group(ops, other)
    joined: list[str] = []

    async def vanish_before_the_put(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and "/notification-groups/" in request.url.path and not joined:
            created = sim.channels()[-1]["id"]
            joined.append(created)
            sim.remove_channel(other if gone == "another" else created)
        return await sim.handle(request)

    account = platform_account(BASE, KEY, ProductType.MACKEREL)
    adapter = build_adapter(account, transport=httpx.MockTransport(vanish_before_the_put))
    try:
        if gone == "another":
            made = await adapter.create(desired({"notificationGroups": ["ops"]}))
            assert made.up_to_date, made.drifted_fields
            assert members(sim, ops) == [made.external_id]
        else:
            with pytest.raises(PlatformUnavailableError, match="created again"):
                await adapter.create(desired({"notificationGroups": ["ops"]}))  # retried
            assert members(sim, ops) == [other]
    finally:
        await adapter.aclose()
