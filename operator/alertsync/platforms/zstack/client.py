"""ZStack REST client: asynchronous jobs, queries, SNS HTTP endpoints.

Every API but queries is asynchronous: 202 with a job `location`, polled until 200, 503 or
404 ("the job has been expired"). The location names the node as it sees itself, often an
address the operator cannot reach, so only its job uuid is used, below our own base URL.
A failed API answers 503 with an ErrorCode (errors.py); the credentials go on each
request through auth.py.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from alertsync.errors import AlertSyncError, PlatformUnavailableError
from alertsync.platforms.http import MAX_PAGES, PlatformHttp, json_of
from alertsync.platforms.zstack.auth import LOGIN, AccessKeyAuth, SessionAuth
from alertsync.platforms.zstack.errors import (
    INVALID_SESSION,
    RESOURCE_NOT_FOUND,
    ZStackRejectedError,
    ZStackUnavailableError,
    error_for,
    error_of,
)
from alertsync.platforms.zstack.wire import ApiError, HttpEndpoint, Session, Subscriber, Topic
from alertsync.redaction import register_secret

__all__ = ["ZStackClient", "api_base", "equals"]

logger = logging.getLogger(__name__)

CONTEXT_PATH = "/zstack"
SESSIONS = "/v1/accounts/sessions/"
JOBS = "/v1/api-jobs/"
ENDPOINTS = "/v1/sns/application-endpoints"
HTTP_ENDPOINTS = f"{ENDPOINTS}/http"
TOPICS = "/v1/sns/topics"
SUBSCRIBERS = f"{TOPICS}/subscribers"

PAGE_SIZE = 100  # endpoints embed their platform: keep each answer modest
# A job is polled at once, then after 0.25 s, 0.5 s... at most 2 s apart, for a minute.
POLL_FIRST, POLL_CAP, JOB_TIMEOUT = 0.25, 2.0, 60.0

# RestServer splits a q= condition at the first of its operators it finds, so a value
# holding one of these cannot be asked for with "=": such names are matched locally.
_OPERATORS_IN_VALUES = ("!=", ">=", "<=", "~=", "?=")

M = TypeVar("M", bound=BaseModel)


def api_base(url: str) -> str:
    """The REST root: the URL as given, plus ZStack's context path when it has no path."""
    base = url.rstrip("/")
    return base if urlsplit(base).path else base + CONTEXT_PATH


def equals(name: str, value: str) -> str | None:
    """The condition `name=value`, or None when ZStack would split it elsewhere."""
    if any(op in value for op in _OPERATORS_IN_VALUES):
        return None
    return f"{name}={value}"


