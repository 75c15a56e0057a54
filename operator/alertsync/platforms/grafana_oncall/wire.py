"""Grafana OnCall's JSON, as the public API v1 sends it (unknown fields ignored)."""

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["OnCallIntegration", "OnCallPage", "OnCallRoute"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class OnCallRoute(_Wire):
    id: str | None = None
    escalation_chain_id: str | None = None


class OnCallIntegration(_Wire):
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


class OnCallPage(_Wire):
    count: int
    next: str | None = None
    results: list[OnCallIntegration]
