"""Serve any simulator's ``handle`` over real HTTP on 127.0.0.1 with aiohttp.

Each aiohttp request becomes an ``httpx.Request``, goes through the simulator exactly as in
process, and the ``httpx.Response`` goes back out. Transport faults become real network
behaviour: a simulated timeout stalls the connection (then drops it), a simulated reset
resets the TCP connection, and latency is the simulator's own ``asyncio.sleep``.

``SimulatorServer`` is for async code (``async with SimulatorServer(sim) as url``);
``SimulatorThread`` runs the same server on its own loop in a background thread for sync
tests, the demo and the benchmark (``with SimulatorThread(sim) as url``). The simulator's
state stays safe to touch from the calling thread: see :mod:`alertsim.core` on locking.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import struct
import sys
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TypedDict, TypeVar, Unpack

import httpx
from aiohttp import web
from multidict import CIMultiDict

from alertsim.core import Handler, SimulatedReset, SimulatedTimeout

__all__ = ["SimulatorServer", "SimulatorThread", "credential_choice", "run", "simulator_parser"]

T = TypeVar("T")

# Framing headers describe the hop, not the message; each side computes its own.
_HOP_HEADERS = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding"})


class SimulatorServer:
    """One simulator served on ``host:port`` (port 0: a free one) while started."""

    def __init__(
        self,
        simulator: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        stall_seconds: float = 30.0,
    ) -> None:
        self._simulator = simulator
        self._host = host
        self._port = port
        # A stalled request holds its connection this long (or until stop) and is then dropped;
        # clients are expected to time out first.
        self._stall_seconds = stall_seconds
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the simulator server is not running")
        return self._url

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # In-flight requests are only ever stalls or latency; do not let them hold up stop().
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self._stopping = asyncio.Event()
        self._url = f"http://{host}:{port}"
        return self._url

    async def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._url = None

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        forwarded = httpx.Request(
            request.method,
            f"{request.scheme}://{request.host}{request.raw_path}",
            headers=[(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS],
            content=await request.read(),
        )
        try:
            response = await self._simulator.handle(forwarded)
        except SimulatedTimeout:
            await self._stall()
            _reset(request)
            # Never sent: the connection is gone, and aiohttp drops writes to it quietly.
            return web.Response(status=504)
        except SimulatedReset:
            _reset(request)
            return web.Response(status=502)
        headers = CIMultiDict(
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_HEADERS
        )
        return web.Response(status=response.status_code, body=response.content, headers=headers)

    async def _stall(self) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._stall_seconds)


def _reset(request: web.Request) -> None:
    transport = request.transport
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0 turns the close into a TCP RST, so the client sees "connection reset by
        # peer" rather than a clean end of stream.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Options(TypedDict, total=False):
    """What :class:`SimulatorThread` hands to :class:`SimulatorServer`, which holds the defaults."""

    host: str
    port: int
    stall_seconds: float


class SimulatorThread:
    """A :class:`SimulatorServer` on its own event loop in a daemon thread."""

    def __init__(self, simulator: Handler, **options: Unpack[_Options]) -> None:
        self._server = SimulatorServer(simulator, **options)
        self._thread = threading.Thread(target=self._run, name="alertsim-server", daemon=True)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self._server.url

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the simulator server did not start in time")
        if self._error is not None:
            raise RuntimeError("the simulator server failed to start") from self._error
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self._server.start()
        except Exception as exc:
            # Re-raised in start() on the caller's thread; raising here would only be printed.
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._server.stop()


def simulator_parser(name: str, description: str) -> argparse.ArgumentParser:
    """The command line every simulator shares: ``alertsim <name> --host --port``."""
    parser = argparse.ArgumentParser(prog=f"alertsim {name}", description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    return parser


def credential_choice(
    choices: Mapping[str, T], kind: str, listed: str
) -> Callable[[str], tuple[str, T]]:
    """An argparse ``type`` for ``CREDENTIAL[:CHOICE]``, e.g. a token and its role.

    It gives ``(credential, choices[CHOICE])``; without a choice, ``choices[""]``.
    """

    def parse(value: str) -> tuple[str, T]:
        credential, _, choice = value.partition(":")
        if choice not in choices:
            raise argparse.ArgumentTypeError(f"unknown {kind} {choice!r} ({listed})")
        return credential, choices[choice]

    return parse


def run(simulator: Handler, host: str = "127.0.0.1", port: int = 0, *, name: str) -> None:
    """Serve until interrupted. The URL goes to stdout alone on one line, for scripts to read."""

    async def serve() -> None:
        async with SimulatorServer(simulator, host, port) as url:
            print(f"{name} simulator listening on {url} (Ctrl-C stops)", file=sys.stderr)
            print(url, flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
