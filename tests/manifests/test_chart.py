"""The Helm chart lints, renders valid Kubernetes objects, runs the operator safely,
grants it exactly what it uses, and refuses wrong values.

Rendering is Helm's own Go code (helm-python-sdk), offline; validation is the
Kubernetes OpenAPI schemas (kubernetes-validate, strict: unknown fields fail).
"""

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import helm_python
import kubernetes_validate
import pytest
import yaml

from alertsync import cli

ROOT = Path(__file__).parents[2]
CHART = ROOT / "charts" / "alertsync"
KUBE_VERSION = "1.32"
RELEASE = "alertsync"
NAMESPACE = "alertsync-system"

# Value sets every test of rendered output runs with.
VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "some-namespaces": {"watchNamespaces": ["a", "b"]},
    "api": {"api": {"enabled": True, "port": 9443, "tokenSecret": {"name": "api-token"}}},
}

Rule = tuple[str, str, str]  # (API group, resource, verb)

# The contract: every (group, resource, verb) the operator uses, and why. The
# operator's ClusterRole grants exactly these, nothing more.
OPERATOR_NEEDS: list[tuple[str, list[str], list[str], str]] = [
    (
        "alertsync.dev",
        ["alertintegrations", "alertplatforms", "clusteralertplatforms"],
        ["get", "list", "watch", "patch"],
        "kopf lists and watches them, and patches its finalizer and annotations onto them",
    ),
    (
        "alertsync.dev",
        ["alertintegrations/status", "alertplatforms/status", "clusteralertplatforms/status"],
        ["get", "patch"],
        "Kube.patch_status merge-patches the status subresource",
    ),
    ("", ["secrets"], ["get"], "Kube.read_secret reads credentials by name"),
    ("", ["events"], ["create", "patch"], "kopf.event posts core v1 Events"),
    ("events.k8s.io", ["events"], ["create", "patch"], "Events through the events.k8s.io API"),
    (
        "apiextensions.k8s.io",
        ["customresourcedefinitions"],
        ["list", "watch"],
        "kopf's resource observer notices CRDs installed or upgraded after start-up",
    ),
]
# Only when watching some namespaces: kopf's namespace observer resolves globs and
# follows namespaces created later (kopf._core.reactor.observation).
NAMESPACED_MODE_NEEDS: list[tuple[str, list[str], list[str], str]] = [
    ("", ["namespaces"], ["list", "watch"], "kopf's namespace observer"),
]


def expand(table: list[tuple[str, list[str], list[str], str]]) -> set[Rule]:
    return {
        (group, resource, verb)
        for group, resources, verbs, _ in table
        for resource in resources
        for verb in verbs
    }


def grants(role: Mapping[str, Any]) -> set[Rule]:
    return {
        (group, resource, verb)
        for rule in role.get("rules", [])
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
        for verb in rule.get("verbs", [])
    }


@pytest.fixture(scope="module")
def chart() -> Iterator[helm_python.Chart]:
    with helm_python.Chart.load(CHART) as loaded:
        yield loaded


def render(
    chart: helm_python.Chart, values: dict[str, Any], release: str = RELEASE
) -> dict[str, str]:
    return chart.render(values, name=release, namespace=NAMESPACE)


