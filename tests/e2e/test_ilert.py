"""iLert end to end: open alerts, resolving them on delete, type changes, bad input."""

from typing import Any

import pytest

from alertsim.ilert import ILertSimulator
from alertsim.kubeapi import ApiError
from tests.support.sandbox import Sandbox, ready, reason
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]

KEY = "e2e-ilert-key-0c5f7a21"
OPEN = ("PENDING", "ACCEPTED")
ONE = "/api/alert-sources/{id}"


@pytest.fixture
def ilert(sandbox: Sandbox) -> ILertSimulator:
    sim = ILertSimulator(keys={KEY: "admin"})
    url = sandbox.serve(sim)
    sandbox.add_platform("ilert", "ilert", url, {"token": KEY}, {})
    return sim


def create(sandbox: Sandbox, **ilert: Any) -> str:
    sandbox.create(
        "pay",
        platform="ilert",
        displayName="payments",
        ilert={"integrationType": "PROMETHEUS", "escalationPolicyId": 1, **ilert},
    )
    return str(sandbox.wait_ready("pay")["webhookId"])


def test_open_alerts_follow_alerts_raised_and_resolved(
    sandbox: Sandbox, ilert: ILertSimulator
) -> None:
    source = create(sandbox)
    assert sandbox.status("pay").get("openAlerts") == 0

    ilert.raise_alert(source, "disk full", alert_key="disk")
    ilert.raise_alert(source, "cpu hot", alert_key="cpu")
    sandbox.wait_status("pay", lambda s: s.get("openAlerts") == 2)
    [first, _] = ilert.alerts(source, OPEN)
    ilert.accept_alert(first["id"])  # accepted is still open
    ilert.resolve_alerts(source, alert_key="cpu")
    sandbox.wait_status("pay", lambda s: s.get("openAlerts") == 1)
    ilert.resolve_alerts(source)
    sandbox.wait_status("pay", lambda s: s.get("openAlerts") == 0)


def test_resolve_open_alerts_on_delete_leaves_no_open_alert(
    sandbox: Sandbox, ilert: ILertSimulator
) -> None:
    source = create(sandbox, resolveOpenAlertsOnDelete=True)
    for number in range(3):
        ilert.raise_alert(source, f"problem {number}", alert_key=f"k{number}")
    sandbox.wait_status("pay", lambda s: s.get("openAlerts") == 3)

    sandbox.delete("pay")
    wait_for(lambda: sandbox.get("pay") is None)

    assert ilert.alert_sources() == []
    assert ilert.alerts(source, OPEN) == []
    assert len(ilert.alerts(source, ["RESOLVED"])) == 3
    told = wait_for(lambda: [e for e in sandbox.events("pay") if e["reason"] == "BeforeDelete"])
    assert "resolved 3 open alerts" in told[0]["message"]


def test_without_the_option_alerts_of_a_deleted_source_are_left_alone(
    sandbox: Sandbox, ilert: ILertSimulator
) -> None:
    source = create(sandbox)
    ilert.raise_alert(source, "disk full")
    sandbox.delete("pay")
    wait_for(lambda: sandbox.get("pay") is None)
    assert len(ilert.alerts(source, OPEN)) == 1


def test_an_integration_type_change_is_delete_and_create_with_the_reason(
    sandbox: Sandbox, ilert: ILertSimulator
) -> None:
    old = create(sandbox)
    sandbox.patch_spec("pay", {"ilert": {"integrationType": "API", "escalationPolicyId": 1}})
    status = sandbox.wait_status(
        "pay", lambda s: s.get("observedGeneration") == 2 and ready(s) == "True"
    )
    [source] = ilert.alert_sources()
    assert (source["integrationType"], str(source["id"])) == ("API", status["webhookId"])
    assert status["webhookId"] != old
    assert status["webhookUrl"] == source["integrationUrl"]
    assert status["driftCount"] == 0  # asked for, not drift
    updated = wait_for(lambda: [e for e in sandbox.events("pay") if e["reason"] == "Updated"])
    assert "recreated" in updated[-1]["message"]
    assert "integrationType" in updated[-1]["message"]


def test_an_unknown_integration_type_is_refused_at_admission(sandbox: Sandbox) -> None:
    with pytest.raises(ApiError) as caught:
        sandbox.create(
            "bad", platform="ilert", ilert={"integrationType": "PAGER", "escalationPolicyId": 1}
        )
    assert caught.value.code == 422
    assert "spec.ilert.integrationType" in caught.value.message


def test_a_missing_escalation_policy_names_the_field_and_creates_nothing(
    sandbox: Sandbox, ilert: ILertSimulator
) -> None:
    sandbox.create(
        "pay", platform="ilert", ilert={"integrationType": "API", "escalationPolicyId": 404}
    )
    status = sandbox.wait_status("pay", lambda s: reason(s) == "InvalidSpec")
    assert ready(status) == "False"
    assert status["lastError"].startswith("spec.ilert.escalationPolicyId")
    assert "404" in status["lastError"]
    sandbox.assert_quiet("pay")
    assert ilert.alert_sources() == []
    assert ilert.requests.count("POST") == 0


def test_a_mass_rename_is_one_put_each_without_reading_the_sources(
    sandbox: Sandbox, ilert: ILertSimulator
) -> None:
    """iLert's PUT replaces the whole source; the operator sends it from what it wrote
    last, while the listing shows the source unchanged (docs/platforms/ilert.md)."""
    names = [f"src{n}" for n in range(4)]
    for name in names:
        sandbox.create(
            name,
            platform="ilert",
            displayName=name,
            ilert={"integrationType": "PROMETHEUS", "escalationPolicyId": 1},
        )
    for name in names:
        sandbox.wait_ready(name)
    requests = ilert.requests
    puts, reads = requests.count("PUT", ONE), requests.count("GET", ONE)
    for name in names:
        sandbox.patch_spec(name, {"displayName": f"{name} renamed"})
    for name in names:
        sandbox.wait_status(name, lambda s: s.get("observedGeneration") == 2 and ready(s) == "True")
    assert sorted(s["name"] for s in ilert.alert_sources()) == sorted(f"{n} renamed" for n in names)
    assert requests.count("PUT", ONE) - puts == len(names)
    assert requests.count("GET", ONE) - reads == 0
