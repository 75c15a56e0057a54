"""`spec.grafanaOnCall`: an integration on Grafana OnCall (productType grafana-oncall)."""

from typing import Annotated, Literal

from pydantic import Field

from alertsync.models.common import CamelModel
from alertsync.models.messages import explained_pattern

__all__ = ["GrafanaOnCallSpec", "GrafanaOnCallTemplates", "OnCallType"]

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


class TitleTemplates(CamelModel):
    title: Template | None = None
    """Title template."""


class TitleMessageTemplates(TitleTemplates):
    message: Template | None = None
    """Message template."""


class RichTemplates(TitleMessageTemplates):
    image_url: Template | None = None
    """Image URL template."""


class GrafanaOnCallTemplates(CamelModel):
    """Templates AlertSync keeps; a key left unset is left to Grafana OnCall."""

    grouping_key: Template | None = None
    """Jinja template that groups alerts into alert groups."""
    resolve_signal: Template | None = None
    """Jinja template that resolves an alert group."""
    acknowledge_signal: Template | None = None
    """Jinja template that acknowledges an alert group."""
    source_link: Template | None = None
    """Jinja template of the link back to the alert's source."""
    slack: RichTemplates | None = None
    """Slack message templates."""
    web: RichTemplates | None = None
    """Web UI templates."""
    telegram: RichTemplates | None = None
    """Telegram templates."""
    webhook: RichTemplates | None = None
    """Outgoing webhook templates."""
    sms: TitleTemplates | None = None
    """SMS templates."""
    phone_call: TitleTemplates | None = None
    """Phone call templates."""
    mobile_app: TitleMessageTemplates | None = None
    """Mobile app templates."""
    email: TitleMessageTemplates | None = None
    """Email templates."""


_TEAM_ID = explained_pattern(
    r"^T[A-Z0-9]+$", "must be a Grafana OnCall team id: T and capital letters or digits"
)
_CHAIN_ID = explained_pattern(
    r"^F[A-Z0-9]+$", "must be a Grafana OnCall escalation chain id: F and capital letters or digits"
)


class GrafanaOnCallSpec(CamelModel):
    type: OnCallType = "webhook"
    """Integration type. Cannot change in place: a change deletes and re-creates the integration
    (its link changes)."""
    team_id: Annotated[str | None, Field(pattern=_TEAM_ID)] = None
    """Team public id (T...). Unset: not compared."""
    escalation_chain_id: Annotated[str | None, Field(pattern=_CHAIN_ID)] = None
    """Escalation chain public id (F...) for the default route. Unset: not compared."""
    templates: GrafanaOnCallTemplates | None = None
    """Templates AlertSync keeps. A template left out is left to Grafana OnCall (not compared)."""
