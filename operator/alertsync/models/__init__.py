"""pydantic models of the AlertSync custom resources and shared value types."""

from alertsync.models.common import (
    AdoptionPolicy,
    CurrentState,
    DeletionPolicy,
    ManagementPolicy,
    PlatformKind,
    ProductType,
    TargetState,
)
from alertsync.models.integration import (
    AlertIntegrationSpec,
    AlertIntegrationStatus,
    Condition,
    GrafanaOnCallSpec,
    LastDrift,
    PlatformRef,
    WebhookSpec,
)
from alertsync.models.platform import AlertPlatformSpec, AlertPlatformStatus, SecretKeyRef

__all__ = [
    "AdoptionPolicy",
    "AlertIntegrationSpec",
    "AlertIntegrationStatus",
    "AlertPlatformSpec",
    "AlertPlatformStatus",
    "Condition",
    "CurrentState",
    "DeletionPolicy",
    "GrafanaOnCallSpec",
    "LastDrift",
    "ManagementPolicy",
    "PlatformKind",
    "PlatformRef",
    "ProductType",
    "SecretKeyRef",
    "TargetState",
    "WebhookSpec",
]
