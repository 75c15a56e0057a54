"""AlertPlatform and ClusterAlertPlatform: one account on one alerting platform."""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from alertsync.models.common import CamelModel, ProductType
from alertsync.models.condition import Condition

__all__ = [
    "AlertPlatformSpec",
    "AlertPlatformStatus",
    "LabelSelector",
    "RateLimitSpec",
    "SecretKeyRef",
    "parse_duration",
]

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str) -> float:
    """Seconds in a Kubernetes-style duration such as `90s`, `5m` or `1h30m`."""
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m or 1h30m")
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


class SecretKeyRef(CamelModel):
    name: Annotated[str, Field(min_length=1, max_length=253)]
    key: Annotated[str, Field(min_length=1, max_length=253)] = "token"
    # Platforms whose credentials have two parts (Confluent key id, ZStack account).
    username_key: Annotated[str | None, Field(min_length=1, max_length=253)] = None


LabelValue = Annotated[str, Field(max_length=63)]


class LabelRequirement(CamelModel):
    key: Annotated[str, Field(min_length=1, max_length=317)]
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[LabelValue, ...] = ()

    @model_validator(mode="after")
    def _values_fit_the_operator(self) -> "LabelRequirement":
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"{self.operator} needs values")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"{self.operator} takes no values")
        return self

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        found = self.key in labels and labels[self.key] in self.values
        return found if self.operator == "In" else not found


class LabelSelector(CamelModel):
    """A Kubernetes label selector: every requirement must hold; empty selects all."""

    match_labels: dict[str, LabelValue] = Field(default_factory=dict)
    match_expressions: tuple[LabelRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(key) == value for key, value in self.match_labels.items()) and all(
            requirement.matches(labels) for requirement in self.match_expressions
        )


class RateLimitSpec(CamelModel):
    requests_per_minute: Annotated[int, Field(ge=1, le=100_000)]


class AlertPlatformSpec(CamelModel):
    product_type: ProductType
    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2048)]
    credentials_secret_ref: SecretKeyRef
    display_name: Annotated[str | None, Field(max_length=253)] = None
    resync_interval: str = "5m"
    rate_limit: RateLimitSpec | None = None
    # ClusterAlertPlatform only: which namespaces' integrations may use it.
    namespace_selector: LabelSelector | None = None
    # Webhook URLs must be https unless this says plain http is fine (a receiver
    # inside the cluster, a sandbox).
    allow_insecure_http: bool = False
    # ZStack only: sign each request with an access key instead of logging in.
    auth_method: Literal["Session", "AccessKey"] = "Session"

    @field_validator("resync_interval")
    @classmethod
    def _interval_is_a_duration(cls, value: str) -> str:
        if parse_duration(value) < 1:
            raise ValueError("must be at least 1s")
        return value

    @property
    def resync_seconds(self) -> float:
        return parse_duration(self.resync_interval)


class AlertPlatformStatus(CamelModel):
    model_config = ConfigDict(extra="ignore", frozen=False, validate_assignment=True)

    platform_uuid: str | None = None
    platform_name: str | None = None
    product_type: ProductType | None = None
    # Whether the Secret is there and the platform takes it.
    credentials: Literal["Accepted", "Missing", "Rejected"] | None = None
    api_reachable: bool | None = None
    integrations: int | None = None
    last_check_at: datetime | None = None
    last_error: str | None = None
    observed_generation: int | None = None
    conditions: tuple[Condition, ...] = ()
