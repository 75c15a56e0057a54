"""alertsync.records: what is read from a resource before (or without) parsing its spec,
decided once, and the same as the parsed spec says."""

import json
from typing import Any

import pytest

from alertsync.models import AlertIntegrationSpec, AlertPlatformSpec, PlatformKind, ProductType
from alertsync.models.common import parse_spec
from alertsync.records import IntegrationRecord, PlatformRecord, platform_of, platform_ref


def integration(spec: dict[str, Any]) -> IntegrationRecord:
    return IntegrationRecord(
        namespace="payments", name="alerts", uid="u1", generation=1, spec=spec, status={}
    )


def platform(spec: dict[str, Any]) -> PlatformRecord:
    return PlatformRecord(
        kind=PlatformKind.NAMESPACED,
        namespace="payments",
        name="oncall",
        uid="p1",
        generation=1,
        spec=spec,
        status={},
    )


@pytest.mark.parametrize(
    ("spec", "ref", "key"),
    [
        ({"platformRef": {"name": "oncall"}}, ("AlertPlatform", "oncall"), "payments"),
        (
            {"platformRef": {"kind": "ClusterAlertPlatform", "name": "shared"}},
            ("ClusterAlertPlatform", "shared"),
            None,
        ),
        ({}, ("AlertPlatform", ""), "payments"),
        ({"platformRef": "oncall"}, ("AlertPlatform", ""), "payments"),
    ],
)
def test_the_platform_ref_is_read_one_way_for_keys_and_labels(
    spec: dict[str, Any], ref: tuple[str, str], key: str | None
) -> None:
    assert platform_ref(spec) == ref
    assert platform_of(spec, "payments") == (ref[0], key, ref[1])
    assert integration(spec).platform == (ref[0], key, ref[1])


def test_an_integrations_name_on_the_platform_is_the_parsed_specs() -> None:
    ref = {"platformRef": {"name": "oncall"}}
    for spec in ({**ref, "displayName": "pay alerts"}, ref):
        parsed = parse_spec(AlertIntegrationSpec, spec)
        assert integration(spec).display_name == parsed.name_on_platform("payments", "alerts")
    assert integration(ref).display_name == "payments/alerts"
    assert integration({**ref, "displayName": "pay alerts"}).display_name == "pay alerts"


def test_a_platforms_name_and_product_are_the_parsed_specs_and_tolerate_a_bad_spec() -> None:
    spec = {
        "productType": "ilert",
        "url": "https://api.ilert.example",
        "credentialsSecretRef": {"name": "ilert"},
    }
    for written in ({**spec, "displayName": "iLert prod"}, spec):
        parsed = parse_spec(AlertPlatformSpec, written)
        record = platform(written)
        assert record.display_name == parsed.name_of("oncall")
        assert record.product_type is parsed.product_type is ProductType.ILERT
    assert platform(spec).display_name == "oncall"
    assert platform({"productType": "pagerduty"}).product_type is None
    assert platform({}).product_type is None


def test_records_of_separately_parsed_bodies_share_their_keys_and_short_strings() -> None:
    """10,000 records must not each hold their own "lastTransitionTime" (memory per replica)."""
    text = json.dumps(
        {
            "metadata": {"namespace": "payments", "name": "alerts", "uid": "u1"},
            "spec": {"platformRef": {"name": "oncall"}, "displayName": "pay alerts"},
            "status": {
                "webhookUrl": "https://oncall.example.com/integrations/v1/webhook/" + "x" * 30,
                "conditions": [{"type": "Ready", "lastTransitionTime": "2026-12-07T12:00:00Z"}],
            },
        }
    )
    first, second = (IntegrationRecord.from_body(json.loads(text)) for _ in range(2))
    [one], [two] = first.status["conditions"], second.status["conditions"]
    assert all(a is b for a, b in zip(one, two, strict=True))  # the keys
    assert one["lastTransitionTime"] is two["lastTransitionTime"]
    assert first.spec["platformRef"]["name"] is second.spec["platformRef"]["name"]
    # A deep copy still: the body can change without changing the record.
    body = json.loads(text)
    record = IntegrationRecord.from_body(body)
    body["status"]["conditions"][0]["type"] = "Stalled"
    assert record.status["conditions"][0]["type"] == "Ready"
    assert record.status == json.loads(text)["status"]
