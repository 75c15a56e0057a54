"""`alertsync plan`: the operator's own pass, writes recorded, against in-process simulators."""

import argparse
import base64
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from alertsim.core import Simulator
from alertsim.demo import Platforms
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.ilert import ILertSimulator
from alertsim.simulators import SIMULATORS
from alertsim.zstack import ZStackSimulator
from alertsync import plan as planning
from alertsync.config import OperatorConfig
from alertsync.connector import Connector
from alertsync.kube import Kube
from alertsync.models import AlertIntegrationStatus, TargetState
from alertsync.plan import (
    NEW_ID,
    ManifestError,
    Manifests,
    PlannedResource,
    RecordingAdapter,
    exit_code,
    load_manifests,
    plan,
    render_json,
    render_text,
)
from alertsync.platforms import build_adapter
from alertsync.platforms.base import DesiredIntegration, Match
from alertsync.reconcile import Dependencies, IntegrationResource, reconcile
from alertsync.records import PlatformRecord
from alertsync.status import to_wire
from alertsync.watchcache import WatchCache
from tests.support.accounts import platform_account
from tests.support.samples import sample_file, sample_names

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "deploy" / "samples"
# The samples' AlertPlatforms, by name, moved to hosts the test transport routes.
HOSTS = {row.name: f"http://{row.name}.sim" for row in SIMULATORS}
# Every AlertIntegration in deploy/samples/, and the files they are in.
INTEGRATIONS = sample_names("AlertIntegration")
SAMPLE_FILES = len(list(SAMPLES.glob("*.yaml")))
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# ZStack logs in (PUT) and out (DELETE) around every use of its API: sessions, not objects.
SESSION_ROUTES = ("/zstack/v1/accounts/login", "/zstack/v1/accounts/sessions/{uuid}")
ONCALL = "payments-alerts"
UID = "6f1c2a9e-0000-4000-8000-000000000001"


class Sandbox:
    """The sandbox's simulators with the samples' credentials, reached in process."""

    def __init__(self) -> None:
        self.platforms = Platforms()
        self.sims: dict[str, Simulator] = self.platforms.sims
        self.transport = httpx.MockTransport(self._route)

    @property
    def oncall(self) -> GrafanaOnCallSimulator:
        return self.platforms.get("oncall", GrafanaOnCallSimulator)

    @property
    def ilert(self) -> ILertSimulator:
        return self.platforms.get("ilert", ILertSimulator)

    @property
    def zstack(self) -> ZStackSimulator:
        return self.platforms.get("zstack", ZStackSimulator)

    async def _route(self, request: httpx.Request) -> httpx.Response:
        return await self.sims[request.url.host.removesuffix(".sim")].handle(request)

    def writes(self) -> dict[str, int]:
        """Platform writes each simulator saw (ZStack's session log-in and -out aside)."""
        return {
            f"{name} {key}": count
            for name, sim in self.sims.items()
            for key, count in sim.requests.snapshot().items()
            if key.split(" ", 1)[0] in WRITES and key.split(" ", 1)[1] not in SESSION_ROUTES
        }

    def reads(self) -> int:
        return sum(sim.requests.count("GET") for sim in self.sims.values())

    async def plan(self, manifests: Manifests, kube: object = None) -> list[PlannedResource]:
        return await plan(manifests, cast(Kube | None, kube), transport=self.transport)


@pytest.fixture
def box() -> Sandbox:
    return Sandbox()


def samples() -> Manifests:
    manifests = load_manifests([str(SAMPLES)])
    for body in manifests.platforms:
        body["spec"]["url"] = HOSTS[body["metadata"]["name"]]
    return manifests


def only(manifests: Manifests, name: str, **spec: Any) -> Manifests:
    """The samples with one AlertIntegration, its spec changed by `spec` (None drops a key)."""
    body = next(b for b in manifests.integrations if b["metadata"]["name"] == name)
    merged = {**body["spec"], **spec}
    body = {**body, "spec": {k: v for k, v in merged.items() if v is not None}}
    manifests.integrations = [body]
    return manifests


def by_name(results: list[PlannedResource]) -> dict[str, PlannedResource]:
    return {r.name: r for r in results}


