"""Shared value types of the AlertSync API (group alertsync.dev, version v1alpha1)."""

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from alertsync.errors import InvalidSpecError
from alertsync.models.messages import describe, explained_pattern, field_path

__all__ = [
    "DISPLAY_NAME_PATTERN",
    "GROUP",
    "INT64",
    "LIST_SET",
    "NAME_PADDED",
    "URL_PATTERN",
    "VERSION",
    "AdoptionPolicy",
    "CamelModel",
    "CurrentState",
    "DeletionPolicy",
    "ManagementPolicy",
    "PlatformKind",
    "TargetState",
    "parse_spec",
    "stored_as_written",
]

GROUP = "alertsync.dev"
VERSION = "v1alpha1"


# What the CRDs admit as a displayName: one line, no space at either end, not blank.
# Grafana OnCall trims names (a DRF CharField), so " pay " would be stored as "pay" and
# differ from the spec forever; the other platforms do not say they keep such names as
# written. A name that cannot be stored as written is refused, on every platform.
DISPLAY_NAME_PATTERN = r"^\S(.*\S)?$"
NAME_PADDED = "must not start or end with spaces or be blank"

# Kubernetes' own markers for what a JSON schema cannot say (models' json_schema_extra).
INT64: JsonDict = {"format": "int64"}
LIST_SET: JsonDict = {"x-kubernetes-list-type": "set"}

URL_PATTERN = explained_pattern(
    r"^https?://[^\s]+$", "must be an http:// or https:// URL without spaces"
)


def stored_as_written(name: str) -> str:
    """`name` if DISPLAY_NAME_PATTERN admits it (Python's `re`, as the trimming platforms
    strip whitespace: Unicode spaces count too); else a ValueError in AlertSync's words."""
    if re.fullmatch(DISPLAY_NAME_PATTERN, name) is not None:
        return name
    if not name.strip() or name != name.strip():
        raise ValueError(NAME_PADDED)
    raise ValueError("must be a single line")


class CamelModel(BaseModel):
    """Base of every CR model: camelCase on the wire, snake_case in Python.

    Unknown fields are refused so that a typo in a spec becomes a clear error
    instead of a silently ignored setting (the CRD schema prunes them on a real
    API server, this catches them everywhere else).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        # A field's docstring (the string under it) is its description in the CRD.
        use_attribute_docstrings=True,
    )


M = TypeVar("M", bound=BaseModel)


def parse_spec(model: type[M], raw: Mapping[str, Any], where: str = "") -> M:
    """`raw` as `model`, or an InvalidSpecError naming the first bad field under spec.

    The message is AlertSync's own (models/messages.py), never pydantic's wording.
    """
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidSpecError(field_path(first["loc"]), describe(first) + where) from None


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
