"""The operator's RBAC is what it really does: every API call granted, every grant used.

The Kubernetes emulator records each request it serves as RBAC sees it (verb, group,
resource, subresource; `StrictEmulator.take_audit`). These tests run the real operator,
configured as the chart's Deployment runs it, through what it does in production, and
compare the calls it made with the rules of the chart's ClusterRole and of
deploy/rbac.yaml, in both directions. The test's own setup calls the emulator's Python
methods, which are not requests, so what the emulator saw over HTTP is the operator.

A session-wide check adds the calls the operator made in every other e2e test.
"""

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml
from kopf.testing import KopfRunner

import alertsync.handlers
from alertsim.kubeapi import ApiCall
from alertsync import cli
from tests.manifests.test_chart import CHART, Rule, container, documents, grants, only
from tests.support.sandbox import (
    INTEGRATIONS,
    REGISTRY,
    TOKEN,
    Sandbox,
    _give_others_a_fresh_registry,
    reason,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
DEPLOY_RBAC = ROOT / "deploy" / "rbac.yaml"

# kopf's own aiohttp client, and the `kubernetes` client the operator's Kube uses.
OPERATOR_AGENTS = ("kopf/", "OpenAPI-Generator/")
# Discovery, which every authenticated user may read (the built-in system:discovery
# role); kopf reads it to find the resources it serves.
DISCOVERY = re.compile(r"/(version|api|apis|api/v1|apis/[^/]+(/[^/]+)?)/?")

# Granted, needed in production, and not exercised by the scenario below: why.
NOT_EXERCISED: dict[Rule, str] = {}

# `alertsync reconcile` (tests/e2e/test_cli.py) uses the `kubernetes` client too, so its
# calls carry the operator's User-Agent in the session-wide record. People run it with
# their own rights (the editor role), not the operator's.
CLI_CALLS: set[Rule] = {
    ("alertsync.dev", "alertintegrations", "patch"),
    ("alertsync.dev", "alertintegrations", "get"),
}

# The values that change what the operator does on the API, beyond the defaults.
OPTIONS: dict[str, dict[str, Any]] = {
    "some-namespaces": {"watchNamespaces": ["default", "team-*"]},
    "peering": {"peering": {"enabled": True}},
    "peering-some-namespaces": {"watchNamespaces": ["default"], "peering": {"enabled": True}},
}


# -- what the rules grant --------------------------------------------------------------


@pytest.fixture(scope="module")
def chart() -> Iterator[helm_python.Chart]:
    with helm_python.Chart.load(CHART) as loaded:
        yield loaded


def chart_role(chart: helm_python.Chart, values: dict[str, Any]) -> dict[str, Any]:
    return only(documents(chart, values), "ClusterRole", "alertsync")


def deploy_role() -> dict[str, Any]:
    docs = [doc for doc in yaml.safe_load_all(DEPLOY_RBAC.read_text()) if doc]
    return only(docs, "ClusterRole", "alertsync")


def rule_of(call: ApiCall) -> Rule:
    resource = f"{call.resource}/{call.subresource}" if call.subresource else call.resource
    return (call.group, resource, call.verb)


# -- what the operator did -------------------------------------------------------------


def kopf_args(chart: helm_python.Chart, values: dict[str, Any]) -> list[str]:
    """`kopf run` arguments for what the chart's Deployment runs (`alertsync run ARGS`)."""
    args = cli._parser().parse_args(
        ["run", *container(only(documents(chart, values), "Deployment"))["args"]]
    )
    scope = [arg for ns in args.namespace for arg in ("-n", ns)] or ["-A"]
    peering = ["--peering", args.peering] if args.peering else ["--standalone"]
    return ["run", *peering, *scope]


@contextmanager
def operator_as_deployed(args: list[str]) -> Iterator[None]:
    try:
        with KopfRunner(args, registry=REGISTRY, timeout=60) as runner:
            yield
    finally:
        _give_others_a_fresh_registry()
    assert runner.exception is None, runner.output
    assert runner.exit_code == 0


def operator_calls(sandbox: Sandbox, api_calls: set[ApiCall]) -> set[ApiCall]:
    """What the emulator served since the last look, all of it from the operator."""
    calls = set(sandbox.k8s.emu.take_audit())
    api_calls.update(calls)  # taken from the emulator: the session-wide record needs them
    others = {call for call in calls if not call.user_agent.startswith(OPERATOR_AGENTS)}
    assert others == set(), "a client other than the operator called the API"
    non_resource = {call for call in calls if not call.resource}
    assert {(call.verb, call.path) for call in non_resource if call.verb != "get"} == set()
    assert [call.path for call in non_resource if not DISCOVERY.fullmatch(call.path)] == []
    return calls - non_resource


def used(calls: Iterable[ApiCall]) -> set[Rule]:
    return {rule_of(call) for call in calls}


def integration(name: str, platform: str, kind: str = "AlertPlatform") -> dict[str, Any]:
    return {
        "apiVersion": "alertsync.dev/v1alpha1",
        "kind": "AlertIntegration",
        "metadata": {"name": name},
        "spec": {"platformRef": {"kind": kind, "name": platform}, "displayName": name},
    }


def add_cluster_platform(sandbox: Sandbox, name: str) -> None:
    """A ClusterAlertPlatform for labelled namespaces; its Secret is in the operator's."""
    labels = {"metadata": {"labels": {"alertsync.dev/platform-access": name}}}
    sandbox.k8s.update_object("namespaces", "default", labels)
    sandbox.k8s.create_object(
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-token"},
            "stringData": {"token": TOKEN},
        },
        namespace=alertsync.handlers.CONFIG.operator_namespace,
    )
    sandbox.k8s.create_object(
        "clusteralertplatforms",
        {
            "apiVersion": "alertsync.dev/v1alpha1",
            "kind": "ClusterAlertPlatform",
            "metadata": {"name": name},
            "spec": {
                "productType": "grafana-oncall",
                "url": sandbox.oncall_url,
                "credentialsSecretRef": {"name": f"{name}-token"},
                "resyncInterval": "1s",
                "namespaceSelector": {"matchLabels": {"alertsync.dev/platform-access": name}},
            },
        },
    )


