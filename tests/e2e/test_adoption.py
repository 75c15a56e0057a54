"""Adoption and crash safety: never a duplicate, never someone else's object by accident."""

import signal

import pytest

from tests.support.sandbox import Sandbox, operator_process, ready, reason, running_operator
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def test_operator_killed_between_create_and_status_write_adopts_its_object(
    sandbox: Sandbox,
) -> None:
    sandbox.apply_platform(resync="1s")
    # The platform stores the integration, but its answer never comes back.
    sandbox.oncall.faults.lose_response(method="POST", path="/api/v1/integrations")
    with operator_process(sandbox, stop=signal.SIGKILL):
        sandbox.create("pay", displayName="pay")
        wait_for(lambda: len(sandbox.oncall.integrations()) == 1, timeout=30)
        # Nothing written ahead of the create: the marker in its description finds it.
        assert not sandbox.status("pay").get("createPendingSince")
        assert not sandbox.status("pay").get("webhookId")

    with running_operator():
        status = sandbox.wait_ready("pay")
        [remote] = sandbox.oncall.integrations()
        assert status["webhookId"] == remote["id"]
        assert (status["origin"], status["driftCount"]) == ("created", 0)
        assert "createPendingSince" not in status
        wait_for(lambda: sandbox.oncall.requests.count("GET", "/api/v1/integrations/") >= 3)
    assert len(sandbox.oncall.integrations()) == 1
    assert sandbox.oncall.requests.count("POST", "/api/v1/integrations/") == 1
    # Created (not adopted) by us: deleting the resource deletes it.
    with running_operator():
        sandbox.delete("pay")
        wait_for(lambda: sandbox.get("pay") is None)
    assert sandbox.oncall.integrations() == []


@pytest.mark.usefixtures("operator")
def test_someone_elses_object_is_refused_then_adopted_on_request_and_orphaned(
    sandbox: Sandbox,
) -> None:
    theirs = sandbox.oncall.add_integration("webhook", name="payments")["id"]
    sandbox.apply_platform(resync="1s")
    sandbox.create("pay", displayName="payments")
    status = sandbox.wait_status("pay", lambda s: reason(s) == "AdoptionRefused")
    assert ready(status) == "False"
    assert theirs in status["lastError"]
    assert "spec.adoptionPolicy: AdoptExisting" in status["lastError"]
    [remote] = sandbox.oncall.integrations()
    assert remote["description_short"] is None
    assert sandbox.oncall.requests.count("POST") == sandbox.oncall.requests.count("PUT") == 0
    # kopf posts Events from a queue, a moment after the status is written.
    refused = wait_for(
        lambda: [e for e in sandbox.events("pay") if e["reason"] == "AdoptionRefused"]
    )
    assert len(refused) == 1
    assert refused[0]["type"] == "Warning"

    sandbox.patch_spec("pay", {"adoptionPolicy": "AdoptExisting"})
    status = sandbox.wait_ready("pay")
    assert (status["webhookId"], status["origin"], status["driftCount"]) == (theirs, "adopted", 0)
    uid = sandbox.get("pay")["metadata"]["uid"]  # type: ignore[index]
    assert sandbox.oncall.get(theirs)["description_short"] == f"managed-by=alertsync uid={uid}"  # type: ignore[index]

    sandbox.delete("pay")
    wait_for(lambda: sandbox.get("pay") is None)
    assert sandbox.oncall.get(theirs) is not None
