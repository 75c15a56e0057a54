"""iLert REST API simulator: alert sources, escalation policies, the Alerts and Events APIs.

Faithful to iLert's API reference (its OpenAPI description and the Alerts API page; summed
up in ``docs/platforms/ilert.md``). Where those are silent the choices are marked *inferred*
in the docstrings, and kept easy to change: error ``code`` strings, 401 versus 403,
duplicate names (allowed), what happens to alerts of a deleted source (they stay, open).

What it does, in short:

* ``Authorization: Bearer <key>`` (a bare key is accepted too, as iLert's reference examples send
  it). A missing or unknown key is 401; a key whose role may not do the call is 403. Roles
  follow iLert's user roles: ``admin`` and ``user`` may do everything, ``responder`` may
  read and act on alerts, ``stakeholder`` may only read.
* 120 requests a minute per key (sliding window); over it, 429 with iLert's error body and
  **no** rate-limit headers. :attr:`ILertSimulator.rate_limited` counts those refusals.
* Alert sources: bare-array lists paged with ``start-index``/``max-results`` (at most 50,
  larger values are clamped), ``include=`` fields only on single reads and writes, create
  201 + ``Location``, PUT as a full replace (omitted fields go back to their defaults),
  delete 204 then 404. ``{id}`` may also be the integration key.
* Alerts: list (``states``, ``sources``, ``policies``, ``responders``, ``from``/``until``,
  paging up to 100), count, get, create, accept, resolve (PENDING → ACCEPTED → RESOLVED,
  never back), assign, responders, notifications, log entries.
* Events: ``POST /api/events`` with the source's integration key (and the same body at the
  source's ``integrationUrl``) opens, accepts, resolves or comments alerts per the source's
  ``alertCreation``; 50 events a minute per integration key.

Faults come from :class:`alertsim.core.Faults`; a 429 fault (``faults.throttle`` or
``faults.fail(429)``) is iLert's own, without headers, unless
:attr:`ILertSimulator.retry_after_header` is switched on (the optional ``Retry-After``
switch the platform notes allow for). Tests and the demo change state behind the operator's
back with plain methods (:meth:`ILertSimulator.rename`, :meth:`~ILertSimulator.deactivate`,
:meth:`~ILertSimulator.raise_alert`, ...) or over HTTP below ``/_sim/`` (see
:meth:`ILertSimulator.admin`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
import string
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import pydantic

from alertsim import server
from alertsim.adminroutes import AdminCollection
from alertsim.core import AdminError, Clock, RateLimiter, Simulator, admin_body, json_response
from alertsim.serving import Served, served

__all__ = [
    "DEFAULT_KEY",
    "INCLUDE_ONLY_FIELDS",
    "INTEGRATION_TYPES",
    "SERVED",
    "ILertSimulator",
    "Rate",
    "Role",
    "main",
]

Role = Literal["admin", "user", "responder", "stakeholder"]
DEFAULT_KEY = "ilert-sim-key"

#: The platform's IntegrationType enum, with the deprecated values it still knows.
_TYPES = (
    "NAGIOS", "ICINGA", "EMAIL2", "SMS", "API", "HEARTBEAT2", "PRTG", "PINGDOM", "CLOUDWATCH",
    "AWSPHD", "STACKDRIVER", "INSTANA", "ZABBIX", "SOLARWINDS", "PROMETHEUS", "NEWRELIC",
    "GRAFANA", "GITHUB", "DATADOG", "UPTIMEROBOT", "APPDYNAMICS", "DYNATRACE", "TOPDESK",
    "STATUSCAKE", "MONITOR", "TOOL", "CHECKMK", "AUTOTASK", "AWSBUDGET", "SYSDIG", "SERVERDENSITY",
    "ZAPIER", "KENTIXAM", "JIRA", "CONSUL", "ZAMMAD", "SPLUNK", "SERVICENOW", "SEARCHGUARD",
    "KUBERNETES", "SIGNALFX", "AZUREALERTS", "TERRAFORMCLOUD", "SENTRY", "SEMATEXT", "SUMOLOGIC",
    "RAYGUN", "MXTOOLBOX", "ESWATCHER", "AMAZONSNS", "KAPACITOR", "CORTEXXSOAR", "ZENDESK",
    "AUVIK", "SENSU", "NCENTRAL", "JUMPCLOUD", "SALESFORCE", "GUARDDUTY", "STATUSHUB", "IXON",
    "APIFORTRESS", "FRESHSERVICE", "APPSIGNAL", "LIGHTSTEP", "IBMCLOUDFUNCTIONS", "CROWDSTRIKE",
    "HUMIO", "OHDEAR", "MONGODBATLAS", "GITLAB", "HYPERPING", "PAPRISMACLOUD", "SAMSARA",
    "PANDORAFMS", "MSSCOM", "TWILIO", "CISCOMERAKI", "CHECKLY", "POSTHOG", "GOOGLESCC", "SLACK",
    "MSTEAMS", "UPTIMEKUMA", "TWILIOERRORS", "PARTICLE", "CLOUDFLARE", "TULIP", "GRAYLOG",
    "CATCHPOINT", "LOKI", "CORTEX", "MIMIR", "HALOPSA", "INFLUXDB", "CALLFLOW", "HALOITSM",
    "KIBANA", "VICTORIAMETRICS", "HONEYCOMB", "FOURME", "KEEP", "UBIDOTS", "HETRIXTOOLS",
    "POSTMAN", "CLUSTERCONTROL", "NETDATA", "AWX", "KAFKA", "MQTT", "RAPIDSPIKE", "HONEYBADGER",
    "HEALTHCHECKSIO", "MEZMO", "SERVERGUARD24", "CISCOTHOUSANDEYES", "SITE24X7", "ITCONDUCTOR",
    "SAPFRUN", "APICA", "DASH0", "ROLLBAR", "GATUS", "LIBRENMS", "PANTHER", "TEAMCITY",
    "ALIBABACLOUD", "FLEETDM", "CONNECTWISEPSA", "DEADMANSSNITCH", "FORTISOAR", "OPMANAGER",
    "CRONITOR", "DOMOTZ", "LIVEWATCH", "AZUREDEVOPS", "LEVELIO", "EKARA", "SYSAID", "PHAREIO",
    "OPSGENIE", "WHATAP", "SIGNOZ", "GOOGLECHAT", "DOTCOMMONITOR", "UPTIME", "HELPSCOUT",
    "SCIENCELOGIC", "PULSETIC", "WAZUH", "SEKOIA", "EMAIL", "HEARTBEAT",
)  # fmt: skip
INTEGRATION_TYPES: frozenset[str] = frozenset(_TYPES)

# What the API reference calls the heavy parts of an alert source: one template per thing
# an alert gets from an event, the link templates, and the filters on incoming events.
_TEMPLATED = (
    "summary", "details", "routing", "alertKey", "services", "priority", "severity", "text",
)  # fmt: skip
_FILTERED_EVENT_TYPES = ("Create", "Accept", "Resolve")
#: Alert source fields that a single read, create or update returns only when ``include=``
#: names them; list results never carry them (the reference's ``AlertSourceNoIncludes``).
INCLUDE_ONLY_FIELDS: tuple[str, ...] = (
    *(f"{part}Template" for part in _TEMPLATED),
    "linkTemplates",
    "eventFilter",
    *(f"eventTypeFilter{event}" for event in _FILTERED_EVENT_TYPES),
)
_ALERT_CREATIONS = frozenset(
    {
        "ONE_ALERT_PER_EMAIL",
        "ONE_ALERT_PER_EMAIL_SUBJECT",
        "ONE_PENDING_ALERT_ALLOWED",
        "ONE_OPEN_ALERT_ALLOWED",
        "OPEN_RESOLVE_ON_EXTRACTION",
        "ONE_ALERT_GROUPED_PER_WINDOW",
        "INTELLIGENT_GROUPING",
    }
)
_PRIORITY_RULES = frozenset(
    {"HIGH", "LOW", "HIGH_DURING_SUPPORT_HOURS", "LOW_DURING_SUPPORT_HOURS"}
)
_STATES = ("PENDING", "ACCEPTED", "RESOLVED")
_OPEN = frozenset({"PENDING", "ACCEPTED"})
_EVENT_TYPES = frozenset({"ALERT", "ACCEPT", "RESOLVE", "COMMENT"})
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")
_KEY_ALPHABET = string.ascii_lowercase + string.digits

# What each role may do: "read" anything, act on "alert"s, "write" configuration.
_ALLOWED: Mapping[str, frozenset[str]] = {
    "admin": frozenset({"read", "alert", "write"}),
    "user": frozenset({"read", "alert", "write"}),
    "responder": frozenset({"read", "alert"}),
    "stakeholder": frozenset({"read"}),
}

# The error body's `code` strings are not published (inferred); clients branch on status.
_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "TOO_MANY_REQUESTS",
}


@dataclass(frozen=True)
class Rate:
    """A request budget: ``limit`` requests per ``window`` seconds per key."""

    limit: int = 120
    window: float = 60.0


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


def _bad(message: str) -> _ApiError:
    return _ApiError(400, message)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    code = _CODES.get(status, "INTERNAL_SERVER_ERROR" if status >= 500 else "ERROR")
    return json_response(status, {"status": status, "message": message, "code": code}, headers)


def _iso(timestamp: float | None) -> str | None:
    """iLert's timestamps: UTC with milliseconds, e.g. ``2025-07-08T10:34:03.807Z``."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(value: str, name: str) -> float:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"{name} must be an ISO-8601 date-time, e.g. 2021-05-25T21:24:56.771Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _seconds(duration: str | None) -> int | None:
    match = _DURATION.match(duration or "")
    if match is None or not any(match.groups()):
        return None
    hours, minutes = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60


