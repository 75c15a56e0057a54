"""ILertAdapter: how alert sources are found, compared, repaired, recreated; open alerts.

Against the iLert simulator in process; "behind our back" changes use the simulator's own
methods, which skip the API (and its request log).
"""

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from alertsim.core import ManualClock
from alertsim.ilert import ILertSimulator
from alertsync.errors import CredentialsError, InvalidSpecError
from alertsync.models import CurrentState, ILertSpec, ProductType, TargetState
from alertsync.platforms import build_adapter
from alertsync.platforms.base import Match, Observation
from alertsync.platforms.ilert import ILertAdapter
from alertsync.platforms.ilert.adapter import OPEN_ALERTS_SECONDS
from alertsync.redaction import redact
from tests.support.accounts import platform_account
from tests.support.desired import Ask
from tests.support.transport import capped

BASE = "http://ilert.test"
KEY = "adapter-admin-key-2f7b9d1c"
STAKEHOLDER = "adapter-stakeholder-key-8e4a6c03"
UID = "9b2e4c71-1d3f-4a5b-8c7d-6e5f4a000001"
NAME = "team-a prod alerts"
DEFAULT, BACKUP, MISSING_POLICY = 1, 2, 99
TEAM_A, TEAM_B = 901, 902
SOURCES = "/api/alert-sources"
ONE = "/api/alert-sources/{id}"
COUNT = "/api/alerts/count"
RESOLVE = "/api/alerts/{id}/resolve"


@pytest.fixture
def sim(clock: ManualClock) -> ILertSimulator:
    return ILertSimulator(
        keys={KEY: "admin", STAKEHOLDER: "stakeholder"},
        base_url=BASE,
        rate=None,
        clock=clock,
        seed=3,
        escalation_policies=("Default", "Backup"),
        teams=("team-a", "team-b"),
    )


def adapter_for(sim: ILertSimulator, key: str = KEY, cap: int = 80) -> ILertAdapter:
    # A generous client-side limit: these tests are about meaning, not pacing.
    account = platform_account(BASE, key, ProductType.ILERT, requests_per_minute=60_000)
    built = build_adapter(account, transport=httpx.MockTransport(capped(sim.handle, cap)))
    assert isinstance(built, ILertAdapter)
    return built


@pytest.fixture
async def adapter(sim: ILertSimulator) -> AsyncIterator[ILertAdapter]:
    built = adapter_for(sim)
    yield built
    await built.aclose()


# An AlertIntegration's ask; its `block` is spec.ilert as a user writes it.
desired = Ask(ILertSpec, uid=UID, name=NAME, block={"escalationPolicyId": DEFAULT})


FULL = {
    "integrationType": "PROMETHEUS",
    "escalationPolicyId": DEFAULT,
    "teams": [TEAM_A, TEAM_B],
    "alertCreation": "ONE_ALERT_GROUPED_PER_WINDOW",
    "alertPriorityRule": "LOW",
    "alertGroupingWindow": "PT30M",
    "autoResolutionTimeout": "PT4H",
}


def remote(sim: ILertSimulator, id_: str | None) -> dict[str, Any]:
    assert id_ is not None
    found = sim.alert_source(id_)
    assert found is not None, f"{id_} is gone"
    return found


# -- validate ------------------------------------------------------------------------------------


def test_validate_wants_an_ilert_block(adapter: ILertAdapter) -> None:
    adapter.validate(desired(FULL))
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(dataclasses.replace(desired(), block=None))
    assert caught.value.field == "spec.ilert"
    assert "escalationPolicyId" in caught.value.message
    with pytest.raises(InvalidSpecError, match=r"spec\.ilert: must be an object"):
        adapter.validate(dataclasses.replace(desired(), block={"escalationPolicyId": 1}))


def test_validate_refuses_names_ilert_cannot_store(adapter: ILertAdapter) -> None:
    adapter.validate(desired(name="x" * 255))
    with pytest.raises(InvalidSpecError) as caught:
        adapter.validate(desired(name="x" * 256))
    assert caught.value.field == "spec.displayName"


