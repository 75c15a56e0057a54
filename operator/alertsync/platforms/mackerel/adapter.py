"""Mackerel adapter: an AlertIntegration is one notification channel of type webhook.

Mackerel delivers to the channel's `url`, which is spec.webhook.url: desired state,
drift-checked. A channel hears nothing unless a notification group holds it, so the
membership the spec asks for is kept too, without touching the group's other members.
Channels have no enable switch: `targetState: disabled` keeps the channel (and its id)
with no events. Mackerel may suspend a channel itself (`suspendedAt`): that is reported
as disabled with the reason, never "repaired".

Channels have no description, so the marker is the name: by default the display name
plus " [alertsync:<namespace>/<name>]", which tells our channel from a stranger's of the
same display name. Without the suffix, only the recorded id (or a pending create) does.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, overload

from alertsync.errors import InvalidSpecError
from alertsync.models import CurrentState, MackerelSpec, ProductType, TargetState
from alertsync.platforms.base import DesiredIntegration, Match, Observation, PlatformAdapter
from alertsync.platforms.http import Throttle
from alertsync.platforms.mackerel.client import MackerelClient
from alertsync.platforms.mackerel.wire import (
    MackerelAlert,
    MackerelChannel,
    MackerelNotificationGroup,
)

__all__ = ["ChannelListing", "MackerelAdapter", "channel_name", "notified_channels"]

logger = logging.getLogger(__name__)

# What a channel enabled without spec.mackerel.events is created with.
DEFAULT_EVENTS = ("alert",)
# One org-wide alert listing serves every channel of a resync: N channels reconciled
# within this many seconds share it instead of each paging through all alerts.
ALERTS_TTL = 5.0
GROUPS_FIELD = "mackerel.notificationGroups"
_GROUPS_SPEC = f"spec.{GROUPS_FIELD}"
_CLOSED_SHOWN = 10


@dataclass(frozen=True)
class ChannelListing(Sequence[MackerelChannel]):
    """`list_all`'s answer: every channel, plus the groups, so membership is
    compared without a request of its own."""

    channels: tuple[MackerelChannel, ...]
    groups: tuple[MackerelNotificationGroup, ...]

    @overload
    def __getitem__(self, index: int) -> MackerelChannel: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[MackerelChannel]: ...

    def __getitem__(self, index: int | slice) -> MackerelChannel | Sequence[MackerelChannel]:
        return self.channels[index]

    def __len__(self) -> int:
        return len(self.channels)

    def __iter__(self) -> Iterator[MackerelChannel]:
        return iter(self.channels)


@dataclass(frozen=True)
class _AlertSnapshot:
    taken: float
    alerts: tuple[MackerelAlert, ...]
    groups: tuple[MackerelNotificationGroup, ...]


class MackerelAdapter(PlatformAdapter):
    product: ClassVar[ProductType] = ProductType.MACKEREL

    def __init__(
        self,
        client: MackerelClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        alerts_ttl: float = ALERTS_TTL,
    ) -> None:
        self.client = client
        self.clock = clock
        self.alerts_ttl = alerts_ttl
        self._snapshot: _AlertSnapshot | None = None
        self._group_lock = asyncio.Lock()
        self._snapshot_lock = asyncio.Lock()
        # Set once this Mackerel answered a channel PUT with 404/405 (a deployment
        # older than the endpoint): later updates go straight to delete + create.
        self.channel_put_missing = False

    def validate(self, desired: DesiredIntegration) -> None:
        if desired.block is not None and not isinstance(desired.block, MackerelSpec):
            raise InvalidSpecError("spec.mackerel", "must be an object")
        spec = _spec(desired)
        if spec.type != "webhook":
            raise InvalidSpecError(
                "spec.mackerel.type",
                f"AlertSync manages Mackerel channels of type webhook, not {spec.type}: "
                "set type: webhook (or leave it out)",
            )
        if not desired.webhook_url:
            raise InvalidSpecError(
                "spec.webhook.url", "Mackerel delivers notifications to this URL: set it"
            )

    async def check(self) -> None:
        await self.client.check()

    async def list_all(self) -> ChannelListing:
        channels = await self.client.list_channels()
        groups = await self.client.list_notification_groups()
        return ChannelListing(tuple(channels), tuple(groups))

    async def observe(
        self, desired: DesiredIntegration, listing: Sequence[Any] | None = None
    ) -> Observation:
        groups: Sequence[MackerelNotificationGroup] | None
        if listing is None:
            # No GET by id: the one listing of every channel is the targeted read too.
            channels: Sequence[MackerelChannel] = await self.client.list_channels()
            groups = await self._groups_for(_spec(desired))
        else:
            channels = listing
            groups = listing.groups if isinstance(listing, ChannelListing) else None
        return self._find(desired, channels, groups)

    async def create(self, desired: DesiredIntegration) -> Observation:
        return await self._create(desired, carry_over=())

    async def update(self, desired: DesiredIntegration, observed: Observation) -> Observation:
        assert observed.external_id is not None
        id_ = observed.external_id
        spec = _spec(desired)
        current = next((c for c in await self.client.list_channels() if c.id == id_), None)
        if current is None:
            # Deleted between observe and now: what is asked for is a channel again.
            return await self._create(desired, carry_over=())
        groups = await self._groups_for(spec)
        # Resolve first: a group that does not exist stops the update before any write.
        wanted = _wanted_groups(spec, groups or ())
        if observed.recreate_reason:
            return await self._replace(desired, current)
        if set(observed.drifted_fields) - {GROUPS_FIELD}:
            if self.channel_put_missing:
                return await self._replace(desired, current)
            updated = await self.client.update_channel(id_, _channel_body(desired, current))
            if updated is None:
                if not any(c.id == id_ for c in await self.client.list_channels()):
                    # A 404 because the channel went away meanwhile, not for want of PUT.
                    return await self._create(desired, carry_over=())
                self.channel_put_missing = True
                replaced = await self._replace(desired, current)
                logger.warning(
                    "this Mackerel has no PUT /api/v0/channels/{id} (404/405): replaced "
                    "channel %s by %s (delete + create, group memberships carried over)",
                    id_,
                    replaced.external_id,
                )
                return replaced
        await self._join(id_, wanted)
        return await self._reread(desired, id_)

    async def delete(self, external_id: str) -> None:
        await self.client.delete_channel(external_id)

    def throttle(self) -> Throttle:
        return self.client.http.throttle

    async def aclose(self) -> None:
        await self.client.http.client.aclose()

    async def open_alerts(self, desired: DesiredIntegration, observed: Observation) -> int | None:
        """Open alerts whose monitors notify this channel through its groups."""
        if observed.external_id is None:
            return None
        snapshot = await self._alert_snapshot()
        return sum(
            1
            for alert in snapshot.alerts
            if alert.open and observed.external_id in notified_channels(alert, snapshot.groups)
        )

    async def before_delete(self, desired: DesiredIntegration, external_id: str) -> str | None:
        """With closeOpenAlertsOnDelete: close the open alerts no other channel reports."""
        if not _spec(desired).close_open_alerts_on_delete:
            return None
        snapshot = await self._alert_snapshot(fresh=True)
        channels = {channel.id: channel for channel in await self.client.list_channels()}
        reason = (
            f"closed by AlertSync: it removed the notification channel {external_id} "
            f"(AlertIntegration {desired.namespace}/{desired.name} was deleted), the only "
            "channel this alert was notified to"
        )
        closed: list[str] = []
        for alert in snapshot.alerts:
            if not alert.open:
                continue
            notified = notified_channels(alert, snapshot.groups)
            if external_id not in notified:
                continue
            if any(_reports_alerts(channels.get(cid)) for cid in notified - {external_id}):
                continue
            if await self.client.close_alert(alert.id, reason) is not None:
                closed.append(alert.id)
        self._snapshot = None
        if not closed:
            return f"no open alert was notified to channel {external_id} alone: closed none"
        shown = ", ".join(closed[:_CLOSED_SHOWN]) + (", ..." if len(closed) > _CLOSED_SHOWN else "")
        return (
            f"closed {len(closed)} open alert(s) that only channel {external_id} "
            f"was notified of: {shown}"
        )

    # -- finding and comparing -----------------------------------------------------------------

    def _find(
        self,
        desired: DesiredIntegration,
        channels: Sequence[MackerelChannel],
        groups: Sequence[MackerelNotificationGroup] | None,
    ) -> Observation:
        if desired.external_id:
            for channel in channels:
                if channel.id == desired.external_id:
                    return self._compare(desired, channel, groups, Match.ID)
        if _spec(desired).name_suffix:
            marked = [c for c in channels if c.name == channel_name(desired)]
            if len(marked) > 1:
                return _conflict(Match.MARKER, marked)
            if marked:
                return self._compare(desired, marked[0], groups, Match.MARKER)
        named = [c for c in channels if c.name == desired.display_name]
        if len(named) > 1:
            return _conflict(Match.NAME, named)
        if named:
            return self._compare(desired, named[0], groups, Match.NAME)
        return Observation.absent()

    def _compare(
        self,
        desired: DesiredIntegration,
        found: MackerelChannel,
        groups: Sequence[MackerelNotificationGroup] | None,
        match: Match,
    ) -> Observation:
        spec = _spec(desired)
        drifted: list[str] = []
        if found.name != channel_name(desired):
            # The display name alone: ours (or adopted) but missing the suffix.
            drifted.append("marker" if found.name == desired.display_name else "displayName")
        if found.url != desired.webhook_url:
            drifted.append("webhook.url")
        events = set(found.events or ())
        if desired.target_state is TargetState.DISABLED:
            if events:
                drifted.append("targetState")
        elif not events:
            drifted.append("targetState")
        elif spec.events is not None and events != set(spec.events):
            drifted.append("mackerel.events")
        if (
            spec.enabled_graph_image is not None
            and found.enabled_graph_image != spec.enabled_graph_image
        ):
            drifted.append("mackerel.enabledGraphImage")
        if groups is not None and not _is_member(spec, found.id, groups):
            drifted.append(GROUPS_FIELD)
        recreate = None
        if found.type != spec.type:
            drifted.append("mackerel.type")
            recreate = (
                f"the channel's type is {found.type} on Mackerel and {spec.type} in the spec; "
                "Mackerel cannot change a channel's type in place"
            )
        state_reason = None
        if found.suspended_at is not None:
            state = CurrentState.DISABLED
            if desired.target_state is TargetState.ENABLED:
                # Mackerel's decision, not drift: our writes would not undo it.
                state_reason = (
                    f"suspended by Mackerel at {_iso(found.suspended_at)}: Mackerel delivers "
                    "nothing to this channel until it is resumed in Mackerel"
                )
        else:
            state = CurrentState.ENABLED if events else CurrentState.DISABLED
        return Observation(
            match=match,
            current_state=state,
            external_id=found.id,
            webhook_url=found.url,
            drifted_fields=tuple(drifted),
            recreate_reason=recreate,
            state_reason=state_reason,
        )

    async def _reread(self, desired: DesiredIntegration, id_: str) -> Observation:
        channels = await self.client.list_channels()
        groups = await self._groups_for(_spec(desired))
        for channel in channels:
            if channel.id == id_:
                return self._compare(desired, channel, groups, Match.ID)
        return Observation.absent()

    # -- writing ---------------------------------------------------------------------------------

    async def _create(
        self, desired: DesiredIntegration, *, carry_over: Iterable[str]
    ) -> Observation:
        """Create the channel and put it in its groups (and in `carry_over`, by id)."""
        spec = _spec(desired)
        carried = set(carry_over)
        groups: Sequence[MackerelNotificationGroup] = ()
        if carried or spec.notification_groups != ():
            groups = await self.client.list_notification_groups()
        # Resolve first: a group that does not exist stops the create before any write.
        joining = [*_wanted_groups(spec, groups), *(g for g in groups if g.id in carried)]
        body = _channel_body(desired, None)
        # Sent explicitly: its default when omitted is not documented.
        body["addToDefaultNotificationGroup"] = any(g.is_default for g in joining)
        created = await self.client.create_channel(body)
        await self._join(created.id, [g for g in joining if not g.is_default])
        return await self._reread(desired, created.id)

    async def _replace(self, desired: DesiredIntegration, current: MackerelChannel) -> Observation:
        """Delete + create, keeping every group membership the old channel had."""
        groups = await self.client.list_notification_groups()
        kept = [g.id for g in groups if current.id in g.child_channel_ids]
        await self.client.delete_channel(current.id)
        return await self._create(desired, carry_over=kept)

    async def _join(self, channel_id: str, groups: Iterable[MackerelNotificationGroup]) -> None:
        """Add the channel to each group; the group's other channels and monitors stay."""
        wanted = {group.id for group in groups}
        if not wanted:
            return
        # A group is written whole (PUT): two reconciles joining channels to one group
        # at once would each drop the other's channel. One at a time, on a fresh read.
        async with self._group_lock:
            for group in await self.client.list_notification_groups():
                if group.id in wanted and channel_id not in group.child_channel_ids:
                    members = (*group.child_channel_ids, channel_id)
                    await self.client.update_notification_group(
                        group.id, group.replacement(members)
                    )

    async def _groups_for(self, spec: MackerelSpec) -> list[MackerelNotificationGroup] | None:
        """The groups, when the spec asks for a membership (empty list: it does not)."""
        if spec.notification_groups == ():
            return None
        return await self.client.list_notification_groups()

    async def _alert_snapshot(self, *, fresh: bool = False) -> _AlertSnapshot:
        # One fetch at a time: concurrent reconciles wait for it and share it.
        async with self._snapshot_lock:
            now = self.clock()
            snapshot = self._snapshot
            if not fresh and snapshot is not None and now - snapshot.taken < self.alerts_ttl:
                return snapshot
            alerts = await self.client.list_alerts()
            groups = await self.client.list_notification_groups()
            self._snapshot = _AlertSnapshot(now, tuple(alerts), tuple(groups))
            return self._snapshot


