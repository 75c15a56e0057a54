"""Mackerel's JSON, as the API v0 sends it (camelCase; unknown fields ignored or kept)."""

from typing import Annotated, Any

from pydantic import AliasChoices, ConfigDict, Field

from alertsync.platforms.wire import CamelWireModel

__all__ = [
    "DEFAULT_GROUP_TYPE",
    "MackerelAlert",
    "MackerelAlertPage",
    "MackerelChannel",
    "MackerelChannelList",
    "MackerelNotificationGroup",
    "MackerelNotificationGroupList",
    "NotificationGroupMonitor",
    "NotificationGroupService",
]

# The `type` of the organization's default notification group.
DEFAULT_GROUP_TYPE = "group-default"
# Epoch seconds up to the year 9999: a time that can be shown.
EpochSeconds = Annotated[float, Field(ge=0, le=253_402_300_799, allow_inf_nan=False)]


class MackerelChannel(CamelWireModel):
    id: str
    name: str
    type: str
    # Epoch seconds when Mackerel suspended delivery; server-owned.
    suspended_at: EpochSeconds | None = None
    # webhook and slack
    url: str | None = None
    enabled_graph_image: bool | None = None
    # email, slack and webhook; other types carry no fields through the API.
    events: tuple[str, ...] | None = None


class MackerelChannelList(CamelWireModel):
    channels: tuple[MackerelChannel, ...]


class NotificationGroupMonitor(CamelWireModel):
    id: str
    skip_default: bool = False


class NotificationGroupService(CamelWireModel):
    name: str


class MackerelNotificationGroup(CamelWireModel):
    # Unknown fields are kept: an update is a full replace, and whatever a newer
    # Mackerel adds to a group must go back as it came.
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    type: str | None = None
    notification_level: str = "all"
    child_notification_group_ids: tuple[str, ...] = ()
    child_channel_ids: tuple[str, ...] = ()
    monitors: tuple[NotificationGroupMonitor, ...] = ()
    services: tuple[NotificationGroupService, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.type == DEFAULT_GROUP_TYPE

    def replacement(self, child_channel_ids: tuple[str, ...]) -> dict[str, Any]:
        """This group as a PUT body (a full replace) with other member channels."""
        body = self.model_dump(by_alias=True, exclude={"id", "type"}, mode="json")
        body["childChannelIds"] = list(child_channel_ids)
        return body


class MackerelNotificationGroupList(CamelWireModel):
    notification_groups: tuple[MackerelNotificationGroup, ...]


class MackerelAlert(CamelWireModel):
    id: str
    status: str
    monitor_id: str
    type: str
    host_id: str | None = None
    value: float | None = None
    message: str | None = None
    reason: str | None = None
    # Mackerel's close example spells it "opendAt"; the list (and Mackerel) say openedAt.
    opened_at: int = Field(validation_alias=AliasChoices("openedAt", "opendAt"))
    closed_at: int | None = None
    memo: str | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


class MackerelAlertPage(CamelWireModel):
    alerts: tuple[MackerelAlert, ...]
    # Present only when older alerts remain.
    next_id: str | None = None
