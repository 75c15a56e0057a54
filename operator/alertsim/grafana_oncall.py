"""Grafana OnCall public API v1 simulator: integrations, their maintenance, escalation chains.

Faithful to the OnCall public API reference and the engine's source (summed up in
``docs/platforms/grafana-oncall.md``) and, where they differ, to what a running open-source
engine answered to the same requests: the running engine wins. Validation follows the order
of the engine's Django REST framework serializers, because that order decides which error a
client sees: field errors are collected into one 400 body, while a ``{"detail": ...}`` error
(invalid type, template, duplicate name) stops at once.

Tests and the demo change state "behind the operator's back" with plain methods
(:meth:`GrafanaOnCallSimulator.rename`, :meth:`~GrafanaOnCallSimulator.set_template`, ...) or
over HTTP below ``/_sim/`` (see :meth:`GrafanaOnCallSimulator.admin`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import random
import re
import string
import time
import urllib.parse
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx
import pydantic

from alertsim import server
from alertsim.adminroutes import AdminCollection
from alertsim.core import Clock, RateLimiter, Simulator, admin_body, json_response
from alertsim.serving import Served, served

__all__ = [
    "DEFAULT_TOKEN",
    "INTEGRATION_TYPES",
    "SERVED",
    "GrafanaOnCallSimulator",
    "Rate",
    "Role",
    "is_valid_jinja",
    "main",
]

Role = Literal["admin", "editor", "viewer"]
DEFAULT_TOKEN = "oncall-sim-token"

#: Every type the engine knows, with the title used in default names. ``legacy_*`` and
#: ``direct_paging`` exist but cannot be created through the API.
INTEGRATION_TYPES: Mapping[str, str] = {
    "grafana_alerting": "Grafana Alerting",
    "webhook": "Webhook",
    "alertmanager": "Alertmanager",
    "formatted_webhook": "Formatted webhook",
    "kapacitor": "Kapacitor",
    "elastalert": "Elastalert",
    "inbound_email": "Inbound Email",
    "maintenance": "Maintenance",
    "manual": "Manual",
    "zabbix": "Zabbix",
    "grafana": "Grafana",
    "direct_paging": "Direct paging",
    "legacy_alertmanager": "(Legacy) AlertManager",
    "legacy_grafana_alerting": "(Legacy) Grafana Alerting",
}
_NO_LINK_TYPES = frozenset({"manual", "inbound_email", "maintenance"})
# Observed on a running engine: these get a heartbeat (and its link) as soon as they exist.
_HEARTBEAT_TYPES = frozenset({"alertmanager", "webhook", "formatted_webhook"})
# The engine's default manager hides maintenance integrations from list, get and name checks.
_HIDDEN_TYPES = frozenset({"maintenance"})

_PUBLIC_ID_ALPHABET = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_SMILES = (
    ":blush:",
    ":ghost:",
    ":apple:",
    ":heart:",
    ":sunglasses:",
    ":package:",
    ":balloon:",
    ":bell:",
    ":beer:",
    ":fire:",
)

# Templates, in the order the engine renders them. Chat blocks stored in their own columns
# refuse unknown keys; messaging-backend blocks silently ignore them (as the engine does).
_BEHAVIOUR_TEMPLATES = ("grouping_key", "resolve_signal", "acknowledge_signal", "source_link")
_CHAT_TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "slack": ("title", "message", "image_url"),
    "web": ("title", "message", "image_url"),
    "sms": ("title",),
    "phone_call": ("title",),
    "telegram": ("title", "message", "image_url"),
}
_BACKEND_TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "mobile_app": ("title", "message"),
    "email": ("title", "message"),
    "webhook": ("title", "message", "image_url"),
}
_TEMPLATE_BLOCKS = {**_CHAT_TEMPLATES, **_BACKEND_TEMPLATES}
# The engine checks templates in this order, so it decides which error is reported.
_CHAT_CHECK_ORDER = ("slack", "web", "phone_call", "sms", "telegram")
_BEHAVIOUR_CHECK_ORDER = ("resolve_signal", "grouping_key", "acknowledge_signal", "source_link")
_TEMPLATE_PATHS = (
    *_BEHAVIOUR_TEMPLATES,
    *(f"{block}.{attr}" for block, attrs in _TEMPLATE_BLOCKS.items() for attr in attrs),
)
_ROUTE_BACKENDS = ("mobile_app", "mobile_app_critical", "email", "webhook")

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Django REST framework lists a view's methods in this order in the ``Allow`` header; HEAD
# comes with GET and OPTIONS with every view.
_ALLOW_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_MAINTENANCE_MODES = ("debug", "maintenance")
_INVALID_TOKEN = "Invalid token."
_PERMISSION_DENIED = "You do not have permission to perform this action."
_NOT_FOUND = "Not found."
_DUPLICATE_NAME = "An integration with this name already exists for this team"
_BAD_FILTER_CHOICE = "Select a valid choice. That choice is not one of the available choices."

# Django's production error pages (DEBUG off), which the engine sends for unknown paths,
# unsupported methods and the team_id list filter.
_NOT_FOUND_PAGE = (
    '<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n'
    "  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n"
    "</body>\n</html>\n"
)
_SERVER_ERROR_PAGE = (
    '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n'
    "</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
)


@dataclass(frozen=True)
class Rate:
    """A request budget: ``limit`` requests per ``window`` seconds per token."""

    limit: int = 300
    window: float = 60.0


@dataclass
class _Route:
    """An integration's default route."""

    id: str
    escalation_chain_id: str | None = None
    slack_channel_id: str | None = None
    slack_enabled: bool = True
    telegram_id: str | None = None
    telegram_enabled: bool = False
    #: Per messaging backend, as the engine stores it: ``{"channel": ..., "enabled": ...}``.
    backends: dict[str, dict[str, Any]] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "slack": {"channel_id": self.slack_channel_id, "enabled": self.slack_enabled},
            "telegram": {"id": self.telegram_id, "enabled": self.telegram_enabled},
            "escalation_chain_id": self.escalation_chain_id,
        }
        for slug in _ROUTE_BACKENDS:
            stored = self.backends.get(slug)
            body[slug] = {
                "id": stored.get("channel") if stored else None,
                "enabled": bool(stored.get("enabled")) if stored else False,
            }
        return body