async def operator_pass(box: Sandbox, manifests: Manifests, name: str) -> dict[str, Any]:
    """A real reconcile with the real adapters, as the operator would have run it: the body
    as the cluster then holds it (uid, generation and the status it wrote)."""
    body = next(b for b in manifests.integrations if b["metadata"]["name"] == name)
    sources = planning.Sources(manifests, None)
    cache = WatchCache()
    connector = Connector(cast(Kube, sources), OperatorConfig(), cache, box.transport)
    for platform in manifests.platforms:
        cache.track_platform(
            PlatformRecord.from_body(
                {**platform, "metadata": {**platform["metadata"], "uid": "platform-uid"}}
            )
        )

    async def write(status: AlertIntegrationStatus) -> None:
        pass

    resource = IntegrationResource(
        namespace="default",
        name=name,
        uid=UID,
        generation=1,
        spec=body["spec"],
        status=AlertIntegrationStatus(),
    )
    deps = Dependencies(
        connector.resolve, connector.adapter_for, write, read_secret=sources.read_secret
    )
    outcome = await reconcile(resource, deps)
    await connector.aclose()
    assert outcome.error is None, outcome.error
    for sim in box.sims.values():
        sim.requests.clear()
    meta = {**body["metadata"], "uid": UID, "generation": 1}
    return {**body, "metadata": meta, "status": to_wire(outcome.status)}


class FakeCluster:
    """What `Kube` offers the plan: reads only; any other call fails the test."""

    def __init__(
        self,
        integrations: Mapping[str, dict[str, Any]] = {},
        secrets: Mapping[tuple[str, str], dict[str, str]] = {},
        platforms: Mapping[str, dict[str, Any]] = {},
    ) -> None:
        self.integrations, self.secrets, self.platforms = integrations, secrets, platforms
        self.custom = self
        self.reads: list[str] = []

    def get_namespaced_custom_object(
        self, group: str, version: str, namespace: str, plural: str, name: str
    ) -> dict[str, Any]:
        self.reads.append(f"{plural} {namespace}/{name}")
        if plural == "alertintegrations" and name in self.integrations:
            return self.integrations[name]
        raise ApiException(status=404)

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        self.reads.append(f"secret {namespace}/{name}")
        return self.secrets.get((namespace, name))

    async def read_platform(self, key: tuple[str, str | None, str]) -> dict[str, Any] | None:
        self.reads.append(f"platform {key}")
        return self.platforms.get(key[2])


# -- the samples -----------------------------------------------------------------------


async def test_every_sample_would_be_created_and_nothing_is_written(box: Sandbox) -> None:
    results = await box.plan(samples())
    assert {r.name: r.action for r in results} == {name: "create" for name in INTEGRATIONS}
    assert {"payments-alerts", "storage-alarms"} <= INTEGRATIONS
    assert {r.name: r.product_type for r in results}["storage-alarms"] == "zstack"
    assert all(r.writes[0].operation == "create" for r in results)
    # Every platform was asked (read), none was written to.
    assert all(sim.requests.count("GET") > 0 for sim in box.sims.values())
    assert box.writes() == {}
    assert box.oncall.integrations() == []
    assert box.zstack.endpoints() == []
    assert exit_code(results) == 2
    text = render_text(results)
    assert text.count("\n+ create\n") == len(INTEGRATIONS)
    assert text.endswith(
        f"Plan: {len(INTEGRATIONS)} to create, 0 to update, 0 to replace, 0 unchanged, 0 invalid.\n"
    )


async def test_a_real_pass_after_the_plan_does_what_the_plan_said(box: Sandbox) -> None:
    manifests = samples()
    planned = await box.plan(only(manifests, ONCALL))
    assert planned[0].action == "create"
    await operator_pass(box, manifests, ONCALL)
    assert [i["name"] for i in box.oncall.integrations()] == ["payments prod alerts"]


# -- an object the operator created ------------------------------------------------------


async def test_in_sync_object_is_no_change(box: Sandbox) -> None:
    manifests = only(samples(), ONCALL)
    stored = await operator_pass(box, manifests, ONCALL)
    results = await box.plan(manifests, FakeCluster({ONCALL: stored}))
    (result,) = results
    assert result.action == "no-change"
    assert result.in_cluster
    assert result.external_id == stored["status"]["webhookId"]
    assert result.writes == ()
    assert box.writes() == {}
    assert exit_code(results) == 0
    assert "= no change\n    id: " in render_text(results)