def platform_name(sandbox: Sandbox, name: str) -> str:
    obj = sandbox.k8s.read_object("alertplatforms", name, namespace="default") or {}
    return str((obj.get("status") or {}).get("platformName", ""))


def run_through_a_day_in_production(sandbox: Sandbox) -> None:
    """Start-up watches, finalizers, both platform kinds (one open to some namespaces only),
    create, edit, drift, Events, delete."""
    sandbox.apply_platform(resync="1s")
    add_cluster_platform(sandbox, "shared")
    sandbox.k8s.create_object(INTEGRATIONS, integration("pay", "oncall"), namespace="default")
    shared = integration("shop", "shared", kind="ClusterAlertPlatform")
    sandbox.k8s.create_object(INTEGRATIONS, shared, namespace="default")
    # A platform not seen on its watch stream (not there, or not yet at start-up) is asked for.
    sandbox.k8s.create_object(INTEGRATIONS, integration("lost", "gone"), namespace="default")
    lost = integration("lost-too", "gone", kind="ClusterAlertPlatform")
    sandbox.k8s.create_object(INTEGRATIONS, lost, namespace="default")

    webhook = sandbox.wait_ready("pay")["webhookId"]
    sandbox.wait_ready("shop")
    for name in ("lost", "lost-too"):
        sandbox.wait_status(name, lambda s: reason(s) == "InvalidSpec")

    sandbox.patch_spec("pay", {"displayName": "pay v2"})
    sandbox.wait_status("pay", lambda s: s.get("observedGeneration") == 2)
    sandbox.oncall.rename(webhook, "renamed by hand")
    sandbox.wait_status("pay", lambda s: s.get("driftCount") == 1)
    wait_for(lambda: sandbox.events("pay"))

    # kopf records what it handled on the platform, too (its update handler wakes the resync).
    sandbox.k8s.update_object(
        "alertplatforms", "oncall", {"spec": {"displayName": "OnCall v2"}}, namespace="default"
    )
    wait_for(lambda: platform_name(sandbox, "oncall") == "OnCall v2")

    sandbox.delete("pay")
    wait_for(lambda: sandbox.get("pay") is None)


# -- the tests -------------------------------------------------------------------------


