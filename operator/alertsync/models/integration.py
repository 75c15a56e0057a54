"""AlertIntegration: one integration or webhook on a platform, declared by a team."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from alertsync.models.common import (
    AdoptionPolicy,
    CamelModel,
    CurrentState,
    DeletionPolicy,
    ManagementPolicy,
    PlatformKind,
    ProductType,
    TargetState,
)
from alertsync.models.condition import Condition
from alertsync.models.confluent import ConfluentSpec
from alertsync.models.ilert import ILertSpec
from alertsync.models.mackerel import MackerelSpec
from alertsync.models.zstack import ZStackSpec

__all__ = [
    "AlertIntegrationSpec",
    "AlertIntegrationStatus",
    "Condition",
    "GrafanaOnCallSpec",
    "GrafanaOnCallTemplates",
    "LastDrift",
    "PlatformRef",
    "WebhookSpec",
]

Template = Annotated[str, Field(max_length=10_000)]

OnCallType = Literal[
    "webhook",
    "alertmanager",
    "grafana_alerting",
    "formatted_webhook",
    "kapacitor",
    "elastalert",
    "inbound_email",
    "maintenance",
    "manual",
    "zabbix",
    "grafana",
]


class PlatformRef(CamelModel):
    kind: PlatformKind = PlatformKind.NAMESPACED
    name: Annotated[str, Field(min_length=1, max_length=253)]


class WebhookSpec(CamelModel):
    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2048)]


class TitleTemplates(CamelModel):
    title: Template | None = None


class TitleMessageTemplates(TitleTemplates):
    message: Template | None = None


class RichTemplates(TitleMessageTemplates):
    image_url: Template | None = None


class GrafanaOnCallTemplates(CamelModel):
    """Templates AlertSync keeps; a key left unset is left to Grafana OnCall."""

    grouping_key: Template | None = None
    resolve_signal: Template | None = None
    acknowledge_signal: Template | None = None
    source_link: Template | None = None
    slack: RichTemplates | None = None
    web: RichTemplates | None = None
    telegram: RichTemplates | None = None
    webhook: RichTemplates | None = None
    sms: TitleTemplates | None = None
    phone_call: TitleTemplates | None = None
    mobile_app: TitleMessageTemplates | None = None
    email: TitleMessageTemplates | None = None


class GrafanaOnCallSpec(CamelModel):
    type: OnCallType = "webhook"
    team_id: Annotated[str | None, Field(pattern=r"^T[A-Z0-9]+$")] = None
    escalation_chain_id: Annotated[str | None, Field(pattern=r"^F[A-Z0-9]+$")] = None
    templates: GrafanaOnCallTemplates | None = None


# Blocks of the platforms whose adapters are still to come: kept as given, so
# that nothing a user declares is lost, and refused at reconcile time.
OpaqueBlock = dict[str, Any]


class AlertIntegrationSpec(CamelModel):
    platform_ref: PlatformRef
    target_state: TargetState = TargetState.ENABLED
    # OnCall stores at most 150 characters (longer names fail on real databases).
    display_name: Annotated[str | None, Field(min_length=1, max_length=150)] = None
    webhook: WebhookSpec | None = None
    grafana_on_call: GrafanaOnCallSpec | None = None
    ilert: ILertSpec | None = None
    mackerel: MackerelSpec | None = None
    confluent: ConfluentSpec | None = None
    zstack: ZStackSpec | None = None
    deletion_policy: DeletionPolicy | None = None
    adoption_policy: AdoptionPolicy = AdoptionPolicy.CREATE_ONLY
    management_policy: ManagementPolicy = ManagementPolicy.MANAGE

    @model_validator(mode="after")
    def _one_platform_block(self) -> "AlertIntegrationSpec":
        blocks = self.platform_blocks()
        if len(blocks) > 1:
            names = ", ".join(f"spec.{name}" for name in blocks)
            raise ValueError(f"only one platform block may be set, found {names}")
        return self

    def platform_blocks(self) -> list[str]:
        return [p.block for p in ProductType if getattr(self, _attr(p)) is not None]

    def block_for(self, product: ProductType) -> object | None:
        block: object | None = getattr(self, _attr(product))
        return block


def _attr(product: ProductType) -> str:
    return "grafana_on_call" if product is ProductType.GRAFANA_ONCALL else product.block


class LastDrift(CamelModel):
    model_config = ConfigDict(extra="ignore")

    at: datetime
    fields: tuple[str, ...]
    # True while the drift is still on the platform (ObserveOnly, or a repair
    # that failed): the same drift seen again is not counted again.
    active: bool = False


class AlertIntegrationStatus(CamelModel):
    """The seed's ReconcileAlertIntegration response, plus Kubernetes conventions."""

    model_config = ConfigDict(extra="ignore", frozen=False, validate_assignment=True)

    uuid: str | None = None
    platform_uuid: str | None = None
    platform_name: str | None = None
    product_type: ProductType | None = None
    target_state: TargetState | None = None
    current_state: CurrentState | None = None
    webhook_id: str | None = None
    webhook_url: str | None = None
    last_reconcile_at: datetime | None = None
    drift_count: int = 0
    last_error: str | None = None
    create_date: datetime | None = None
    last_op_date: datetime | None = None
    observed_generation: int | None = None
    conditions: tuple[Condition, ...] = ()
    last_drift: LastDrift | None = None
    # Crash safety: set before a platform create is sent, cleared once its id is
    # recorded. An object found by name while it is set is our own create.
    create_pending_since: datetime | None = None
    # "created" or "adopted": decides what an unset deletionPolicy means.
    origin: Literal["created", "adopted"] | None = None
    # Alerts of this integration open on the platform (iLert, Mackerel).
    open_alerts: int | None = None
    # The last delivery test the platform ran for us (Confluent testOnChange).
    last_test_at: datetime | None = None
    # The reconcile-requested-at annotation of the last pass (Flux's convention).
    last_handled_reconcile_at: str | None = None
