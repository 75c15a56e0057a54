"""`alertsync export` end to end, every platform: what was made by hand comes under GitOps.

Objects are made on the platform behind AlertSync's back; `alertsync export --output`
writes them as AlertIntegrations; `alertsync plan -f` on the export reports no change
for every object (each adopted in place, nothing written on it but our marker) and
exits 0; the real `kubectl apply -k` applies the export to the Kubernetes emulator,
where the real operator adopts every object in place (same ids, no create, no delete,
no write but AlertSync's marker); a second export writes nothing.
"""

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from alertsim.confluent import ConfluentSimulator
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.ilert import ILertSimulator
from alertsim.mackerel import MackerelSimulator
from alertsim.zstack import ZStackSimulator
from alertsync import cli
from alertsync.export import ANNOTATION
from alertsync.platforms.base import marker
from tests.platforms import ROWS
from tests.platforms.mackerel import GROUP
from tests.platforms.row import RECEIVER, PlatformRow
from tests.platforms.zstack import TOPIC
from tests.support.sandbox import Sandbox, ready, running_operator
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

WRITES = ("POST", "PUT", "PATCH", "DELETE")
# ZStack logs in (PUT) and out (DELETE) around every use of its API: sessions, not objects.
SESSION_ROUTES = ("/zstack/v1/accounts/login", "/zstack/v1/accounts/sessions/{uuid}")
KUBECTL = Path(sys.executable).parent / "kubectl"


# -- objects made by hand, per platform: (id -> the object as the simulator shows it) --------


def seed_oncall(sim: GrafanaOnCallSimulator) -> None:
    sim.add_team("TPAYMENTS")
    chain = sim.add_escalation_chain("primary", "TPAYMENTS")
    rich = sim.add_integration(
        "alertmanager", name="payments prod", team_id="TPAYMENTS", escalation_chain_id=chain
    )["id"]
    sim.set_template(rich, "grouping_key", "{{ payload.labels.alertname }}")
    sim.set_template(rich, "slack.title", "{{ payload.title }}")
    sim.add_integration("webhook", name="checkout")


def seed_ilert(sim: ILertSimulator) -> None:
    team = sim.add_team("payments")
    rich = sim.add_alert_source("payments prod", "PROMETHEUS", escalation_policy_id=1)["id"]
    sim.patch(
        rich,
        teams=[team],
        alert_creation="ONE_ALERT_GROUPED_PER_WINDOW",
        alert_grouping_window="PT30M",
        auto_resolution_timeout="PT4H",
    )
    sim.add_alert_source("checkout api", "API", escalation_policy_id=1, active=False)


def seed_mackerel(sim: MackerelSimulator) -> None:
    group = next(g["id"] for g in sim.notification_groups() if g["name"] == GROUP)
    rich = sim.add_channel("payments hook", url=RECEIVER, events=["alert", "alertGroup"])["id"]
    sim.add_to_group(group, rich)
    sim.add_channel("quiet hook", url=RECEIVER, events=[], add_to_default_group=False)


def seed_confluent(sim: ConfluentSimulator) -> None:
    sim.add_integration("kafka prod", kind="Webhook", url=RECEIVER)
    sim.add_integration("kafka chat", kind="Slack", url=RECEIVER)


def seed_zstack(sim: ZStackSimulator) -> None:
    rich = sim.add_endpoint("storage alarms", RECEIVER, username="receiver")["uuid"]
    sim.subscribe(TOPIC, rich)
    sim.add_endpoint("quiet alarms", RECEIVER, state="Disabled")


def _confluent_objects(sim: ConfluentSimulator) -> dict[str, dict[str, Any]]:
    # Confluent's own email integration (every organisation has one) is never exported.
    return {
        i["id"]: i
        for i in sim.integrations()
        if i["target"]["kind"] not in ("RoleEmail", "UserEmail")
    }


