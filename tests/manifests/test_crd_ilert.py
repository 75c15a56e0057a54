"""The CRD's spec.ilert block and ILertSpec describe the same fields, values and defaults."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from alertsync.errors import InvalidSpecError
from alertsync.models import AlertIntegrationSpec, AlertPlatformSpec, ILertSpec
from alertsync.models.common import parse_spec
from alertsync.models.ilert import (
    ALERT_CREATIONS,
    ALERT_PRIORITY_RULES,
    DURATION_PATTERN,
    INTEGRATION_TYPES,
)

ROOT = Path(__file__).parents[2]
CRD = yaml.safe_load((ROOT / "crds" / "alertsync.dev_alertintegrations.yaml").read_text())
SAMPLES = ROOT / "deploy" / "samples"


def block() -> dict[str, Any]:
    schema = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    found: dict[str, Any] = schema["properties"]["spec"]["properties"]["ilert"]
    return found


def test_ilert_block_matches_its_model() -> None:
    assert set(block()["properties"]) == {
        field.alias or name for name, field in ILertSpec.model_fields.items()
    }
    assert block()["required"] == ["escalationPolicyId"]
    assert "x-kubernetes-preserve-unknown-fields" not in block()


def test_enums_patterns_and_defaults_are_the_models() -> None:
    properties = block()["properties"]
    assert properties["integrationType"]["enum"] == list(INTEGRATION_TYPES)
    assert properties["alertCreation"]["enum"] == list(ALERT_CREATIONS)
    assert properties["alertPriorityRule"]["enum"] == list(ALERT_PRIORITY_RULES)
    for name in ("alertGroupingWindow", "autoResolutionTimeout"):
        assert properties[name]["pattern"] == DURATION_PATTERN
    defaults = ILertSpec(escalation_policy_id=1)
    assert properties["integrationType"]["default"] == defaults.integration_type
    assert (
        properties["resolveOpenAlertsOnDelete"]["default"] is defaults.resolve_open_alerts_on_delete
    )
    assert properties["teams"]["x-kubernetes-list-type"] == "set"
    assert properties["escalationPolicyId"]["minimum"] == 1


@pytest.mark.parametrize(
    ("value", "valid"),
    [("PT4H", True), ("PT30M", True), ("PT1H30M", True), ("PT", False), ("4h", False)],
)
def test_the_duration_pattern_holds_in_both(value: str, valid: bool) -> None:
    assert bool(re.fullmatch(DURATION_PATTERN, value)) is valid
    raw = {"escalationPolicyId": 1, "autoResolutionTimeout": value}
    if valid:
        ILertSpec.model_validate(raw)
    else:
        with pytest.raises(ValueError, match="pattern"):
            ILertSpec.model_validate(raw)


def test_an_unknown_integration_type_is_refused_naming_the_field() -> None:
    raw = {
        "platformRef": {"name": "ilert"},
        "ilert": {"escalationPolicyId": 1, "integrationType": "ALERTMANAGER"},
    }
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(AlertIntegrationSpec, raw)
    assert caught.value.field == "spec.ilert.integrationType"
    assert '"ALERTMANAGER" is not an iLert integration type' in caught.value.message
    assert "PROMETHEUS" in caught.value.message
    assert len(caught.value.message) < 300  # no list of every type


def test_an_escalation_policy_is_required() -> None:
    raw = {"platformRef": {"name": "ilert"}, "ilert": {"integrationType": "API"}}
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(AlertIntegrationSpec, raw)
    assert caught.value.field == "spec.ilert.escalationPolicyId"


def test_team_ids_are_a_set() -> None:
    with pytest.raises(ValueError, match="unique"):
        ILertSpec.model_validate({"escalationPolicyId": 1, "teams": [901, 901]})


def test_the_ilert_samples_parse_and_point_at_the_sandbox() -> None:
    docs = list(
        yaml.safe_load_all(
            (SAMPLES / "alertsync.dev_v1alpha1_alertplatform-ilert.yaml").read_text()
        )
    )
    secret = next(doc for doc in docs if doc["kind"] == "Secret")
    platform = next(doc for doc in docs if doc["kind"] == "AlertPlatform")
    parsed = AlertPlatformSpec.model_validate(platform["spec"])
    assert parsed.product_type.value == "ilert"
    assert parsed.url == "http://127.0.0.1:18091"
    key = platform["spec"]["credentialsSecretRef"]["key"]
    assert secret["stringData"][key] == "sandbox-ilert-token"

    integration = yaml.safe_load(
        (SAMPLES / "alertsync.dev_v1alpha1_alertintegration-ilert.yaml").read_text()
    )
    spec = AlertIntegrationSpec.model_validate(integration["spec"])
    assert spec.platform_ref.name == platform["metadata"]["name"]
    assert spec.ilert is not None
    assert spec.ilert.integration_type == "PROMETHEUS"
