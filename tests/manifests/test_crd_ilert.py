"""The CRD's spec.ilert block and ILertSpec describe the same fields, values and defaults."""

import re
from typing import Any

import pytest

from alertsync.errors import InvalidSpecError
from alertsync.models import AlertIntegrationSpec, ILertSpec
from alertsync.models.common import parse_spec
from alertsync.models.ilert import (
    ALERT_CREATIONS,
    ALERT_PRIORITY_RULES,
    DURATION_PATTERN,
    INTEGRATION_TYPES,
)
from tests.support.crds import integration_block
from tests.support.samples import sandbox_samples


def block() -> dict[str, Any]:
    return integration_block("ilert")


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
    samples = sandbox_samples("ilert", "http://127.0.0.1:18091")
    key = samples.platform_spec.credentials_secret_ref.key
    assert samples.secret["stringData"][key] == "sandbox-ilert-token"
    spec = samples.integration_spec
    assert spec.ilert is not None
    assert spec.ilert.integration_type == "PROMETHEUS"
