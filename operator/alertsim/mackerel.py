"""Mackerel API v0 simulator: notification channels, notification groups, monitors, alerts.

Faithful to Mackerel's API reference (``docs/platforms/mackerel.md``) and its Alerts page.
Where it marks a fact as inferred (error wording, the default of
``addToDefaultNotificationGroup``, what the default notification group accepts), the
choice is made in one place here and named so.

Mackerel is an outbound platform: it *delivers* notifications to a channel's URL. Opening
an alert behind the operator's back (:meth:`MackerelSimulator.open_alert`) routes it through
the notification groups, as Mackerel does, and POSTs the webhook payload to every channel
that receives it, over real HTTP (the transport is injectable for in-process tests).

Tests and the demo change state "behind the operator's back" with plain methods
(:meth:`~MackerelSimulator.set_url`, :meth:`~MackerelSimulator.remove_from_group`,
:meth:`~MackerelSimulator.suspend`, ...) or over HTTP below ``/_sim/`` (see
:meth:`MackerelSimulator.admin`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pydantic
from pydantic.alias_generators import to_camel

from alertsim import server
from alertsim.adminroutes import AdminCollection
from alertsim.core import (
    ADMIN_PREFIX,
    Clock,
    RateLimiter,
    Simulator,
    admin_body,
    json_response,
)
from alertsim.serving import Served, served

__all__ = [
    "CHANNEL_TYPES",
    "DEFAULT_KEY",
    "EVENTS",
    "READ_ONLY",
    "READ_WRITE",
    "SERVED",
    "Delivery",
    "MackerelSimulator",
    "build_parser",
    "main",
    "simulator_from_args",
]

DEFAULT_KEY = "mackerel-sim-key"
READ_WRITE: frozenset[str] = frozenset({"read", "write"})
READ_ONLY: frozenset[str] = frozenset({"read"})

CHANNEL_TYPES = (
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
)
# Only these types carry (and accept) their own fields through the API.
_WRITABLE_TYPES = frozenset({"email", "slack", "webhook"})
EVENTS = ("alert", "alertGroup", "hostStatus", "hostRegister", "hostRetire", "monitor")
_ALERT_STATUSES = ("OK", "CRITICAL", "WARNING", "UNKNOWN")
_MONITOR_TYPES = (
    "connectivity",
    "host",
    "service",
    "external",
    "check",
    "expression",
    "anomalyDetection",
    "query",
)
_LEVELS = ("all", "critical")
DEFAULT_GROUP_TYPE = "group-default"
_PAGE_SIZE = 100
_ID_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_API = "/api/v0"
_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})

# Error wording is not documented; Mackerel's body shape is ({"error": {"message"}}). [inferred]
_AUTH_FAILED = "Authentication failed. Check your API key."
_NO_WRITE = "This API key does not have Write permission."
_NOT_FOUND = "Not Found"


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> httpx.Response:
    return json_response(status, {"error": {"message": message}})


@dataclass
class _Channel:
    id: str
    name: str
    type: str
    url: str | None = None
    enabled_graph_image: bool = False
    events: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    mentions: dict[str, str] = field(default_factory=dict)
    suspended_at: int | None = None

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "suspendedAt": self.suspended_at,
        }
        if self.type == "webhook":
            body |= {
                "url": self.url,
                "enabledGraphImage": self.enabled_graph_image,
                "events": list(self.events),
            }
        elif self.type == "slack":
            body |= {
                "url": self.url,
                "mentions": dict(self.mentions),
                "enabledGraphImage": self.enabled_graph_image,
                "events": list(self.events),
            }
        elif self.type == "email":
            body |= {
                "emails": list(self.emails),
                "userIds": list(self.user_ids),
                "events": list(self.events),
            }
        return body


@dataclass
class _Group:
    id: str
    name: str
    notification_level: str = "all"
    child_group_ids: list[str] = field(default_factory=list)
    child_channel_ids: list[str] = field(default_factory=list)
    # [{"id": monitor id, "skipDefault": bool}]
    monitors: list[dict[str, Any]] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    default: bool = False

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "notificationLevel": self.notification_level,
            "childNotificationGroupIds": list(self.child_group_ids),
            "childChannelIds": list(self.child_channel_ids),
            "monitors": [dict(monitor) for monitor in self.monitors],
            "services": [{"name": name} for name in self.services],
        }
        if self.default:
            body["type"] = DEFAULT_GROUP_TYPE
        return body


@dataclass
class _Monitor:
    id: str
    name: str
    type: str
    service: str | None = None

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.service is not None:
            body["service"] = self.service
        return body


@dataclass
class _Alert:
    id: str
    seq: int
    status: str
    monitor_id: str
    type: str
    opened_at: int
    host_id: str | None = None
    value: float | None = None
    message: str | None = None
    reason: str | None = None
    closed_at: int | None = None
    memo: str | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None

    def wire(self) -> dict[str, Any]:
        # Optional keys exist only when they apply, as the reference's table says.
        body: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "monitorId": self.monitor_id,
            "type": self.type,
        }
        optional = {
            "hostId": self.host_id,
            "value": self.value,
            "message": self.message,
            "reason": self.reason,
        }
        body |= {key: value for key, value in optional.items() if value is not None}
        body["openedAt"] = self.opened_at
        if self.closed_at is not None:
            body["closedAt"] = self.closed_at
        if self.memo is not None:
            body["memo"] = self.memo
        return body


@dataclass(frozen=True)
class Delivery:
    """One notification Mackerel sent (or tried to send) to a channel's URL."""

    channel_id: str
    url: str
    payload: dict[str, Any]
    status_code: int | None = None
    # The transport error when nothing was answered (e.g. "ConnectError").
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def wire(self) -> dict[str, Any]:
        return {
            "channelId": self.channel_id,
            "url": self.url,
            "payload": self.payload,
            "statusCode": self.status_code,
            "error": self.error,
        }


