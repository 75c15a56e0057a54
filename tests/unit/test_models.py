"""What a user reads when a spec is refused: AlertSync's words, the field, the limit.

Each row is a bad spec and the exact message it earns; none may carry pydantic's
wording, and none may echo a long value whole.
"""

from typing import Any

import pytest
from pydantic import BaseModel

from alertsync.errors import InvalidSpecError
from alertsync.models import AlertIntegrationSpec, AlertPlatformSpec, ProductType
from alertsync.models.common import parse_spec
from alertsync.models.messages import SHOWN_MAX, explained_pattern, shown
from tests.support.wording import PYDANTIC_DETAILS, PYDANTIC_WORDING

# What pydantic writes and AlertSync must not pass on.
PYDANTIC = (*PYDANTIC_WORDING, *PYDANTIC_DETAILS)

REF = {"platformRef": {"name": "p"}}
PLATFORM = {"productType": "ilert", "url": "https://x", "credentialsSecretRef": {"name": "s"}}

INTEGRATION_CASES: list[tuple[dict[str, Any], str]] = [
    ({}, "spec.platformRef: required"),
    ({"platformRef": "p"}, "spec.platformRef: must be an object (got a string)"),
    ({"platformRef": {"name": 7}}, "spec.platformRef.name: must be a string (got a number)"),
    ({"platformRef": {"name": ""}}, "spec.platformRef.name: must not be empty"),
    (
        {"platformRef": {"name": "p", "kind": "Platform"}},
        'spec.platformRef.kind: must be "AlertPlatform" or "ClusterAlertPlatform" (got "Platform")',
    ),
    (
        {**REF, "targetState": "on"},
        'spec.targetState: must be "enabled" or "disabled" (got "on")',
    ),
    (
        {**REF, "targetstate": "enabled"},
        "spec.targetstate: unknown field: check its spelling and where it is placed",
    ),
    (
        {**REF, "ilert": {"escalationPolicyId": 1}, "mackerel": {}},
        "spec: only one platform block may be set, found spec.ilert, spec.mackerel",
    ),
    ({**REF, "ilert": {}}, "spec.ilert.escalationPolicyId: required"),
    (
        {**REF, "ilert": {"escalationPolicyId": "one"}},
        "spec.ilert.escalationPolicyId: must be an integer (got a string)",
    ),
    (
        {**REF, "ilert": {"escalationPolicyId": 0}},
        "spec.ilert.escalationPolicyId: must be at least 1 (got 0)",
    ),
    (
        {**REF, "ilert": {"escalationPolicyId": 1, "teams": [1, 1]}},
        "spec.ilert.teams: team ids must be unique",
    ),
    (
        {**REF, "ilert": {"escalationPolicyId": 1, "autoResolutionTimeout": "4h"}},
        "spec.ilert.autoResolutionTimeout: must be an ISO-8601 duration in hours and/or "
        'minutes, such as PT4H, PT30M or PT1H30M (got "4h")',
    ),
    (
        {**REF, "mackerel": {"events": []}},
        "spec.mackerel.events: at least 1 item (got 0)",
    ),
    (
        {**REF, "mackerel": {"enabledGraphImage": "maybe"}},
        "spec.mackerel.enabledGraphImage: must be true or false (got a string)",
    ),
    (
        {**REF, "mackerel": {"events": "alert"}},
        "spec.mackerel.events: must be a list (got a string)",
    ),
    (
        {**REF, "grafanaOnCall": {"teamId": "team-a"}},
        "spec.grafanaOnCall.teamId: must be a Grafana OnCall team id: T and capital letters "
        'or digits (got "team-a")',
    ),
    (
        {**REF, "grafanaOnCall": {"templates": {"slack": {"title": 5}}}},
        "spec.grafanaOnCall.templates.slack.title: must be a string (got a number)",
    ),
    (
        {**REF, "zstack": {"passwordSecretRef": {"name": "s"}}},
        "spec.zstack: passwordSecretRef needs username: basic auth sends both",
    ),
    (
        {**REF, "zstack": {"topicUuids": ["ABC"]}},
        "spec.zstack.topicUuids.0: must be a ZStack uuid: 32 lowercase hex digits, no dashes "
        '(got "ABC")',
    ),
    (
        {**REF, "confluent": {"targetKind": "Email"}},
        'spec.confluent.targetKind: must be one of "Webhook", "Slack", "MsTeams", "RoleEmail" '
        'or "UserEmail" (got "Email")',
    ),
    ({**REF, "webhook": {}}, "spec.webhook: set exactly one of url and urlSecretRef"),
    (
        {**REF, "webhook": {"url": "ftp://x"}},
        'spec.webhook.url: must be an http:// or https:// URL without spaces (got "ftp://x")',
    ),
    (
        {**REF, "webhook": {"urlSecretRef": {"key": "url"}}},
        "spec.webhook.urlSecretRef.name: required",
    ),
    (
        {**REF, "displayName": " pay"},
        "spec.displayName: must not start or end with spaces or be blank",
    ),
    (
        {**REF, "displayName": "   "},
        "spec.displayName: must not start or end with spaces or be blank",
    ),
    ({**REF, "displayName": ""}, "spec.displayName: must not be empty"),
    ({**REF, "displayName": "x" * 10_000}, "spec.displayName: at most 150 characters (got 10000)"),
]

