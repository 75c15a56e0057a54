"""Grafana OnCall public API v1 client: integrations, one method per endpoint."""

import urllib.parse
from typing import Any
from urllib.parse import parse_qsl

import httpx

from alertsync.errors import PlatformUnavailableError
from alertsync.platforms.grafana_oncall.wire import OnCallIntegration, OnCallPage
from alertsync.platforms.http import PlatformHttp, header_seconds, json_of
from alertsync.platforms.paging import follow_pages
from alertsync.platforms.wire import GONE, fetch, read_unless_gone

__all__ = ["GrafanaOnCallClient", "bad_token", "describe_error", "retry_after"]

PAGE_SIZE = 100  # the server's cap; fewer pages for the batched listing
INTEGRATIONS = "/api/v1/integrations/"
_BAD_NEXT = "the platform sent a next page link that is unreadable or repeats an earlier one"


def describe_error(response: httpx.Response) -> str:
    """DRF bodies: {"detail": ...} or {"field": ["message", ...]}; HTML on some 404/500."""
    try:
        body = json_of(response)
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            return str(body["detail"])
        parts = []
        for name, messages in body.items():
            text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            parts.append(f"{name}: {text}")
        return ", ".join(parts)
    return response.reason_phrase


def bad_token(response: httpx.Response) -> bool:
    """OnCall refuses an unknown token with 403 "Invalid token." (not 401), on any
    request; a known token without the role for a write gets 403 "You do not have
    permission to perform this action." (checked against a running engine)."""
    try:
        return describe_error(response) == "Invalid token."
    except ValueError:
        return False


def retry_after(response: httpx.Response) -> float | None:
    return header_seconds(response, "Retry-After", "RateLimit-Reset")


class GrafanaOnCallClient:
    def __init__(self, http: PlatformHttp) -> None:
        self.http = http

    async def list_integrations(self, name: str | None = None) -> list[OnCallIntegration]:
        """All pages. `name` filters exactly; team_id is never sent (the server 500s)."""
        what = "list Grafana OnCall integrations"
        first: dict[str, str | int] = {"perpage": PAGE_SIZE}
        if name is not None:
            first["name"] = name

        async def read(query: str | None) -> tuple[list[OnCallIntegration], str | None]:
            params = first if query is None else dict(parse_qsl(query, keep_blank_values=True))
            page = await fetch(self.http, OnCallPage, "GET", INTEGRATIONS, what=what, params=params)
            if page.next is None:
                return page.results, None
            # `next` carries the whole query. Only the query is followed, on our own
            # base URL: following the link would send the token to any host it names.
            query = _query_of(page.next)
            if query is None:
                raise PlatformUnavailableError(f"cannot {what}: {_BAD_NEXT}")
            return page.results, query

        return await follow_pages(read, what=what, repeated=_BAD_NEXT)

    async def check(self) -> None:
        """One small authenticated read: the token is accepted and the API answers."""
        await self.http.request(
            "GET", INTEGRATIONS, what="list Grafana OnCall integrations", params={"perpage": 1}
        )

    async def get_integration(self, id_: str) -> OnCallIntegration | None:
        what = f"read integration {id_}"
        return await read_unless_gone(
            self.http, OnCallIntegration, f"{INTEGRATIONS}{id_}/", what=what
        )

    async def create_integration(self, body: dict[str, Any]) -> OnCallIntegration:
        what = f"create integration {body.get('name')!r}"
        return await fetch(self.http, OnCallIntegration, "POST", INTEGRATIONS, what=what, json=body)

    async def update_integration(self, id_: str, body: dict[str, Any]) -> OnCallIntegration:
        what = f"update integration {id_}"
        path = f"{INTEGRATIONS}{id_}/"
        return await fetch(self.http, OnCallIntegration, "PUT", path, what=what, json=body)

    async def delete_integration(self, id_: str) -> None:
        """A second delete answers 404: already gone is success."""
        await self.http.request(
            "DELETE", f"{INTEGRATIONS}{id_}/", what=f"delete integration {id_}", ok_statuses=GONE
        )

    async def start_maintenance(self, id_: str, mode: str, duration: int) -> None:
        what = f"start maintenance of integration {id_}"
        response = await self.http.request(
            "POST",
            f"{INTEGRATIONS}{id_}/maintenance_start/",
            what=what,
            json={"mode": mode, "duration": duration},
            ok_statuses=frozenset({400}),
        )
        # Already in maintenance is the state we want; any other 400 is not.
        if response.status_code == 400 and describe_error(response) != "Already on maintenance":
            self.http.raise_for(response, what)

    async def stop_maintenance(self, id_: str) -> None:
        await self.http.request(
            "POST",
            f"{INTEGRATIONS}{id_}/maintenance_stop/",
            what=f"stop maintenance of integration {id_}",
        )


def _query_of(link: str) -> str | None:
    try:
        return urllib.parse.urlsplit(link).query
    except ValueError:
        return None