# row id -> (seed, objects, the field adoption writes our marker to, skipped by design)
PLATFORMS: dict[
    str, tuple[Callable[[Any], None], Callable[[Any], dict[str, Any]], str | None, int]
] = {
    "grafana-oncall": (
        seed_oncall,
        lambda sim: {i["id"]: i for i in sim.integrations()},
        "description_short",
        0,
    ),
    "ilert": (seed_ilert, lambda sim: {str(s["id"]): s for s in sim.alert_sources()}, None, 0),
    "mackerel": (seed_mackerel, lambda sim: {c["id"]: c for c in sim.channels()}, None, 0),
    "confluent": (seed_confluent, _confluent_objects, "description", 1),
    "zstack": (seed_zstack, lambda sim: {e["uuid"]: e for e in sim.endpoints()}, "description", 0),
}


def test_every_platform_of_the_suite_is_exported() -> None:
    assert sorted(PLATFORMS) == sorted(row.id for row in ROWS)


class Cli:
    """`alertsync ...` in this process, as a person runs it: exit code, stdout, stderr."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            cli.main(list(args))
        out, err = self.capsys.readouterr()
        return int(done.value.code or 0), out, err


def kubectl(sandbox: Sandbox, tmp_path: Path, *args: str) -> str:
    options = [f"--kubeconfig={sandbox.kubeconfig}", f"--cache-dir={tmp_path / 'kubectl-cache'}"]
    done = subprocess.run(  # noqa: S603 - the venv's kubectl, fixed arguments
        [str(KUBECTL), *options, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def platform_writes(sim: Any) -> dict[str, int]:
    return {
        key: count
        for key, count in sim.requests.snapshot().items()
        if key.split(" ", 1)[0] in WRITES and key.split(" ", 1)[1] not in SESSION_ROUTES
    }


def test_export_plan_apply_adopts_everything_in_place_and_a_second_export_writes_nothing(
    row: PlatformRow[Any], sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed, objects, marker_field, skipped = PLATFORMS[row.id]
    sim = row.simulator()
    row.add_platform(sandbox, sandbox.serve(sim))
    seed(sim)
    before = objects(sim)
    assert len(before) >= 2
    sim.requests.clear()
    run = Cli(capsys)
    out = tmp_path / "gitops"

    # 1. The export: one file per object, read in one listing, nothing written anywhere.
    code, stdout, stderr = run("export", "--platform", "suite", "--output", str(out))
    assert code == (2 if skipped else 0), stderr
    assert stdout == ""
    assert f"exported: {len(before)} ({out}: {len(before)} new" in stderr
    assert f"skipped: {skipped}" in stderr
    assert platform_writes(sim) == {}
    files = sorted(p.name for p in out.glob("*.yaml") if p.name != "kustomization.yaml")
    assert len(files) == len(before)
    manifests = [yaml.safe_load((out / name).read_text()) for name in files]
    exported = {m["metadata"]["annotations"][ANNOTATION]: m for m in manifests}
    assert sorted(exported) == sorted(before)
    text = "".join(p.read_text() for p in out.iterdir()) + stdout + stderr
    assert [s for s in row.secret.values() if s in text] == []

    # 2. The plan: no change for every object, each adopted in place with nothing
    # written on it but our marker.
    code, stdout, stderr = run("plan", "-f", str(out), "-o", "json")
    plan = json.loads(stdout)
    assert code == 0, stderr
    assert plan["exitCode"] == 0
    assert plan["summary"]["no-change"] == len(before)
    for resource in plan["resources"]:
        assert (resource["action"], resource["adopted"]) == ("no-change", True), resource
        assert resource["externalId"] in exported
        assert set(resource["fields"]) <= {"marker"}
        assert bool(resource["fields"]) == (marker_field is not None)
        # after_write: the step after any write, recorded whatever it does (Confluent's
        # delivery test runs only with testOnChange, which the export leaves unset).
        assert {w["operation"] for w in resource["writes"]} <= {"update", "after_write"}
    assert len(plan["resources"]) == len(before)
    assert platform_writes(sim) == {}
    code, stdout, stderr = run("plan", "-f", str(out))
    assert code == 0, stderr
    assert (
        stdout.count("= no change\n")
        == stdout.count("in place (spec.adoptionPolicy")
        == len(before)
    )
    assert f"Plan: 0 to create, 0 to update, 0 to replace, {len(before)} unchanged" in stdout

    # 3. kubectl apply -k, and the operator adopts every object where it is.
    with running_operator():
        assert "created" in kubectl(sandbox, tmp_path, "apply", "-k", str(out))
        for m in manifests:
            name, id_ = m["metadata"]["name"], m["metadata"]["annotations"][ANNOTATION]
            status = sandbox.wait_status(name, lambda s: ready(s) == "True", timeout=30)
            assert (status["webhookId"], status["origin"], status["driftCount"]) == (
                id_,
                "adopted",
                0,
            ), status
        # A few resyncs (every 1 s): still nothing more to write.
        listings = sim.requests.count("GET")
        wait_for(lambda: sim.requests.count("GET") >= listings + 3, timeout=20)
        writes = platform_writes(sim)
        for m in manifests:
            assert sandbox.status(m["metadata"]["name"])["driftCount"] == 0
        time.sleep(1)
        assert platform_writes(sim) == writes
    after = objects(sim)
    assert sorted(after) == sorted(before)  # no create, no delete
    assert sum(writes.values()) == (len(before) if marker_field else 0), writes
    for id_, obj in after.items():
        name = exported[id_]["metadata"]["name"]
        uid = sandbox.get(name)["metadata"]["uid"]  # type: ignore[index]
        if marker_field is not None:
            assert obj[marker_field] == marker(uid)
        for field in ("name", "display_name", "url", "state", "type", "events", "active"):
            assert obj.get(field) == before[id_].get(field), (field, obj, before[id_])

    # 4. A second export: everything is managed, nothing new is written.
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    sim.requests.clear()
    code, stdout, stderr = run("export", "--platform", "suite", "--output", str(out))
    assert code == (2 if skipped else 0), stderr
    assert f"exported: 0 ({out}: 0 new, 0 changed, 0 unchanged" in stderr
    assert f"already managed by an AlertIntegration: {len(before)}" in stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    assert platform_writes(sim) == {}


def test_a_credential_in_a_webhook_url_goes_to_a_secret_and_never_into_the_export(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [row] = [r for r in ROWS if r.id == "mackerel"]
    sim: MackerelSimulator = row.simulator()
    row.add_platform(sandbox, sandbox.serve(sim))
    secret = "e2e-export-hook-token-6d1f0b"
    sandbox.secrets.add(secret)
    hook = f"{RECEIVER}?team=payments&token={secret}"
    id_ = sim.add_channel("payments hook", url=hook, events=["alert"])["id"]
    run = Cli(capsys)

    code, stdout, stderr = run("export", "--platform", "suite", "-o", "yaml")

    assert code == 2  # needs attention: the Secret is for a person to create
    assert secret not in stdout + stderr
    [manifest] = list(yaml.safe_load_all(stdout))
    name = manifest["metadata"]["name"]
    assert manifest["spec"]["webhook"] == {
        "urlSecretRef": {"name": f"{name}-webhook", "key": "url"}
    }
    assert f"Create Secret default/{name}-webhook with key url" in stderr
    assert "token=[REDACTED]" in stderr

    # The person creates the Secret and applies the manifest: adopted, nothing changed.
    sandbox.add_secret(f"{name}-webhook", {"url": hook})
    (tmp_path / "export.yaml").write_text(stdout)
    sim.requests.clear()
    with running_operator():
        kubectl(sandbox, tmp_path, "apply", "-f", str(tmp_path / "export.yaml"))
        status = sandbox.wait_status(name, lambda s: ready(s) == "True", timeout=30)
    assert (status["webhookId"], status["origin"], status["driftCount"]) == (id_, "adopted", 0)
    assert platform_writes(sim) == {}
    assert (sim.channel(id_) or {})["url"] == hook
