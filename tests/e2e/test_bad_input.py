"""Bad input: refused at admission, or Ready=False naming the field, with no platform call."""

import json
import logging
from typing import Any

import pytest
from prometheus_client import REGISTRY

from alertsim.kubeapi import ApiError
from tests.support.sandbox import TOKEN, Sandbox, reason
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"platformRef": {"name": "oncall"}, "targetState": "paused"}, "spec.targetState"),
        ({"platformRef": {"name": "oncall"}, "grafanaOnCall": {"type": "pager"}}, "type"),
        ({"platformRef": {"name": "oncall"}, "displayName": "x" * 151}, "spec.displayName"),
        # Grafana OnCall trims names: a padded one would be "repaired" for ever.
        ({"platformRef": {"name": "oncall"}, "displayName": " pay "}, "spec.displayName"),
        ({"platformRef": {"name": "oncall"}, "displayName": "   "}, "spec.displayName"),
        ({"platformRef": {"kind": "Platform", "name": "oncall"}}, "spec.platformRef.kind"),
        ({"targetState": "enabled"}, "platformRef"),
        ({"platformRef": {"name": "oncall"}, "deletionPolicy": "Keep"}, "spec.deletionPolicy"),
    ],
)
def test_schema_rejects_bad_specs_at_admission(
    sandbox: Sandbox, spec: dict[str, Any], field: str
) -> None:
    body = {
        "apiVersion": "alertsync.dev/v1alpha1",
        "kind": "AlertIntegration",
        "metadata": {"name": "bad"},
        "spec": spec,
    }
    with pytest.raises(ApiError) as caught:
        sandbox.k8s.create_object("alertintegrations", body, namespace="default")
    assert caught.value.code == 422
    assert field in caught.value.message


def test_a_very_long_display_name_is_refused_naming_the_limit_not_echoing_it(
    sandbox: Sandbox,
) -> None:
    body = {
        "apiVersion": "alertsync.dev/v1alpha1",
        "kind": "AlertIntegration",
        "metadata": {"name": "bad"},
        "spec": {"platformRef": {"name": "oncall"}, "displayName": "x" * 10_000},
    }
    with pytest.raises(ApiError) as caught:
        sandbox.k8s.create_object("alertintegrations", body, namespace="default")
    assert caught.value.code == 422
    assert caught.value.message == (
        'AlertIntegration.alertsync.dev "bad" is invalid: '
        "spec.displayName: Too long: may not be more than 150 bytes"
    )
    # The whole Status a client receives, causes included, not the 10,000 characters.
    assert len(json.dumps(caught.value.status())) < 1024


@pytest.mark.usefixtures("operator")
def test_block_for_another_product_names_the_field_and_calls_no_platform(
    sandbox: Sandbox,
) -> None:
    sandbox.apply_platform(resync="1s")
    sandbox.create("pay", ilert={"integrationType": "API", "escalationPolicyId": 1})
    status = sandbox.wait_status("pay", lambda s: reason(s) == "InvalidSpec")
    assert status["lastError"].startswith("spec.ilert:")
    assert "spec.grafanaOnCall" in status["lastError"]
    sandbox.assert_quiet("pay")
    assert sandbox.oncall.requests.count("POST") == sandbox.oncall.requests.count("PUT") == 0
    # Nothing the user declared is lost.
    declared = sandbox.get("pay")["spec"]["ilert"]  # type: ignore[index]
    assert (declared["integrationType"], declared["escalationPolicyId"]) == ("API", 1)


@pytest.mark.usefixtures("operator")
def test_missing_secret_is_reported_and_picked_up_once_it_exists(sandbox: Sandbox) -> None:
    sandbox.apply_platform(secret=False)
    sandbox.create("pay", displayName="pay")
    status = sandbox.wait_status("pay", lambda s: reason(s) == "CredentialsMissing")
    assert "Secret default/oncall-token" in status["lastError"]
    assert "spec.credentialsSecretRef" in status["lastError"]
    wait_for(lambda: sandbox.platform_status().get("credentials") == "Missing")
    sandbox.assert_quiet("pay")
    assert sandbox.oncall.requests.total == 0

    sandbox.add_secret("oncall-token", {"token": TOKEN})
    status = sandbox.wait_ready("pay", timeout=15)
    assert len(sandbox.oncall.integrations()) == 1


