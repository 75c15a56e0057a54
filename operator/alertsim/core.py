"""Pieces every platform simulator shares: faults, rate limiting, request counting, a base class.

A simulator is anything with ``async def handle(request: httpx.Request) -> httpx.Response``.
The same object serves tests in process (``httpx.MockTransport(sim.handle)``) and real HTTP
on 127.0.0.1 through :mod:`alertsim.server`, so both paths run identical behaviour.

Thread safety: each simulator guards its state with one ``threading.RLock`` that is held only
inside plain synchronous code, never across an ``await``. A sync test thread can then change
the state of a simulator that a server thread is serving, with ordinary method calls. The
alternative, ``run_coroutine_threadsafe`` into the server's loop, would tie every state call
to a running server and make the in-process and served modes behave differently.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import collections
import enum
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypedDict, Unpack

import httpx
import pydantic

__all__ = [
    "ADMIN_PREFIX",
    "AdminError",
    "AdminRoute",
    "Clock",
    "FaultKind",
    "FaultRule",
    "Faults",
    "Handler",
    "ManualClock",
    "RateLimiter",
    "RequestHook",
    "RequestLog",
    "SimulatedReset",
    "SimulatedTimeout",
    "Simulator",
    "admin_body",
    "json_response",
]

Clock = Callable[[], float]
# How many GET URLs' answers stale rules can replay (the oldest are forgotten first).
_REMEMBERED_ANSWERS = 512
# What a revoked credential is replaced with: a value no simulator knows.
_REVOKED = "revoked-by-fault"
# A remembered answer: when (the simulator's clock), status, headers, body.
_Answer = tuple[float, int, list[tuple[str, str]], bytes]

#: Requests under this prefix drive the simulator itself ("behind the platform's back"):
#: they skip authentication, faults, rate limits and request counting.
ADMIN_PREFIX = "/_sim"


class Handler(Protocol):
    """What :mod:`alertsim.server` can serve and ``httpx.MockTransport`` can call."""

    async def handle(self, request: httpx.Request) -> httpx.Response: ...


class ManualClock:
    """A clock that moves only when told to: pass it as ``clock=`` and call :meth:`advance`."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        # A fixed, whole-second start keeps formatted timestamps in tests predictable.
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class SimulatedTimeout(httpx.ReadTimeout):
    """The platform does not answer. Served mode stalls the connection instead of raising."""


class SimulatedReset(httpx.ReadError):
    """The connection is reset. Served mode really resets the TCP connection."""


class FaultKind(enum.StrEnum):
    STATUS = "status"  # answer `status` with the platform's error page
    THROTTLE = "throttle"  # answer 429 with the platform's own body and headers
    TIMEOUT = "timeout"  # never answer
    RESET = "reset"  # reset the connection
    LATENCY = "latency"  # answer normally, `seconds` later
    LOSE_RESPONSE = "lose_response"  # do the work, then never answer
    # A GET answered as the same URL was answered up to `seconds` ago, when it was: a listing
    # that lags behind writes (eventual consistency). With nothing that recent, answered fresh.
    STALE = "stale"
    # The credentials stop working: the platform answers as it answers an unknown key.
    REVOKED = "revoked"


