"""The CRD's spec.confluent block and ConfluentSpec describe the same API."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from alertsync.models import AlertIntegrationSpec, AlertPlatformSpec, ConfluentSpec
from alertsync.models.confluent import READ_ONLY_TARGET_KINDS, WRITABLE_TARGET_KINDS

ROOT = Path(__file__).parents[2]
CRD = yaml.safe_load((ROOT / "crds" / "alertsync.dev_alertintegrations.yaml").read_text())
SAMPLES = ROOT / "deploy" / "samples"


def block() -> dict[str, Any]:
    spec = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    found: dict[str, Any] = spec["properties"]["confluent"]
    return found


def test_confluent_block_matches_its_model() -> None:
    properties = block()["properties"]
    assert set(properties) == {field.alias for field in ConfluentSpec.model_fields.values()}
    assert "x-kubernetes-preserve-unknown-fields" not in block()
    assert all(node.get("description") for node in properties.values())


def test_the_target_kind_enum_and_default_are_the_models() -> None:
    kind = block()["properties"]["targetKind"]
    assert set(kind["enum"]) == WRITABLE_TARGET_KINDS | READ_ONLY_TARGET_KINDS
    for value in kind["enum"]:
        ConfluentSpec.model_validate({"targetKind": value})
    assert kind["default"] == ConfluentSpec().target_kind
    with pytest.raises(ValidationError):
        ConfluentSpec.model_validate({"targetKind": "Email"})


def test_test_on_change_is_a_boolean_off_by_default() -> None:
    test = block()["properties"]["testOnChange"]
    assert test["type"] == "boolean"
    assert test["default"] is ConfluentSpec().test_on_change is False


def test_the_chart_carries_the_same_crd() -> None:
    chart = ROOT / "charts" / "alertsync" / "crds" / "alertsync.dev_alertintegrations.yaml"
    copied = yaml.safe_load(chart.read_text())
    spec = copied["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["properties"]["confluent"] == block()


def test_the_samples_use_two_part_credentials_and_a_confluent_block() -> None:
    secret, platform = yaml.safe_load_all(
        (SAMPLES / "alertsync.dev_v1alpha1_alertplatform-confluent.yaml").read_text()
    )
    integration = yaml.safe_load(
        (SAMPLES / "alertsync.dev_v1alpha1_alertintegration-confluent.yaml").read_text()
    )
    spec = AlertPlatformSpec.model_validate(platform["spec"])
    assert spec.product_type.value == "confluent"
    assert spec.url == "http://127.0.0.1:18092"
    ref = spec.credentials_secret_ref
    assert (ref.name, ref.key, ref.username_key) == (
        secret["metadata"]["name"],
        "apiSecret",
        "apiKey",
    )
    assert secret["stringData"] == {
        "apiKey": "sandbox-confluent-key",
        "apiSecret": "sandbox-confluent-secret",
    }
    parsed = AlertIntegrationSpec.model_validate(integration["spec"])
    assert isinstance(parsed.confluent, ConfluentSpec)
    assert parsed.platform_ref.name == platform["metadata"]["name"]
    assert parsed.webhook is not None
    assert parsed.display_name is not None
    assert len(parsed.display_name) <= 64
