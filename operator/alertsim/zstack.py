"""ZStack Cloud simulator: sessions, asynchronous API jobs and SNS HTTP endpoints.

Faithful to ``docs/platforms/zstack.md`` and to ZStack's ``RestServer``: everything lives
under the ``/zstack`` context path; queries are synchronous (200 ``{"inventories": [...]}``),
every other API answers 202 with a job ``location`` that is polled until 200, 503 (an
``{"error": {...}}`` ErrorCode) or 404 ("the job has been expired"); a missing or foreign
``Authorization`` header is a plain-text 400; an invalid session is an ErrorCode (ID.1001),
which for an asynchronous API arrives as the job's result, as ZStack checks sessions when it
processes the message, not when it accepts it. Where the platform notes say [inferred], so
does this file, next to the behaviour.

Tests and the demo change state "behind the operator's back" with plain methods
(:meth:`ZStackSimulator.set_url`, :meth:`~ZStackSimulator.set_state`, ...) or over HTTP
below ``/_sim/`` (see :meth:`ZStackSimulator.admin`), deliver alarms to endpoint URLs over
real HTTP (:meth:`~ZStackSimulator.raise_alarm`), and switch faults: slow jobs
(``job_delay``), expired job results (:meth:`~ZStackSimulator.expire_jobs`) and ZStack
errors (:meth:`~ZStackSimulator.fail_with`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import email.utils
import hashlib
import hmac
import json
import random
import re
import time
import uuid as uuid_module
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pydantic

from alertsim import server
from alertsim.adminroutes import AdminCollection
from alertsim.core import AdminError, Clock, Simulator, admin_body, json_response
from alertsim.serving import Served, served

__all__ = [
    "CONTEXT_PATH",
    "DEFAULT_ACCOUNT",
    "DEFAULT_PASSWORD",
    "SERVED",
    "SYSTEM_PLATFORM_UUID",
    "ZSTACK_TOPIC",
    "Delivery",
    "ZStackSimulator",
    "main",
    "password_hash",
]

CONTEXT_PATH = "/zstack"
DEFAULT_ACCOUNT = "admin"
DEFAULT_PASSWORD = "password"  # ZStack's factory default, a sandbox value
# SNSConstants.SYSTEM_PLATFORM_UUID: HTTP endpoints always belong to the system platform.
SYSTEM_PLATFORM_UUID = "02d24b9b0a7f4ee1846f15cda248ceb7"
ENDPOINT_TYPE = "HTTP"  # [inferred] the platform notes leave the exact string open
# ZStack keeps a finished job's result for a while, then answers 404 [inferred: duration].
DEFAULT_JOB_EXPIRY = 3600.0
DEFAULT_SESSION_TIMEOUT = 7200.0  # ZStack's session.timeout global config default
DEFAULT_MAX_SESSIONS = 500  # ZStack's session.maxConcurrent default
# RestConstants: signed requests must be this fresh.
ACCESS_KEY_WINDOW = 15 * 60.0
DEFAULT_LIMIT = 1000  # APIQueryMessage's default limit

# The uuid ZStack accepts as a resourceUuid (ApiMessageInterceptor's own expression).
_RESOURCE_UUID = re.compile(r"[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}")
_UUID = r"(?P<uuid>[^/]+)"
# RestServer's QUERY_OP_MAPPING, in its order: an operator contained in another one comes
# after it, and a condition is split at the first operator of this list it contains.
_QUERY_OPS = ("!=", ">=", "<=", "!?=", "!~=", "~=", "?=", "=", ">", "<", "is null", "not null")
_STATE_EVENTS = {"enable": "Enabled", "disable": "Disabled"}


def password_hash(password: str) -> str:
    """What ZStack's login expects in `password`: the SHA-512 of the password, hex."""
    return hashlib.sha512(password.encode()).hexdigest()