class FaultRule(pydantic.BaseModel):
    """One armed fault. Also the body of ``POST /_sim/faults``."""

    model_config = pydantic.ConfigDict(extra="forbid")

    kind: FaultKind
    #: How many matching requests it hits; ``None`` keeps it armed until cleared.
    times: int | None = pydantic.Field(default=1, ge=1)
    method: str | None = None
    #: Prefix of the request path, e.g. ``/api/v1/integrations``.
    path: str | None = None
    #: The simulator's route template, exactly (see ``Simulator.route_of``): unlike a path
    #: prefix, ``/api/v1/integrations/`` then means the listing and not every object below it.
    route: str | None = None
    #: Query parameters the request must carry with these values, or must not carry (None):
    #: ``{"name": None}`` is an unfiltered listing, not a search by name.
    params: dict[str, str | None] | None = None
    status: int = pydantic.Field(default=503, ge=400, le=599)
    seconds: float = pydantic.Field(default=0.0, ge=0)
    retry_after: int = pydantic.Field(default=1, ge=0)

    def matches(
        self,
        method: str,
        path: str,
        route: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> bool:
        return (
            (self.method is None or self.method.upper() == method.upper())
            and (self.path is None or path.startswith(self.path))
            and (self.route is None or self.route == route)
            and (
                self.params is None
                or all((params or {}).get(k) == v for k, v in self.params.items())
            )
        )


#: Answers an admin request (the path below ``/_sim``), or ``None`` when the path is not its.
AdminRoute = Callable[[httpx.Request, str], httpx.Response | None]

#: Sees each platform request and the fault chosen for it (``None``: answered normally).
RequestHook = Callable[[httpx.Request, FaultRule | None], None]


class _Where(TypedDict, total=False):
    """Which requests a rule hits and how many times, as :class:`FaultRule` says."""

    times: int | None
    method: str | None
    path: str | None


class Faults:
    """Faults a test or the demo switches on; the first armed rule matching a request fires.

    Rules fire in the order they were added, one per request, so a schedule such as
    "two 503s, then a timeout" is just three calls.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._remembers = False
        #: Added to every request (seconds), on top of any latency rule.
        self.latency = 0.0

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule.model_copy())
            # Keeping answers costs memory per URL: only once a stale rule may need them.
            self._remembers = self._remembers or rule.kind is FaultKind.STALE
        return rule

    def fail(self, status: int = 503, **where: Unpack[_Where]) -> FaultRule:
        return self.add(FaultRule(kind=FaultKind.STATUS, status=status, **where))

    def throttle(self, retry_after: int = 1, **where: Unpack[_Where]) -> FaultRule:
        return self.add(FaultRule(kind=FaultKind.THROTTLE, retry_after=retry_after, **where))

    def timeout(self, **where: Unpack[_Where]) -> FaultRule:
        return self.add(FaultRule(kind=FaultKind.TIMEOUT, **where))

    def reset(self, **where: Unpack[_Where]) -> FaultRule:
        return self.add(FaultRule(kind=FaultKind.RESET, **where))

    def delay(self, seconds: float, **where: Unpack[_Where]) -> FaultRule:
        return self.add(FaultRule(kind=FaultKind.LATENCY, seconds=seconds, **where))

    def lose_response(self, **where: Unpack[_Where]) -> FaultRule:
        return self.add(FaultRule(kind=FaultKind.LOSE_RESPONSE, **where))

    def stale(
        self,
        seconds: float,
        *,
        times: int | None = 1,
        route: str | None = None,
        path: str | None = None,
        params: dict[str, str | None] | None = None,
    ) -> FaultRule:
        return self.add(
            FaultRule(
                kind=FaultKind.STALE,
                seconds=seconds,
                times=times,
                method="GET",
                route=route,
                path=path,
                params=params,
            )
        )

    def revoke(self, **where: Unpack[_Where]) -> FaultRule:
        return self.add(FaultRule(kind=FaultKind.REVOKED, **where))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.latency = 0.0

    @property
    def remembers(self) -> bool:
        """Whether GET answers are kept for replay: once any stale rule was armed."""
        return self._remembers

    @property
    def pending(self) -> list[FaultRule]:
        """Armed rules; ``times`` says how many hits each has left."""
        with self._lock:
            return [rule.model_copy() for rule in self._rules]

    def take(self, request: httpx.Request, route: str | None) -> FaultRule | None:
        """Consume one hit of the first rule matching this request (``route``: its template)."""
        method, path, params = request.method, request.url.path, request.url.params
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, route, params):
                    continue
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self._rules.remove(rule)
                return rule.model_copy()
        return None


class RateLimiter:
    """At most ``limit`` requests per key in any ``window`` seconds (a sliding-window log).

    This is how Django REST framework throttles count, so the reported wait matches what
    DRF-based platforms say: the time until the oldest request in the window drops out.
    """

    def __init__(self, limit: int, window: float, clock: Clock = time.time) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._history: dict[str, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )

    def hit(self, key: str) -> float | None:
        """Count a request; ``None`` if allowed, else the seconds until it would be."""
        with self._lock:
            now = self._clock()
            history = self._drop_old(key, now)
            if len(history) >= self.limit:
                return self.window - (now - history[0])
            history.append(now)
            return None

    def remaining(self, key: str) -> int:
        with self._lock:
            return max(0, self.limit - len(self._drop_old(key, self._clock())))

    def reset(self) -> None:
        with self._lock:
            self._history.clear()

    def _drop_old(self, key: str, now: float) -> collections.deque[float]:
        history = self._history[key]
        while history and history[0] <= now - self.window:
            history.popleft()
        return history


class RequestLog:
    """Counts platform calls by method and route template, e.g. ``GET /api/v1/integrations/``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()

    def record(self, method: str, route: str) -> None:
        with self._lock:
            self._counts[f"{method} {route}"] += 1

    def count(self, method: str | None = None, route: str | None = None) -> int:
        """Calls matching ``method`` and/or ``route`` (both optional: all calls)."""
        with self._lock:
            return sum(
                number
                for key, number in self._counts.items()
                if (method is None or key.split(" ", 1)[0] == method)
                and (route is None or key.split(" ", 1)[1] == route)
            )

    @property
    def total(self) -> int:
        return self.count()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class AdminError(Exception):
    """A refused admin request; answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def admin_body(request: httpx.Request) -> Any:
    """The JSON body of an admin request (``{}`` when empty)."""
    if not request.content:
        return {}
    try:
        return json.loads(request.content)
    except ValueError as exc:
        raise AdminError(400, f"invalid JSON: {exc}") from exc


def _gateway_page(status: int) -> str:
    title = f"{status} {httpx.codes.get_reason_phrase(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


class Simulator(abc.ABC):
    """Base of the platform simulators: faults, counting and the admin API around ``respond``.

    Subclasses implement the platform in :meth:`respond` (synchronous, called under
    :attr:`lock`), name routes for counting in :meth:`route_of`, and shape their 429 in
    :meth:`throttled_response`. Platform-specific admin routes go in :meth:`admin`, and those
    of the platform's main objects in :attr:`admin_collection`.
    """

    #: Request headers that carry credentials; a revoked-credentials fault swaps their values.
    credential_headers: tuple[str, ...] = ("authorization", "x-api-key")

    def __init__(self, *, clock: Clock = time.time) -> None:
        self.clock = clock
        self.faults = Faults()
        self.requests = RequestLog()
        self.lock = threading.RLock()
        #: Called for every platform request once its fault (if any) is chosen, before it
        #: is answered: a soak counts what fired, or changes state between two requests of
        #: one reader (a page shifting under a paging client).
        self.hooks: list[RequestHook] = []
        # The last fresh answer to each GET URL, for stale rules.
        self._answers: collections.OrderedDict[str, _Answer] = collections.OrderedDict()
        #: The admin routes that list, create, read, change and delete the platform's main
        #: objects, when a subclass sets them (see :mod:`alertsim.adminroutes`); tried after
        #: :meth:`admin`.
        self.admin_collection: AdminRoute | None = None

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        path = request.url.path
        if path == ADMIN_PREFIX or path.startswith(f"{ADMIN_PREFIX}/"):
            with self.lock:
                return self._admin(request, path.removeprefix(ADMIN_PREFIX) or "/")

        route = self.route_of(request)
        self.requests.record(request.method, route)
        fault = self.faults.take(request, route)
        replay = None
        if fault is not None and fault.kind is FaultKind.STALE:
            replay = self._remembered(request, fault.seconds)
            if replay is None:
                fault = None  # nothing recent to replay: the rule spent a hit on a fresh answer
        for hook in list(self.hooks):
            hook(request, fault)
        delay = self.faults.latency
        if fault is not None and fault.kind is FaultKind.LATENCY:
            delay += fault.seconds
        if delay > 0:
            await asyncio.sleep(delay)

        if replay is not None:
            return replay
        if fault is not None:
            if fault.kind is FaultKind.STATUS:
                return self.fault_response(request, fault.status)
            if fault.kind is FaultKind.THROTTLE:
                return self.throttled_response(request, fault.retry_after)
            if fault.kind is FaultKind.TIMEOUT:
                raise SimulatedTimeout("simulated timeout", request=request)
            if fault.kind is FaultKind.RESET:
                raise SimulatedReset("[Errno 104] Connection reset by peer", request=request)
            if fault.kind is FaultKind.REVOKED:
                request = self._revoked(request)

        with self.lock:
            response = self.respond(request)
        if request.method == "GET" and response.is_success and self.faults.remembers:
            self._remember(request, response)
        if fault is not None and fault.kind is FaultKind.LOSE_RESPONSE:
            raise SimulatedTimeout("simulated timeout; the request was processed", request=request)
        return response

    def _remember(self, request: httpx.Request, response: httpx.Response) -> None:
        url = str(request.url)
        with self.lock:
            self._answers[url] = (
                self.clock(),
                response.status_code,
                list(response.headers.multi_items()),
                response.content,
            )
            self._answers.move_to_end(url)
            while len(self._answers) > _REMEMBERED_ANSWERS:
                self._answers.popitem(last=False)

    def _remembered(self, request: httpx.Request, seconds: float) -> httpx.Response | None:
        with self.lock:
            found = self._answers.get(str(request.url))
            if found is None or self.clock() - found[0] > seconds:
                return None
            _, status, headers, content = found
        # A new response each time: callers (and subclasses' handle) may add headers to it.
        return httpx.Response(status, headers=headers, content=content)

    def _revoked(self, request: httpx.Request) -> httpx.Request:
        """The request as it arrives once its credentials were revoked: same shape, unknown."""
        headers = httpx.Headers(request.headers)
        for name in self.credential_headers:
            value = headers.get(name)
            if value is None:
                continue
            scheme, _, rest = value.partition(" ")
            if not rest:
                headers[name] = _REVOKED
            elif scheme.lower() == "basic":
                headers[name] = f"{scheme} {base64.b64encode(f'{_REVOKED}:x'.encode()).decode()}"
            else:
                headers[name] = f"{scheme} {_REVOKED}"
        return httpx.Request(request.method, request.url, headers=headers, content=request.content)

    @abc.abstractmethod
    def respond(self, request: httpx.Request) -> httpx.Response:
        """Answer one platform request (no faults applied). Runs under :attr:`lock`."""

    @abc.abstractmethod
    def route_of(self, request: httpx.Request) -> str:
        """The route template counting this request, e.g. ``/api/v1/integrations/{id}/``."""

    @abc.abstractmethod
    def throttled_response(self, request: httpx.Request, retry_after: float) -> httpx.Response:
        """The platform's own 429 for a wait of ``retry_after`` seconds."""

    def fault_response(self, request: httpx.Request, status: int) -> httpx.Response:
        """The page for an injected status; by default what a reverse proxy would send."""
        return httpx.Response(status, html=_gateway_page(status))

    def admin(self, request: httpx.Request, path: str) -> httpx.Response | None:
        """Platform-specific admin routes (``path`` is below ``/_sim``); ``None`` if unknown."""
        return None

    def _admin(self, request: httpx.Request, path: str) -> httpx.Response:
        try:
            response = (
                self._core_admin(request, path)
                or self.admin(request, path)
                or self._collection_admin(request, path)
            )
        except AdminError as exc:
            return json_response(exc.status, {"error": str(exc)})
        except pydantic.ValidationError as exc:
            return json_response(400, {"error": exc.errors(include_url=False)})
        # The behind-the-back methods raise KeyError for an unknown id and
        # ValueError for a change they refuse, as plain Python callers expect.
        except KeyError as exc:
            return json_response(404, {"error": f"not found: {exc.args[0]}"})
        except ValueError as exc:
            return json_response(400, {"error": str(exc)})
        if response is None:
            return json_response(404, {"error": f"no admin route {request.method} {path}"})
        return response

    def _collection_admin(self, request: httpx.Request, path: str) -> httpx.Response | None:
        collection = self.admin_collection
        return None if collection is None else collection(request, path)

    def _core_admin(self, request: httpx.Request, path: str) -> httpx.Response | None:
        route = (request.method, path.rstrip("/"))
        if route == ("GET", "/requests"):
            return json_response(
                200, {"total": self.requests.total, "counts": self.requests.snapshot()}
            )
        if route == ("DELETE", "/requests"):
            self.requests.clear()
            return httpx.Response(204)
        if route == ("GET", "/faults"):
            rules = [rule.model_dump(mode="json") for rule in self.faults.pending]
            return json_response(200, {"latency": self.faults.latency, "rules": rules})
        if route == ("POST", "/faults"):
            rule = self.faults.add(FaultRule.model_validate(admin_body(request)))
            return json_response(201, rule.model_dump(mode="json"))
        if route == ("DELETE", "/faults"):
            self.faults.clear()
            return httpx.Response(204)
        if route == ("PUT", "/faults/latency"):
            latency = _Latency.model_validate(admin_body(request))
            self.faults.latency = latency.seconds
            return json_response(200, latency.model_dump())
        return None


class _Latency(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    seconds: float = pydantic.Field(ge=0)
