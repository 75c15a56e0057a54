"""Mackerel end to end: open alerts through notification groups, closing them, bad input."""

from typing import Any

import pytest

from alertsim.kubeapi import ApiError
from alertsim.mackerel import READ_WRITE, MackerelSimulator
from tests.support.sandbox import Sandbox, ready, reason
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]

KEY = "e2e-mackerel-key-6b1d93"
RECEIVER = "http://127.0.0.1:9/mackerel"


@pytest.fixture
def mackerel(sandbox: Sandbox) -> MackerelSimulator:
    sim = MackerelSimulator(keys={KEY: READ_WRITE})
    url = sandbox.serve(sim)
    sandbox.add_platform("mackerel", "mackerel", url, {"token": KEY}, {})
    return sim


def monitor_routed_to(sim: MackerelSimulator, group: str) -> str:
    monitor = sim.add_monitor(f"{group} cpu")
    sim.add_notification_group(group, monitors=[monitor])
    return monitor


def create(sandbox: Sandbox, **mackerel: Any) -> str:
    sandbox.create(
        "pay",
        platform="mackerel",
        displayName="payments",
        webhook={"url": RECEIVER},
        mackerel={"events": ["alert"], **mackerel},
    )
    return str(sandbox.wait_ready("pay")["webhookId"])


def test_open_alerts_follow_alerts_opened_and_closed(
    sandbox: Sandbox, mackerel: MackerelSimulator
) -> None:
    ours = monitor_routed_to(mackerel, "payments")
    theirs = monitor_routed_to(mackerel, "search")
    create(sandbox, notificationGroups=["payments"])
    assert sandbox.status("pay").get("openAlerts") == 0

    first = mackerel.open_alert(ours, deliver=False)
    mackerel.open_alert(ours, deliver=False)
    mackerel.open_alert(theirs, deliver=False)  # routed to another group's channels
    sandbox.wait_status("pay", lambda s: s.get("openAlerts") == 2)
    mackerel.close_alert(first["id"], deliver=False)
    sandbox.wait_status("pay", lambda s: s.get("openAlerts") == 1)


def test_close_open_alerts_on_delete_closes_what_only_this_channel_reported(
    sandbox: Sandbox, mackerel: MackerelSimulator
) -> None:
    ours = monitor_routed_to(mackerel, "payments")
    shared = monitor_routed_to(mackerel, "shared")
    # Not in the default group, which routes every alert to its channels.
    others = mackerel.add_channel(
        "someone else's", url="https://elsewhere.example/hook", add_to_default_group=False
    )
    group = next(g["id"] for g in mackerel.notification_groups() if g["name"] == "shared")
    mackerel.add_to_group(group, str(others["id"]))
    create(sandbox, notificationGroups=["payments", "shared"], closeOpenAlertsOnDelete=True)
    only_ours = [mackerel.open_alert(ours, deliver=False)["id"] for _ in range(2)]
    reported_elsewhere = mackerel.open_alert(shared, deliver=False)["id"]
    sandbox.wait_status("pay", lambda s: s.get("openAlerts") == 3)

    sandbox.delete("pay")
    wait_for(lambda: sandbox.get("pay") is None)

    open_now = {a["id"] for a in mackerel.alerts()}
    assert open_now == {reported_elsewhere}
    for alert_id in only_ours:
        closed = mackerel.alert(alert_id)
        assert closed is not None
        assert "AlertSync" in closed["reason"]
    assert [c["id"] for c in mackerel.channels()] == [others["id"]]


def test_an_unknown_event_is_refused_at_admission(sandbox: Sandbox) -> None:
    with pytest.raises(ApiError) as caught:
        sandbox.create(
            "bad",
            platform="mackerel",
            webhook={"url": RECEIVER},
            mackerel={"events": ["alert", "everything"]},
        )
    assert caught.value.code == 422
    assert "spec.mackerel.events" in caught.value.message


@pytest.mark.parametrize(
    ("mackerel_spec", "field"),
    [
        ({"type": "slack"}, "spec.mackerel.type"),
        ({"notificationGroups": ["no-such-group"]}, "spec.mackerel.notificationGroups"),
    ],
    ids=["not-a-webhook", "missing-group"],
)
def test_bad_input_names_the_field_and_creates_nothing(
    sandbox: Sandbox, mackerel: MackerelSimulator, mackerel_spec: dict[str, Any], field: str
) -> None:
    sandbox.create("pay", platform="mackerel", webhook={"url": RECEIVER}, mackerel=mackerel_spec)
    status = sandbox.wait_status("pay", lambda s: reason(s) == "InvalidSpec")
    assert ready(status) == "False"
    assert status["lastError"].startswith(field)
    sandbox.assert_quiet("pay")
    assert mackerel.channels() == []
    assert mackerel.requests.count("POST") == 0


def test_credentials_in_the_webhook_url_reach_the_platform_but_are_shown_masked(
    sandbox: Sandbox, mackerel: MackerelSimulator
) -> None:
    token = "e2e-url-token-51c9ad"
    url = f"https://hooks.example/mackerel?team=pay&token={token}"
    sandbox.create("pay", platform="mackerel", displayName="payments", webhook={"url": url})
    status = sandbox.wait_ready("pay")
    assert status["webhookUrl"] == "https://hooks.example/mackerel?team=pay&token=[REDACTED]"
    [channel] = mackerel.channels()
    assert channel["url"] == url
    sandbox.assert_quiet("pay")  # the masked URL is not taken for drift
    # The spec is the user's own; what AlertSync writes shows the URL masked.
    assert token not in str(sandbox.status("pay"))
    assert token not in str(sandbox.events("pay"))


def test_a_url_fixed_in_its_secret_ends_the_stall_without_a_spec_change(
    sandbox: Sandbox, mackerel: MackerelSimulator
) -> None:
    """Stalled waits for what the pass read to change: the Secret it names counts too."""
    sandbox.add_secret("pay-webhook", {"url": "not a url"})
    sandbox.create(
        "pay",
        platform="mackerel",
        displayName="payments",
        webhook={"urlSecretRef": {"name": "pay-webhook", "key": "url"}},
        mackerel={"events": ["alert"]},
    )
    status = sandbox.wait_status("pay", lambda s: reason(s) == "InvalidSpec")
    assert "spec.webhook.urlSecretRef" in status["conditions"][0]["message"]
    listings = mackerel.requests.count("GET")
    wait_for(lambda: mackerel.requests.count("GET") >= listings + 2, timeout=15)  # resyncs
    assert mackerel.requests.count("POST") == 0

    sandbox.k8s.update_object(
        "secrets", "pay-webhook", {"stringData": {"url": RECEIVER}}, namespace="default"
    )
    status = sandbox.wait_ready("pay", timeout=15)
    assert status["observedGeneration"] == 1  # no spec change was needed
    assert [c["url"] for c in mackerel.channels() if c["type"] == "webhook"] == [RECEIVER]
