"""Confluent Cloud notifications/v1 simulator: integrations, their ``:test``, the rate window.

Faithful to Confluent's notifications/v1 reference (``docs/platforms/confluent.md``: the
Integration model, the ``Failure`` error model, the rate-limit headers). Where the facts
are inferred, the simulator's choice is marked [inferred] and kept in one place so it is
easy to change.

* HTTP Basic with a Cloud API key (``key id:secret``); a bad key is 401 with
  ``WWW-Authenticate``; a key whose role is not ``OrganizationAdmin`` may only read (403).
* Every answer carries ``X-Request-Id``; successes and 429s carry ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (seconds from now, never an epoch),
  counted per API key in fixed windows; a 429 adds ``Retry-After``.
* Lists page with opaque ``page_token`` values; ``metadata.next`` is absent on the last page.
* Every organisation starts with a read-only RoleEmail integration; email kinds cannot be
  created, changed or deleted through the API.
* ``POST /notifications/v1/integrations:test`` really POSTs a test notification to the
  target URL, through an injectable httpx transport.

Tests and the demo change state "behind the operator's back" with plain methods
(:meth:`ConfluentSimulator.rename`, :meth:`~ConfluentSimulator.set_target`, ...) or over
HTTP below ``/_sim/`` (see :meth:`ConfluentSimulator.admin`).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import json
import math
import random
import string
import time
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pydantic

from alertsim import server
from alertsim.adminroutes import AdminCollection
from alertsim.core import ADMIN_PREFIX, Clock, Simulator, admin_body, json_response
from alertsim.serving import Served, served

__all__ = [
    "DEFAULT_KEY",
    "DEFAULT_SECRET",
    "SERVED",
    "ApiKey",
    "ConfluentSimulator",
    "Delivery",
    "Rate",
    "build_parser",
    "main",
    "simulator_from_args",
]

DEFAULT_KEY = "sandbox-confluent-key"
DEFAULT_SECRET = "sandbox-confluent-secret"
ADMIN_ROLE = "OrganizationAdmin"

API = "/notifications/v1"
INTEGRATIONS = f"{API}/integrations"
ONE = f"{INTEGRATIONS}/{{id}}"
TEST = f"{INTEGRATIONS}:test"
PUBLIC_BASE = "https://api.confluent.cloud"

WRITABLE_KINDS = ("Webhook", "Slack", "MsTeams")
READ_ONLY_KINDS = ("RoleEmail", "UserEmail", "InApp")
# The Terraform provider sends "SlackTarget"-style kinds and the SDK decodes
# "notifications.v1.SlackTarget": accepted on input, always answered as the spec spells it.
_KIND_ALIASES: Mapping[str, str] = {
    **{kind: kind for kind in (*WRITABLE_KINDS, *READ_ONLY_KINDS)},
    **{f"{kind}Target": kind for kind in (*WRITABLE_KINDS, *READ_ONLY_KINDS)},
    **{f"notifications.v1.{kind}Target": kind for kind in (*WRITABLE_KINDS, *READ_ONLY_KINDS)},
}
_URL_FIELD = {"Webhook": "url", "Slack": "webhook_url", "MsTeams": "webhook_url"}

DISPLAY_NAME_MAX = 64
DESCRIPTION_MAX = 128
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 100, 250
# [inferred] The integrations_per_org quota value is not published.
DEFAULT_QUOTA = 1000

_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_ID_ALPHABET = string.ascii_lowercase + string.digits
_CHALLENGE = 'Basic error="invalid_key", error_description="The API Key is invalid"'
_DELIVERY = "alertsim.confluent.delivery"


@dataclass(frozen=True)
class ApiKey:
    """A Cloud API key's secret and its owner's role (only OrganizationAdmin may write)."""

    secret: str
    role: str = ADMIN_ROLE

    @property
    def read_only(self) -> bool:
        return self.role != ADMIN_ROLE


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per API key in fixed windows of ``window`` seconds.

    The numbers Confluent applies are not published; 60 a minute is the platform notes'
    suggestion.
    """

    limit: int = 60
    window: float = 60.0


