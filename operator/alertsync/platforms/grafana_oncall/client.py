"""Grafana OnCall public API v1 client: integrations, one method per endpoint."""

import urllib.parse
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from alertsync.errors import PlatformUnavailableError
from alertsync.platforms.grafana_oncall.wire import OnCallIntegration, OnCallPage
from alertsync.platforms.http import MAX_PAGES, PlatformHttp, header_seconds, json_of

__all__ = ["GrafanaOnCallClient", "bad_token", "describe_error", "retry_after"]

PAGE_SIZE = 100  # the server's cap; fewer pages for the batched listing
INTEGRATIONS = "/api/v1/integrations/"


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
        params: dict[str, str | int] = {"perpage": PAGE_SIZE}
        if name is not None:
            params["name"] = name
        found: list[OnCallIntegration] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response = await self.http.request("GET", INTEGRATIONS, what=what, params=params)
            page = _parsed(OnCallPage, response, what)
            found.extend(page.results)
            if page.next is None:
                return found
            # `next` carries the whole query. Only the query is followed, on our own
            # base URL: following the link would send the token to any host it names.
            query = _query_of(page.next)
            if query is None or query in seen:
                raise PlatformUnavailableError(
                    f"cannot {what}: the platform sent a next page link that is "
                    "unreadable or repeats an earlier one"
                )
            seen.add(query)
            params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        raise PlatformUnavailableError(f"cannot {what}: more than {MAX_PAGES} pages")

    async def check(self) -> None:
        """One small authenticated read: the token is accepted and the API answers."""
        await self.http.request(
            "GET", INTEGRATIONS, what="list Grafana OnCall integrations", params={"perpage": 1}
        )

    async def get_integration(self, id_: str) -> OnCallIntegration | None:
        what = f"read integration {id_}"
        response = await self.http.request(
            "GET", f"{INTEGRATIONS}{id_}/", what=what, ok_statuses=_GONE
        )
        return None if response.status_code == 404 else _parsed(OnCallIntegration, response, what)

    async def create_integration(self, body: dict[str, Any]) -> OnCallIntegration:
        what = f"create integration {body.get('name')!r}"
        response = await self.http.request("POST", INTEGRATIONS, what=what, json=body)
        return _parsed(OnCallIntegration, response, what)

    async def update_integration(self, id_: str, body: dict[str, Any]) -> OnCallIntegration:
        what = f"update integration {id_}"
        response = await self.http.request("PUT", f"{INTEGRATIONS}{id_}/", what=what, json=body)
        return _parsed(OnCallIntegration, response, what)

    async def delete_integration(self, id_: str) -> None:
        """A second delete answers 404: already gone is success."""
        await self.http.request(
            "DELETE", f"{INTEGRATIONS}{id_}/", what=f"delete integration {id_}", ok_statuses=_GONE
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


_GONE = frozenset({404})
_M = TypeVar("_M", bound=BaseModel)


def _parsed(model: type[_M], response: httpx.Response, what: str) -> _M:
    """The body as `model`; an unreadable answer is the platform's fault, worth a retry."""
    try:
        return model.model_validate(json_of(response))
    except (ValueError, ValidationError):
        raise PlatformUnavailableError(
            f"cannot {what}: the platform answered {response.status_code} with an unreadable body"
        ) from None


def _query_of(link: str) -> str | None:
    try:
        return urllib.parse.urlsplit(link).query
    except ValueError:
        return None
