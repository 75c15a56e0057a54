"""Operator replicas peering through the Kubernetes emulator, and who sent what to a platform.

Each replica is the real operator (`alertsync run --peering ...`) in a process of its own,
with its own `POD_ID`, as the chart runs them. The operator names that Pod in the
User-Agent of every platform request (`alertsync/<version> (<pod>)`), so a hook on each
simulator knows which replica sent what, and when (`PlatformLog`).

`python -m tests.support.failover run ...` is `alertsync run ...` with two test knobs,
changing nothing in the operator: kopf's peering lifetime from
``$FAILOVER_PEERING_LIFETIME`` (seconds: how long a replica that died without a word
stays "alive" to the others; the chart keeps kopf's 60 s, and a test that wants a
takeover after a SIGKILL in less than a minute shortens it), and a start held until a
file named by ``$FAILOVER_GO_FILE`` exists (`Replica.go`), so that a replica can join
the peering at a chosen moment instead of after its imports.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from alertsim.core import FaultRule, Simulator
from alertsim.kubeapi import EmulatorThread

__all__ = ["PEERING", "PlatformLog", "Replica", "Sent", "install_peering", "keepalives"]

# Not tests.support.sandbox's ROOT: importing that module swaps kopf's default registry,
# which the operator's process (`python -m tests.support.failover`) must keep.
ROOT = Path(__file__).parents[2]
PEERING = "alertsync"  # the ClusterKopfPeering the replicas meet in (chart: peering.name)
LIFETIME_ENV = "FAILOVER_PEERING_LIFETIME"
GO_ENV = "FAILOVER_GO_FILE"
PEERING_CRD = ROOT / "charts/alertsync/crds/kopf.dev_clusterkopfpeerings.yml"
# kopf's plain log lines start with the local time: [2026-12-07 15:37:17,885]
_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")
_AGENT = re.compile(r"^alertsync/\S+ \((?P<pod>[^)]+)\)$")


def install_peering(k8s: EmulatorThread) -> None:
    """kopf's peering CRD as the chart ships it, and the object the chart creates."""

    def load() -> None:  # in the emulator's loop, like its HTTP requests
        k8s.emu.load_crd(PEERING_CRD)

    k8s.call(load)
    k8s.create_object(
        "clusterkopfpeerings",
        {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": PEERING}},
    )


def keepalives(k8s: EmulatorThread) -> dict[str, dict[str, Any]]:
    """The peering object's status: each live replica's priority, lifetime and lastseen."""
    peering = k8s.read_object("clusterkopfpeerings", PEERING) or {}
    return dict(peering.get("status") or {})


@dataclass
class Replica:
    """One operator process, as one Pod of the Deployment runs it."""

    name: str
    priority: int
    process: subprocess.Popen[bytes]
    log: Path
    go_file: Path

    @classmethod
    def start(
        cls,
        name: str,
        priority: int,
        kubeconfig: Path,
        logs: Path,
        *,
        lifetime: int | None = None,
        primed: bool = False,
    ) -> "Replica":
        """Start `alertsync run -A --peering alertsync --priority P` as the Pod `name`.

        `primed`: the process imports everything, then waits for `go()` before it runs:
        a replica that joins the peering a moment after it is asked to, not seconds.
        """
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "POD_ID": name}
        for key in (LIFETIME_ENV, GO_ENV):
            env.pop(key, None)
        module = "alertsync"
        if lifetime is not None:
            env[LIFETIME_ENV] = str(lifetime)
            module = "tests.support.failover"
        go = logs / f"{name}.go"
        if primed:
            env[GO_ENV] = str(go)
            module = "tests.support.failover"
        log = logs / f"{name}.log"
        args = ["run", "-A", "--health", "", "--metrics", "", "--peering", PEERING]
        args += ["--priority", str(priority), "--log-level", "info", "--log-format", "plain"]
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", module, *args],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(name, priority, process, log, go)

    def primed(self) -> bool:
        """A `primed` replica has imported the operator and waits for `go()`."""
        return self.go_file.with_suffix(".primed").exists()

    def go(self) -> float:
        """Let a `primed` replica run; returns when (time.monotonic())."""
        self.go_file.touch()
        return time.monotonic()

    def signal(self, signum: signal.Signals) -> float:
        """Send `signum`; returns when (time.monotonic()) it was sent."""
        sent = time.monotonic()
        self.process.send_signal(signum)
        return sent

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in 30 s (test teardown)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def logged_at(self, text: str) -> float | None:
        """When (as time.monotonic()) the first log line with `text` was written, or None."""
        for line in self.output().splitlines():
            stamp = _STAMP.match(line)
            if stamp and text in line:
                wall = datetime.strptime(stamp[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                return time.monotonic() - (time.time() - wall)
        return None

    def resumed(self) -> bool:
        """kopf logged that this replica acts (alone, or the highest priority)."""
        return "Resuming operations after the pause" in self.output()


@dataclass(frozen=True)
class Sent:
    """One platform request as the simulator received it."""

    at: float  # time.monotonic() on arrival, comparable with Replica.signal's
    replica: str  # the Pod in the User-Agent
    account: str
    method: str
    route: str


@dataclass
class PlatformLog:
    """Every request the watched simulators received, attributed to the replica that sent it."""

    _sent: list[Sent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def watch(self, account: str, simulator: Simulator) -> None:
        def record(request: httpx.Request, _fault: FaultRule | None) -> None:
            agent = _AGENT.match(request.headers.get("user-agent", ""))
            sent = Sent(
                time.monotonic(),
                agent["pod"] if agent else "?",
                account,
                request.method,
                simulator.route_of(request),
            )
            with self._lock:
                self._sent.append(sent)

        simulator.hooks.append(record)

    def sent(self, replica: str | None = None, account: str | None = None) -> list[Sent]:
        with self._lock:
            sent = list(self._sent)
        return [
            s
            for s in sent
            if (replica is None or s.replica == replica)
            and (account is None or s.account == account)
        ]

    def first(self, replica: str, method: str | None = None) -> Sent | None:
        return next((s for s in self.sent(replica) if method in (None, s.method)), None)

    def turns(self, account: str) -> list[str]:
        """Who held the account, in order: consecutive requests of one replica are one turn.

        One replica at a time, and a replica that stopped never back: no name twice.
        """
        turns: list[str] = []
        for sent in self.sent(account=account):
            if not turns or turns[-1] != sent.replica:
                turns.append(sent.replica)
        return turns

    def counts(self, replicas: Sequence[str], accounts: Sequence[str]) -> str:
        """A small table: requests per replica (rows) and account (columns)."""
        width = max(len(name) for name in [*replicas, "replica"])
        lines = [f"{'replica':<{width}}  " + "  ".join(f"{a:>10}" for a in accounts)]
        for name in replicas:
            row = [len(self.sent(name, account)) for account in accounts]
            lines.append(f"{name:<{width}}  " + "  ".join(f"{n:>10}" for n in row))
        return "\n".join(lines)


def _run_replica(argv: Sequence[str]) -> None:
    """`alertsync run`, with kopf's peering lifetime from the environment (if set), and
    (if asked) only once the test says go."""
    import kopf

    import alertsync.handlers  # noqa: F401 - what `alertsync run` imports, imported now
    from alertsync import cli

    lifetime = os.environ.get(LIFETIME_ENV)
    if lifetime is not None:

        @kopf.on.startup()
        async def peering_lifetime(settings: kopf.OperatorSettings, **_: Any) -> None:
            # Startup handlers run before kopf starts peering: its first keep-alive has it.
            settings.peering.lifetime = int(lifetime)

    go = os.environ.get(GO_ENV)
    if go is not None:
        Path(go).with_suffix(".primed").touch()
        while not Path(go).exists():
            time.sleep(0.01)
    cli.main(argv)


if __name__ == "__main__":
    _run_replica(sys.argv[1:])
