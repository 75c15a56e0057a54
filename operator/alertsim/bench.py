"""`make bench`: batched observation against per-object polling, measured side by side.

For each mode, a fresh sandbox (Kubernetes emulator, Grafana OnCall simulator with a
per-request latency and no rate limit) gets N AlertIntegrations before the real operator
starts as its own process. Measured: time to converge from empty, platform requests and
Kubernetes writes per steady-state cycle, drift repair latency, and the operator's CPU
seconds and peak RSS. One table goes to stdout, every raw number to a JSON file.

The sandbox and operator pieces here (:class:`CountingEmulator`, :class:`Operator`,
:func:`statuses`, :func:`proc_usage`, :func:`machine`, :func:`render`) also serve
`make bench-budget` (:mod:`alertsim.bench_budget`); :func:`stop_operator` and
:func:`revision` also serve `make chaos` (:mod:`alertsim.chaos`).
"""

import argparse
import collections
import dataclasses
import datetime
import json
import math
import os
import platform
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self, TypeVar

import aiohttp.web
import attrs
import kmock

from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.kubeapi import EmulatorThread, StrictEmulator
from alertsim.server import SimulatorThread

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-oncall-token"
NS, PLATFORM, INTEGRATIONS = "default", "oncall", "alertintegrations"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KINDS = ("alertintegration", "alertplatform", "event", "other")  # what the writes are to
KIND_OF = {
    INTEGRATIONS: "alertintegration",
    "alertplatforms": "alertplatform",
    "clusteralertplatforms": "alertplatform",
    "events": "event",
}
MODES = ("batched", "per-object")  # ALERTSYNC_OBSERVE_MODE values; the operator refuses others
Obj = dict[str, Any]
T = TypeVar("T")


@attrs.define(kw_only=True)
class CountingEmulator(StrictEmulator):
    """Tallies every write request served, as ``"PATCH alertintegrations/status"``.

    Exact like the request log with ``requests_kept=None``, but in constant memory: the
    log would keep every request body, which per-object polling of 10,000 objects
    turns into gigabytes within minutes.
    """

    writes: collections.Counter[str] = attrs.field(factory=collections.Counter, init=False)

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        if request.method.value in WRITES:
            plural = request.resource.plural if request.resource is not None else "?"
            sub = f"/{request.subresource}" if request.subresource else ""
            self.writes[f"{request.method.value} {plural}{sub}"] += 1
        response: aiohttp.web.StreamResponse = await super()._handle(request)
        return response


def _objects(n: int, oncall_url: str, interval: int) -> list[tuple[str, Obj]]:
    platform_spec = {
        "productType": "grafana-oncall",
        "url": oncall_url,
        "credentialsSecretRef": {"name": "oncall-token", "key": "token"},
        "resyncInterval": f"{interval}s",
        # The simulator has no rate limit here, so neither has the account: this bench
        # compares the observation modes; `make bench-budget` measures the budget.
        "rateLimit": {"requestsPerMinute": 100_000},
    }
    objects: list[tuple[str, Obj]] = [
        ("secrets", {"metadata": {"name": "oncall-token"}, "stringData": {"token": TOKEN}}),
        ("alertplatforms", {"metadata": {"name": PLATFORM}, "spec": platform_spec}),
    ]
    for i in range(1, n + 1):
        spec = {"platformRef": {"name": PLATFORM}, "displayName": f"bench integration {i:05d}"}
        objects.append((INTEGRATIONS, {"metadata": {"name": f"bench-{i:05d}"}, "spec": spec}))
    return objects


def new_emulator() -> CountingEmulator:
    """A fresh emulator with AlertSync's CRDs installed."""
    emulator = CountingEmulator()
    emulator.load_crd(ROOT / "crds")
    return emulator


def statuses(emu: StrictEmulator, names: Sequence[str], pick: Callable[[Obj], T]) -> dict[str, T]:
    """``pick`` applied to each integration's status; runs in the emulator's loop, so that
    only small answers cross threads (the status of all N is read every 0.2 s)."""
    spec = emu.spec(INTEGRATIONS)  # looked up once, not N times
    return {
        n: pick((emu.read_object(spec, n, namespace=NS) or {}).get("status") or {}) for n in names
    }


