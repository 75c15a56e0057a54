"""Every platform end to end through the operator: one scenario suite, a row per platform.

Each row (the `ROW` of tests/platforms/<name>.py) brings its simulator, credentials, spec
and the drifts a person can make behind AlertSync's back; the scenarios never name a
platform. Platform-only behaviour (open alerts, delivery tests...) is in each platform's own
e2e file.
"""

from typing import Any

import pytest

from tests.platforms.row import PlatformRow
from tests.support.sandbox import Sandbox, ready, reason
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]


@pytest.fixture
def served(row: PlatformRow[Any], sandbox: Sandbox) -> tuple[Any, str]:
    made = row.simulator()
    return made, sandbox.serve(made)


@pytest.fixture
def sim(row: PlatformRow[Any], sandbox: Sandbox, served: tuple[Any, str]) -> Any:
    made, url = served
    row.add_platform(sandbox, url)
    return made


def settled(sandbox: Sandbox, name: str, generation: int) -> dict[str, Any]:
    return sandbox.wait_status(
        name,
        lambda s: ready(s) == "True" and s.get("observedGeneration") == generation,
    )


def test_create_edit_drift_disable_enable_delete(
    row: PlatformRow[Any], sim: Any, sandbox: Sandbox
) -> None:
    spec = row.spec()
    sandbox.create("pay", platform="suite", **spec)
    status = settled(sandbox, "pay", 1)
    assert row.objects(sim) == [status["webhookId"]]
    assert (status["currentState"], status["driftCount"], status["lastError"]) == (
        "enabled",
        0,
        "",
    )

    sandbox.patch_spec("pay", row.edit)
    status = settled(sandbox, "pay", 2)
    wait_for(lambda: row.edited(sim, status["webhookId"]))
    assert row.as_declared(sim, status["webhookId"])
    assert status["driftCount"] == 0

    for count, drift in enumerate(row.drifts, start=1):
        drift.apply(sim, status["webhookId"])

        def repaired(s: dict[str, Any], count: int = count) -> bool:
            return (
                s.get("driftCount") == count
                and ready(s) == "True"
                and row.objects(sim) == [s.get("webhookId")]
                and row.as_declared(sim, s["webhookId"])
            )

        status = sandbox.wait_status("pay", repaired)

    kept = status["webhookId"]
    sandbox.patch_spec("pay", {"targetState": "disabled"})
    status = sandbox.wait_status(
        "pay", lambda s: s.get("currentState") == "disabled" and s.get("observedGeneration") == 3
    )
    if row.disable_by_delete:
        assert row.objects(sim) == []
        assert status.get("webhookId") is None
    else:
        assert row.objects(sim) == [kept]

    sandbox.patch_spec("pay", {"targetState": "enabled"})
    status = sandbox.wait_status(
        "pay", lambda s: s.get("currentState") == "enabled" and s.get("observedGeneration") == 4
    )
    assert row.objects(sim) == [status["webhookId"]]
    if not row.disable_by_delete:
        assert status["webhookId"] == kept
    assert status["driftCount"] == len(row.drifts)

    sandbox.delete("pay")
    wait_for(lambda: sandbox.get("pay") is None)
    assert row.objects(sim) == []


def test_observe_only_creates_nothing_and_orphan_keeps_the_object(
    row: PlatformRow[Any], sim: Any, sandbox: Sandbox
) -> None:
    spec = row.spec()
    sandbox.create("watched", platform="suite", managementPolicy="ObserveOnly", **spec)
    status = sandbox.wait_status("watched", lambda s: reason(s) == "NotFound")
    assert ready(status) == "False"

    sandbox.create("kept", platform="suite", deletionPolicy="Orphan", **spec)
    status = settled(sandbox, "kept", 1)
    kept = status["webhookId"]
    sandbox.delete("kept")
    wait_for(lambda: sandbox.get("kept") is None)
    assert row.objects(sim) == [kept]

    # The orphan is foreign now; a resource that adopts it explicitly owns it again.
    sandbox.delete("watched")
    wait_for(lambda: sandbox.get("watched") is None)
    sandbox.create(
        "kept", platform="suite", adoptionPolicy="AdoptExisting", deletionPolicy="Delete", **spec
    )
    status = settled(sandbox, "kept", 1)
    assert status["webhookId"] == kept
    sandbox.delete("kept")
    wait_for(lambda: sandbox.get("kept") is None)
    assert row.objects(sim) == []


def test_read_only_credentials_are_reported_without_a_hot_loop(
    row: PlatformRow[Any], served: tuple[Any, str], sandbox: Sandbox
) -> None:
    if row.read_only_secret is None:
        pytest.skip(f"{row.id} has no read-only credentials")
    sim, url = served
    row.add_platform(sandbox, url, row.read_only_secret)
    sandbox.create("pay", platform="suite", **row.spec())
    # Not "rejected": the platform took the credentials for the listing and refused
    # the write, so the fix is the token's permission, not a new token.
    status = sandbox.wait_status("pay", lambda s: reason(s) == "PermissionDenied")
    assert ready(status) == "False"
    assert status["lastError"].startswith("cannot create")
    assert "the credentials are accepted but may not make this change" in status["lastError"]

    def read_only_platform() -> dict[str, Any] | None:
        platform_status = sandbox.platform_status("suite")
        return platform_status if platform_status.get("credentials") == "ReadOnly" else None

    platform_status = wait_for(read_only_platform, timeout=10)
    assert [c["reason"] for c in platform_status["conditions"]] == ["PermissionDenied"]
    sandbox.assert_quiet("pay")
    assert row.objects(sim) == []
    sandbox.secrets.update(row.read_only_secret.values())