@dataclass
class _User:
    id: int
    first_name: str
    last_name: str
    username: str

    @property
    def email(self) -> str:
        return f"{self.username}@ilert.sim"

    def short(self) -> dict[str, Any]:
        return {"id": self.id, "firstName": self.first_name, "lastName": self.last_name}


@dataclass
class _Policy:
    id: int
    name: str
    user_ids: list[int]
    teams: list[int] = field(default_factory=list)
    routing_key: str | None = None


@dataclass
class _Source:
    id: int
    name: str
    integration_type: str
    escalation_policy_id: int
    integration_key: str
    created_at: float
    updated_at: float
    active: bool = True
    alert_creation: str = "ONE_ALERT_PER_EMAIL"
    alert_priority_rule: str = "HIGH"
    auto_resolution_timeout: str | None = None
    alert_grouping_window: str | None = None
    teams: list[int] = field(default_factory=list)
    support_hours_id: int | None = None
    #: The ``include=`` fields, by wire name, as last written.
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Responder:
    user_id: int
    status: str = "PENDING"
    accepted_at: float | None = None


@dataclass
class _LogEntry:
    id: int
    timestamp: float
    type: str
    text: str


@dataclass
class _Alert:
    id: int
    source_id: int
    policy_id: int
    summary: str
    report_time: float
    priority: str
    details: str | None = None
    alert_key: str | None = None
    status: str = "PENDING"
    resolved_on: float | None = None
    assigned_to: int | None = None
    responders: list[_Responder] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)
    links: list[Any] = field(default_factory=list)
    log: list[_LogEntry] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    #: The source as it was when it was deleted; alerts outlive their source.
    source_snapshot: dict[str, Any] | None = None

    @property
    def open(self) -> bool:
        return self.status in _OPEN


@dataclass
class _SourceInput:
    """A validated alert source body (create or PUT), not yet applied."""

    name: str
    integration_type: str
    escalation_policy_id: int
    active: bool
    alert_creation: str
    alert_priority_rule: str
    auto_resolution_timeout: str | None
    alert_grouping_window: str | None
    teams: list[int]
    support_hours_id: int | None
    extras: dict[str, Any]


Handler = Callable[[httpx.Request, dict[str, str]], httpx.Response]


@dataclass(frozen=True)
class _Endpoint:
    pattern: re.Pattern[str]
    route: str
    #: method → (permission, handler); permission None: no API key (the Events API).
    methods: Mapping[str, tuple[str | None, Handler]]


def _id_of(value: Any, what: str) -> int:
    """``{"id": n}`` (what iLert needs of a sub-entity on writes) as ``n``."""
    if not isinstance(value, dict) or "id" not in value:
        raise _bad(f"{what} must be an object with an id")
    raw = value["id"]
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise _bad(f"{what}.id must be a number")
    try:
        return int(raw)
    except ValueError:
        raise _bad(f"{what}.id must be a number") from None


def _json(request: httpx.Request) -> Any:
    if not request.content:
        return None
    try:
        return json.loads(request.content)
    except ValueError:
        raise _bad("the request body is not valid JSON") from None


