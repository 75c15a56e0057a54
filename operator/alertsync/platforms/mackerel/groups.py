"""Notification groups: the ones a spec asks its channel to be in, and where an alert goes.

A channel hears nothing unless a notification group holds it. The spec names groups by
id or by name; without `notificationGroups`, the organization's default group.
"""

from collections.abc import Sequence

from alertsync.errors import InvalidSpecError
from alertsync.models import MackerelSpec
from alertsync.platforms.mackerel.wire import MackerelAlert, MackerelNotificationGroup

__all__ = ["GROUPS_FIELD", "is_member", "notified_channels", "wanted_groups"]

GROUPS_FIELD = "mackerel.notificationGroups"
_GROUPS_SPEC = f"spec.{GROUPS_FIELD}"


def wanted_groups(
    spec: MackerelSpec, groups: Sequence[MackerelNotificationGroup]
) -> list[MackerelNotificationGroup]:
    """The groups the spec asks for; InvalidSpecError for one that cannot be found."""
    if spec.notification_groups is None:
        return [group for group in groups if group.is_default][:1]
    return [_resolve(ref, groups) for ref in spec.notification_groups]


def is_member(
    spec: MackerelSpec, channel_id: str, groups: Sequence[MackerelNotificationGroup]
) -> bool:
    try:
        wanted = wanted_groups(spec, groups)
    except InvalidSpecError:
        # Reported as drift here; the repair (update) raises the error that says why.
        return False
    return all(channel_id in group.child_channel_ids for group in wanted)


def notified_channels(
    alert: MackerelAlert, groups: Sequence[MackerelNotificationGroup]
) -> frozenset[str]:
    """The channels Mackerel's notification groups route `alert` to.

    The default group takes every alert unless a group lists the monitor with
    `skipDefault`; another group takes the alerts of the monitors it lists. A
    `critical` group takes only CRITICAL alerts; child groups take what their parent
    takes. Routing by `services` needs each host's services and is not followed.
    """
    skip_default = any(
        monitor.id == alert.monitor_id and monitor.skip_default
        for group in groups
        for monitor in group.monitors
    )
    by_id = {group.id: group for group in groups}
    pending = [
        group
        for group in groups
        if (group.is_default and not skip_default)
        or any(monitor.id == alert.monitor_id for monitor in group.monitors)
    ]
    seen: set[str] = set()
    channels: set[str] = set()
    while pending:
        group = pending.pop()
        if group.id in seen:
            continue
        seen.add(group.id)
        if group.notification_level == "critical" and alert.status != "CRITICAL":
            continue
        channels.update(group.child_channel_ids)
        pending.extend(by_id[gid] for gid in group.child_notification_group_ids if gid in by_id)
    return frozenset(channels)


def _resolve(ref: str, groups: Sequence[MackerelNotificationGroup]) -> MackerelNotificationGroup:
    for group in groups:
        if group.id == ref:
            return group
    named = [group for group in groups if group.name == ref]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(group.id for group in named)
        raise InvalidSpecError(
            _GROUPS_SPEC,
            f"{len(named)} notification groups are named {ref!r} ({ids}): "
            "name the one you mean by its id",
        )
    raise InvalidSpecError(
        _GROUPS_SPEC,
        f"no notification group has the id or name {ref!r} in this Mackerel organization: "
        "create it in Mackerel or correct the name",
    )
