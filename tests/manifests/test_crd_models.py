"""The CRDs and the pydantic models describe the same API, and the CRDs teach it."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from alertsync.errors import InvalidSpecError
from alertsync.models import (
    AlertIntegrationSpec,
    AlertIntegrationStatus,
    AlertPlatformSpec,
    AlertPlatformStatus,
    GrafanaOnCallSpec,
    WebhookSpec,
    WebhookUrlSecretRef,
)
from alertsync.models.common import DISPLAY_NAME_PATTERN, parse_spec
from alertsync.models.platform import RESYNC_INTERVAL_PATTERN

ROOT = Path(__file__).parents[2]
CRDS = {path.name: yaml.safe_load(path.read_text()) for path in (ROOT / "crds").glob("*.yaml")}


def schema(file: str) -> dict[str, Any]:
    version = CRDS[file]["spec"]["versions"][0]
    result: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return result


def walk(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if "items" in node:
        yield from walk(node["items"], f"{path}[]")


def aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


@pytest.mark.parametrize("file", sorted(CRDS))
def test_every_field_has_a_description(file: str) -> None:
    undocumented = [
        path
        for path, node in walk(schema(file), "")
        if path not in ("", ".metadata") and not node.get("description")
    ]
    assert undocumented == []


@pytest.mark.parametrize("file", sorted(CRDS))
def test_crd_has_status_subresource_short_names_category_and_columns(file: str) -> None:
    spec = CRDS[file]["spec"]
    version = spec["versions"][0]
    assert version["subresources"] == {"status": {}}
    assert spec["names"]["shortNames"]
    assert spec["names"]["categories"] == ["alertsync"]
    columns = {column["name"] for column in version["additionalPrinterColumns"]}
    assert {"Ready", "Age"} <= columns


def test_integration_columns_show_the_state_at_a_glance() -> None:
    version = CRDS["alertsync.dev_alertintegrations.yaml"]["spec"]["versions"][0]
    shown = [c["name"] for c in version["additionalPrinterColumns"] if not c.get("priority")]
    assert shown == ["Platform", "Target", "Current", "Drift", "Ready", "Age"]


@pytest.mark.parametrize(
    ("file", "part", "model"),
    [
        ("alertsync.dev_alertintegrations.yaml", "spec", AlertIntegrationSpec),
        ("alertsync.dev_alertintegrations.yaml", "status", AlertIntegrationStatus),
        ("alertsync.dev_alertplatforms.yaml", "spec", AlertPlatformSpec),
        ("alertsync.dev_alertplatforms.yaml", "status", AlertPlatformStatus),
        ("alertsync.dev_clusteralertplatforms.yaml", "spec", AlertPlatformSpec),
        ("alertsync.dev_clusteralertplatforms.yaml", "status", AlertPlatformStatus),
    ],
)
def test_crd_and_model_have_the_same_fields(file: str, part: str, model: type[BaseModel]) -> None:
    assert set(schema(file)["properties"][part]["properties"]) == aliases(model)


def test_grafana_oncall_block_matches_its_model() -> None:
    block = schema("alertsync.dev_alertintegrations.yaml")["properties"]["spec"]["properties"][
        "grafanaOnCall"
    ]
    assert set(block["properties"]) == aliases(GrafanaOnCallSpec)
    allowed = set(block["properties"]["type"]["enum"])
    for value in allowed:
        GrafanaOnCallSpec.model_validate({"type": value})


def test_platform_kinds_share_one_spec_schema() -> None:
    namespaced = schema("alertsync.dev_alertplatforms.yaml")["properties"]["spec"]["properties"]
    cluster = schema("alertsync.dev_clusteralertplatforms.yaml")["properties"]["spec"]["properties"]
    assert namespaced == cluster


def test_samples_parse_as_models() -> None:
    docs = [
        doc
        for path in sorted((ROOT / "deploy" / "samples").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
    ]
    kinds = {doc["kind"] for doc in docs}
    assert {"AlertPlatform", "AlertIntegration"} <= kinds
    for doc in docs:
        if doc["kind"] == "AlertIntegration":
            AlertIntegrationSpec.model_validate(doc["spec"])
        elif doc["kind"] == "AlertPlatform":
            AlertPlatformSpec.model_validate(doc["spec"])


def test_the_crd_reference_is_current() -> None:
    from tests.support.crd_reference import TARGET, render

    assert TARGET.read_text() == render(), "run `make docs`"


# -- one rule each, in the CRD and the model ---------------------------------------------

PLATFORM_FILES = ("alertsync.dev_alertplatforms.yaml", "alertsync.dev_clusteralertplatforms.yaml")
INTEGRATION = {"platformRef": {"name": "p"}}
PLATFORM = {"productType": "ilert", "url": "https://x", "credentialsSecretRef": {"name": "s"}}


def spec_field(file: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema(file)["properties"]["spec"]["properties"][name]
    return found


def crd_admits(node: dict[str, Any], value: str) -> bool:
    """As an API server matches a CRD pattern: anywhere, so the anchors decide."""
    return re.search(node["pattern"], value) is not None and len(value) >= node.get("minLength", 0)


def model_json_pattern(model: type[BaseModel], name: str) -> str:
    node = model.model_json_schema(by_alias=True)["properties"][name]
    options = node.get("anyOf", [node])  # Optional fields: [{type: string, ...}, {type: null}]
    found: str = next(option["pattern"] for option in options if "pattern" in option)
    return found


# What Grafana OnCall would trim (a DRF CharField strips whitespace) and a blank name.
PADDED_OR_BLANK = [" pay", "pay ", " pay ", " ", "   ", "\tpay", "pay\t", "\npay", "pay\r"]


@pytest.mark.parametrize("value", PADDED_OR_BLANK)
@pytest.mark.parametrize(
    ("file", "model", "base"),
    [
        ("alertsync.dev_alertintegrations.yaml", AlertIntegrationSpec, INTEGRATION),
        *((file, AlertPlatformSpec, PLATFORM) for file in PLATFORM_FILES),
    ],
)
def test_a_name_a_platform_would_trim_is_refused_by_the_crd_and_the_model(
    file: str, model: type[BaseModel], base: dict[str, Any], value: str
) -> None:
    node = spec_field(file, "displayName")
    assert node["pattern"] == DISPLAY_NAME_PATTERN == model_json_pattern(model, "displayName")
    assert not crd_admits(node, value)
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(model, {**base, "displayName": value})
    assert caught.value.message == "spec.displayName: must not start or end with spaces or be blank"


@pytest.mark.parametrize(
    "value", ["pay", "p", "team-a / pay (prod)", "a  b", "zahlungs-ä", "x" * 150]
)
def test_a_name_stored_as_written_is_admitted_by_both(value: str) -> None:
    node = spec_field("alertsync.dev_alertintegrations.yaml", "displayName")
    assert crd_admits(node, value)
    spec = parse_spec(AlertIntegrationSpec, {**INTEGRATION, "displayName": value})
    assert spec.display_name == value


def test_a_name_on_two_lines_is_refused_by_both() -> None:
    node = spec_field("alertsync.dev_alertintegrations.yaml", "displayName")
    assert not crd_admits(node, "pay\nments")
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(AlertIntegrationSpec, {**INTEGRATION, "displayName": "pay\nments"})
    assert caught.value.message == "spec.displayName: must be a single line"


def test_unicode_spaces_at_either_end_are_refused_by_the_model() -> None:
    # An API server's \S is ASCII only (RE2) and admits these; OnCall's trim (str.strip)
    # removes them, so the model refuses them with the same words.
    for value in ("\u00a0pay", "pay\u3000", "\u2003"):
        with pytest.raises(InvalidSpecError, match="must not start or end with spaces"):
            parse_spec(AlertIntegrationSpec, {**INTEGRATION, "displayName": value})


RESYNC = [
    ("", None),
    ("0s", None),
    ("0m", None),
    ("0h0m0s", None),
    ("00s", None),
    ("s", None),
    ("90", None),
    ("1s1m", None),
    ("1.5m", None),
    ("-1s", None),
    ("1s", 1.0),
    ("10s", 10.0),
    ("5m", 300.0),
    ("1h30m", 5400.0),
    ("0h0m1s", 1.0),
    ("1h0m0s", 3600.0),
]


@pytest.mark.parametrize("file", PLATFORM_FILES)
@pytest.mark.parametrize(("value", "seconds"), RESYNC)
def test_resync_interval_is_one_rule_in_the_crd_and_the_model(
    file: str, value: str, seconds: float | None
) -> None:
    node = spec_field(file, "resyncInterval")
    assert node["pattern"] == RESYNC_INTERVAL_PATTERN
    assert model_json_pattern(AlertPlatformSpec, "resyncInterval") == RESYNC_INTERVAL_PATTERN
    assert crd_admits(node, value) is (seconds is not None)
    raw = {**PLATFORM, "resyncInterval": value}
    if seconds is None:
        with pytest.raises(InvalidSpecError) as caught:
            parse_spec(AlertPlatformSpec, raw)
        assert caught.value.message == (
            f"spec.resyncInterval: must be a duration of at least 1s, such as 30s, 5m or 1h30m "
            f"(got {json.dumps(value)})"
        )
    else:
        assert parse_spec(AlertPlatformSpec, raw).resync_seconds == seconds


def test_resync_interval_default_is_the_models() -> None:
    node = spec_field("alertsync.dev_alertplatforms.yaml", "resyncInterval")
    assert node["default"] == parse_spec(AlertPlatformSpec, PLATFORM).resync_interval == "5m"
    assert parse_spec(AlertPlatformSpec, PLATFORM).resync_seconds == 300.0


WEBHOOK_RULE = "has(self.url) != has(self.urlSecretRef)"


def test_the_webhook_block_offers_a_url_or_a_secret_holding_it() -> None:
    webhook = spec_field("alertsync.dev_alertintegrations.yaml", "webhook")
    assert set(webhook["properties"]) == aliases(WebhookSpec)
    assert "required" not in webhook
    ref = webhook["properties"]["urlSecretRef"]
    assert set(ref["properties"]) == aliases(WebhookUrlSecretRef)
    assert ref["required"] == ["name"]
    assert ref["properties"]["key"]["default"] == WebhookUrlSecretRef(name="s").key == "url"
    assert [rule["rule"] for rule in webhook["x-kubernetes-validations"]] == [WEBHOOK_RULE]


@pytest.mark.parametrize(
    ("webhook", "source"),
    [
        ({"url": "https://hooks.example/a"}, "https://hooks.example/a"),
        ({"urlSecretRef": {"name": "hook"}}, WebhookUrlSecretRef(name="hook", key="url")),
        ({"urlSecretRef": {"name": "hook", "key": "u"}}, WebhookUrlSecretRef(name="hook", key="u")),
        ({"url": "https://hooks.example/a", "urlSecretRef": {"name": "hook"}}, None),
        ({}, None),
    ],
)
def test_exactly_one_webhook_source_in_the_crd_and_the_model(
    webhook: dict[str, Any], source: object
) -> None:
    crd_rule = ("url" in webhook) != ("urlSecretRef" in webhook)  # WEBHOOK_RULE, as CEL reads it
    assert crd_rule is (source is not None)
    raw = {**INTEGRATION, "webhook": webhook}
    if source is None:
        with pytest.raises(InvalidSpecError) as caught:
            parse_spec(AlertIntegrationSpec, raw)
        assert caught.value.message == "spec.webhook: set exactly one of url and urlSecretRef"
    else:
        spec = parse_spec(AlertIntegrationSpec, raw)
        assert spec.webhook is not None
        assert spec.webhook.source == source


def test_the_wide_column_of_the_platform_id_says_it_is_an_id() -> None:
    version = CRDS["alertsync.dev_alertintegrations.yaml"]["spec"]["versions"][0]
    columns = {c["name"]: c for c in version["additionalPrinterColumns"]}
    assert "Webhook" not in columns
    assert columns["Webhook-ID"]["jsonPath"] == ".status.webhookId"
    assert columns["Webhook-ID"]["priority"] == 1
