"""spec.mackerel: what an AlertIntegration declares for a Mackerel notification channel."""

from typing import Annotated, Literal

from pydantic import Field

from alertsync.models.common import LIST_SET, CamelModel

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

GroupRef = Annotated[
    str, Field(min_length=1, max_length=256, description="A notification group id or name.")
]
Event = Annotated[MackerelEvent, Field(description="A Mackerel notification event.")]


class MackerelSpec(CamelModel):
    type: MackerelChannelType = "webhook"
    """Channel type. Only webhook is managed (other types are refused with Ready=False). Cannot
    change in place: a change deletes and re-creates the channel."""
    # Unset: "alert" on create, then left to Mackerel (not compared). At least one:
    # a channel without events is what targetState: disabled is for.
    events: Annotated[tuple[Event, ...] | None, Field(min_length=1, json_schema_extra=LIST_SET)] = (
        None
    )
    """Events the channel is notified of, compared as a set. Unset: alert on create, then not
    compared. To silence the channel use targetState disabled."""
    enabled_graph_image: bool | None = None
    """Include the URL of the graph image in notifications. Unset: not compared (false on
    create)."""
    notification_groups: Annotated[
        tuple[GroupRef, ...] | None, Field(json_schema_extra=LIST_SET)
    ] = None
    """Notification groups (by id or name) the channel must belong to; a channel in no group
    receives nothing. Membership is kept without touching the groups' other channels and monitors.
    Unset: the organization's default group. Empty: AlertSync leaves membership alone."""
    # Append " [alertsync:<namespace>/<name>]" to the channel name, which is the only
    # marker a channel can carry (it has no description).
    name_suffix: bool = True
    """Append " [alertsync:<namespace>/<name>]" to the channel name, which marks the channel as this
    resource's (channels have no description). False: the channel is named exactly
    spec.displayName."""
    close_open_alerts_on_delete: bool = False
    """When the channel is deleted, first close the open alerts that only this channel was notified
    of, with a reason saying AlertSync removed the channel."""