@dataclass(frozen=True)
class _Maintenance:
    mode: str
    started_at: float
    duration: int

    @property
    def ends_at(self) -> float:
        return self.started_at + self.duration


@dataclass
class _Integration:
    id: str
    type: str
    name: str
    token: str
    route: _Route
    heartbeat: bool
    team_id: str | None = None
    description_short: str | None = None
    #: Flat: ``grouping_key``, ``slack.title``, ... (see ``_TEMPLATE_PATHS``).
    templates: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(_TEMPLATE_PATHS))
    maintenance: _Maintenance | None = None
    deleted: bool = False

    @property
    def visible(self) -> bool:
        return not self.deleted and self.type not in _HIDDEN_TYPES


@dataclass
class _Chain:
    id: str
    name: str
    team_id: str | None

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "team_id": self.team_id}


@dataclass
class _IntegrationInput:
    """A validated create or update body, not yet applied."""

    given: set[str] = field(default_factory=set)
    name: str | None = None
    description_short: str | None = None
    team_id: str | None = None
    type: str = ""
    default_route: dict[str, Any] | None = None
    templates: dict[str, Any] | None = None


class _ApiError(Exception):
    """An error answer that stops the request at once."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def _detail(message: str, status: int = 400) -> _ApiError:
    return _ApiError(status, {"detail": message})


class _Invalid(Exception):
    """One field's validation message; collected with the others into a single 400."""


@contextlib.contextmanager
def _collect(errors: dict[str, list[str]], name: str) -> Iterator[None]:
    try:
        yield
    except _Invalid as exc:
        errors[name] = [str(exc)]


def _char(value: Any, *, allow_null: bool = False, max_length: int | None = None) -> str | None:
    """A DRF ``CharField``: trimmed, numbers accepted, blank refused."""
    if value is None:
        if allow_null:
            return None
        raise _Invalid("This field may not be null.")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid("Not a valid string.")
    text = str(value).strip()
    if not text:
        raise _Invalid("This field may not be blank.")
    if max_length is not None and len(text) > max_length:
        raise _Invalid(f"Ensure this field has no more than {max_length} characters.")
    return text


def _dict(value: Any) -> dict[str, Any]:
    """A DRF ``DictField``."""
    if value is None:
        raise _Invalid("This field may not be null.")
    if not isinstance(value, dict):
        raise _Invalid(f'Expected a dictionary of items but got type "{type(value).__name__}".')
    return value


def _integration_type(data: Mapping[str, Any]) -> str:
    if "type" not in data:
        raise _Invalid("This field is required.")
    value = data["type"]
    if value is None:
        raise _Invalid("This field may not be null.")
    if isinstance(value, str) and not value.strip():
        raise _Invalid("This field may not be blank.")
    if not isinstance(value, str) or value not in INTEGRATION_TYPES:
        raise _detail("Invalid integration type")
    if value.startswith("legacy_"):
        raise _detail("This integration type is deprecated")
    if value == "direct_paging":
        raise _detail("Direct paging integrations can't be created")
    return value


