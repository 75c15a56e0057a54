"""Grafana OnCall: integrations through the public API v1."""

from alertsync.platforms.grafana_oncall.adapter import GrafanaOnCallAdapter
from alertsync.platforms.grafana_oncall.client import GrafanaOnCallClient

__all__ = ["GrafanaOnCallAdapter", "GrafanaOnCallClient"]