def access_key_signature(secret: str, method: str, date: str, uri: str) -> str:
    """ZStack's access-key signature: base64(HMAC-SHA1(secret, "METHOD\\nDate\\nURI"))."""
    digest = hmac.new(secret.encode(), f"{method}\n{date}\n{uri}".encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _gson_date(timestamp: float) -> str:
    """Gson's default date style, e.g. ``Jan 15, 2026 8:00:00 AM`` [inferred], in UTC."""
    moment = time.gmtime(timestamp)
    hour = moment.tm_hour % 12 or 12
    noon = "AM" if moment.tm_hour < 12 else "PM"
    return (
        f"{time.strftime('%b', moment)} {moment.tm_mday}, {moment.tm_year} "
        f"{hour}:{moment.tm_min:02d}:{moment.tm_sec:02d} {noon}"
    )


# -- state -----------------------------------------------------------------------------------


@dataclass
class _Session:
    uuid: str
    account: str
    created: float
    expires: float


@dataclass
class _Endpoint:
    uuid: str
    name: str
    url: str
    created: float
    description: str | None = None
    username: str | None = None
    # Write-only on the API: stored, used for deliveries, never returned.
    password: str | None = None
    state: str = "Enabled"
    connection_status: str = "UP"
    last_op: float = 0.0


@dataclass
class _Topic:
    uuid: str
    name: str
    created: float
    description: str | None = None
    state: str = "Enabled"


@dataclass
class _Job:
    uuid: str
    ready_at: float
    run: Callable[[], tuple[int, Any]] | None
    status: int = 202
    body: Any = None
    done_at: float | None = None
    # Its result was dropped (the fault expire_jobs): polling answers 404.
    lost: bool = False


@dataclass(frozen=True)
class Delivery:
    """One alarm notification POSTed to an endpoint's URL, and what came back."""

    endpoint_uuid: str
    url: str
    body: dict[str, Any]
    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _ErrorRule:
    """A ZStack error to answer instead of doing the work (the fault fail_with)."""

    code: str
    description: str
    details: str
    times: int | None
    method: str | None
    path: str | None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and (
            self.path is None or path.startswith(self.path)
        )


class _ApiFailure(Exception):
    """An ErrorCode: 503 ``{"error": {...}}``, right away for a query, as a job's result else."""

    def __init__(self, code: str, description: str, details: str) -> None:
        super().__init__(code, details)
        self.error = {"code": code, "description": description, "details": details}


class _Plain(Exception):
    """A plain-text answer from RestServer itself (400, 404, 405)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(status, text)
        self.status = status
        self.text = text


def _invalid_argument(details: str) -> _ApiFailure:
    return _ApiFailure("SYS.1007", "One or more API argument is invalid", details)


def _not_found(field_name: str, value: str, vo: str) -> _ApiFailure:
    # PortApiValidator's words for an @APIParam(resourceType=...) that names nothing.
    return _ApiFailure(
        "SYS.1003",
        "Resource not found",
        f"invalid field[{field_name}], resource[uuid:{value}, type:{vo}] not found",
    )


def _invalid_session() -> _ApiFailure:
    return _ApiFailure("ID.1001", "Invalid session", "Session expired")


def _authentication(details: str) -> _ApiFailure:
    return _ApiFailure("ID.1000", "Authentication error", details)


# -- parameters --------------------------------------------------------------------------------


def _text_param(
    data: Mapping[str, Any], name: str, message: str, *, max_length: int, required: bool = False
) -> str | None:
    """An @APIParam string, validated in ApiMessageValidator's words."""
    value = data.get(name)
    if value is None:
        if required:
            raise _invalid_argument(
                f"field[{name}] of message[{message}] is mandatory, can not be null"
            )
        return None
    if not isinstance(value, str):
        raise _invalid_argument(f"field[{name}] of message[{message}] must be a string")
    if len(value) > max_length:
        raise _invalid_argument(
            f"field[{name}] of message[{message}] exceeds max length of string. "
            f"expected was <= {max_length}, actual was {len(value)}"
        )
    return value


@dataclass(frozen=True)
class _Condition:
    name: str
    op: str
    value: str | None

    def test(self, record: Mapping[str, Any]) -> bool:
        if self.name not in record:
            raise _invalid_argument(
                f"condition name[{self.name}] is invalid, no such field on the inventory"
            )
        actual = record[self.name]
        if self.op == "is null":
            return actual is None
        if self.op == "not null":
            return actual is not None
        value = self.value or ""
        text = None if actual is None else str(actual)
        if self.op == "=":
            return text == value
        if self.op == "!=":
            return text != value
        if self.op in ("?=", "!?="):
            inside = text in value.split(",")
            return inside if self.op == "?=" else not inside
        if self.op in ("~=", "!~="):
            like = re.fullmatch(_like_pattern(value), text or "", re.DOTALL) is not None
            return like if self.op == "~=" else not like
        if text is None:
            return False
        comparisons: dict[str, Callable[[str, str], bool]] = {
            ">": lambda a, b: a > b,
            "<": lambda a, b: a < b,
            ">=": lambda a, b: a >= b,
            "<=": lambda a, b: a <= b,
        }
        return comparisons[self.op](text, value)


def _like_pattern(value: str) -> str:
    """SQL LIKE as a regular expression: % is any run, _ any one character."""
    return "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in value
    )


def _condition(text: str) -> _Condition:
    """One ``q=`` value, split exactly as RestServer does (first listed operator found)."""
    for op in _QUERY_OPS:
        if op not in text:
            continue
        if op in ("is null", "not null"):
            return _Condition(text.split(op, 1)[0].strip(), op, None)
        name, value = text.split(op, 1)
        # RestServer trims the name, never the value ("a space is valid in some conditions").
        return _Condition(name.strip(), op, value)
    raise _Plain(
        400,
        f"Invalid query parameter. The '{text}' in the parameter[q] doesn't contain any query "
        f"operator. Valid query operators are [{', '.join(_QUERY_OPS)}]",
    )


@dataclass
class _Query:
    conditions: list[_Condition] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    start: int = 0
    count: bool = False
    reply_with_count: bool = False
    sort_by: str | None = None
    descending: bool = False


def _parse_query(params: httpx.QueryParams, uuid: str | None) -> _Query:
    query = _Query()
    if uuid is not None:
        # GET .../{uuid}: RestServer adds uuid=... and ignores every other parameter.
        query.conditions.append(_Condition("uuid", "=", uuid))
        return query
    for name in params:
        key = name.strip()
        first = params.get_list(name)[0].strip()
        if key in ("limit", "start"):
            try:
                number = int(first)
            except ValueError:
                raise _Plain(400, f"Invalid query parameter. '{key}' must be an integer") from None
            setattr(query, key, number)
        elif key == "count":
            query.count = first.lower() == "true"
        elif key == "replyWithCount":
            query.reply_with_count = first.lower() == "true"
        elif key == "sort":
            query.descending = first.startswith("-")
            query.sort_by = first.lstrip("+-")
        elif "q".startswith(key):
            # Faithful quirk: RestServer tests `"q".startsWith(name)`, so "q" and "" both work.
            query.conditions.extend(_condition(value) for value in params.get_list(name))
    return query


def _answer_query(query: _Query, records: Sequence[dict[str, Any]]) -> httpx.Response:
    matched = [r for r in records if all(c.test(r) for c in query.conditions)]
    if query.sort_by is not None:
        matched.sort(key=lambda r: str(r.get(query.sort_by or "") or ""), reverse=query.descending)
    if query.count:
        return json_response(200, {"total": len(matched)})
    page = matched[query.start : query.start + query.limit] if query.limit >= 0 else []
    body: dict[str, Any] = {"inventories": [_without_nulls(r) for r in page]}
    if query.reply_with_count:
        body["total"] = len(matched)
    return json_response(200, body)


def _without_nulls(record: Mapping[str, Any]) -> dict[str, Any]:
    # ZStack serialises with Gson, which leaves null fields out.
    return {key: value for key, value in record.items() if value is not None}


def _json_object(request: httpx.Request) -> dict[str, Any]:
    if not request.content:
        return {}
    try:
        data = json.loads(request.content)
    except ValueError as exc:
        raise _Plain(500, f"failed to parse the request body: {exc}") from None
    return data if isinstance(data, dict) else {}


def _plain(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, text=text)


def _failure(error: _ApiFailure) -> httpx.Response:
    return json_response(503, {"error": error.error})


