"""The operator end to end: kopf + Kubernetes emulator + Grafana OnCall simulator."""

from typing import Any

import pytest

from tests.support.sandbox import Sandbox, ready, reason, running_operator
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

SEED_FIELDS = {
    "uuid",
    "platformUuid",
    "targetState",
    "currentState",
    "webhookUrl",
    "webhookId",
    "lastReconcileAt",
    "driftCount",
    "lastError",
    "createDate",
    "lastOpDate",
    "platformName",
    "productType",
}


def platform_ready(sandbox: Sandbox, integrations: int) -> dict[str, Any] | None:
    status = sandbox.platform_status()
    return (
        status if ready(status) == "True" and status.get("integrations") == integrations else None
    )


@pytest.mark.usefixtures("operator")
def test_create_then_edit_keeps_exactly_one_object(sandbox: Sandbox) -> None:
    sandbox.apply_platform()
    created = sandbox.create(
        "pay",
        displayName="payments alerts",
        grafanaOnCall={"type": "alertmanager", "templates": {"slack": {"title": "pay"}}},
    )
    status = sandbox.wait_ready("pay")
    assert status.keys() >= SEED_FIELDS
    [remote] = sandbox.oncall.integrations()
    assert remote["name"] == "payments alerts"
    assert remote["type"] == "alertmanager"
    assert remote["templates"]["slack"]["title"] == "pay"
    assert remote["description_short"] == f"managed-by=alertsync uid={created['metadata']['uid']}"
    platform = sandbox.k8s.read_object("alertplatforms", "oncall", namespace="default")
    assert platform is not None
    assert status["uuid"] == created["metadata"]["uid"]
    assert status["platformUuid"] == platform["metadata"]["uid"]
    assert (status["platformName"], status["productType"]) == ("OnCall sandbox", "grafana-oncall")
    assert (status["webhookId"], status["webhookUrl"]) == (remote["id"], remote["link"])
    assert (status["targetState"], status["currentState"]) == ("enabled", "enabled")
    assert (status["driftCount"], status["lastError"]) == (0, "")
    assert status["observedGeneration"] == 1
    assert not any(key.startswith("kopf") for key in status)
    # The count is refreshed by the platform's next resync (resyncInterval 1s here).
    platform_status = wait_for(lambda: platform_ready(sandbox, integrations=1))
    assert platform_status["credentials"] == "Accepted"
    assert platform_status["apiReachable"] is True
    assert platform_status["platformUuid"] == platform["metadata"]["uid"]
    assert (platform_status["platformName"], platform_status["productType"]) == (
        "OnCall sandbox",
        "grafana-oncall",
    )
    assert platform_status["lastCheckAt"]

    sandbox.patch_spec("pay", {"displayName": "payments alerts v2", "targetState": "disabled"})
    status = sandbox.wait_status(
        "pay", lambda s: s.get("observedGeneration") == 2 and s.get("currentState") == "disabled"
    )
    [remote] = sandbox.oncall.integrations()
    assert remote["id"] == status["webhookId"]
    assert remote["name"] == "payments alerts v2"
    assert remote["maintenance_mode"] == "debug"
    assert status["driftCount"] == 0

    # kopf posts Events from a queue, a moment after the status is written.
    def two_events() -> list[dict[str, Any]] | None:
        found = sandbox.events("pay")
        return found if len(found) >= 2 else None

    assert sorted(e["reason"] for e in wait_for(two_events)) == ["Created", "Updated"]


