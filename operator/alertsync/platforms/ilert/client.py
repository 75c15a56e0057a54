"""iLert REST API client: alert sources, escalation policies and the Alerts API.

Lists are bare JSON arrays paged with `start-index`/`max-results`: a page shorter than
asked for is the last one. Filters repeat their parameter (`states=PENDING&states=ACCEPTED`),
so queries with them are encoded here rather than passed as a mapping.
"""

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from alertsync.errors import PlatformUnavailableError
from alertsync.platforms.http import MAX_PAGES, PlatformHttp, header_seconds, json_of
from alertsync.platforms.ilert.wire import (
    ILertAlert,
    ILertAlertCount,
    ILertAlertSource,
    ILertEscalationPolicy,
)

__all__ = ["INCLUDE_FIELDS", "ILertClient", "describe_error", "retry_after"]

ALERT_SOURCES = "/api/alert-sources"
ALERTS = "/api/alerts"
ESCALATION_POLICIES = "/api/escalation-policies"
# The servers' caps: alert sources and policies 50 a page, alerts 100.
SOURCE_PAGE = 50
ALERT_PAGE = 100

#: Alert source fields that only come with `include=` (never in lists).
INCLUDE_FIELDS = (
    "summaryTemplate",
    "detailsTemplate",
    "routingTemplate",
    "alertKeyTemplate",
    "servicesTemplate",
    "linkTemplates",
    "priorityTemplate",
    "severityTemplate",
    "textTemplate",
    "eventFilter",
    "eventTypeFilterCreate",
    "eventTypeFilterAccept",
    "eventTypeFilterResolve",
)
# What iLert computes: never sent back on a PUT.
_READ_ONLY = frozenset(
    {
        "id",
        "integrationKey",
        "integrationUrl",
        "status",
        "bidirectional",
        "iconUrl",
        "lightIconUrl",
        "darkIconUrl",
        "createdAt",
        "updatedAt",
    }
)
_GONE = frozenset({404})

Query = Sequence[tuple[str, str | int]]
M = TypeVar("M", bound=BaseModel)
_Listed = TypeVar("_Listed", ILertAlertSource, ILertAlert)


def describe_error(response: httpx.Response) -> str:
    """iLert's error body is `{"status", "message", "code"}`; the message is for people."""
    try:
        body = json_of(response)
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    return response.reason_phrase


def retry_after(response: httpx.Response) -> float | None:
    """iLert sends no wait with its 429s; honour a `Retry-After` should one ever come."""
    return header_seconds(response, "Retry-After")


def _path(path: str, query: Query) -> str:
    return f"{path}?{urllib.parse.urlencode(query)}" if query else path


def _full(path: str) -> str:
    """`path` asking for every include-only field in the answer."""
    return _path(path, [("include", name) for name in INCLUDE_FIELDS])


def _filters(sources: Iterable[int], states: Iterable[str]) -> list[tuple[str, str | int]]:
    return [("sources", source) for source in sources] + [("states", state) for state in states]


def _ref(value: Any) -> Any:
    """A sub-entity as a write needs it: only its id (the spec says so for POST and PUT)."""
    return {"id": value["id"]} if isinstance(value, dict) and "id" in value else value


def _writable(current: Mapping[str, Any]) -> dict[str, Any]:
    """An alert source as read, reduced to what a PUT may carry."""
    body = {key: value for key, value in current.items() if key not in _READ_ONLY}
    for key in ("escalationPolicy", "supportHours"):
        if key in body:
            body[key] = _ref(body[key])
    if isinstance(body.get("teams"), list):
        body["teams"] = [_ref(team) for team in body["teams"]]
    return body


