"""Isolation: a team reaches only its own namespace's platforms and credentials, and the
ClusterAlertPlatforms open to its namespace."""

import dataclasses
from collections.abc import Iterator

import pytest

import alertsync.handlers
from tests.support.sandbox import TOKEN, Sandbox, ready, reason, running_operator
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

LABEL = "alertsync.dev/platform-access"


@pytest.fixture
def operator_in_default(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The operator, with its own namespace (for ClusterAlertPlatform Secrets) = default."""
    config = dataclasses.replace(alertsync.handlers.CONFIG, operator_namespace="default")
    monkeypatch.setattr(alertsync.handlers, "CONFIG", config)
    with running_operator():
        yield


def namespace(sandbox: Sandbox, name: str, labels: dict[str, str] | None = None) -> None:
    sandbox.k8s.create_object(
        "namespaces",
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": labels or {}},
        },
    )


def cluster_platform(sandbox: Sandbox, **spec: object) -> None:
    sandbox.add_secret("shared-oncall", {"token": TOKEN})
    sandbox.k8s.create_object(
        "clusteralertplatforms",
        {
            "apiVersion": "alertsync.dev/v1alpha1",
            "kind": "ClusterAlertPlatform",
            "metadata": {"name": "shared"},
            "spec": {
                "productType": "grafana-oncall",
                "url": sandbox.oncall_url,
                "credentialsSecretRef": {"name": "shared-oncall"},
                "resyncInterval": "1s",
                **spec,
            },
        },
    )


def integration(sandbox: Sandbox, name: str, ns: str, platform: dict[str, str]) -> None:
    sandbox.k8s.create_object(
        "alertintegrations",
        {
            "apiVersion": "alertsync.dev/v1alpha1",
            "kind": "AlertIntegration",
            "metadata": {"name": name},
            "spec": {"platformRef": platform, "displayName": f"{ns} {name}"},
        },
        namespace=ns,
    )


def status_of(sandbox: Sandbox, name: str, ns: str) -> dict[str, object]:
    obj = sandbox.k8s.read_object("alertintegrations", name, namespace=ns) or {}
    return dict(obj.get("status") or {})


def wait_reason(sandbox: Sandbox, name: str, ns: str, wanted: str) -> dict[str, object]:
    def found() -> dict[str, object] | None:
        status = status_of(sandbox, name, ns)
        return status if reason(status) == wanted else None

    return wait_for(found, timeout=30)


@pytest.mark.usefixtures("operator_in_default")
def test_a_cluster_platform_serves_only_the_namespaces_its_selector_names(
    sandbox: Sandbox,
) -> None:
    namespace(sandbox, "payments", {LABEL: "oncall"})
    namespace(sandbox, "search")
    cluster_platform(sandbox, namespaceSelector={"matchLabels": {LABEL: "oncall"}})
    shared = {"kind": "ClusterAlertPlatform", "name": "shared"}
    integration(sandbox, "pay", "payments", shared)
    integration(sandbox, "find", "search", shared)

    wait_for(lambda: ready(status_of(sandbox, "pay", "payments")) == "True", timeout=20)
    refused = wait_reason(sandbox, "find", "search", "NotPermitted")
    assert "does not serve namespace search" in str(refused["lastError"])
    assert [i["name"] for i in sandbox.oncall.integrations()] == ["payments pay"]

    # The platform team opens the platform to the namespace: no spec change needed.
    sandbox.k8s.update_object("namespaces", "search", {"metadata": {"labels": {LABEL: "oncall"}}})
    wait_for(lambda: ready(status_of(sandbox, "find", "search")) == "True", timeout=30)
    assert len(sandbox.oncall.integrations()) == 2


@pytest.mark.usefixtures("operator_in_default")
def test_a_team_cannot_reach_another_namespaces_platform_or_credentials(
    sandbox: Sandbox,
) -> None:
    namespace(sandbox, "team-a")
    namespace(sandbox, "team-b")
    url, token = sandbox.oncall_url, {"token": TOKEN}
    sandbox.add_platform("b-oncall", "grafana-oncall", url, token, {}, namespace="team-b")
    # team-a names team-b's platform: there is no such platform in team-a.
    integration(sandbox, "sneaky", "team-a", {"name": "b-oncall"})
    # team-a makes its own platform that names team-b's Secret: read in team-a only.
    sandbox.add_platform(
        "borrowed", "grafana-oncall", url, {}, {"name": "b-oncall-credentials"}, namespace="team-a"
    )
    integration(sandbox, "borrower", "team-a", {"name": "borrowed"})

    sneaky = wait_reason(sandbox, "sneaky", "team-a", "InvalidSpec")
    assert "AlertPlatform 'b-oncall' not found in namespace team-a" in str(sneaky["lastError"])
    borrower = wait_reason(sandbox, "borrower", "team-a", "CredentialsMissing")
    assert "Secret team-a/b-oncall-credentials" in str(borrower["lastError"])
    # team-b's own platform checks its token; nothing is done with it for team-a.
    assert sandbox.oncall.requests.count("POST") == 0
    assert sandbox.oncall.integrations() == []


@pytest.mark.usefixtures("operator_in_default")
def test_an_alert_platform_may_not_choose_namespaces(sandbox: Sandbox) -> None:
    sandbox.apply_platform()
    sandbox.patch_platform({"namespaceSelector": {"matchLabels": {LABEL: "x"}}})

    def platform_refused() -> dict[str, object] | None:
        status = sandbox.platform_status()
        return status if reason(status) == "InvalidSpec" else None

    platform = wait_for(platform_refused)
    assert "spec.namespaceSelector" in str(platform["lastError"])
