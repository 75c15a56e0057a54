"""Confluent Cloud notifications/v1 client: integrations, one method per endpoint.

Errors arrive as a `Failure` body (`errors[]` with `source.pointer` or
`source.parameter`); every answer carries `X-Request-Id`, which the error
message keeps so that Confluent support can find the request. Rate limits are
announced on every success as `X-RateLimit-Limit/-Remaining/-Reset`, the reset
in seconds from now (not an epoch, unlike GitHub's header of the same name).
"""

import urllib.parse
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from alertsync.errors import PlatformUnavailableError
from alertsync.platforms.confluent.wire import Failure, FailureError, Integration, IntegrationList
from alertsync.platforms.http import (
    MAX_ANNOUNCED_WAIT,
    PlatformHttp,
    RateWindow,
    header_seconds,
    json_of,
)
from alertsync.platforms.paging import follow_pages
from alertsync.platforms.wire import GONE, fetch, parsed, read_unless_gone

__all__ = [
    "INTEGRATIONS",
    "PAGE_SIZE",
    "TEST",
    "ConfluentClient",
    "describe_error",
    "rate_window",
    "retry_after",
    "spec_field",
]

INTEGRATIONS = "/notifications/v1/integrations"
TEST = "/notifications/v1/integrations:test"
PAGE_SIZE = 250  # the server's maximum: fewest pages for the batched listing

# Where a field of the request body comes from in an AlertIntegration.
_SPEC_FIELDS = {
    "/display_name": "spec.displayName",
    "/description": "the marker in description",
    "/target": "spec.confluent.targetKind",
    "/target/kind": "spec.confluent.targetKind",
    "/target/url": "spec.webhook.url",
    "/target/webhook_url": "spec.webhook.url",
}


def spec_field(pointer: str) -> str | None:
    """The AlertIntegration field a JSON pointer of our request body came from."""
    return _SPEC_FIELDS.get(pointer)


def describe_error(response: httpx.Response) -> str:
    """`[request id …] Title at /pointer (spec.field): detail; …` from a Failure body."""
    request_id = response.headers.get("X-Request-Id")
    text = _describe_body(response)
    if response.status_code == 401:
        challenge = _challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge and challenge not in text:
            text = f"{text}: {challenge}" if text else challenge
    # First, so that clipping a long list of errors never loses it.
    return f"[request id {request_id}] {text}" if request_id else text


def _describe_body(response: httpx.Response) -> str:
    try:
        failure = Failure.model_validate(json_of(response))
    except (ValueError, ValidationError):
        return response.reason_phrase
    parts = [_describe_one(error) for error in failure.errors]
    return "; ".join(part for part in parts if part) or response.reason_phrase


def _describe_one(error: FailureError) -> str:
    head = error.title or error.code or ""
    if error.code and error.title:
        head = f"{error.title} ({error.code})"
    source = error.source
    if source is not None and source.pointer:
        where = spec_field(source.pointer)
        head += f" at {source.pointer}" + (f" ({where})" if where else "")
    elif source is not None and source.parameter:
        head += f" in query parameter {source.parameter}"
    detail = error.detail or error.message
    if detail and detail != error.title:
        return f"{head}: {detail}" if head else detail
    return head


def _challenge(header: str) -> str:
    """The error_description of `Basic error="invalid_key", error_description="..."`."""
    _, _, rest = header.partition("error_description=")
    return rest.strip().strip('"') if rest else ""


def retry_after(response: httpx.Response) -> float | None:
    return header_seconds(response, "Retry-After", "X-RateLimit-Reset")


def rate_window(response: httpx.Response) -> RateWindow | None:
    """The window announced in this answer's headers; the reset is relative seconds."""
    remaining = _int_header(response, "X-RateLimit-Remaining")
    reset = _int_header(response, "X-RateLimit-Reset")
    if remaining is None or reset is None:
        return None
    return RateWindow(
        remaining=max(0, remaining),
        # Bounded like any announced wait: 10**400 seconds is no window.
        reset_seconds=float(min(max(0, reset), MAX_ANNOUNCED_WAIT)),
        limit=_int_header(response, "X-RateLimit-Limit"),
    )


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


class ConfluentClient:
    def __init__(self, http: PlatformHttp) -> None:
        self.http = http

    async def list_integrations(self) -> list[Integration]:
        """Every integration of the organisation, all pages, email kinds included."""
        what = "list Confluent integrations"

        async def read(token: str | None) -> tuple[list[Integration], str | None]:
            # Only the token goes back, to our own base URL: following the absolute
            # link would send the API key to whatever host it names.
            params: dict[str, str | int] = (
                {"page_size": PAGE_SIZE} if token is None else {"page_token": token}
            )
            page = await fetch(
                self.http, IntegrationList, "GET", INTEGRATIONS, what=what, params=params
            )
            return page.data, _page_token(page.metadata.next)

        return await follow_pages(read, what=what, repeated="the platform repeated a page token")

    async def check(self) -> None:
        """One small authenticated read: the key is accepted and the API answers."""
        await self.http.request(
            "GET", INTEGRATIONS, what="list Confluent integrations", params={"page_size": 1}
        )

    async def get_integration(self, id_: str) -> Integration | None:
        what = f"read integration {id_}"
        return await read_unless_gone(self.http, Integration, _one(id_), what=what)

    async def create_integration(self, body: dict[str, Any]) -> Integration:
        what = f"create integration {body.get('display_name')!r}"
        response = await self.http.request("POST", INTEGRATIONS, what=what, json=body)
        location = response.headers.get("Location")
        if location is None or _readable(Integration, response):
            return parsed(Integration, response, what)
        # A 201 without the object in its body: read it where Location says.
        id_ = _last_segment(location)
        found = await self.get_integration(urllib.parse.unquote(id_)) if id_ else None
        if found is None:
            raise PlatformUnavailableError(
                f"cannot {what}: the integration its Location header names is not readable yet"
            )
        return found

    async def update_integration(self, id_: str, body: dict[str, Any]) -> Integration:
        """PATCH: only the fields in `body` change."""
        what = f"update integration {id_}"
        return await fetch(self.http, Integration, "PATCH", _one(id_), what=what, json=body)

    async def delete_integration(self, id_: str) -> None:
        """A second delete answers 404: already gone is success."""
        await self.http.request(
            "DELETE", _one(id_), what=f"delete integration {id_}", ok_statuses=GONE
        )

    async def test_integration(self, body: dict[str, Any]) -> None:
        """Confluent sends a test notification to the target in `body` (204)."""
        await self.http.request(
            "POST", TEST, what=f"test integration {body.get('display_name')!r}", json=body
        )


def _one(id_: str) -> str:
    return f"{INTEGRATIONS}/{urllib.parse.quote(id_, safe='')}"


def _readable(model: type[BaseModel], response: httpx.Response) -> bool:
    try:
        model.model_validate(json_of(response))
    except (ValueError, ValidationError):
        return False
    return True


def _page_token(next_link: str | None) -> str | None:
    if not next_link:
        return None
    try:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(next_link).query)
    except ValueError:  # "http://[" and the like
        return None
    tokens = query.get("page_token")
    return tokens[-1] if tokens else None


def _last_segment(location: str) -> str:
    try:
        path = urllib.parse.urlsplit(location).path
    except ValueError:
        return ""
    return path.rstrip("/").rsplit("/", 1)[-1]
