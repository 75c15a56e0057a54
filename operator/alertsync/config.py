"""Operator settings, from the command line and the environment."""

import os
from dataclasses import dataclass

__all__ = ["OperatorConfig"]


@dataclass(frozen=True)
class OperatorConfig:
    # Where ClusterAlertPlatform credentials Secrets live (the operator's own namespace).
    operator_namespace: str = "alertsync-system"
    # Integrations reconciled at once in one platform's resync.
    resync_concurrency: int = 8

    @classmethod
    def from_env(cls) -> "OperatorConfig":
        return cls(
            operator_namespace=os.environ.get("ALERTSYNC_NAMESPACE", cls.operator_namespace),
            resync_concurrency=int(
                os.environ.get("ALERTSYNC_RESYNC_CONCURRENCY", cls.resync_concurrency)
            ),
        )