def ready_webhook(status: Obj) -> str | None:
    """The webhookId once the integration is converged: Ready=True and created."""
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return status.get("webhookId") if ready else None


def proc_usage(pid: int) -> tuple[float | None, float | None]:
    """CPU seconds (own and reaped children's) and peak RSS in MiB, from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # it exited already
        return None, None
    # Fields after the ")" closing the command name, which may hold spaces: utime is 14th.
    utime, stime, cutime, cstime = (int(f) for f in stat.rsplit(")", 1)[1].split()[11:15])
    cpu = (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")
    hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), "")
    return cpu, int(hwm) / 1024 if hwm else None


class Operator:
    """The real operator (``alertsync run -A``) as its own process, for one ``with`` block.

    On leaving, SIGTERM, then SIGKILL after 30 s; :attr:`stop_seconds` and
    :attr:`exit_code` say how it went. Its output goes to ``log``.
    """

    def __init__(
        self,
        kubeconfig: Path,
        log: Path,
        *,
        mode: str,
        interval: int,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.log = log
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "ALERTSYNC_NAMESPACE": NS,
            "ALERTSYNC_OBSERVE_MODE": mode,
            "ALERTSYNC_POLL_INTERVAL": str(interval),
            **(env or {}),
        }
        self.stop_seconds: float | None = None
        self.exit_code: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("the operator is not running")
        return self._process

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def usage(self) -> tuple[float | None, float | None]:
        """CPU seconds and peak RSS (MiB) so far; read before the process ends."""
        return proc_usage(self.process.pid)

    def __enter__(self) -> Self:
        command = [sys.executable, "-m", "alertsync", "run", "-A", "--health", "", "--metrics", ""]
        with self.log.open("wb") as log:  # the child keeps its own descriptor
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [*command, "--log-level", "warning"], env=self.env, stdout=log, stderr=log
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        stopping = time.monotonic()
        stop_operator(self.process)
        self.stop_seconds = time.monotonic() - stopping
        self.exit_code = self.process.returncode


def stop_operator(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as Kubernetes stops a pod; SIGKILL if the operator is not gone in 30 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _percentile(values: Sequence[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else None


@dataclasses.dataclass
class _Sandbox:
    process: subprocess.Popen[bytes]
    k8s: EmulatorThread
    emulator: CountingEmulator
    oncall: GrafanaOnCallSimulator
    names: list[str]

    def counters(self) -> tuple[dict[str, int], dict[str, int]]:
        """Platform requests by route and Kubernetes writes by verb and resource, so far."""
        writes = self.k8s.call(lambda: dict(self.emulator.writes))
        return self.oncall.requests.snapshot(), writes


def delta(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    return {key: n - before.get(key, 0) for key, n in after.items() if n != before.get(key, 0)}


def run_mode(mode: str, args: argparse.Namespace, work: Path) -> Obj:
    """One fresh sandbox, one operator process, every measurement of one mode."""
    emulator = new_emulator()
    oncall = GrafanaOnCallSimulator(tokens={TOKEN: "admin"}, rate=None)
    oncall.faults.latency = args.latency / 1000
    result: Obj = {"mode": mode}
    with SimulatorThread(oncall) as oncall_url:
        # Created before the emulator serves, directly: N HTTP requests would only add noise.
        for resource, body in _objects(args.n, oncall_url, args.interval):
            emulator.create_object(resource, body, namespace=NS)
        names = [f"bench-{i:05d}" for i in range(1, args.n + 1)]
        with EmulatorThread(emulator) as k8s:
            kubeconfig = k8s.write_kubeconfig(work / f"bench-kubeconfig-{mode}")
            log = work / f"bench-operator-{mode}.log"
            started = time.monotonic()
            with Operator(kubeconfig, log, mode=mode, interval=args.interval) as operator:
                box = _Sandbox(operator.process, k8s, emulator, oncall, names)
                result |= _converge(box, started)
                result |= _steady(box, args.interval, args.cycles)
                result |= _drift(box, args.interval, args.drifts)
                # Read just before stopping: /proc/<pid> goes away with the process.
                result["cpu_seconds"], result["peak_rss_mib"] = operator.usage()
            result["stop_seconds"] = operator.stop_seconds
            result["exit_code"] = operator.exit_code
    return result


def _converge(box: _Sandbox, started: float) -> Obj:
    """Until every integration is Ready with a webhookId."""
    deadline, pending = started + max(120.0, len(box.names) / 5), box.names
    while pending and time.monotonic() < deadline and box.process.poll() is None:
        found = box.k8s.call(statuses, box.emulator, pending, ready_webhook)
        pending = [name for name, webhook in found.items() if webhook is None]
        if pending:
            time.sleep(0.2)
    requests, writes = box.counters()
    return {
        "converge_seconds": time.monotonic() - started if not pending else None,
        "converged_fraction": 1 - len(pending) / len(box.names),
        "converge_platform_requests": sum(requests.values()),
        "converge_requests": requests,
        "converge_writes": writes,
    }


def _steady(box: _Sandbox, interval: int, cycles: int) -> Obj:
    """One interval to settle, then `cycles` windows of one interval each, counted apart."""
    time.sleep(interval)
    cpu_before, _ = proc_usage(box.process.pid)
    counted: list[Obj] = []
    for _ in range(cycles):
        before = box.counters()
        time.sleep(interval)
        after = box.counters()
        requests, writes = delta(before[0], after[0]), delta(before[1], after[1])
        cycle: Obj = dict.fromkeys(KINDS, 0)
        for key, count in writes.items():
            plural = key.split(" ", 1)[1].split("/", 1)[0]  # "PATCH alertintegrations/status"
            cycle[KIND_OF.get(plural, "other")] += count
        cycle |= {"platform_requests": sum(requests.values()), "requests": requests}
        counted.append(cycle | {"writes": writes})
    cpu_after, _ = proc_usage(box.process.pid)
    out: Obj = {"cycles": counted, "cpu_seconds_per_cycle": None}
    for key in ("platform_requests", *KINDS):
        out[f"{key}_per_cycle"] = sum(c[key] for c in counted) / cycles
    if cpu_before is not None and cpu_after is not None:
        out["cpu_seconds_per_cycle"] = (cpu_after - cpu_before) / cycles
    return out


def _drift(box: _Sandbox, interval: int, drifts: int) -> Obj:
    """Rename k converged integrations at once; time until each has its name back."""
    webhooks = {
        n: w for n, w in box.k8s.call(statuses, box.emulator, box.names, ready_webhook).items() if w
    }
    chosen = random.Random(8).sample(sorted(webhooks), min(drifts, len(webhooks)))
    wanted = {webhooks[n]: f"bench integration {n.removeprefix('bench-')}" for n in chosen}
    before = box.counters()
    t0 = time.monotonic()
    for webhook in wanted:
        box.oncall.rename(webhook, f"renamed behind the operator's back {webhook}")
    latencies: list[float] = []
    while wanted and time.monotonic() < t0 + 3 * interval:
        time.sleep(0.05)
        for webhook, name in list(wanted.items()):
            if (box.oncall.get(webhook) or {}).get("name") == name:
                latencies.append(time.monotonic() - t0)
                del wanted[webhook]
    # The status write and Event follow the repair: give them up to one interval to land.
    settle, counts = time.monotonic() + interval, dict.fromkeys(chosen, 0)
    while time.monotonic() < settle:
        counts = box.k8s.call(
            statuses, box.emulator, chosen, lambda s: int(s.get("driftCount") or 0)
        )
        if all(count > 0 for count in counts.values()):
            break
        time.sleep(0.2)
    after = box.counters()
    out: Obj = {"drifts": len(chosen), "drift_latencies": latencies}
    out |= {"drifts_unrepaired": len(wanted), "drift_requests": delta(before[0], after[0])}
    out["drift_writes"] = delta(before[1], after[1])
    out["drift_counts"] = counts  # each should be 1: one drift, counted once
    for label, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0)):
        out[f"drift_{label}_seconds"] = _percentile(latencies, q)
    return out


ROWS = (  # (label, key, format)
    ("time to converge from empty (s)", "converge_seconds", "{:.1f}"),
    ("converged", "converged_fraction", "{:.1%}"),
    ("platform requests while converging", "converge_platform_requests", "{:.0f}"),
    ("platform requests / cycle", "platform_requests_per_cycle", "{:.1f}"),
    ("k8s writes / cycle: AlertIntegration", "alertintegration_per_cycle", "{:.1f}"),
    ("k8s writes / cycle: AlertPlatform", "alertplatform_per_cycle", "{:.1f}"),
    ("k8s writes / cycle: Event", "event_per_cycle", "{:.1f}"),
    ("k8s writes / cycle: other", "other_per_cycle", "{:.1f}"),
    ("operator CPU s / steady cycle", "cpu_seconds_per_cycle", "{:.2f}"),
    ("drift repair p50 (s)", "drift_p50_seconds", "{:.2f}"),
    ("drift repair p99 (s)", "drift_p99_seconds", "{:.2f}"),
    ("drift repair max (s)", "drift_max_seconds", "{:.2f}"),
    ("drifts not repaired in 3 intervals", "drifts_unrepaired", "{:.0f}"),
    ("operator CPU seconds (whole run)", "cpu_seconds", "{:.1f}"),
    ("operator stop after SIGTERM (s)", "stop_seconds", "{:.1f}"),
    ("operator peak RSS (MiB)", "peak_rss_mib", "{:.0f}"),
)


def revision() -> str | None:
    """The operator's source as run: a commit, ``-dirty`` if the working tree differs."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH is fine here
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):  # no git, or not a checkout
        return None
    return done.stdout.strip()


