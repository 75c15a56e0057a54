"""spec.mackerel: what an AlertIntegration declares for a Mackerel notification channel."""

from typing import Annotated, Literal

from pydantic import Field

from alertsync.models.common import CamelModel

__all__ = ["MACKEREL_EVENTS", "MackerelChannelType", "MackerelEvent", "MackerelSpec"]

MackerelEvent = Literal[
    "alert", "alertGroup", "hostStatus", "hostRegister", "hostRetire", "monitor"
]
MACKEREL_EVENTS: tuple[MackerelEvent, ...] = (
    "alert",
    "alertGroup",
    "hostStatus",
    "hostRegister",
    "hostRetire",
    "monitor",
)

# Every type Mackerel reports; AlertSync manages webhook channels (validate says so
# for the others, which beats an enum error for someone who wrote "slack").
MackerelChannelType = Literal[
    "email",
    "slack",
    "line",
    "chatwork",
    "typetalk",
    "twilio",
    "pagerduty",
    "opsgenie",
    "jira-service-management",
    "microsoft-teams",
    "webhook",
    "amazon-event-bridge",
]

GroupRef = Annotated[str, Field(min_length=1, max_length=256)]


class MackerelSpec(CamelModel):
    type: MackerelChannelType = "webhook"
    # Unset: "alert" on create, then left to Mackerel (not compared). At least one:
    # a channel without events is what targetState: disabled is for.
    events: Annotated[tuple[MackerelEvent, ...] | None, Field(min_length=1)] = None
    # Unset: not compared (false on create).
    enabled_graph_image: bool | None = None
    # The groups the channel must belong to, by id or name. Unset: the organization's
    # default group. Empty: AlertSync leaves group membership alone.
    notification_groups: tuple[GroupRef, ...] | None = None
    # Append " [alertsync:<namespace>/<name>]" to the channel name, which is the only
    # marker a channel can carry (it has no description).
    name_suffix: bool = True
    close_open_alerts_on_delete: bool = False
