"""Grafana OnCall's JSON, as the public API v1 sends it (unknown fields ignored)."""

from typing import Any

from alertsync.platforms.wire import WireModel

__all__ = ["OnCallIntegration", "OnCallPage", "OnCallRoute"]


class OnCallRoute(WireModel):
    id: str | None = None
    escalation_chain_id: str | None = None


class OnCallIntegration(WireModel):
    id: str
    name: str
    type: str
    team_id: str | None = None
    description_short: str | None = None
    link: str | None = None
    default_route: OnCallRoute | None = None
    # Nested blocks of strings or nulls; only the keys a spec sets are compared.
    templates: dict[str, Any] | None = None
    maintenance_mode: str | None = None
    maintenance_end_at: str | None = None


class OnCallPage(WireModel):
    count: int
    next: str | None = None
    results: list[OnCallIntegration]
