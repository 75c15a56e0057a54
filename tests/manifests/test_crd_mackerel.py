"""The CRD's spec.mackerel block and MackerelSpec describe the same fields and values."""

from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import ValidationError

from alertsync.errors import InvalidSpecError
from alertsync.models import AlertIntegrationSpec, AlertPlatformSpec, MackerelSpec
from alertsync.models.common import parse_spec
from alertsync.models.mackerel import MACKEREL_EVENTS, MackerelChannelType, MackerelEvent

ROOT = Path(__file__).parents[2]
CRD = yaml.safe_load((ROOT / "crds" / "alertsync.dev_alertintegrations.yaml").read_text())


def block() -> dict[str, Any]:
    schema = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    found: dict[str, Any] = schema["properties"]["spec"]["properties"]["mackerel"]
    return found


def test_mackerel_block_matches_its_model() -> None:
    properties = block()["properties"]
    assert set(properties) == {
        field.alias or name for name, field in MackerelSpec.model_fields.items()
    }
    assert "x-kubernetes-preserve-unknown-fields" not in block()


def test_enums_are_the_models_values() -> None:
    properties = block()["properties"]
    assert properties["type"]["enum"] == list(get_args(MackerelChannelType))
    assert properties["events"]["items"]["enum"] == list(get_args(MackerelEvent))
    assert list(MACKEREL_EVENTS) == list(get_args(MackerelEvent))


def test_defaults_are_the_models_defaults() -> None:
    properties = block()["properties"]
    defaults = MackerelSpec()
    assert properties["type"]["default"] == defaults.type
    assert properties["nameSuffix"]["default"] is defaults.name_suffix
    assert properties["closeOpenAlertsOnDelete"]["default"] is defaults.close_open_alerts_on_delete


def test_an_unknown_event_is_refused_naming_the_field() -> None:
    raw = {"platformRef": {"name": "mackerel"}, "mackerel": {"events": ["alert", "alarm"]}}
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(AlertIntegrationSpec, raw)
    assert caught.value.field == "spec.mackerel.events.1"
    assert '"alertGroup"' in caught.value.message
    assert caught.value.message.endswith('(got "alarm")')


def test_events_need_at_least_one() -> None:
    with pytest.raises(ValidationError):
        MackerelSpec.model_validate({"events": []})
    assert block()["properties"]["events"]["minItems"] == 1


def test_the_mackerel_samples_parse_and_point_at_the_sandbox() -> None:
    samples = ROOT / "deploy" / "samples"
    platform_docs = list(
        yaml.safe_load_all(
            (samples / "alertsync.dev_v1alpha1_alertplatform-mackerel.yaml").read_text()
        )
    )
    secret = next(doc for doc in platform_docs if doc["kind"] == "Secret")
    platform = next(doc for doc in platform_docs if doc["kind"] == "AlertPlatform")
    parsed = AlertPlatformSpec.model_validate(platform["spec"])
    assert parsed.product_type.value == "mackerel"
    assert parsed.url == "http://127.0.0.1:18093"
    key = platform["spec"]["credentialsSecretRef"]["key"]
    assert secret["stringData"][key] == "sandbox-mackerel-key"

    integration = yaml.safe_load(
        (samples / "alertsync.dev_v1alpha1_alertintegration-mackerel.yaml").read_text()
    )
    spec = AlertIntegrationSpec.model_validate(integration["spec"])
    assert spec.platform_ref.name == platform["metadata"]["name"]
    assert spec.mackerel is not None
    assert spec.webhook is not None