class ILertClient:
    """The REST calls, and what a PUT needs to know to be sent without a read first.

    A PUT replaces the whole source, so it must carry the include-only fields as iLert
    has them. Every full answer (create, read, update, each asked with every `include`)
    is kept with its `updatedAt`; while the latest listing shows that same `updatedAt`,
    nothing was changed since, and the kept body is what the PUT sends back. Only a
    source changed behind AlertSync's back, or unknown since a restart, is read first.
    """

    def __init__(self, http: PlatformHttp) -> None:
        self.http = http
        # id -> (updatedAt, the source as a PUT may carry it), from full answers.
        self._bodies: dict[str, tuple[str, dict[str, Any]]] = {}
        # id -> updatedAt, as the latest listing showed it.
        self._listed: dict[str, str | None] = {}

    # -- alert sources -----------------------------------------------------------------------

    async def list_alert_sources(self) -> list[ILertAlertSource]:
        """Every alert source, all pages (no include-only fields: lists never carry them)."""
        sources = await self._pages(
            ALERT_SOURCES, (), SOURCE_PAGE, ILertAlertSource, "list iLert alert sources"
        )
        self._listed = {str(source.id): source.updated_at for source in sources}
        return sources

    async def check(self) -> None:
        """One small authenticated read: the key is accepted and the API answers."""
        await self.http.request(
            "GET", _path(ALERT_SOURCES, [("max-results", 1)]), what="list iLert alert sources"
        )

    async def get_alert_source(
        self, id_: str, include: Sequence[str] = ()
    ) -> ILertAlertSource | None:
        """One source, with the `include` fields; None if iLert has no such id."""
        what = f"read alert source {id_}"
        response = await self.http.request(
            "GET",
            _path(f"{ALERT_SOURCES}/{id_}", [("include", name) for name in include]),
            what=what,
            ok_statuses=_GONE,
        )
        if response.status_code == 404:
            self._forget(id_)
            return None
        return _one(ILertAlertSource, response, what)

    async def create_alert_source(self, body: Mapping[str, Any]) -> ILertAlertSource:
        what = f"create alert source {body.get('name')!r}"
        response = await self.http.request("POST", _full(ALERT_SOURCES), what=what, json=body)
        return self._kept(response, what)

    async def update_alert_source(self, id_: str, changes: Mapping[str, Any]) -> ILertAlertSource:
        """PUT replaces the whole source: send it as iLert has it, with `changes` applied.

        Whatever the body leaves out goes back to its default on iLert. The source as
        iLert has it is the kept body while the latest listing shows it unchanged, else
        a read with every include-only field.
        """
        what = f"update alert source {id_}"
        kept = self._bodies.get(id_)
        if kept is not None and self._listed.get(id_) == kept[0]:
            current = kept[1]
        else:
            current = _writable(await self._read_full(id_, what))
        response = await self.http.request(
            "PUT", _full(f"{ALERT_SOURCES}/{id_}"), what=what, json=current | dict(changes)
        )
        return self._kept(response, what)

    async def delete_alert_source(self, id_: str) -> None:
        """A second delete answers 404: already gone is success."""
        self._forget(id_)
        await self.http.request(
            "DELETE", f"{ALERT_SOURCES}/{id_}", what=f"delete alert source {id_}", ok_statuses=_GONE
        )

    async def _read_full(self, id_: str, what: str) -> dict[str, Any]:
        response = await self.http.request("GET", _full(f"{ALERT_SOURCES}/{id_}"), what=what)
        raw = _json(response, what)
        if not isinstance(raw, dict):
            raise _unexpected(response, what)
        return raw

    def _kept(self, response: httpx.Response, what: str) -> ILertAlertSource:
        """The source a full answer carries, its body kept for the next PUT."""
        raw = _json(response, what)
        source = _parse(ILertAlertSource, raw, response, what)
        if source.updated_at is not None:
            self._bodies[str(source.id)] = (source.updated_at, _writable(raw))
        return source

    def _forget(self, id_: str) -> None:
        self._bodies.pop(id_, None)
        self._listed.pop(id_, None)

    async def get_escalation_policy(self, id_: int) -> ILertEscalationPolicy | None:
        what = f"read escalation policy {id_}"
        response = await self.http.request(
            "GET", f"{ESCALATION_POLICIES}/{id_}", what=what, ok_statuses=_GONE
        )
        return None if response.status_code == 404 else _one(ILertEscalationPolicy, response, what)

    # -- alerts ------------------------------------------------------------------------------

    async def count_alerts(self, sources: Iterable[int], states: Iterable[str]) -> int:
        what = "count iLert alerts"
        response = await self.http.request(
            "GET", _path(f"{ALERTS}/count", _filters(sources, states)), what=what
        )
        return _one(ILertAlertCount, response, what).count

    async def list_alerts(self, sources: Iterable[int], states: Iterable[str]) -> list[ILertAlert]:
        """Every alert matching the filters, all pages of 100."""
        query = _filters(sources, states)
        return await self._pages(ALERTS, query, ALERT_PAGE, ILertAlert, "list iLert alerts")

    async def resolve_alert(self, id_: int) -> ILertAlert | None:
        """Resolve one alert; None if it is gone."""
        what = f"resolve alert {id_}"
        response = await self.http.request(
            "PUT", f"{ALERTS}/{id_}/resolve", what=what, ok_statuses=_GONE
        )
        return None if response.status_code == 404 else _one(ILertAlert, response, what)

    # -- plumbing ----------------------------------------------------------------------------

    async def _pages(
        self, path: str, query: Query, size: int, model: type[_Listed], what: str
    ) -> list[_Listed]:
        found: dict[int, _Listed] = {}
        start = 0
        for _ in range(MAX_PAGES):
            window = [*query, ("start-index", start), ("max-results", size)]
            response = await self.http.request("GET", _path(path, window), what=what)
            page = _json(response, what)
            if not isinstance(page, list):
                raise _unexpected(response, what)
            items = [_parse(model, item, response, what) for item in page]
            before = len(found)
            # Offset pages shift when objects come and go meanwhile: the id decides.
            found.update((item.id, item) for item in items)
            if len(items) < size or len(found) == before:
                return list(found.values())
            start += size
        raise PlatformUnavailableError(f"cannot {what}: more than {MAX_PAGES} pages")


def _unexpected(response: httpx.Response, what: str) -> PlatformUnavailableError:
    return PlatformUnavailableError(
        f"cannot {what}: iLert answered {response.status_code} with a body "
        "that is not of the documented shape"
    )


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return json_of(response)
    except ValueError:
        raise _unexpected(response, what) from None


def _parse(model: type[M], data: Any, response: httpx.Response, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError:
        raise _unexpected(response, what) from None


def _one(model: type[M], response: httpx.Response, what: str) -> M:
    return _parse(model, _json(response, what), response, what)