@dataclass(frozen=True)
class Delivery:
    """One test notification the simulator sent (or failed to send)."""

    at: float
    url: str
    kind: str
    payload: dict[str, Any]
    status: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def wire(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "url": self.url,
            "kind": self.kind,
            "payload": self.payload,
            "status": self.status,
            "error": self.error,
            "delivered": self.delivered,
        }


@dataclass
class _Integration:
    id: str
    seq: int
    display_name: str
    description: str | None
    target: dict[str, Any]
    created_at: float
    updated_at: float

    @property
    def kind(self) -> str:
        return str(self.target.get("kind"))

    @property
    def read_only(self) -> bool:
        return self.kind not in WRITABLE_KINDS


@dataclass
class _Window:
    started: float
    used: int = 0


class _FixedWindows:
    """Per-key fixed windows: a window opens with the first request after the last one ended."""

    def __init__(self, rate: Rate, clock: Clock) -> None:
        self.rate = rate
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def _current(self, key: str) -> _Window:
        now = self._clock()
        window = self._windows.get(key)
        if window is None or now >= window.started + self.rate.window:
            window = self._windows[key] = _Window(started=now)
        return window

    def hit(self, key: str) -> bool:
        """Count a request; False when the window is spent (the request is refused)."""
        window = self._current(key)
        if window.used >= self.rate.limit:
            return False
        window.used += 1
        return True

    def headers(self, key: str) -> dict[str, str]:
        window = self._current(key)
        reset = max(1, math.ceil(window.started + self.rate.window - self._clock()))
        return {
            "X-RateLimit-Limit": str(self.rate.limit),
            "X-RateLimit-Remaining": str(max(0, self.rate.limit - window.used)),
            "X-RateLimit-Reset": str(reset),
        }


