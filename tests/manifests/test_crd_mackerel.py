"""The CRD's spec.mackerel block and MackerelSpec describe the same fields and values."""

from typing import Any, get_args

import pytest
from pydantic import ValidationError

from alertsync.errors import InvalidSpecError
from alertsync.models import AlertIntegrationSpec, MackerelSpec
from alertsync.models.common import parse_spec
from alertsync.models.mackerel import MACKEREL_EVENTS, MackerelChannelType, MackerelEvent
from tests.support.crds import integration_block
from tests.support.samples import sandbox_samples


def block() -> dict[str, Any]:
    return integration_block("mackerel")


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
    samples = sandbox_samples("mackerel", "http://127.0.0.1:18093")
    key = samples.platform_spec.credentials_secret_ref.key
    assert samples.secret["stringData"][key] == "sandbox-mackerel-key"
    spec = samples.integration_spec
    assert spec.mackerel is not None
    assert spec.webhook is not None