async def test_drift_behind_the_operators_back_is_an_update_of_those_fields(
    box: Sandbox,
) -> None:
    manifests = only(samples(), ONCALL)
    stored = await operator_pass(box, manifests, ONCALL)
    oncall, webhook = box.oncall, stored["status"]["webhookId"]
    oncall.rename(webhook, "renamed by hand")
    oncall.set_template(webhook, "slack.title", "someone else's title")
    results = await box.plan(manifests, FakeCluster({ONCALL: stored}))
    (result,) = results
    assert result.action == "update"
    assert result.fields == ("displayName", "grafanaOnCall.templates.slack.title")
    assert result.drift
    assert result.external_id == webhook
    assert box.writes() == {}
    assert oncall.get(webhook)["name"] == "renamed by hand"  # type: ignore[index]
    text = render_text(results)
    assert "~ update displayName, grafanaOnCall.templates.slack.title\n" in text
    assert f"    id: {webhook}\n" in text
    assert "drift" in text
    assert text.endswith("Plan: 0 to create, 1 to update, 0 to replace, 0 unchanged, 0 invalid.\n")


async def test_a_spec_change_is_an_update_not_drift(box: Sandbox) -> None:
    manifests = only(samples(), ONCALL)
    stored = await operator_pass(box, manifests, ONCALL)
    changed = only(manifests, ONCALL, displayName="payments alerts v2")
    (result,) = await box.plan(changed, FakeCluster({ONCALL: stored}))
    assert (result.action, result.fields, result.drift) == ("update", ("displayName",), False)
    assert "the spec asks for it" in render_text([result])


async def test_a_type_change_is_a_replace_with_the_reason(box: Sandbox) -> None:
    manifests = only(samples(), ONCALL)
    stored = await operator_pass(box, manifests, ONCALL)
    changed = only(manifests, ONCALL, grafanaOnCall={"type": "webhook"})
    (result,) = await box.plan(changed, FakeCluster({ONCALL: stored}))
    assert result.action == "replace"
    assert "grafanaOnCall.type" in result.fields
    assert "cannot change it in place" in result.message
    text = render_text([result])
    assert "-/+ replace (type is alertmanager on the platform and webhook in the spec" in text
    assert box.writes() == {}
    assert len(box.oncall.integrations()) == 1


async def test_an_object_deleted_on_the_platform_is_created_again(box: Sandbox) -> None:
    manifests = only(samples(), ONCALL)
    stored = await operator_pass(box, manifests, ONCALL)
    box.oncall.remove(stored["status"]["webhookId"])
    (result,) = await box.plan(manifests, FakeCluster({ONCALL: stored}))
    assert (result.action, result.drift) == ("create", True)
    assert f"{stored['status']['webhookId']} is gone from the platform" in render_text([result])


async def test_an_exported_manifest_carries_its_own_uid_and_status(box: Sandbox) -> None:
    """kubectl get -o yaml output, planned offline: the same answer as from the cluster."""
    manifests = only(samples(), ONCALL)
    stored = await operator_pass(box, manifests, ONCALL)
    box.oncall.rename(stored["status"]["webhookId"], "renamed by hand")
    manifests.integrations = [stored]
    (result,) = await box.plan(manifests)
    assert (result.action, result.fields, result.in_cluster) == (
        "update",
        ("displayName",),
        False,
    )


async def test_observe_only_drift_is_no_change_with_a_note(box: Sandbox) -> None:
    manifests = only(samples(), ONCALL)
    stored = await operator_pass(box, manifests, ONCALL)
    box.oncall.rename(stored["status"]["webhookId"], "renamed by hand")
    observe_only = only(manifests, ONCALL, managementPolicy="ObserveOnly")
    results = await box.plan(observe_only, FakeCluster({ONCALL: stored}))
    assert results[0].action == "no-change"
    assert "ObserveOnly does not repair" in results[0].message
    assert exit_code(results) == 0


# -- someone else's object ---------------------------------------------------------------


async def test_an_object_of_the_same_name_is_refused(box: Sandbox) -> None:
    foreign = box.oncall.add_integration("alertmanager", name="payments prod alerts")
    results = await box.plan(only(samples(), ONCALL))
    assert results[0].action == "refused"
    assert foreign["id"] in results[0].message
    assert exit_code(results) == 1
    assert render_text(results).count("? refused: an object named 'payments prod alerts'") == 1


