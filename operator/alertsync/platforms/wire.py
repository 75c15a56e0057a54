"""What every platform client shares in reading the JSON its platform sends.

Wire models ignore fields they do not know (platforms add fields) and are frozen.
An answer that does not parse is the platform's fault and may pass: it raises
PlatformUnavailableError, retried like an outage, never a validation error.
"""

from collections.abc import Mapping
from typing import TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from alertsync.errors import PlatformUnavailableError
from alertsync.platforms.http import PlatformHttp, json_of

__all__ = ["GONE", "CamelWireModel", "WireModel", "fetch", "parsed", "read_unless_gone"]

# A read or delete of an object that does not exist (any more): not an error.
GONE = frozenset({404})

M = TypeVar("M", bound=BaseModel)


class WireModel(BaseModel):
    """A platform's JSON object, with the names the platform gives its fields."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class CamelWireModel(WireModel):
    """A platform's JSON object whose fields are camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel)


def parsed(model: type[M], response: httpx.Response, what: str) -> M:
    """The body as `model`; an unreadable answer is the platform's fault, worth a retry."""
    try:
        return model.model_validate(json_of(response))
    except (ValueError, ValidationError):
        raise PlatformUnavailableError(
            f"cannot {what}: the platform answered {response.status_code} with an unreadable body"
        ) from None


async def fetch(
    http: PlatformHttp,
    model: type[M],
    method: str,
    path: str,
    *,
    what: str,
    json: object = None,
    params: Mapping[str, str | int] | None = None,
) -> M:
    """One request whose answer is one `model`."""
    response = await http.request(method, path, what=what, json=json, params=params)
    return parsed(model, response, what)


async def read_unless_gone(http: PlatformHttp, model: type[M], path: str, *, what: str) -> M | None:
    """One object, read by its path; None when the platform has no such object (404)."""
    response = await http.request("GET", path, what=what, ok_statuses=GONE)
    return None if response.status_code == 404 else parsed(model, response, what)