# -- create --------------------------------------------------------------------------------------


async def test_create_writes_everything_the_spec_sets(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired(FULL))
    source = remote(sim, created.external_id)
    assert (created.match, created.current_state) == (Match.ID, CurrentState.ENABLED)
    assert created.up_to_date, created.drifted_fields
    assert created.webhook_url == source["integrationUrl"]
    assert created.external_id == str(source["id"])
    assert (source["name"], source["integrationType"]) == (NAME, "PROMETHEUS")
    assert source["escalationPolicy"]["id"] == DEFAULT
    assert [team["id"] for team in source["teams"]] == [TEAM_A, TEAM_B]
    assert source["alertCreation"] == "ONE_ALERT_GROUPED_PER_WINDOW"
    assert source["alertPriorityRule"] == "LOW"
    assert (source["alertGroupingWindow"], source["autoResolutionTimeout"]) == ("PT30M", "PT4H")
    # The escalation policy was checked first, then one POST: nothing else.
    assert sim.requests.snapshot() == {
        "GET /api/escalation-policies/{id}": 1,
        "POST /api/alert-sources": 1,
    }


async def test_a_mass_create_checks_its_escalation_policy_once(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    """One write per source: the policy seen a moment ago is not looked up again."""
    for n in range(5):
        await adapter.create(dataclasses.replace(desired(name=f"source {n}"), uid=f"uid-{n}"))
    assert sim.requests.snapshot() == {
        "GET /api/escalation-policies/{id}": 1,
        "POST /api/alert-sources": 5,
    }


async def test_create_disabled_is_one_inactive_source(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired(state=TargetState.DISABLED))
    assert created.current_state is CurrentState.DISABLED
    assert created.up_to_date, created.drifted_fields
    assert remote(sim, created.external_id)["active"] is False


async def test_create_with_a_missing_escalation_policy_names_the_field(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        await adapter.create(desired({"escalationPolicyId": MISSING_POLICY}))
    assert caught.value.field == "spec.ilert.escalationPolicyId"
    assert caught.value.permanent
    assert str(caught.value).startswith(
        f"spec.ilert.escalationPolicyId: escalation policy {MISSING_POLICY} does not exist"
    )
    assert sim.alert_sources() == []
    assert sim.requests.count("POST") == 0


async def test_a_key_without_write_permission_cannot_create(sim: ILertSimulator) -> None:
    stakeholder = adapter_for(sim, STAKEHOLDER)
    try:
        with pytest.raises(CredentialsError) as caught:
            await stakeholder.create(desired())
    finally:
        await stakeholder.aclose()
    assert "403" in str(caught.value)
    assert "stakeholder role" in str(caught.value)
    assert STAKEHOLDER not in str(caught.value)
    assert not caught.value.permanent


async def test_the_integration_key_is_a_secret(adapter: ILertAdapter, sim: ILertSimulator) -> None:
    created = await adapter.create(desired())
    key = remote(sim, created.external_id)["integrationKey"]
    assert key not in redact(f"posting to {created.webhook_url} failed")


# -- observe: finding the source -----------------------------------------------------------------


async def test_observe_by_stored_id_is_one_read(adapter: ILertAdapter, sim: ILertSimulator) -> None:
    made = sim.add_alert_source("renamed by someone", "API")
    sim.requests.clear()
    seen = await adapter.observe(desired(external_id=str(made["id"])))
    assert (seen.match, seen.external_id) == (Match.ID, str(made["id"]))
    assert seen.drifted_fields == ("displayName",)
    assert sim.requests.snapshot() == {"GET /api/alert-sources/{id}": 1}


async def test_observe_without_id_finds_the_name_only_as_a_name_match(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    for pending in (False, True):  # a name cannot prove it is ours: the reconciler decides
        seen = await adapter.observe(desired(create_pending=pending))
        assert (seen.match, seen.external_id) == (Match.NAME, created.external_id)
        assert seen.up_to_date, seen.drifted_fields


async def test_several_sources_of_the_name_conflict(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    first = sim.add_alert_source(NAME)
    second = sim.add_alert_source(NAME)
    sim.add_alert_source(f"{NAME} 2")
    seen = await adapter.observe(desired())
    assert seen.match is Match.NAME
    assert seen.current_state is CurrentState.UNKNOWN
    assert set(seen.conflicting_ids) == {str(first["id"]), str(second["id"])}


async def test_a_stored_id_that_is_gone_is_absent_or_found_by_name(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    sim.remove(created.external_id or "")
    assert (await adapter.observe(desired(external_id=created.external_id))).match is Match.NONE
    namesake = sim.add_alert_source(NAME)
    seen = await adapter.observe(desired(external_id=created.external_id))
    assert (seen.match, seen.external_id) == (Match.NAME, str(namesake["id"]))


async def test_observe_never_writes(adapter: ILertAdapter, sim: ILertSimulator) -> None:
    created = await adapter.create(desired(FULL))
    sim.rename(created.external_id or "", "x")
    sim.deactivate(created.external_id or "")
    sim.requests.clear()
    await adapter.observe(desired(FULL, external_id=created.external_id))
    await adapter.observe(desired(FULL))
    assert sim.requests.count("GET") == sim.requests.total == 2


async def test_observe_with_a_listing_makes_no_request_and_agrees(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired(FULL))
    sim.set_escalation_policy(created.external_id or "", BACKUP)
    for number in range(60):
        sim.add_alert_source(f"other {number}")
    listing = await adapter.list_all()
    assert sim.requests.count("GET", SOURCES) == 2  # 61 sources: pages of 50
    sim.requests.clear()
    for spec in (desired(FULL, external_id=created.external_id), desired(FULL)):
        from_listing = await adapter.observe(spec, listing)
        assert sim.requests.total == 0
        targeted = await adapter.observe(spec)
        assert dataclasses.replace(from_listing, match=targeted.match) == targeted
        assert from_listing.drifted_fields == ("ilert.escalationPolicyId",)
        sim.requests.clear()


# -- drift ---------------------------------------------------------------------------------------

DRIFTS: dict[str, tuple[str, dict[str, Any]]] = {
    "name": ("displayName", {"name": "renamed by hand"}),
    "policy": ("ilert.escalationPolicyId", {"escalation_policy_id": BACKUP}),
    "teams": ("ilert.teams", {"teams": [TEAM_A]}),
    "creation": ("ilert.alertCreation", {"alert_creation": "ONE_OPEN_ALERT_ALLOWED"}),
    "priority": ("ilert.alertPriorityRule", {"alert_priority_rule": "HIGH"}),
    "window": ("ilert.alertGroupingWindow", {"alert_grouping_window": "PT1H"}),
    "timeout": ("ilert.autoResolutionTimeout", {"auto_resolution_timeout": None}),
    "active": ("targetState", {"active": False}),
}


@pytest.mark.parametrize("drift", DRIFTS.values(), ids=DRIFTS.keys())
async def test_each_drift_checked_field_is_reported_then_repaired(
    adapter: ILertAdapter, sim: ILertSimulator, drift: tuple[str, dict[str, Any]]
) -> None:
    field, change = drift
    created = await adapter.create(desired(FULL))
    id_ = created.external_id or ""
    sim.patch(id_, **change)
    spec = desired(FULL, external_id=id_)

    seen = await adapter.observe(spec)
    assert seen.drifted_fields == (field,)
    assert seen.recreate_reason is None

    repaired = await adapter.update(spec, seen)
    assert repaired.up_to_date, repaired.drifted_fields
    assert repaired.external_id == id_
    assert (await adapter.observe(spec)).up_to_date
    assert sim.requests.count("PUT", ONE) == 1


async def test_fields_the_spec_leaves_unset_are_not_compared(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id or ""
    sim.patch(
        id_,
        teams=[TEAM_B],
        alert_creation="INTELLIGENT_GROUPING",
        alert_priority_rule="LOW_DURING_SUPPORT_HOURS",
        alert_grouping_window="PT2H",
        auto_resolution_timeout="PT10M",
        eventFilter="anything",
    )
    assert (await adapter.observe(desired(external_id=id_))).up_to_date


async def test_sets_and_durations_compare_by_meaning(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired(FULL))
    id_ = created.external_id or ""
    sim.patch(id_, alert_grouping_window="PT0H30M", auto_resolution_timeout="PT240M")
    spec = desired({**FULL, "teams": [TEAM_B, TEAM_A]}, external_id=id_)
    assert (await adapter.observe(spec)).up_to_date


async def test_server_owned_fields_are_never_drift(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id or ""
    sim.raise_alert(id_)  # status PENDING
    sim.patch(id_, support_hours_id=4)
    seen = await adapter.observe(desired(external_id=id_))
    assert seen.up_to_date, seen.drifted_fields
    assert seen.webhook_url == remote(sim, id_)["integrationUrl"]


async def test_repair_leaves_what_we_do_not_own_alone(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id or ""
    sim.patch(
        id_,
        name="renamed",
        teams=[TEAM_B],
        alert_creation="ONE_OPEN_ALERT_ALLOWED",
        support_hours_id=4,
        eventFilter="level == 'critical'",
        summaryTemplate={"textTemplate": "{{ x }}"},
    )
    spec = desired(external_id=id_)
    await adapter.update(spec, await adapter.observe(spec))
    after = remote(sim, id_)
    assert after["name"] == NAME
    assert [team["id"] for team in after["teams"]] == [TEAM_B]
    assert after["alertCreation"] == "ONE_OPEN_ALERT_ALLOWED"
    assert after["supportHours"] == {"id": 4}
    assert after["eventFilter"] == "level == 'critical'"
    assert after["summaryTemplate"] == {"textTemplate": "{{ x }}"}


async def test_several_drifts_are_reported_together_and_repaired_in_one_put(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired(FULL))
    id_ = created.external_id or ""
    sim.patch(id_, name="x", active=False, teams=[], alert_priority_rule="HIGH")
    spec = desired(FULL, external_id=id_)
    seen = await adapter.observe(spec)
    assert set(seen.drifted_fields) == {
        "displayName",
        "targetState",
        "ilert.teams",
        "ilert.alertPriorityRule",
    }
    sim.requests.clear()
    repaired = await adapter.update(spec, seen)
    assert repaired.up_to_date
    assert sim.requests.snapshot() == {
        "GET /api/alert-sources/{id}": 1,
        "PUT /api/alert-sources/{id}": 1,
    }


async def test_drift_to_a_missing_policy_is_refused_before_writing(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id or ""
    spec = desired({"escalationPolicyId": MISSING_POLICY}, external_id=id_)
    seen = await adapter.observe(spec)
    assert seen.drifted_fields == ("ilert.escalationPolicyId",)
    with pytest.raises(InvalidSpecError, match=r"spec\.ilert\.escalationPolicyId"):
        await adapter.update(spec, seen)
    assert sim.requests.count("PUT") == 0
    assert remote(sim, id_)["escalationPolicy"]["id"] == DEFAULT


async def test_targetstate_switches_active_both_ways(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id or ""
    off = desired(state=TargetState.DISABLED, external_id=id_)
    seen = await adapter.observe(off)
    assert (seen.current_state, seen.drifted_fields) == (CurrentState.ENABLED, ("targetState",))
    disabled = await adapter.update(off, seen)
    assert disabled.current_state is CurrentState.DISABLED
    assert remote(sim, id_)["status"] == "DISABLED"
    on = desired(external_id=id_)
    enabled = await adapter.update(on, await adapter.observe(on))
    assert (enabled.current_state, enabled.up_to_date) == (CurrentState.ENABLED, True)


# -- integrationType cannot change in place ------------------------------------------------------


async def test_a_type_change_is_drift_with_a_reason_and_repaired_by_delete_and_create(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired({"integrationType": "API", "escalationPolicyId": 1}))
    old = created.external_id or ""
    spec = desired({"integrationType": "PROMETHEUS", "escalationPolicyId": 1}, external_id=old)

    seen = await adapter.observe(spec)
    assert seen.drifted_fields == ("ilert.integrationType",)
    assert seen.recreate_reason is not None
    assert "integrationType is API on iLert and PROMETHEUS in the spec" in seen.recreate_reason
    assert "new integration key and URL" in seen.recreate_reason

    recreated = await adapter.update(spec, seen)
    assert recreated.up_to_date, recreated.drifted_fields
    assert recreated.external_id not in (None, old)
    assert sim.alert_source(old) is None
    assert remote(sim, recreated.external_id)["integrationType"] == "PROMETHEUS"
    assert recreated.webhook_url != created.webhook_url


async def test_a_type_change_to_a_missing_policy_deletes_nothing(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    old = created.external_id or ""
    spec = desired({"integrationType": "GRAFANA", "escalationPolicyId": 99}, external_id=old)
    with pytest.raises(InvalidSpecError):
        await adapter.update(spec, await adapter.observe(spec))
    assert sim.alert_source(old) is not None


async def test_a_type_change_resolves_the_old_sources_alerts_when_asked(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    old = created.external_id or ""
    sim.raise_alert(old)
    block = {"integrationType": "GRAFANA", "escalationPolicyId": 1}
    spec = desired({**block, "resolveOpenAlertsOnDelete": True}, external_id=old)
    await adapter.update(spec, await adapter.observe(spec))
    assert sim.open_alerts(old) == 0


# -- open alerts ---------------------------------------------------------------------------------


async def test_open_alerts_of_every_source_come_from_one_listing_of_open_alerts(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    """A resync counts every source at once: one listing, not one count request each."""
    now = [0.0]
    adapter.clock = lambda: now[0]
    created = await adapter.create(desired())
    id_ = created.external_id or ""
    other = sim.add_alert_source("other")
    raised = [sim.raise_alert(id_, f"alert {n}") for n in range(4)]
    sim.raise_alert(other["id"])
    sim.accept_alert(raised[0]["id"] if raised[0] else 0)
    sim.resolve_alert(raised[1]["id"] if raised[1] else 0)
    sim.requests.clear()
    now[0] = OPEN_ALERTS_SECONDS
    assert await adapter.open_alerts(desired(external_id=id_), created) == 3
    others = dataclasses.replace(created, external_id=str(other["id"]))
    assert await adapter.open_alerts(desired(external_id=str(other["id"])), others) == 1
    assert sim.requests.snapshot() == {"GET /api/alerts": 1}

    sim.resolve_alerts(id_)
    assert await adapter.open_alerts(desired(external_id=id_), created) == 3  # kept 5 s
    now[0] = 2 * OPEN_ALERTS_SECONDS
    assert await adapter.open_alerts(desired(external_id=id_), created) == 0
    assert sim.requests.snapshot() == {"GET /api/alerts": 2}


async def test_a_source_created_a_moment_ago_counts_no_alerts_without_a_request(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    """A mass create reports openAlerts 0 for each new source, listing no alerts."""
    now = [0.0]
    adapter.clock = lambda: now[0]
    made = [
        await adapter.create(dataclasses.replace(desired(name=f"new {n}"), uid=f"uid-{n}"))
        for n in range(3)
    ]
    sim.raise_alert(made[0].external_id or "")
    sim.requests.clear()
    now[0] = OPEN_ALERTS_SECONDS - 0.1
    for created in made:
        assert await adapter.open_alerts(desired(external_id=created.external_id), created) == 0
    assert sim.requests.snapshot() == {}
    now[0] = OPEN_ALERTS_SECONDS
    first = made[0]
    assert await adapter.open_alerts(desired(external_id=first.external_id), first) == 1
    assert sim.requests.snapshot() == {"GET /api/alerts": 1}


async def test_concurrent_creates_check_their_escalation_policy_once(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    await asyncio.gather(
        *(
            adapter.create(dataclasses.replace(desired(name=f"source {n}"), uid=f"uid-{n}"))
            for n in range(5)
        )
    )
    assert sim.requests.snapshot() == {
        "GET /api/escalation-policies/{id}": 1,
        "POST /api/alert-sources": 5,
    }


async def test_open_alerts_of_nothing_is_unknown(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    assert await adapter.open_alerts(desired(), Observation.absent()) is None
    assert sim.requests.total == 0


# -- before delete -------------------------------------------------------------------------------


async def test_before_delete_does_nothing_unless_asked(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    sim.raise_alert(created.external_id or "")
    sim.requests.clear()
    assert await adapter.before_delete(desired(), created.external_id or "") is None
    assert sim.requests.total == 0
    assert sim.open_alerts(created.external_id or "") == 1


async def test_before_delete_resolves_every_open_alert_across_pages(
    sim: ILertSimulator,
) -> None:
    adapter = adapter_for(sim, cap=200)
    try:
        block = {"escalationPolicyId": 1, "resolveOpenAlertsOnDelete": True}
        created = await adapter.create(desired(block))
        id_ = created.external_id or ""
        other = sim.add_alert_source("other")
        alerts = [sim.raise_alert(id_, f"alert {n}") for n in range(130)]
        sim.accept_alert(alerts[0]["id"] if alerts[0] else 0)
        sim.resolve_alert(alerts[1]["id"] if alerts[1] else 0)
        sim.raise_alert(other["id"])
        sim.requests.clear()

        line = await adapter.before_delete(desired(block, external_id=id_), id_)

        assert line == f"resolved 129 open alerts of alert source {id_}"
        assert sim.open_alerts(id_) == 0
        assert sim.open_alerts(other["id"]) == 1  # another source's alert is left alone
        assert sim.requests.count("GET", "/api/alerts") == 2  # pages of 100
        assert sim.requests.count("PUT", RESOLVE) == 129
        await adapter.delete(id_)
        assert sim.alert_source(id_) is None
    finally:
        await adapter.aclose()


async def test_before_delete_says_one_alert_and_zero_alerts(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    block = {"escalationPolicyId": 1, "resolveOpenAlertsOnDelete": True}
    created = await adapter.create(desired(block))
    id_ = created.external_id or ""
    sim.raise_alert(id_)
    assert await adapter.before_delete(desired(block), id_) == (
        f"resolved 1 open alert of alert source {id_}"
    )
    assert await adapter.before_delete(desired(block), id_) == (
        f"resolved 0 open alerts of alert source {id_}"
    )


async def test_without_the_option_a_deleted_sources_alerts_stay_open(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    id_ = created.external_id or ""
    sim.raise_alert(id_)
    await adapter.delete(id_)
    assert sim.open_alerts(id_) == 1  # why resolveOpenAlertsOnDelete exists


# -- the rest ------------------------------------------------------------------------------------


async def test_delete_removes_and_a_second_delete_is_fine(
    adapter: ILertAdapter, sim: ILertSimulator
) -> None:
    created = await adapter.create(desired())
    await adapter.delete(created.external_id or "")
    await adapter.delete(created.external_id or "")
    assert sim.alert_sources() == []


async def test_check_is_one_small_read(adapter: ILertAdapter, sim: ILertSimulator) -> None:
    await adapter.check()
    assert sim.requests.snapshot() == {f"GET {SOURCES}": 1}
