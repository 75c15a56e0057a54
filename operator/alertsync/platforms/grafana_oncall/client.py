"""Grafana OnCall public API v1 client: integrations, one method per endpoint."""

from typing import Any

import httpx

from alertsync.platforms.grafana_oncall.wire import OnCallIntegration, OnCallPage
from alertsync.platforms.http import PlatformHttp, header_seconds

__all__ = ["GrafanaOnCallClient", "describe_error", "retry_after"]

PAGE_SIZE = 100  # the server's cap; fewer pages for the batched listing
INTEGRATIONS = "/api/v1/integrations/"


def describe_error(response: httpx.Response) -> str:
    """DRF bodies: {"detail": ...} or {"field": ["message", ...]}; HTML on some 404/500."""
    try:
        body = response.json()
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


def retry_after(response: httpx.Response) -> float | None:
    return header_seconds(response, "Retry-After", "RateLimit-Reset")


class GrafanaOnCallClient:
    def __init__(self, http: PlatformHttp) -> None:
        self.http = http

    async def list_integrations(self, name: str | None = None) -> list[OnCallIntegration]:
        """All pages. `name` filters exactly; team_id is never sent (the server 500s)."""
        first: dict[str, str | int] = {"perpage": PAGE_SIZE}
        if name is not None:
            first["name"] = name
        params: dict[str, str | int] | None = first
        found: list[OnCallIntegration] = []
        url: str | None = INTEGRATIONS
        while url is not None:
            response = await self.http.request(
                "GET", url, what="list Grafana OnCall integrations", params=params
            )
            page = OnCallPage.model_validate(response.json())
            found.extend(page.results)
            # `next` is absolute and carries the whole query; params would replace it.
            url, params = page.next, None
        return found

    async def check(self) -> None:
        """One small authenticated read: the token is accepted and the API answers."""
        await self.http.request(
            "GET", INTEGRATIONS, what="list Grafana OnCall integrations", params={"perpage": 1}
        )

    async def get_integration(self, id_: str) -> OnCallIntegration | None:
        response = await self.http.request(
            "GET", f"{INTEGRATIONS}{id_}/", what=f"read integration {id_}", ok_statuses=_GONE
        )
        return None if response.status_code == 404 else _one(response)

    async def create_integration(self, body: dict[str, Any]) -> OnCallIntegration:
        response = await self.http.request(
            "POST", INTEGRATIONS, what=f"create integration {body.get('name')!r}", json=body
        )
        return _one(response)

    async def update_integration(self, id_: str, body: dict[str, Any]) -> OnCallIntegration:
        response = await self.http.request(
            "PUT", f"{INTEGRATIONS}{id_}/", what=f"update integration {id_}", json=body
        )
        return _one(response)

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


def _one(response: httpx.Response) -> OnCallIntegration:
    return OnCallIntegration.model_validate(response.json())
