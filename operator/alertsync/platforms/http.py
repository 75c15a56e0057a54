"""HTTP plumbing shared by every platform client: errors, rate limits, the budget.

Each platform client states how its platform words errors and rate limits;
this module turns every failure into one of AlertSync's errors in one place, so
adapters and the reconciler never see an httpx exception.
"""

import email.utils
import json as jsonlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx

from alertsync import metrics
from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    PermissionDeniedError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.platforms.circuit import Circuit
from alertsync.platforms.concurrency import AdaptiveLimit
from alertsync.platforms.throttle import WAIT_NOTICE, RateWindow, Throttle
from alertsync.redaction import redact

# The throttle's names are re-exported: clients build both together.
__all__ = [
    "MAX_ANNOUNCED_WAIT",
    "MAX_PAGES",
    "MAX_RESPONSE_BYTES",
    "WAIT_NOTICE",
    "PlatformHttp",
    "RateWindow",
    "Throttle",
    "header_seconds",
    "json_of",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# No answer of any platform comes near this (a page of 250 objects is well under
# 1 MiB); a larger one is refused rather than parsed.
MAX_RESPONSE_BYTES = 10 * 2**20
# A listing ends within this many pages (100,000 objects at 100 a page): a server
# whose cursors never end is given up on rather than followed for ever.
MAX_PAGES = 1000
# A wait a platform announces is honoured up to a day; `inf` or 1e400 is no wait.
MAX_ANNOUNCED_WAIT = 86_400.0
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def header_seconds(response: httpx.Response, *names: str) -> float | None:
    """The first of `names` that holds a wait: relative seconds (never an epoch here)
    or, as RFC 9110 allows for Retry-After, an HTTP date."""
    for name in names:
        value = response.headers.get(name)
        if value is None:
            continue
        seconds: float | None
        try:
            seconds = float(value)
        except ValueError:
            seconds = _seconds_until(value)
        if seconds is not None and math.isfinite(seconds):
            return min(max(0.0, seconds), MAX_ANNOUNCED_WAIT)
    return None


def _seconds_until(value: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; an unzoned one is read as such
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def json_of(response: httpx.Response) -> Any:
    """The body as JSON; ValueError for anything else, a body nested too deep included."""
    try:
        return jsonlib.loads(response.content)
    except RecursionError:
        raise ValueError("the body is nested too deeply") from None


@dataclass
class PlatformHttp:
    """One platform account's connection: base URL, auth headers, error wording."""

    client: httpx.AsyncClient
    base_url: str
    auth_headers: Mapping[str, str] = field(repr=False)
    throttle: Throttle
    # How the platform words an error body, and how long it asks us to wait.
    describe_error: Callable[[httpx.Response], str]
    retry_after: Callable[[httpx.Response], float | None]
    # The metrics' platform label: the product type.
    platform: str = ""  # no product: metrics.NO_PLATFORM
    # Whether a 403 says the token itself is bad (OnCall answers 403 "Invalid token."
    # to any request) rather than that it may not make this write.
    bad_token: Callable[[httpx.Response], bool] = lambda _: False
    # The window a platform announces in its headers, if it does (Confluent).
    rate_window: Callable[[httpx.Response], RateWindow | None] = lambda _: None
    # Requests to one account at once, whatever the number of reconciles;
    # fewer while the platform answers slowly or with 5xx.
    in_flight: AdaptiveLimit = field(default_factory=AdaptiveLimit)
    sent: int = 0
    circuit: Circuit = field(default_factory=Circuit)

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        ok_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send one request; return 2xx (and `ok_statuses`), raise AlertSync errors else.

        `what` names the operation and object for messages: "create integration x".
        `path` may also be an absolute URL the platform handed out (paging links).
        """
        await self._acquire(what)
        probe = self.circuit.check(what)
        try:
            return await self._send(method, path, what, json, params, ok_statuses)
        finally:
            if probe and self.circuit.probing:
                # Neither answered nor failed (cancelled): the next request probes.
                self.circuit.release()

    async def _send(
        self,
        method: str,
        path: str,
        what: str,
        json: Any,
        params: Mapping[str, str | int] | None,
        ok_statuses: frozenset[int],
    ) -> httpx.Response:
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        operation = metrics.operation_of(method)
        started = time.monotonic()
        code = "error"
        try:
            # Sent from acquire to answer: every one of them spends the window.
            self.sent += 1
            try:
                slot = await self._slot(what)
            except BaseException:
                self.sent -= 1  # never sent: it spends no window
                raise
            started = time.monotonic()  # latency, not the wait for a slot
            sent_at = self.throttle.clock()
            try:
                try:
                    response = await self.client.request(
                        method, url, json=json, params=params, headers=dict(self.auth_headers)
                    )
                    code = str(response.status_code)
                finally:
                    self.sent -= 1
                return self._answer(response, method, url, what, sent_at, ok_statuses)
            finally:
                # Freed once the answer's 429 or window is taken in: a request waiting
                # for this slot then sees the wait it announced. 429 counts as failed
                # too: requests in flight when the budget ran out are refused together.
                failed = code in ("timeout", "error", "429") or code.startswith("5")
                await self.in_flight.release(slot, failed=failed)
        except httpx.TimeoutException:
            code = "timeout"
            self._unanswered()
            raise PlatformUnavailableError(f"cannot {what}: the platform timed out") from None
        except (
            httpx.TransportError,
            httpx.DecodingError,
            httpx.InvalidURL,
            UnicodeEncodeError,
        ) as exc:
            self._unanswered()
            raise _transport_error(exc, what) from None
        finally:
            metrics.REQUESTS.labels(self.platform, operation, code).inc()
            metrics.REQUEST_SECONDS.labels(self.platform, operation).observe(
                time.monotonic() - started
            )

    async def _slot(self, what: str) -> float:
        """An in-flight slot, taken while the platform's rate limit is still open.

        A request waits for a slot after the throttle let it through; a 429 that
        came meanwhile announced a wait it would otherwise run into.
        """
        while True:
            slot = await self.in_flight.acquire()
            if self.throttle.blocked_for() <= 0:
                return slot
            await self.in_flight.give_back()
            await self._acquire(what)

    def _unanswered(self) -> None:
        """No answer (timeout, broken connection, nothing sent): the circuit counts it;
        failed() also ends a probe the circuit let through."""
        self.throttle.answered()
        self.circuit.failed()

    def _answer(
        self,
        response: httpx.Response,
        method: str,
        url: str,
        what: str,
        sent_at: float,
        ok_statuses: frozenset[int],
    ) -> httpx.Response:
        """What an answer tells the circuit and the throttle; raise for a failure."""
        if response.status_code >= 500:
            self.circuit.failed()
        else:
            self.circuit.succeeded()
        window = self.rate_window(response)
        if window is not None:
            self.throttle.note_window(window, in_flight=self.sent, sent_at=sent_at)
        else:
            self.throttle.answered()
        logger.debug("%s %s -> %d", method, httpx.URL(url).path, response.status_code)
        if len(response.content) > MAX_RESPONSE_BYTES:
            # Checked once read (httpx reads the whole body before returning it):
            # this bounds what is parsed and kept, not what arrives.
            raise PlatformUnavailableError(
                f"cannot {what}: the platform's answer is larger than "
                f"{MAX_RESPONSE_BYTES // 2**20} MiB; refused"
            )
        if 200 <= response.status_code < 300 or response.status_code in ok_statuses:
            self.throttle.succeeded()
            return response
        self.raise_for(response, what)

    async def _acquire(self, what: str) -> None:
        started = time.monotonic()
        try:
            await self.throttle.acquire(what)
        except RateLimitedError:
            metrics.RATE_LIMIT_DEFERRED.labels(self.platform).inc()
            raise
        waited = time.monotonic() - started
        if waited > 0.001:
            metrics.RATE_LIMIT_WAITS.labels(self.platform).inc()
            metrics.RATE_LIMIT_WAIT_SECONDS.labels(self.platform).inc(waited)

    def raise_for(self, response: httpx.Response, what: str) -> NoReturn:
        """Raise the AlertSync error that a non-success `response` means."""
        status = response.status_code
        try:
            described = self.describe_error(response)
        except ValueError:  # a body no decoding makes sense of (UnicodeError included)
            described = response.reason_phrase
        # Redacted before clipping: clipping squeezes spaces and cuts, and a secret
        # changed by either would no longer be found.
        detail = _clip(redact(described))
        message = redact(f"cannot {what}: {status} {detail}".rstrip())
        if status == 429:
            announced = self.retry_after(response)
            seconds = self.throttle.backoff() if announced is None else announced
            self.throttle.block(seconds)
            raise RateLimitedError(f"{message} (retry in {seconds:.0f}s)", seconds)
        if status == 403 and _method_of(response) in WRITES and not self.bad_token(response):
            # Reads worked with these credentials (the resync lists first): a
            # write refused is a token without write permission, not a bad token.
            raise PermissionDeniedError(
                f"{message} (the credentials are accepted but may not make this change: "
                "give the token write permission on the platform)"
            )
        if status in (401, 403):
            raise CredentialsError(message)
        if status >= 500:
            raise PlatformUnavailableError(message)
        raise PlatformRejectedError(message, status)


def _transport_error(exc: Exception, what: str) -> AlertSyncError:
    """AlertSync's words for a request that got no answer."""
    if isinstance(exc, httpx.DecodingError):
        # A Content-Encoding its body does not have (a broken proxy, say).
        return PlatformUnavailableError(
            f"cannot {what}: the platform's answer could not be decoded"
        )
    if isinstance(exc, UnicodeEncodeError):
        # Only header values are encoded this strictly: the credentials.
        return CredentialsError(
            f"cannot {what}: the credentials hold characters an HTTP header "
            "cannot carry (only printable ASCII)"
        )
    if isinstance(exc, httpx.InvalidURL):
        return PlatformUnavailableError(
            f"cannot {what}: the request URL is not valid (an id with characters "
            "a URL cannot carry)"
        )
    return PlatformUnavailableError(
        f"cannot {what}: {type(exc).__name__} connecting to the platform"
    )


def _method_of(response: httpx.Response) -> str:
    try:
        return response.request.method
    except RuntimeError:  # a response made by hand, with no request behind it
        return "GET"


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
