"""The CRD's spec.confluent block and ConfluentSpec describe the same API."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from alertsync.models import ConfluentSpec
from alertsync.models.confluent import READ_ONLY_TARGET_KINDS, WRITABLE_TARGET_KINDS
from tests.support.crds import integration_block
from tests.support.samples import sandbox_samples

ROOT = Path(__file__).parents[2]


def block() -> dict[str, Any]:
    return integration_block("confluent")


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
    samples = sandbox_samples("confluent", "http://127.0.0.1:18092")
    ref = samples.platform_spec.credentials_secret_ref
    assert (ref.key, ref.username_key) == ("apiSecret", "apiKey")
    assert samples.secret["stringData"] == {
        "apiKey": "sandbox-confluent-key",
        "apiSecret": "sandbox-confluent-secret",
    }
    parsed = samples.integration_spec
    assert isinstance(parsed.confluent, ConfluentSpec)
    assert parsed.webhook is not None
    assert parsed.display_name is not None
    assert len(parsed.display_name) <= 64
