"""Mackerel webhook channels as AlertIntegrations (spec.mackerel, spec.webhook).

Mapped as the adapter compares them: URL, events (none: targetState disabled), the
graph-image switch, and the notification groups that hold the channel, by id.
`nameSuffix: false` keeps the channel's name as it is: with the suffix, adoption
would rename the channel to add AlertSync's marker.
"""

import re
from collections.abc import Sequence
from typing import Any

from alertsync.models import TargetState
from alertsync.models.mackerel import MACKEREL_EVENTS
from alertsync.platforms.mackerel.adapter import ChannelListing
from alertsync.platforms.mackerel.wire import MackerelChannel, MackerelNotificationGroup
from alertsync.platforms.mapping import Found, Mapper, list_all

__all__ = ["MAPPER", "found"]

# The name suffix AlertSync gives a channel it creates: its resource's namespace/name.
_SUFFIX = re.compile(r" \[alertsync:([^/\]\s]+)/([^\]\s]+)\]$")


def found(listing: Sequence[Any]) -> list[Found]:
    groups = listing.groups if isinstance(listing, ChannelListing) else ()
    return [_one(item, groups) for item in listing if isinstance(item, MackerelChannel)]


def _one(channel: MackerelChannel, groups: Sequence[MackerelNotificationGroup]) -> Found:
    suffix = _SUFFIX.search(channel.name)
    owner = (suffix[1], suffix[2]) if suffix else None
    if channel.type != "webhook":
        return Found(
            channel.id,
            channel.name,
            owner_ref=owner,
            unsupported=f"a {channel.type} channel: AlertSync manages webhook channels only",
        )
    block: dict[str, Any] = {"type": "webhook", "nameSuffix": False}
    notes: list[str] = []
    events = list(dict.fromkeys(channel.events or ()))
    if events and all(event in MACKEREL_EVENTS for event in events):
        block["events"] = events
    elif events:
        unknown = ", ".join(e for e in events if e not in MACKEREL_EVENTS)
        notes.append(f"spec.mackerel.events: {unknown} unknown to AlertSync: events left out")
    if channel.enabled_graph_image is not None:
        block["enabledGraphImage"] = channel.enabled_graph_image
    # Empty when no group holds it: AlertSync then leaves membership alone.
    block["notificationGroups"] = [g.id for g in groups if channel.id in g.child_channel_ids]
    # A suspended channel: the adapter's observation says so (state_reason), and the
    # export passes it on for a person to read.
    return Found(
        channel.id,
        channel.name,
        block=block,
        target_state=TargetState.ENABLED if events else TargetState.DISABLED,
        webhook_url=channel.url,
        owner_ref=owner,
        notes=tuple(notes),
    )


MAPPER = Mapper(listing=list_all, found=found)
