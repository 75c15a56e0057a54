"""pydantic models of the AlertSync custom resources and shared value types."""

from alertsync.models.common import (
    AdoptionPolicy,
    CurrentState,
    DeletionPolicy,
    ManagementPolicy,
    PlatformKind,
    TargetState,
)
from alertsync.models.confluent import ConfluentSpec
from alertsync.models.grafana_oncall import GrafanaOnCallSpec
from alertsync.models.ilert import ILertSpec
from alertsync.models.integration import (
    AlertIntegrationSpec,
    AlertIntegrationStatus,
    Condition,
    LastDrift,
    PlatformRef,
    WebhookSpec,
    WebhookUrlSecretRef,
)
from alertsync.models.mackerel import MackerelSpec
from alertsync.models.platform import (
    AlertPlatformSpec,
    AlertPlatformStatus,
    LabelSelector,
    SecretKeyRef,
)
from alertsync.models.products import ProductType
from alertsync.models.zstack import ZStackSpec

__all__ = [
    "AdoptionPolicy",
    "AlertIntegrationSpec",
    "AlertIntegrationStatus",
    "AlertPlatformSpec",
    "AlertPlatformStatus",
    "Condition",
    "ConfluentSpec",
    "CurrentState",
    "DeletionPolicy",
    "GrafanaOnCallSpec",
    "ILertSpec",
    "LabelSelector",
    "LastDrift",
    "MackerelSpec",
    "ManagementPolicy",
    "PlatformKind",
    "PlatformRef",
    "ProductType",
    "SecretKeyRef",
    "TargetState",
    "WebhookSpec",
    "WebhookUrlSecretRef",
    "ZStackSpec",
]
