"""The ReconcileAlertIntegration API (ZStack-style), served by the operator (off unless set).

    POST /api/v1/alerting/integrations/{platformUuid}/reconcile
        reconcile every integration of that platform now; answer their entries
    GET  /api/v1/alerting/integrations[?platformUuid=...]
        the entries as they stand

An entry is the ReconcileAlertIntegration response object, field for
field. Described in docs/api/openapi.yaml. Every call needs
`Authorization: Bearer <token>`; the token comes from a Secret (the chart
passes it as ALERTSYNC_API_TOKEN).
"""

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from alertsync.models import AlertIntegrationStatus

__all__ = ["QUEUED_BEHIND", "ApiServer", "Backend", "Reconciled", "entry"]

logger = logging.getLogger(__name__)

# How long a reconcile call waits for the passes it started; they go on after.
RECONCILE_TIMEOUT = 25.0
SEED_FIELDS = (
    "uuid",
    "platformUuid",
    "targetState",
    "currentState",
    "webhookUrl",
    "webhookId",
    "lastReconcileAt",
    "driftCount",
    "lastError",
    "createDate",
    "lastOpDate",
    "platformName",
    "productType",
)


# The reconciled statuses, and how many queued jobs went before them.
Reconciled = tuple[Sequence[AlertIntegrationStatus], int]
# The answer header that says how much work of the account went first: the passes
# run on the platform account's one budget, queued behind what was already waiting.
QUEUED_BEHIND = "X-AlertSync-Queued-Behind"


class Backend:
    """What the API needs of the operator; the Runtime provides it."""

    def __init__(
        self,
        reconcile_platform: Callable[[str], Awaitable[Reconciled | None]],
        entries: Callable[[str | None], Sequence[AlertIntegrationStatus] | None],
    ) -> None:
        # None: no platform has that uuid. Else the statuses once reconciled, and how
        # many jobs of the platform's account were queued before these.
        self.reconcile_platform = reconcile_platform
        self.entries = entries


def entry(status: AlertIntegrationStatus) -> dict[str, Any]:
    """The ReconcileAlertIntegration response object for one integration."""
    raw = status.model_dump(by_alias=True, mode="json")
    result = {name: raw.get(name) for name in SEED_FIELDS}
    for name in ("lastReconcileAt", "createDate", "lastOpDate"):
        value = getattr(status, _snake(name))
        result[name] = _iso(value) if value is not None else None
    result["driftCount"] = status.drift_count
    result["lastError"] = status.last_error or ""
    return result


class ApiServer:
    def __init__(
        self,
        backend: Backend,
        token: str,
        host: str,
        port: int,
        timeout: float = RECONCILE_TIMEOUT,
    ) -> None:
        if not token:
            raise ValueError("the API needs a bearer token (ALERTSYNC_API_TOKEN)")
        self.backend, self._token = backend, token
        self.host, self.port, self.timeout = host, port, timeout
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._authenticate])
        app.router.add_post(
            "/api/v1/alerting/integrations/{platformUuid}/reconcile", self._reconcile
        )
        app.router.add_get("/api/v1/alerting/integrations", self._list)
        return app

    async def start(self) -> int:
        """Listen; returns the port (useful when asked for port 0)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        port: int = self._runner.addresses[0][1]
        logger.info("ReconcileAlertIntegration API listening on %s:%d", self.host, port)
        return port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _authenticate(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self._token.encode()
        ):
            return _error(
                401,
                "Unauthorized",
                "send Authorization: Bearer <token> with the token of the API Secret",
                headers={"WWW-Authenticate": 'Bearer realm="alertsync"'},
            )
        return await handler(request)

    async def _reconcile(self, request: web.Request) -> web.Response:
        platform_uuid = request.match_info["platformUuid"]
        work = asyncio.ensure_future(self.backend.reconcile_platform(platform_uuid))
        done, _ = await asyncio.wait({work}, timeout=self.timeout)
        if not done:
            # The passes go on and will write their status; the caller can list later.
            return _error(
                504,
                "Timeout",
                f"the reconcile did not finish within {self.timeout:.0f}s; it continues, "
                "GET /api/v1/alerting/integrations shows its outcome later",
            )
        result = work.result()
        if result is None:
            return _not_found(platform_uuid)
        statuses, ahead = result
        return web.json_response(
            [entry(status) for status in statuses], headers={QUEUED_BEHIND: str(ahead)}
        )

    async def _list(self, request: web.Request) -> web.Response:
        platform_uuid = request.query.get("platformUuid")
        statuses = self.backend.entries(platform_uuid)
        if statuses is None:
            return _not_found(platform_uuid or "")
        return web.json_response([entry(status) for status in statuses])


def _not_found(platform_uuid: str) -> web.Response:
    return _error(
        404,
        "PlatformNotFound",
        f"no AlertPlatform or ClusterAlertPlatform has uid {platform_uuid!r} "
        "(kubectl get alp,calp -A -o custom-columns=NAME:.metadata.name,UID:.metadata.uid)",
    )


def _error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