class ZStackClient:
    """One ZStack account: requests, the job protocol, queries, SNS HTTP endpoints."""

    def __init__(
        self,
        http: PlatformHttp,
        auth: SessionAuth | AccessKeyAuth,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        job_timeout: float = JOB_TIMEOUT,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.http = http
        self.auth = auth
        self.sleep, self.clock = sleep, clock
        self.job_timeout = job_timeout
        self.page_size = page_size
        self._login_lock = asyncio.Lock()

    # -- sessions --------------------------------------------------------------------------

    async def login(self) -> None:
        if not isinstance(self.auth, SessionAuth):
            return
        what = "log in to ZStack"
        response = await self.http.request(
            "PUT", LOGIN, what=what, json=self.auth.login_body(), ok_statuses=_FAILED
        )
        if response.status_code == 503:
            self._raise(response, what)
        try:
            session = Session.model_validate(json_of(response)["inventory"])
        except (ValueError, KeyError, TypeError, ValidationError):
            raise PlatformUnavailableError(f"cannot {what}: unexpected answer") from None
        register_secret(session.uuid)
        self.auth.session = session.uuid

    async def _ensure_session(self) -> str | None:
        if not isinstance(self.auth, SessionAuth):
            return None
        if self.auth.session is None:
            await self._relogin(None)
        return self.auth.session

    async def _relogin(self, stale: str | None) -> None:
        """Log in unless another request already replaced the session `stale`.

        The stale session stays until the new one replaces it: a request that took it
        before this login began and is sent meanwhile (after its turn in the budget)
        must carry one. ZStack refuses it as an invalid session, which is retried; with
        no session at all it answers 400, which would stall the integration.
        """
        assert isinstance(self.auth, SessionAuth)
        async with self._login_lock:
            if self.auth.session == stale:
                await self.login()

    def _can_relogin(self, error: ApiError) -> bool:
        return error.code == INVALID_SESSION and isinstance(self.auth, SessionAuth)

    async def logout(self) -> None:
        """End the session (ZStack caps sessions per account); best effort."""
        if not isinstance(self.auth, SessionAuth) or self.auth.session is None:
            return
        session, self.auth.session = self.auth.session, None
        try:
            await self.http.request(
                "DELETE",
                SESSIONS + session,
                what="log out of ZStack",
                ok_statuses=frozenset({404, 503}),
            )
        except AlertSyncError as exc:
            logger.debug("could not log out of ZStack: %s", exc)

    # -- the protocol ----------------------------------------------------------------------

    async def _send(self, method: str, path: str, *, what: str, json: Any = None) -> httpx.Response:
        """One request with a live session: 2xx back, ErrorCodes raised as AlertSync errors."""
        for attempt in range(2):
            used = await self._ensure_session()
            response = await self.http.request(
                method, path, what=what, json=json, ok_statuses=_FAILED
            )
            if response.status_code != 503:
                return response
            error = error_of(response)
            if error is not None and self._can_relogin(error) and attempt == 0:
                await self._relogin(used)
                continue
            self._raise(response, what)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _run(self, method: str, path: str, *, what: str, json: Any = None) -> dict[str, Any]:
        """An asynchronous API: send it, then poll its job to the end (bounded)."""
        for attempt in range(2):
            response = await self._send(method, path, what=what, json=json)
            used = self.auth.session if isinstance(self.auth, SessionAuth) else None
            if response.status_code != 202:
                return _body(response)
            job = _job_uuid(response, what)
            outcome = await self._poll(job, what)
            if isinstance(outcome, dict):
                return outcome
            # A session refused when the job ran: the job did nothing; log in and resend.
            if attempt == 0 and self._can_relogin(outcome):
                await self._relogin(used)
                continue
            raise error_for(outcome, what)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _poll(self, job: str, what: str) -> dict[str, Any] | ApiError:
        deadline = self.clock() + self.job_timeout
        delay = POLL_FIRST
        while True:
            response = await self.http.request(
                "GET", JOBS + job, what=f"{what} (job {job})", ok_statuses=_POLLING
            )
            status = response.status_code
            if status == 200:
                return _body(response)
            if status == 404:
                raise PlatformUnavailableError(
                    f"cannot {what}: ZStack job {job} expired before its result was read; "
                    "what it did is checked again on the next pass"
                )
            if status == 503:
                error = error_of(response)
                if error is None:
                    self.http.raise_for(response, f"{what} (job {job})")
                return error
            if self.clock() + delay > deadline:
                raise PlatformUnavailableError(
                    f"cannot {what}: ZStack job {job} still running after "
                    f"{self.job_timeout:.0f}s; what it did is checked again on the next pass"
                )
            await self.sleep(delay)
            delay = min(delay * 2, POLL_CAP)

    def _raise(self, response: httpx.Response, what: str) -> None:
        error = error_of(response)
        if error is None:
            self.http.raise_for(response, what)  # a proxy's page: unavailable
        raise error_for(error, what)

    async def query(
        self, path: str, conditions: Iterable[str] = (), *, what: str
    ) -> list[dict[str, Any]]:
        """Every inventory matching all `conditions`, page by page (`limit`/`start`)."""
        found: list[dict[str, Any]] = []
        seen: set[object] = set()
        total: int | None = None
        base = [("q", condition) for condition in conditions]
        for _ in range(MAX_PAGES):
            params = [*base, ("limit", str(self.page_size)), ("start", str(len(found)))]
            if total is None:
                params.append(("replyWithCount", "true"))
            response = await self._send("GET", f"{path}?{urlencode(params)}", what=what)
            body = _body(response)
            page = body.get("inventories") or []
            # An answer that is no JSON object of inventories is no empty listing.
            if not isinstance(page, list) or ("inventories" not in body and response.content):
                raise PlatformUnavailableError(f"cannot {what}: unexpected answer")
            if isinstance(body.get("total"), int):
                total = body["total"]
            found.extend(page)
            if len(page) < self.page_size or (total is not None and len(found) >= total):
                return found
            # A server that ignores `start` sends the same page again: it adds nothing new.
            uuids = {item.get("uuid") if isinstance(item, dict) else None for item in page}
            if uuids <= seen:
                return found
            seen |= uuids
        raise PlatformUnavailableError(f"cannot {what}: more than {MAX_PAGES} pages")

    async def check(self) -> None:
        """One small authenticated read: the credentials work and the API answers."""
        what = "list SNS HTTP endpoints"
        await self._send("GET", f"{HTTP_ENDPOINTS}?{urlencode({'limit': 1})}", what=what)

    # -- SNS -------------------------------------------------------------------------------

    async def list_endpoints(self, conditions: Iterable[str] = ()) -> list[HttpEndpoint]:
        items = await self.query(HTTP_ENDPOINTS, conditions, what="list SNS HTTP endpoints")
        return _parse(HttpEndpoint, items, "list SNS HTTP endpoints")

    async def get_endpoint(self, uuid: str) -> HttpEndpoint | None:
        found = await self.list_endpoints([f"uuid={uuid}"])
        return found[0] if found else None

    async def list_subscribers(self, endpoints: Sequence[str] | None = None) -> list[Subscriber]:
        """Topic subscriptions, of `endpoints` or of everything."""
        if endpoints is not None and not endpoints:
            return []
        conditions = [] if endpoints is None else [f"endpointUuid?={','.join(endpoints)}"]
        what = "list SNS topic subscriptions"
        return _parse(Subscriber, await self.query(SUBSCRIBERS, conditions, what=what), what)

    async def list_topics(self, uuids: Sequence[str]) -> list[Topic]:
        what = "list SNS topics"
        items = await self.query(TOPICS, [f"uuid?={','.join(uuids)}"], what=what)
        return _parse(Topic, items, what)

    async def create_endpoint(self, params: Mapping[str, Any]) -> HttpEndpoint:
        what = f"create SNS HTTP endpoint {params.get('name')!r}"
        body = {"params": dict(params), "systemTags": [], "userTags": []}
        return _inventory(await self._run("POST", HTTP_ENDPOINTS, what=what, json=body), what)

    async def update_endpoint(self, uuid: str, fields: Mapping[str, Any]) -> HttpEndpoint:
        what = f"update SNS HTTP endpoint {uuid}"
        body = {"updateSNSHttpEndpoint": dict(fields)}
        path = f"{HTTP_ENDPOINTS}/{uuid}/actions"
        return _inventory(await self._run("PUT", path, what=what, json=body), what)

    async def change_state(self, uuid: str, enable: bool) -> HttpEndpoint:
        event = "enable" if enable else "disable"
        what = f"{event} SNS endpoint {uuid}"
        body = {"changeSNSApplicationEndpointState": {"stateEvent": event}}
        path = f"{ENDPOINTS}/{uuid}/actions"
        return _inventory(await self._run("PUT", path, what=what, json=body), what)

    async def delete_endpoint(self, uuid: str) -> None:
        """ZStack deletes succeed when the uuid names nothing; not found is gone too."""
        what = f"delete SNS endpoint {uuid}"
        path = f"{ENDPOINTS}/{uuid}?{urlencode({'deleteMode': 'Permissive'})}"
        await self._tolerating_not_found(self._run("DELETE", path, what=what))

    async def subscribe(self, topic: str, endpoint: str) -> None:
        what = f"subscribe SNS endpoint {endpoint} to topic {topic}"
        await self._run("POST", f"{TOPICS}/{topic}/endpoints/{endpoint}", what=what)

    async def unsubscribe(self, topic: str, endpoint: str) -> None:
        what = f"unsubscribe SNS endpoint {endpoint} from topic {topic}"
        path = f"{TOPICS}/{topic}/endpoints/{endpoint}"
        await self._tolerating_not_found(self._run("DELETE", path, what=what))

    async def _tolerating_not_found(self, call: Awaitable[object]) -> None:
        try:
            await call
        except (ZStackRejectedError, ZStackUnavailableError) as exc:
            if exc.error.code != RESOURCE_NOT_FOUND:
                raise


_FAILED = frozenset({503})
_POLLING = frozenset({202, 404, 503})


def _body(response: httpx.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        data = json_of(response)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _job_uuid(response: httpx.Response, what: str) -> str:
    location = _body(response).get("location")
    try:
        path = urlsplit(location).path if isinstance(location, str) else ""
    except ValueError:  # "http://[" and the like
        path = ""
    job = path.rstrip("/").rsplit("/", 1)[-1]
    if not job:
        raise PlatformUnavailableError(f"cannot {what}: ZStack sent 202 without a job location")
    return job


def _inventory(body: Mapping[str, Any], what: str) -> HttpEndpoint:
    try:
        return HttpEndpoint.model_validate(body["inventory"])
    except (KeyError, TypeError, ValidationError):
        raise PlatformUnavailableError(f"cannot {what}: unexpected answer") from None


def _parse(model: type[M], items: Sequence[Any], what: str) -> list[M]:
    try:
        return [model.model_validate(item) for item in items]
    except ValidationError:
        raise PlatformUnavailableError(f"cannot {what}: unexpected answer") from None