async def test_adopt_existing_adopts_and_shows_what_it_then_changes(box: Sandbox) -> None:
    foreign = box.oncall.add_integration("alertmanager", name="payments prod alerts")
    results = await box.plan(only(samples(), ONCALL, adoptionPolicy="AdoptExisting"))
    (result,) = results
    assert (result.action, result.adopted) == ("adopt", True)
    assert result.external_id == foreign["id"]
    assert "marker" in result.fields
    assert set(result.fields) - {"marker"}  # a declared field differs: not adopted in place
    assert f"+ adopt {foreign['id']}" in render_text(results)
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 unchanged, 0 invalid, 1 to adopt." in (
        render_text(results)
    )
    assert box.writes() == {}
    assert exit_code(results) == 2


async def test_adopting_in_place_with_only_the_marker_to_write_is_no_change(box: Sandbox) -> None:
    """What `alertsync plan` says of an export: every declared field as it is on the
    platform, so adoption writes AlertSync's marker and nothing else."""
    manifests = samples()
    await operator_pass(box, manifests, ONCALL)  # an object exactly as the spec says
    [existing] = box.oncall.integrations()
    # A new resource (no uid, no status yet): it finds the object by name only.
    results = await box.plan(only(manifests, ONCALL, adoptionPolicy="AdoptExisting"))
    (result,) = results
    assert (result.action, result.adopted, result.fields) == ("no-change", True, ("marker",))
    assert result.external_id == existing["id"]
    assert [w.operation for w in result.writes] == ["update", "after_write"]
    text = render_text(results)
    assert "= no change" in text
    assert (
        f"adopts {existing['id']} in place (spec.adoptionPolicy: AdoptExisting) and writes "
        "only AlertSync's marker"
    ) in text
    assert "Plan: 0 to create, 0 to update, 0 to replace, 1 unchanged, 0 invalid." in text
    assert json.loads(render_json(results))["resources"][0]["adopted"] is True
    assert exit_code(results) == 0
    assert box.writes() == {}


async def test_adopting_in_place_with_nothing_to_write_is_no_change(box: Sandbox) -> None:
    """iLert has no place for a marker: adopting an object that matches writes nothing."""
    manifests = samples()
    await operator_pass(box, manifests, "payments-ilert")
    [existing] = box.ilert.alert_sources()
    results = await box.plan(only(manifests, "payments-ilert", adoptionPolicy="AdoptExisting"))
    (result,) = results
    assert (result.action, result.adopted, result.fields, result.writes) == (
        "no-change",
        True,
        (),
        (),
    )
    assert f"adopts {existing['id']} in place" in render_text(results)
    assert "and writes nothing" in render_text(results)
    assert exit_code(results) == 0


# -- invalid input and failures ----------------------------------------------------------


async def test_invalid_resources_say_why_and_are_an_error(box: Sandbox) -> None:
    manifests = samples()
    good = next(b for b in manifests.integrations if b["metadata"]["name"] == ONCALL)
    typo = {**good, "metadata": {"name": "typo", "namespace": "default"}}
    typo["spec"] = {**good["spec"], "dispayName": "x"}
    missing = {**good, "metadata": {"name": "nowhere", "namespace": "default"}}
    missing["spec"] = {**good["spec"], "platformRef": {"name": "nope"}}
    wrong_block = {**good, "metadata": {"name": "wrong-block", "namespace": "default"}}
    wrong_block["spec"] = {"platformRef": {"name": "ilert"}, "grafanaOnCall": {}}
    manifests.integrations = [good, typo, missing, wrong_block]
    results = by_name(await box.plan(manifests))
    assert results[ONCALL].action == "create"
    assert results["typo"].action == "invalid"
    assert results["typo"].message.startswith("spec.dispayName:")
    assert results["nowhere"].action == "invalid"
    assert "AlertPlatform 'nope' not found" in results["nowhere"].message
    assert results["wrong-block"].action == "invalid"
    assert "use spec.ilert" in results["wrong-block"].message
    assert exit_code(list(results.values())) == 1
    text = render_text(list(results.values()))
    assert "! invalid: spec.dispayName:" in text
    assert "Plan: 1 to create, 0 to update, 0 to replace, 0 unchanged, 3 invalid." in text


async def test_an_unreachable_platform_fails_the_plan_of_its_resources_only(
    box: Sandbox,
) -> None:
    box.ilert.faults.fail(503, times=None)
    results = by_name(await box.plan(samples()))
    assert results["payments-ilert"].action == "failed"
    assert results["payments-ilert"].reason == "PlatformUnavailable"
    assert results[ONCALL].action == "create"
    assert exit_code(list(results.values())) == 1
    assert "! failed (PlatformUnavailable): " in render_text(list(results.values()))