class _ApiError(Exception):
    """A Failure answer: one or more errors of one status."""

    def __init__(
        self, status: int, errors: list[dict[str, Any]], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors
        self.headers = headers or {}


def _error(
    status: int,
    code: str | None,
    title: str,
    detail: str | None = None,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"status": str(status), "title": title}
    if code is not None:
        error["code"] = code
    if detail is not None:
        error["detail"] = detail
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    elif parameter is not None:
        error["source"] = {"parameter": parameter}
    return error


def _invalid(pointer: str, detail: str) -> dict[str, Any]:
    return _error(422, "invalid_configuration", "Validation Failed", detail, pointer=pointer)


def _invalid_filter(parameter: str, detail: str) -> _ApiError:
    return _ApiError(
        400, [_error(400, "invalid_filter", "Invalid Filter", detail, parameter=parameter)]
    )


def _bad_request(detail: str, *, pointer: str | None = None) -> _ApiError:
    # [inferred] The status for writes to read-only kinds is not documented.
    return _ApiError(
        400, [_error(400, "invalid_request", "Invalid Request", detail, pointer=pointer)]
    )


def _not_found(detail: str | None = None) -> _ApiError:
    return _ApiError(404, [_error(404, None, "Not Found", detail)])


def _rfc3339(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _is_uri(value: Any) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, colon, secret = decoded.partition(":")
    return (key, secret) if colon else None


def _origin(request: httpx.Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"


class ConfluentSimulator(Simulator):
    """One Confluent Cloud organisation behind notifications/v1.

    ``keys`` maps API key ids to :class:`ApiKey`; ``rate`` is the per-key window
    (``None``: unlimited, and no rate-limit headers); ``quota`` is
    ``integrations_per_org``; ``unique_names`` makes a duplicate ``display_name`` a 409
    (undocumented, so off by default). ``base_url`` is used in ``Location``, ``self`` and
    paging links (default: the URL the request came in on). ``delivery_transport`` carries
    the test notifications of ``:test`` (default: the real network).
    """

    def __init__(
        self,
        *,
        keys: Mapping[str, ApiKey] | None = None,
        rate: Rate | None = Rate(),
        quota: int = DEFAULT_QUOTA,
        unique_names: bool = False,
        base_url: str | None = None,
        organization: str = "9bb441c4-edef-46ac-8a41-c49e44a3fd9a",
        default_email: bool = True,
        delivery_transport: httpx.AsyncBaseTransport | None = None,
        delivery_timeout: float = 5.0,
        clock: Clock = time.time,
        seed: int | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self._keys: dict[str, ApiKey] = dict(keys or {DEFAULT_KEY: ApiKey(DEFAULT_SECRET)})
        self._windows = _FixedWindows(rate, clock) if rate else None
        self.quota = quota
        self.unique_names = unique_names
        self.base_url = base_url.rstrip("/") if base_url else None
        self.organization = organization
        self.delivery_transport = delivery_transport
        self.delivery_timeout = delivery_timeout
        self._random = random.Random(seed)
        self._integrations: dict[str, _Integration] = {}
        admin = AdminCollection("integrations", _AdminIntegration, _AdminPatch)
        self.admin_collection = admin.routes(
            self.integrations, self.get, self.add_integration, self._patch_target, self.remove
        )
        self._page_tokens: dict[str, tuple[int, int]] = {}
        self._seq = 0
        self._seen_base = "http://localhost"
        #: 429s answered because a key's window was spent (injected faults not counted).
        self.rate_limited = 0
        #: Every test notification sent by ``:test``, oldest first.
        self.deliveries: list[Delivery] = []
        #: What ``POST /_sim/sink/...`` received: (path below the sink, JSON body).
        self.sink: list[tuple[str, Any]] = []
        if default_email:
            self.add_integration(
                "Organization admins",
                kind="RoleEmail",
                role_name=ADMIN_ROLE,
                description="Default email integration",
            )

    # -- the HTTP API ------------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle(request)
        path = request.url.path
        if path == ADMIN_PREFIX or path.startswith(f"{ADMIN_PREFIX}/"):
            return response
        delivery = response.extensions.get(_DELIVERY)
        if isinstance(delivery, Delivery):
            response = await self._deliver(delivery, response)
        response.headers["X-Request-Id"] = self._uuid()
        return response

    def respond(self, request: httpx.Request) -> httpx.Response:
        self._seen_base = _origin(request)
        route = self.route_of(request)
        try:
            key = self._authenticate(request)
            rate_headers: dict[str, str] = {}
            if self._windows is not None:
                if not self._windows.hit(key):
                    self.rate_limited += 1
                    return self._too_many(self._windows.headers(key))
                rate_headers = self._windows.headers(key)
            if request.method in _WRITE_METHODS and self._keys[key].read_only:
                raise _ApiError(
                    403,
                    [
                        _error(
                            403,
                            "user_unauthorized",
                            "User Access Unauthorized",
                            f"The API key '{key}' is not allowed to change notification "
                            f"settings without the '{ADMIN_ROLE}' role.",
                        )
                    ],
                )
            response = self._dispatch(request, route)
        except _ApiError as exc:
            return self._failure(exc)
        response.headers.update(rate_headers)
        return response

    def route_of(self, request: httpx.Request) -> str:
        path = request.url.path.rstrip("/") or "/"
        if path in (INTEGRATIONS, TEST):
            return path
        if path.startswith(f"{INTEGRATIONS}/") and "/" not in path[len(INTEGRATIONS) + 1 :]:
            return ONE
        return path

    def throttled_response(self, request: httpx.Request, retry_after: float) -> httpx.Response:
        wait = max(0, math.ceil(retry_after))
        headers = {
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(wait),
        }
        if self._windows is not None:
            headers["X-RateLimit-Limit"] = str(self._windows.rate.limit)
        return self._too_many(headers)

    def fault_response(self, request: httpx.Request, status: int) -> httpx.Response:
        if status == 500:
            error = _error(
                500,
                "internal_server_error",
                "Internal Server Error",
                "Oops, something went wrong!",
            )
            return self._failure(_ApiError(500, [error]))
        return super().fault_response(request, status)

    def _too_many(self, headers: dict[str, str]) -> httpx.Response:
        # Confluent documents no body for a 429; a Failure is what every other error sends.
        error = _error(429, "too_many_requests", "Rate Limit Exceeded", "Too many requests.")
        return self._failure(
            _ApiError(429, [error], {**headers, "Retry-After": headers["X-RateLimit-Reset"]})
        )

    def _failure(self, exc: _ApiError) -> httpx.Response:
        errors = [{"id": self._uuid(), **error} for error in exc.errors]
        return json_response(exc.status, {"errors": errors}, exc.headers)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def _authenticate(self, request: httpx.Request) -> str:
        credentials = _basic_credentials(request.headers.get("authorization"))
        if credentials is not None:
            key, secret = credentials
            known = self._keys.get(key)
            if known is not None and known.secret == secret:
                return key
        error = _error(
            401,
            "user_unauthenticated",
            "Authentication Required",
            "Valid authentication credentials must be provided",
        )
        raise _ApiError(401, [error], {"WWW-Authenticate": _CHALLENGE})

    def _dispatch(self, request: httpx.Request, route: str) -> httpx.Response:
        method = request.method
        if route == INTEGRATIONS and method == "GET":
            return self._list(request)
        if route == INTEGRATIONS and method == "POST":
            return self._create(request)
        if route == TEST and method == "POST":
            return self._test(request)
        if route == ONE:
            pk = urllib.parse.unquote(request.url.path.rstrip("/").rsplit("/", 1)[-1])
            if method == "GET":
                return json_response(200, self._wire(self._find(pk)))
            if method == "PATCH":
                return self._update(request, pk)
            if method == "DELETE":
                return self._delete(pk)
        if route in (INTEGRATIONS, TEST, ONE):
            raise _ApiError(
                405, [_error(405, "method_not_allowed", "Method Not Allowed", f"{method}")]
            )
        raise _not_found(f"No route for {method} {request.url.path}")

    def _base(self) -> str:
        return self.base_url or self._seen_base

    def _list(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        token = params.get("page_token")
        if token is not None:
            cursor = self._page_tokens.get(token)
            if cursor is None:
                raise _invalid_filter("page_token", "The page token is invalid or has expired")
            after, size = cursor
        else:
            after, size = -1, self._page_size(params.get("page_size"))
        items = self._ordered()
        rest = [item for item in items if item.seq > after]
        page = rest[:size]
        link = f"{self._base()}{INTEGRATIONS}"
        metadata: dict[str, Any] = {"first": link, "total_size": len(items)}
        if len(rest) > size:
            next_token = "".join(self._random.choices(_TOKEN_ALPHABET, k=20))
            self._page_tokens[next_token] = (page[-1].seq, size)
            metadata["next"] = f"{link}?page_token={next_token}"
        body = {
            "api_version": "notifications/v1",
            "kind": "IntegrationList",
            "metadata": metadata,
            "data": [self._wire(item) for item in page],
        }
        return json_response(200, body)

    @staticmethod
    def _page_size(raw: str | None) -> int:
        if raw is None:
            return PAGE_SIZE_DEFAULT
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= PAGE_SIZE_MAX:
            # [inferred] The spec caps page_size at 250 without saying how it refuses more.
            raise _invalid_filter("page_size", f"page_size must be between 1 and {PAGE_SIZE_MAX}")
        return size

    def _create(self, request: httpx.Request) -> httpx.Response:
        data = _json_object(request)
        display_name, description, target = self._validated(data, creating=True)
        assert display_name is not None
        assert target is not None
        if len(self._integrations) >= self.quota:
            raise _ApiError(
                402,
                [
                    _error(
                        402,
                        "quota_exceeded",
                        "Quota Exceeded",
                        f"The organization has reached its integrations_per_org quota of "
                        f"{self.quota}",
                    )
                ],
            )
        self._check_unique(display_name, this=None)
        item = self._new(display_name, description, target)
        location = f"{self._base()}{INTEGRATIONS}/{item.id}"
        return json_response(201, self._wire(item), {"Location": location})

    def _update(self, request: httpx.Request, pk: str) -> httpx.Response:
        item = self._find(pk)
        if item.read_only:
            raise _bad_request(f"{item.kind} integrations cannot be updated")
        data = _json_object(request)
        display_name, description, target = self._validated(data, creating=False)
        if display_name is not None:
            self._check_unique(display_name, this=item)
            item.display_name = display_name
        if "description" in data:
            item.description = description
        if target is not None:
            item.target = target
        item.updated_at = self.clock()
        return json_response(200, self._wire(item))

    def _delete(self, pk: str) -> httpx.Response:
        item = self._find(pk)
        if item.read_only:
            raise _bad_request(f"{item.kind} integrations cannot be deleted")
        del self._integrations[pk]
        return httpx.Response(204)

    def _test(self, request: httpx.Request) -> httpx.Response:
        data = _json_object(request)
        display_name, _, target = self._validated(data, creating=True)
        assert display_name is not None
        assert target is not None
        kind = target["kind"]
        url = target[_URL_FIELD[kind]]
        delivery = Delivery(
            at=self.clock(), url=url, kind=kind, payload=_test_payload(kind, display_name)
        )
        # Sent by handle() once the lock is released: a delivery is real network I/O.
        return httpx.Response(204, extensions={_DELIVERY: delivery})

    async def _deliver(self, delivery: Delivery, answer: httpx.Response) -> httpx.Response:
        pointer = f"/target/{_URL_FIELD[delivery.kind]}"
        try:
            async with httpx.AsyncClient(
                transport=self.delivery_transport, timeout=self.delivery_timeout
            ) as client:
                response = await client.post(delivery.url, json=delivery.payload)
            sent = dataclasses.replace(delivery, status=response.status_code)
        except httpx.HTTPError as exc:
            sent = dataclasses.replace(delivery, error=type(exc).__name__)
        with self.lock:
            self.deliveries.append(sent)
        if sent.delivered:
            return answer
        # [inferred] How Confluent reports a failed test delivery is not documented.
        reason = f"the target answered {sent.status}" if sent.status else sent.error
        error = _error(
            400,
            "test_notification_failed",
            "Test Notification Failed",
            f"Could not deliver the test notification: {reason}",
            pointer=pointer,
        )
        return self._failure(_ApiError(400, [error]))

    def _validated(
        self, data: Mapping[str, Any], *, creating: bool
    ) -> tuple[str | None, str | None, dict[str, Any] | None]:
        """The writable fields of a body; one 422 error per bad field. Read-only ones ignored."""
        errors: list[dict[str, Any]] = []
        display_name = data.get("display_name")
        if "display_name" in data or creating:
            if display_name is None and creating:
                errors.append(_invalid("/display_name", "display_name is required"))
            elif not isinstance(display_name, str) or not display_name.strip():
                errors.append(_invalid("/display_name", "display_name must be a non-empty string"))
            elif len(display_name) > DISPLAY_NAME_MAX:
                errors.append(
                    _invalid(
                        "/display_name",
                        f"display_name must be at most {DISPLAY_NAME_MAX} characters",
                    )
                )
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            errors.append(_invalid("/description", "description must be a string"))
        elif description is not None and len(description) > DESCRIPTION_MAX:
            errors.append(
                _invalid(
                    "/description", f"description must be at most {DESCRIPTION_MAX} characters"
                )
            )
        target: dict[str, Any] | None = None
        if "target" in data or creating:
            target = self._target(data.get("target"), errors)
        if errors:
            raise _ApiError(422, errors)
        return (
            display_name if isinstance(display_name, str) else None,
            description if isinstance(description, str) else None,
            target,
        )

    @staticmethod
    def _target(raw: Any, errors: list[dict[str, Any]]) -> dict[str, Any] | None:
        if raw is None:
            errors.append(_invalid("/target", "target is required"))
            return None
        if not isinstance(raw, dict):
            errors.append(_invalid("/target", "target must be an object"))
            return None
        kind = _KIND_ALIASES.get(str(raw.get("kind")))
        if kind is None:
            known = ", ".join(WRITABLE_KINDS)
            errors.append(_invalid("/target/kind", f"target kind must be one of {known}"))
            return None
        if kind in READ_ONLY_KINDS:
            raise _bad_request(
                f"{kind} integrations cannot be created, updated or deleted",
                pointer="/target/kind",
            )
        name = _URL_FIELD[kind]
        url = raw.get(name)
        if url is None:
            errors.append(_invalid(f"/target/{name}", f"{name} is required for a {kind} target"))
            return None
        if not _is_uri(url):
            errors.append(_invalid(f"/target/{name}", f"{name} must be an absolute http(s) URI"))
            return None
        return {"kind": kind, name: url}

    def _check_unique(self, display_name: str, this: _Integration | None) -> None:
        if not self.unique_names:
            return
        for item in self._integrations.values():
            if item is not this and item.display_name == display_name:
                location = f"{self._base()}{INTEGRATIONS}/{item.id}"
                raise _ApiError(
                    409,
                    [
                        _error(
                            409,
                            "resource_already_exists",
                            "Resource Already exists",
                            f"An integration named '{display_name}' already exists",
                            pointer="/display_name",
                        )
                    ],
                    {"Location": location},
                )

    # -- state -------------------------------------------------------------------------------

    def _ordered(self) -> list[_Integration]:
        return sorted(self._integrations.values(), key=lambda item: item.seq)

    def _find(self, pk: str) -> _Integration:
        item = self._integrations.get(pk)
        if item is None:
            raise _not_found(f"Integration '{pk}' was not found")
        return item

    def _new(
        self, display_name: str, description: str | None, target: dict[str, Any]
    ) -> _Integration:
        while True:
            # Opaque and never reused: random, and a deleted id stays taken by chance alone.
            pk = "i-" + "".join(self._random.choices(_ID_ALPHABET, k=8))
            if pk not in self._integrations:
                break
        now = self.clock()
        self._seq += 1
        item = _Integration(pk, self._seq, display_name, description, dict(target), now, now)
        self._integrations[pk] = item
        return item

    def _wire(self, item: _Integration) -> dict[str, Any]:
        body: dict[str, Any] = {
            "api_version": "notifications/v1",
            "kind": "Integration",
            "id": item.id,
            "metadata": {
                "self": f"{self._base()}{INTEGRATIONS}/{item.id}",
                "resource_name": (
                    f"crn://confluent.cloud/organization={self.organization}/integration={item.id}"
                ),
                "created_at": _rfc3339(item.created_at),
                "updated_at": _rfc3339(item.updated_at),
            },
            "display_name": item.display_name,
            "target": dict(item.target),
        }
        if item.description is not None:
            body["description"] = item.description
        return body

    # -- behind the operator's back ----------------------------------------------------------

    def integrations(self) -> list[dict[str, Any]]:
        """Every integration, oldest first, as the API shows them (email kinds included)."""
        with self.lock:
            return [self._wire(item) for item in self._ordered()]

    def get(self, integration_id: str) -> dict[str, Any] | None:
        with self.lock:
            item = self._integrations.get(integration_id)
            return self._wire(item) if item is not None else None

    def add_integration(
        self,
        display_name: str,
        *,
        kind: str = "Webhook",
        url: str = "https://receiver.example.com/confluent",
        description: str | None = None,
        role_name: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Someone else (or Confluent itself) adds an integration: no validation, no quota."""
        if kind in _URL_FIELD:
            target: dict[str, Any] = {"kind": kind, _URL_FIELD[kind]: url}
        elif kind == "RoleEmail":
            target = {"kind": kind, "role_name": role_name or ADMIN_ROLE}
        elif kind in ("UserEmail", "InApp"):
            user = user_id or "u-" + "".join(self._random.choices(_ID_ALPHABET, k=6))
            target = {
                "kind": kind,
                "user": {
                    "id": user,
                    "related": f"{PUBLIC_BASE}/iam/v2/users/{user}",
                    "resource_name": f"crn://confluent.cloud/organization={self.organization}"
                    f"/user={user}",
                },
            }
        else:
            raise ValueError(f"unknown target kind {kind!r}")
        with self.lock:
            return self._wire(self._new(display_name, description, target))

    def rename(self, integration_id: str, display_name: str) -> None:
        self.patch(integration_id, display_name=display_name)

    def set_description(self, integration_id: str, description: str | None) -> None:
        self.patch(integration_id, description=description)

    def set_target(self, integration_id: str, kind: str, url: str) -> None:
        """Point the integration somewhere else (any writable kind), as a person would."""
        if kind not in _URL_FIELD:
            raise ValueError(f"not a writable target kind: {kind!r}")
        with self.lock:
            item = self._stored(integration_id)
            item.target = {"kind": kind, _URL_FIELD[kind]: url}
            item.updated_at = self.clock()

    def set_url(self, integration_id: str, url: str) -> None:
        with self.lock:
            item = self._stored(integration_id)
            if item.kind not in _URL_FIELD:
                raise ValueError(f"{item.kind} integrations have no URL")
            self.set_target(integration_id, item.kind, url)

    def patch(self, integration_id: str, **fields: Any) -> None:
        """Overwrite ``display_name``, ``description`` or ``target`` directly, unvalidated."""
        unknown = set(fields) - {"display_name", "description", "target"}
        if unknown:
            raise ValueError(f"cannot patch {sorted(unknown)}")
        with self.lock:
            item = self._stored(integration_id)
            for name, value in fields.items():
                setattr(item, name, value)
            item.updated_at = self.clock()

    def remove(self, integration_id: str) -> None:
        """Delete as someone else would (email kinds too: the UI can remove a user)."""
        with self.lock:
            self._stored(integration_id)
            del self._integrations[integration_id]

    def add_key(self, key_id: str, secret: str, role: str = ADMIN_ROLE) -> None:
        with self.lock:
            self._keys[key_id] = ApiKey(secret, role)

    def revoke_key(self, key_id: str) -> None:
        with self.lock:
            self._keys.pop(key_id, None)

    def set_rate(self, rate: Rate | None) -> None:
        """A new window size (``None``: unlimited); every key starts a fresh window."""
        with self.lock:
            self._windows = _FixedWindows(rate, self.clock) if rate else None

    @property
    def rate(self) -> Rate | None:
        return self._windows.rate if self._windows else None

    def set_quota(self, quota: int) -> None:
        with self.lock:
            self.quota = quota

    def _stored(self, integration_id: str) -> _Integration:
        item = self._integrations.get(integration_id)
        if item is None:
            raise KeyError(integration_id)
        return item

    # -- the same over HTTP, for the demo --------------------------------------------------

    def admin(self, request: httpx.Request, path: str) -> httpx.Response | None:
        """Admin routes below ``/_sim`` (besides the shared ``/requests`` and ``/faults``):

        ``GET|POST /integrations``, ``GET|PATCH|DELETE /integrations/{id}``,
        ``GET /deliveries``, ``GET|PUT /rate``, ``PUT /quota``, ``POST /keys``, and a webhook
        receiver for demos: ``POST /sink/{anything}`` records a notification, ``GET /sink``
        lists them (so a target URL can point back at the simulator itself).
        """
        self._seen_base = _origin(request)
        method = request.method
        match path.strip("/").split("/"):
            case ["sink", *rest] if method == "POST" and rest:
                self.sink.append(("/".join(rest), _loose_json(request.content)))
                return json_response(200, {"received": True})
            case ["sink"] if method == "GET":
                return json_response(200, [{"path": p, "body": b} for p, b in self.sink])
            case ["deliveries"] if method == "GET":
                with self.lock:
                    return json_response(200, [d.wire() for d in self.deliveries])
            case ["rate"] if method == "GET":
                rate = self.rate
                body = {"limit": rate.limit, "window": rate.window} if rate else None
                return json_response(200, {"rate": body, "rate_limited": self.rate_limited})
            case ["rate"] if method == "PUT":
                given = _AdminRate.model_validate(admin_body(request))
                self.set_rate(Rate(given.limit, given.window) if given.limit else None)
                return json_response(200, given.model_dump())
            case ["quota"] if method == "PUT":
                quota = _AdminQuota.model_validate(admin_body(request))
                self.set_quota(quota.quota)
                return json_response(200, quota.model_dump())
            case ["keys"] if method == "POST":
                key = _AdminKey.model_validate(admin_body(request))
                self.add_key(key.id, key.secret, key.role)
                return json_response(201, {"id": key.id, "role": key.role})
        return None

    def _patch_target(
        self, integration_id: str, *, kind: str | None = None, url: str | None = None, **fields: Any
    ) -> None:
        """``patch``, where ``kind`` and ``url`` change the target (keeping what is not given)."""
        if kind is not None or url is not None:
            current = self.get(integration_id)
            if current is None:
                raise KeyError(integration_id)
            target = current["target"]
            old_url = target.get("url") or target.get("webhook_url") or ""
            self.set_target(integration_id, kind or target["kind"], url or old_url)
        if fields:
            self.patch(integration_id, **fields)


def _json_object(request: httpx.Request) -> dict[str, Any]:
    try:
        data = json.loads(request.content.decode("utf-8")) if request.content else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise _ApiError(
            400,
            [
                _error(
                    400,
                    "malformed_request",
                    "Malformed Request",
                    "The request body must be a JSON object",
                )
            ],
        )
    return data


def _loose_json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        return content.decode("utf-8", "replace")


def _test_payload(kind: str, display_name: str) -> dict[str, Any]:
    # [inferred] The test notification's shape is not documented; Slack and Teams
    # incoming webhooks need at least "text".
    text = f"Test notification from Confluent Cloud for the integration '{display_name}'"
    if kind == "Webhook":
        return {
            "notification_type": "TEST_NOTIFICATION",
            "integration": display_name,
            "message": text,
        }
    return {"text": text}


class _AdminModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class _AdminIntegration(_AdminModel):
    display_name: str
    kind: str = "Webhook"
    url: str = "https://receiver.example.com/confluent"
    description: str | None = None
    role_name: str | None = None
    user_id: str | None = None


class _AdminPatch(_AdminModel):
    display_name: str | None = None
    description: str | None = None
    kind: str | None = None
    url: str | None = None


class _AdminRate(_AdminModel):
    #: 0 or null: unlimited.
    limit: int | None = pydantic.Field(default=60, ge=0)
    window: float = pydantic.Field(default=60.0, gt=0)


class _AdminQuota(_AdminModel):
    quota: int = pydantic.Field(ge=0)


class _AdminKey(_AdminModel):
    id: str
    secret: str
    role: str = ADMIN_ROLE


def _key(value: str) -> tuple[str, ApiKey]:
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise argparse.ArgumentTypeError("expected KEY:SECRET or KEY:SECRET:ROLE")
    key_id, secret, *role = parts
    return key_id, ApiKey(secret, role[0] if role else ADMIN_ROLE)


def build_parser() -> argparse.ArgumentParser:
    parser = server.simulator_parser(
        "confluent", "Serve a Confluent Cloud notifications/v1 API simulator."
    )
    parser.add_argument(
        "--key",
        dest="keys",
        action="append",
        type=_key,
        metavar="KEY:SECRET[:ROLE]",
        help=f"accepted Cloud API key; a role other than {ADMIN_ROLE} may only read; "
        f"repeatable (default: {DEFAULT_KEY}:{DEFAULT_SECRET})",
    )
    parser.add_argument("--rate-limit", type=int, default=60, help="requests per window; 0: none")
    parser.add_argument("--rate-window", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--quota", type=int, default=DEFAULT_QUOTA, help="integrations_per_org")
    parser.add_argument(
        "--unique-names", action="store_true", help="refuse a duplicate display_name with 409"
    )
    parser.add_argument("--base-url", help="API URL in links (default: the request's URL)")
    parser.add_argument("--seed", type=int, help="makes ids repeatable")
    return parser


def simulator_from_args(args: argparse.Namespace) -> ConfluentSimulator:
    return ConfluentSimulator(
        keys=dict(args.keys) if args.keys else None,
        rate=Rate(args.rate_limit, args.rate_window) if args.rate_limit > 0 else None,
        quota=args.quota,
        unique_names=args.unique_names,
        base_url=args.base_url,
        seed=args.seed,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the simulator until interrupted; prints its URL on stdout."""
    args = build_parser().parse_args(argv)
    server.run(simulator_from_args(args), args.host, args.port, name="Confluent Cloud")


def _created(sim: ConfluentSimulator) -> Sequence[object]:
    # Email and in-app integrations are Confluent's own.
    return [i for i in sim.integrations() if i["target"]["kind"] not in ("RoleEmail", "UserEmail")]


# The sandbox's row (alertsim/simulators.py collects it): deploy/samples/confluent.yaml.
SERVED: Served = served(
    "confluent",
    "confluent",
    18092,
    "kafka-notifications",
    main,
    lambda: ConfluentSimulator(keys={"sandbox-confluent-key": ApiKey("sandbox-confluent-secret")}),
    _created,
)
