"""The Events the operator posts: from `alertsync`, by this pod, named and acted as
client-go's recorder does, and shown so by the real `kubectl describe`."""

import re
import subprocess
from typing import Any

import pytest

from tests.manifests.test_deploy import kubectl
from tests.support.sandbox import Sandbox, running_operator
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

POD = "alertsync-5d9c7b6f4-x2x8q"


@pytest.fixture
def pod_name(monkeypatch: pytest.MonkeyPatch) -> str:
    """The operator runs as a pod of the chart's Deployment would (POD_ID: its name)."""
    monkeypatch.delenv("POD_NAME", raising=False)
    monkeypatch.setenv("POD_ID", POD)
    return POD


def events_with(sandbox: Sandbox, name: str, *reasons: str) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        events = sandbox.events(name)
        return events if set(reasons) <= {e["reason"] for e in events} else None

    return wait_for(found)


def test_events_come_from_alertsync_and_this_pod_with_an_action(
    sandbox: Sandbox, pod_name: str
) -> None:
    sandbox.apply_platform(resync="1h")
    with running_operator():
        sandbox.create("pay", displayName="pay")
        sandbox.wait_ready("pay")
        sandbox.patch_spec("pay", {"displayName": "pay v2"})
        sandbox.create("lost", platform="nowhere", displayName="lost")
        events = events_with(sandbox, "pay", "Created", "Updated")
        [failed, *_] = events_with(sandbox, "lost", "InvalidSpec")
        uid = sandbox.get("pay")["metadata"]["uid"]  # type: ignore[index]
        describe = ["describe", "alertintegration", "pay", "-n", "default"]
        described = subprocess.run(  # noqa: S603 - the project's kubectl, fixed arguments
            [kubectl(), "--kubeconfig", str(sandbox.kubeconfig), *describe],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout

    actions = {e["reason"]: e["action"] for e in events}
    assert actions == {"Created": "Create", "Updated": "Update"}
    assert failed["action"] == "Reconcile"
    assert failed["type"] == "Warning"
    for event in [*events, failed]:
        assert event["reportingComponent"] == "alertsync"
        assert event["source"]["component"] == "alertsync"
        assert event["reportingInstance"] == pod_name
        involved = event["involvedObject"]
        assert re.fullmatch(rf"{involved['name']}\.[0-9a-f]+", event["metadata"]["name"])
        assert event["count"] == 1
        assert event["firstTimestamp"] == event["lastTimestamp"]
        assert event["eventTime"]
        assert "kopf" not in str(event)
    assert {e["involvedObject"]["uid"] for e in events} == {uid}
    # What a person sees: kubectl describe's Events table, From alertsync.
    rows = [line.split() for line in described.split("Events:", 1)[1].splitlines()]
    assert [row[0:2] + row[3:4] for row in rows if row[:1] == ["Normal"]] == [
        ["Normal", "Created", "alertsync"],
        ["Normal", "Updated", "alertsync"],
    ]
