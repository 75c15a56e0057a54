"""GrafanaOnCallAdapter: how integrations are found, compared, repaired, disabled.

Against the OnCall simulator in process; "behind our back" changes use the simulator's
own methods, which skip the API (and its request log).
"""

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsync.errors import InvalidSpecError, PlatformRejectedError
from alertsync.models import (
    CurrentState,
    GrafanaOnCallSpec,
    TargetState,
)
from alertsync.platforms import build_adapter
from alertsync.platforms.base import Match, marker
from alertsync.platforms.grafana_oncall import GrafanaOnCallAdapter
from alertsync.platforms.grafana_oncall.wire import OnCallIntegration, OnCallRoute
from tests.support.accounts import platform_account
from tests.support.desired import Ask
from tests.support.transport import capped

BASE = "http://oncall.test"
TOKEN = "adapter-admin-token-6a0e4b7d"
TEAM_A = "TAAAAAAAAAAAA"
TEAM_B = "TBBBBBBBBBBBB"
UID = "0f6c1a52-7d0e-4f0b-9d1e-3c2b1a000001"
OTHER_UID = "0f6c1a52-7d0e-4f0b-9d1e-3c2b1a000002"
NAME = "team-a prod alerts"
INTEGRATIONS = "/api/v1/integrations/"
ONE = "/api/v1/integrations/{id}/"
MAINTENANCE_START = "/api/v1/integrations/{id}/maintenance_start/"
MAINTENANCE_STOP = "/api/v1/integrations/{id}/maintenance_stop/"
DAY = 24 * 3600.0


# The drifted-field name of targetState (maintenance on or off).
STATE = "targetState"


@pytest.fixture
def sim(clock: ManualClock) -> GrafanaOnCallSimulator:
    return GrafanaOnCallSimulator(
        tokens={TOKEN: "admin"}, teams={TEAM_A, TEAM_B}, base_url=BASE, clock=clock, seed=3
    )


@pytest.fixture
def chains(sim: GrafanaOnCallSimulator) -> tuple[str, str]:
    return sim.add_escalation_chain("primary", TEAM_A), sim.add_escalation_chain("backup", TEAM_A)


@pytest.fixture
async def adapter(sim: GrafanaOnCallSimulator) -> AsyncIterator[GrafanaOnCallAdapter]:
    account = platform_account(BASE, TOKEN)
    built = build_adapter(account, transport=httpx.MockTransport(capped(sim.handle, 60)))
    assert isinstance(built, GrafanaOnCallAdapter)
    yield built
    await built.aclose()


# An AlertIntegration's ask; its `block` is spec.grafanaOnCall as a user writes it.
desired = Ask(GrafanaOnCallSpec, uid=UID, name=NAME)


def full_block(chain: str) -> dict[str, Any]:
    return {
        "type": "webhook",
        "teamId": TEAM_A,
        "escalationChainId": chain,
        "templates": {
            "groupingKey": "{{ payload.labels.alertname }}",
            "slack": {"title": "{{ payload.title }}"},
            "web": {"imageUrl": "{{ payload.image }}"},
        },
    }


def remote(sim: GrafanaOnCallSimulator, id_: str | None) -> dict[str, Any]:
    assert id_ is not None
    found = sim.get(id_)
    assert found is not None, f"{id_} is gone"
    return found


# -- validate ----------------------------------------------------------------------------------


def test_validate_accepts_a_spec_block_or_none(adapter: GrafanaOnCallAdapter) -> None:
    adapter.validate(desired({"type": "alertmanager"}))
    adapter.validate(dataclasses.replace(desired(), block=None))


