"""Shared value types of the AlertSync API (group alertsync.dev, version v1alpha1)."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from alertsync.errors import InvalidSpecError

__all__ = [
    "GROUP",
    "VERSION",
    "AdoptionPolicy",
    "CamelModel",
    "CurrentState",
    "DeletionPolicy",
    "ManagementPolicy",
    "PlatformKind",
    "ProductType",
    "TargetState",
    "parse_spec",
]

GROUP = "alertsync.dev"
VERSION = "v1alpha1"


class CamelModel(BaseModel):
    """Base of every CR model: camelCase on the wire, snake_case in Python.

    Unknown fields are refused so that a typo in a spec becomes a clear error
    instead of a silently ignored setting (the CRD schema prunes them on a real
    API server, this catches them everywhere else).
    """

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


M = TypeVar("M", bound=BaseModel)


def parse_spec(model: type[M], raw: Mapping[str, Any], where: str = "") -> M:
    """`raw` as `model`, or an InvalidSpecError naming the first bad field under spec."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        path = ".".join(str(part) for part in ("spec", *first["loc"]))
        raise InvalidSpecError(path, first["msg"] + where) from None


class ProductType(StrEnum):
    GRAFANA_ONCALL = "grafana-oncall"
    ILERT = "ilert"
    MACKEREL = "mackerel"
    CONFLUENT = "confluent"
    ZSTACK = "zstack"

    @property
    def block(self) -> str:
        """The name of this product's block in `AlertIntegration.spec`."""
        return {
            ProductType.GRAFANA_ONCALL: "grafanaOnCall",
            ProductType.ILERT: "ilert",
            ProductType.MACKEREL: "mackerel",
            ProductType.CONFLUENT: "confluent",
            ProductType.ZSTACK: "zstack",
        }[self]


class PlatformKind(StrEnum):
    NAMESPACED = "AlertPlatform"
    CLUSTER = "ClusterAlertPlatform"


class TargetState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class CurrentState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    ABSENT = "absent"
    UNKNOWN = "unknown"


class DeletionPolicy(StrEnum):
    DELETE = "Delete"
    ORPHAN = "Orphan"


class AdoptionPolicy(StrEnum):
    CREATE_ONLY = "CreateOnly"
    ADOPT_EXISTING = "AdoptExisting"


class ManagementPolicy(StrEnum):
    MANAGE = "Manage"
    OBSERVE_ONLY = "ObserveOnly"