def documents(
    chart: helm_python.Chart, values: dict[str, Any], release: str = RELEASE
) -> list[dict[str, Any]]:
    return [
        doc
        for path, text in sorted(render(chart, values, release).items())
        if not path.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def only(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def container(deployment: Mapping[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


# -- lint and render -------------------------------------------------------------------


def test_chart_metadata() -> None:
    with helm_python.Chart.load(CHART) as chart:
        metadata = chart.metadata
    assert metadata["apiVersion"] == "v2"
    assert (metadata["name"], metadata["version"], metadata["appVersion"]) == (
        "alertsync",
        "0.1.0",
        "0.1.0",
    )


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_chart_lints_without_warnings(values: dict[str, Any]) -> None:
    report = helm_python.lint(CHART, values, strict=True, kube_version=f"v{KUBE_VERSION}.0")
    assert report["errors"] == []
    # Severity 1 is informational (e.g. "icon is recommended"); 2 and 3 are warnings and errors.
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_chart_renders_what_a_first_release_needs(chart: helm_python.Chart) -> None:
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in documents(chart, {}))
    assert kinds == [
        ("ClusterRole", "alertsync"),
        ("ClusterRole", "alertsync-editor"),
        ("ClusterRole", "alertsync-viewer"),
        ("ClusterRoleBinding", "alertsync"),
        ("Deployment", "alertsync"),
        ("ServiceAccount", "alertsync"),
    ]


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_every_rendered_document_is_valid_kubernetes(
    chart: helm_python.Chart, values: dict[str, Any]
) -> None:
    docs = documents(chart, values)
    assert docs
    for doc in docs:
        assert kubernetes_validate.validate(doc, KUBE_VERSION, strict=True) == KUBE_VERSION


def test_namespaced_objects_go_to_the_release_namespace(chart: helm_python.Chart) -> None:
    docs = documents(chart, {})
    namespaced = [d for d in docs if d["kind"] in ("Deployment", "ServiceAccount")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {NAMESPACE}
    binding = only(docs, "ClusterRoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "alertsync", "namespace": NAMESPACE}
    ]
    assert binding["roleRef"]["name"] == only(docs, "ClusterRole", "alertsync")["metadata"]["name"]


def test_names_follow_the_release(chart: helm_python.Chart) -> None:
    names = {(d["kind"], d["metadata"]["name"]) for d in documents(chart, {}, release="ops")}
    assert ("Deployment", "ops-alertsync") in names
    assert ("ClusterRole", "ops-alertsync-viewer") in names


# -- the Deployment --------------------------------------------------------------------


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_deployment_is_secure_by_default(chart: helm_python.Chart, values: dict[str, Any]) -> None:
    deployment = only(documents(chart, values), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    operator = container(deployment)
    pod_sc, sc = pod["securityContext"], operator["securityContext"]

    assert pod_sc["runAsNonRoot"] is True
    assert pod_sc["runAsUser"] != 0
    assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["runAsNonRoot"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in sc
    assert pod.get("hostNetwork", False) is False
    assert pod.get("hostPID", False) is False

    resources = operator["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) >= {"memory"}

    # The only writable path is an emptyDir at /tmp.
    assert operator["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]
    assert "emptyDir" in pod["volumes"][0]


def test_deployment_runs_one_operator_with_the_service_account_token(
    chart: helm_python.Chart,
) -> None:
    docs = documents(chart, {})
    deployment = only(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert pod["automountServiceAccountToken"] is True
    assert pod["serviceAccountName"] == only(docs, "ServiceAccount")["metadata"]["name"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_deployment_image_defaults_to_the_app_version(chart: helm_python.Chart) -> None:
    default = container(only(documents(chart, {}), "Deployment"))
    assert default["image"] == "ghcr.io/alertsync/alertsync:0.1.0"
    pinned = container(only(documents(chart, {"image": {"tag": "0.1.1"}}), "Deployment"))
    assert pinned["image"] == "ghcr.io/alertsync/alertsync:0.1.1"


def run_args(chart: helm_python.Chart, values: dict[str, Any]) -> Any:
    """The rendered container args, parsed by the operator's own command line parser."""
    operator = container(only(documents(chart, values), "Deployment"))
    assert all(isinstance(arg, str) for arg in operator["args"])
    return cli._parser().parse_args(["run", *operator["args"]])


def test_deployment_watches_all_namespaces_with_json_logs_by_default(
    chart: helm_python.Chart,
) -> None:
    operator = container(only(documents(chart, {}), "Deployment"))
    assert "--all-namespaces" in operator["args"]
    args = run_args(chart, {})
    assert (args.command, args.all_namespaces, args.namespace) == ("run", True, [])
    assert (args.log_format, args.log_level) == ("json", "info")


def test_deployment_watches_the_listed_namespaces(chart: helm_python.Chart) -> None:
    values = {"watchNamespaces": ["a", "b", "team-*", "123"], "logFormat": "plain"}
    operator = container(only(documents(chart, values), "Deployment"))
    pairs = [operator["args"][i : i + 2] for i in range(0, 8, 2)]
    assert pairs == [["--namespace", ns] for ns in ("a", "b", "team-*", "123")]
    assert "--all-namespaces" not in operator["args"]
    args = run_args(chart, values)
    assert (args.all_namespaces, args.namespace) == (False, ["a", "b", "team-*", "123"])
    assert args.log_format == "plain"


def test_deployment_tells_the_operator_its_namespace(chart: helm_python.Chart) -> None:
    values = {"extraEnv": [{"name": "ALERTSYNC_RESYNC_CONCURRENCY", "value": "16"}]}
    env = container(only(documents(chart, values), "Deployment"))["env"]
    assert env == [
        {
            "name": "ALERTSYNC_NAMESPACE",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        },
        {"name": "ALERTSYNC_RESYNC_CONCURRENCY", "value": "16"},
    ]


def test_liveness_probe_hits_the_operators_health_endpoint(chart: helm_python.Chart) -> None:
    operator = container(only(documents(chart, {}), "Deployment"))
    health = urlsplit(run_args(chart, {}).health)  # what `alertsync run` serves
    probe = operator["livenessProbe"]["httpGet"]
    ports = {port["name"]: port["containerPort"] for port in operator["ports"]}
    assert probe["path"] == health.path == "/healthz"
    assert ports.get(probe["port"], probe["port"]) == health.port == 8080


# -- RBAC ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "needs"),
    [
        ({}, expand(OPERATOR_NEEDS)),
        ({"watchNamespaces": ["a", "b"]}, expand(OPERATOR_NEEDS + NAMESPACED_MODE_NEEDS)),
    ],
    ids=["all-namespaces", "some-namespaces"],
)
def test_operator_role_grants_exactly_what_the_operator_uses(
    chart: helm_python.Chart, values: dict[str, Any], needs: set[Rule]
) -> None:
    role = only(documents(chart, values), "ClusterRole", "alertsync")
    granted = grants(role)
    assert sorted(needs - granted) == [], "missing"
    assert sorted(granted - needs) == [], "more than the operator uses"
    for rule in role["rules"]:
        assert set(rule) == {"apiGroups", "resources", "verbs"}  # no resourceNames tricks


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_no_role_reads_secrets_beyond_get_or_grants_wildcards(
    chart: helm_python.Chart, values: dict[str, Any]
) -> None:
    roles = [d for d in documents(chart, values) if d["kind"] == "ClusterRole"]
    assert len(roles) == 3
    everything = set().union(*(grants(role) for role in roles))
    assert not [rule for rule in everything if "*" in rule]
    assert {verb for group, resource, verb in everything if resource == "secrets"} == {"get"}
    operator = only(roles, "ClusterRole", "alertsync")
    assert {(g, r) for g, r, v in grants(operator) if r == "secrets"} == {("", "secrets")}
    for role in roles:
        assert "aggregationRule" not in role


def test_user_roles_aggregate_to_view_and_edit(chart: helm_python.Chart) -> None:
    docs = documents(chart, {})
    viewer = only(docs, "ClusterRole", "alertsync-viewer")
    editor = only(docs, "ClusterRole", "alertsync-editor")
    kinds = ["alertintegrations", "alertplatforms", "clusteralertplatforms"]
    read = ["get", "list", "watch"]
    write = ["create", "update", "patch", "delete", "deletecollection"]

    assert viewer["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert grants(viewer) == expand([("alertsync.dev", kinds, read, "")])
    assert editor["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert grants(editor) == expand(
        [
            ("alertsync.dev", ["alertintegrations", "alertplatforms"], read + write, ""),
            ("alertsync.dev", ["clusteralertplatforms"], read, ""),
        ]
    )


def test_rbac_and_service_account_can_be_left_out(chart: helm_python.Chart) -> None:
    values = {
        "rbac": {"create": False, "userRoles": False},
        "serviceAccount": {"create": False, "name": "preexisting"},
    }
    docs = documents(chart, values)
    assert [d["kind"] for d in docs] == ["Deployment"]
    assert docs[0]["spec"]["template"]["spec"]["serviceAccountName"] == "preexisting"


def test_the_seed_api_is_off_by_default_and_served_when_enabled(
    chart: helm_python.Chart,
) -> None:
    assert "ALERTSYNC_API_LISTEN" not in json.dumps(documents(chart, {}))
    assert not [d for d in documents(chart, {}) if d["kind"] == "Service"]

    docs = documents(chart, VALUE_SETS["api"])
    operator = container(only(docs, "Deployment"))
    env = {e["name"]: e for e in operator["env"]}
    assert env["ALERTSYNC_API_LISTEN"]["value"] == "0.0.0.0:9443"
    assert env["ALERTSYNC_API_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "api-token",
        "key": "token",
    }
    assert {"name": "api", "containerPort": 9443, "protocol": "TCP"} in operator["ports"]
    service = only(docs, "Service", "alertsync-api")
    assert service["spec"]["ports"] == [
        {"name": "api", "port": 9443, "targetPort": "api", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"] == operator_selector(docs)


def operator_selector(docs: list[dict[str, Any]]) -> dict[str, str]:
    selector: dict[str, str] = only(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    return selector


# -- values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replicaCount": "two"}, "/replicaCount"),
        ({"replicaCount": 2}, "/replicaCount"),
        ({"logFormat": "xml"}, "/logFormat"),
        ({"logLevel": "verbose"}, "/logLevel"),
        ({"watchNamespaces": "team-a"}, "/watchNamespaces"),
        ({"watchNamespaces": ["a", "a"]}, "/watchNamespaces"),
        ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
        ({"rbac": {"create": "yes"}}, "/rbac/create"),
        ({"replicas": 1}, "'replicas' not allowed"),
        ({"api": {"enabled": True}}, "/api/tokenSecret/name"),
        ({"api": {"port": 80}}, "/api/port"),
    ],
)
def test_wrong_values_are_refused_by_the_schema(
    chart: helm_python.Chart, values: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=complaint):
        chart.validate_schema(values)
    # An install renders through the same check, so a wrong value never reaches a cluster.
    with pytest.raises(helm_python.HelmValuesError, match="schema"):
        chart.render(values, name=RELEASE, namespace=NAMESPACE)
    assert helm_python.lint(CHART, values)["errors"]


def test_the_schema_describes_every_value_and_the_readme_lists_it() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    readme = (CHART / "README.md").read_text()

    def keys(properties: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
        for name, node in properties.items():
            if "properties" in node and node.get("additionalProperties") is False:
                yield from keys(node["properties"], f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}"

    def value_keys(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
        for name, value in node.items():
            if f"{prefix}{name}" in schema_keys or not isinstance(value, dict):
                yield f"{prefix}{name}"
            else:
                yield from value_keys(value, f"{prefix}{name}.")

    schema_keys = set(keys(schema["properties"])) - {"global"}
    assert set(value_keys(values)) == schema_keys
    assert schema["additionalProperties"] is False
    undocumented = [key for key in sorted(schema_keys) if f"| `{key}` |" not in readme]
    assert undocumented == []


def test_notes_say_what_to_do_next(chart: helm_python.Chart) -> None:
    notes = render(chart, {})["alertsync/templates/NOTES.txt"]
    for step in (
        "create secret generic",
        "kind: AlertPlatform",
        "kind: AlertIntegration",
        "get alertintegrations",
        f"-n {NAMESPACE} rollout status deployment/alertsync",
    ):
        assert step in notes
    assert "all namespaces" in notes
    some = render(chart, {"watchNamespaces": ["a", "b"]})["alertsync/templates/NOTES.txt"]
    assert "the namespaces a, b" in some


# -- CRDs ------------------------------------------------------------------------------


def test_chart_crds_are_byte_identical_copies_of_the_crds() -> None:
    source = {path.name: path.read_bytes() for path in (ROOT / "crds").glob("*.yaml")}
    copies = {path.name: path.read_bytes() for path in (CHART / "crds").iterdir()}
    assert source
    assert sorted(copies) == sorted(source)
    changed = [name for name in sorted(source) if copies[name] != source[name]]
    assert changed == [], "run: cp crds/*.yaml charts/alertsync/crds/"


def test_helm_installs_every_crd(chart: helm_python.Chart) -> None:
    names = {yaml.safe_load(crd["data"])["metadata"]["name"] for crd in chart.crds}
    assert names == {
        "alertintegrations.alertsync.dev",
        "alertplatforms.alertsync.dev",
        "clusteralertplatforms.alertsync.dev",
    }