@pytest.mark.usefixtures("operator")
def test_secret_without_the_key_names_the_key(sandbox: Sandbox) -> None:
    sandbox.apply_platform(credentialsSecretRef={"name": "oncall-token", "key": "apiKey"})
    sandbox.create("pay", displayName="pay")
    status = sandbox.wait_status("pay", lambda s: reason(s) == "CredentialsMissing")
    assert "no key 'apiKey'" in status["lastError"]
    assert "spec.credentialsSecretRef.key" in status["lastError"]
    assert sandbox.oncall.requests.total == 0


@pytest.mark.usefixtures("operator")
def test_rejected_token_is_reported_on_platform_and_integration(sandbox: Sandbox) -> None:
    sandbox.apply_platform()
    sandbox.k8s.update_object(
        "secrets",
        "oncall-token",
        {"stringData": {"token": "wrong-token-12345"}},
        namespace="default",
    )
    sandbox.create("pay", displayName="pay")
    status = sandbox.wait_status("pay", lambda s: reason(s) == "CredentialsRejected")
    assert "403 Invalid token." in status["lastError"]
    assert "wrong-token-12345" not in sandbox.everything()
    wait_for(lambda: sandbox.platform_status().get("credentials") == "Rejected")


@pytest.mark.usefixtures("operator")
def test_unknown_platform_names_the_reference(sandbox: Sandbox) -> None:
    sandbox.create("pay", displayName="pay", platformRef={"name": "nope"})
    status = sandbox.wait_status("pay", lambda s: reason(s) == "InvalidSpec")
    assert status["lastError"] == (
        "spec.platformRef.name: AlertPlatform 'nope' not found in namespace default"
    )


@pytest.mark.usefixtures("operator")
def test_a_token_with_a_trailing_newline_works(sandbox: Sandbox) -> None:
    # kubectl create secret --from-file keeps the file's last newline.
    sandbox.add_platform(
        "oncall", "grafana-oncall", sandbox.oncall_url, {"token": TOKEN + "\n"}, {}
    )
    sandbox.create("pay", displayName="pay")
    sandbox.wait_ready("pay")


@pytest.mark.usefixtures("operator")
def test_a_stalled_integration_costs_nothing_until_its_spec_changes(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 14: no request, no log line above debug, no metric per resync while Stalled."""
    sandbox.apply_platform(resync="1s")
    sandbox.create("pay", displayName="pay", grafanaOnCall={"escalationChainId": "FNOSUCHCHAIN"})
    status = sandbox.wait_status("pay", lambda s: reason(s) == "PlatformRejected")
    assert any(c["type"] == "Stalled" and c["status"] == "True" for c in status["conditions"])
    requests = sandbox.oncall.requests
    wait_for(lambda: requests.count("GET", "/api/v1/integrations/") >= 1)

    def counted() -> float:
        labels = {"platform": "grafana-oncall", "result": "PlatformRejected"}
        return REGISTRY.get_sample_value("alertsync_reconciles_total", labels) or 0.0

    before, listings, metric = requests.count("POST"), requests.count("GET"), counted()
    caplog.clear()
    # Three resyncs later: listed each time, and nothing else done for it.
    wait_for(lambda: requests.count("GET") >= listings + 3, timeout=15)
    assert requests.count("POST") == before
    assert counted() == metric
    said = [r for r in caplog.records if r.levelno > logging.DEBUG and "pay" in r.getMessage()]
    assert said == []
    sandbox.assert_quiet("pay", seconds=1.0)

    # A new generation is worked on at once, not after an old backoff.
    sandbox.patch_spec("pay", {"grafanaOnCall": {"escalationChainId": None}})
    sandbox.wait_ready("pay", timeout=20)  # Stalled: only the new generation runs it again
    assert requests.count("POST") == before + 1
