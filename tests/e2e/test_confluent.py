"""Confluent end to end: delivery tests to a real receiver, rate limits, bad input."""

from typing import Any

import pytest

from alertsim.confluent import ApiKey, ConfluentSimulator, Rate
from alertsim.kubeapi import ApiError
from alertsim.receiver import Receiver
from tests.support.sandbox import Sandbox, ready, reason
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]

KEY_ID, SECRET = "E2ECONFLUENT9D2", "e2e-confluent-secret-3f8a61"
CREDENTIALS = {"key": "apiSecret", "usernameKey": "apiKey"}


def platform(sandbox: Sandbox, rate: Rate | None = None) -> ConfluentSimulator:
    sim = ConfluentSimulator(keys={KEY_ID: ApiKey(SECRET)}, rate=rate)
    url = sandbox.serve(sim)
    secret = {"apiKey": KEY_ID, "apiSecret": SECRET}
    sandbox.add_platform("confluent", "confluent", url, secret, CREDENTIALS)
    return sim


@pytest.fixture
def confluent(sandbox: Sandbox) -> ConfluentSimulator:
    return platform(sandbox)


def create(sandbox: Sandbox, name: str, url: str, **confluent: Any) -> None:
    sandbox.create(
        name,
        platform="confluent",
        displayName=name,
        webhook={"url": url},
        confluent={"targetKind": "Webhook", **confluent},
    )


def test_the_delivery_test_reaches_a_real_receiver_after_each_target_change(
    sandbox: Sandbox, confluent: ConfluentSimulator
) -> None:
    receiver = Receiver()
    base = sandbox.serve(receiver)
    create(sandbox, "kafka", f"{base}/first", testOnChange=True)
    status = sandbox.wait_status(
        "kafka", lambda s: bool(s.get("lastTestAt")) and ready(s) == "True"
    )
    delivered = next(c for c in status["conditions"] if c["type"] == "Delivered")
    assert (delivered["status"], delivered["reason"]) == ("True", "Delivered")
    assert len(receiver.received("/first")) == 1

    sandbox.patch_spec("kafka", {"webhook": {"url": f"{base}/second"}})
    wait_for(lambda: receiver.received("/second"))
    assert len(receiver.received("/first")) == 1  # no test without a target change

    receiver.status = 503
    sandbox.patch_spec("kafka", {"webhook": {"url": f"{base}/third"}})
    status = sandbox.wait_status(
        "kafka",
        lambda s: any(c["type"] == "Delivered" and c["status"] == "False" for c in s["conditions"]),
    )
    assert ready(status) == "True"  # the integration is there; its receiver is not well
    failed = wait_for(
        lambda: [e for e in sandbox.events("kafka") if e["reason"] == "DeliveryFailed"]
    )
    assert failed[0]["type"] == "Warning"


def test_without_test_on_change_nothing_is_delivered(
    sandbox: Sandbox, confluent: ConfluentSimulator
) -> None:
    receiver = Receiver()
    create(sandbox, "kafka", f"{sandbox.serve(receiver)}/hook")
    status = sandbox.wait_ready("kafka")
    assert "lastTestAt" not in status
    assert receiver.received() == []


def test_a_spent_window_is_waited_for_never_sent_into_and_shown_in_status(
    sandbox: Sandbox,
) -> None:
    sim = platform(sandbox, rate=Rate(limit=4, window=30))
    for number in range(4):
        create(sandbox, f"kafka-{number}", f"http://127.0.0.1:9/{number}")

    limited = wait_for(
        lambda: [
            s
            for number in range(4)
            if "rate limited by the platform until"
            in (s := sandbox.status(f"kafka-{number}")).get("lastError", "")
        ]
    )
    assert reason(limited[0]) == "RateLimited"
    assert sim.rate_limited == 0  # not one request sent into the spent window


def test_an_invalid_url_is_refused_at_admission(sandbox: Sandbox) -> None:
    with pytest.raises(ApiError) as caught:
        create(sandbox, "bad", "not a url")
    assert caught.value.code == 422
    assert "spec.webhook.url" in caught.value.message


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"confluent": {"targetKind": "RoleEmail"}}, "spec.confluent.targetKind"),
        ({"displayName": "k" * 65}, "spec.displayName"),
    ],
    ids=["email-kind", "long-name"],
)
def test_bad_input_names_the_field_and_creates_nothing(
    sandbox: Sandbox, confluent: ConfluentSimulator, spec: dict[str, Any], field: str
) -> None:
    body = {"displayName": "kafka", "webhook": {"url": "http://127.0.0.1:9/x"}, **spec}
    sandbox.create("pay", platform="confluent", **body)
    status = sandbox.wait_status("pay", lambda s: reason(s) == "InvalidSpec")
    assert ready(status) == "False"
    assert status["lastError"].startswith(field)
    sandbox.assert_quiet("pay")
    assert confluent.requests.count("POST") == 0
