"""A Mackerel channel as AlertSync names and writes it.

Channels have no description, so the marker is the name: by default the display name
plus " [alertsync:<namespace>/<name>]", which tells our channel from a stranger's of the
same display name. Without the suffix, only the recorded id (or a pending create) does.
"""

from collections.abc import Sequence
from typing import Any

from alertsync.models import MackerelSpec, TargetState
from alertsync.platforms.base import DesiredIntegration
from alertsync.platforms.mackerel.wire import MackerelChannel

__all__ = ["DEFAULT_EVENTS", "channel_body", "channel_name", "reports_alerts"]

# What a channel enabled without spec.mackerel.events is created with.
DEFAULT_EVENTS = ("alert",)


def channel_name(desired: DesiredIntegration[MackerelSpec]) -> str:
    """The exact channel name AlertSync gives (and looks for): the marker."""
    if desired.block.name_suffix:
        return f"{desired.display_name} [alertsync:{desired.namespace}/{desired.name}]"
    return desired.display_name


def channel_body(
    desired: DesiredIntegration[MackerelSpec], current: MackerelChannel | None
) -> dict[str, Any]:
    """The whole channel (PUT is a full replace): what the spec sets, else what it has."""
    spec = desired.block
    events: Sequence[str]
    if desired.target_state is TargetState.DISABLED:
        events = ()
    elif spec.events is not None:
        events = tuple(dict.fromkeys(spec.events))
    elif current is not None and current.events:
        events = current.events
    else:
        events = DEFAULT_EVENTS
    graph = spec.enabled_graph_image
    if graph is None:
        graph = bool(current.enabled_graph_image) if current is not None else False
    return {
        "name": channel_name(desired),
        "type": spec.type,
        "url": desired.webhook_url,
        "enabledGraphImage": graph,
        "events": list(events),
    }


def reports_alerts(channel: MackerelChannel | None) -> bool:
    """Whether this channel would tell someone of an alert (unknown types: assume so)."""
    if channel is None or channel.suspended_at is not None:
        return False
    return channel.events is None or "alert" in channel.events
