"""AlertPlatform and ClusterAlertPlatform: one account on one alerting platform."""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from alertsync.models.common import (
    DISPLAY_NAME_PATTERN,
    URL_PATTERN,
    CamelModel,
    stored_as_written,
)
from alertsync.models.condition import Conditions, Generation
from alertsync.models.messages import explained_pattern
from alertsync.models.products import ProductType

__all__ = [
    "RESYNC_INTERVAL_PATTERN",
    "AlertPlatformSpec",
    "AlertPlatformStatus",
    "LabelSelector",
    "RateLimitSpec",
    "SecretKeyRef",
    "parse_duration",
    "platform_name",
]

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")

# resyncInterval, the one rule in the CRD and the model: hours, minutes and seconds in
# that order, at least one of them not zero, so at least 1s ("", "0s" and "0h0m" are
# refused). No lookahead: the API server's regular expressions (RE2) have none.
_SOME = "[0-9]*[1-9][0-9]*"  # a number that is not zero
RESYNC_INTERVAL_PATTERN = explained_pattern(
    rf"^({_SOME}h([0-9]+m)?([0-9]+s)?|([0-9]+h)?{_SOME}m([0-9]+s)?|([0-9]+h)?([0-9]+m)?{_SOME}s)$",
    "must be a duration of at least 1s, such as 30s, 5m or 1h30m",
)


def parse_duration(text: str) -> float:
    """Seconds in a Kubernetes-style duration such as `90s`, `5m` or `1h30m`."""
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m or 1h30m")
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


class SecretKeyRef(CamelModel):
    name: Annotated[str, Field(min_length=1, max_length=253)]
    """Name of the Secret."""
    key: Annotated[str, Field(min_length=1, max_length=253)] = "token"
    """Key in the Secret's data that holds the token (iLert, Mackerel, Grafana OnCall), the API
    secret (Confluent) or the password (ZStack)."""
    # Platforms whose credentials have two parts (Confluent key id, ZStack account).
    username_key: Annotated[str | None, Field(min_length=1, max_length=253)] = None
    """Key in the Secret's data that holds the first part of two-part credentials, the Cloud API key
    id (Confluent) or the account name (ZStack). Unset for platforms that use one token."""


LabelValue = Annotated[str, Field(max_length=63, description="A label value.")]


class LabelRequirement(CamelModel):
    """One requirement on one label."""

    key: Annotated[str, Field(min_length=1, max_length=317)]
    """The label's key."""
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    """In, NotIn, Exists or DoesNotExist."""
    values: tuple[LabelValue, ...] = ()
    """The values for In and NotIn; empty for Exists and DoesNotExist."""

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
    """Labels the namespace must have, with these values."""
    match_expressions: tuple[LabelRequirement, ...] = ()
    """Requirements the namespace's labels must all meet."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(key) == value for key, value in self.match_labels.items()) and all(
            requirement.matches(labels) for requirement in self.match_expressions
        )


class RateLimitSpec(CamelModel):
    requests_per_minute: Annotated[int, Field(ge=1, le=100_000)]
    """Requests per minute at most (bursts of ten seconds' worth are allowed)."""


PlatformDisplayName = Annotated[
    str,
    Field(min_length=1, max_length=253, json_schema_extra={"pattern": DISPLAY_NAME_PATTERN}),
    AfterValidator(stored_as_written),
]


class AlertPlatformSpec(CamelModel):
    product_type: ProductType
    """Which platform this account is on. Decides which block an AlertIntegration must use."""
    url: Annotated[str, Field(pattern=URL_PATTERN, max_length=2048)]
    """The platform's API base URL, e.g. the Grafana OnCall API URL from its settings page
    (https://oncall-prod-us-central-0.grafana.net/oncall)."""
    credentials_secret_ref: SecretKeyRef
    """The Secret holding the API token. For an AlertPlatform it lives in the same namespace; for a
    ClusterAlertPlatform, in the operator's namespace."""
    # Shown as platformName on integrations, never sent to a platform; held to the
    # same rule as an integration's displayName so that one rule covers every name.
    display_name: PlatformDisplayName | None = None
    """Human-readable name, reported as platformName on integrations. Defaults to metadata.name. One
    line, with no space at either end and not blank."""
    resync_interval: Annotated[str, Field(pattern=RESYNC_INTERVAL_PATTERN)] = "5m"
    """How often the platform is listed and compared with every AlertIntegration that uses it, e.g.
    30s, 5m, 1h30m (hours, minutes, seconds in that order); at least 1s."""
    rate_limit: RateLimitSpec | None = None
    """Client-side limit on requests to this account, shared by all its integrations."""
    namespace_selector: LabelSelector | None = None
    """ClusterAlertPlatform only (refused on an AlertPlatform, which serves its own namespace) - the
    namespaces whose AlertIntegrations may use this platform and its credentials, as a label
    selector on the Namespace. Unset - every namespace."""
    # Webhook URLs must be https unless this says plain http is fine (a receiver
    # inside the cluster, a sandbox).
    allow_insecure_http: bool = False
    """Allow plain http webhook URLs (spec.webhook.url) on this platform's integrations. Off - they
    must be https, so notifications do not cross networks in clear text."""
    auth_method: Literal["Session", "AccessKey"] = "Session"
    """ZStack only - Session logs in with the account name (usernameKey) and password (key);
    AccessKey signs every request with the AccessKeyId (usernameKey) and AccessKeySecret (key).
    Other platforms take their credentials as they are."""

    @property
    def resync_seconds(self) -> float:
        """resyncInterval in seconds, at least 1 (RESYNC_INTERVAL_PATTERN): the one parsed value."""
        return parse_duration(self.resync_interval)

    def name_of(self, name: str) -> str:
        """The name integrations report (platformName) for the platform called `name`."""
        return platform_name(self.display_name, name)


def platform_name(display_name: str | None, name: str) -> str:
    """A platform's name as integrations and its own status report it: spec.displayName,
    else metadata.name. The one rule, for a parsed spec and for a stored record."""
    return display_name or name


class AlertPlatformStatus(CamelModel):
    model_config = ConfigDict(extra="ignore", frozen=False, validate_assignment=True)

    platform_uuid: str | None = None
    """This resource's metadata.uid, as integrations report it."""
    platform_name: str | None = None
    """The display name."""
    product_type: ProductType | None = None
    """The product type."""
    credentials: Literal["Accepted", "Missing", "Rejected", "ReadOnly"] | None = None
    """Accepted, Missing (Secret or key absent), Rejected (the platform refused them) or ReadOnly
    (accepted, but the platform refused a write with them)."""
    api_reachable: bool | None = None
    """Whether the last check got an answer from the platform's API."""
    integrations: int | None = None
    """How many AlertIntegrations use this platform."""
    last_check_at: datetime | None = None
    """The last successful check (refreshed at most every few minutes when nothing changes)."""
    last_error: str | None = None
    """The last error, without secrets; cleared on success."""
    observed_generation: Generation | None = None
    """The metadata.generation last acted on."""
    conditions: Conditions = ()
    """Ready, Synced and (when waiting for a change) Stalled."""
