"""The admin routes every simulator has for its main objects, written once.

Each simulator lets a test or the demo stage its main objects (integrations, endpoints,
channels, alert sources) behind the operator's back over HTTP, below ``/_sim``:
``GET|POST /{name}`` lists and creates, ``GET|PATCH|DELETE /{name}/{id}`` reads, changes
and deletes one. Only the behind-the-back methods differ, so each simulator hands its own
to :meth:`AdminCollection.routes` and sets the result as its ``admin_collection``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pydantic

from alertsim.core import AdminRoute, admin_body, json_response

__all__ = ["AdminCollection"]


@dataclass(frozen=True)
class AdminCollection:
    """One collection's name in the admin path and the bodies its POST and PATCH take."""

    name: str
    new: type[pydantic.BaseModel]
    change: type[pydantic.BaseModel]

    def routes(
        self,
        listing: Callable[[], object],
        get: Callable[[str], object | None],
        add: Callable[..., object],
        patch: Callable[..., object],
        remove: Callable[[str], object],
    ) -> AdminRoute:
        """The five routes over these methods; the answer is ``None`` for any other path.

        ``get`` shows one object as the admin API does (``None``: no such id). A POST body
        is validated into :attr:`new` and all its fields go to ``add`` as keyword arguments;
        a PATCH body is validated into :attr:`change` and the fields it sets go to ``patch``.
        Ids go to the methods as the path spells them. The methods raise ``KeyError`` and
        ``ValueError`` as they do for Python callers: the simulator answers those 404 and 400.
        """

        def route(request: httpx.Request, path: str) -> httpx.Response | None:
            name, *rest = path.strip("/").split("/")
            if name != self.name:
                return None
            match request.method, rest:
                case "GET", []:
                    return json_response(200, listing())
                case "POST", []:
                    new = self.new.model_validate(admin_body(request))
                    return json_response(201, add(**new.model_dump()))
                case "GET", [pk]:
                    found = get(pk)
                    if found is None:
                        raise KeyError(pk)
                    return json_response(200, found)
                case "PATCH", [pk]:
                    change = self.change.model_validate(admin_body(request))
                    patch(pk, **change.model_dump(exclude_unset=True))
                    return json_response(200, get(pk))
                case "DELETE", [pk]:
                    remove(pk)
                    return httpx.Response(204)
            return None

        return route
