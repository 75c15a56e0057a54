"""The Helm chart lints, renders valid Kubernetes objects, runs the operator safely,
grants it exactly what it uses, and refuses wrong values.

Rendering is Helm's own Go code (helm-python-sdk), offline; validation is the
Kubernetes OpenAPI schemas (kubernetes-validate, strict: unknown fields fail).
"""

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import helm_python
import kubernetes_validate
import pytest
import yaml
from kopf._cogs.configs.configuration import OperatorSettings
from kopf._cogs.structs import references
from kopf._core.engines import peering

from alertsync import cli

ROOT = Path(__file__).parents[2]
CHART = ROOT / "charts" / "alertsync"
KUBE_VERSION = "1.32"
RELEASE = "alertsync"
NAMESPACE = "alertsync-system"

DASHBOARD = CHART / "dashboards" / "alertsync.json"
METRICS_DOC = ROOT / "docs" / "metrics.md"
INSTALL_DOC = ROOT / "docs" / "install.md"

# Every option on (and off where the default is on: none is left at its default).
EVERYTHING: dict[str, Any] = {
    "replicaCount": 3,
    "peering": {"enabled": True, "name": "alertsync-prod", "createObjects": True},
    "watchNamespaces": ["team-a", "team-b"],
    "logLevel": "debug",
    "logFormat": "plain",
    "extraEnv": [{"name": "ALERTSYNC_RESYNC_CONCURRENCY", "value": "16"}],
    "imagePullSecrets": [{"name": "registry"}],
    "api": {"enabled": True, "port": 9443, "tokenSecret": {"name": "api-token", "key": "t"}},
    "serviceAccount": {"create": True, "name": "operator", "annotations": {"a": "b"}},
    "rbac": {"create": True, "userRoles": True},
    "podAnnotations": {"example.com/note": "x"},
    "podLabels": {"team": "platform"},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "alertsync"}},
                    },
                }
            ]
        }
    },
    "podDisruptionBudget": {"enabled": True, "minAvailable": "", "maxUnavailable": 1},
    "metrics": {
        "enabled": True,
        "service": {"annotations": {"example.com/scrape": "true"}},
        "serviceMonitor": {
            "enabled": True,
            "interval": "1m",
            "scrapeTimeout": "20s",
            "labels": {"release": "kube-prometheus-stack"},
        },
        "prometheusRule": {
            "enabled": True,
            "labels": {"release": "kube-prometheus-stack"},
            "alertLabels": {"severity": "critical", "team": "platform"},
            "driftRepairsPerHour": 5,
            "runbookBaseUrl": "https://docs.example.com/alertsync/install.md",
        },
    },
    "dashboard": {
        "enabled": True,
        "namespace": "monitoring",
        "labels": {"team": "platform"},
        "annotations": {"grafana_folder": "AlertSync"},
    },
    "networkPolicy": {
        "enabled": True,
        "metricsFrom": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        ],
        "apiFrom": [{"podSelector": {"matchLabels": {"app": "ci"}}}],
        "kubernetesApi": {"cidrs": ["10.0.0.1/32"], "ports": [443, 6443]},
        "platforms": {"cidrs": ["0.0.0.0/0", "::/0"], "ports": [443, 8080]},
        "extraEgress": [{"ports": [{"port": 3128, "protocol": "TCP"}]}],
    },
}

# Value sets every test of rendered output runs with.
VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "some-namespaces": {"watchNamespaces": ["a", "b"]},
    "api": {"api": {"enabled": True, "port": 9443, "tokenSecret": {"name": "api-token"}}},
    "replicas": {"replicaCount": 2},
    "everything": EVERYTHING,
}

# Custom resources of CRDs kubernetes-validate does not know; each has its own test below.
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("kopf.dev/v1", "ClusterKopfPeering"),
    ("kopf.dev/v1", "KopfPeering"),
}

# libyaml's loader when PyYAML has it: the rendered dashboard is large for the pure one.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Rule = tuple[str, str, str]  # (API group, resource, verb)