def channel_name(desired: DesiredIntegration) -> str:
    """The exact channel name AlertSync gives (and looks for): the marker."""
    if _spec(desired).name_suffix:
        return f"{desired.display_name} [alertsync:{desired.namespace}/{desired.name}]"
    return desired.display_name


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


def _spec(desired: DesiredIntegration) -> MackerelSpec:
    block = desired.block
    return block if isinstance(block, MackerelSpec) else MackerelSpec()


def _channel_body(desired: DesiredIntegration, current: MackerelChannel | None) -> dict[str, Any]:
    """The whole channel (PUT is a full replace): what the spec sets, else what it has."""
    spec = _spec(desired)
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


def _wanted_groups(
    spec: MackerelSpec, groups: Sequence[MackerelNotificationGroup]
) -> list[MackerelNotificationGroup]:
    """The groups the spec asks for; InvalidSpecError for one that cannot be found."""
    if spec.notification_groups is None:
        return [group for group in groups if group.is_default][:1]
    return [_resolve(ref, groups) for ref in spec.notification_groups]


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


def _is_member(
    spec: MackerelSpec, channel_id: str, groups: Sequence[MackerelNotificationGroup]
) -> bool:
    try:
        wanted = _wanted_groups(spec, groups)
    except InvalidSpecError:
        # Reported as drift here; the repair (update) raises the error that says why.
        return False
    return all(channel_id in group.child_channel_ids for group in wanted)


def _reports_alerts(channel: MackerelChannel | None) -> bool:
    """Whether this channel would tell someone of an alert (unknown types: assume so)."""
    if channel is None or channel.suspended_at is not None:
        return False
    return channel.events is None or "alert" in channel.events


def _conflict(match: Match, channels: Sequence[MackerelChannel]) -> Observation:
    return Observation(
        match=match,
        current_state=CurrentState.UNKNOWN,
        conflicting_ids=tuple(channel.id for channel in channels),
    )


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