@pytest.mark.usefixtures("operator")
def test_drift_behind_our_back_is_repaired_and_counted_once_each(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1s")
    sandbox.create(
        "pay", displayName="pay", grafanaOnCall={"templates": {"groupingKey": "{{ a }}"}}
    )
    first = sandbox.wait_ready("pay")["webhookId"]

    sandbox.oncall.rename(first, "renamed by hand")
    sandbox.wait_status("pay", lambda s: s["driftCount"] == 1)
    wait_for(lambda: sandbox.oncall.get(first)["name"] == "pay")  # type: ignore[index]

    sandbox.oncall.set_template(first, "grouping_key", "{{ b }}")
    status = sandbox.wait_status("pay", lambda s: s["driftCount"] == 2)
    assert status["lastDrift"]["fields"] == ["grafanaOnCall.templates.groupingKey"]
    wait_for(lambda: sandbox.oncall.get(first)["templates"]["grouping_key"] == "{{ a }}")  # type: ignore[index]

    sandbox.oncall.remove(first)
    status = sandbox.wait_status("pay", lambda s: s["driftCount"] == 3 and s["webhookId"] != first)
    assert status["lastDrift"]["fields"] == ["absent"]
    assert [r["name"] for r in sandbox.oncall.integrations()] == ["pay"]

    # Quiet resyncs after the repairs count nothing more.
    rv = sandbox.get("pay")["metadata"]["resourceVersion"]  # type: ignore[index]
    wait_for(lambda: sandbox.oncall.requests.count("GET", "/api/v1/integrations/") >= 10)
    assert sandbox.status("pay")["driftCount"] == 3
    assert sandbox.get("pay")["metadata"]["resourceVersion"] == rv  # type: ignore[index]
    repaired = [e for e in sandbox.events("pay") if e["reason"] == "DriftRepaired"]
    assert len(repaired) == 3


@pytest.mark.usefixtures("operator")
def test_observe_only_reports_drift_and_leaves_the_platform_alone(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1s")
    sandbox.create("pay", displayName="pay")
    webhook = sandbox.wait_ready("pay")["webhookId"]
    sandbox.patch_spec("pay", {"managementPolicy": "ObserveOnly"})
    sandbox.wait_status("pay", lambda s: s.get("observedGeneration") == 2)

    sandbox.oncall.rename(webhook, "changed by hand")
    status = sandbox.wait_status("pay", lambda s: s["driftCount"] == 1)
    assert (ready(status), reason(status)) == ("False", "DriftDetected")
    assert "displayName" in status["conditions"][0]["message"] or any(
        "displayName" in c["message"] for c in status["conditions"]
    )
    wait_for(lambda: sandbox.oncall.requests.count("GET", "/api/v1/integrations/") >= 6)
    assert sandbox.oncall.get(webhook)["name"] == "changed by hand"  # type: ignore[index]
    assert sandbox.status("pay")["driftCount"] == 1
    assert sandbox.oncall.requests.count("PUT") == 0


@pytest.mark.usefixtures("operator")
@pytest.mark.parametrize(("policy", "kept"), [("Delete", False), ("Orphan", True)])
def test_delete_follows_the_deletion_policy(sandbox: Sandbox, policy: str, kept: bool) -> None:
    sandbox.apply_platform()
    sandbox.create("pay", displayName="pay", deletionPolicy=policy)
    webhook = sandbox.wait_ready("pay")["webhookId"]
    sandbox.delete("pay")
    wait_for(lambda: sandbox.get("pay") is None)
    assert (sandbox.oncall.get(webhook) is not None) is kept


def test_restart_makes_no_duplicate_and_no_spurious_drift(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1s")
    with running_operator():
        sandbox.create("pay", displayName="pay")
        before = sandbox.wait_ready("pay")
    with running_operator():
        wait_for(lambda: sandbox.oncall.requests.count("GET", "/api/v1/integrations/") >= 4)
        after = sandbox.status("pay")
    assert len(sandbox.oncall.integrations()) == 1
    assert after["webhookId"] == before["webhookId"]
    assert after["driftCount"] == 0
    assert sandbox.oncall.requests.count("POST") == 1


@pytest.mark.usefixtures("operator")
def test_steady_state_writes_nothing_to_kubernetes(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1s")
    for name in ("a", "b", "c"):
        sandbox.create(name, displayName=name)
    for name in ("a", "b", "c"):
        sandbox.wait_ready(name)
    lists = sandbox.oncall.requests.count("GET", "/api/v1/integrations/")
    wait_for(lambda: sandbox.oncall.requests.count("GET", "/api/v1/integrations/") >= lists + 1)
    versions = {n: sandbox.get(n)["metadata"]["resourceVersion"] for n in "abc"}  # type: ignore[index]
    events = len(sandbox.k8s.list_objects("events", namespace="default"))
    calls = sandbox.oncall.requests.total
    wait_for(lambda: sandbox.oncall.requests.count("GET", "/api/v1/integrations/") >= lists + 4)
    assert {n: sandbox.get(n)["metadata"]["resourceVersion"] for n in "abc"} == versions  # type: ignore[index]
    assert len(sandbox.k8s.list_objects("events", namespace="default")) == events
    # One listing per resync for all three, not one request per integration.
    new_calls = sandbox.oncall.requests.total - calls
    new_lists = sandbox.oncall.requests.count("GET", "/api/v1/integrations/") - lists
    assert new_calls <= new_lists + 1


@pytest.mark.usefixtures("operator")
def test_reconcile_requested_annotation_runs_a_pass_at_once(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1h")
    sandbox.create("pay", displayName="pay")
    webhook = sandbox.wait_ready("pay")["webhookId"]
    sandbox.oncall.rename(webhook, "renamed by hand")
    annotation = {"alertsync.dev/reconcile-requested-at": "2026-11-23T12:00:00Z"}
    sandbox.k8s.update_object(
        "alertintegrations", "pay", {"metadata": {"annotations": annotation}}, namespace="default"
    )
    sandbox.wait_status("pay", lambda s: s["driftCount"] == 1, timeout=10)
    # The drift is counted (and written) before its repair is sent.
    wait_for(lambda: sandbox.oncall.get(webhook)["name"] == "pay", timeout=10)  # type: ignore[index]


@pytest.mark.usefixtures("operator")
def test_platform_change_reconciles_its_integrations(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1h")
    sandbox.create("pay", displayName="pay")
    sandbox.wait_ready("pay")
    sandbox.patch_platform({"displayName": "OnCall renamed"})
    sandbox.wait_status("pay", lambda s: s["platformName"] == "OnCall renamed", timeout=10)


@pytest.mark.usefixtures("operator")
def test_an_edit_made_while_creates_fail_is_applied_at_once_not_after_the_backoff(
    sandbox: Sandbox,
) -> None:
    sandbox.apply_platform(resync="1h")
    sandbox.oncall.faults.fail(503, method="POST", times=None)
    sandbox.create("pay", displayName="pay")
    # Three failed creates: the next attempt would wait 20 s (5 s doubling, ±20 %).
    wait_for(lambda: sandbox.oncall.requests.count("POST") >= 3, timeout=30)
    sandbox.oncall.faults.clear()
    sandbox.patch_spec("pay", {"displayName": "pay v2"})
    status = sandbox.wait_status(
        "pay",
        lambda s: ready(s) == "True" and s.get("observedGeneration") == 2,
        timeout=10,
    )
    assert sandbox.oncall.get(status["webhookId"])["name"] == "pay v2"  # type: ignore[index]