def _origin(request: httpx.Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"


# -- the API table -----------------------------------------------------------------------------

Kind = Literal["query", "sync", "async", "login", "logout"]
_Handler = Callable[[httpx.Request, dict[str, str], dict[str, Any]], tuple[int, Any]]


@dataclass(frozen=True)
class _Api:
    method: str
    pattern: re.Pattern[str]
    route: str
    kind: Kind
    handler: _Handler


class ZStackSimulator(Simulator):
    """An in-memory ZStack management node with the SNS module.

    ``accounts`` maps account names to plain passwords (the API receives their SHA-512);
    the accounts named in ``read_only`` may query but every other API refuses them (ID.1002);
    ``access_keys`` maps AccessKeyIds to AccessKeySecrets. ``base_url`` is what the node
    thinks its address is, used in job locations (default: the URL a request came in on);
    a real node often names an address the client cannot reach. ``job_delay`` is how long
    an asynchronous API runs (0: done before the 202 is sent); ``job_expiry`` how long a
    finished job's result is kept. ``topics`` are SNS topics to start with (uuid → name).
    Deliveries go out through ``delivery_transport`` (default: real HTTP).
    """

    def __init__(
        self,
        *,
        accounts: Mapping[str, str] | None = None,
        read_only: Iterable[str] = (),
        access_keys: Mapping[str, str] | None = None,
        base_url: str | None = None,
        clock: Clock = time.time,
        job_delay: float = 0.0,
        job_expiry: float = DEFAULT_JOB_EXPIRY,
        session_timeout: float = DEFAULT_SESSION_TIMEOUT,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        topics: Mapping[str, str] | None = None,
        seed: int | None = None,
        delivery_transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.base_url = base_url.rstrip("/") if base_url else None
        self._accounts = {
            name: password_hash(password)
            for name, password in (accounts or {DEFAULT_ACCOUNT: DEFAULT_PASSWORD}).items()
        }
        self._account_uuids = {name: self._hex(name) for name in self._accounts}
        self._read_only = frozenset(read_only)
        self._access_keys = dict(access_keys or {})
        self.job_delay = job_delay
        self.job_expiry = job_expiry
        self.session_timeout = session_timeout
        self.max_sessions = max_sessions
        self._random = random.Random(seed)
        self._delivery_transport = delivery_transport
        self._sessions: dict[str, _Session] = {}
        self._endpoints: dict[str, _Endpoint] = {}
        admin = AdminCollection("endpoints", _AdminEndpoint, _AdminPatch)
        self.admin_collection = admin.routes(
            self.endpoints, self.get, self.add_endpoint, self.patch, self.remove
        )
        self._topics: dict[str, _Topic] = {}
        self._subscriptions: set[tuple[str, str]] = set()  # (topic uuid, endpoint uuid)
        self._jobs: dict[str, _Job] = {}
        self._errors: list[_ErrorRule] = []
        self._jobs_to_lose = 0
        self._seen_base = "http://localhost:8080"
        self.deliveries: list[Delivery] = []
        for topic_uuid, name in (topics or {}).items():
            self._topics[topic_uuid] = _Topic(topic_uuid, name, self.clock())
        endpoints = "/v1/sns/application-endpoints"
        self._apis: tuple[_Api, ...] = (
            self._api("PUT", "/v1/accounts/login", "login", self._login),
            self._api("DELETE", f"/v1/accounts/sessions/{_UUID}", "logout", self._logout),
            self._api("POST", f"{endpoints}/http", "async", self._create_endpoint),
            self._api("GET", f"{endpoints}/http", "query", self._query_endpoints),
            self._api("GET", f"{endpoints}/http/{_UUID}", "query", self._query_endpoints),
            self._api("PUT", f"{endpoints}/http/{_UUID}/actions", "async", self._http_action),
            self._api("GET", endpoints, "query", self._query_endpoints),
            self._api("GET", f"{endpoints}/{_UUID}", "query", self._query_endpoints),
            self._api("PUT", f"{endpoints}/{_UUID}/actions", "async", self._endpoint_action),
            self._api("DELETE", f"{endpoints}/{_UUID}", "async", self._delete_endpoint),
            self._api("GET", "/v1/sns/topics/subscribers", "query", self._query_subscribers),
            self._api("POST", "/v1/sns/topics", "async", self._create_topic),
            self._api("GET", "/v1/sns/topics", "query", self._query_topics),
            self._api("GET", f"/v1/sns/topics/{_UUID}", "query", self._query_topics),
            self._api("DELETE", f"/v1/sns/topics/{_UUID}", "async", self._delete_topic),
            self._api(
                "POST",
                "/v1/sns/topics/(?P<topic>[^/]+)/endpoints/(?P<endpoint>[^/]+)",
                "async",
                self._subscribe,
            ),
            self._api(
                "DELETE",
                "/v1/sns/topics/(?P<topic>[^/]+)/endpoints/(?P<endpoint>[^/]+)",
                "async",
                self._unsubscribe,
            ),
        )

    @staticmethod
    def _api(method: str, path: str, kind: Kind, handler: _Handler) -> _Api:
        route = re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", r"{\1}", path)
        return _Api(method, re.compile(path), f"{CONTEXT_PATH}{route}", kind, handler)

    # -- the HTTP API ------------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        # Alarms go out over real HTTP: never while holding the lock (or the server's loop).
        if request.url.path.rstrip("/") == "/_sim/alarms" and request.method == "POST":
            await request.aread()
            try:
                alarm = _AdminAlarm.model_validate(admin_body(request))
            except (AdminError, pydantic.ValidationError) as exc:
                return json_response(400, {"error": str(exc)})
            deliveries = await asyncio.to_thread(self.raise_alarm, **alarm.model_dump())
            return json_response(200, [_delivery_wire(d) for d in deliveries])
        return await super().handle(request)

    def respond(self, request: httpx.Request) -> httpx.Response:
        self._seen_base = _origin(request)
        self._settle()
        path = request.url.path
        if not path.startswith(f"{CONTEXT_PATH}/"):
            return _plain(404, f"no api mapping to {path}")
        api_path = path.removeprefix(CONTEXT_PATH)
        try:
            if match := re.fullmatch(r"/v1/api-jobs/(?P<uuid>[^/]+)", api_path):
                if request.method != "GET":
                    return _plain(405, "only GET method is allowed for querying job status")
                return self._job_status(match["uuid"])
            api, variables = self._find_api(request.method, api_path)
            return self._call(request, api, variables)
        except _Plain as exc:
            return _plain(exc.status, exc.text)
        except _ApiFailure as exc:
            return _failure(exc)

    def route_of(self, request: httpx.Request) -> str:
        api_path = request.url.path.removeprefix(CONTEXT_PATH)
        if re.fullmatch(r"/v1/api-jobs/[^/]+", api_path):
            return f"{CONTEXT_PATH}/v1/api-jobs/{{uuid}}"
        for api in self._apis:
            if api.method == request.method and api.pattern.fullmatch(api_path):
                return api.route
        return request.url.path

    def throttled_response(self, request: httpx.Request, retry_after: float) -> httpx.Response:
        # ZStack has no rate limit of its own; what a proxy in front says, with no wait named.
        return _plain(429, "Too Many Requests")

    def _find_api(self, method: str, api_path: str) -> tuple[_Api, dict[str, str]]:
        on_path = [(api, m) for api in self._apis if (m := api.pattern.fullmatch(api_path))]
        if not on_path:
            raise _Plain(404, f"no api mapping to {api_path}")
        for api, match in on_path:
            if api.method == method:
                return api, match.groupdict()
        raise _Plain(405, f"The method[{method}] is not allowed for the path[{api_path}]")

    def _call(self, request: httpx.Request, api: _Api, variables: dict[str, str]) -> httpx.Response:
        body = _json_object(request) if request.method in ("POST", "PUT") else {}
        if api.kind in ("login", "logout"):
            # @SuppressCredentialCheck APIs: synchronous, no Authorization needed.
            self._injected_error(request)
            status, answer = api.handler(request, variables, body)
            return json_response(status, answer)
        check_session = self._credentials(request)
        if api.kind == "query":
            check_session()
            self._injected_error(request)
            status, answer = api.handler(request, variables, body)
            return answer if isinstance(answer, httpx.Response) else json_response(status, answer)

        def run() -> tuple[int, Any]:
            try:
                account = check_session()
                if account in self._read_only:
                    # [inferred wording] RBAC refuses writes of an account without them.
                    raise _ApiFailure(
                        "ID.1002",
                        "Permission denied",
                        f"account[{account}] has no permission to call {api.route}",
                    )
                self._injected_error(request)
                return api.handler(request, variables, body)
            except _ApiFailure as exc:
                return 503, {"error": exc.error}

        job = self._submit(run)
        base = self.base_url or self._seen_base
        return json_response(202, {"location": f"{base}{CONTEXT_PATH}/v1/api-jobs/{job.uuid}"})

    def _credentials(self, request: httpx.Request) -> Callable[[], str | None]:
        """Check the Authorization header now; return the session check, run at processing
        (it gives the session's account; None for an access key)."""
        header = request.headers.get("authorization")
        if header is None:
            raise _Plain(400, "missing header 'Authorization'")
        header = header.strip()
        if header.startswith("OAuth"):
            session = header.removeprefix("OAuth").strip()
            return lambda: self._check_session(session)
        if header.startswith("ZStack "):
            self._check_signature(request, header.removeprefix("ZStack ").strip())
            return lambda: None
        raise _Plain(400, "Authorization type must be 'OAuth'")

    def _check_session(self, session_uuid: str) -> str:
        session = self._sessions.get(session_uuid)
        if session is None or self.clock() >= session.expires:
            self._sessions.pop(session_uuid, None)
            raise _invalid_session()
        return session.account

    def _check_signature(self, request: httpx.Request, credential: str) -> None:
        key_id, _, signature = credential.partition(":")
        secret = self._access_keys.get(key_id)
        if secret is None:
            raise _authentication(f"access key id[{key_id}] not found")
        date = request.headers.get("date", "")
        try:
            sent = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            raise _authentication("missing or invalid header 'Date'") from None
        if abs(self.clock() - sent) > ACCESS_KEY_WINDOW:
            raise _authentication("the request has expired: its Date is 15 minutes old or more")
        uri = request.url.path.removeprefix(CONTEXT_PATH)
        expected = access_key_signature(secret, request.method, date, uri)
        if not hmac.compare_digest(expected, signature):
            raise _authentication("wrong accessKey signature")

    def _injected_error(self, request: httpx.Request) -> None:
        for rule in self._errors:
            if rule.matches(request.method, request.url.path):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self._errors.remove(rule)
                raise _ApiFailure(rule.code, rule.description, rule.details)

    # -- jobs --------------------------------------------------------------------------------

    def _submit(self, run: Callable[[], tuple[int, Any]]) -> _Job:
        job = _Job(uuid=self._hex(), ready_at=self.clock() + self.job_delay, run=run)
        self._jobs[job.uuid] = job
        self._settle()
        return job

    def _settle(self) -> None:
        """Run the jobs whose time has come, in the order they were accepted; forget old ones."""
        now = self.clock()
        for job in list(self._jobs.values()):
            if job.run is not None and now >= job.ready_at:
                run, job.run = job.run, None
                job.status, job.body = run()
                job.done_at = now
                if self._jobs_to_lose > 0:
                    self._jobs_to_lose -= 1
                    job.lost = True
            if job.done_at is not None and now - job.done_at >= self.job_expiry:
                del self._jobs[job.uuid]

    def _job_status(self, job_uuid: str) -> httpx.Response:
        job = self._jobs.get(job_uuid)
        if job is None or job.lost:
            return _plain(404, "the job has been expired")
        if job.done_at is None:
            return httpx.Response(202)
        if job.status == 200 and not job.body:
            return httpx.Response(200)  # an empty ApiResponse is sent as an empty body
        return json_response(job.status, job.body)

    # -- accounts ----------------------------------------------------------------------------

    def _login(
        self, request: httpx.Request, _: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        params = body.get("logInByAccount")
        if not isinstance(params, dict):
            raise _Plain(
                400, f"the body doesn't contain action mapping to the URL[{request.url.path}]"
            )
        name = _text_param(params, "accountName", "APILogInByAccountMsg", max_length=255)
        password = _text_param(params, "password", "APILogInByAccountMsg", max_length=255)
        expected = self._accounts.get(name or "")
        if expected is None or password is None or not hmac.compare_digest(expected, password):
            raise _authentication("wrong account name or password")
        assert name is not None
        now = self.clock()
        live = [s for s in self._sessions.values() if s.account == name and now < s.expires]
        if len(live) >= self.max_sessions:
            raise _ApiFailure(
                "ID.1006",
                "Max concurrent session exceeded",
                f"account[{name}] has reached the maximum of {self.max_sessions} sessions",
            )
        session = _Session(self._hex(), name, now, now + self.session_timeout)
        self._sessions[session.uuid] = session
        inventory = {
            "uuid": session.uuid,
            "accountUuid": self._account_uuids[name],
            "userUuid": self._account_uuids[name],
            "expiredDate": _gson_date(session.expires),
            "createDate": _gson_date(now),
        }
        return 200, {"inventory": inventory}

    def _logout(
        self, request: httpx.Request, variables: dict[str, str], _: dict[str, Any]
    ) -> tuple[int, Any]:
        self._sessions.pop(variables["uuid"], None)
        return 200, {}

    # -- SNS HTTP endpoints ------------------------------------------------------------------

    def _create_endpoint(
        self, request: httpx.Request, _: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        params = body.get("params")
        params = params if isinstance(params, dict) else {}
        message = "APICreateSNSHttpEndpointMsg"
        name = _text_param(params, "name", message, max_length=255, required=True)
        url = _text_param(params, "url", message, max_length=2048, required=True)
        description = _text_param(params, "description", message, max_length=2048)
        username = _text_param(params, "username", message, max_length=128)
        password = _text_param(params, "password", message, max_length=512)
        resource_uuid = self._resource_uuid(params)
        assert name is not None
        assert url is not None
        if resource_uuid is not None and (
            resource_uuid in self._endpoints or resource_uuid in self._topics
        ):
            # [inferred] ZStack has no check of its own: the database's primary key refuses
            # the row, and the failure comes back as an internal error.
            raise _ApiFailure(
                "SYS.1000",
                "An internal error happened in system",
                "org.hibernate.exception.ConstraintViolationException: Duplicate entry "
                f"'{resource_uuid}' for key 'PRIMARY'",
            )
        endpoint = _Endpoint(
            uuid=resource_uuid or self._hex(),
            name=name,
            url=url,
            created=self.clock(),
            description=description,
            username=username,
            password=password,
            last_op=self.clock(),
        )
        self._endpoints[endpoint.uuid] = endpoint
        return 200, {"inventory": self._endpoint_wire(endpoint)}

    def _resource_uuid(self, params: Mapping[str, Any]) -> str | None:
        value = params.get("resourceUuid")
        if value is None:
            return None
        if not isinstance(value, str) or not _RESOURCE_UUID.fullmatch(value):
            raise _invalid_argument(
                f"resourceUuid[{value}] is not a valid uuid. A valid uuid is a UUID(v4 "
                "recommended) with '-' stripped. see "
                "http://en.wikipedia.org/wiki/Universally_unique_identifier for format of "
                "UUID, the regular expression ZStack uses to validate a UUID is "
                "'[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}'"
            )
        return value

    def _query_endpoints(
        self, request: httpx.Request, variables: dict[str, str], _: dict[str, Any]
    ) -> tuple[int, Any]:
        query = _parse_query(request.url.params, variables.get("uuid"))
        records = [self._endpoint_record(e) for e in self._endpoints.values()]
        return 200, _answer_query(query, records)

    def _http_action(
        self, request: httpx.Request, variables: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        params = body.get("updateSNSHttpEndpoint")
        if not isinstance(params, dict):
            raise _ApiFailure(
                "SYS.1007",
                "One or more API argument is invalid",
                f"the body doesn't contain action mapping to the URL[{request.url.path}]",
            )
        endpoint = self._endpoint(variables["uuid"])
        message = "APIUpdateSNSHttpEndpointMsg"
        changes = {
            "name": _text_param(params, "name", message, max_length=255),
            "url": _text_param(params, "url", message, max_length=2048),
            "description": _text_param(params, "description", message, max_length=2048),
            "username": _text_param(params, "username", message, max_length=128),
            "password": _text_param(params, "password", message, max_length=512),
        }
        for name, value in changes.items():
            if value is not None:  # ZStack updates the fields a request sets
                setattr(endpoint, name, value)
        endpoint.last_op = self.clock()
        return 200, {"inventory": self._endpoint_wire(endpoint)}

    def _endpoint_action(
        self, request: httpx.Request, variables: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        if isinstance(change := body.get("changeSNSApplicationEndpointState"), dict):
            endpoint = self._endpoint(variables["uuid"])
            event = change.get("stateEvent")
            if event not in _STATE_EVENTS:
                raise _invalid_argument(
                    f"valid value for field[stateEvent] of message"
                    f"[APIChangeSNSApplicationEndpointStateMsg] are [enable, disable], "
                    f"but {event} found"
                )
            endpoint.state = _STATE_EVENTS[event]
        elif isinstance(update := body.get("updateSNSApplicationEndpoint"), dict):
            # [inferred] the generic update takes name and description.
            endpoint = self._endpoint(variables["uuid"])
            message = "APIUpdateSNSApplicationEndpointMsg"
            name = _text_param(update, "name", message, max_length=255)
            description = _text_param(update, "description", message, max_length=2048)
            endpoint.name = name if name is not None else endpoint.name
            endpoint.description = description if description is not None else endpoint.description
        else:
            raise _ApiFailure(
                "SYS.1007",
                "One or more API argument is invalid",
                f"the body doesn't contain action mapping to the URL[{request.url.path}]",
            )
        endpoint.last_op = self.clock()
        return 200, {"inventory": self._endpoint_wire(endpoint)}

    def _delete_endpoint(
        self, request: httpx.Request, variables: dict[str, str], _: dict[str, Any]
    ) -> tuple[int, Any]:
        mode = request.url.params.get("deleteMode", "Permissive")
        if mode not in ("Permissive", "Enforcing"):
            raise _invalid_argument(
                f"valid value for field[deleteMode] are [Permissive, Enforcing], but {mode} found"
            )
        endpoint_uuid = variables["uuid"]
        if endpoint_uuid not in self._endpoints:
            # @APIParam(successIfResourceNotExisting = true): deleting nothing succeeds,
            # if the uuid could have named something.
            if not _RESOURCE_UUID.fullmatch(endpoint_uuid):
                raise _ApiFailure(
                    "SYS.1003",
                    "Resource not found",
                    f"invalid value[{endpoint_uuid}] of field [uuid]",
                )
            return 200, {}
        del self._endpoints[endpoint_uuid]
        self._subscriptions = {s for s in self._subscriptions if s[1] != endpoint_uuid}
        return 200, {}

    def _endpoint(self, endpoint_uuid: str) -> _Endpoint:
        endpoint = self._endpoints.get(endpoint_uuid)
        if endpoint is None:
            raise _not_found("uuid", endpoint_uuid, "SNSApplicationEndpointVO")
        return endpoint

    # -- SNS topics --------------------------------------------------------------------------

    def _create_topic(
        self, request: httpx.Request, _: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        params = body.get("params")
        params = params if isinstance(params, dict) else {}
        message = "APICreateSNSTopicMsg"
        name = _text_param(params, "name", message, max_length=255, required=True)
        description = _text_param(params, "description", message, max_length=2048)
        assert name is not None
        topic_uuid = self._resource_uuid(params) or self._hex()
        if topic_uuid in self._topics or topic_uuid in self._endpoints:
            raise _ApiFailure(
                "SYS.1000",
                "An internal error happened in system",
                f"Duplicate entry '{topic_uuid}' for key 'PRIMARY'",
            )
        topic = _Topic(topic_uuid, name, self.clock(), description)
        self._topics[topic_uuid] = topic
        return 200, {"inventory": self._topic_wire(topic)}

    def _query_topics(
        self, request: httpx.Request, variables: dict[str, str], _: dict[str, Any]
    ) -> tuple[int, Any]:
        query = _parse_query(request.url.params, variables.get("uuid"))
        return 200, _answer_query(query, [self._topic_wire(t) for t in self._topics.values()])

    def _delete_topic(
        self, request: httpx.Request, variables: dict[str, str], _: dict[str, Any]
    ) -> tuple[int, Any]:
        if self._topics.pop(variables["uuid"], None) is not None:
            self._subscriptions = {s for s in self._subscriptions if s[0] != variables["uuid"]}
        return 200, {}

    def _subscribe(
        self, request: httpx.Request, variables: dict[str, str], _: dict[str, Any]
    ) -> tuple[int, Any]:
        topic, endpoint = variables["topic"], variables["endpoint"]
        if topic not in self._topics:
            raise _not_found("topicUuid", topic, "SNSTopicVO")
        if endpoint not in self._endpoints:
            raise _not_found("endpointUuid", endpoint, "SNSApplicationEndpointVO")
        if (topic, endpoint) in self._subscriptions:
            # [inferred] the subscriber row exists already.
            raise _ApiFailure(
                "SYS.1006",
                "An operation failed",
                f"endpoint[uuid:{endpoint}] has subscribed to topic[uuid:{topic}]",
            )
        self._subscriptions.add((topic, endpoint))
        return 200, {"inventory": self._topic_wire(self._topics[topic])}

    def _unsubscribe(
        self, request: httpx.Request, variables: dict[str, str], _: dict[str, Any]
    ) -> tuple[int, Any]:
        # [inferred] like ZStack's deletes, removing what is not there succeeds.
        self._subscriptions.discard((variables["topic"], variables["endpoint"]))
        return 200, {}

    def _query_subscribers(
        self, request: httpx.Request, variables: dict[str, str], _: dict[str, Any]
    ) -> tuple[int, Any]:
        query = _parse_query(request.url.params, None)
        records = [
            {"topicUuid": topic, "endpointUuid": endpoint}
            for topic, endpoint in sorted(self._subscriptions)
        ]
        return 200, _answer_query(query, records)

    # -- wire forms --------------------------------------------------------------------------

    def _endpoint_record(self, endpoint: _Endpoint) -> dict[str, Any]:
        """Every queryable field, nulls included (conditions may name them)."""
        return {
            "uuid": endpoint.uuid,
            "name": endpoint.name,
            "description": endpoint.description,
            "url": endpoint.url,
            "username": endpoint.username,
            "type": ENDPOINT_TYPE,
            "state": endpoint.state,
            "platformUuid": SYSTEM_PLATFORM_UUID,
            "connectionStatus": endpoint.connection_status,
            "platform": {
                "uuid": SYSTEM_PLATFORM_UUID,
                "name": "system",
                "type": "system",
                "state": "Enabled",
            },
            "createDate": _gson_date(endpoint.created),
            "lastOpDate": _gson_date(endpoint.last_op or endpoint.created),
        }

    def _endpoint_wire(self, endpoint: _Endpoint) -> dict[str, Any]:
        return _without_nulls(self._endpoint_record(endpoint))

    def _topic_wire(self, topic: _Topic) -> dict[str, Any]:
        return {
            "uuid": topic.uuid,
            "name": topic.name,
            "description": topic.description,
            "state": topic.state,
            "createDate": _gson_date(topic.created),
            "lastOpDate": _gson_date(topic.created),
        }

    def _hex(self, seed_text: str | None = None) -> str:
        if seed_text is not None:
            return uuid_module.uuid5(uuid_module.NAMESPACE_OID, seed_text).hex
        return uuid_module.UUID(int=self._random.getrandbits(128), version=4).hex

    # -- behind the operator's back ----------------------------------------------------------

    def endpoints(self) -> list[dict[str, Any]]:
        """Every SNS HTTP endpoint as the query API shows it, oldest first."""
        with self.lock:
            self._settle()
            return [self._endpoint_wire(e) for e in self._endpoints.values()]

    def get(self, endpoint_uuid: str) -> dict[str, Any] | None:
        with self.lock:
            self._settle()
            found = self._endpoints.get(endpoint_uuid)
            return self._endpoint_wire(found) if found is not None else None

    def password_of(self, endpoint_uuid: str) -> str | None:
        """The write-only basic-auth password (the API never returns it)."""
        with self.lock:
            self._settle()
            return self._stored(endpoint_uuid).password

    def add_endpoint(
        self,
        name: str,
        url: str = "http://127.0.0.1:9/elsewhere",
        *,
        description: str | None = None,
        username: str | None = None,
        uuid: str | None = None,
        state: Literal["Enabled", "Disabled"] = "Enabled",
    ) -> dict[str, Any]:
        """Someone else creates an HTTP endpoint (names are not unique on ZStack)."""
        with self.lock:
            endpoint = _Endpoint(
                uuid=uuid or self._hex(),
                name=name,
                url=url,
                created=self.clock(),
                description=description,
                username=username,
                state=state,
            )
            self._endpoints[endpoint.uuid] = endpoint
            return self._endpoint_wire(endpoint)

    def rename(self, endpoint_uuid: str, name: str) -> None:
        self.patch(endpoint_uuid, name=name)

    def set_url(self, endpoint_uuid: str, url: str) -> None:
        self.patch(endpoint_uuid, url=url)

    def set_state(self, endpoint_uuid: str, state: Literal["Enabled", "Disabled"]) -> None:
        self.patch(endpoint_uuid, state=state)

    def patch(self, endpoint_uuid: str, **fields: Any) -> None:
        """Overwrite fields directly: ``name``, ``url``, ``description``, ``username``,
        ``password``, ``state``. Nothing is validated, so any drift can be staged."""
        unknown = set(fields) - {"name", "url", "description", "username", "password", "state"}
        if unknown:
            raise ValueError(f"cannot patch {sorted(unknown)}")
        if fields.get("state", "Enabled") not in ("Enabled", "Disabled"):
            raise ValueError("state is Enabled or Disabled")
        with self.lock:
            self._settle()
            endpoint = self._stored(endpoint_uuid)
            for name, value in fields.items():
                setattr(endpoint, name, value)
            endpoint.last_op = self.clock()

    def remove(self, endpoint_uuid: str) -> None:
        """Delete an endpoint as someone else would (its subscriptions go with it)."""
        with self.lock:
            self._settle()
            self._stored(endpoint_uuid)
            del self._endpoints[endpoint_uuid]
            self._subscriptions = {s for s in self._subscriptions if s[1] != endpoint_uuid}

    def add_topic(self, name: str, *, uuid: str | None = None) -> str:
        with self.lock:
            topic = _Topic(uuid or self._hex(), name, self.clock())
            self._topics[topic.uuid] = topic
            return topic.uuid

    def topics(self) -> list[dict[str, Any]]:
        with self.lock:
            self._settle()
            return [_without_nulls(self._topic_wire(t)) for t in self._topics.values()]

    def subscriptions(self, endpoint_uuid: str) -> set[str]:
        """The topics an endpoint subscribes to."""
        with self.lock:
            self._settle()
            return {topic for topic, endpoint in self._subscriptions if endpoint == endpoint_uuid}

    def subscribe(self, topic_uuid: str, endpoint_uuid: str) -> None:
        with self.lock:
            self._settle()
            if topic_uuid not in self._topics:
                raise KeyError(topic_uuid)
            self._stored(endpoint_uuid)
            self._subscriptions.add((topic_uuid, endpoint_uuid))

    def unsubscribe(self, topic_uuid: str, endpoint_uuid: str) -> None:
        """Remove a subscription as someone else would."""
        with self.lock:
            self._settle()
            if (topic_uuid, endpoint_uuid) not in self._subscriptions:
                raise KeyError(f"{topic_uuid}/{endpoint_uuid}")
            self._subscriptions.discard((topic_uuid, endpoint_uuid))

    def expire_sessions(self) -> None:
        """Every session ends now, as after the session timeout or a restart of the node."""
        with self.lock:
            self._sessions.clear()

    @property
    def session_count(self) -> int:
        with self.lock:
            now = self.clock()
            return sum(1 for s in self._sessions.values() if now < s.expires)

    def expire_jobs(self, times: int = 1) -> None:
        """The next ``times`` jobs do their work, but their results are gone (404) when polled."""
        with self.lock:
            self._jobs_to_lose += times

    def fail_with(
        self,
        code: str = "SYS.1000",
        description: str = "An internal error happened in system",
        details: str = "simulated failure",
        *,
        times: int | None = 1,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """The next matching API call fails with this ErrorCode (503) and does nothing:
        a query at once, an asynchronous API as its job's result."""
        with self.lock:
            self._errors.append(_ErrorRule(code, description, details, times, method, path))

    def clear_errors(self) -> None:
        with self.lock:
            self._errors.clear()
            self._jobs_to_lose = 0

    def raise_alarm(
        self,
        *,
        topic_uuid: str | None = None,
        endpoint_uuid: str | None = None,
        alarm_name: str = "cpu-high",
        metric_name: str = "CPUAverageUsedUtilization",
        current_value: float = 95.0,
        threshold: float = 80.0,
        resource_uuid: str | None = None,
    ) -> list[Delivery]:
        """A ZWatch alarm fires: POST it to every enabled HTTP endpoint it reaches, over HTTP.

        It reaches the endpoints subscribed to ``topic_uuid``, or just ``endpoint_uuid``, or
        (neither given) every HTTP endpoint. A disabled endpoint receives nothing.
        """
        with self.lock:
            self._settle()
            if endpoint_uuid is not None:
                chosen = [self._stored(endpoint_uuid)]
            elif topic_uuid is not None:
                chosen = [
                    self._endpoints[e]
                    for t, e in sorted(self._subscriptions)
                    if t == topic_uuid and e in self._endpoints
                ]
            else:
                chosen = list(self._endpoints.values())
            targets = [
                (e.uuid, e.url, e.username, e.password) for e in chosen if e.state == "Enabled"
            ]
            now = self.clock()
        # [inferred] the notification's shape: ZStack's documents leave it open.
        body = {
            "alarmUuid": uuid_module.uuid5(uuid_module.NAMESPACE_OID, alarm_name).hex,
            "alarmName": alarm_name,
            "namespace": "ZStack/VM",
            "metricName": metric_name,
            "currentStatus": "Alarm",
            "oldStatus": "OK",
            "currentValue": current_value,
            "threshold": threshold,
            "comparisonOperator": "GreaterThanOrEqualTo",
            "resourceUuid": resource_uuid,
            "topicUuid": topic_uuid,
            "time": int(now * 1000),
        }
        results = [self._deliver(target, body) for target in targets]
        with self.lock:
            self.deliveries.extend(results)
        return results

    def _deliver(
        self, target: tuple[str, str, str | None, str | None], body: dict[str, Any]
    ) -> Delivery:
        endpoint_uuid, url, username, password = target
        headers = {}
        if username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            with httpx.Client(transport=self._delivery_transport, timeout=5.0) as client:
                response = client.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return Delivery(endpoint_uuid, url, body, None, f"{type(exc).__name__}: {exc}")
        return Delivery(endpoint_uuid, url, body, response.status_code)

    def _stored(self, endpoint_uuid: str) -> _Endpoint:
        endpoint = self._endpoints.get(endpoint_uuid)
        if endpoint is None:
            raise KeyError(endpoint_uuid)
        return endpoint

    # -- the same over HTTP, for the demo ----------------------------------------------------

    def admin(self, request: httpx.Request, path: str) -> httpx.Response | None:
        """Admin routes below ``/_sim`` (besides the shared ``/requests`` and ``/faults``):

        ``GET|POST /endpoints``, ``GET|PATCH|DELETE /endpoints/{uuid}``,
        ``DELETE /endpoints/{uuid}/topics/{topic}``, ``GET|POST /topics``, ``POST /alarms``,
        ``GET /deliveries``, ``DELETE /sessions``, ``PUT /jobs`` (delay, expiry),
        ``POST /jobs/expire``, ``POST|DELETE /errors``.
        """
        self._seen_base = _origin(request)
        method = request.method
        match path.strip("/").split("/"):
            case ["endpoints", key, "topics", topic] if method == "DELETE":
                self.unsubscribe(topic, key)
                return httpx.Response(204)
            case ["topics"] if method == "GET":
                return json_response(200, self.topics())
            case ["topics"] if method == "POST":
                new_topic = _AdminTopic.model_validate(admin_body(request))
                made = self.add_topic(new_topic.name, uuid=new_topic.uuid)
                return json_response(201, {"uuid": made})
            case ["deliveries"] if method == "GET":
                return json_response(200, [_delivery_wire(d) for d in self.deliveries])
            case ["sessions"] if method == "DELETE":
                self.expire_sessions()
                return httpx.Response(204)
            case ["jobs"] if method == "PUT":
                jobs = _AdminJobs.model_validate(admin_body(request))
                self.job_delay = jobs.delay_seconds
                self.job_expiry = jobs.expiry_seconds
                return json_response(200, jobs.model_dump(by_alias=True))
            case ["jobs", "expire"] if method == "POST":
                times = _AdminTimes.model_validate(admin_body(request))
                self.expire_jobs(times.times)
                return httpx.Response(204)
            case ["errors"] if method == "POST":
                rule = _AdminError.model_validate(admin_body(request))
                self.fail_with(**rule.model_dump())
                return httpx.Response(204)
            case ["errors"] if method == "DELETE":
                self.clear_errors()
                return httpx.Response(204)
        return None


def _delivery_wire(delivery: Delivery) -> dict[str, Any]:
    return {
        "endpointUuid": delivery.endpoint_uuid,
        "url": delivery.url,
        "status": delivery.status,
        "error": delivery.error,
        "body": delivery.body,
    }


class _AdminModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)


class _AdminEndpoint(_AdminModel):
    name: str
    url: str = "http://127.0.0.1:9/elsewhere"
    description: str | None = None
    username: str | None = None
    uuid: str | None = None
    state: Literal["Enabled", "Disabled"] = "Enabled"


class _AdminPatch(_AdminModel):
    name: str | None = None
    url: str | None = None
    description: str | None = None
    username: str | None = None
    password: str | None = None
    state: Literal["Enabled", "Disabled"] | None = None


class _AdminTopic(_AdminModel):
    name: str
    uuid: str | None = None


class _AdminAlarm(_AdminModel):
    topic_uuid: str | None = pydantic.Field(default=None, alias="topicUuid")
    endpoint_uuid: str | None = pydantic.Field(default=None, alias="endpointUuid")
    alarm_name: str = pydantic.Field(default="cpu-high", alias="alarmName")
    metric_name: str = pydantic.Field(default="CPUAverageUsedUtilization", alias="metricName")
    current_value: float = pydantic.Field(default=95.0, alias="currentValue")
    threshold: float = 80.0
    resource_uuid: str | None = pydantic.Field(default=None, alias="resourceUuid")


class _AdminJobs(_AdminModel):
    delay_seconds: float = pydantic.Field(default=0.0, ge=0, alias="delaySeconds")
    expiry_seconds: float = pydantic.Field(default=DEFAULT_JOB_EXPIRY, gt=0, alias="expirySeconds")


class _AdminTimes(_AdminModel):
    times: int = pydantic.Field(default=1, ge=1)


class _AdminError(_AdminModel):
    code: str = "SYS.1000"
    description: str = "An internal error happened in system"
    details: str = "simulated failure"
    times: int | None = pydantic.Field(default=1, ge=1)
    method: str | None = None
    path: str | None = None


def _pair(value: str) -> tuple[str, str]:
    name, separator, secret = value.partition(":")
    if not separator or not name or not secret:
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME:SECRET")
    return name, secret


def build_parser() -> argparse.ArgumentParser:
    parser = server.simulator_parser("zstack", "Serve a ZStack Cloud (SNS) API simulator.")
    parser.add_argument(
        "--account",
        dest="accounts",
        action="append",
        type=_pair,
        metavar="NAME:PASSWORD",
        help=f"repeatable (default: {DEFAULT_ACCOUNT}:{DEFAULT_PASSWORD})",
    )
    parser.add_argument(
        "--access-key", dest="access_keys", action="append", type=_pair, metavar="ID:SECRET"
    )
    parser.add_argument("--topic", dest="topics", action="append", default=[], metavar="NAME")
    parser.add_argument("--job-delay", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--base-url", help="the node's own URL in job locations")
    parser.add_argument("--seed", type=int, help="makes uuids repeatable")
    return parser


def simulator_from_args(args: argparse.Namespace) -> ZStackSimulator:
    simulator = ZStackSimulator(
        accounts=dict(args.accounts) if args.accounts else None,
        access_keys=dict(args.access_keys or ()),
        base_url=args.base_url,
        job_delay=args.job_delay,
        seed=args.seed,
    )
    for name in args.topics:
        simulator.add_topic(name)
    return simulator


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the simulator until interrupted; prints its URL on stdout."""
    args = build_parser().parse_args(argv)
    server.run(simulator_from_args(args), args.host, args.port, name="ZStack")


# The samples' SNS topic (spec.zstack.topicUuids in deploy/samples/zstack.yaml).
ZSTACK_TOPIC = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"

# The sandbox's row (alertsim/simulators.py collects it): deploy/samples/zstack.yaml.
SERVED: Served = served(
    "zstack",
    "zstack",
    18094,
    "storage-alarms",
    main,
    lambda: ZStackSimulator(
        accounts={"admin": "sandbox-zstack-password"}, topics={ZSTACK_TOPIC: "alarms"}
    ),
    lambda sim: sim.endpoints(),
)
