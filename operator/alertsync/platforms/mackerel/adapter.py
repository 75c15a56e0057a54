"""Mackerel adapter: an AlertIntegration is one notification channel of type webhook.

Mackerel delivers to the channel's `url`, which is spec.webhook.url: desired state,
drift-checked. A channel hears nothing unless a notification group holds it, so the
membership the spec asks for is kept too, without touching the group's other members.
Channels have no enable switch: `targetState: disabled` keeps the channel (and its id)
with no events. Mackerel may suspend a channel itself (`suspendedAt`): that is reported
as disabled with the reason, never "repaired". The marker is the channel's name
(channels.py).
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, overload

from alertsync.errors import (
    InvalidSpecError,
    PlatformRejectedError,
    PlatformUnavailableError,
)
from alertsync.models import CurrentState, MackerelSpec, ProductType, TargetState
from alertsync.platforms.base import DesiredIntegration, Match, Observation
from alertsync.platforms.drift import Drift
from alertsync.platforms.mackerel.channels import channel_body, channel_name, reports_alerts
from alertsync.platforms.mackerel.client import MackerelClient
from alertsync.platforms.mackerel.groups import (
    GROUPS_FIELD,
    is_member,
    notified_channels,
    wanted_groups,
)
from alertsync.platforms.mackerel.wire import (
    MackerelAlert,
    MackerelChannel,
    MackerelNotificationGroup,
)
from alertsync.platforms.typed import TypedAdapter

__all__ = ["ALERTS_TTL", "ChannelListing", "MackerelAdapter"]

logger = logging.getLogger(__name__)

# One org-wide alert listing serves every channel of a resync: N channels reconciled
# within this many seconds share it instead of each paging through all alerts.
ALERTS_TTL = 5.0
_CLOSED_SHOWN = 10

Desired = DesiredIntegration[MackerelSpec]


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


class MackerelAdapter(TypedAdapter[MackerelSpec, MackerelChannel, MackerelClient]):
    product: ClassVar[ProductType] = ProductType.MACKEREL
    block_model = MackerelSpec
    object_model = MackerelChannel

    def __init__(
        self,
        client: MackerelClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        alerts_ttl: float = ALERTS_TTL,
    ) -> None:
        super().__init__(client)
        self.clock = clock
        self.alerts_ttl = alerts_ttl
        self._snapshot: _AlertSnapshot | None = None
        self._group_lock = asyncio.Lock()
        self._snapshot_lock = asyncio.Lock()
        # Set once this Mackerel answered a channel PUT with 404/405 (a deployment
        # older than the endpoint): later updates go straight to delete + create.
        self.channel_put_missing = False

    def _validate(self, desired: Desired) -> None:
        spec = desired.block
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

    async def list_all(self) -> ChannelListing:
        channels = await self.client.list_channels()
        groups = await self.client.list_notification_groups()
        return ChannelListing(tuple(channels), tuple(groups))

    async def _observe(
        self, desired: Desired, listing: Sequence[MackerelChannel] | None
    ) -> Observation:
        groups: Sequence[MackerelNotificationGroup] | None
        if listing is None:
            # No GET by id: the one listing of every channel is the targeted read too.
            channels: Sequence[MackerelChannel] = await self.client.list_channels()
            groups = await self._groups_for(desired.block)
        else:
            channels = listing
            groups = listing.groups if isinstance(listing, ChannelListing) else None
        return self._find(desired, channels, groups)

    async def _create(self, desired: Desired) -> Observation:
        return await self._create_channel(desired, carry_over=())

    async def _update(self, desired: Desired, observed: Observation) -> Observation:
        assert observed.external_id is not None
        id_ = observed.external_id
        spec = desired.block
        current = next((c for c in await self.client.list_channels() if c.id == id_), None)
        if current is None:
            # Deleted between observe and now: the reconciler decides what that is
            # (a drift, counted, and a create), as for every platform.
            return Observation.absent()
        groups = await self._groups_for(spec)
        # Resolve first: a group that does not exist stops the update before any write.
        wanted = wanted_groups(spec, groups or ())
        if observed.recreate_reason:
            return await self._replace(desired, current)
        if set(observed.drifted_fields) - {GROUPS_FIELD}:
            if self.channel_put_missing:
                return await self._replace(desired, current)
            updated = await self.client.update_channel(id_, channel_body(desired, current))
            if updated is None:
                if not any(c.id == id_ for c in await self.client.list_channels()):
                    # A 404 because the channel went away meanwhile, not for want of PUT.
                    return Observation.absent()
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
        # Not while a join has read the groups: its write would name this channel.
        async with self._group_lock:
            await self.client.delete_channel(external_id)

    async def _open_alerts(self, desired: Desired, observed: Observation) -> int | None:
        """Open alerts whose monitors notify this channel through its groups."""
        if observed.external_id is None:
            return None
        snapshot = await self._alert_snapshot()
        return sum(
            1
            for alert in snapshot.alerts
            if alert.open and observed.external_id in notified_channels(alert, snapshot.groups)
        )

    async def _before_delete(self, desired: Desired, external_id: str) -> str | None:
        """With closeOpenAlertsOnDelete: close the open alerts no other channel reports."""
        if not desired.block.close_open_alerts_on_delete:
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
            if any(reports_alerts(channels.get(cid)) for cid in notified - {external_id}):
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
        desired: Desired,
        channels: Sequence[MackerelChannel],
        groups: Sequence[MackerelNotificationGroup] | None,
    ) -> Observation:
        if desired.external_id:
            for channel in channels:
                if channel.id == desired.external_id:
                    return self._compare(desired, channel, groups, Match.ID)
        if desired.block.name_suffix:
            marked = [c for c in channels if c.name == channel_name(desired)]
            if len(marked) > 1:
                return Observation.conflict((c.id for c in marked), Match.MARKER)
            if marked:
                return self._compare(desired, marked[0], groups, Match.MARKER)
        named = [c for c in channels if c.name == desired.display_name]
        if len(named) > 1:
            return Observation.conflict(c.id for c in named)
        if named:
            return self._compare(desired, named[0], groups, Match.NAME)
        return Observation.absent()

    def _compare(
        self,
        desired: Desired,
        found: MackerelChannel,
        groups: Sequence[MackerelNotificationGroup] | None,
        match: Match,
    ) -> Observation:
        spec = desired.block
        drift = Drift()
        if found.name != channel_name(desired):
            # The display name alone: ours (or adopted) but missing the suffix.
            drift.add("marker" if found.name == desired.display_name else "displayName")
        drift.check("webhook.url", found.url, desired.webhook_url)
        # No enable switch: a channel with no events is a disabled one.
        events = set(found.events or ())
        disabled = desired.target_state is TargetState.DISABLED
        if disabled == bool(events):
            drift.add("targetState")
        elif not disabled and spec.events is not None:
            drift.check("mackerel.events", events, set(spec.events))
        graph = spec.enabled_graph_image
        drift.check_if_set("mackerel.enabledGraphImage", found.enabled_graph_image, graph)
        if groups is not None and not is_member(spec, found.id, groups):
            drift.add(GROUPS_FIELD)
        if found.type != spec.type:
            drift.recreate(
                "mackerel.type",
                f"the channel's type is {found.type} on Mackerel and {spec.type} in the spec; "
                "Mackerel cannot change a channel's type in place",
            )
        state, state_reason = _state(desired, found)
        return drift.observation(match, state, found.id, found.url, state_reason)

    async def _reread(self, desired: Desired, id_: str) -> Observation:
        channels = await self.client.list_channels()
        groups = await self._groups_for(desired.block)
        for channel in channels:
            if channel.id == id_:
                return self._compare(desired, channel, groups, Match.ID)
        return Observation.absent()

    # -- writing ---------------------------------------------------------------------------------

    async def _create_channel(self, desired: Desired, *, carry_over: Iterable[str]) -> Observation:
        """Create the channel and put it in its groups (and in `carry_over`, by id)."""
        spec = desired.block
        carried = set(carry_over)
        groups: Sequence[MackerelNotificationGroup] = ()
        if carried or spec.notification_groups != ():
            groups = await self.client.list_notification_groups()
        # Resolve first: a group that does not exist stops the create before any write.
        joining = [*wanted_groups(spec, groups), *(g for g in groups if g.id in carried)]
        body = channel_body(desired, None)
        # Sent explicitly: its default when omitted is not documented.
        body["addToDefaultNotificationGroup"] = any(g.is_default for g in joining)
        created = await self.client.create_channel(body)
        await self._join(created.id, [g for g in joining if not g.is_default])
        return await self._reread(desired, created.id)

    async def _replace(self, desired: Desired, current: MackerelChannel) -> Observation:
        """Delete + create, keeping every group membership the old channel had."""
        groups = await self.client.list_notification_groups()
        kept = [g.id for g in groups if current.id in g.child_channel_ids]
        await self.client.delete_channel(current.id)
        return await self._create_channel(desired, carry_over=kept)

    async def _join(self, channel_id: str, groups: Iterable[MackerelNotificationGroup]) -> None:
        """Add the channel to each group; the group's other channels and monitors stay."""
        wanted = {group.id for group in groups}
        if not wanted:
            return
        # A group is written whole (PUT): two reconciles joining channels to one group
        # at once would each drop the other's channel. One at a time, on a fresh read.
        async with self._group_lock:
            try:
                await self._join_groups(channel_id, wanted, None)
            except PlatformRejectedError as exc:
                if exc.status_code != 400:
                    raise
                # Mackerel refuses a group naming a channel that no longer exists: one
                # deleted behind our back since the groups were read. Once more, on a
                # fresh read, without the channels that are gone.
                channels = {channel.id for channel in await self.client.list_channels()}
                if channel_id not in channels:
                    raise PlatformUnavailableError(
                        f"notification channel {channel_id} was deleted on Mackerel while "
                        "AlertSync put it in its notification groups; it is created again"
                    ) from None
                await self._join_groups(channel_id, wanted, channels)

    async def _join_groups(
        self, channel_id: str, wanted: set[str], existing: set[str] | None
    ) -> None:
        for group in await self.client.list_notification_groups():
            if group.id in wanted and channel_id not in group.child_channel_ids:
                members = (*group.child_channel_ids, channel_id)
                if existing is not None:
                    members = tuple(m for m in members if m in existing or m == channel_id)
                await self.client.update_notification_group(group.id, group.replacement(members))

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


def _state(desired: Desired, found: MackerelChannel) -> tuple[CurrentState, str | None]:
    """The channel's state, and why Mackerel holds it disabled when we want it enabled."""
    if found.suspended_at is None:
        return (CurrentState.ENABLED if found.events else CurrentState.DISABLED), None
    if desired.target_state is TargetState.DISABLED:
        return CurrentState.DISABLED, None
    # Mackerel's decision, not drift: our writes would not undo it.
    return CurrentState.DISABLED, (
        f"suspended by Mackerel at {_iso(found.suspended_at)}: Mackerel delivers "
        "nothing to this channel until it is resumed in Mackerel"
    )


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