# The enum as AlertSync words it: "grafana-oncall", "ilert", ... or "zstack".
_QUOTED = [f'"{product.value}"' for product in ProductType]
_PRODUCTS = f"{', '.join(_QUOTED[:-1])} or {_QUOTED[-1]}"

PLATFORM_CASES: list[tuple[dict[str, Any], str]] = [
    (
        {**PLATFORM, "productType": "pagerduty"},
        f'spec.productType: must be one of {_PRODUCTS} (got "pagerduty")',
    ),
    (
        {**PLATFORM, "resyncInterval": "0s"},
        "spec.resyncInterval: must be a duration of at least 1s, such as 30s, 5m or 1h30m "
        '(got "0s")',
    ),
    (
        {**PLATFORM, "rateLimit": {"requestsPerMinute": 100_001}},
        "spec.rateLimit.requestsPerMinute: must be at most 100000 (got 100001)",
    ),
    (
        {**PLATFORM, "namespaceSelector": {"matchExpressions": [{"key": "k", "operator": "In"}]}},
        "spec.namespaceSelector.matchExpressions.0: In needs values",
    ),
    (
        {**PLATFORM, "displayName": "Prod "},
        "spec.displayName: must not start or end with spaces or be blank",
    ),
    ({**PLATFORM, "credentialsSecretRef": {}}, "spec.credentialsSecretRef.name: required"),
    (
        {**PLATFORM, "authMethod": "Token"},
        'spec.authMethod: must be "Session" or "AccessKey" (got "Token")',
    ),
]

CASES = [(AlertIntegrationSpec, raw, message) for raw, message in INTEGRATION_CASES] + [
    (AlertPlatformSpec, raw, message) for raw, message in PLATFORM_CASES
]


def refusal(model: type[BaseModel], raw: dict[str, Any]) -> InvalidSpecError:
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(model, raw)
    return caught.value


@pytest.mark.parametrize(("model", "raw", "message"), CASES)
def test_each_refusal_is_in_alertsyncs_words(
    model: type[BaseModel], raw: dict[str, Any], message: str
) -> None:
    refused = refusal(model, raw)
    assert refused.message == message
    assert refused.message.startswith(refused.field + ": ")
    assert not [words for words in PYDANTIC if words in refused.message]


def test_where_the_spec_was_read_is_added_to_the_message() -> None:
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(AlertPlatformSpec, {**PLATFORM, "url": 1}, where=" (in AlertPlatform a/b)")
    assert (
        caught.value.message == "spec.url: must be a string (got a number) (in AlertPlatform a/b)"
    )


LONG = "z" * 10_000


@pytest.mark.parametrize(
    ("model", "raw"),
    [
        (AlertIntegrationSpec, {**REF, "targetState": LONG}),
        (
            AlertIntegrationSpec,
            {**REF, "ilert": {"escalationPolicyId": 1, "integrationType": LONG}},
        ),
        (AlertIntegrationSpec, {**REF, "webhook": {"url": "https://" + LONG + " x"}}),
        (AlertIntegrationSpec, {**REF, "webhook": {"url": "https://" + LONG[:500] + " x"}}),
        (AlertIntegrationSpec, {**REF, "ilert": {"escalationPolicyId": 1, "alertCreation": LONG}}),
        (AlertIntegrationSpec, {**REF, "grafanaOnCall": {"teamId": LONG}}),
        (AlertIntegrationSpec, {**REF, "mackerel": {"events": [LONG]}}),
        (AlertPlatformSpec, {**PLATFORM, "resyncInterval": LONG}),
        (AlertPlatformSpec, {**PLATFORM, "url": LONG}),
    ],
)
def test_a_long_value_is_never_echoed_whole(model: type[BaseModel], raw: dict[str, Any]) -> None:
    refused = refusal(model, raw)
    assert "z" * (SHOWN_MAX + 1) not in refused.message
    assert len(refused.message) < 400


def test_a_credential_in_a_refused_url_is_not_echoed() -> None:
    raw = {**REF, "webhook": {"url": "https://alerts:hunter2-secret@hooks.example/a b"}}
    refused = refusal(AlertIntegrationSpec, raw)
    assert refused.field == "spec.webhook.url"
    assert "hunter2" not in refused.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("short", '"short"'),
        (42, "42"),
        (True, "true"),
        (None, "null"),
        ({"a": 1}, "an object"),
        (["a"], "a list"),
    ],
)
def test_shown_values_are_json_like_kubernetes_shows_them(value: object, expected: str) -> None:
    assert shown(value) == expected


def test_shown_cuts_a_long_value_and_says_how_long_it_was() -> None:
    text = shown("y" * 500)
    assert len(text) <= SHOWN_MAX
    assert text.endswith("(502 characters)")  # the JSON form, quotes included


def test_one_pattern_cannot_be_explained_two_ways() -> None:
    """A refusal is worded from its pattern alone: a second platform reusing a pattern
    with another meaning would reword the first platform's refusals."""
    pattern = r"^Q[0-9]+$"
    assert explained_pattern(pattern, "must be a queue id such as Q12") == pattern
    assert explained_pattern(pattern, "must be a queue id such as Q12") == pattern
    with pytest.raises(ValueError, match="explained already"):
        explained_pattern(pattern, "must be a quota id")