# The contract: every (group, resource, verb) the operator uses, and why. The
# operator's ClusterRole grants exactly these, nothing more.
OPERATOR_NEEDS: list[tuple[str, list[str], list[str], str]] = [
    (
        "alertsync.dev",
        ["alertintegrations", "alertplatforms", "clusteralertplatforms"],
        ["list", "watch", "patch"],
        "kopf lists and watches them, and patches its finalizer and annotations onto them",
    ),
    (
        "alertsync.dev",
        ["alertplatforms", "clusteralertplatforms"],
        ["get"],
        "Kube.read_platform reads a platform an integration names before its watch saw it",
    ),
    (
        "alertsync.dev",
        ["alertintegrations/status", "alertplatforms/status", "clusteralertplatforms/status"],
        ["patch"],
        "Kube.patch_status merge-patches the status subresource",
    ),
    ("", ["secrets"], ["get"], "Kube.read_secret reads credentials by name"),
    (
        "",
        ["namespaces"],
        ["get"],
        "Kube.read_namespace_labels, for ClusterAlertPlatform.spec.namespaceSelector",
    ),
    ("", ["events"], ["create"], "alertsync.events posts core v1 Events (never patches them)"),
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
# Only with peering (kopf._core.engines.peering): the peering watcher lists and watches
# the peering objects, keepalive() and clean() merge-patch their status. Which kind
# depends on the operator's scope.
CLUSTER_PEERING_NEEDS: list[tuple[str, list[str], list[str], str]] = [
    ("kopf.dev", ["clusterkopfpeerings"], ["list", "watch", "patch"], "kopf peering"),
]
NAMESPACED_PEERING_NEEDS: list[tuple[str, list[str], list[str], str]] = [
    ("kopf.dev", ["kopfpeerings"], ["list", "watch", "patch"], "kopf peering"),
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
        for doc in yaml.load_all(text, Loader=SafeLoader)
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
        ("Service", "alertsync-metrics"),
        ("ServiceAccount", "alertsync"),
    ]


def test_every_option_on_renders_every_kind(chart: helm_python.Chart) -> None:
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in documents(chart, EVERYTHING))
    assert kinds == [
        ("ClusterRole", "alertsync"),
        ("ClusterRole", "alertsync-editor"),
        ("ClusterRole", "alertsync-viewer"),
        ("ClusterRoleBinding", "alertsync"),
        ("ConfigMap", "alertsync-dashboard"),
        ("Deployment", "alertsync"),
        ("KopfPeering", "alertsync-prod"),
        ("KopfPeering", "alertsync-prod"),
        ("NetworkPolicy", "alertsync"),
        ("PodDisruptionBudget", "alertsync"),
        ("PrometheusRule", "alertsync"),
        ("Service", "alertsync-api"),
        ("Service", "alertsync-metrics"),
        ("ServiceAccount", "operator"),
        ("ServiceMonitor", "alertsync"),
    ]


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_every_rendered_document_is_valid_kubernetes(
    chart: helm_python.Chart, values: dict[str, Any]
) -> None:
    docs = documents(chart, values)
    assert docs
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
            continue
        assert kubernetes_validate.validate(doc, KUBE_VERSION, strict=True) == KUBE_VERSION