async def test_a_missing_secret_offline_is_reported_not_looked_for(box: Sandbox) -> None:
    manifests = samples()
    manifests.secrets.pop(("default", "oncall-credentials"))
    results = by_name(await box.plan(manifests))
    assert results[ONCALL].action == "failed"
    assert results[ONCALL].reason == "CredentialsMissing"
    assert "Secret default/oncall-credentials" in results[ONCALL].message


async def test_platforms_and_secrets_missing_from_the_manifests_come_from_the_cluster(
    box: Sandbox,
) -> None:
    manifests = only(samples(), ONCALL)
    platform = next(p for p in manifests.platforms if p["metadata"]["name"] == "oncall")
    secret = manifests.secrets.pop(("default", "oncall-credentials"))
    manifests.platforms = []
    cluster = FakeCluster(
        secrets={("default", "oncall-credentials"): secret},
        platforms={"oncall": {**platform, "metadata": {**platform["metadata"], "uid": "p-1"}}},
    )
    (result,) = await box.plan(manifests, cluster)
    assert result.action == "create"
    assert "secret default/oncall-credentials" in cluster.reads
    assert "alertintegrations default/payments-alerts" in cluster.reads


async def test_a_secret_is_never_printed(box: Sandbox) -> None:
    """Messages are built without secrets; the output is redacted all the same."""
    password = "sandbox-receiver-password"  # the Secret in the ZStack sample
    box.oncall.add_integration("webhook", name=password)
    results = await box.plan(only(samples(), ONCALL, displayName=password))
    assert results[0].action == "refused"
    for output in (render_text(results), render_json(results)):
        assert password not in output
        assert "[REDACTED]" in output


# -- the recording adapter ---------------------------------------------------------------


async def test_the_recording_adapter_reads_through_and_writes_nothing() -> None:
    sim = GrafanaOnCallSimulator(tokens={"oncall-token-123": "admin"})
    account = platform_account("http://oncall.sim", "oncall-token-123")
    real = build_adapter(account, transport=httpx.MockTransport(sim.handle))
    recorder = RecordingAdapter(real)
    assert recorder.product == real.product
    assert recorder.disable_by_delete is False
    desired = DesiredIntegration(
        namespace="team-a",
        name="pay",
        uid="uid-1",
        display_name="pay",
        target_state=TargetState.ENABLED,
        webhook_url=None,
        block=None,
    )
    observed = await recorder.observe(desired)
    assert observed.match is Match.NONE
    created = await recorder.create(desired)
    assert (created.external_id, created.current_state) == (NEW_ID, "enabled")
    await recorder.delete("X1")
    assert await recorder.before_delete(desired, "X1") is None
    assert await recorder.after_write(desired, None, created) is None
    assert await recorder.open_alerts(desired, created) is None
    await recorder.aclose()
    assert [w.operation for w in recorder.writes] == [
        "create",
        "delete",
        "before_delete",
        "after_write",
    ]
    assert sim.requests.count("GET") == 1
    assert sim.requests.total == 1
    await real.aclose()


# -- manifests ----------------------------------------------------------------------------


def write(path: Path, *documents: Any) -> Path:
    path.write_text(yaml.safe_dump_all(documents))
    return path


def test_manifests_are_read_as_kubectl_reads_them(tmp_path: Path) -> None:
    integration = {
        "apiVersion": "alertsync.dev/v1alpha1",
        "kind": "AlertIntegration",
        "metadata": {"name": "a"},
        "spec": {"platformRef": {"name": "p"}},
    }
    listed = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [{**integration, "metadata": {"name": "b"}}],
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "other"},
        "data": {"token": base64.b64encode(b"token-from-data").decode()},
        "stringData": {"extra": "plain-value"},
    }
    cluster_platform = {
        "apiVersion": "alertsync.dev/v1alpha1",
        "kind": "ClusterAlertPlatform",
        "metadata": {"name": "shared", "namespace": "ignored"},
        "spec": {},
    }
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}
    write(tmp_path / "one.yaml", integration, secret, deployment)
    write(tmp_path / "two.yml", listed, cluster_platform)
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "three.yaml", {**integration, "metadata": {"name": "c"}})

    found = load_manifests([str(tmp_path)], namespace="team")
    assert [b["metadata"] for b in found.integrations] == [
        {"name": "a", "namespace": "team"},
        {"name": "b", "namespace": "team"},
    ]
    assert found.secrets == {("other", "s"): {"token": "token-from-data", "extra": "plain-value"}}
    assert [p["metadata"] for p in found.platforms] == [{"name": "shared"}]
    assert (found.files, found.ignored) == (2, 1)
    assert len(load_manifests([str(tmp_path)], recursive=True).integrations) == 3


