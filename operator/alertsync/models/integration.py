"""AlertIntegration: one integration or webhook on a platform, declared by a team."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from alertsync.models.common import (
    DISPLAY_NAME_PATTERN,
    URL_PATTERN,
    AdoptionPolicy,
    CamelModel,
    CurrentState,
    DeletionPolicy,
    ManagementPolicy,
    PlatformKind,
    TargetState,
    stored_as_written,
)
from alertsync.models.condition import Condition, Conditions, Generation
from alertsync.models.grafana_oncall import GrafanaOnCallSpec, GrafanaOnCallTemplates
from alertsync.models.products import PlatformBlocks, ProductType

__all__ = [
    "AlertIntegrationSpec",
    "AlertIntegrationStatus",
    "Condition",
    "GrafanaOnCallSpec",
    "GrafanaOnCallTemplates",
    "LastDrift",
    "PlatformRef",
    "WebhookSpec",
    "WebhookUrlSecretRef",
    "name_on_platform",
]

DisplayName = Annotated[
    str,
    Field(min_length=1, max_length=150, json_schema_extra={"pattern": DISPLAY_NAME_PATTERN}),
    AfterValidator(stored_as_written),
]


class PlatformRef(CamelModel):
    kind: PlatformKind = PlatformKind.NAMESPACED
    """AlertPlatform or ClusterAlertPlatform."""
    name: Annotated[str, Field(min_length=1, max_length=253)]
    """Name of the platform resource."""


WebhookUrl = Annotated[str, Field(pattern=URL_PATTERN, max_length=2048)]


class WebhookUrlSecretRef(CamelModel):
    """A key of a Secret in the AlertIntegration's namespace whose value is the webhook URL.

    As prometheus-operator's AlertmanagerConfig `urlSecret`: a URL that carries a
    credential (user:password@, ?token=) stays out of the resource and out of Git.
    """

    name: Annotated[str, Field(min_length=1, max_length=253)]
    """Name of the Secret."""
    key: Annotated[str, Field(min_length=1, max_length=253)] = "url"
    """Key of the Secret that holds the URL."""


class WebhookSpec(CamelModel):
    """Where the platform delivers to: the URL inline, or the Secret key that holds it."""

    # _exactly_one_source, as the API server checks it.
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.url) != has(self.urlSecretRef)",
                    "message": "set exactly one of url and urlSecretRef",
                }
            ]
        }
    )

    url: WebhookUrl | None = None
    """The URL the platform posts to, in the resource itself: readable by anyone who can read the
    resource, and committed to Git with it. A URL with a credential in it (user:password@, ?token=)
    belongs in urlSecretRef."""
    url_secret_ref: WebhookUrlSecretRef | None = None
    """The Secret in this namespace that holds the URL the platform posts to, read as credentials
    are read (as prometheus-operator's AlertmanagerConfig urlSecret). Status, Events and logs show
    the URL with its credential masked."""

    @model_validator(mode="after")
    def _exactly_one_source(self) -> "WebhookSpec":
        if (self.url is None) == (self.url_secret_ref is None):
            raise ValueError("set exactly one of url and urlSecretRef")
        return self

    @property
    def source(self) -> "str | WebhookUrlSecretRef":
        """The inline URL, or the Secret key to read it from: exactly one is set.

        `match spec.webhook.source: case str(): ... case WebhookUrlSecretRef(): ...`
        """
        if self.url_secret_ref is not None:
            return self.url_secret_ref
        assert self.url is not None  # _exactly_one_source
        return self.url


class _Head(CamelModel):
    platform_ref: PlatformRef
    """The AlertPlatform (same namespace) or ClusterAlertPlatform to use."""
    target_state: TargetState = TargetState.ENABLED
    """enabled, or disabled: Grafana OnCall keeps it in debug maintenance (same link, escalations
    silenced); iLert sets active false; Mackerel keeps the channel with no events; Confluent deletes
    the integration (it has no switch); ZStack sets the endpoint Disabled."""
    # OnCall stores at most 150 characters (longer names fail on real databases), and
    # trims: a padded name would differ from what is stored forever (stored_as_written).
    display_name: DisplayName | None = None
    """The name on the platform. Defaults to <namespace>/<name>. One line, with no space at either
    end and not blank: Grafana OnCall trims names, so a padded name would never match what it
    stores."""
    webhook: WebhookSpec | None = None
    """Where the platform delivers to (outbound platforms: Mackerel, Confluent, ZStack): url, or
    urlSecretRef when the URL carries a credential. Exactly one of them."""


class AlertIntegrationSpec(PlatformBlocks, _Head):
    """An AlertIntegration's spec: the fields of _Head, then one block per product
    (PlatformBlocks, models/products.py), then the policies below (the CRD's order)."""

    deletion_policy: DeletionPolicy | None = None
    """What deleting this resource does on the platform: Delete or Orphan. Unset: Delete what
    AlertSync created, Orphan what it adopted."""
    adoption_policy: AdoptionPolicy = AdoptionPolicy.CREATE_ONLY
    """CreateOnly: an existing object with the same name belongs to someone else and is not taken
    over. AdoptExisting: take it over."""
    management_policy: ManagementPolicy = ManagementPolicy.MANAGE
    """Manage: create, repair and delete. ObserveOnly: never write to the platform; report drift
    only."""

    @model_validator(mode="after")
    def _one_platform_block(self) -> "AlertIntegrationSpec":
        blocks = self.platform_blocks()
        if len(blocks) > 1:
            names = ", ".join(f"spec.{name}" for name in blocks)
            raise ValueError(f"only one platform block may be set, found {names}")
        return self

    def platform_blocks(self) -> list[str]:
        return [p.block for p in ProductType if getattr(self, p.field) is not None]

    def block_for(self, product: ProductType) -> object | None:
        block: object | None = getattr(self, product.field)
        return block

    def name_on_platform(self, namespace: str, name: str) -> str:
        return name_on_platform(self.display_name, namespace, name)


def name_on_platform(display_name: str | None, namespace: str, name: str) -> str:
    """The name an AlertIntegration's object has on the platform: spec.displayName, else
    `<namespace>/<name>`. The one rule, for a parsed spec and for a stored record."""
    return display_name or f"{namespace}/{name}"


_FIELD_NAME = "A field name as in the spec, e.g. displayName."


class LastDrift(CamelModel):
    model_config = ConfigDict(extra="ignore")

    at: datetime
    """When it was found."""
    fields: tuple[Annotated[str, Field(description=_FIELD_NAME)], ...]
    """Names of the fields that differed (absent: the object was gone)."""
    # The same drift seen again while active is not counted again.
    active: bool = False
    """True while the drift is still on the platform (ObserveOnly, or a repair that failed)."""


class AlertIntegrationStatus(CamelModel):
    """The ReconcileAlertIntegration response, plus Kubernetes conventions."""

    model_config = ConfigDict(extra="ignore", frozen=False, validate_assignment=True)

    uuid: str | None = None
    """The integration entry's id: this resource's metadata.uid."""
    platform_uuid: str | None = None
    """metadata.uid of the referenced platform resource."""
    platform_name: str | None = None
    """Display name of the referenced platform."""
    product_type: ProductType | None = None
    """Product type of the referenced platform."""
    target_state: TargetState | None = None
    """The state last asked for."""
    current_state: CurrentState | None = None
    """What the platform really has: enabled, disabled, absent or unknown."""
    webhook_id: str | None = None
    """The object's id on the platform."""
    webhook_url: str | None = None
    """The URL on the platform: the inbound link it gives out, or the outbound target."""
    last_reconcile_at: datetime | None = None
    """The last completed check against the platform (refreshed on change, and every few minutes
    otherwise)."""
    drift_count: int = 0
    """How many times the platform was found to differ from the spec; each distinct drift counts
    once."""
    last_error: str | None = None
    """The last reconciliation error, without secrets; cleared on success."""
    create_date: datetime | None = None
    """When the platform object was created or adopted."""
    last_op_date: datetime | None = None
    """The last write to the platform object."""
    observed_generation: Generation | None = None
    """The metadata.generation last reconciled."""
    conditions: Conditions = ()
    """Ready, Synced and (when waiting for a change) Stalled."""
    last_drift: LastDrift | None = None
    """The last drift found."""
    # Crash safety where objects carry no marker: set before a platform create is
    # sent, cleared once its id is recorded. An object found by name while it is
    # set is our own create.
    create_pending_since: datetime | None = None
    """Set while a platform create is in flight on a platform whose objects cannot carry
    AlertSync's marker (iLert, Mackerel): an object found by name then is this resource's
    own."""
    # "created" or "adopted": decides what an unset deletionPolicy means.
    origin: Literal["created", "adopted"] | None = None
    """created or adopted: decides what an unset deletionPolicy means."""
    # Alerts of this integration open on the platform (iLert, Mackerel).
    open_alerts: int | None = None
    """How many alerts of this integration are open on the platform (iLert, Mackerel), refreshed
    with each resync. Unset where the platform has no alerts API."""
    # The last delivery test the platform ran for us (Confluent testOnChange).
    last_test_at: datetime | None = None
    """When the platform last sent a test notification to the webhook for us (Confluent
    spec.confluent.testOnChange); its outcome is the Delivered condition."""
    # The reconcile-requested-at annotation of the last pass (Flux's convention).
    last_handled_reconcile_at: str | None = None
    """The value of the alertsync.dev/reconcile-requested-at annotation when the last pass ran (as
    Flux does); `alertsync reconcile` waits for it."""