def test_namespaced_objects_go_to_the_release_namespace(chart: helm_python.Chart) -> None:
    docs = documents(chart, {})
    namespaced = [d for d in docs if d["kind"] in ("Deployment", "ServiceAccount", "Service")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {NAMESPACE}
    # With every option on, only the peering objects (in the watched namespaces) and the
    # dashboard (where Grafana's sidecar looks) go elsewhere.
    elsewhere = {
        (d["kind"], d["metadata"]["namespace"])
        for d in documents(chart, EVERYTHING)
        if d["metadata"].get("namespace", NAMESPACE) != NAMESPACE
    }
    assert elsewhere == {
        ("KopfPeering", "team-a"),
        ("KopfPeering", "team-b"),
        ("ConfigMap", "monitoring"),
    }
    cluster_scoped = {
        d["kind"] for d in documents(chart, EVERYTHING) if "namespace" not in d["metadata"]
    }
    assert cluster_scoped == {"ClusterRole", "ClusterRoleBinding"}
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
    assert "--peering" not in container(deployment)["args"]  # standalone: no peering object
    assert run_args(chart, {}).peering is None
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
        {"name": "POD_ID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "ALERTSYNC_RESYNC_CONCURRENCY", "value": "16"},
    ]


def test_kopf_gets_an_identity_without_a_passwd_entry(
    chart: helm_python.Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image runs as uid 65532, which has no passwd entry: kopf's default identity
    (getpass.getuser()) raises there, before the operator starts. POD_ID replaces it."""
    env = container(only(documents(chart, {}), "Deployment"))["env"]
    pod_id = next(e for e in env if e["name"] == "POD_ID")
    assert pod_id["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"

    for name in ("LOGNAME", "USER", "LNAME", "USERNAME", "POD_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("os.getuid", lambda: 2**31 - 7)  # no such user anywhere
    with pytest.raises((KeyError, OSError)):  # OSError from Python 3.13 on
        peering.detect_own_id(manual=False)
    monkeypatch.setenv("POD_ID", "alertsync-5d9c7-x2x8q")
    assert peering.detect_own_id(manual=False) == "alertsync-5d9c7-x2x8q"


PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_probes_hit_the_operators_health_endpoint(
    chart: helm_python.Chart, values: dict[str, Any]
) -> None:
    operator = container(only(documents(chart, values), "Deployment"))
    health = urlsplit(run_args(chart, values).health)  # what `alertsync run` serves
    ports = {port["name"]: port["containerPort"] for port in operator["ports"]}
    assert set(PROBES) <= operator.keys()
    for kind in PROBES:
        probe = operator[kind]["httpGet"]
        assert probe["path"] == health.path == "/healthz", kind
        assert ports.get(probe["port"], probe["port"]) == health.port == 8080, kind


def window(probe: Mapping[str, Any]) -> int:
    """Seconds of failed probes before the kubelet acts."""
    return int(probe["periodSeconds"]) * int(probe["failureThreshold"])


def test_probes_give_the_start_time_and_take_a_silent_pod_out_before_restarting_it(
    chart: helm_python.Chart,
) -> None:
    operator = container(only(documents(chart, {}), "Deployment"))
    startup, ready, live = (operator[kind] for kind in PROBES)
    assert window(startup) >= 60  # kopf's start, against a slow API server
    # The startup probe holds the others back: no guessed initial delay.
    assert not any("initialDelaySeconds" in probe for probe in (ready, live))
    assert window(ready) < window(live)


# -- RBAC ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "needs"),
    [
        ({}, expand(OPERATOR_NEEDS)),
        ({"watchNamespaces": ["a", "b"]}, expand(OPERATOR_NEEDS + NAMESPACED_MODE_NEEDS)),
        ({"replicaCount": 2}, expand(OPERATOR_NEEDS + CLUSTER_PEERING_NEEDS)),
        ({"peering": {"enabled": True}}, expand(OPERATOR_NEEDS + CLUSTER_PEERING_NEEDS)),
        (
            {"replicaCount": 2, "watchNamespaces": ["a", "b"]},
            expand(OPERATOR_NEEDS + NAMESPACED_MODE_NEEDS + NAMESPACED_PEERING_NEEDS),
        ),
        (
            EVERYTHING,
            expand(OPERATOR_NEEDS + NAMESPACED_MODE_NEEDS + NAMESPACED_PEERING_NEEDS),
        ),
        # The replicas are what turns peering on, not the other options.
        (
            {**EVERYTHING, "replicaCount": 1, "peering": {"enabled": False}, "watchNamespaces": []},
            expand(OPERATOR_NEEDS),
        ),
    ],
    ids=[
        "all-namespaces",
        "some-namespaces",
        "replicas",
        "peering-one-replica",
        "replicas-some-namespaces",
        "everything",
        "everything-but-peering",
    ],
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
    values: dict[str, Any] = {
        "rbac": {"create": False, "userRoles": False},
        "serviceAccount": {"create": False, "name": "preexisting"},
    }
    docs = documents(chart, values)
    # The metrics Service stays (it is on by default and needs no RBAC).
    assert sorted(d["kind"] for d in docs) == ["Deployment", "Service"]
    deployment = only(docs, "Deployment")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "preexisting"

    docs = documents(chart, {**values, "metrics": {"enabled": False}})
    assert [d["kind"] for d in docs] == ["Deployment"]
    assert docs[0]["spec"]["template"]["spec"]["serviceAccountName"] == "preexisting"


def test_the_seed_api_is_off_by_default_and_served_when_enabled(
    chart: helm_python.Chart,
) -> None:
    assert "ALERTSYNC_API_LISTEN" not in json.dumps(documents(chart, {}))
    assert [d["metadata"]["name"] for d in documents(chart, {}) if d["kind"] == "Service"] == [
        "alertsync-metrics"
    ]
    default_ports = container(only(documents(chart, {}), "Deployment"))["ports"]
    assert "api" not in [port["name"] for port in default_ports]

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
        ({"replicaCount": 6}, "/replicaCount"),
        ({"replicaCount": -1}, "/replicaCount"),
        ({"peering": {"enabled": "auto"}}, "/peering/enabled"),
        ({"peering": {"name": "Prod_Peering"}}, "/peering/name"),
        (
            {"podDisruptionBudget": {"maxUnavailable": "half"}},
            "/podDisruptionBudget/maxUnavailable",
        ),
        ({"podDisruptionBudget": {"minAvailable": -1}}, "/podDisruptionBudget/minAvailable"),
        ({"metrics": {"enabled": False, "serviceMonitor": {"enabled": True}}}, "/metrics/enabled"),
        ({"metrics": {"serviceMonitor": {"interval": "30"}}}, "/metrics/serviceMonitor/interval"),
        (
            {"metrics": {"serviceMonitor": {"labels": {"release": 1}}}},
            "/metrics/serviceMonitor/labels",
        ),
        (
            {"metrics": {"prometheusRule": {"driftRepairsPerHour": 0}}},
            "/metrics/prometheusRule/driftRepairsPerHour",
        ),
        (
            {"metrics": {"prometheusRule": {"runbookBaseUrl": "docs/install.md"}}},
            "/metrics/prometheusRule/runbookBaseUrl",
        ),
        ({"dashboard": {"enabled": "yes"}}, "/dashboard/enabled"),
        ({"dashboard": {"namespace": "Monitoring"}}, "/dashboard/namespace"),
        ({"networkPolicy": {"kubernetesApi": {"cidrs": ["10.0.0.1"]}}}, "/kubernetesApi/cidrs/0"),
        ({"networkPolicy": {"platforms": {"ports": [0]}}}, "/networkPolicy/platforms/ports/0"),
        ({"networkPolicy": {"platforms": {"ports": []}}}, "/networkPolicy/platforms/ports"),
        ({"networkPolicy": {"metricsFrom": [{}]}}, "/networkPolicy/metricsFrom/0"),
        ({"networkPolicy": {"egress": []}}, "'egress' not allowed"),
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


# kopf's peering CRDs ship in the chart's crds/ beside AlertSync's own (Helm installs
# crds/ before it maps the templates, so the peering objects can be templates, and never
# takes ownership of a CRD another release or kopf operator may have installed). They
# are .yml: `make crds` replaces the chart's *.yaml with copies of crds/.
KOPF_CRDS = {"kopf.dev_clusterkopfpeerings.yml", "kopf.dev_kopfpeerings.yml"}


def test_chart_crds_are_byte_identical_copies_of_the_crds() -> None:
    source = {path.name: path.read_bytes() for path in (ROOT / "crds").glob("*.yaml")}
    copies = {path.name: path.read_bytes() for path in (CHART / "crds").iterdir()}
    assert source
    assert sorted(set(copies) - KOPF_CRDS) == sorted(source)
    changed = [name for name in sorted(source) if copies[name] != source[name]]
    assert changed == [], "run: cp crds/*.yaml charts/alertsync/crds/"
    assert not [name for name in source if name.startswith("kopf.dev_")]


def test_helm_installs_every_crd(chart: helm_python.Chart) -> None:
    names = {yaml.safe_load(crd["data"])["metadata"]["name"] for crd in chart.crds}
    assert names == {
        "alertintegrations.alertsync.dev",
        "alertplatforms.alertsync.dev",
        "clusteralertplatforms.alertsync.dev",
        "clusterkopfpeerings.kopf.dev",
        "kopfpeerings.kopf.dev",
    }


def kopf_crds() -> dict[str, dict[str, Any]]:
    crds = [yaml.safe_load((CHART / "crds" / name).read_text()) for name in sorted(KOPF_CRDS)]
    return {crd["spec"]["names"]["kind"]: crd for crd in crds}


def as_kopf_resource(crd: Mapping[str, Any]) -> references.Resource:
    """The resource kopf's discovery would make of this CRD."""
    [version] = crd["spec"]["versions"]
    names = crd["spec"]["names"]
    return references.Resource(
        group=crd["spec"]["group"],
        version=version["name"],
        plural=names["plural"],
        kind=names["kind"],
        singular=names["singular"],
        namespaced=crd["spec"]["scope"] == "Namespaced",
    )


def peering_kind(clusterwide: bool) -> str:
    """Which of the chart's peering CRDs kopf uses for an operator of that scope."""
    settings = OperatorSettings()
    settings.peering.clusterwide = clusterwide  # as kopf.run(clusterwide=...) sets it
    selectors = list(peering.guess_selectors(settings))
    found = [
        kind
        for kind, crd in kopf_crds().items()
        if any(selector.check(as_kopf_resource(crd)) for selector in selectors)
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("name", sorted(KOPF_CRDS))
def test_kopf_peering_crds_are_valid(name: str) -> None:
    crd = yaml.safe_load((CHART / "crds" / name).read_text())
    assert kubernetes_validate.validate(crd, KUBE_VERSION, strict=True) == KUBE_VERSION
    assert name == f"{crd['spec']['group']}_{crd['spec']['names']['plural']}.yml"
    [version] = crd["spec"]["versions"]
    # kopf keeps the keep-alives in .status, patched through the main resource: no
    # status subresource, and any keys.
    assert "subresources" not in version
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]
    assert status == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def test_kopf_finds_its_peering_crds_in_the_chart() -> None:
    assert peering_kind(clusterwide=True) == "ClusterKopfPeering"
    assert peering_kind(clusterwide=False) == "KopfPeering"
    scopes = {kind: crd["spec"]["scope"] for kind, crd in kopf_crds().items()}
    assert scopes == {"ClusterKopfPeering": "Cluster", "KopfPeering": "Namespaced"}


# -- scale-out: several replicas with kopf peering -------------------------------------


@pytest.mark.parametrize(
    ("values", "scope"),
    [
        ({"replicaCount": 2}, "cluster"),
        ({"replicaCount": 5}, "cluster"),
        ({"peering": {"enabled": True}}, "cluster"),
        ({"replicaCount": 3, "watchNamespaces": ["a", "b"]}, "namespaces"),
        (EVERYTHING, "namespaces"),
    ],
    ids=["2", "5", "forced", "namespaces", "everything"],
)
def test_replicas_peer_and_roll_over(
    chart: helm_python.Chart, values: dict[str, Any], scope: str
) -> None:
    docs = documents(chart, values)
    deployment = only(docs, "Deployment")
    args = run_args(chart, values)
    name = values.get("peering", {}).get("name", "alertsync")
    assert args.peering == name

    # Peered replicas may overlap: the new Pod starts before the old one stops.
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert deployment["spec"]["replicas"] == values.get("replicaCount", 1)

    # The peering object exists where kopf looks for it: without it, a replica started
    # with --peering stays paused.
    kind = peering_kind(clusterwide=not args.namespace)  # as cli._run tells kopf.run
    plural = kopf_crds()[kind]["spec"]["names"]["plural"]
    objects = [d for d in docs if d["apiVersion"] == "kopf.dev/v1"]
    assert {d["kind"] for d in objects} == {kind}
    assert {d["metadata"]["name"] for d in objects} == {name}
    if scope == "cluster":
        assert kind == "ClusterKopfPeering"
        assert ["namespace" in d["metadata"] for d in objects] == [False]
    else:
        assert kind == "KopfPeering"
        assert sorted(d["metadata"]["namespace"] for d in objects) == sorted(args.namespace)
    for doc in objects:  # the CRD's schema: metadata, and status that kopf fills
        assert set(doc) == {"apiVersion", "kind", "metadata"}

    # ...and the operator may watch it and patch its keep-alive in.
    role = only(docs, "ClusterRole", "alertsync")
    assert {r for r in grants(role) if r[0] == "kopf.dev"} == {
        ("kopf.dev", plural, verb) for verb in ("list", "watch", "patch")
    }


def test_one_replica_runs_standalone(chart: helm_python.Chart) -> None:
    for values in ({}, {"replicaCount": 0}, {"peering": {"name": "ignored"}}):
        docs = documents(chart, values)
        assert run_args(chart, values).peering is None
        assert only(docs, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}
        assert not [d for d in docs if d["apiVersion"] == "kopf.dev/v1"]


def test_peering_objects_can_be_left_to_the_user(chart: helm_python.Chart) -> None:
    # A glob matches namespaces the chart cannot know: it refuses to guess...
    values: dict[str, Any] = {"replicaCount": 2, "watchNamespaces": ["a", "team-*"]}
    with pytest.raises(helm_python.HelmError, match="createObjects"):
        render(chart, values)
    # ...unless told that someone else creates them.
    values["peering"] = {"createObjects": False}
    docs = documents(chart, values)
    assert not [d for d in docs if d["apiVersion"] == "kopf.dev/v1"]
    assert run_args(chart, values).peering == "alertsync"


def test_each_release_peers_on_its_own(chart: helm_python.Chart) -> None:
    names = {
        run_args_of(documents(chart, {"replicaCount": 2}, release=release)).peering
        for release in ("shard-a", "shard-b")
    }
    assert names == {"shard-a-alertsync", "shard-b-alertsync"}


def run_args_of(docs: list[dict[str, Any]]) -> Any:
    return cli._parser().parse_args(["run", *container(only(docs, "Deployment"))["args"]])


def test_notes_tell_how_the_replicas_peer(chart: helm_python.Chart) -> None:
    notes = render(chart, {"replicaCount": 2})["alertsync/templates/NOTES.txt"]
    assert "2 replica(s) peer" in notes
    assert "kubectl get clusterkopfpeering alertsync" in notes
    assert "peer" not in render(chart, {})["alertsync/templates/NOTES.txt"]


# -- metrics ---------------------------------------------------------------------------


def documented_series() -> dict[str, set[str]]:
    """docs/metrics.md's table: series name -> its labels."""
    series: dict[str, set[str]] = {}
    for line in METRICS_DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"`alertsync_\w+`", cells[0]):
            series[cells[0].strip("`")] = set(re.findall(r"`(\w+)`", cells[2]))
    assert series
    return series


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_metrics_service_reaches_the_metrics_and_health_ports(
    chart: helm_python.Chart, values: dict[str, Any]
) -> None:
    docs = documents(chart, values)
    service = only(docs, "Service", "alertsync-metrics")
    operator = container(only(docs, "Deployment"))
    container_ports = {port["name"]: port["containerPort"] for port in operator["ports"]}
    assert service["spec"]["selector"] == operator_selector(docs)
    assert {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == {
        "metrics": (8081, "metrics"),
        "health": (8080, "health"),
    }
    # What the Service points at is what `alertsync run` serves.
    args = run_args(chart, values)
    assert container_ports["metrics"] == int(args.metrics.rsplit(":", 1)[1]) == 8081
    assert container_ports["health"] == urlsplit(args.health).port == 8080


def test_metrics_service_can_be_left_out(chart: helm_python.Chart) -> None:
    docs = documents(chart, {"metrics": {"enabled": False}})
    assert not [d for d in docs if d["kind"] == "Service"]


def test_service_monitor_scrapes_the_metrics_service(chart: helm_python.Chart) -> None:
    assert not [d for d in documents(chart, {}) if d["kind"] == "ServiceMonitor"]
    docs = documents(chart, EVERYTHING)
    monitor = only(docs, "ServiceMonitor")
    service = only(docs, "Service", "alertsync-metrics")
    api = only(docs, "Service", "alertsync-api")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["namespace"] == NAMESPACE
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    spec = monitor["spec"]
    assert set(spec) == {"namespaceSelector", "selector", "endpoints"}
    assert spec["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    # Selects the metrics Service and nothing else of the release (not the API Service).
    selector = spec["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert not selector.items() <= api["metadata"]["labels"].items()
    assert spec["endpoints"] == [
        {
            "port": "metrics",
            "path": "/metrics",
            "scheme": "http",
            "interval": "1m",
            "scrapeTimeout": "20s",
        }
    ]
    assert "metrics" in [port["name"] for port in service["spec"]["ports"]]


def alert_rules(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    rule = only(docs, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(rule["spec"]) == {"groups"}
    rules = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    for group in rule["spec"]["groups"]:
        assert set(group) == {"name", "rules"}
    return {r["alert"]: r for r in rules}


def test_prometheus_rule_alerts_on_the_operator_itself(chart: helm_python.Chart) -> None:
    assert not [d for d in documents(chart, {}) if d["kind"] == "PrometheusRule"]
    docs = documents(chart, EVERYTHING)
    assert only(docs, "PrometheusRule")["metadata"]["labels"]["release"] == (
        "kube-prometheus-stack"
    )
    rules = alert_rules(docs)
    assert sorted(rules) == [
        "AlertSyncAbsent",
        "AlertSyncDriftRepairRateHigh",
        "AlertSyncIntegrationsNotReady",
        "AlertSyncPlatformUnreachable",
        "AlertSyncRateLimited",
        "AlertSyncReconcileErrors",
    ]
    # What each alert is about: the series it reads.
    about = {name: set(re.findall(r"\balertsync_\w+", r["expr"])) for name, r in rules.items()}
    assert about == {
        "AlertSyncAbsent": set(),  # Prometheus' own `up` (test_an_absent_operator_alerts)
        "AlertSyncReconcileErrors": {"alertsync_reconciles_total"},
        "AlertSyncIntegrationsNotReady": {"alertsync_integrations"},
        "AlertSyncDriftRepairRateHigh": {"alertsync_drift_total"},
        "AlertSyncPlatformUnreachable": {"alertsync_platform_requests_total"},
        "AlertSyncRateLimited": {"alertsync_rate_limit_deferred_total"},
    }
    assert "> 5" in rules["AlertSyncDriftRepairRateHigh"]["expr"]  # driftRepairsPerHour
    install = INSTALL_DOC.read_text()
    for name, rule in rules.items():
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}
        assert re.fullmatch(r"[0-9]+[smh]", rule["for"])
        assert rule["labels"] == {"severity": "critical", "team": "platform"}
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        if name != "AlertSyncAbsent":  # about one platform's integrations
            assert "{{ $labels.platform }}" in rule["annotations"]["summary"]
        # The runbook is a section of docs/install.md, under the alert's own name.
        url = rule["annotations"]["runbook_url"]
        assert url == f"https://docs.example.com/alertsync/install.md#{name.lower()}"
        assert f"\n### {name}\n" in install


def test_prometheus_rule_expressions_use_only_documented_series(
    chart: helm_python.Chart,
) -> None:
    series = documented_series()
    reasons = set(re.findall(r"`([A-Z][A-Za-z]+)`", METRICS_DOC.read_text()))
    for name, rule in alert_rules(documents(chart, EVERYTHING)).items():
        if name == "AlertSyncAbsent":
            continue  # reads no AlertSync series: test_an_absent_operator_alerts
        expr = rule["expr"]
        assert expr.count("(") == expr.count(")"), name
        assert expr.count("{") == expr.count("}"), name
        used = re.findall(r"\b(alertsync_\w+)\{([^}]*)\}", expr)
        assert used, name
        assert len(used) == len(re.findall(r"\balertsync_\w+", expr)), name
        for metric, matchers in used:
            assert metric in series, f"{name}: {metric} is not in docs/metrics.md"
            # Scraped labels: the series' own, plus job (which release) and namespace.
            labels = series[metric] | {"job", "namespace"}
            pairs = re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', matchers)
            assert len(pairs) == matchers.count('"') // 2, name
            for label, _, value in pairs:
                assert label in labels, f"{name}: {metric} has no label {label}"
                if label == "job":
                    assert value == "alertsync-metrics"  # this release's Service, as scraped
                if label == "result":
                    assert set(value.split("|")) <= reasons, name
        for grouping in re.findall(r"\bby \(([^)]*)\)", expr):
            grouped = {label.strip() for label in grouping.split(",")}
            allowed = set.intersection(*(series[m] for m, _ in used)) | {"namespace"}
            assert grouped <= allowed, f"{name}: by ({grouping})"
        assert "platform" in rule["expr"]


def test_an_absent_operator_alerts(chart: helm_python.Chart) -> None:
    """No replica up to be scraped: no series of ours says so, Prometheus' `up` does."""
    docs = documents(chart, EVERYTHING)
    rule = alert_rules(docs)["AlertSyncAbsent"]
    # The job the ServiceMonitor's targets get: the metrics Service's name.
    job = only(docs, "Service", "alertsync-metrics")["metadata"]["name"]
    # absent() of the up==1 series: fires when no target exists and when all are down.
    assert rule["expr"] == f'absent(up{{job="{job}"}} == 1)'
    assert rule["for"] == "10m"
    assert "alertsync-metrics" in rule["annotations"]["description"]
    assert NAMESPACE in rule["annotations"]["description"]
    assert RELEASE in rule["annotations"]["summary"]
    # replicaCount 0 pauses the operator on purpose: nothing to alert on.
    paused = {**EVERYTHING, "replicaCount": 0, "podDisruptionBudget": {"enabled": False}}
    assert "AlertSyncAbsent" not in alert_rules(documents(chart, paused))


def test_alert_annotations_are_prometheus_templates_not_helm_ones(
    chart: helm_python.Chart,
) -> None:
    text = render(chart, EVERYTHING)["alertsync/templates/prometheusrule.yaml"]
    assert "{{ $labels.platform }}" in text
    assert "{{ $value" in text


# -- availability and network ----------------------------------------------------------


def test_pod_disruption_budget(chart: helm_python.Chart) -> None:
    assert not [d for d in documents(chart, {}) if d["kind"] == "PodDisruptionBudget"]
    docs = documents(chart, EVERYTHING)
    budget = only(docs, "PodDisruptionBudget")
    assert budget["metadata"]["namespace"] == NAMESPACE
    assert budget["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": operator_selector(docs)},
    }
    pods = only(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pods.items()

    percent = {"replicaCount": 4, "podDisruptionBudget": {"enabled": True, "minAvailable": "50%"}}
    spec = only(documents(chart, percent), "PodDisruptionBudget")["spec"]
    assert (spec["minAvailable"], "maxUnavailable" in spec) == ("50%", False)
    zero = {"podDisruptionBudget": {"enabled": True, "minAvailable": 0}}
    assert only(documents(chart, zero), "PodDisruptionBudget")["spec"]["minAvailable"] == 0


def test_network_policy_admits_only_probes_scrapes_and_the_api(
    chart: helm_python.Chart,
) -> None:
    assert not [d for d in documents(chart, {}) if d["kind"] == "NetworkPolicy"]
    docs = documents(chart, EVERYTHING)
    policy = only(docs, "NetworkPolicy")["spec"]
    operator = container(only(docs, "Deployment"))
    container_ports = {port["name"] for port in operator["ports"]}

    assert policy["podSelector"] == {"matchLabels": operator_selector(docs)}
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    ingress = {rule["ports"][0]["port"]: rule for rule in policy["ingress"]}
    assert [len(rule["ports"]) for rule in policy["ingress"]] == [1, 1, 1]
    assert set(ingress) == {"health", "metrics", "api"} <= container_ports
    assert "from" not in ingress["health"]  # the kubelet probes from the node
    assert ingress["metrics"]["from"] == EVERYTHING["networkPolicy"]["metricsFrom"]
    assert ingress["api"]["from"] == EVERYTHING["networkPolicy"]["apiFrom"]

    # Without the API, its port is closed; without peers, anyone may scrape.
    plain = only(documents(chart, {"networkPolicy": {"enabled": True}}), "NetworkPolicy")
    assert [rule["ports"] for rule in plain["spec"]["ingress"]] == [
        [{"port": "health", "protocol": "TCP"}],
        [{"port": "metrics", "protocol": "TCP"}],
    ]
    assert all("from" not in rule for rule in plain["spec"]["ingress"])


def egress_ports(rule: Mapping[str, Any]) -> set[tuple[int, str]]:
    return {(port["port"], port["protocol"]) for port in rule["ports"]}


def test_network_policy_lets_out_only_dns_the_api_and_the_platforms(
    chart: helm_python.Chart,
) -> None:
    policy = only(documents(chart, EVERYTHING), "NetworkPolicy")["spec"]
    dns, kube_api, platforms, proxy = policy["egress"]
    # Every rule names its ports: nothing may leave on any port.
    assert all(rule.get("ports") for rule in policy["egress"])
    assert egress_ports(dns) == {(53, "UDP"), (53, "TCP")}
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert egress_ports(kube_api) == {(443, "TCP"), (6443, "TCP")}
    assert kube_api["to"] == [{"ipBlock": {"cidr": "10.0.0.1/32"}}]
    assert egress_ports(platforms) == {(443, "TCP"), (8080, "TCP")}
    assert platforms["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}]
    assert proxy == {"ports": [{"port": 3128, "protocol": "TCP"}]}

    # Defaults: any address, but only on HTTPS and the API server's ports.
    default = only(documents(chart, {"networkPolicy": {"enabled": True}}), "NetworkPolicy")
    rules = default["spec"]["egress"]
    assert [egress_ports(rule) for rule in rules] == [
        {(53, "UDP"), (53, "TCP")},
        {(443, "TCP"), (6443, "TCP")},
        {(443, "TCP")},
    ]
    assert ["to" in rule for rule in rules] == [True, False, False]


# -- the Grafana dashboard -------------------------------------------------------------


def test_dashboard_config_map_carries_the_json_file_unchanged(
    chart: helm_python.Chart,
) -> None:
    assert not [d for d in documents(chart, {}) if d["kind"] == "ConfigMap"]
    docs = documents(chart, EVERYTHING)
    config_map = only(docs, "ConfigMap", "alertsync-dashboard")
    text = DASHBOARD.read_text()
    assert config_map["data"] == {"alertsync.json": text}
    assert json.loads(config_map["data"]["alertsync.json"]) == json.loads(text)
    metadata = config_map["metadata"]
    assert metadata["labels"]["grafana_dashboard"] == "1"
    assert metadata["labels"]["team"] == "platform"
    assert metadata["annotations"] == {"grafana_folder": "AlertSync"}
    assert metadata["namespace"] == "monitoring"

    default_namespace = documents(chart, {"dashboard": {"enabled": True}})
    assert only(default_namespace, "ConfigMap")["metadata"]["namespace"] == NAMESPACE


def test_the_memory_settings_come_from_a_named_measurement_and_cover_it() -> None:
    """values.yaml says what the memory settings were measured with; the README's
    mass-apply figure for 1,000 integrations fits under the limit."""
    values_text = (CHART / "values.yaml").read_text()
    assert "Measured peak RSS" in values_text
    assert "make bench-budget" in values_text
    measured = re.search(r"\| operator peak RSS \| (\d+) MiB", (ROOT / "README.md").read_text())
    assert measured is not None
    values = yaml.safe_load(values_text)
    limit = int(values["resources"]["limits"]["memory"].removesuffix("Mi"))
    request = int(values["resources"]["requests"]["memory"].removesuffix("Mi"))
    assert int(measured.group(1)) < request < limit