def test_stdin_is_read_for_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    text = sample_file("ilert").read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert [b["metadata"]["name"] for b in load_manifests(["-"]).integrations] == ["payments-ilert"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("kind: [unclosed", "not valid YAML"),
        ("- just a list\n", "not a mapping"),
        ("apiVersion: alertsync.dev/v1\nkind: AlertIntegration\nmetadata: {name: a}\n", "v1alpha1"),
        (
            "apiVersion: alertsync.dev/v1alpha1\nkind: AlertIntegration\nmetadata: {}\n",
            "metadata.name",
        ),
        ("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: '%%%'}\n", "not base64"),
    ],
)
def test_unreadable_manifests_are_an_error(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "bad.yaml").write_text(content)
    with pytest.raises(ManifestError, match=problem):
        load_manifests([str(tmp_path / "bad.yaml")])


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_manifests([str(tmp_path / "nope")])


# -- the command ---------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    planning.add_arguments(parser)
    return parser.parse_args(argv)


def sample_dir(tmp_path: Path) -> Path:
    for source in SAMPLES.glob("*.yaml"):
        documents = list(yaml.safe_load_all(source.read_text()))
        for document in documents:
            if document["kind"] == "AlertPlatform":
                document["spec"]["url"] = HOSTS[document["metadata"]["name"]]
        write(tmp_path / source.name, *documents)
    return tmp_path


def test_the_command_prints_the_plan_and_exits_2_for_changes(
    box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = planning.run(
        parse("-f", str(sample_dir(tmp_path)), "--offline"), transport=box.transport
    )
    out = capsys.readouterr().out
    assert code == 2
    assert out.startswith(
        f"AlertSync plan: {len(INTEGRATIONS)} AlertIntegration(s) in {SAMPLE_FILES} file(s)"
    )
    assert (
        "# default/payments-alerts (grafana-oncall via AlertPlatform default/oncall)\n"
        "+ create\n"
        "    name: 'payments prod alerts' (enabled)\n"
    ) in out
    assert box.writes() == {}


def test_the_command_prints_json(
    box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("-f", str(sample_dir(tmp_path)), "--offline", "-o", "json")
    assert planning.run(args, transport=box.transport) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["summary"]["create"] == len(INTEGRATIONS)
    assert document["exitCode"] == 2
    # The Confluent sample's (every sample's resource has these keys; Confluent's has a hook).
    first = next(r for r in document["resources"] if r["name"] == "kafka-notifications")
    assert all(set(r) == set(first) for r in document["resources"])
    assert set(first) >= {"namespace", "name", "platform", "productType", "action", "externalId"}
    # The create, and the hook after it (e.g. Confluent's delivery test): neither made.
    assert [w["operation"] for w in first["writes"]] == ["create", "after_write"]
    assert first["writes"][0] == {
        "operation": "create",
        "externalId": NEW_ID,
        "fields": [],
        "recreateReason": None,
        "displayName": "kafka prod notifications",
        "targetState": "enabled",
    }


def test_nothing_to_plan_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.yaml").write_text("")
    assert planning.main(["-f", str(tmp_path), "--offline"]) == 0
    assert "No AlertIntegration in the manifests." in capsys.readouterr().out


def test_bad_manifests_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert planning.main(["-f", str(tmp_path / "missing.yaml"), "--offline"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_no_cluster_without_offline_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    assert planning.main(["-f", str(SAMPLES)]) == 1
    assert "--offline" in capsys.readouterr().err


def test_exit_codes() -> None:
    def result(action: planning.Action) -> PlannedResource:
        return PlannedResource("ns", "n", "AlertPlatform ns/p", None, action)

    assert exit_code([]) == 0
    assert exit_code([result("no-change")]) == 0
    for change in ("create", "adopt", "update", "replace"):
        assert exit_code([result("no-change"), result(change)]) == 2
    for problem in ("invalid", "refused", "failed"):
        assert exit_code([result("create"), result(problem)]) == 1
