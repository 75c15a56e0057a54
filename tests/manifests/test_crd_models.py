"""The CRDs and the pydantic models describe the same API, and the CRDs teach it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from alertsync.models import (
    AlertIntegrationSpec,
    AlertIntegrationStatus,
    AlertPlatformSpec,
    AlertPlatformStatus,
    GrafanaOnCallSpec,
)

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
