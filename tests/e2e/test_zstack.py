"""ZStack end to end: a create whose job outcome is lost, the endpoint password, bad input."""

import signal
import socket
from typing import Any

import pytest

from alertsim.zstack import ZStackSimulator
from tests.support.sandbox import Sandbox, operator_process, ready, reason, running_operator
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-zstack-password-8d41c2"
SECRET = {"accountName": "admin", "password": PASSWORD}
CREDENTIALS = {"key": "password", "usernameKey": "accountName"}
TOPIC = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
CREATE_PATH = "/zstack/v1/sns/application-endpoints/http"


def zstack(sandbox: Sandbox, **options: Any) -> ZStackSimulator:
    sim = ZStackSimulator(accounts={"admin": PASSWORD}, topics={TOPIC: "alarms"}, **options)
    url = sandbox.serve(sim)
    sandbox.add_platform("zstack", "zstack", url, SECRET, CREDENTIALS)
    return sim


def create(sandbox: Sandbox, **zstack_spec: Any) -> None:
    sandbox.create(
        "pay",
        platform="zstack",
        displayName="payments",
        webhook={"url": "http://127.0.0.1:9/zstack"},
        zstack=zstack_spec,
    )


def test_a_create_whose_job_outcome_is_lost_leaves_exactly_one_endpoint(
    sandbox: Sandbox,
) -> None:
    # The create's job takes 3 s: the operator is killed while it polls for the outcome.
    sim = zstack(sandbox, job_delay=3.0)
    with operator_process(sandbox, stop=signal.SIGKILL):
        create(sandbox, topicUuids=[TOPIC])
        wait_for(lambda: sim.requests.count("POST", CREATE_PATH) == 1, timeout=30)
        # Nothing written ahead of the create: the uuid derived from the uid finds it.
        assert not sandbox.status("pay").get("createPendingSince")
    assert not sandbox.status("pay").get("webhookId")
    # The job finishes while no operator is there to see its outcome.
    wait_for(lambda: len(sim.endpoints()) == 1, timeout=10)

    with running_operator():
        status = sandbox.wait_ready("pay", timeout=30)
        [endpoint] = sim.endpoints()
        assert status["webhookId"] == endpoint["uuid"]
        assert (status["origin"], status["driftCount"]) == ("created", 0)
        assert sim.subscriptions(endpoint["uuid"]) == {TOPIC}
    assert len(sim.endpoints()) == 1
    assert sim.requests.count("POST", CREATE_PATH) == 1


@pytest.mark.usefixtures("operator")
def test_the_endpoint_password_comes_from_a_secret_and_is_shown_nowhere(
    sandbox: Sandbox,
) -> None:
    sim = zstack(sandbox)
    hook_password = "e2e-zstack-hook-password-2b7e90"
    sandbox.secrets.add(hook_password)
    sandbox.create(
        "pay",
        platform="zstack",
        displayName="payments",
        webhook={"url": "http://127.0.0.1:9/zstack"},
        zstack={"username": "alerts", "passwordSecretRef": {"name": "hook-auth"}},
    )
    status = sandbox.wait_status("pay", lambda s: reason(s) == "CredentialsMissing")
    assert (
        "spec.zstack.passwordSecretRef: Secret default/hook-auth does not exist"
        in (status["lastError"])
    )
    assert sim.endpoints() == []

    sandbox.add_secret("hook-auth", {"password": hook_password})
    status = sandbox.wait_ready("pay", timeout=30)
    assert sim.password_of(status["webhookId"]) == hook_password
    assert sim.get(status["webhookId"])["username"] == "alerts"  # type: ignore[index]


@pytest.mark.usefixtures("operator")
def test_an_unreachable_management_node_is_reported_without_a_hot_loop(
    sandbox: Sandbox,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens once the probe is closed
    sandbox.add_platform("zstack", "zstack", f"http://127.0.0.1:{closed}", SECRET, CREDENTIALS)
    create(sandbox)
    status = sandbox.wait_status("pay", lambda s: reason(s) == "PlatformUnavailable")
    assert ready(status) == "False"
    assert "connecting to the platform" in status["lastError"]
    sandbox.assert_quiet("pay")


@pytest.mark.usefixtures("operator")
def test_a_wrong_password_is_reported_and_shown_nowhere(sandbox: Sandbox) -> None:
    sim = ZStackSimulator(accounts={"admin": "the-right-password-71"})
    url = sandbox.serve(sim)
    sandbox.add_platform("zstack", "zstack", url, SECRET, CREDENTIALS)
    create(sandbox)
    status = sandbox.wait_status("pay", lambda s: reason(s) == "CredentialsRejected")
    assert ready(status) == "False"
    assert PASSWORD not in status["lastError"]
    sandbox.assert_quiet("pay")
    assert sim.endpoints() == []


@pytest.mark.usefixtures("operator")
def test_a_topic_that_does_not_exist_names_the_field(sandbox: Sandbox) -> None:
    sim = zstack(sandbox)
    create(sandbox, topicUuids=["ffffffffffffffffffffffffffffffff"])
    status = sandbox.wait_status(
        "pay", lambda s: str(s.get("lastError", "")).startswith("spec.zstack.topicUuids")
    )
    assert ready(status) == "False"
    sandbox.assert_quiet("pay")
    assert sim.endpoints() == []


@pytest.mark.usefixtures("operator")
def test_access_key_signing_instead_of_a_session(sandbox: Sandbox) -> None:
    key_id, key_secret = "E2EACCESSKEYID01", "e2e-zstack-access-secret-4c1f"
    sim = ZStackSimulator(accounts={}, access_keys={key_id: key_secret}, topics={TOPIC: "alarms"})
    url = sandbox.serve(sim)
    sandbox.add_platform(
        "zstack",
        "zstack",
        url,
        {"keyId": key_id, "keySecret": key_secret},
        {"key": "keySecret", "usernameKey": "keyId"},
        authMethod="AccessKey",
    )
    create(sandbox, topicUuids=[TOPIC])
    status = sandbox.wait_ready("pay", timeout=30)
    assert [e["uuid"] for e in sim.endpoints()] == [status["webhookId"]]
    assert sim.requests.count("PUT", "/zstack/v1/accounts/login") == 0  # signed, no session


@pytest.mark.usefixtures("operator")
def test_access_keys_are_for_zstack_only(sandbox: Sandbox) -> None:
    sandbox.apply_platform(authMethod="AccessKey")
    sandbox.create("pay")
    status = sandbox.wait_status("pay", lambda s: reason(s) == "InvalidSpec")
    assert "spec.authMethod" in status["lastError"]
