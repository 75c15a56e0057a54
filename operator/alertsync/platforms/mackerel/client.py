"""Mackerel API v0 client: channels, notification groups, alerts; one method per endpoint."""

from collections.abc import Sequence
from typing import Any

import httpx

from alertsync.platforms.http import PlatformHttp, header_seconds, json_of
from alertsync.platforms.mackerel.wire import (
    MackerelAlert,
    MackerelAlertPage,
    MackerelChannel,
    MackerelChannelList,
    MackerelNotificationGroup,
    MackerelNotificationGroupList,
)
from alertsync.platforms.paging import follow_pages
from alertsync.platforms.wire import GONE, fetch, parsed

__all__ = ["MackerelClient", "describe_error", "retry_after"]

ORG = "/api/v0/org"
CHANNELS = "/api/v0/channels"
GROUPS = "/api/v0/notification-groups"
ALERTS = "/api/v0/alerts"

# What a deployment without PUT /api/v0/channels/{id} (added late 2025) answers.
_NO_PUT = frozenset({404, 405})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def describe_error(response: httpx.Response) -> str:
    """`{"error": {"message": ...}}` (older: `{"error": "..."}`), else the status text.

    A 403 says what Mackerel means by it, since its own message may not: keys carry
    Read and Write permissions separately and may be limited to an IP range.
    """
    message = _message(response)
    if response.status_code != 403:
        return message
    try:
        writing = response.request.method in _WRITES
    except RuntimeError:
        writing = False
    if writing:
        hint = (
            "the Mackerel API key needs both Read and Write permission (a read-only key "
            "cannot change channels, notification groups or alerts), from an allowed IP range"
        )
    else:
        hint = (
            "the Mackerel API key was refused: check that it exists, has Read permission "
            "and allows this IP address"
        )
    return f"{message} ({hint})"


def _message(response: httpx.Response) -> str:
    try:
        body = json_of(response)
    except ValueError:
        return response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return response.reason_phrase


def retry_after(response: httpx.Response) -> float | None:
    """Mackerel documents no rate limit and announces no wait; honour one if it ever does."""
    return header_seconds(response, "Retry-After")


class MackerelClient:
    def __init__(self, http: PlatformHttp) -> None:
        self.http = http

    async def check(self) -> None:
        """The cheapest authenticated read: the organization's name."""
        await self.http.request("GET", ORG, what="read the Mackerel organization")

    # -- channels (no paging, no GET by id) -------------------------------------------------

    async def list_channels(self) -> list[MackerelChannel]:
        what = "list Mackerel channels"
        listed = await fetch(self.http, MackerelChannelList, "GET", CHANNELS, what=what)
        return list(listed.channels)

    async def create_channel(self, body: dict[str, Any]) -> MackerelChannel:
        what = f"create channel {body.get('name')!r}"
        return await fetch(self.http, MackerelChannel, "POST", CHANNELS, what=what, json=body)

    async def update_channel(self, id_: str, body: dict[str, Any]) -> MackerelChannel | None:
        """PUT, a full replace. None: this Mackerel has no channel PUT (404 or 405)."""
        what = f"update channel {id_}"
        response = await self.http.request(
            "PUT", f"{CHANNELS}/{id_}", what=what, json=body, ok_statuses=_NO_PUT
        )
        if response.status_code in _NO_PUT:
            return None
        return parsed(MackerelChannel, response, what)

    async def delete_channel(self, id_: str) -> None:
        """A second delete answers 404: already gone is success."""
        await self.http.request(
            "DELETE", f"{CHANNELS}/{id_}", what=f"delete channel {id_}", ok_statuses=GONE
        )

    # -- notification groups ----------------------------------------------------------------

    async def list_notification_groups(self) -> list[MackerelNotificationGroup]:
        what = "list Mackerel notification groups"
        listed = await fetch(self.http, MackerelNotificationGroupList, "GET", GROUPS, what=what)
        return list(listed.notification_groups)

    async def create_notification_group(self, body: dict[str, Any]) -> MackerelNotificationGroup:
        what = f"create notification group {body.get('name')!r}"
        return await fetch(
            self.http, MackerelNotificationGroup, "POST", GROUPS, what=what, json=body
        )

    async def update_notification_group(
        self, id_: str, body: dict[str, Any]
    ) -> MackerelNotificationGroup:
        """PUT, a full replace: send the whole group, not only what changes."""
        what = f"update notification group {id_}"
        path = f"{GROUPS}/{id_}"
        return await fetch(self.http, MackerelNotificationGroup, "PUT", path, what=what, json=body)

    # -- alerts -------------------------------------------------------------------------------

    async def list_alerts(self, *, with_closed: bool = False) -> list[MackerelAlert]:
        """Every page, newest first: each call returns up to 100 and a `nextId` while
        older alerts remain; the next call sends it back (with the same `withClosed`)."""
        what = "list Mackerel alerts"

        async def read(next_id: str | None) -> tuple[Sequence[MackerelAlert], str | None]:
            params: dict[str, str | int] = {}
            if with_closed:
                params["withClosed"] = "true"
            if next_id is not None:
                params["nextId"] = next_id
            page = await fetch(
                self.http, MackerelAlertPage, "GET", ALERTS, what=what, params=params
            )
            return page.alerts, page.next_id

        # A server repeating cursors for ever: the first repeat ends the listing.
        return await follow_pages(read, what=what, repeated=None)

    async def close_alert(self, id_: str, reason: str) -> MackerelAlert | None:
        """Close with the (required) reason. None: no such alert (404)."""
        what = f"close alert {id_}"
        response = await self.http.request(
            "POST", f"{ALERTS}/{id_}/close", what=what, json={"reason": reason}, ok_statuses=GONE
        )
        return None if response.status_code == 404 else parsed(MackerelAlert, response, what)
