"""A webhook receiver for tests and the demo: records what platforms deliver to it."""

import json
import threading
from typing import Any

import httpx

__all__ = ["Receiver"]


class Receiver:
    """Served with Sandbox.serve; answers `status` to every POST and keeps the bodies."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self._lock = threading.Lock()
        self._received: list[tuple[str, Any]] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        try:
            payload: Any = json.loads(body) if body else None
        except ValueError:
            payload = body.decode("utf-8", "replace")
        with self._lock:
            self._received.append((request.url.path, payload))
        return httpx.Response(self.status, json={"ok": self.status < 300})

    def received(self, path: str | None = None) -> list[Any]:
        with self._lock:
            return [body for at, body in self._received if path in (None, at)]
