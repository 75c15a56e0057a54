"""Label selectors, as ClusterAlertPlatform.spec.namespaceSelector uses them."""

import pytest
from pydantic import ValidationError

from alertsync.models import LabelSelector


@pytest.mark.parametrize(
    ("selector", "labels", "selected"),
    [
        ({}, {}, True),
        ({"matchLabels": {"team": "pay"}}, {"team": "pay", "x": "y"}, True),
        ({"matchLabels": {"team": "pay"}}, {"team": "search"}, False),
        ({"matchLabels": {"team": "pay"}}, {}, False),
        (
            {"matchExpressions": [{"key": "team", "operator": "In", "values": ["a", "b"]}]},
            {"team": "b"},
            True,
        ),
        ({"matchExpressions": [{"key": "team", "operator": "In", "values": ["a"]}]}, {}, False),
        ({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["a"]}]}, {}, True),
        (
            {"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["a"]}]},
            {"team": "a"},
            False,
        ),
        ({"matchExpressions": [{"key": "prod", "operator": "Exists"}]}, {"prod": ""}, True),
        ({"matchExpressions": [{"key": "prod", "operator": "DoesNotExist"}]}, {"prod": ""}, False),
        (
            {
                "matchLabels": {"tier": "1"},
                "matchExpressions": [{"key": "team", "operator": "Exists"}],
            },
            {"tier": "1"},
            False,
        ),
    ],
)
def test_every_requirement_must_hold(
    selector: dict[str, object], labels: dict[str, str], selected: bool
) -> None:
    assert LabelSelector.model_validate(selector).matches(labels) is selected


@pytest.mark.parametrize(
    "requirement",
    [
        {"key": "team", "operator": "In"},
        {"key": "team", "operator": "Exists", "values": ["a"]},
        {"key": "team", "operator": "Near", "values": ["a"]},
    ],
)
def test_malformed_requirements_are_refused(requirement: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LabelSelector.model_validate({"matchExpressions": [requirement]})