def test_the_chart_grants_what_the_operator_uses_and_nothing_more(
    sandbox: Sandbox, chart: helm_python.Chart, api_calls: set[ApiCall]
) -> None:
    sandbox.k8s.emu.take_audit()
    with operator_as_deployed(kopf_args(chart, {})):
        run_through_a_day_in_production(sandbox)
    calls = operator_calls(sandbox, api_calls)
    needed = used(calls)

    for name, role in [("chart", chart_role(chart, {})), ("deploy/rbac.yaml", deploy_role())]:
        granted = grants(role)
        missing = sorted(needed - granted)
        assert not missing, f"{name}: the operator used these, not granted: {missing}"
        unused = sorted(granted - needed - NOT_EXERCISED.keys())
        assert not unused, f"{name}: granted, never used: {unused}"
    exercised = sorted(NOT_EXERCISED.keys() & needed)
    assert not exercised, f"exercised after all, drop them from NOT_EXERCISED: {exercised}"
    assert sorted(NOT_EXERCISED.keys() - grants(chart_role(chart, {}))) == []

    # Secrets are read by name in one namespace at a time, never listed or watched.
    assert {rule_of(c) for c in calls if c.resource == "secrets"} == {("", "secrets", "get")}
    assert {c.namespaced for c in calls if c.resource == "secrets"} == {True}


def peering_crd(kind: str, scope: str) -> dict[str, Any]:
    """kopf's peering CRD, as kopf's docs (peering.yaml) define it."""
    plural = f"{kind.lower()}s"
    schema = {
        "type": "object",
        "properties": {"status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.kopf.dev"},
        "spec": {
            "group": "kopf.dev",
            "scope": scope,
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def install_peering(sandbox: Sandbox, docs: list[dict[str, Any]]) -> None:
    """kopf's peering CRDs, and the peering objects the chart renders (if any)."""

    def load(crd: dict[str, Any]) -> None:  # in the emulator's loop, like its HTTP requests
        sandbox.k8s.emu.load_crd(crd)

    sandbox.k8s.call(load, peering_crd("ClusterKopfPeering", "Cluster"))
    sandbox.k8s.call(load, peering_crd("KopfPeering", "Namespaced"))
    for doc in docs:
        if doc["kind"] in ("ClusterKopfPeering", "KopfPeering"):
            namespace = doc["metadata"].get("namespace")
            sandbox.k8s.create_object(doc["kind"].lower() + "s", doc, namespace=namespace)


@pytest.mark.parametrize("values", OPTIONS.values(), ids=OPTIONS.keys())
def test_each_option_grants_only_what_the_operator_then_uses(
    sandbox: Sandbox, chart: helm_python.Chart, api_calls: set[ApiCall], values: dict[str, Any]
) -> None:
    install_peering(sandbox, documents(chart, values))
    sandbox.apply_platform(resync="1s")
    sandbox.create("pay", displayName="pay")
    sandbox.k8s.emu.take_audit()
    with operator_as_deployed(kopf_args(chart, values)):
        sandbox.wait_ready("pay")
    needed = used(operator_calls(sandbox, api_calls))

    granted = grants(chart_role(chart, values))
    missing = sorted(needed - granted)
    assert not missing, f"the operator used these, not granted: {missing}"
    unused = sorted(granted - grants(chart_role(chart, {})) - needed)
    assert not unused, f"granted only with this option, never used: {unused}"


@pytest.fixture(scope="session")
def every_e2e_call_is_checked_at_the_end(api_calls: set[ApiCall]) -> Iterator[None]:
    """After the last test: every operator call of the session's e2e tests was granted.

    Session-scoped, so that it checks at the very end, whatever the order of the tests
    and whichever of them ran. A failure shows as an error in the last test's teardown.
    """
    with helm_python.Chart.load(CHART) as chart:
        # The calls do not say which options their operator ran with: any of them.
        granted = set().union(*(grants(chart_role(chart, v)) for v in [{}, *OPTIONS.values()]))
        editor = grants(only(documents(chart, {}), "ClusterRole", "alertsync-editor"))
    assert sorted(CLI_CALLS - editor) == [], "people with the editor role cannot run the CLI"
    yield
    calls = {call for call in api_calls if call.user_agent.startswith(OPERATOR_AGENTS)}
    missing = sorted(used(call for call in calls if call.resource) - CLI_CALLS - granted)
    assert not missing, f"test_rbac: e2e tests made operator calls the chart denies: {missing}"


@pytest.mark.usefixtures("every_e2e_call_is_checked_at_the_end")
def test_every_call_of_the_e2e_tests_is_checked_when_they_end() -> None:
    """Arms the session-wide check (see the fixture)."""