def _ratio(a: Any, b: Any) -> float | None:
    ok = isinstance(a, int | float) and isinstance(b, int | float) and b != 0
    return a / b if ok else None


def render(header: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    """A plain text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    fmt_row = "  ".join([f"{{:<{widths[0]}}}", *(f"{{:>{w}}}" for w in widths[1:])]).format
    return "\n".join(
        [fmt_row(*header), "  ".join("-" * w for w in widths)] + [fmt_row(*row) for row in lines]
    )


def table(results: dict[str, Obj]) -> str:
    modes = list(results)
    both = modes == ["batched", "per-object"]
    header = ["metric", *modes, *(["batched / per-object"] if both else [])]
    lines = []
    for label, key, fmt in ROWS:
        values = [results[m].get(key) for m in modes]
        cells = [fmt.format(v) if isinstance(v, int | float) else "-" for v in values]
        if both:
            ratio = _ratio(*values)
            cells.append(f"{ratio:.3g}" if ratio is not None else "-")
        lines.append([label, *cells])
    return render(header, lines)


def machine() -> Obj:
    """Where and what ran: taken before the runs, the date they started, the source they ran."""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "revision": revision(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m alertsim.bench", description=__doc__)
    parser.add_argument("--n", type=int, default=int(os.environ.get("N", "1000")))
    parser.add_argument("--interval", type=int, default=10, help="resyncInterval, seconds")
    parser.add_argument("--latency", type=float, default=20.0, help="per request, ms")
    parser.add_argument("--drifts", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--modes", default="batched,per-object")
    parser.add_argument("--json", type=Path, default=ROOT / ".sandbox" / "bench.json")
    args = parser.parse_args(argv)
    if args.interval < 1 or args.n < 1 or args.cycles < 1:
        parser.error("--n, --interval and --cycles must be at least 1")
    modes = args.modes.split(",")
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes: a comma-separated list of {', '.join(MODES)}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    taken = machine()  # before the runs: the date they started, the source they ran
    began = time.monotonic()
    results = {mode: run_mode(mode, args, args.json.parent) for mode in modes}
    print(
        f"N={args.n}, resyncInterval={args.interval}s, latency={args.latency:g} ms, "
        f"{args.cycles} cycles, {args.drifts} drifts"
    )
    print(table(results), flush=True)
    ratios = {}
    if list(results) == ["batched", "per-object"]:
        batched, per_object = results["batched"], results["per-object"]
        ratios = {key: _ratio(batched.get(key), per_object.get(key)) for _, key, _ in ROWS}
    parameters = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    report: Obj = {"parameters": parameters, "machine": taken, "modes": results}
    report["ratios"] = ratios
    report["run_seconds"] = time.monotonic() - began
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"run time {report['run_seconds']:.0f} s; raw numbers in {args.json}")


if __name__ == "__main__":
    main()