@dataclass(frozen=True)
class _Outgoing:
    channel_id: str
    url: str
    payload: dict[str, Any]


_Handler = Callable[[httpx.Request, str], httpx.Response]
_Route = tuple[re.Pattern[str], str, Mapping[str, _Handler]]


def _route(template: str, **handlers: _Handler) -> _Route:
    pattern = re.escape(f"{_API}{template}").replace(r"\{id\}", "(?P<id>[^/]+)")
    return re.compile(pattern), f"{_API}{template}", handlers


class MackerelSimulator(Simulator):
    """An in-memory Mackerel organization behind the API v0.

    ``keys`` maps API keys to their permissions (``READ_WRITE`` or ``READ_ONLY``).
    ``channel_put=False`` plays an older private deployment without
    ``PUT /api/v0/channels/{id}`` (answers 405). ``requests_per_minute`` throttles with a
    bare 429 (Mackerel documents no limit; default: none). ``delivery_transport`` carries
    notifications to channel URLs (default: real HTTP); ``seed`` makes ids repeatable.
    """

    def __init__(
        self,
        *,
        keys: Mapping[str, frozenset[str]] | None = None,
        org_name: str = "alertsync-sandbox",
        channel_put: bool = True,
        requests_per_minute: int | None = None,
        delivery_transport: httpx.BaseTransport | None = None,
        delivery_timeout: float = 5.0,
        clock: Clock = time.time,
        seed: int | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self._keys: dict[str, frozenset[str]] = dict(keys or {DEFAULT_KEY: READ_WRITE})
        self.org_name = org_name
        self.channel_put = channel_put
        self._limiter = (
            RateLimiter(requests_per_minute, 60.0, clock) if requests_per_minute else None
        )
        self.delivery_transport = delivery_transport
        self.delivery_timeout = delivery_timeout
        self._random = random.Random(seed)
        self._channels: dict[str, _Channel] = {}
        admin = AdminCollection("channels", _AdminChannel, _AdminChannelPatch)
        self.admin_collection = admin.routes(
            self.channels, self.channel, self.add_channel, self.patch_channel, self.remove_channel
        )
        self._groups: dict[str, _Group] = {}
        self._monitors: dict[str, _Monitor] = {}
        self._alerts: dict[str, _Alert] = {}
        self._seq = 0
        self._deliveries: list[Delivery] = []
        default = _Group(id=self._new_id(), name="Default", default=True)
        self._groups[default.id] = default
        self.default_group_id = default.id
        self._routes: tuple[_Route, ...] = (
            _route("/org", GET=self._get_org),
            _route("/channels", GET=self._list_channels, POST=self._create_channel),
            _route("/channels/{id}", PUT=self._update_channel, DELETE=self._delete_channel),
            _route("/notification-groups", GET=self._list_groups, POST=self._create_group),
            _route("/notification-groups/{id}", PUT=self._update_group, DELETE=self._delete_group),
            _route("/monitors", GET=self._list_monitors),
            _route("/alerts", GET=self._list_alerts),
            _route("/alerts/{id}/close", POST=self._close_alert),
        )

    # -- the HTTP API ------------------------------------------------------------------------

    def respond(self, request: httpx.Request) -> httpx.Response:
        found = self._match(request.url.path)
        if found is None:
            return _error(404, _NOT_FOUND)
        (_, _, handlers), pk = found
        key = request.headers.get("x-api-key")
        permissions = self._keys.get(key) if key else None
        if key is None or permissions is None or "read" not in permissions:
            return _error(403, _AUTH_FAILED)
        if request.method in _WRITE_METHODS and "write" not in permissions:
            return _error(403, _NO_WRITE)
        if self._limiter is not None and self._limiter.hit(key) is not None:
            return self.throttled_response(request, 0)
        handler = handlers.get(request.method)
        if handler is None:
            # No GET by id for channels, and no PUT on deployments older than late 2025.
            return _error(405, "Method Not Allowed")
        try:
            return handler(request, pk)
        except _ApiError as exc:
            return _error(exc.status, exc.message)

    def route_of(self, request: httpx.Request) -> str:
        found = self._match(request.url.path)
        return found[0][1] if found else request.url.path

    def throttled_response(self, request: httpx.Request, retry_after: float) -> httpx.Response:
        # No rate limit is documented, so no wait is announced: no Retry-After, no headers.
        return _error(429, "Too Many Requests")

    def _match(self, path: str) -> tuple[_Route, str] | None:
        for route in self._routes:
            if found := route[0].fullmatch(path):
                return route, found.groupdict().get("id") or ""
        return None

    def _get_org(self, request: httpx.Request, _: str) -> httpx.Response:
        return json_response(200, {"name": self.org_name})

    def _list_channels(self, request: httpx.Request, _: str) -> httpx.Response:
        # The whole organization in one answer: channels have no paging.
        return json_response(200, {"channels": [c.wire() for c in self._channels.values()]})

    def _create_channel(self, request: httpx.Request, _: str) -> httpx.Response:
        data = _json_object(request)
        channel = self._parse_channel(data, current=None)
        join_default = data.get("addToDefaultNotificationGroup", True)
        if not isinstance(join_default, bool):
            raise _ApiError(400, "addToDefaultNotificationGroup must be a boolean")
        self._channels[channel.id] = channel
        # The default when omitted is not documented; the web UI joins. [inferred]
        if join_default:
            self._groups[self.default_group_id].child_channel_ids.append(channel.id)
        return json_response(200, channel.wire())

    def _update_channel(self, request: httpx.Request, pk: str) -> httpx.Response:
        if not self.channel_put:
            return _error(405, "Method Not Allowed")
        current = self._channel(pk)
        replaced = self._parse_channel(_json_object(request), current=current)
        self._channels[pk] = replaced
        return json_response(200, replaced.wire())

    def _delete_channel(self, request: httpx.Request, pk: str) -> httpx.Response:
        channel = self._channel(pk)
        self._drop_channel(pk)
        return json_response(200, channel.wire())

    def _list_groups(self, request: httpx.Request, _: str) -> httpx.Response:
        groups = [group.wire() for group in self._groups.values()]
        return json_response(200, {"notificationGroups": groups})

    def _create_group(self, request: httpx.Request, _: str) -> httpx.Response:
        group = self._parse_group(_json_object(request), current=None)
        self._groups[group.id] = group
        return json_response(200, group.wire())

    def _update_group(self, request: httpx.Request, pk: str) -> httpx.Response:
        current = self._group(pk)
        replaced = self._parse_group(_json_object(request), current=current)
        self._groups[pk] = replaced
        return json_response(200, replaced.wire())

    def _delete_group(self, request: httpx.Request, pk: str) -> httpx.Response:
        group = self._group(pk)
        if group.default:
            raise _ApiError(400, "The default notification group cannot be deleted")
        del self._groups[pk]
        for other in self._groups.values():
            other.child_group_ids = [gid for gid in other.child_group_ids if gid != pk]
        return json_response(200, group.wire())

    def _list_monitors(self, request: httpx.Request, _: str) -> httpx.Response:
        return json_response(200, {"monitors": [m.wire() for m in self._monitors.values()]})

    def _list_alerts(self, request: httpx.Request, _: str) -> httpx.Response:
        params = request.url.params
        with_closed = (params.get("withClosed") or "").lower() == "true"
        limit = _PAGE_SIZE
        if (raw_limit := params.get("limit")) is not None:
            try:
                limit = int(raw_limit)
            except ValueError:
                raise _ApiError(400, "limit must be a number") from None
            if not 1 <= limit <= _PAGE_SIZE:
                raise _ApiError(400, f"limit must be between 1 and {_PAGE_SIZE}")
        ordered = self._newest_first()
        next_id = params.get("nextId")
        if next_id is not None:
            positions = [i for i, alert in enumerate(ordered) if alert.id == next_id]
            if not positions:
                raise _ApiError(404, f"alert {next_id} not found")
            ordered = ordered[positions[0] + 1 :]
        matching = [alert for alert in ordered if with_closed or alert.open]
        page = matching[:limit]
        body: dict[str, Any] = {"alerts": [alert.wire() for alert in page]}
        # Present only when more alerts remain (the reference: "when there are 101 or more").
        if len(matching) > limit:
            body["nextId"] = page[-1].id
        return json_response(200, body)

    def _close_alert(self, request: httpx.Request, pk: str) -> httpx.Response:
        alert = self._alerts.get(pk)
        if alert is None:
            raise _ApiError(404, f"alert {pk} not found")
        data = _json_object(request)
        reason = data.get("reason")
        if not isinstance(reason, str):
            raise _ApiError(400, "reason is required")
        if alert.open:
            self._close(alert, reason)
        return json_response(200, alert.wire())

    # -- validation --------------------------------------------------------------------------

    def _parse_channel(self, data: Mapping[str, Any], *, current: _Channel | None) -> _Channel:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _ApiError(400, "name is required")
        type_ = data.get("type")
        if not isinstance(type_, str) or not type_:
            raise _ApiError(400, "type is required")
        if current is not None and type_ != current.type:
            raise _ApiError(400, "type cannot be changed")
        if type_ not in CHANNEL_TYPES:
            raise _ApiError(400, f"unknown channel type: {type_}")
        if type_ not in _WRITABLE_TYPES:
            raise _ApiError(400, f"channels of type {type_} cannot be created through the API")
        channel = _Channel(
            id=current.id if current else self._new_id(),
            name=name,
            type=type_,
            suspended_at=current.suspended_at if current else None,
        )
        channel.events = _events(data.get("events", []))
        if type_ in ("webhook", "slack"):
            url = data.get("url")
            if not isinstance(url, str) or not re.match(r"^https?://\S+$", url):
                raise _ApiError(400, "url is required and must be an http(s) URL")
            channel.url = url
            graph = data.get("enabledGraphImage", False)
            if not isinstance(graph, bool):
                raise _ApiError(400, "enabledGraphImage must be a boolean")
            channel.enabled_graph_image = graph
        if type_ == "slack":
            mentions = data.get("mentions", {})
            if not isinstance(mentions, dict) or set(mentions) - {"ok", "warning", "critical"}:
                raise _ApiError(400, "mentions may only have ok, warning and critical")
            channel.mentions = {str(k): str(v) for k, v in mentions.items()}
        if type_ == "email":
            channel.emails = _strings(data.get("emails", []), "emails")
            channel.user_ids = _strings(data.get("userIds", []), "userIds")
        return channel

    def _parse_group(self, data: Mapping[str, Any], *, current: _Group | None) -> _Group:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _ApiError(400, "name is required")
        level = data.get("notificationLevel")
        if level not in _LEVELS:
            raise _ApiError(400, "notificationLevel must be all or critical")
        children = _strings(data.get("childNotificationGroupIds", []), "childNotificationGroupIds")
        channels = _strings(data.get("childChannelIds", []), "childChannelIds")
        for gid in children:
            if gid not in self._groups or (current is not None and gid == current.id):
                raise _ApiError(400, f"notification group {gid} not found")
        for cid in channels:
            if cid not in self._channels:
                raise _ApiError(400, f"notification channel {cid} not found")
        monitors: list[dict[str, Any]] = []
        for item in _list(data.get("monitors", []), "monitors"):
            if not isinstance(item, dict) or item.get("id") not in self._monitors:
                raise _ApiError(400, f"monitor {_id_of(item)} not found")
            skip = item.get("skipDefault", False)
            if not isinstance(skip, bool):
                raise _ApiError(400, "skipDefault must be a boolean")
            monitors.append({"id": item["id"], "skipDefault": skip})
        services: list[str] = []
        for item in _list(data.get("services", []), "services"):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise _ApiError(400, "services must be objects with a name")
            services.append(item["name"])
        return _Group(
            id=current.id if current else self._new_id(),
            name=name,
            notification_level=str(level),
            child_group_ids=_unique(children),
            child_channel_ids=_unique(channels),
            monitors=monitors,
            services=services,
            default=current.default if current else False,
        )

    # -- state -------------------------------------------------------------------------------

    def _new_id(self) -> str:
        taken = self._channels.keys() | self._groups.keys() | self._monitors.keys()
        while True:
            candidate = "".join(self._random.choices(_ID_ALPHABET, k=11))
            if candidate not in taken and candidate not in self._alerts:
                return candidate

    def _channel(self, pk: str) -> _Channel:
        channel = self._channels.get(pk)
        if channel is None:
            raise _ApiError(404, f"notification channel {pk} not found")
        return channel

    def _group(self, pk: str) -> _Group:
        group = self._groups.get(pk)
        if group is None:
            raise _ApiError(404, f"notification group {pk} not found")
        return group

    def _drop_channel(self, pk: str) -> None:
        del self._channels[pk]
        for group in self._groups.values():
            group.child_channel_ids = [cid for cid in group.child_channel_ids if cid != pk]

    def _newest_first(self) -> list[_Alert]:
        return sorted(self._alerts.values(), key=lambda a: (a.opened_at, a.seq), reverse=True)

    def _close(self, alert: _Alert, reason: str) -> None:
        alert.status = "OK"
        alert.reason = reason
        alert.closed_at = int(self.clock())

    def _routed_channels(self, alert: _Alert) -> list[str]:
        """Channels Mackerel notifies of `alert`, through the notification groups.

        The default group receives every alert unless a group lists the monitor with
        ``skipDefault``; other groups receive the alerts of the monitors they list. A
        ``critical`` group receives only CRITICAL alerts; child groups receive what their
        parent receives. (Routing by ``services`` needs hosts, which are not simulated.)
        """
        skip_default = any(
            m["id"] == alert.monitor_id and m["skipDefault"]
            for group in self._groups.values()
            for m in group.monitors
        )
        pending = [
            group
            for group in self._groups.values()
            if (group.default and not skip_default)
            or any(m["id"] == alert.monitor_id for m in group.monitors)
        ]
        seen: set[str] = set()
        channels: list[str] = []
        while pending:
            group = pending.pop(0)
            if group.id in seen:
                continue
            seen.add(group.id)
            if group.notification_level == "critical" and alert.status != "CRITICAL":
                continue
            channels.extend(cid for cid in group.child_channel_ids if cid not in channels)
            pending.extend(
                self._groups[gid] for gid in group.child_group_ids if gid in self._groups
            )
        return channels

    def _notification(self, channel: _Channel, alert: _Alert) -> dict[str, Any]:
        """The webhook JSON of mackerel.io/docs/entry/howto/alerts/webhook."""
        monitor = self._monitors.get(alert.monitor_id)
        org_url = f"https://mackerel.io/orgs/{self.org_name}"
        body: dict[str, Any] = {
            "orgName": self.org_name,
            "event": "alert",
            "memo": alert.memo or "",
            "type": alert.type,
            "message": alert.message or "",
        }
        if channel.enabled_graph_image:
            body["imageUrl"] = f"https://mackerel.io/embed/public/alert/{alert.id}.png"
        if alert.host_id is not None:
            body["host"] = {
                "id": alert.host_id,
                "name": alert.host_id,
                "url": f"{org_url}/hosts/{alert.host_id}",
                "type": "unknown",
                "status": "working",
                "memo": "",
                "isRetired": False,
                "roles": [],
            }
        notice: dict[str, Any] = {
            "openedAt": alert.opened_at,
            "createdAt": alert.opened_at * 1000,
            "statusChangedAt": alert.closed_at or alert.opened_at,
            "isOpen": alert.open,
            "monitorName": monitor.name if monitor else alert.monitor_id,
            "status": alert.status.lower(),
            "trigger": "monitor",
            "id": alert.id,
            "url": f"{org_url}/alerts/{alert.id}",
        }
        if alert.closed_at is not None:
            notice["closedAt"] = alert.closed_at
        if alert.value is not None:
            notice["metricValue"] = alert.value
        body["alert"] = notice
        return body

    def _outgoing(self, alert: _Alert) -> list[_Outgoing]:
        """What Mackerel sends for `alert`: webhook channels that take alerts, not suspended."""
        sent: list[_Outgoing] = []
        for cid in self._routed_channels(alert):
            channel = self._channels.get(cid)
            if (
                channel is None
                or channel.type != "webhook"
                or channel.suspended_at is not None
                or "alert" not in channel.events
                or channel.url is None
            ):
                continue
            sent.append(_Outgoing(cid, channel.url, self._notification(channel, alert)))
        return sent

    def _send(self, outgoing: Sequence[_Outgoing]) -> list[Delivery]:
        """POST each notification; never under the lock (the receiver may be slow)."""
        results: list[Delivery] = []
        if outgoing:
            with httpx.Client(
                transport=self.delivery_transport, timeout=self.delivery_timeout
            ) as client:
                for item in outgoing:
                    try:
                        response = client.post(
                            item.url,
                            json=item.payload,
                            headers={"User-Agent": "mackerel-webhook-sim"},
                        )
                    except httpx.HTTPError as exc:
                        results.append(
                            Delivery(
                                item.channel_id, item.url, item.payload, None, type(exc).__name__
                            )
                        )
                    else:
                        results.append(
                            Delivery(item.channel_id, item.url, item.payload, response.status_code)
                        )
        with self.lock:
            self._deliveries.extend(results)
        return results

    # -- behind the operator's back ----------------------------------------------------------

    def channels(self) -> list[dict[str, Any]]:
        """What ``GET /api/v0/channels`` would return."""
        with self.lock:
            return [channel.wire() for channel in self._channels.values()]

    def channel(self, channel_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = self._channels.get(channel_id)
            return found.wire() if found else None

    def add_channel(
        self,
        name: str,
        *,
        type: str = "webhook",
        url: str = "https://receiver.example.com/mackerel",
        events: Iterable[str] = ("alert",),
        enabled_graph_image: bool = False,
        add_to_default_group: bool = True,
    ) -> dict[str, Any]:
        """Someone else creates a channel (any type, duplicates allowed)."""
        if type not in CHANNEL_TYPES:
            raise ValueError(f"unknown channel type {type!r}")
        with self.lock:
            channel = _Channel(
                id=self._new_id(),
                name=name,
                type=type,
                url=url if type in ("webhook", "slack") else None,
                events=_events(list(events)),
                enabled_graph_image=enabled_graph_image,
            )
            self._channels[channel.id] = channel
            if add_to_default_group:
                self._groups[self.default_group_id].child_channel_ids.append(channel.id)
            return channel.wire()

    def set_url(self, channel_id: str, url: str) -> None:
        self.patch_channel(channel_id, url=url)

    def set_events(self, channel_id: str, events: Iterable[str]) -> None:
        self.patch_channel(channel_id, events=list(events))

    def patch_channel(self, channel_id: str, **fields: Any) -> None:
        """Overwrite fields directly: ``name``, ``type``, ``url``, ``events``,
        ``enabled_graph_image``. Nothing is validated, so any drift can be staged."""
        unknown = set(fields) - {"name", "type", "url", "events", "enabled_graph_image"}
        if unknown:
            raise ValueError(f"cannot patch {sorted(unknown)}")
        with self.lock:
            channel = self._stored_channel(channel_id)
            for name, value in fields.items():
                setattr(channel, name, list(value) if name == "events" else value)

    def remove_channel(self, channel_id: str) -> None:
        """Delete as someone else would (it also leaves every group)."""
        with self.lock:
            self._stored_channel(channel_id)
            self._drop_channel(channel_id)

    def suspend(self, channel_id: str, at: int | None = None) -> None:
        """Mackerel stops delivering to the channel (e.g. its endpoint kept failing)."""
        with self.lock:
            self._stored_channel(channel_id).suspended_at = int(self.clock()) if at is None else at

    def resume(self, channel_id: str) -> None:
        with self.lock:
            self._stored_channel(channel_id).suspended_at = None

    def notification_groups(self) -> list[dict[str, Any]]:
        with self.lock:
            return [group.wire() for group in self._groups.values()]

    def notification_group(self, group_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = self._groups.get(group_id)
            return found.wire() if found else None

    def add_notification_group(
        self,
        name: str,
        *,
        notification_level: Literal["all", "critical"] = "all",
        channel_ids: Iterable[str] = (),
        monitors: Iterable[str | tuple[str, bool]] = (),
        child_group_ids: Iterable[str] = (),
        services: Iterable[str] = (),
    ) -> str:
        """A group made in the web UI; ``monitors`` are ids or (id, skipDefault)."""
        with self.lock:
            group = _Group(
                id=self._new_id(),
                name=name,
                notification_level=notification_level,
                child_group_ids=list(child_group_ids),
                child_channel_ids=list(channel_ids),
                monitors=[
                    {"id": m, "skipDefault": False}
                    if isinstance(m, str)
                    else {"id": m[0], "skipDefault": m[1]}
                    for m in monitors
                ],
                services=list(services),
            )
            self._groups[group.id] = group
            return group.id

    def add_to_group(self, group_id: str, channel_id: str) -> None:
        with self.lock:
            group = self._stored_group(group_id)
            if channel_id not in group.child_channel_ids:
                group.child_channel_ids.append(channel_id)

    def remove_from_group(self, group_id: str, channel_id: str) -> None:
        with self.lock:
            group = self._stored_group(group_id)
            group.child_channel_ids = [c for c in group.child_channel_ids if c != channel_id]

    def add_monitor(self, name: str, *, type: str = "host", service: str | None = None) -> str:
        if type not in _MONITOR_TYPES:
            raise ValueError(f"unknown monitor type {type!r}")
        with self.lock:
            monitor = _Monitor(self._new_id(), name, type, service)
            self._monitors[monitor.id] = monitor
            return monitor.id

    def monitors(self) -> list[dict[str, Any]]:
        with self.lock:
            return [monitor.wire() for monitor in self._monitors.values()]

    def open_alert(
        self,
        monitor_id: str,
        *,
        status: Literal["CRITICAL", "WARNING", "UNKNOWN"] = "CRITICAL",
        host_id: str | None = None,
        value: float | None = None,
        message: str | None = None,
        deliver: bool = True,
    ) -> dict[str, Any]:
        """A monitor opens an alert; Mackerel notifies the channels its groups route it to."""
        with self.lock:
            monitor = self._monitors.get(monitor_id)
            if monitor is None:
                raise KeyError(monitor_id)
            self._seq += 1
            alert = _Alert(
                id=self._new_id(),
                seq=self._seq,
                status=status,
                monitor_id=monitor_id,
                type=monitor.type,
                opened_at=int(self.clock()),
                host_id=host_id,
                value=value,
                message=message,
            )
            self._alerts[alert.id] = alert
            outgoing = self._outgoing(alert) if deliver else []
            opened = alert.wire()
        self._send(outgoing)
        return opened

    def close_alert(
        self, alert_id: str, reason: str = "closed in the web UI", *, deliver: bool = True
    ) -> dict[str, Any]:
        """Someone closes an alert (or its monitor recovers); the channels hear of it."""
        with self.lock:
            alert = self._alerts.get(alert_id)
            if alert is None:
                raise KeyError(alert_id)
            if alert.open:
                self._close(alert, reason)
            outgoing = self._outgoing(alert) if deliver else []
            closed = alert.wire()
        self._send(outgoing)
        return closed

    def alerts(self, *, with_closed: bool = False) -> list[dict[str, Any]]:
        """Newest first, unpaged."""
        with self.lock:
            return [a.wire() for a in self._newest_first() if with_closed or a.open]

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = self._alerts.get(alert_id)
            return found.wire() if found else None

    def routed_channels(self, alert_id: str) -> list[str]:
        """The channels Mackerel's notification groups route this alert to."""
        with self.lock:
            return self._routed_channels(self._alerts[alert_id])

    def deliver(self, channel_id: str, alert_id: str) -> Delivery:
        """Send this alert's notification to this channel now, whatever the routing."""
        with self.lock:
            channel = self._stored_channel(channel_id)
            alert = self._alerts[alert_id]
            if channel.url is None:
                raise ValueError(f"channel {channel_id} ({channel.type}) has no URL")
            outgoing = _Outgoing(channel_id, channel.url, self._notification(channel, alert))
        return self._send([outgoing])[0]

    def deliveries(self, channel_id: str | None = None) -> list[Delivery]:
        with self.lock:
            return [d for d in self._deliveries if channel_id in (None, d.channel_id)]

    def add_key(self, key: str, permissions: frozenset[str] = READ_WRITE) -> None:
        with self.lock:
            self._keys[key] = permissions

    def _stored_channel(self, channel_id: str) -> _Channel:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise KeyError(channel_id)
        return channel

    def _stored_group(self, group_id: str) -> _Group:
        group = self._groups.get(group_id)
        if group is None:
            raise KeyError(group_id)
        return group

    # -- the same over HTTP, for the demo --------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and _DELIVERING.fullmatch(path):
            # These POST to channel URLs with a blocking client: off the event loop, so a
            # receiver served by this same loop can still answer.
            await request.aread()
            return await asyncio.to_thread(self._admin, request, path.removeprefix(ADMIN_PREFIX))
        return await super().handle(request)

    def admin(self, request: httpx.Request, path: str) -> httpx.Response | None:
        """Admin routes below ``/_sim`` (besides the shared ``/requests`` and ``/faults``):

        ``GET|POST /channels``, ``GET|PATCH|DELETE /channels/{id}``,
        ``POST|DELETE /channels/{id}/suspension``, ``POST /channels/{id}/deliver``,
        ``GET|POST /notification-groups``,
        ``POST|DELETE /notification-groups/{id}/channels/{channelId}``,
        ``GET|POST /monitors``, ``GET|POST /alerts``, ``POST /alerts/{id}/close``,
        ``GET /deliveries``, ``POST /keys``, ``GET|PATCH /settings`` (``channelPut``).
        """
        method = request.method
        match path.strip("/").split("/"):
            case ["channels", pk, "suspension"] if method == "POST":
                self.suspend(pk, _AdminSuspend.model_validate(admin_body(request)).at)
                return json_response(200, self.channel(pk))
            case ["channels", pk, "suspension"] if method == "DELETE":
                self.resume(pk)
                return json_response(200, self.channel(pk))
            case ["channels", pk, "deliver"] if method == "POST":
                body = _AdminDeliver.model_validate(admin_body(request))
                return json_response(200, self.deliver(pk, body.alert_id).wire())
            case ["notification-groups"] if method == "GET":
                return json_response(200, self.notification_groups())
            case ["notification-groups"] if method == "POST":
                group = _AdminGroup.model_validate(admin_body(request))
                group_id = self.add_notification_group(**group.model_dump())
                return json_response(201, self.notification_group(group_id))
            case ["notification-groups", gid, "channels", cid] if method == "POST":
                self.add_to_group(gid, cid)
                return json_response(200, self.notification_group(gid))
            case ["notification-groups", gid, "channels", cid] if method == "DELETE":
                self.remove_from_group(gid, cid)
                return json_response(200, self.notification_group(gid))
            case ["monitors"] if method == "GET":
                return json_response(200, self.monitors())
            case ["monitors"] if method == "POST":
                monitor = _AdminMonitor.model_validate(admin_body(request))
                monitor_id = self.add_monitor(**monitor.model_dump())
                return json_response(201, self._monitors[monitor_id].wire())
            case ["alerts"] if method == "GET":
                closed = request.url.params.get("withClosed", "").lower() == "true"
                return json_response(200, self.alerts(with_closed=closed))
            case ["alerts"] if method == "POST":
                opening = _AdminAlert.model_validate(admin_body(request))
                return json_response(201, self.open_alert(**opening.model_dump()))
            case ["alerts", pk, "close"] if method == "POST":
                closing = _AdminClose.model_validate(admin_body(request))
                return json_response(200, self.close_alert(pk, **closing.model_dump()))
            case ["deliveries"] if method == "GET":
                return json_response(200, [d.wire() for d in self.deliveries()])
            case ["settings"] if method == "GET":
                return json_response(200, {"channelPut": self.channel_put})
            case ["settings"] if method == "PATCH":
                settings = _AdminSettings.model_validate(admin_body(request))
                if settings.channel_put is not None:
                    self.channel_put = settings.channel_put
                return json_response(200, {"channelPut": self.channel_put})
            case ["keys"] if method == "POST":
                key = _AdminKey.model_validate(admin_body(request))
                self.add_key(key.key, frozenset(key.permissions))
                return httpx.Response(204)
        return None


_DELIVERING = re.compile(
    re.escape(ADMIN_PREFIX) + r"/(alerts|alerts/[^/]+/close|channels/[^/]+/deliver)/?"
)


class _AdminModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True
    )


class _AdminChannel(_AdminModel):
    name: str
    type: str = "webhook"
    url: str = "https://receiver.example.com/mackerel"
    events: list[str] = ["alert"]
    enabled_graph_image: bool = False
    add_to_default_group: bool = True


class _AdminChannelPatch(_AdminModel):
    name: str | None = None
    type: str | None = None
    url: str | None = None
    events: list[str] | None = None
    enabled_graph_image: bool | None = None


class _AdminSuspend(_AdminModel):
    at: int | None = None


class _AdminDeliver(_AdminModel):
    alert_id: str


class _AdminGroup(_AdminModel):
    name: str
    notification_level: Literal["all", "critical"] = "all"
    channel_ids: list[str] = []
    monitors: list[str] = []
    child_group_ids: list[str] = []
    services: list[str] = []


class _AdminMonitor(_AdminModel):
    name: str
    type: str = "host"
    service: str | None = None


class _AdminAlert(_AdminModel):
    monitor_id: str
    status: Literal["CRITICAL", "WARNING", "UNKNOWN"] = "CRITICAL"
    host_id: str | None = None
    value: float | None = None
    message: str | None = None
    deliver: bool = True


class _AdminClose(_AdminModel):
    reason: str = "closed in the web UI"
    deliver: bool = True


class _AdminSettings(_AdminModel):
    channel_put: bool | None = None


class _AdminKey(_AdminModel):
    key: str
    permissions: list[Literal["read", "write"]] = ["read", "write"]


def _json_object(request: httpx.Request) -> dict[str, Any]:
    try:
        data = json.loads(request.content or b"null")
    except ValueError:
        raise _ApiError(400, "Invalid JSON") from None
    if not isinstance(data, dict):
        raise _ApiError(400, "Invalid JSON: an object is expected")
    return data


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise _ApiError(400, f"{name} must be an array")
    return value


def _strings(value: Any, name: str) -> list[str]:
    items = _list(value, name)
    if not all(isinstance(item, str) for item in items):
        raise _ApiError(400, f"{name} must be an array of strings")
    return list(items)


def _events(value: Any) -> list[str]:
    events = _strings(value, "events")
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        raise _ApiError(400, f"unknown events: {', '.join(unknown)}")
    return _unique(events)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _id_of(item: Any) -> str:
    return str(item.get("id")) if isinstance(item, dict) else repr(item)


_PERMISSIONS = {"": READ_WRITE, "read-write": READ_WRITE, "read": READ_ONLY}
_key_permissions = server.credential_choice(_PERMISSIONS, "permission", "read or read-write")


def build_parser() -> argparse.ArgumentParser:
    parser = server.simulator_parser("mackerel", "Serve a Mackerel API v0 simulator.")
    parser.add_argument(
        "--key",
        dest="keys",
        action="append",
        type=_key_permissions,
        metavar="KEY[:PERMISSION]",
        help=f"accepted API key, read-write (default) or read; repeatable (default: {DEFAULT_KEY})",
    )
    parser.add_argument("--org", default="alertsync-sandbox", help="organization name")
    parser.add_argument("--monitor", dest="monitors", action="append", default=[], metavar="NAME")
    parser.add_argument(
        "--group",
        dest="groups",
        action="append",
        default=[],
        metavar="NAME",
        help="a notification group (routing every --monitor)",
    )
    parser.add_argument(
        "--no-channel-put", action="store_true", help="answer PUT /channels/{id} with 405"
    )
    parser.add_argument("--rate-limit", type=int, default=0, help="requests a minute; 0: none")
    parser.add_argument("--seed", type=int, help="makes ids repeatable")
    return parser


def simulator_from_args(args: argparse.Namespace) -> MackerelSimulator:
    simulator = MackerelSimulator(
        keys=dict(args.keys) if args.keys else None,
        org_name=args.org,
        channel_put=not args.no_channel_put,
        requests_per_minute=args.rate_limit or None,
        seed=args.seed,
    )
    monitors = [simulator.add_monitor(name) for name in args.monitors]
    for name in args.groups:
        simulator.add_notification_group(name, monitors=monitors)
    return simulator


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the simulator until interrupted; prints its URL on stdout."""
    args = build_parser().parse_args(argv)
    server.run(simulator_from_args(args), args.host, args.port, name="Mackerel")


def _created(sim: MackerelSimulator) -> Sequence[object]:
    return [c for c in sim.channels() if c["type"] == "webhook"]


# The sandbox's row (alertsim/simulators.py collects it): deploy/samples/mackerel.yaml.
SERVED: Served = served(
    "mackerel",
    "mackerel",
    18093,
    "checkout-alerts",
    main,
    lambda: MackerelSimulator(keys={"sandbox-mackerel-key": READ_WRITE}),
    _created,
)