def _int_param(params: httpx.QueryParams, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _bad(f"{name} must be a number") from None


def _int_list(params: httpx.QueryParams, name: str) -> list[int]:
    try:
        return [int(value) for value in params.get_list(name)]
    except ValueError:
        raise _bad(f"{name} must be numbers") from None


def _includes(params: httpx.QueryParams) -> tuple[str, ...]:
    # Repeated (?include=a&include=b) as the spec has it; commas are tolerated.
    names = [part for value in params.get_list("include") for part in value.split(",")]
    return tuple(name.strip() for name in names if name.strip())


def _window(params: httpx.QueryParams, cap: int) -> tuple[int, int]:
    start = _int_param(params, "start-index", 0)
    size = _int_param(params, "max-results", 50)
    if start < 0 or size < 1:
        raise _bad("start-index must be 0 or more and max-results 1 or more")
    # Larger pages than the cap are not documented; clamping is the gentler reading.
    return start, min(size, cap)


class ILertSimulator(Simulator):
    """An in-memory iLert account behind the REST API.

    ``keys`` maps API keys to roles; ``base_url`` is used in ``integrationUrl`` and
    ``Location`` (default: whatever URL the request came in on). ``rate`` is the per-key
    budget and ``event_rate`` the per-integration-key budget of the Events API (``None``:
    unlimited). ``escalation_policies`` and ``teams`` are created up front with ids counting
    from 1 and 901; the first user (id 201) is on every policy created here.
    """

    def __init__(
        self,
        *,
        keys: Mapping[str, Role] | None = None,
        base_url: str | None = None,
        rate: Rate | None = Rate(),
        event_rate: Rate | None = Rate(50, 60.0),
        clock: Clock = time.time,
        seed: int | None = None,
        escalation_policies: Iterable[str] = ("Default",),
        teams: Iterable[str] = (),
    ) -> None:
        super().__init__(clock=clock)
        self.base_url = base_url.rstrip("/") if base_url else None
        self._keys: dict[str, Role] = dict(keys or {DEFAULT_KEY: "admin"})
        self._limiter = RateLimiter(rate.limit, rate.window, clock) if rate else None
        self._event_limiter = (
            RateLimiter(event_rate.limit, event_rate.window, clock) if event_rate else None
        )
        #: 429s the per-key limit answered (injected faults are not counted).
        self.rate_limited = 0
        #: Fault switch: throttle faults (``faults.throttle``) send ``Retry-After``, which
        #: iLert itself never does.
        self.retry_after_header = False
        self._random = random.Random(seed)
        self._seen_base = "http://localhost"
        self._source_ids = itertools.count(1001)
        self._alert_ids = itertools.count(50001)
        self._policy_ids = itertools.count(1)
        self._team_ids = itertools.count(901)
        self._user_ids = itertools.count(201)
        self._log_ids = itertools.count(1)
        self._notification_ids = itertools.count(1)
        self._sources: dict[int, _Source] = {}
        admin = AdminCollection("alert-sources", _AdminSource, _AdminPatch)
        self.admin_collection = admin.routes(
            self.alert_sources, self.alert_source, self.add_alert_source, self.patch, self.remove
        )
        self._alerts: dict[int, _Alert] = {}
        self._policies: dict[int, _Policy] = {}
        self._teams: dict[int, str] = {}
        self._users: dict[int, _User] = {}
        #: Every key acts as this user (accepting, responding).
        self._api_user = self._new_user("Sim", "Admin", "sim.admin")
        for name in escalation_policies:
            self.add_escalation_policy(name)
        for name in teams:
            self.add_team(name)
        self._endpoints = (
            self._endpoint(
                "/api/alert-sources",
                GET=("read", self._list_sources),
                POST=("write", self._create_source),
            ),
            self._endpoint(
                "/api/alert-sources/{id}",
                GET=("read", self._get_source),
                PUT=("write", self._update_source),
                DELETE=("write", self._delete_source),
            ),
            self._endpoint("/api/escalation-policies", GET=("read", self._list_policies)),
            self._endpoint("/api/escalation-policies/resolve", GET=("read", self._resolve_policy)),
            self._endpoint("/api/escalation-policies/{id}", GET=("read", self._get_policy)),
            self._endpoint(
                "/api/alerts", GET=("read", self._list_alerts), POST=("alert", self._create_alert)
            ),
            self._endpoint("/api/alerts/count", GET=("read", self._count_alerts)),
            self._endpoint("/api/alerts/{id}", GET=("read", self._get_alert)),
            self._endpoint("/api/alerts/{id}/accept", PUT=("alert", self._accept)),
            self._endpoint("/api/alerts/{id}/resolve", PUT=("alert", self._resolve)),
            self._endpoint("/api/alerts/{id}/assign", PUT=("alert", self._assign)),
            self._endpoint(
                "/api/alerts/{id}/suggested-responders", GET=("read", self._suggested_responders)
            ),
            self._endpoint("/api/alerts/{id}/responders", POST=("alert", self._add_responder)),
            self._endpoint(
                "/api/alerts/{id}/responders/{user}", DELETE=("alert", self._remove_responder)
            ),
            self._endpoint("/api/alerts/{id}/notifications", GET=("read", self._notifications)),
            self._endpoint("/api/alerts/{id}/log-entries", GET=("read", self._log_entries)),
            self._endpoint("/api/events", POST=(None, self._post_event)),
            self._endpoint("/api/v1/events/{type}/{key}", POST=(None, self._post_event_to_url)),
        )

    @staticmethod
    def _endpoint(route: str, **methods: tuple[str | None, Handler]) -> _Endpoint:
        pattern = re.escape(route)
        for name in ("id", "user", "type", "key"):
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)")
        return _Endpoint(re.compile(f"{pattern}/?"), route, methods)

    # -- the HTTP API ------------------------------------------------------------------------

    def respond(self, request: httpx.Request) -> httpx.Response:
        self._seen_base = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        self._auto_resolve()
        found = self._match(request)
        if found is None:
            return _error(404, f"no such resource: {request.url.path}")
        endpoint, params = found
        entry = endpoint.methods.get(request.method)
        if entry is None:
            return _error(405, f"method {request.method} is not allowed here")
        permission, handler = entry
        if permission is not None:
            refusal = self._authorize(request, permission)
            if refusal is not None:
                return refusal
        try:
            return handler(request, params)
        except _ApiError as exc:
            return _error(exc.status, exc.message)

    def _authorize(self, request: httpx.Request, permission: str) -> httpx.Response | None:
        header = request.headers.get("authorization", "").strip()
        key = header[7:].strip() if header[:7].lower() == "bearer " else header
        role = self._keys.get(key) if key else None
        if role is None:
            # 401 for a bad key is inferred (standard for Bearer auth), not documented.
            return _error(401, "missing or invalid API key")
        if self._limiter is not None and self._limiter.hit(key) is not None:
            self.rate_limited += 1
            return self._too_many()
        if permission not in _ALLOWED[role]:
            return _error(403, f"the API key's {role} role does not permit this operation")
        return None

    def route_of(self, request: httpx.Request) -> str:
        found = self._match(request)
        return found[0].route if found else request.url.path

    def throttled_response(self, request: httpx.Request, retry_after: float) -> httpx.Response:
        """iLert's 429 names no wait; :attr:`retry_after_header` is the optional switch."""
        if self.retry_after_header:
            return self._too_many({"Retry-After": str(math.ceil(retry_after))})
        return self._too_many()

    def fault_response(self, request: httpx.Request, status: int) -> httpx.Response:
        if status == 429:
            return self._too_many()
        if status <= 500:
            return _error(status, httpx.codes.get_reason_phrase(status) or "error")
        return super().fault_response(request, status)

    @staticmethod
    def _too_many(headers: dict[str, str] | None = None) -> httpx.Response:
        return _error(429, "Too many requests, retry later", headers)

    def _match(self, request: httpx.Request) -> tuple[_Endpoint, dict[str, str]] | None:
        path = request.url.path
        if self.base_url:
            prefix = httpx.URL(self.base_url).path.rstrip("/")
            if prefix:
                if not path.startswith(f"{prefix}/"):
                    return None
                path = path.removeprefix(prefix)
        for endpoint in self._endpoints:
            if match := endpoint.pattern.fullmatch(path):
                return endpoint, {k: v for k, v in match.groupdict().items() if v is not None}
        return None

    def _base(self) -> str:
        return self.base_url or self._seen_base

    # -- alert sources -----------------------------------------------------------------------

    def _list_sources(self, request: httpx.Request, _: dict[str, str]) -> httpx.Response:
        start, size = _window(request.url.params, 50)
        items = sorted(self._sources.values(), key=lambda s: s.id)[start : start + size]
        # List results never carry the include-only fields, whatever is asked for.
        return json_response(200, [self._wire_source(item) for item in items])

    def _get_source(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        source = self._find_source(params["id"])
        return json_response(200, self._wire_source(source, _includes(request.url.params)))

    def _create_source(self, request: httpx.Request, _: dict[str, str]) -> httpx.Response:
        given = self._parse_source(_json(request))
        now = self.clock()
        source = _Source(
            id=next(self._source_ids),
            name=given.name,
            integration_type=given.integration_type,
            escalation_policy_id=given.escalation_policy_id,
            integration_key=self._new_key(given.integration_type),
            created_at=now,
            updated_at=now,
        )
        self._apply(source, given)
        self._sources[source.id] = source
        location = f"{self._base()}/api/alert-sources/{source.id}"
        body = self._wire_source(source, _includes(request.url.params))
        return json_response(201, body, {"Location": location})

    def _update_source(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        source = self._find_source(params["id"])
        given = self._parse_source(_json(request))
        if given.integration_type != source.integration_type:
            # Inferred from the Terraform provider (ForceNew): not changeable in place.
            raise _bad("integrationType cannot be changed; create a new alert source instead")
        self._apply(source, given)
        source.updated_at = self.clock()
        return json_response(200, self._wire_source(source, _includes(request.url.params)))

    def _delete_source(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        self._drop_source(self._find_source(params["id"]))
        return httpx.Response(204)

    def _parse_source(self, data: Any) -> _SourceInput:
        """Validate a create or PUT body: a full object, since PUT replaces everything."""
        if not isinstance(data, dict):
            raise _bad("the request body must be an alert source object")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad("name is required")
        if len(name) > 255:
            raise _bad("name must be at most 255 characters")
        integration_type = data.get("integrationType")
        if integration_type is None:
            raise _bad("integrationType is required")
        if integration_type not in INTEGRATION_TYPES:
            raise _bad(f"integrationType {integration_type!r} is not a known integration type")
        if data.get("escalationPolicy") is None:
            raise _bad("escalationPolicy is required")
        policy_id = _id_of(data["escalationPolicy"], "escalationPolicy")
        if policy_id not in self._policies:
            raise _bad(f"escalation policy {policy_id} does not exist")
        active = data.get("active", True)
        if not isinstance(active, bool):
            raise _bad("active must be true or false")
        creation = data.get("alertCreation") or "ONE_ALERT_PER_EMAIL"
        if creation not in _ALERT_CREATIONS:
            raise _bad(f"alertCreation {creation!r} is not valid")
        rule = data.get("alertPriorityRule") or "HIGH"
        if rule not in _PRIORITY_RULES:
            raise _bad(f"alertPriorityRule {rule!r} is not valid")
        durations: dict[str, str | None] = {}
        for key in ("autoResolutionTimeout", "alertGroupingWindow"):
            value = data.get(key)
            if value is not None and (not isinstance(value, str) or _seconds(value) is None):
                raise _bad(f"{key} must be an ISO-8601 duration such as PT4H or PT30M")
            durations[key] = value
        raw_teams = data.get("teams") or []
        if not isinstance(raw_teams, list):
            raise _bad("teams must be a list")
        teams = sorted({_id_of(team, "teams[]") for team in raw_teams})
        unknown = [team for team in teams if team not in self._teams]
        if unknown:
            raise _bad(f"team {unknown[0]} does not exist")
        support = data.get("supportHours")
        return _SourceInput(
            name=name,
            integration_type=integration_type,
            escalation_policy_id=policy_id,
            active=active,
            alert_creation=creation,
            alert_priority_rule=rule,
            auto_resolution_timeout=durations["autoResolutionTimeout"],
            alert_grouping_window=durations["alertGroupingWindow"],
            teams=teams,
            support_hours_id=None if support is None else _id_of(support, "supportHours"),
            extras={name: data[name] for name in INCLUDE_ONLY_FIELDS if data.get(name) is not None},
        )

    @staticmethod
    def _apply(source: _Source, given: _SourceInput) -> None:
        source.name = given.name
        source.escalation_policy_id = given.escalation_policy_id
        source.active = given.active
        source.alert_creation = given.alert_creation
        source.alert_priority_rule = given.alert_priority_rule
        source.auto_resolution_timeout = given.auto_resolution_timeout
        source.alert_grouping_window = given.alert_grouping_window
        source.teams = given.teams
        source.support_hours_id = given.support_hours_id
        source.extras = given.extras

    def _find_source(self, id_or_key: str) -> _Source:
        if id_or_key.isdigit() and int(id_or_key) in self._sources:
            return self._sources[int(id_or_key)]
        for source in self._sources.values():
            if source.integration_key == id_or_key:
                return source
        raise _ApiError(404, f"alert source {id_or_key} not found")

    def _drop_source(self, source: _Source) -> None:
        snapshot = self._wire_source(source)
        for alert in self._alerts.values():
            if alert.source_id == source.id:
                alert.source_snapshot = snapshot
        del self._sources[source.id]

    def _new_key(self, integration_type: str) -> str:
        # The real key format is not documented (inferred: opaque); "il1" + type + random.
        prefix = "il1" + integration_type.lower()[:4]
        taken = {source.integration_key for source in self._sources.values()}
        while True:
            key = prefix + "".join(self._random.choices(_KEY_ALPHABET, k=26))
            if key not in taken:
                return key

    def _source_status(self, source: _Source) -> str:
        if not source.active:
            return "DISABLED"
        states = {a.status for a in self._alerts.values() if a.source_id == source.id}
        if "PENDING" in states:
            return "PENDING"
        return "ALL_ACCEPTED" if "ACCEPTED" in states else "ALL_RESOLVED"

    def _wire_source(self, source: _Source, includes: Sequence[str] = ()) -> dict[str, Any]:
        slug = source.integration_type.lower()
        body: dict[str, Any] = {
            "id": source.id,
            "name": source.name,
            "iconUrl": f"https://ilert.sim/icons/{slug}.png",
            "lightIconUrl": f"https://ilert.sim/icons/{slug}-light.png",
            "darkIconUrl": f"https://ilert.sim/icons/{slug}-dark.png",
            "escalationPolicy": self._wire_policy_or_ref(source.escalation_policy_id),
            "integrationType": source.integration_type,
            "integrationKey": source.integration_key,
            "integrationUrl": f"{self._base()}/api/v1/events/{slug}/{source.integration_key}",
            "autoResolutionTimeout": source.auto_resolution_timeout,
            "alertGroupingWindow": source.alert_grouping_window,
            "alertCreation": source.alert_creation,
            "status": self._source_status(source),
            "active": source.active,
            "alertPriorityRule": source.alert_priority_rule,
            "supportHours": (
                None if source.support_hours_id is None else {"id": source.support_hours_id}
            ),
            "bidirectional": False,
            "teams": [self._wire_team(team) for team in sorted(source.teams)],
            "createdAt": _iso(source.created_at),
            "updatedAt": _iso(source.updated_at),
        }
        for name in includes:
            if name in INCLUDE_ONLY_FIELDS:
                body[name] = source.extras.get(name)
        return body

    def _wire_team(self, team_id: int) -> dict[str, Any]:
        return {"id": team_id, "name": self._teams.get(team_id)}

    # -- escalation policies -----------------------------------------------------------------

    def _list_policies(self, request: httpx.Request, _: dict[str, str]) -> httpx.Response:
        start, size = _window(request.url.params, 50)
        items = sorted(self._policies)[start : start + size]
        return json_response(200, [self._wire_policy(self._policies[pid]) for pid in items])

    def _get_policy(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        raw = params["id"]
        policy = self._policies.get(int(raw)) if raw.isdigit() else None
        if policy is None:
            raise _ApiError(404, f"escalation policy {raw} not found")
        return json_response(200, self._wire_policy(policy))

    def _resolve_policy(self, request: httpx.Request, _: dict[str, str]) -> httpx.Response:
        routing_key = request.url.params.get("routing-key")
        if not routing_key:
            raise _bad("routing-key is required")
        for policy in self._policies.values():
            if policy.routing_key == routing_key:
                return json_response(200, self._wire_policy(policy))
        raise _ApiError(404, f"no escalation policy with routing key {routing_key!r}")

    def _wire_policy(self, policy: _Policy) -> dict[str, Any]:
        return {
            "id": policy.id,
            "name": policy.name,
            "escalationRules": self._rules(policy),
            "teams": [self._wire_team(team) for team in sorted(policy.teams)],
            "repeating": False,
            "frequency": 1,
            "delayMin": 0,
            "routingKey": policy.routing_key,
        }

    def _rules(self, policy: _Policy) -> list[dict[str, Any]]:
        return [
            {
                "escalationTimeout": 0 if number == 0 else 15,
                "user": {"id": user_id},
                "schedule": None,
                "users": [self._users[user_id].short()] if user_id in self._users else [],
                "schedules": [],
            }
            for number, user_id in enumerate(policy.user_ids)
        ]

    def _wire_policy_or_ref(self, policy_id: int) -> dict[str, Any]:
        policy = self._policies.get(policy_id)
        return {"id": policy_id} if policy is None else self._wire_policy(policy)

    # -- alerts ------------------------------------------------------------------------------

    def _selected(self, params: httpx.QueryParams) -> list[_Alert]:
        """The alerts matching the list and count filters, oldest first (inferred order)."""
        states = params.get_list("states")
        for state in states:
            if state not in _STATES:
                raise _bad(f"states: {state!r} is not one of PENDING, ACCEPTED, RESOLVED")
        sources = set(_int_list(params, "sources"))
        policies = set(_int_list(params, "policies"))
        responders = set(params.get_list("responders"))
        since = _parse_time(params["from"], "from") if params.get("from") else None
        until = _parse_time(params["until"], "until") if params.get("until") else None
        found = []
        for alert in sorted(self._alerts.values(), key=lambda a: (a.report_time, a.id)):
            if states and alert.status not in states:
                continue
            if sources and alert.source_id not in sources:
                continue
            if policies and alert.policy_id not in policies:
                continue
            if responders and not responders & self._responder_names(alert):
                continue
            if since is not None and alert.report_time < since:
                continue
            if until is not None and alert.report_time > until:
                continue
            found.append(alert)
        return found

    def _responder_names(self, alert: _Alert) -> set[str]:
        names = set()
        for responder in alert.responders:
            names.add(str(responder.user_id))
            if responder.user_id in self._users:
                names.add(self._users[responder.user_id].username)
        return names

    def _list_alerts(self, request: httpx.Request, _: dict[str, str]) -> httpx.Response:
        params = request.url.params
        start, size = _window(params, 100)
        page = self._selected(params)[start : start + size]
        includes = _includes(params)
        return json_response(200, [self._wire_alert(alert, includes) for alert in page])

    def _count_alerts(self, request: httpx.Request, _: dict[str, str]) -> httpx.Response:
        return json_response(200, {"count": len(self._selected(request.url.params))})

    def _get_alert(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        alert = self._find_alert(params["id"])
        return json_response(200, self._wire_alert(alert, _includes(request.url.params)))

    def _create_alert(self, request: httpx.Request, _: dict[str, str]) -> httpx.Response:
        data = _json(request)
        if not isinstance(data, dict):
            raise _bad("the request body must be an alert object")
        summary = data.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise _bad("summary is required")
        if data.get("alertSource") is None:
            raise _bad("alertSource is required")
        source_id = _id_of(data["alertSource"], "alertSource")
        source = self._sources.get(source_id)
        if source is None:
            raise _bad(f"alert source {source_id} does not exist")
        policy_id = source.escalation_policy_id
        if data.get("escalationPolicy") is not None:
            policy_id = _id_of(data["escalationPolicy"], "escalationPolicy")
            if policy_id not in self._policies:
                raise _bad(f"escalation policy {policy_id} does not exist")
        priority = data.get("priority")
        if priority is not None and priority not in ("HIGH", "LOW"):
            raise _bad("priority must be HIGH or LOW")
        assigned = None
        if data.get("assignedTo") is not None:
            assigned = self._user_id(data["assignedTo"], "assignedTo")
        responders = [
            self._user_id(item.get("user") if isinstance(item, dict) else None, "responders[].user")
            for item in data.get("responders") or []
        ]
        alert = self._open_alert(
            source,
            summary,
            details=data.get("details"),
            priority=priority,
            policy_id=policy_id,
            images=data.get("images") or [],
            links=data.get("links") or [],
        )
        alert.assigned_to = assigned
        for user_id in responders:
            if user_id not in {r.user_id for r in alert.responders}:
                alert.responders.append(_Responder(user_id))
        return json_response(201, self._wire_alert(alert))

    def _accept(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        alert = self._find_alert(params["id"])
        self._accept_alert(alert, self._api_user)
        return json_response(200, self._wire_alert(alert))

    def _resolve(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        alert = self._find_alert(params["id"])
        self._resolve_alert(alert, "resolved through the API")
        return json_response(200, self._wire_alert(alert))

    def _assign(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        alert = self._find_alert(params["id"])
        query = request.url.params
        given = [name for name in ("user", "policy", "schedule") if query.get(name)]
        if len(given) != 1:
            raise _bad("give exactly one of user, policy or schedule")
        if alert.status == "RESOLVED":
            raise _bad("a resolved alert cannot be assigned")
        target = query[given[0]]
        if not target.isdigit():
            raise _bad(f"{given[0]} must be a numeric id")
        number = int(target)
        if given[0] == "user":
            if number not in self._users:
                raise _bad(f"user {number} does not exist")
            alert.assigned_to = number
            alert.responders = [_Responder(number)]
        elif given[0] == "policy":
            if number not in self._policies:
                raise _bad(f"escalation policy {number} does not exist")
            alert.policy_id = number
            alert.assigned_to = None
        self._log(alert, "AlertAssignedLogEntry", f"assigned to {given[0]} {number}")
        return json_response(200, self._wire_alert(alert))

    def _suggested_responders(
        self, request: httpx.Request, params: dict[str, str]
    ) -> httpx.Response:
        self._find_alert(params["id"])
        body = [
            {
                "group": "SUGGESTED",
                "id": user.id,
                "name": f"{user.first_name} {user.last_name}",
                "disabled": False,
            }
            for user in self._users.values()
        ]
        return json_response(200, body)

    def _add_responder(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        alert = self._find_alert(params["id"])
        data = _json(request)
        user_id = self._user_id(data.get("user") if isinstance(data, dict) else None, "user")
        if alert.status == "RESOLVED":
            # The spec lists 405 for adding a responder where it is not allowed.
            raise _ApiError(405, "responders cannot be added to a resolved alert")
        if any(responder.user_id == user_id for responder in alert.responders):
            raise _bad(f"user {user_id} is already a responder")
        responder = _Responder(user_id)
        alert.responders.append(responder)
        self._log(alert, "ResponderAddedLogEntry", f"added responder {user_id}")
        return json_response(201, self._wire_responder(responder))

    def _remove_responder(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        alert = self._find_alert(params["id"])
        user = params["user"]
        kept = [r for r in alert.responders if str(r.user_id) != user]
        if len(kept) == len(alert.responders):
            raise _ApiError(404, f"user {user} is not a responder of alert {alert.id}")
        alert.responders = kept
        self._log(alert, "ResponderRemovedLogEntry", f"removed responder {user}")
        return httpx.Response(204)

    def _notifications(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        return json_response(200, list(self._find_alert(params["id"]).notifications))

    def _log_entries(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        alert = self._find_alert(params["id"])
        start, size = _window(request.url.params, 100)
        entries: list[dict[str, Any]] = [
            {
                "id": entry.id,
                "timestamp": _iso(entry.timestamp),
                "logEntryType": entry.type,
                "text": entry.text,
                "alertId": alert.id,
                "filterTypes": ["NOTIFICATIONS"] if "Notification" in entry.type else [],
                "vars": {},
            }
            for entry in alert.log[start : start + size]
        ]
        return json_response(200, entries)

    def _find_alert(self, raw: str) -> _Alert:
        alert = self._alerts.get(int(raw)) if raw.isdigit() else None
        if alert is None:
            raise _ApiError(404, f"alert {raw} not found")
        return alert

    def _user_id(self, value: Any, what: str) -> int:
        user_id = _id_of(value, what)
        if user_id not in self._users:
            raise _bad(f"user {user_id} does not exist")
        return user_id

    # -- the state machine -------------------------------------------------------------------

    def _open_alert(
        self,
        source: _Source,
        summary: str,
        *,
        details: str | None = None,
        priority: str | None = None,
        alert_key: str | None = None,
        policy_id: int | None = None,
        images: list[Any] | None = None,
        links: list[Any] | None = None,
    ) -> _Alert:
        now = self.clock()
        policy_id = source.escalation_policy_id if policy_id is None else policy_id
        # Support hours are not simulated: the *_DURING_SUPPORT_HOURS rules act as always on.
        default = "LOW" if source.alert_priority_rule.startswith("LOW") else "HIGH"
        alert = _Alert(
            id=next(self._alert_ids),
            source_id=source.id,
            policy_id=policy_id,
            summary=summary,
            report_time=now,
            priority=priority or default,
            details=details,
            alert_key=alert_key,
            images=images or [],
            links=links or [],
        )
        self._alerts[alert.id] = alert
        self._log(alert, "AlertReceivedLogEntry", f"alert created from {source.name}")
        policy = self._policies.get(policy_id)
        first = policy.user_ids[:1] if policy else []
        for user_id in first:
            alert.responders.append(_Responder(user_id))
            user = self._users[user_id]
            alert.notifications.append(
                {
                    "id": next(self._notification_ids),
                    "method": "EMAIL",
                    "target": user.email,
                    "subject": f"[iLert] Alert {alert.id}: {summary}",
                    "alertId": alert.id,
                    "user": {
                        "id": user.id,
                        "firstname": user.first_name,
                        "lastname": user.last_name,
                    },
                    "notificationTime": _iso(now),
                    "status": "SUCCESS",
                    "errorMessage": None,
                }
            )
            self._log(alert, "NotificationLogEntry", f"notified {user.email} by email")
        return alert

    def _accept_alert(self, alert: _Alert, user: _User) -> None:
        if alert.status == "RESOLVED":
            raise _bad(f"alert {alert.id} is resolved and cannot be accepted")
        if alert.status == "ACCEPTED":
            return
        now = self.clock()
        alert.status = "ACCEPTED"
        responder = next((r for r in alert.responders if r.user_id == user.id), None)
        if responder is None:
            responder = _Responder(user.id)
            alert.responders.append(responder)
        responder.status, responder.accepted_at = "ACCEPTED", now
        self._log(alert, "AlertAcceptedLogEntry", f"accepted by {user.username}")

    def _resolve_alert(self, alert: _Alert, why: str) -> None:
        # Resolving twice is accepted and changes nothing (inferred: idempotent).
        if alert.status == "RESOLVED":
            return
        alert.status = "RESOLVED"
        alert.resolved_on = self.clock()
        self._log(alert, "AlertResolvedLogEntry", why)

    def _log(self, alert: _Alert, kind: str, text: str) -> None:
        alert.log.append(_LogEntry(next(self._log_ids), self.clock(), kind, text))

    def _auto_resolve(self) -> None:
        # iLert resolves alerts after the source's autoResolutionTimeout; doing it lazily on
        # the next look gives the same answers under an injectable clock.
        now = self.clock()
        for alert in self._alerts.values():
            source = self._sources.get(alert.source_id)
            if not alert.open or source is None:
                continue
            timeout = _seconds(source.auto_resolution_timeout)
            if timeout is not None and now - alert.report_time >= timeout:
                self._resolve_alert(alert, "auto-resolved after the source's timeout")

    def _wire_alert(self, alert: _Alert, includes: Sequence[str] = ()) -> dict[str, Any]:
        source = self._sources.get(alert.source_id)
        policy = self._policies.get(alert.policy_id)
        body: dict[str, Any] = {
            "id": alert.id,
            "summary": alert.summary,
            "details": alert.details,
            "reportTime": _iso(alert.report_time),
            "resolvedOn": _iso(alert.resolved_on),
            "status": alert.status,
            "alertSource": self._wire_source(source) if source else alert.source_snapshot,
            "escalationPolicy": self._wire_policy_or_ref(alert.policy_id),
            "priority": alert.priority,
            "alertKey": alert.alert_key,
            "assignedTo": None if alert.assigned_to is None else {"id": alert.assigned_to},
            "nextEscalation": None,
            "nextEscalationRuleIndex": 0,
            "images": alert.images,
            "links": alert.links,
            "responders": [self._wire_responder(r) for r in alert.responders],
        }
        if "escalationRules" in includes:
            body["escalationRules"] = self._rules(policy) if policy else []
        if "nextEscalationUser" in includes:
            body["nextEscalationUser"] = None
        return body

    def _wire_responder(self, responder: _Responder) -> dict[str, Any]:
        user = self._users.get(responder.user_id)
        return {
            "user": user.short() if user else {"id": responder.user_id},
            "status": responder.status,
            "acceptedAt": _iso(responder.accepted_at),
        }

    # -- events ------------------------------------------------------------------------------

    def _post_event(self, request: httpx.Request, _: dict[str, str]) -> httpx.Response:
        data = _json(request)
        if not isinstance(data, dict):
            raise _bad("the request body must be an event object")
        return self._event(data, data.get("integrationKey"))

    def _post_event_to_url(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        data = _json(request)
        if not isinstance(data, dict):
            raise _bad("the request body must be an event object")
        return self._event(data, params["key"])

    def _event(self, data: Mapping[str, Any], key: Any) -> httpx.Response:
        if not isinstance(key, str) or not key:
            raise _bad("integrationKey is required")
        event_type = data.get("eventType")
        if event_type not in _EVENT_TYPES:
            raise _bad("eventType must be one of ALERT, ACCEPT, RESOLVE, COMMENT")
        summary = data.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise _bad("summary is required")
        source = next((s for s in self._sources.values() if s.integration_key == key), None)
        if source is None:
            # Inferred: the documented answers do not cover an unknown key.
            raise _ApiError(404, "no alert source has this integration key")
        if self._event_limiter is not None and self._event_limiter.hit(key) is not None:
            return self._too_many()
        priority = data.get("priority")
        if priority is not None and priority not in ("HIGH", "LOW"):
            raise _bad("priority must be HIGH or LOW")
        self._apply_event(source, event_type, summary, data)
        return httpx.Response(202)

    def _apply_event(
        self, source: _Source, event_type: str, summary: str, data: Mapping[str, Any]
    ) -> _Alert | None:
        """Open, accept, resolve or comment per the event; the alert touched, if any."""
        if not source.active:
            return None  # a disabled source accepts events and raises nothing
        alert_key = data.get("alertKey")
        alert_key = str(alert_key) if alert_key not in (None, "") else None
        mine = [a for a in self._alerts.values() if a.source_id == source.id and a.open]
        keyed = [a for a in mine if alert_key is not None and a.alert_key == alert_key]
        if event_type != "ALERT":
            if alert_key is None:
                raise _bad(f"alertKey is required for {event_type} events")
            for alert in keyed:
                if event_type == "ACCEPT":
                    self._accept_alert(alert, self._api_user)
                elif event_type == "RESOLVE":
                    self._resolve_alert(alert, f"resolved by event: {summary}")
                else:
                    self._log(alert, "EventCommentLogEntry", summary)
            return keyed[-1] if keyed else None
        existing = self._grouped_into(source, mine, keyed)
        if existing is not None:
            self._log(existing, "AlertEventLogEntry", f"event added: {summary}")
            return existing
        return self._open_alert(
            source,
            summary,
            details=data.get("details"),
            priority=data.get("priority"),
            alert_key=alert_key,
            images=list(data.get("images") or []),
            links=list(data.get("links") or []),
        )

    def _grouped_into(
        self, source: _Source, mine: list[_Alert], keyed: list[_Alert]
    ) -> _Alert | None:
        """The open alert an ALERT event joins instead of opening a new one, if any."""
        if keyed:
            return keyed[-1]  # an open alert with the same alertKey: deduplicated
        creation = source.alert_creation
        if creation == "ONE_PENDING_ALERT_ALLOWED":
            pending = [a for a in mine if a.status == "PENDING"]
            return pending[-1] if pending else None
        if creation == "ONE_OPEN_ALERT_ALLOWED":
            return mine[-1] if mine else None
        window = _seconds(source.alert_grouping_window)
        if creation == "ONE_ALERT_GROUPED_PER_WINDOW" and window and mine:
            newest = max(mine, key=lambda a: a.report_time)
            if self.clock() - newest.report_time < window:
                return newest
        return None

    # -- behind the operator's back ----------------------------------------------------------

    def alert_sources(self) -> list[dict[str, Any]]:
        """Every alert source, oldest first, with every include-only field."""
        with self.lock:
            return [self._wire_source(s, INCLUDE_ONLY_FIELDS) for s in self._sorted_sources()]

    def alert_source(self, source_id: int | str) -> dict[str, Any] | None:
        with self.lock:
            source = self._sources.get(int(source_id))
            return None if source is None else self._wire_source(source, INCLUDE_ONLY_FIELDS)

    def add_alert_source(
        self,
        name: str,
        integration_type: str = "API",
        *,
        escalation_policy_id: int | None = None,
        active: bool = True,
        teams: Iterable[int] = (),
        **extras: Any,
    ) -> dict[str, Any]:
        """Someone else creates an alert source (duplicate names are possible, as on iLert).

        ``extras`` are include-only fields by wire name, e.g. ``eventFilter="..."``.
        """
        if integration_type not in INTEGRATION_TYPES:
            raise ValueError(f"unknown integration type {integration_type!r}")
        unknown = set(extras) - set(INCLUDE_ONLY_FIELDS)
        if unknown:
            raise ValueError(f"not include-only fields: {sorted(unknown)}")
        with self.lock:
            policy_id = escalation_policy_id or min(self._policies, default=0)
            if policy_id not in self._policies:
                raise ValueError(f"no escalation policy {policy_id}")
            now = self.clock()
            source = _Source(
                id=next(self._source_ids),
                name=name,
                integration_type=integration_type,
                escalation_policy_id=policy_id,
                integration_key=self._new_key(integration_type),
                created_at=now,
                updated_at=now,
                active=active,
                teams=sorted(set(teams)),
                extras=dict(extras),
            )
            self._sources[source.id] = source
            return self._wire_source(source, INCLUDE_ONLY_FIELDS)

    def rename(self, source_id: int | str, name: str) -> None:
        self.patch(source_id, name=name)

    def deactivate(self, source_id: int | str) -> None:
        self.patch(source_id, active=False)

    def activate(self, source_id: int | str) -> None:
        self.patch(source_id, active=True)

    def set_escalation_policy(self, source_id: int | str, policy_id: int) -> None:
        self.patch(source_id, escalation_policy_id=policy_id)

    def patch(self, source_id: int | str, **fields: Any) -> None:
        """Overwrite fields directly, unvalidated, so that any drift can be staged.

        Fields: ``name``, ``active``, ``escalation_policy_id``, ``integration_type``,
        ``alert_creation``, ``alert_priority_rule``, ``auto_resolution_timeout``,
        ``alert_grouping_window``, ``teams``, ``support_hours_id``, and include-only fields by
        wire name (``eventFilter``, ``summaryTemplate``, ...).
        """
        plain = {
            "name",
            "active",
            "escalation_policy_id",
            "integration_type",
            "alert_creation",
            "alert_priority_rule",
            "auto_resolution_timeout",
            "alert_grouping_window",
            "teams",
            "support_hours_id",
        }
        unknown = set(fields) - plain - set(INCLUDE_ONLY_FIELDS)
        if unknown:
            raise ValueError(f"cannot patch {sorted(unknown)}")
        with self.lock:
            source = self._stored(source_id)
            for name, value in fields.items():
                if name in INCLUDE_ONLY_FIELDS:
                    source.extras[name] = value
                elif name == "teams":
                    source.teams = sorted(set(value))
                else:
                    setattr(source, name, value)
            source.updated_at = self.clock()

    def remove(self, source_id: int | str) -> None:
        """Delete as someone else would; its alerts stay (inferred), open or not."""
        with self.lock:
            self._drop_source(self._stored(source_id))

    def add_escalation_policy(
        self,
        name: str,
        *,
        routing_key: str | None = None,
        user_ids: Sequence[int] | None = None,
        teams: Iterable[int] = (),
    ) -> int:
        with self.lock:
            users = list(user_ids) if user_ids is not None else [self._api_user.id]
            unknown = [user for user in users if user not in self._users]
            if unknown:
                raise ValueError(f"no user {unknown[0]}")
            policy = _Policy(next(self._policy_ids), name, users, sorted(set(teams)), routing_key)
            self._policies[policy.id] = policy
            return policy.id

    def remove_escalation_policy(self, policy_id: int) -> None:
        """Gone behind everyone's back; sources that use it keep a bare ``{"id": n}``."""
        with self.lock:
            self._policies.pop(policy_id)

    def escalation_policies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self._wire_policy(self._policies[pid]) for pid in sorted(self._policies)]

    def add_team(self, name: str) -> int:
        with self.lock:
            team_id = next(self._team_ids)
            self._teams[team_id] = name
            return team_id

    def add_user(self, first_name: str, last_name: str, username: str | None = None) -> int:
        with self.lock:
            name = username or f"{first_name}.{last_name}".lower()
            return self._new_user(first_name, last_name, name).id

    def add_key(self, key: str, role: Role = "admin") -> None:
        with self.lock:
            self._keys[key] = role

    def raise_alert(
        self,
        source_id: int | str,
        summary: str = "something is wrong",
        *,
        alert_key: str | None = None,
        details: str | None = None,
        priority: str | None = None,
    ) -> dict[str, Any] | None:
        """An ALERT event through the source's integration key, as a monitoring tool sends.

        Returns the alert it opened or joined; ``None`` if the source is inactive.
        """
        data = {"alertKey": alert_key, "details": details, "priority": priority}
        with self.lock:
            source = self._stored(source_id)
            alert = self._apply_event(source, "ALERT", summary, data)
            return None if alert is None else self._wire_alert(alert)

    def send_event(
        self,
        integration_key: str,
        event_type: Literal["ALERT", "ACCEPT", "RESOLVE", "COMMENT"],
        summary: str,
        alert_key: str | None = None,
    ) -> dict[str, Any] | None:
        """Any Events API event by integration key; the alert touched, if any."""
        if event_type != "ALERT" and not alert_key:
            raise ValueError(f"{event_type} events need an alert_key")
        with self.lock:
            source = next(
                (s for s in self._sources.values() if s.integration_key == integration_key),
                None,
            )
            if source is None:
                raise KeyError(integration_key)
            alert = self._apply_event(source, event_type, summary, {"alertKey": alert_key})
            return None if alert is None else self._wire_alert(alert)

    def accept_alert(self, alert_id: int) -> None:
        """Raises ValueError for a resolved alert, as the API refuses it."""
        with self.lock:
            try:
                self._accept_alert(self._stored_alert(alert_id), self._api_user)
            except _ApiError as exc:
                raise ValueError(exc.message) from None

    def resolve_alert(self, alert_id: int) -> None:
        with self.lock:
            self._resolve_alert(self._stored_alert(alert_id), "resolved by hand")

    def resolve_alerts(self, source_id: int | str, alert_key: str | None = None) -> int:
        """Resolve the source's open alerts (those with ``alert_key`` only, if given)."""
        with self.lock:
            number = int(source_id)
            chosen = [
                a
                for a in self._alerts.values()
                if a.source_id == number and a.open and alert_key in (None, a.alert_key)
            ]
            for alert in chosen:
                self._resolve_alert(alert, "resolved by hand")
            return len(chosen)

    def alerts(
        self, source_id: int | str | None = None, states: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Alerts, oldest first, of one source (deleted ones too) and in ``states``."""
        wanted = set(states) if states is not None else set(_STATES)
        with self.lock:
            self._auto_resolve()
            return [
                self._wire_alert(alert)
                for alert in sorted(self._alerts.values(), key=lambda a: a.id)
                if (source_id is None or alert.source_id == int(source_id))
                and alert.status in wanted
            ]

    def open_alerts(self, source_id: int | str) -> int:
        return len(self.alerts(source_id, _OPEN))

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        with self.lock:
            found = self._alerts.get(alert_id)
            return None if found is None else self._wire_alert(found)

    def _sorted_sources(self) -> list[_Source]:
        return sorted(self._sources.values(), key=lambda s: s.id)

    def _stored(self, source_id: int | str) -> _Source:
        source = self._sources.get(int(source_id))
        if source is None:
            raise KeyError(source_id)
        return source

    def _stored_alert(self, alert_id: int) -> _Alert:
        alert = self._alerts.get(int(alert_id))
        if alert is None:
            raise KeyError(alert_id)
        return alert

    def _new_user(self, first_name: str, last_name: str, username: str) -> _User:
        user = _User(next(self._user_ids), first_name, last_name, username)
        self._users[user.id] = user
        return user

    # -- the same over HTTP, for the demo --------------------------------------------------

    def admin(self, request: httpx.Request, path: str) -> httpx.Response | None:
        """Admin routes below ``/_sim`` (besides the shared ``/requests`` and ``/faults``):

        ``GET|POST /alert-sources``, ``GET|PATCH|DELETE /alert-sources/{id}``,
        ``POST /alert-sources/{id}/alerts`` (raise), ``POST /alert-sources/{id}/resolve``,
        ``GET /alerts?source=&state=``, ``PUT /alerts/{id}/accept|resolve``,
        ``GET|POST /escalation-policies``, ``DELETE /escalation-policies/{id}``,
        ``POST /teams``, ``POST /users``, ``GET|DELETE /rate-limited``.
        """
        self._seen_base = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        try:
            return self._admin_route(request, request.method, path.strip("/").split("/"))
        except _ApiError as exc:
            raise AdminError(exc.status, exc.message) from None

    def _admin_route(
        self, request: httpx.Request, method: str, parts: list[str]
    ) -> httpx.Response | None:
        match parts:
            case ["alert-sources", pk, "alerts"] if method == "POST":
                raised = _AdminAlert.model_validate(admin_body(request))
                alert = self.raise_alert(
                    int(pk),
                    raised.summary,
                    alert_key=raised.alert_key,
                    details=raised.details,
                    priority=raised.priority,
                )
                return json_response(201 if alert else 202, alert)
            case ["alert-sources", pk, "resolve"] if method == "POST":
                key = _AdminResolve.model_validate(admin_body(request)).alert_key
                return json_response(200, {"resolved": self.resolve_alerts(int(pk), key)})
            case ["alerts"] if method == "GET":
                query = request.url.params
                source = query.get("source")
                states = query.get_list("state") or None
                return json_response(200, self.alerts(source, states))
            case ["alerts", pk, "accept"] if method == "PUT":
                self.accept_alert(int(pk))
                return json_response(200, self.alert(int(pk)))
            case ["alerts", pk, "resolve"] if method == "PUT":
                self.resolve_alert(int(pk))
                return json_response(200, self.alert(int(pk)))
            case ["escalation-policies"] if method == "GET":
                return json_response(200, self.escalation_policies())
            case ["escalation-policies"] if method == "POST":
                policy = _AdminPolicy.model_validate(admin_body(request))
                policy_id = self.add_escalation_policy(
                    policy.name, routing_key=policy.routing_key, user_ids=policy.user_ids
                )
                return json_response(201, self._wire_policy(self._policies[policy_id]))
            case ["escalation-policies", pk] if method == "DELETE":
                self.remove_escalation_policy(int(pk))
                return httpx.Response(204)
            case ["teams"] if method == "POST":
                team = _AdminTeam.model_validate(admin_body(request))
                return json_response(201, self._wire_team(self.add_team(team.name)))
            case ["users"] if method == "POST":
                user = _AdminUser.model_validate(admin_body(request))
                user_id = self.add_user(user.first_name, user.last_name, user.username)
                return json_response(201, self._users[user_id].short())
            case ["rate-limited"] if method == "GET":
                return json_response(200, {"count": self.rate_limited})
            case ["rate-limited"] if method == "DELETE":
                self.rate_limited = 0
                return httpx.Response(204)
        return None


class _AdminModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)


class _AdminSource(_AdminModel):
    name: str
    integration_type: str = pydantic.Field("API", alias="integrationType")
    escalation_policy_id: int | None = pydantic.Field(None, alias="escalationPolicyId")
    active: bool = True
    teams: list[int] = []


class _AdminPatch(_AdminModel):
    name: str | None = None
    active: bool | None = None
    escalation_policy_id: int | None = pydantic.Field(None, alias="escalationPolicyId")
    integration_type: str | None = pydantic.Field(None, alias="integrationType")
    alert_creation: str | None = pydantic.Field(None, alias="alertCreation")
    alert_priority_rule: str | None = pydantic.Field(None, alias="alertPriorityRule")
    auto_resolution_timeout: str | None = pydantic.Field(None, alias="autoResolutionTimeout")
    alert_grouping_window: str | None = pydantic.Field(None, alias="alertGroupingWindow")
    teams: list[int] | None = None


class _AdminAlert(_AdminModel):
    summary: str = "something is wrong"
    alert_key: str | None = pydantic.Field(None, alias="alertKey")
    details: str | None = None
    priority: Literal["HIGH", "LOW"] | None = None


class _AdminResolve(_AdminModel):
    alert_key: str | None = pydantic.Field(None, alias="alertKey")


class _AdminPolicy(_AdminModel):
    name: str
    routing_key: str | None = pydantic.Field(None, alias="routingKey")
    user_ids: list[int] | None = pydantic.Field(None, alias="userIds")


class _AdminTeam(_AdminModel):
    name: str


class _AdminUser(_AdminModel):
    first_name: str = pydantic.Field(alias="firstName")
    last_name: str = pydantic.Field(alias="lastName")
    username: str | None = None


_ROLES: dict[str, Role] = {
    "": "admin",
    "admin": "admin",
    "user": "user",
    "responder": "responder",
    "stakeholder": "stakeholder",
}
_key_role = server.credential_choice(_ROLES, "role", "admin, user, responder or stakeholder")


def build_parser() -> argparse.ArgumentParser:
    parser = server.simulator_parser("ilert", "Serve an iLert REST API simulator.")
    parser.add_argument(
        "--key",
        dest="keys",
        action="append",
        type=_key_role,
        metavar="KEY[:ROLE]",
        help=f"accepted API key, role admin (default), user, responder or stakeholder; "
        f"repeatable (default: {DEFAULT_KEY})",
    )
    parser.add_argument(
        "--escalation-policy",
        dest="policies",
        action="append",
        metavar="NAME",
        help='escalation policies to create, ids from 1 (default: one named "Default")',
    )
    parser.add_argument("--team", dest="teams", action="append", default=[], metavar="NAME")
    parser.add_argument("--base-url", help="URL in integrationUrl (default: the request's URL)")
    parser.add_argument("--rate-limit", type=int, default=120, help="requests per window; 0: none")
    parser.add_argument("--rate-window", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--seed", type=int, help="makes integration keys repeatable")
    return parser


def simulator_from_args(args: argparse.Namespace) -> ILertSimulator:
    return ILertSimulator(
        keys=dict(args.keys) if args.keys else None,
        base_url=args.base_url,
        rate=Rate(args.rate_limit, args.rate_window) if args.rate_limit > 0 else None,
        seed=args.seed,
        escalation_policies=args.policies or ("Default",),
        teams=args.teams,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the simulator until interrupted; prints its URL on stdout."""
    args = build_parser().parse_args(argv)
    server.run(simulator_from_args(args), args.host, args.port, name="iLert")


# The sandbox's row (alertsim/simulators.py collects it): deploy/samples/ilert.yaml.
SERVED: Served = served(
    "ilert",
    "ilert",
    18091,
    "payments-ilert",
    main,
    lambda: ILertSimulator(keys={"sandbox-ilert-token": "admin"}),
    lambda sim: sim.alert_sources(),
)
