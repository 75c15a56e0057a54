"""`alertsync export`: its options, its errors, its output (stdout, a directory), its exit codes."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.ilert import ILertSimulator
from alertsim.mackerel import READ_WRITE, MackerelSimulator
from alertsync import cli
from alertsync.errors import CredentialsMissingError, InvalidSpecError
from alertsync.export import ANNOTATION, Export, Exported, Target, export
from alertsync.export.output import (
    KUSTOMIZATION,
    OutputError,
    exit_code,
    read_reserved,
    render_json,
    render_yaml,
    summary,
    write_dir,
)
from alertsync.models import PlatformKind
from alertsync.plan.sources import Manifests, Sources, load_manifests
from alertsync.platforms.mapping import Found

TOKEN = "unit-export-command-token-2b8e"
NAMESPACE = "default"


def platform(product: str = "grafana-oncall", url: str = "http://oncall.sim") -> dict[str, Any]:
    return {
        "apiVersion": "alertsync.dev/v1alpha1",
        "kind": "AlertPlatform",
        "metadata": {"name": "oncall", "namespace": NAMESPACE},
        "spec": {
            "productType": product,
            "url": url,
            "credentialsSecretRef": {"name": "credentials", "key": "token"},
        },
    }


def sources(*, secret: bool = True, integrations: list[dict[str, Any]] | None = None) -> Sources:
    manifests = Manifests(
        integrations=integrations or [],
        platforms=[platform()],
        secrets={(NAMESPACE, "credentials"): {"token": TOKEN}} if secret else {},
    )
    return Sources(manifests, None)


@pytest.fixture
def sim() -> GrafanaOnCallSimulator:
    return GrafanaOnCallSimulator(tokens={TOKEN: "admin"}, base_url="http://oncall.sim")


async def run_export(sim: GrafanaOnCallSimulator, **options: Any) -> Export:
    target = Target(PlatformKind.NAMESPACED, "oncall", NAMESPACE)
    given = {"sources": sources(), **options}
    return await export(target, transport=httpx.MockTransport(sim.handle), **given)


# -- the command line ------------------------------------------------------------------------


def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["export", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--platform NAME",
        "--kind {AlertPlatform,ClusterAlertPlatform}",
        "-n NAMESPACE, --namespace NAMESPACE",
        "--output DIR",
        "-o {yaml,json}, --format {yaml,json}",
        "--include-managed",
        "--operator-namespace",
        "Exit codes: 0",
        ANNOTATION,
    ):
        assert option in " ".join(out.split()), option


def test_output_dir_and_stdout_format_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["export", "--platform", "x", "--output", "out", "-o", "json"])
    assert done.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_an_unreachable_cluster_is_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(SystemExit) as done:
        cli.main(["export", "--platform", "oncall"])
    assert done.value.code == 1
    assert capsys.readouterr().err.startswith("error: cannot reach the cluster")


# -- errors ----------------------------------------------------------------------------------


async def test_a_platform_that_does_not_exist_is_an_error(sim: GrafanaOnCallSimulator) -> None:
    target = Target(PlatformKind.NAMESPACED, "nowhere", NAMESPACE)
    with pytest.raises(InvalidSpecError) as caught:
        await export(target, sources(), transport=httpx.MockTransport(sim.handle))
    assert (
        caught.value.message == "--platform: AlertPlatform 'nowhere' not found in namespace default"
    )
    assert sim.requests.count() == 0


async def test_missing_credentials_are_an_error_before_any_request(
    sim: GrafanaOnCallSimulator,
) -> None:
    with pytest.raises(CredentialsMissingError):
        await run_export(sim, sources=sources(secret=False))
    assert sim.requests.count() == 0


# -- output ----------------------------------------------------------------------------------


async def test_yaml_and_json_read_back_as_the_manifests_plan_reads(
    sim: GrafanaOnCallSimulator, tmp_path: Path
) -> None:
    sim.add_integration("webhook", name="payments")
    sim.add_integration("alertmanager", name="checkout")
    result = await run_export(sim)
    manifests = [item.manifest for item in result.exported]
    (tmp_path / "out.yaml").write_text(render_yaml(result.exported))
    (tmp_path / "out.json").write_text(render_json(result.exported))
    for name in ("out.yaml", "out.json"):
        loaded = load_manifests([str(tmp_path / name)])
        assert loaded.integrations == manifests


@pytest.mark.parametrize(
    "value", ["123", "1e5", "0x1F", "012", "1_000", "yes", "off", "~", "", "12:30", "-.5"]
)
def test_ids_that_read_as_numbers_stay_strings(value: str) -> None:
    [item] = [
        Exported(
            Found(value, "x"),
            {"metadata": {"name": "x", "annotations": {ANNOTATION: value}}},
        )
    ]
    text = render_yaml([item])
    assert yaml.safe_load(text)["metadata"]["annotations"] == {ANNOTATION: value}
    assert f"{ANNOTATION}: '{value}'" in text


async def test_ilert_numeric_ids_are_quoted_annotations() -> None:
    sim = ILertSimulator(keys={TOKEN: "admin"}, base_url="http://ilert.sim")
    sim.add_escalation_policy("second line")
    id_ = sim.add_alert_source("payments", "API", escalation_policy_id=1)["id"]
    target = Target(PlatformKind.NAMESPACED, "oncall", NAMESPACE)
    body = platform("ilert", "http://ilert.sim")
    manifests = Manifests(platforms=[body], secrets={(NAMESPACE, "credentials"): {"token": TOKEN}})
    result = await export(
        target, Sources(manifests, None), transport=httpx.MockTransport(sim.handle)
    )
    text = render_yaml(result.exported)
    assert f"{ANNOTATION}: '{id_}'" in text


async def test_a_directory_gets_one_file_each_and_a_kustomization(
    sim: GrafanaOnCallSimulator, tmp_path: Path
) -> None:
    sim.add_integration("webhook", name="payments")
    sim.add_integration("webhook", name="checkout")
    result = await run_export(sim)
    out = tmp_path / "export"

    written = write_dir(out, result.exported)

    assert sorted(written.new) == ["checkout.yaml", "payments.yaml"]
    assert written.kustomization == "new"
    assert yaml.safe_load((out / KUSTOMIZATION).read_text()) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["checkout.yaml", "payments.yaml"],
    }
    payments = yaml.safe_load((out / "payments.yaml").read_text())
    assert payments["metadata"]["annotations"][ANNOTATION] == sim.integrations()[0]["id"]

    # Again: nothing is rewritten.
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = write_dir(out, result.exported)
    assert (again.new, again.changed, again.kustomization) == ([], [], "unchanged")
    assert sorted(again.unchanged) == ["checkout.yaml", "payments.yaml"]
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps


async def test_a_later_export_adds_to_the_directory_and_keeps_what_is_there(
    sim: GrafanaOnCallSimulator, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    sim.add_integration("webhook", name="payments")
    write_dir(out, (await run_export(sim)).exported)
    (out / KUSTOMIZATION).write_text(
        yaml.safe_dump({"kind": "Kustomization", "resources": ["payments.yaml", "extra.yaml"]})
    )
    sim.add_integration("webhook", name="orders")

    reserved = read_reserved(out, NAMESPACE)
    assert [body["metadata"]["name"] for body in reserved] == ["payments"]
    result = await run_export(sim, reserved=reserved)
    written = write_dir(out, result.exported)

    assert (written.new, written.unchanged) == (["orders.yaml"], ["payments.yaml"])
    assert written.kustomization == "changed"
    resources = yaml.safe_load((out / KUSTOMIZATION).read_text())["resources"]
    assert resources == ["payments.yaml", "extra.yaml", "orders.yaml"]


async def test_a_name_an_earlier_export_gave_another_object_is_not_reused(
    sim: GrafanaOnCallSimulator, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    first = sim.add_integration("webhook", name="payments")["id"]
    write_dir(out, (await run_export(sim)).exported)
    sim.remove(first)
    second = sim.add_integration("webhook", name="payments")["id"]

    result = await run_export(sim, reserved=read_reserved(out, NAMESPACE))

    [item] = result.exported
    assert item.found.id == second
    assert item.name != "payments"
    # The first file, for the object that is gone, is left for a person to remove.
    assert yaml.safe_load((out / "payments.yaml").read_text())["metadata"]["annotations"] == {
        ANNOTATION: first
    }


# -- the summary and the exit code -----------------------------------------------------------


async def test_summary_counts_and_exit_codes(sim: GrafanaOnCallSimulator) -> None:
    sim.add_integration("webhook", name="payments")
    clean = await run_export(sim)
    assert exit_code(clean) == 0
    text = summary(clean)
    assert text.splitlines() == [
        "alertsync export: AlertPlatform default/oncall (grafana-oncall): 1 object(s) read "
        "in one listing",
        "exported: 1",
        "already managed by an AlertIntegration: 0",
        "skipped: 0",
        "needs attention: 0",
    ]

    sim.add_integration("webhook", name="payments")  # now two share the name
    skipped = await run_export(sim)
    assert exit_code(skipped) == 2
    assert "skipped: 2" in summary(skipped)

    other = GrafanaOnCallSimulator(tokens={TOKEN: "admin"}, base_url="http://oncall.sim")
    other.start_maintenance(other.add_integration("webhook", name="quiet")["id"])
    noted = await run_export(other)
    assert exit_code(noted) == 2
    lines = summary(noted).splitlines()
    assert lines[-2] == "needs attention: 1"
    assert lines[-1].startswith("  default/quiet (")


async def test_already_managed_objects_are_counted_and_keep_the_exit_code_0(
    sim: GrafanaOnCallSimulator,
) -> None:
    id_ = sim.add_integration("webhook", name="payments")["id"]
    managed = {
        "metadata": {"namespace": NAMESPACE, "name": "pay", "uid": "u1"},
        "spec": {"platformRef": {"name": "oncall"}},
        "status": {"webhookId": id_},
    }
    result = await run_export(sim, sources=sources(integrations=[managed]))
    assert result.exported == []
    assert exit_code(result) == 0
    assert "already managed by an AlertIntegration: 1" in summary(result)
    assert json.loads(render_json(result.exported))["items"] == []


async def test_a_cluster_platform_exports_into_the_namespace_given(
    sim: GrafanaOnCallSimulator,
) -> None:
    sim.add_integration("webhook", name="payments")
    shared = {**platform(), "kind": "ClusterAlertPlatform", "metadata": {"name": "shared"}}
    manifests = Manifests(
        platforms=[shared],
        secrets={("alertsync-system", "credentials"): {"token": TOKEN}},
    )
    target = Target(PlatformKind.CLUSTER, "shared", "team-b")
    result = await export(
        target, Sources(manifests, None), transport=httpx.MockTransport(sim.handle)
    )
    [item] = result.exported
    assert item.manifest["metadata"]["namespace"] == "team-b"
    assert item.manifest["spec"]["platformRef"] == {
        "kind": "ClusterAlertPlatform",
        "name": "shared",
    }
    assert summary(result).startswith("alertsync export: ClusterAlertPlatform shared (")


async def test_a_plain_http_url_the_platform_does_not_allow_needs_attention() -> None:
    sim = MackerelSimulator(keys={TOKEN: READ_WRITE})
    sim.add_channel("payments hook", url="http://receiver.internal/hook")
    target = Target(PlatformKind.NAMESPACED, "oncall", NAMESPACE)
    manifests = Manifests(
        platforms=[platform("mackerel", "http://mackerel.sim")],
        secrets={(NAMESPACE, "credentials"): {"token": TOKEN}},
    )
    result = await export(
        target, Sources(manifests, None), transport=httpx.MockTransport(sim.handle)
    )
    [item] = result.exported
    assert item.manifest["spec"]["webhook"] == {"url": "http://receiver.internal/hook"}
    assert item.attention == (
        "its URL is plain http, which AlertPlatform default/oncall does not allow: set "
        "spec.allowInsecureHttp: true on it, or the integration stays Ready=False",
    )
    assert exit_code(result) == 2


def test_unreadable_files_in_the_output_directory_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("kind: [unclosed")
    with pytest.raises(OutputError) as caught:
        read_reserved(tmp_path, NAMESPACE)
    assert str(caught.value).startswith(f"cannot read the files already in {tmp_path}")