@pytest.mark.parametrize("block", [{"type": "webhook"}, "webhook", 42])
def test_validate_refuses_a_block_of_the_wrong_type(
    adapter: GrafanaOnCallAdapter, block: object
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(dataclasses.replace(desired(), block=block))
    assert caught.value.field == "spec.grafanaOnCall"
    assert caught.value.permanent


def test_validate_refuses_names_oncall_cannot_store(adapter: GrafanaOnCallAdapter) -> None:
    adapter.validate(desired(name="n" * 150))
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(desired(name="n" * 151))
    assert caught.value.field == "spec.displayName"


# -- create -------------------------------------------------------------------------------------


async def test_create_writes_the_marker_and_everything_the_spec_sets(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, chains: tuple[str, str]
) -> None:
    created = await adapter.create(desired(full_block(chains[0])))

    assert created.match is Match.ID
    assert created.up_to_date, created.drifted_fields
    assert created.current_state is CurrentState.ENABLED
    found = remote(sim, created.external_id)
    assert found["description_short"] == marker(UID) == f"managed-by=alertsync uid={UID}"
    assert (found["name"], found["type"], found["team_id"]) == (NAME, "webhook", TEAM_A)
    assert found["default_route"]["escalation_chain_id"] == chains[0]
    assert found["templates"]["grouping_key"] == "{{ payload.labels.alertname }}"
    assert found["templates"]["slack"] == {
        "title": "{{ payload.title }}",
        "message": None,
        "image_url": None,
    }
    assert found["templates"]["web"]["image_url"] == "{{ payload.image }}"
    assert found["maintenance_mode"] is None
    assert created.webhook_url == found["link"]
    assert sim.requests.count("POST", INTEGRATIONS) == 1


async def test_create_with_no_block_makes_a_webhook_integration(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(dataclasses.replace(desired(), block=None))
    found = remote(sim, created.external_id)
    assert found["type"] == "webhook"
    assert found["description_short"] == marker(UID)
    assert created.up_to_date


async def test_create_over_a_foreign_name_is_refused_by_the_platform(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    sim.add_integration(name=NAME)
    with pytest.raises(PlatformRejectedError, match="already exists"):
        await adapter.create(desired())


# -- observe: finding the integration -------------------------------------------------------------


async def test_observe_by_stored_id_is_one_read(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(desired())
    sim.requests.clear()

    seen = await adapter.observe(desired(external_id=created.external_id))

    assert seen.match is Match.ID
    assert seen.external_id == created.external_id
    assert seen.up_to_date
    assert seen.webhook_url == created.webhook_url
    assert sim.requests.snapshot() == {f"GET {ONE}": 1}


async def test_observe_by_stored_id_finds_a_renamed_integration(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(desired())
    assert created.external_id is not None
    sim.rename(created.external_id, "renamed by hand")

    seen = await adapter.observe(desired(external_id=created.external_id))

    assert seen.match is Match.ID
    assert seen.drifted_fields == ("displayName",)


async def test_observe_without_id_finds_ours_by_marker(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    sim.add_integration(name="unrelated")
    ours = sim.add_integration(name=NAME, description_short=marker(UID))

    seen = await adapter.observe(desired())

    assert seen.match is Match.MARKER
    assert seen.external_id == ours["id"]
    assert seen.up_to_date
    assert sim.requests.snapshot() == {f"GET {INTEGRATIONS}": 1}


async def test_observe_without_id_finds_a_renamed_integration_by_marker(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    # Our create went through but its id was never recorded, and someone renamed it since.
    ours = sim.add_integration(name="renamed by hand", description_short=marker(UID))

    with_listing = await adapter.observe(desired(), await adapter.list_all())
    assert (with_listing.match, with_listing.external_id) == (Match.MARKER, ours["id"])
    assert with_listing.drifted_fields == ("displayName",)

    # While the create is pending, the targeted read must find it too, or the
    # reconciler creates a duplicate.
    assert await adapter.observe(desired(create_pending=True)) == with_listing
    # Without a pending create, no full listing is paid for on every new object.
    sim.requests.clear()
    assert not (await adapter.observe(desired())).exists
    assert sim.requests.total == 1


async def test_observe_finds_a_foreign_integration_by_name(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    foreign = sim.add_integration(name=NAME, description_short="made by hand")

    seen = await adapter.observe(desired())

    assert seen.match is Match.NAME
    assert seen.external_id == foreign["id"]
    assert seen.drifted_fields == ("marker",)
    assert seen.conflicting_ids == ()


async def test_a_marker_of_another_resource_is_only_a_name_match(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    theirs = sim.add_integration(name=NAME, description_short=marker(OTHER_UID))
    seen = await adapter.observe(desired())
    assert seen.match is Match.NAME
    assert seen.external_id == theirs["id"]
    assert "marker" in seen.drifted_fields


async def test_two_foreign_integrations_of_the_name_conflict(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    first = sim.add_integration(name=NAME)
    second = sim.add_integration(name=NAME)

    seen = await adapter.observe(desired())

    assert seen.match is Match.NAME
    assert seen.conflicting_ids == (first["id"], second["id"])
    assert seen.current_state is CurrentState.UNKNOWN
    assert seen.external_id is None


async def test_our_marker_wins_over_foreign_namesakes(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    sim.add_integration(name=NAME)
    ours = sim.add_integration(name=NAME, description_short=marker(UID))
    sim.add_integration(name=NAME)

    seen = await adapter.observe(desired())

    assert (seen.match, seen.external_id, seen.conflicting_ids) == (Match.MARKER, ours["id"], ())


async def test_a_namesake_in_another_team_is_not_ours(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    sim.add_integration(name=NAME, team_id=TEAM_B)
    mine = sim.add_integration(name=NAME, team_id=TEAM_A)

    assert (await adapter.observe(desired({"teamId": TEAM_B}))).match is Match.NAME
    seen = await adapter.observe(desired({"teamId": TEAM_A}))
    assert (seen.match, seen.external_id, seen.conflicting_ids) == (Match.NAME, mine["id"], ())

    sim.remove(mine["id"])
    assert not (await adapter.observe(desired({"teamId": TEAM_A}))).exists


async def test_observe_of_nothing_is_absent(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    sim.add_integration(name=f"{NAME} (old)")
    seen = await adapter.observe(desired())
    assert not seen.exists
    assert seen.match is Match.NONE
    assert seen.current_state is CurrentState.ABSENT
    assert seen.external_id is None


async def test_a_stored_id_that_is_gone_is_absent(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(desired())
    assert created.external_id is not None
    sim.remove(created.external_id)
    sim.requests.clear()

    seen = await adapter.observe(desired(external_id=created.external_id))

    assert not seen.exists
    # The id is gone: then marker and name, with one filtered listing.
    assert sim.requests.snapshot() == {f"GET {ONE}": 1, f"GET {INTEGRATIONS}": 1}


async def test_observe_never_writes(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, clock: ManualClock
) -> None:
    created = await adapter.create(desired(state=TargetState.DISABLED))
    assert created.external_id is not None
    sim.rename(created.external_id, "drifted")
    clock.advance(100 * DAY)
    sim.requests.clear()

    await adapter.observe(desired(external_id=created.external_id))
    await adapter.observe(desired())
    await adapter.observe(desired(uid=OTHER_UID, name="nothing"))

    assert sim.requests.count("GET") == sim.requests.total


# -- observe: drift --------------------------------------------------------------------------------

Change = Callable[[GrafanaOnCallSimulator, str, tuple[str, str]], None]

DRIFTS: dict[str, tuple[Change, str]] = {
    "name": (lambda s, i, c: s.rename(i, "renamed by hand"), "displayName"),
    "marker": (lambda s, i, c: s.patch(i, description_short="mine now"), "marker"),
    "marker-cleared": (lambda s, i, c: s.patch(i, description_short=None), "marker"),
    "team": (lambda s, i, c: s.patch(i, team_id=TEAM_B), "grafanaOnCall.teamId"),
    "team-cleared": (lambda s, i, c: s.patch(i, team_id=None), "grafanaOnCall.teamId"),
    "chain": (
        lambda s, i, c: s.patch(i, escalation_chain_id=c[1]),
        "grafanaOnCall.escalationChainId",
    ),
    "chain-cleared": (
        lambda s, i, c: s.patch(i, escalation_chain_id=None),
        "grafanaOnCall.escalationChainId",
    ),
    "grouping-key": (
        lambda s, i, c: s.set_template(i, "grouping_key", "{{ payload.id }}"),
        "grafanaOnCall.templates.groupingKey",
    ),
    "grouping-key-reset": (
        lambda s, i, c: s.set_template(i, "grouping_key", None),
        "grafanaOnCall.templates.groupingKey",
    ),
    "slack-title": (
        lambda s, i, c: s.set_template(i, "slack.title", "hand-written"),
        "grafanaOnCall.templates.slack.title",
    ),
    "web-image-url": (
        lambda s, i, c: s.set_template(i, "web.image_url", None),
        "grafanaOnCall.templates.web.imageUrl",
    ),
}


@pytest.mark.parametrize("change", DRIFTS.values(), ids=DRIFTS.keys())
async def test_each_drift_checked_field_is_reported(
    adapter: GrafanaOnCallAdapter,
    sim: GrafanaOnCallSimulator,
    chains: tuple[str, str],
    change: tuple[Change, str],
) -> None:
    mutate, field = change
    spec = desired(full_block(chains[0]))
    created = await adapter.create(spec)
    assert created.external_id is not None
    mutate(sim, created.external_id, chains)

    seen = await adapter.observe(dataclasses.replace(spec, external_id=created.external_id))

    assert seen.drifted_fields == (field,)
    assert seen.recreate_reason is None
    assert not seen.up_to_date
    assert seen.current_state is CurrentState.ENABLED
    assert seen.external_id == created.external_id
    # Found by marker as well, with the same verdict (unless what drifted is how it is found).
    if field not in ("marker", "displayName"):
        assert (await adapter.observe(spec)).drifted_fields == (field,)


@pytest.mark.parametrize("change", DRIFTS.values(), ids=DRIFTS.keys())
async def test_each_drift_checked_field_is_repaired(
    adapter: GrafanaOnCallAdapter,
    sim: GrafanaOnCallSimulator,
    chains: tuple[str, str],
    change: tuple[Change, str],
) -> None:
    mutate, _ = change
    spec = desired(full_block(chains[0]))
    created = await adapter.create(spec)
    assert created.external_id is not None
    before = remote(sim, created.external_id)
    mutate(sim, created.external_id, chains)
    spec = dataclasses.replace(spec, external_id=created.external_id)
    seen = await adapter.observe(spec)

    repaired = await adapter.update(spec, seen)

    assert repaired.up_to_date, repaired.drifted_fields
    assert repaired.external_id == created.external_id
    assert remote(sim, created.external_id) == before
    assert sim.requests.count("PUT", ONE) >= 1
    assert (await adapter.observe(spec)).up_to_date


@pytest.mark.parametrize(
    "template",
    ["slack.message", "slack.image_url", "telegram.title", "resolve_signal", "email.title"],
)
async def test_templates_the_spec_does_not_set_are_not_drift(
    adapter: GrafanaOnCallAdapter,
    sim: GrafanaOnCallSimulator,
    chains: tuple[str, str],
    template: str,
) -> None:
    spec = desired(full_block(chains[0]))
    created = await adapter.create(spec)
    assert created.external_id is not None
    sim.set_template(created.external_id, template, "{{ payload.someone_elses }}")

    seen = await adapter.observe(dataclasses.replace(spec, external_id=created.external_id))

    assert seen.up_to_date, seen.drifted_fields


async def test_fields_the_spec_leaves_unset_are_not_drift(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, chains: tuple[str, str]
) -> None:
    created = await adapter.create(desired())  # no team, chain or templates in the spec
    assert created.external_id is not None
    sim.patch(created.external_id, escalation_chain_id=chains[0], team_id=TEAM_B)
    sim.set_template(created.external_id, "grouping_key", "{{ payload.x }}")

    seen = await adapter.observe(desired(external_id=created.external_id))

    assert seen.up_to_date, seen.drifted_fields


async def test_server_owned_fields_are_never_drift(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, chains: tuple[str, str]
) -> None:
    spec = desired(full_block(chains[0]))
    created = await adapter.create(spec)
    listing = await adapter.list_all()
    [item] = listing
    assert isinstance(item, OnCallIntegration)
    assert item.default_route is not None
    changed = item.model_copy(
        update={
            "link": f"{BASE}/integrations/v1/webhook/somethingelse/",
            "default_route": OnCallRoute(id="RCHANGED12345", escalation_chain_id=chains[0]),
            "maintenance_end_at": "2030-01-01T00:00:00Z",
        }
    )

    seen = await adapter.observe(
        dataclasses.replace(spec, external_id=created.external_id), listing=[changed]
    )

    assert seen.up_to_date, seen.drifted_fields
    assert seen.webhook_url == f"{BASE}/integrations/v1/webhook/somethingelse/"


async def test_several_drifts_are_reported_together_and_repaired_in_one_put(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, chains: tuple[str, str]
) -> None:
    spec = desired(full_block(chains[0]))
    created = await adapter.create(spec)
    id_ = created.external_id
    assert id_ is not None
    sim.rename(id_, "other")
    sim.set_template(id_, "slack.title", "x")
    sim.patch(id_, escalation_chain_id=None)
    spec = dataclasses.replace(spec, external_id=id_)

    seen = await adapter.observe(spec)
    assert set(seen.drifted_fields) == {
        "displayName",
        "grafanaOnCall.escalationChainId",
        "grafanaOnCall.templates.slack.title",
    }
    sim.requests.clear()

    assert (await adapter.update(spec, seen)).up_to_date
    assert sim.requests.count("PUT", ONE) == 1


async def test_repair_leaves_what_we_do_not_own_alone(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, chains: tuple[str, str]
) -> None:
    spec = desired(full_block(chains[0]))
    created = await adapter.create(spec)
    id_ = created.external_id
    assert id_ is not None
    sim.set_template(id_, "slack.message", "kept")
    sim.rename(id_, "other")
    spec = dataclasses.replace(spec, external_id=id_)

    await adapter.update(spec, await adapter.observe(spec))

    found = remote(sim, id_)
    assert found["name"] == NAME
    assert found["templates"]["slack"]["message"] == "kept"
    assert found["link"] == created.webhook_url


async def test_adopting_a_foreign_integration_writes_our_marker(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    foreign = sim.add_integration(name=NAME)
    seen = await adapter.observe(desired())
    assert seen.match is Match.NAME

    adopted = await adapter.update(desired(), seen)

    assert adopted.external_id == foreign["id"]
    assert adopted.up_to_date
    assert remote(sim, foreign["id"])["description_short"] == marker(UID)
    assert (await adapter.observe(desired())).match is Match.MARKER


# -- type: create-only -----------------------------------------------------------------------------


async def test_a_type_change_is_repaired_by_delete_and_create(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, chains: tuple[str, str]
) -> None:
    spec = desired(full_block(chains[0]))
    created = await adapter.create(spec)
    old = created.external_id
    assert old is not None
    sim.patch(old, type="alertmanager")
    spec = dataclasses.replace(spec, external_id=old)

    seen = await adapter.observe(spec)

    assert seen.drifted_fields == ("grafanaOnCall.type",)
    assert seen.recreate_reason is not None
    assert "alertmanager" in seen.recreate_reason
    assert "webhook" in seen.recreate_reason
    assert not seen.up_to_date

    repaired = await adapter.update(spec, seen)

    assert repaired.external_id not in (None, old)
    assert repaired.up_to_date, repaired.drifted_fields
    assert repaired.match is Match.ID
    assert sim.get(old) is None
    assert [item["id"] for item in sim.integrations()] == [repaired.external_id]
    new = remote(sim, repaired.external_id)
    assert (new["type"], new["name"], new["description_short"]) == ("webhook", NAME, marker(UID))
    assert new["default_route"]["escalation_chain_id"] == chains[0]
    assert repaired.webhook_url == new["link"] != created.webhook_url
    assert sim.requests.count("PUT", ONE) == 0


async def test_a_type_change_in_the_spec_also_recreates(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(desired({"type": "webhook"}))
    spec = desired({"type": "alertmanager"}, external_id=created.external_id)

    seen = await adapter.observe(spec)
    assert seen.recreate_reason is not None
    repaired = await adapter.update(spec, seen)

    assert repaired.external_id != created.external_id
    assert remote(sim, repaired.external_id)["type"] == "alertmanager"
    assert len(sim.integrations()) == 1


async def test_recreating_a_disabled_integration_keeps_it_disabled(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    spec = desired({"type": "manual"}, state=TargetState.DISABLED)
    created = await adapter.create(spec)
    assert created.external_id is not None
    sim.patch(created.external_id, type="webhook")
    spec = dataclasses.replace(spec, external_id=created.external_id)

    repaired = await adapter.update(spec, await adapter.observe(spec))

    assert repaired.current_state is CurrentState.DISABLED
    assert repaired.up_to_date
    assert remote(sim, repaired.external_id)["maintenance_mode"] == "debug"


# -- targetState -----------------------------------------------------------------------------------


async def test_create_disabled_puts_the_integration_in_debug_maintenance(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, clock: ManualClock
) -> None:
    created = await adapter.create(desired(state=TargetState.DISABLED))

    assert created.current_state is CurrentState.DISABLED
    assert created.up_to_date, created.drifted_fields
    found = remote(sim, created.external_id)
    assert found["maintenance_mode"] == "debug"
    assert found["link"] == created.webhook_url is not None  # the link stays usable
    # Long enough that re-arming is rare.
    clock.advance(60 * DAY)
    assert remote(sim, created.external_id)["maintenance_mode"] == "debug"


async def test_enabling_again_stops_maintenance_without_a_put(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(desired(state=TargetState.DISABLED))
    spec = desired(external_id=created.external_id)
    sim.requests.clear()

    seen = await adapter.observe(spec)
    assert seen.drifted_fields == (STATE,)
    assert seen.current_state is CurrentState.DISABLED

    enabled = await adapter.update(spec, seen)

    assert enabled.current_state is CurrentState.ENABLED
    assert enabled.up_to_date
    assert remote(sim, created.external_id)["maintenance_mode"] is None
    assert sim.requests.count("POST", MAINTENANCE_STOP) == 1
    assert sim.requests.count("PUT") == 0


async def test_disabling_an_enabled_integration_starts_maintenance(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(desired())
    spec = desired(state=TargetState.DISABLED, external_id=created.external_id)

    seen = await adapter.observe(spec)
    assert seen.drifted_fields == (STATE,)
    assert seen.current_state is CurrentState.ENABLED

    disabled = await adapter.update(spec, seen)

    assert disabled.current_state is CurrentState.DISABLED
    assert disabled.up_to_date
    assert remote(sim, created.external_id)["maintenance_mode"] == "debug"
    assert sim.requests.count("PUT") == 0


async def test_lapsed_maintenance_is_state_drift_and_is_re_armed(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, clock: ManualClock
) -> None:
    spec = desired(state=TargetState.DISABLED)
    created = await adapter.create(spec)
    spec = dataclasses.replace(spec, external_id=created.external_id)
    clock.advance(91 * DAY)

    seen = await adapter.observe(spec)

    assert seen.drifted_fields == (STATE,)
    assert seen.current_state is CurrentState.ENABLED
    rearmed = await adapter.update(spec, seen)
    assert rearmed.current_state is CurrentState.DISABLED
    assert rearmed.up_to_date
    assert remote(sim, created.external_id)["maintenance_mode"] == "debug"


async def test_maintenance_started_by_someone_else_counts_as_disabled(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(desired())
    assert created.external_id is not None
    sim.start_maintenance(created.external_id, "maintenance", 3600)

    disabled = desired(state=TargetState.DISABLED, external_id=created.external_id)
    assert (await adapter.observe(disabled)).up_to_date
    enabled = desired(external_id=created.external_id)
    seen = await adapter.observe(enabled)
    assert (seen.current_state, seen.drifted_fields) == (CurrentState.DISABLED, (STATE,))


async def test_disabling_what_is_already_in_maintenance_is_success(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(desired())
    assert created.external_id is not None
    spec = desired(state=TargetState.DISABLED, external_id=created.external_id)
    stale = await adapter.observe(spec)  # says enabled
    sim.start_maintenance(created.external_id, "debug", 3600)  # meanwhile, someone else

    result = await adapter.update(spec, stale)  # "Already on maintenance" is what we want

    assert result.current_state is CurrentState.DISABLED
    assert result.up_to_date


# -- the batched resync: one listing, no further requests ------------------------------------------


async def test_list_all_returns_every_integration(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    for number in range(120):
        sim.add_integration(name=f"integration {number}")
    listing = await adapter.list_all()
    assert [item.id for item in listing] == [item["id"] for item in sim.integrations()]


async def test_observe_with_a_listing_makes_no_request(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, clock: ManualClock
) -> None:
    by_id = await adapter.create(desired(uid="uid-by-id", name="by id"))
    by_marker = await adapter.create(
        desired(uid="uid-by-marker", name="by marker", state=TargetState.DISABLED)
    )
    foreign = sim.add_integration(name="by name")
    sim.add_integration(name="twice")
    sim.add_integration(name="twice")
    assert by_id.external_id is not None
    sim.rename(by_id.external_id, "renamed")
    clock.advance(91 * DAY)  # by marker's maintenance lapses

    listing = await adapter.list_all()
    sim.requests.clear()

    seen_by_id = await adapter.observe(
        desired(uid="uid-by-id", name="by id", external_id=by_id.external_id), listing
    )
    seen_by_marker = await adapter.observe(
        desired(uid="uid-by-marker", name="by marker", state=TargetState.DISABLED), listing
    )
    seen_by_name = await adapter.observe(desired(uid="uid-c", name="by name"), listing)
    seen_twice = await adapter.observe(desired(uid="uid-d", name="twice"), listing)
    seen_absent = await adapter.observe(
        desired(uid="uid-e", name="absent", external_id="CGONEGONEGONE"), listing
    )

    assert sim.requests.total == 0
    assert (seen_by_id.match, seen_by_id.drifted_fields) == (Match.ID, ("displayName",))
    assert (seen_by_marker.match, seen_by_marker.external_id) == (
        Match.MARKER,
        by_marker.external_id,
    )
    assert seen_by_marker.drifted_fields == (STATE,)
    assert (seen_by_name.match, seen_by_name.external_id) == (Match.NAME, foreign["id"])
    assert len(seen_twice.conflicting_ids) == 2
    assert not seen_absent.exists


async def test_observe_with_and_without_a_listing_agree(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator, chains: tuple[str, str]
) -> None:
    spec = desired(full_block(chains[0]))
    created = await adapter.create(spec)
    assert created.external_id is not None
    sim.set_template(created.external_id, "slack.title", "drifted")
    with_id = dataclasses.replace(spec, external_id=created.external_id)

    listing = await adapter.list_all()
    for variant in (spec, with_id):
        assert await adapter.observe(variant, listing) == await adapter.observe(variant)


# -- check and delete ------------------------------------------------------------------------------


async def test_check_is_one_small_read(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    await adapter.check()
    assert sim.requests.snapshot() == {f"GET {INTEGRATIONS}": 1}


async def test_delete_removes_and_a_second_delete_is_fine(
    adapter: GrafanaOnCallAdapter, sim: GrafanaOnCallSimulator
) -> None:
    created = await adapter.create(desired(state=TargetState.DISABLED))
    assert created.external_id is not None
    await adapter.delete(created.external_id)
    assert sim.get(created.external_id) is None
    await adapter.delete(created.external_id)
    assert not (await adapter.observe(desired(external_id=created.external_id))).exists
