"""Operator settings, from the environment (the chart sets them)."""

import os
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ObserveMode", "OperatorConfig"]

ObserveMode = Literal["batched", "per-object"]


@dataclass(frozen=True)
class OperatorConfig:
    # Where ClusterAlertPlatform credentials Secrets live (the operator's own namespace).
    operator_namespace: str = "alertsync-system"
    # Integrations compared at once in one platform's resync, and the workers of
    # each platform account's work queue (its budget paces them, not this).
    resync_concurrency: int = 8
    # batched: one listing per platform per resyncInterval (the default).
    # per-object: a timer per integration with its own GET and status write, the
    # way most controllers poll; kept only so that `make bench` can compare.
    observe_mode: ObserveMode = "batched"
    poll_interval: float = 300.0
    # The ReconcileAlertIntegration API (alertsync.api): "host:port" to listen on, unset = off.
    api_listen: str | None = None
    # Prometheus /metrics: "host:port", unset = off (`alertsync run` sets it).
    metrics_listen: str | None = None
    api_token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls) -> "OperatorConfig":
        mode = os.environ.get("ALERTSYNC_OBSERVE_MODE", cls.observe_mode)
        if mode not in ("batched", "per-object"):
            raise ValueError(f"ALERTSYNC_OBSERVE_MODE must be batched or per-object, not {mode!r}")
        return cls(
            operator_namespace=os.environ.get("ALERTSYNC_NAMESPACE", cls.operator_namespace),
            resync_concurrency=int(
                os.environ.get("ALERTSYNC_RESYNC_CONCURRENCY", cls.resync_concurrency)
            ),
            observe_mode="per-object" if mode == "per-object" else "batched",
            poll_interval=float(os.environ.get("ALERTSYNC_POLL_INTERVAL", cls.poll_interval)),
            api_listen=os.environ.get("ALERTSYNC_API_LISTEN") or None,
            metrics_listen=os.environ.get("ALERTSYNC_METRICS_LISTEN") or None,
            api_token=os.environ.get("ALERTSYNC_API_TOKEN", ""),
        )

    @property
    def api_address(self) -> tuple[str, int] | None:
        return _address("ALERTSYNC_API_LISTEN", self.api_listen)

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        return _address("ALERTSYNC_METRICS_LISTEN", self.metrics_listen)


def _address(name: str, listen: str | None) -> tuple[str, int] | None:
    if listen is None:
        return None
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{name} must be host:port, such as 0.0.0.0:8081, not {listen!r}")
    return host, int(port)