def _related(value: Any) -> str | None:
    """A related object's public id as sent: empty and ``"null"`` mean none."""
    if value is None or value in ("", "null"):
        return None
    return str(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _validate_templates(templates: Mapping[str, Any]) -> None:
    for block in (*_CHAT_CHECK_ORDER, *_BACKEND_TEMPLATES):
        value = templates.get(block, {})
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _detail(f"Invalid {block} template data")
        for attr, template in value.items():
            if template is not None and not is_valid_jinja(str(template)):
                raise _detail(f"invalid {block} {attr} template")
    for name in _BEHAVIOUR_CHECK_ORDER:
        value = templates.get(name, "")
        if value is None:
            continue
        if not isinstance(value, str) or not is_valid_jinja(value):
            raise _detail(f"Invalid {name} template data")


def _merged_templates(
    current: Mapping[str, str | None], changes: Mapping[str, Any]
) -> dict[str, str | None]:
    """Apply a validated ``templates`` write: partial, ``null`` resets to the default."""
    merged = dict(current)
    for name, value in changes.items():
        if name in _BEHAVIOUR_TEMPLATES:
            merged[name] = _text(value)
        elif name in _TEMPLATE_BLOCKS:
            attrs = _TEMPLATE_BLOCKS[name]
            if value is None:
                merged.update(dict.fromkeys((f"{name}.{attr}" for attr in attrs), None))
                continue
            for attr, template in value.items():
                if attr in attrs:
                    merged[f"{name}.{attr}"] = _text(template)
                elif name in _CHAT_TEMPLATES:
                    raise _detail("Invalid template data")
        # Other top-level keys (e.g. msteams, not installed here) are ignored, as on the engine.
    return merged


def _nested_templates(flat: Mapping[str, str | None]) -> dict[str, Any]:
    body: dict[str, Any] = {name: flat[name] for name in _BEHAVIOUR_TEMPLATES}
    for block, attrs in _TEMPLATE_BLOCKS.items():
        body[block] = {attr: flat[f"{block}.{attr}"] for attr in attrs}
    return body


_JINJA_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_JINJA_BLOCK_TAGS = frozenset(
    {"if", "for", "macro", "call", "filter", "with", "block", "raw", "autoescape"}
)
_JINJA_SIMPLE_TAGS = frozenset(
    {"set", "include", "import", "from", "extends", "do", "break", "continue"}
)


def is_valid_jinja(source: str) -> bool:
    """Approximate Jinja2's syntax check without depending on Jinja2.

    Catches what a client realistically gets wrong: an unclosed ``{{``/``{%``/``{#``, an
    empty expression, unbalanced brackets or quotes, unknown or unbalanced block tags.
    """
    blocks: list[str] = []
    position = 0
    while True:
        openings = [i for i in (source.find(o, position) for o in _JINJA_CLOSERS) if i >= 0]
        if not openings:
            return not blocks
        start = min(openings)
        opener = source[start : start + 2]
        end = source.find(_JINJA_CLOSERS[opener], start + 2)
        if end < 0:
            return False
        position = end + 2
        if opener == "{#":
            continue
        body = source[start + 2 : end]
        # A "-" or "+" hugging the delimiter is whitespace control, not part of the body.
        body = body[1:] if body[:1] in ("-", "+") else body
        body = body[:-1] if body[-1:] in ("-", "+") else body
        body = body.strip()
        if not body or not _balanced(body):
            return False
        if opener == "{%" and not _tag_fits(body, blocks):
            return False


def _tag_fits(body: str, blocks: list[str]) -> bool:
    tag = body.split()[0]
    if tag in _JINJA_BLOCK_TAGS or (tag == "set" and "=" not in body):
        blocks.append(tag)
        return True
    if tag.startswith("end"):
        return bool(blocks) and blocks.pop() == tag.removeprefix("end")
    if tag in ("elif", "else"):
        return bool(blocks) and blocks[-1] in (("if",) if tag == "elif" else ("if", "for"))
    return tag in _JINJA_SIMPLE_TAGS


def _balanced(expression: str) -> bool:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    quote: str | None = None
    for char in expression:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return quote is None and not stack


def _smile_code(number: int) -> str:
    """The engine's default-name suffix: the organisation's integration count as emoji digits."""
    digits = [_SMILES[number % 10]]
    while number >= 10:
        number //= 10
        digits.append(_SMILES[number % 10])
    return "".join(reversed(digits))


def _utc(timestamp: float) -> str:
    """The engine's format for both maintenance times: whole seconds, UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _last(params: httpx.QueryParams, key: str) -> str | None:
    """Django's ``QueryDict.get``: the last value of a repeated parameter."""
    values = params.get_list(key)
    return values[-1] if values else None


def _page_size(params: httpx.QueryParams, default: int = 50, cap: int = 100) -> int:
    raw = _last(params, "perpage")
    try:
        size = int(raw) if raw is not None else default
    except ValueError:
        return default
    return min(size, cap) if size > 0 else default


def _page_number(params: httpx.QueryParams, total_pages: int) -> int:
    """As the engine answered: not a number or below 1 → the first page, past the end → the
    last one (``page=0`` is the first page, not the last)."""
    raw = _last(params, "page") or "1"
    if raw == "last":
        return total_pages
    try:
        number = int(raw)
    except ValueError:
        return 1
    return min(max(number, 1), total_pages)


def _origin(request: httpx.Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"


def _html(status: int, page: str) -> httpx.Response:
    return httpx.Response(status, html=page)


def _allow(handlers: Container[str]) -> str:
    """The ``Allow`` header Django REST framework sends for a view with these handlers."""
    methods = {"OPTIONS"} | ({"HEAD"} if "GET" in handlers else set())
    return ", ".join(m for m in _ALLOW_ORDER if m in handlers or m in methods)


def _finished(
    request: httpx.Request, response: httpx.Response, handlers: Container[str] | None
) -> httpx.Response:
    """What leaves the engine: REST framework answers (JSON, or empty like a 204) name the
    view's methods in ``Allow``, Django's own HTML pages do not; HEAD drops the body."""
    html = response.headers.get("content-type", "").startswith("text/html")
    if handlers is not None and not html:
        response.headers["Allow"] = _allow(handlers)
    if request.method != "HEAD":
        return response
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-length"]
    return httpx.Response(response.status_code, headers=headers)


def _throttled(retry_after: float) -> httpx.Response:
    wait = math.ceil(retry_after)
    unit = "second" if wait == 1 else "seconds"
    headers = {"RateLimit-Reset": str(wait)}
    if wait:
        headers["Retry-After"] = str(wait)
    body = {"detail": f"Request was throttled. Expected available in {wait} {unit}."}
    return json_response(429, body, headers)


def _json_body(request: httpx.Request) -> Any:
    if not request.content:
        return {}
    try:
        return json.loads(request.content.decode("utf-8"))
    except ValueError as exc:
        raise _detail(f"JSON parse error - {exc}") from exc


def _json_object(request: httpx.Request) -> dict[str, Any]:
    data = _json_body(request)
    if not isinstance(data, dict):
        raise _ApiError(
            400,
            {
                "non_field_errors": [
                    f"Invalid data. Expected a dictionary, but got {type(data).__name__}."
                ]
            },
        )
    return data


_Item = TypeVar("_Item")
_Endpoint = tuple[
    re.Pattern[str], str, Mapping[str, Callable[[httpx.Request, str], httpx.Response]]
]


class GrafanaOnCallSimulator(Simulator):
    """An in-memory Grafana OnCall organisation behind the public API v1.

    ``tokens`` maps API tokens to roles (``viewer`` may only read); ``teams`` are the team
    ids ``team_id`` may name; ``base_url`` is the engine URL used in ``link`` and paging
    URLs and may carry a path prefix (default: whatever URL the request came in on).
    ``rate`` is the per-token budget (``None``: unlimited); ``seed`` makes ids repeatable.
    """

    def __init__(
        self,
        *,
        tokens: Mapping[str, Role] | None = None,
        teams: Iterable[str] = (),
        base_url: str | None = None,
        rate: Rate | None = Rate(),
        clock: Clock = time.time,
        seed: int | None = None,
        slack_channels: Iterable[str] = (),
        telegram_channels: Iterable[str] = (),
        inbound_email_domain: str = "inbound.oncall.sim",
    ) -> None:
        super().__init__(clock=clock)
        self.base_url = base_url.rstrip("/") if base_url else None
        self._tokens: dict[str, Role] = dict(tokens or {DEFAULT_TOKEN: "admin"})
        self._teams = set(teams)
        self._slack_channels = {channel.upper() for channel in slack_channels}
        self._telegram_channels = set(telegram_channels)
        self._inbound_email_domain = inbound_email_domain
        self._limiter = RateLimiter(rate.limit, rate.window, clock) if rate else None
        self._random = random.Random(seed)
        self._integrations: dict[str, _Integration] = {}
        admin = AdminCollection("integrations", _AdminIntegration, _AdminPatch)
        self.admin_collection = admin.routes(
            self.integrations, self.get, self.add_integration, self._patch_templates, self.remove
        )
        self._in_maintenance: set[str] = set()
        self._chains: dict[str, _Chain] = {}
        self._seen_base = "http://localhost"
        self._endpoints: tuple[_Endpoint, ...] = (
            self._endpoint(
                "integrations/",
                GET=self._list_integrations,
                POST=self._create_integration,
            ),
            self._endpoint(
                "integrations/{id}/",
                GET=self._get_integration,
                PUT=self._update_integration,
                PATCH=self._update_integration,
                DELETE=self._delete_integration,
            ),
            self._endpoint("integrations/{id}/maintenance_start/", POST=self._start_maintenance),
            self._endpoint("integrations/{id}/maintenance_stop/", POST=self._stop_maintenance),
            self._endpoint("escalation_chains/", GET=self._list_chains, POST=self._create_chain),
            self._endpoint("escalation_chains/{id}/", GET=self._get_chain),
        )

    @staticmethod
    def _endpoint(
        route: str, **handlers: Callable[[httpx.Request, str], httpx.Response]
    ) -> _Endpoint:
        # The engine's OptionalSlashRouter: the trailing slash is optional; ids hold no "/" or ".".
        pattern = re.escape(f"/api/v1/{route}".rstrip("/")).replace(r"\{id\}", "(?P<id>[^/.]+)")
        return re.compile(f"{pattern}/?"), f"/api/v1/{route}", handlers

    # -- the HTTP API ------------------------------------------------------------------------

    def respond(self, request: httpx.Request) -> httpx.Response:
        self._seen_base = _origin(request)
        self._end_lapsed_maintenance()
        found = self._match(request)
        if found is None:
            return _finished(request, _html(404, _NOT_FOUND_PAGE), None)
        (_, _, handlers), pk = found
        return _finished(request, self._answer(request, handlers, pk), handlers)

    def _answer(
        self,
        request: httpx.Request,
        handlers: Mapping[str, Callable[[httpx.Request, str], httpx.Response]],
        pk: str,
    ) -> httpx.Response:
        token = request.headers.get("authorization")
        role = self._tokens.get(token) if token else None
        if token is None or role is None:
            return json_response(403, {"detail": _INVALID_TOKEN})
        if request.method in _WRITE_METHODS and role == "viewer":
            return json_response(403, {"detail": _PERMISSION_DENIED})
        if self._limiter is not None and (wait := self._limiter.hit(token)) is not None:
            return _throttled(wait)

        # Django answers HEAD with the view's GET (its body is dropped on the way out).
        method = "GET" if request.method == "HEAD" else request.method
        handler = handlers.get(method)
        if handler is None:
            # Observed: the engine answers unsupported methods with a 500 page, not a 405.
            return _html(500, _SERVER_ERROR_PAGE)
        try:
            return handler(request, pk)
        except _ApiError as exc:
            return json_response(exc.status, exc.body)

    def route_of(self, request: httpx.Request) -> str:
        found = self._match(request)
        return found[0][1] if found else request.url.path

    def throttled_response(self, request: httpx.Request, retry_after: float) -> httpx.Response:
        found = self._match(request)
        handlers = found[0][2] if found else None
        return _finished(request, _throttled(retry_after), handlers)

    def fault_response(self, request: httpx.Request, status: int) -> httpx.Response:
        if status == 500:
            return _html(500, _SERVER_ERROR_PAGE)
        return super().fault_response(request, status)

    def _match(self, request: httpx.Request) -> tuple[_Endpoint, str] | None:
        path = self._api_path(request.url.path)
        if path is None:
            return None
        for endpoint in self._endpoints:
            if match := endpoint[0].fullmatch(path):
                return endpoint, match.groupdict().get("id") or ""
        return None

    def _api_path(self, path: str) -> str | None:
        """The path below the engine's base URL, or ``None`` if it is outside it."""
        prefix = urllib.parse.urlsplit(self.base_url).path if self.base_url else ""
        if not prefix:
            return path
        return path.removeprefix(prefix) if path.startswith(f"{prefix}/") else None

    def _base(self) -> str:
        return self.base_url or self._seen_base

    def _page(
        self,
        request: httpx.Request,
        items: Sequence[_Item],
        render: Callable[[_Item], dict[str, Any]],
    ) -> httpx.Response:
        params = request.url.params
        size = _page_size(params)
        total_pages = max(1, math.ceil(len(items) / size))
        number = _page_number(params, total_pages)
        start = (number - 1) * size
        body = {
            "count": len(items),
            "next": self._page_link(request, number + 1) if number < total_pages else None,
            "previous": self._page_link(request, number - 1) if number > 1 else None,
            "results": [render(item) for item in items[start : start + size]],
            "page_size": size,
            "current_page_number": number,
            "total_pages": total_pages,
        }
        return json_response(200, body)

    def _page_link(self, request: httpx.Request, number: int) -> str:
        # DRF keeps the request's query, sorted, and drops "page" on the way back to page 1.
        query = urllib.parse.parse_qs(request.url.query.decode("ascii"), keep_blank_values=True)
        query.pop("page", None)
        if number > 1:
            query["page"] = [str(number)]
        encoded = urllib.parse.urlencode(sorted(query.items()), doseq=True)
        link = f"{self._base()}{self._api_path(request.url.path)}"
        return f"{link}?{encoded}" if encoded else link

    def _team_filter_refusal(self, request: httpx.Request) -> httpx.Response | None:
        """The engine's ``team_id`` list filter never works (see the platform notes)."""
        team = _last(request.url.params, "team_id")
        if not team:
            return None
        if team != "null" and team not in self._teams:
            return json_response(400, {"team_id": [_BAD_FILTER_CHOICE]})
        # Observed: filtering by a real team id, or by "null", is a server error.
        return _html(500, _SERVER_ERROR_PAGE)

    def _list_integrations(self, request: httpx.Request, _: str) -> httpx.Response:
        if (refusal := self._team_filter_refusal(request)) is not None:
            return refusal
        name = _last(request.url.params, "name")
        items = [i for i in self._visible() if name is None or i.name == name]
        return self._page(request, items, self._wire)

    def _get_integration(self, request: httpx.Request, pk: str) -> httpx.Response:
        return json_response(200, self._wire(self._find(pk)))

    def _create_integration(self, request: httpx.Request, _: str) -> httpx.Response:
        given = self._parse_integration(_json_object(request), creating=True)
        if "name" in given.given:
            self._check_unique_name(given.name, given.team_id, this=None)
        templates = _merged_templates(dict.fromkeys(_TEMPLATE_PATHS), given.templates or {})
        item = self._new_integration(
            given.type,
            name=given.name,
            team_id=given.team_id,
            description_short=given.description_short,
        )
        item.templates = templates
        if given.default_route:
            # On the engine this runs in the creating transaction: an error leaves nothing behind.
            item.route = self._routed(item.route, given.default_route)
        self._integrations[item.id] = item
        return json_response(201, self._wire(item))

    def _update_integration(self, request: httpx.Request, pk: str) -> httpx.Response:
        item = self._find(pk)
        # PUT and PATCH share a serializer whose fields are all optional, and type is read-only.
        given = self._parse_integration(_json_object(request), creating=False)
        team_id = given.team_id if "team_id" in given.given else item.team_id
        if "name" in given.given:
            self._check_unique_name(given.name, team_id, this=item)
        templates = _merged_templates(item.templates, given.templates or {})
        route = self._routed(item.route, given.default_route) if given.default_route else item.route
        item.templates, item.route, item.team_id = templates, route, team_id
        if "name" in given.given and given.name is not None:
            item.name = given.name
        if "description_short" in given.given:
            item.description_short = given.description_short
        return json_response(200, self._wire(item))

    def _delete_integration(self, request: httpx.Request, pk: str) -> httpx.Response:
        item = self._find(pk)
        if item.type == "direct_paging":
            raise _detail("Direct paging integrations can't be deleted")
        item.deleted = True
        self._in_maintenance.discard(item.id)
        return httpx.Response(204)

    def _start_maintenance(self, request: httpx.Request, pk: str) -> httpx.Response:
        item = self._find(pk)
        data = _json_body(request)
        data = data if isinstance(data, dict) else {}
        # The engine's own coercions: any value is stringified for mode, int() for duration.
        mode = str(data.get("mode")).lower()
        if mode not in _MAINTENANCE_MODES:
            raise _ApiError(400, {"mode": ["Unknown mode"]})
        raw_duration: Any = data.get("duration")
        try:
            duration = int(raw_duration)
        except (TypeError, ValueError):
            raise _ApiError(400, {"duration": ["Invalid duration"]}) from None
        if item.maintenance is not None:
            raise _detail("Already on maintenance")
        self._begin_maintenance(item, mode, duration)
        return json_response(200, self._wire(item))

    def _stop_maintenance(self, request: httpx.Request, pk: str) -> httpx.Response:
        item = self._find(pk)
        self._end_maintenance(item)
        return json_response(200, self._wire(item))

    def _list_chains(self, request: httpx.Request, _: str) -> httpx.Response:
        if (refusal := self._team_filter_refusal(request)) is not None:
            return refusal
        name = _last(request.url.params, "name")
        chains = [c for c in self._chains.values() if name is None or c.name == name]
        return self._page(request, chains, _Chain.wire)

    def _get_chain(self, request: httpx.Request, pk: str) -> httpx.Response:
        chain = self._chains.get(pk)
        if chain is None:
            raise _detail(_NOT_FOUND, 404)
        return json_response(200, chain.wire())

    def _create_chain(self, request: httpx.Request, _: str) -> httpx.Response:
        data = _json_object(request)
        errors: dict[str, list[str]] = {}
        name: str | None = None
        team_id: str | None = None
        with _collect(errors, "name"):
            if "name" not in data:
                raise _Invalid("This field is required.")
            name = _char(data["name"], max_length=100)
        if "team_id" in data:
            with _collect(errors, "team_id"):
                team_id = self._team(data["team_id"])
        if errors:
            raise _ApiError(400, errors)
        if any(chain.name == name for chain in self._chains.values()):
            message = "The fields organization, name must make a unique set."
            raise _ApiError(400, {"non_field_errors": [message]})
        assert name is not None
        chain = _Chain(self._public_id("F", self._chains), name, team_id)
        self._chains[chain.id] = chain
        return json_response(201, chain.wire())

    # -- validation ----------------------------------------------------------------------------

    def _parse_integration(self, data: Mapping[str, Any], *, creating: bool) -> _IntegrationInput:
        """Validate in the engine serializer's field order; collect field errors."""
        errors: dict[str, list[str]] = {}
        given = _IntegrationInput()
        if "name" in data:
            with _collect(errors, "name"):
                given.name = _char(data["name"])
                given.given.add("name")
        if "description_short" in data:
            with _collect(errors, "description_short"):
                given.description_short = _char(
                    data["description_short"], allow_null=True, max_length=250
                )
                given.given.add("description_short")
        if "team_id" in data:
            with _collect(errors, "team_id"):
                given.team_id = self._team(data["team_id"])
                given.given.add("team_id")
        if creating:
            with _collect(errors, "type"):
                given.type = _integration_type(data)
        if "default_route" in data:
            with _collect(errors, "default_route"):
                given.default_route = _dict(data["default_route"])
        if "templates" in data:
            with _collect(errors, "templates"):
                given.templates = _dict(data["templates"])
                _validate_templates(given.templates)
        if errors:
            raise _ApiError(400, errors)
        return given

    def _team(self, value: Any) -> str | None:
        team_id = _related(value)
        if team_id is not None and team_id not in self._teams:
            raise _Invalid("Object does not exist")
        return team_id

    def _check_unique_name(
        self, name: str | None, team_id: str | None, this: _Integration | None
    ) -> None:
        same = [i for i in self._visible() if i.team_id == team_id and i.name == name]
        if len(same) > 1 or (same and same[0] is not this):
            raise _detail(_DUPLICATE_NAME)

    def _routed(self, route: _Route, data: Mapping[str, Any]) -> _Route:
        """The default route after a validated write of ``data``; ``route`` is left untouched."""
        errors: dict[str, list[str]] = {}
        slack: dict[str, Any] = {}
        telegram: dict[str, Any] = {}
        backends: dict[str, dict[str, Any]] = {}
        chain: _Chain | None = None
        if "slack" in data:
            with _collect(errors, "slack"):
                slack = _dict(data["slack"])
        if "telegram" in data:
            with _collect(errors, "telegram"):
                telegram = _dict(data["telegram"])
        if "escalation_chain_id" in data:
            # Any chain of the organisation will do: the engine does not compare its team
            # with the integration's (checked on a running engine).
            with _collect(errors, "escalation_chain_id"):
                chain = self._chain(data["escalation_chain_id"])
        for slug in _ROUTE_BACKENDS:
            if slug in data:
                with _collect(errors, slug):
                    backends[slug] = _dict(data[slug])
        if errors:
            raise _ApiError(400, errors)

        new = dataclasses.replace(route)
        if "escalation_chain_id" in data:
            new.escalation_chain_id = chain.id if chain else None
        if "channel_id" in slack:
            channel = _text(slack["channel_id"])
            channel = channel.upper() if channel is not None else None
            if channel is not None and channel not in self._slack_channels:
                raise _detail("Slack channel does not exist")
            new.slack_channel_id = channel
        if "enabled" in slack:
            new.slack_enabled = bool(slack["enabled"])
        if "id" in telegram:
            channel = _text(telegram["id"])
            if channel is not None and channel not in self._telegram_channels:
                raise _detail("Telegram channel does not exist")
            new.telegram_id = channel
        if "enabled" in telegram:
            new.telegram_enabled = bool(telegram["enabled"])
        sent = {
            slug: {
                stored: body[sent]
                for sent, stored in (("id", "channel"), ("enabled", "enabled"))
                if sent in body
            }
            for slug, body in backends.items()
            if body
        }
        if sent:
            # Faithful quirk: the engine stores only the backends this request names.
            new.backends = {
                slug: route.backends.get(slug, {}) | body for slug, body in sent.items()
            }
        return new

    def _chain(self, value: Any) -> _Chain | None:
        chain_id = _related(value)
        if chain_id is None:
            return None
        chain = self._chains.get(chain_id)
        if chain is None:
            raise _Invalid("Object does not exist")
        return chain

    # -- state -------------------------------------------------------------------------------

    def _visible(self) -> list[_Integration]:
        return [item for item in self._integrations.values() if item.visible]

    def _find(self, pk: str) -> _Integration:
        item = self._integrations.get(pk)
        if item is None or not item.visible:
            raise _detail(_NOT_FOUND, 404)
        return item

    def _public_id(self, prefix: str, taken: Container[str] = ()) -> str:
        while True:
            candidate = prefix + "".join(self._random.choices(_PUBLIC_ID_ALPHABET, k=12))
            if candidate not in taken:
                return candidate

    def _new_integration(
        self,
        type_: str,
        *,
        name: str | None = None,
        team_id: str | None = None,
        description_short: str | None = None,
    ) -> _Integration:
        # The engine numbers default names by every integration the organisation ever had.
        default_name = f"{INTEGRATION_TYPES[type_]} {_smile_code(len(self._integrations))}"
        return _Integration(
            id=self._public_id("C", self._integrations),
            type=type_,
            name=name or default_name,
            token="".join(self._random.choices(_TOKEN_ALPHABET, k=25)),
            route=_Route(id=self._public_id("R")),
            heartbeat=type_ in _HEARTBEAT_TYPES,
            team_id=team_id,
            description_short=description_short,
        )

    def _begin_maintenance(self, item: _Integration, mode: str, duration: int) -> None:
        # Like the engine, the first maintenance in a team creates the team's hidden
        # "Maintenance" integration (which also moves the default-name counter).
        if not any(
            i.type == "maintenance" and not i.deleted and i.team_id == item.team_id
            for i in self._integrations.values()
        ):
            hidden = self._new_integration("maintenance", team_id=item.team_id)
            self._integrations[hidden.id] = hidden
        item.maintenance = _Maintenance(mode, self.clock(), duration)
        self._in_maintenance.add(item.id)

    def _end_maintenance(self, item: _Integration) -> None:
        item.maintenance = None
        self._in_maintenance.discard(item.id)

    def _end_lapsed_maintenance(self) -> None:
        # The engine ends maintenance with a task scheduled for its end; ending it lazily on
        # the next look gives the same answers under an injectable clock.
        now = self.clock()
        for item_id in list(self._in_maintenance):
            item = self._integrations[item_id]
            if item.maintenance is None or now >= item.maintenance.ends_at:
                self._end_maintenance(item)

    def _wire(self, item: _Integration) -> dict[str, Any]:
        base = self._base()
        link = None
        if item.type not in _NO_LINK_TYPES:
            link = f"{base}/integrations/v1/{item.type.removeprefix('legacy_')}/{item.token}/"
        maintenance = item.maintenance
        inbound_email = None
        if item.type == "inbound_email":
            inbound_email = f"{item.token}@{self._inbound_email_domain}"
        return {
            "maintenance_mode": maintenance.mode if maintenance else None,
            "maintenance_started_at": _utc(maintenance.started_at) if maintenance else None,
            "maintenance_end_at": _utc(maintenance.ends_at) if maintenance else None,
            "id": item.id,
            "name": item.name,
            "description_short": item.description_short,
            "team_id": item.team_id,
            "link": link,
            "inbound_email": inbound_email,
            "type": item.type.removeprefix("legacy_"),
            "default_route": item.route.wire(),
            "templates": _nested_templates(item.templates),
            "heartbeat": {"link": f"{link}heartbeat/"} if item.heartbeat and link else None,
        }

    # -- behind the operator's back ----------------------------------------------------------

    def integrations(self) -> list[dict[str, Any]]:
        """What the list endpoint would return, all pages, oldest first."""
        with self.lock:
            self._end_lapsed_maintenance()
            return [self._wire(item) for item in self._visible()]

    def get(self, integration_id: str) -> dict[str, Any] | None:
        with self.lock:
            self._end_lapsed_maintenance()
            item = self._integrations.get(integration_id)
            return self._wire(item) if item is not None and item.visible else None

    def add_integration(
        self,
        type: str = "webhook",
        *,
        name: str | None = None,
        team_id: str | None = None,
        description_short: str | None = None,
        escalation_chain_id: str | None = None,
    ) -> dict[str, Any]:
        """Someone else creates an integration; no API validation (duplicates are possible)."""
        if type not in INTEGRATION_TYPES:
            raise ValueError(f"unknown integration type {type!r}")
        with self.lock:
            item = self._new_integration(
                type, name=name, team_id=team_id, description_short=description_short
            )
            item.route.escalation_chain_id = escalation_chain_id
            self._integrations[item.id] = item
            return self._wire(item)

    def rename(self, integration_id: str, name: str) -> None:
        self.patch(integration_id, name=name)

    def patch(self, integration_id: str, **fields: Any) -> None:
        """Overwrite fields directly: ``name``, ``description_short``, ``team_id``, ``type``,
        ``escalation_chain_id``. Nothing is validated, so any drift can be staged."""
        unknown = set(fields) - {
            "name",
            "description_short",
            "team_id",
            "type",
            "escalation_chain_id",
        }
        if unknown:
            raise ValueError(f"cannot patch {sorted(unknown)}")
        with self.lock:
            item = self._stored(integration_id)
            if "escalation_chain_id" in fields:
                item.route.escalation_chain_id = fields.pop("escalation_chain_id")
            for name, value in fields.items():
                setattr(item, name, value)

    def set_template(self, integration_id: str, path: str, value: str | None) -> None:
        """Set one template, e.g. ``set_template(id, "slack.title", "{{ payload.x }}")``."""
        if path not in _TEMPLATE_PATHS:
            raise ValueError(f"unknown template {path!r}; known: {', '.join(_TEMPLATE_PATHS)}")
        with self.lock:
            self._stored(integration_id).templates[path] = value

    def remove(self, integration_id: str) -> None:
        """Delete as someone else would (soft delete; direct paging included)."""
        with self.lock:
            item = self._stored(integration_id)
            item.deleted = True
            self._in_maintenance.discard(item.id)

    def start_maintenance(
        self,
        integration_id: str,
        mode: Literal["debug", "maintenance"] = "debug",
        duration: int = 3600,
    ) -> None:
        with self.lock:
            item = self._stored(integration_id)
            self._end_maintenance(item)
            self._begin_maintenance(item, mode, duration)

    def stop_maintenance(self, integration_id: str) -> None:
        with self.lock:
            self._end_maintenance(self._stored(integration_id))

    def add_escalation_chain(self, name: str, team_id: str | None = None) -> str:
        with self.lock:
            chain = _Chain(self._public_id("F", self._chains), name, team_id)
            self._chains[chain.id] = chain
            return chain.id

    def escalation_chains(self) -> list[dict[str, Any]]:
        with self.lock:
            return [chain.wire() for chain in self._chains.values()]

    def add_team(self, team_id: str) -> None:
        with self.lock:
            self._teams.add(team_id)

    def _stored(self, integration_id: str) -> _Integration:
        item = self._integrations.get(integration_id)
        if item is None or not item.visible:
            raise KeyError(integration_id)
        return item

    # -- the same over HTTP, for the demo --------------------------------------------------

    def admin(self, request: httpx.Request, path: str) -> httpx.Response | None:
        """Admin routes below ``/_sim`` (besides the shared ``/requests`` and ``/faults``):

        ``GET|POST /integrations``, ``GET|PATCH|DELETE /integrations/{id}``,
        ``POST|DELETE /integrations/{id}/maintenance``, ``GET|POST /escalation_chains``,
        ``POST /teams``.
        """
        self._seen_base = _origin(request)
        method = request.method
        match path.strip("/").split("/"):
            case ["integrations", pk, "maintenance"] if method == "POST":
                maintenance = _AdminMaintenance.model_validate(admin_body(request))
                self.start_maintenance(pk, maintenance.mode, maintenance.duration)
                return json_response(200, self.get(pk))
            case ["integrations", pk, "maintenance"] if method == "DELETE":
                self.stop_maintenance(pk)
                return json_response(200, self.get(pk))
            case ["escalation_chains"] if method == "GET":
                return json_response(200, self.escalation_chains())
            case ["escalation_chains"] if method == "POST":
                chain = _AdminChain.model_validate(admin_body(request))
                chain_id = self.add_escalation_chain(chain.name, chain.team_id)
                return json_response(201, self._chains[chain_id].wire())
            case ["teams"] if method == "POST":
                team = _AdminTeam.model_validate(admin_body(request))
                self.add_team(team.id)
                return json_response(201, team.model_dump())
        return None

    def _patch_templates(
        self, integration_id: str, *, templates: dict[str, str | None] | None = None, **fields: Any
    ) -> None:
        """``patch``, and ``templates`` (``{"slack.title": "..."}``) set one by one after it."""
        self.patch(integration_id, **fields)
        for template, value in (templates or {}).items():
            self.set_template(integration_id, template, value)


class _AdminModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class _AdminIntegration(_AdminModel):
    type: str = "webhook"
    name: str | None = None
    team_id: str | None = None
    description_short: str | None = None
    escalation_chain_id: str | None = None


class _AdminPatch(_AdminModel):
    name: str | None = None
    description_short: str | None = None
    team_id: str | None = None
    type: str | None = None
    escalation_chain_id: str | None = None
    #: ``{"slack.title": "...", "grouping_key": null}``
    templates: dict[str, str | None] | None = None


class _AdminMaintenance(_AdminModel):
    mode: Literal["debug", "maintenance"] = "debug"
    duration: int = 3600


class _AdminChain(_AdminModel):
    name: str
    team_id: str | None = None


class _AdminTeam(_AdminModel):
    id: str


_ROLES: dict[str, Role] = {"": "admin", "admin": "admin", "editor": "editor", "viewer": "viewer"}
_token_role = server.credential_choice(_ROLES, "role", "admin, editor or viewer")


def build_parser() -> argparse.ArgumentParser:
    parser = server.simulator_parser("grafana-oncall", "Serve a Grafana OnCall API simulator.")
    parser.add_argument(
        "--token",
        dest="tokens",
        action="append",
        type=_token_role,
        metavar="TOKEN[:ROLE]",
        help=f"accepted API token, role admin (default), editor or viewer; "
        f"repeatable (default: {DEFAULT_TOKEN})",
    )
    parser.add_argument("--team", dest="teams", action="append", default=[], metavar="TEAM_ID")
    parser.add_argument(
        "--escalation-chain", dest="chains", action="append", default=[], metavar="NAME"
    )
    parser.add_argument("--base-url", help="engine URL in links (default: the request's URL)")
    parser.add_argument("--rate-limit", type=int, default=300, help="requests per window; 0: none")
    parser.add_argument("--rate-window", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--seed", type=int, help="makes ids repeatable")
    return parser


def simulator_from_args(args: argparse.Namespace) -> GrafanaOnCallSimulator:
    simulator = GrafanaOnCallSimulator(
        tokens=dict(args.tokens) if args.tokens else None,
        teams=args.teams,
        base_url=args.base_url,
        rate=Rate(args.rate_limit, args.rate_window) if args.rate_limit > 0 else None,
        seed=args.seed,
    )
    for name in args.chains:
        simulator.add_escalation_chain(name)
    return simulator


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the simulator until interrupted; prints its URL on stdout."""
    args = build_parser().parse_args(argv)
    server.run(simulator_from_args(args), args.host, args.port, name="Grafana OnCall")


# The sandbox's row (alertsim/simulators.py collects it): deploy/samples/grafana-oncall.yaml.
SERVED: Served = served(
    "oncall",
    "grafana-oncall",
    18090,
    "payments-alerts",
    main,
    lambda: GrafanaOnCallSimulator(tokens={"sandbox-oncall-token": "admin"}),
    lambda sim: sim.integrations(),
)
