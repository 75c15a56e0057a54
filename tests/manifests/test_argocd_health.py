"""The Argo CD health check (deploy/argocd/health.lua) says Healthy, Progressing or
Degraded on the statuses AlertSync really writes, and docs/gitops.md says the same.

The Lua runs in Lua 5.1 (lupa), as gopher-lua is, with only what Argo CD's VM
opens for a custom health check: the base, table and a reduced os library, no
string or math library and no string methods (argo-cd util/lua/lua.go). The
statuses come from running `alertsync.reconcile.reconcile()` with an
in-memory platform and merging its status the way the runtime patches it.
"""

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
import yaml
from lupa import lua51  # type: ignore[import-untyped]

from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    CredentialsMissingError,
    InvalidSpecError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import (
    AlertIntegrationStatus,
    AlertPlatformStatus,
    CurrentState,
    PlatformRef,
)
from alertsync.platforms.base import (
    DeliveryTest,
    DesiredIntegration,
    Observation,
    PlatformAccount,
)
from alertsync.reconcile import Dependencies, IntegrationResource, reconcile
from alertsync.status import set_condition, status_patch, to_wire
from tests.support.accounts import platform_account
from tests.support.memory import MemoryPlatform, Remote

ROOT = Path(__file__).parents[2]
SCRIPT = (ROOT / "deploy" / "argocd" / "health.lua").read_text()
GITOPS_DOC = (ROOT / "docs" / "gitops.md").read_text()
CONDITIONS_DOC = (ROOT / "docs" / "status-and-conditions.md").read_text()
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
UID = "4b1c6a3e-0f57-4d6c-9a55-2b1f0c1d2e3f"

# What Argo CD's VM has: base, table, package and a "safe" os. Strings have no
# methods there, because the string library is never opened.
ARGO_SANDBOX = """
debug.setmetatable("", nil)
string, math, io, debug, coroutine, python = nil, nil, nil, nil, nil, nil
local time, date, clock = os.time, os.date, os.clock
os = {time = time, date = date, clock = clock}
"""


def argocd_health(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(status, message) as Argo CD would compute them for `obj`."""
    lua = lua51.LuaRuntime(register_eval=False, register_builtins=False)
    lua.execute(ARGO_SANDBOX)
    # Through JSON, as the API server hands it over: strings, numbers, lists, maps.
    lua.globals().obj = lua.table_from(json.loads(json.dumps(obj)), recursive=True)
    result = lua.execute(SCRIPT)
    health = dict(result.items())
    # Argo CD turns the table into JSON and then a HealthStatus: nothing else may be in it.
    assert set(health) <= {"status", "message"}
    assert health["status"] in {"Healthy", "Progressing", "Degraded"}
    assert isinstance(health.get("message", ""), str)
    return cast(str, health["status"]), cast(str, health.get("message", ""))


def kstatus(obj: Mapping[str, Any]) -> str:
    """kstatus's verdict for a custom resource, as Flux computes it.

    Its generic rules, in order (kubernetes-sigs/cli-utils pkg/kstatus/status:
    checkGenericProperties, then checkReadyCondition, then "Current"): ported
    here to check what docs/gitops.md claims about Flux, not run from Flux.
    """
    metadata, status = obj["metadata"], obj.get("status", {})
    if metadata.get("deletionTimestamp"):
        return "Terminating"
    if "observedGeneration" in status and status["observedGeneration"] != metadata["generation"]:
        return "InProgress"
    conditions = status.get("conditions", [])
    for condition in conditions:
        if condition["type"] == "Reconciling" and condition["status"] == "True":
            return "InProgress"
        if condition["type"] == "Stalled" and condition["status"] == "True":
            return "Failed"
    for condition in conditions:
        if condition["type"] == "Ready":
            return "Current" if condition["status"] == "True" else "InProgress"
    return "Current"


# -- an AlertIntegration driven by the real reconcile() -------------------------


@dataclass
class Platform(MemoryPlatform):
    """A platform in memory, which fails or delivers as a test sets it."""

    # The marker is not compared: an object adopted without one is not drifted.
    drift_checked: ClassVar[frozenset[str]] = frozenset({"displayName", "targetState"})
    observe_error: AlertSyncError | None = None
    create_error: AlertSyncError | None = None
    delivered: bool | None = None

    async def observe(
        self, desired: DesiredIntegration, listing: Sequence[object] | None = None
    ) -> Observation:
        if self.observe_error:
            raise self.observe_error
        return await super().observe(desired, listing)

    async def create(self, desired: DesiredIntegration) -> Observation:
        if self.create_error:
            raise self.create_error
        return await super().create(desired)

    async def after_write(
        self, desired: DesiredIntegration, before: Observation | None, after: Observation
    ) -> DeliveryTest | None:
        if self.delivered is None:
            return None
        message = "delivered" if self.delivered else "the receiver answered HTTP 500"
        return DeliveryTest(NOW, self.delivered, message)


@dataclass
class Integration:
    """One AlertIntegration as stored in Kubernetes, and the platform it lives on."""

    spec: dict[str, Any] = field(
        default_factory=lambda: {"platformRef": {"name": "oncall"}, "displayName": "payments"}
    )
    platform: Platform = field(default_factory=Platform)
    generation: int = 1
    status: dict[str, Any] = field(default_factory=dict)
    resolve_error: AlertSyncError | None = None
    deleting: bool = False

    def change_spec(self, **changes: Any) -> None:
        """What `kubectl apply` of a changed manifest does: the generation moves."""
        self.spec = {**self.spec, **changes}
        self.generation += 1

    @property
    def obj(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "name": "payments-alerts",
            "namespace": "team",
            "uid": UID,
            "generation": self.generation,
        }
        if self.deleting:
            metadata["deletionTimestamp"] = "2026-11-23T12:05:00Z"
        body = {
            "apiVersion": "alertsync.dev/v1alpha1",
            "kind": "AlertIntegration",
            "metadata": metadata,
            "spec": self.spec,
        }
        if self.status:
            body["status"] = self.status
        return body

    def condition(self, kind: str) -> tuple[str, str] | None:
        found = [c for c in self.status.get("conditions", []) if c["type"] == kind]
        return (found[0]["status"], found[0]["reason"]) if found else None

    def _merge(self, new: AlertIntegrationStatus) -> None:
        # As Runtime._write: a merge patch of what changed, null deleting a key.
        patch = status_patch(self.status, new, NOW, heartbeat=None) or {}
        merged = {**self.status, **patch}
        self.status = {k: v for k, v in merged.items() if v is not None}

    async def reconcile(self) -> None:
        async def resolve(ref: PlatformRef, namespace: str) -> PlatformAccount:
            if self.resolve_error:
                raise self.resolve_error
            return platform_account("https://oncall.invalid", "token-value", namespace="team")

        async def write(status: AlertIntegrationStatus) -> None:
            self._merge(status)

        deps = Dependencies(resolve, lambda _: self.platform, write, clock=lambda: NOW)
        resource = IntegrationResource(
            namespace="team",
            name="payments-alerts",
            uid=UID,
            generation=self.generation,
            spec=self.spec,
            status=AlertIntegrationStatus.model_validate(self.status),
            deleting=self.deleting,
        )
        outcome = await reconcile(resource, deps)
        if not outcome.released:
            self._merge(outcome.status)


async def healthy() -> Integration:
    integration = Integration()
    await integration.reconcile()
    assert integration.condition("Ready") == ("True", "Reconciled")
    assert integration.status["observedGeneration"] == 1
    return integration


# -- AlertIntegration ------------------------------------------------------------


def test_no_status_yet_is_progressing() -> None:
    integration = Integration()
    assert argocd_health(integration.obj) == (
        "Progressing",
        "waiting for AlertSync to reconcile it",
    )
    # kstatus (Flux) cannot tell this apart from a resource without status at all.
    assert kstatus(integration.obj) == "Current"


async def test_created_and_in_sync_is_healthy() -> None:
    integration = await healthy()
    assert argocd_health(integration.obj) == ("Healthy", "C1 is enabled on the platform")
    assert kstatus(integration.obj) == "Current"


async def test_a_change_not_yet_handled_is_progressing_until_it_is() -> None:
    integration = await healthy()
    integration.change_spec(displayName="payments prod")
    status, message = argocd_health(integration.obj)
    assert status == "Progressing"
    assert message.startswith("AlertSync has not yet handled generation 2 (Ready=True")
    assert kstatus(integration.obj) == "InProgress"
    await integration.reconcile()
    assert integration.platform.objects["C1"].name == "payments prod"
    assert argocd_health(integration.obj)[0] == "Healthy"


async def test_drift_repaired_stays_healthy() -> None:
    integration = await healthy()
    integration.platform.objects["C1"] = Remote("renamed by hand", None, CurrentState.DISABLED)
    await integration.reconcile()
    assert integration.status["driftCount"] == 1
    assert argocd_health(integration.obj)[0] == "Healthy"


TRANSIENT = [
    PlatformUnavailableError("the platform timed out after 10 s"),
    RateLimitedError("rate limited by the platform until 2026-11-23T12:01:00Z", 60.0),
]


async def test_a_working_integration_waiting_for_the_budget_stays_healthy() -> None:
    """Waiting for the platform's rate limit says nothing of whether the object works."""
    integration = await healthy()
    error = TRANSIENT[1]
    integration.platform.observe_error = error
    await integration.reconcile()
    assert integration.condition("Ready") == ("True", "Reconciled")
    assert integration.condition("Synced") == ("False", error.reason)
    assert argocd_health(integration.obj)[0] == "Healthy"
    assert kstatus(integration.obj) == "Current"


@pytest.mark.parametrize("error", TRANSIENT[:1], ids=lambda e: e.reason)
async def test_a_platform_that_fails_for_a_while_is_progressing(error: AlertSyncError) -> None:
    integration = await healthy()
    integration.platform.observe_error = error
    await integration.reconcile()
    assert integration.condition("Ready") == ("False", error.reason)
    assert integration.condition("Stalled") is None
    assert argocd_health(integration.obj) == (
        "Progressing",
        f"AlertSync retries: {error.reason}: {error.message}",
    )
    assert kstatus(integration.obj) == "InProgress"


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: e.reason)
async def test_a_first_pass_that_fails_for_a_while_is_progressing(error: AlertSyncError) -> None:
    integration = Integration(platform=Platform(observe_error=error))
    await integration.reconcile()
    # A transient failure does not mark the generation handled.
    assert "observedGeneration" not in integration.status
    status, message = argocd_health(integration.obj)
    assert status == "Progressing"
    assert error.reason in message


async def test_a_missing_secret_is_progressing() -> None:
    integration = await healthy()
    integration.resolve_error = CredentialsMissingError(
        "Secret team/oncall-credentials does not exist"
    )
    await integration.reconcile()
    assert integration.condition("Ready") == ("False", "CredentialsMissing")
    status, message = argocd_health(integration.obj)
    assert status == "Progressing"
    assert "Secret team/oncall-credentials does not exist" in message


async def test_a_rejected_token_is_degraded_though_alertsync_retries() -> None:
    integration = await healthy()
    integration.platform.observe_error = CredentialsError(
        "the platform refused the token (HTTP 403)"
    )
    await integration.reconcile()
    assert integration.condition("Stalled") is None
    assert argocd_health(integration.obj) == (
        "Degraded",
        "CredentialsRejected: the platform refused the token (HTTP 403)",
    )
    # kstatus only knows Stalled: for Flux this waits until the health check times out.
    assert kstatus(integration.obj) == "InProgress"


async def test_a_platform_that_does_not_exist_is_degraded() -> None:
    integration = Integration(
        resolve_error=InvalidSpecError(
            "spec.platformRef.name", "AlertPlatform 'oncall' not found in namespace team"
        )
    )
    await integration.reconcile()
    assert integration.condition("Stalled") == ("True", "InvalidSpec")
    assert argocd_health(integration.obj) == (
        "Degraded",
        "InvalidSpec: spec.platformRef.name: AlertPlatform 'oncall' not found in namespace team",
    )
    assert kstatus(integration.obj) == "Failed"


async def test_a_name_taken_by_someone_else_is_degraded_until_adoption_is_allowed() -> None:
    integration = Integration()
    integration.platform.objects["X9"] = Remote("payments", None, CurrentState.ENABLED)
    await integration.reconcile()
    assert integration.condition("Stalled") == ("True", "AdoptionRefused")
    status, message = argocd_health(integration.obj)
    assert (status, kstatus(integration.obj)) == ("Degraded", "Failed")
    assert "(id X9)" in message

    integration.change_spec(adoptionPolicy="AdoptExisting")
    # Stalled is still there, but for the previous generation.
    assert argocd_health(integration.obj)[0] == "Progressing"
    assert kstatus(integration.obj) == "InProgress"
    await integration.reconcile()
    assert argocd_health(integration.obj) == ("Healthy", "X9 is enabled on the platform")


async def test_a_request_the_platform_refuses_is_degraded() -> None:
    integration = Integration()
    integration.platform.create_error = PlatformRejectedError(
        "the platform refused the request (HTTP 400): type is not valid", 400
    )
    await integration.reconcile()
    assert integration.condition("Stalled") == ("True", "PlatformRejected")
    assert argocd_health(integration.obj)[0] == "Degraded"
    assert kstatus(integration.obj) == "Failed"


async def test_an_object_the_platform_holds_is_degraded() -> None:
    integration = await healthy()
    integration.platform.held_by_platform = "suspended by Mackerel since 2026-11-23T11:00:00Z"
    await integration.reconcile()
    assert integration.condition("Ready") == ("False", "HeldByPlatform")
    assert argocd_health(integration.obj) == (
        "Degraded",
        "HeldByPlatform: suspended by Mackerel since 2026-11-23T11:00:00Z",
    )


async def test_observe_only_drift_is_degraded() -> None:
    integration = Integration(
        spec={
            "platformRef": {"name": "oncall"},
            "displayName": "payments",
            "managementPolicy": "ObserveOnly",
            "adoptionPolicy": "AdoptExisting",
        }
    )
    integration.platform.objects["X1"] = Remote("payments", None, CurrentState.DISABLED)
    await integration.reconcile()
    assert integration.condition("Ready") == ("False", "DriftDetected")
    status, message = argocd_health(integration.obj)
    assert status == "Degraded"
    assert message.startswith("DriftDetected: the platform differs from the spec in targetState")
    # Nothing was written: ObserveOnly.
    assert integration.platform.objects["X1"].state is CurrentState.DISABLED


async def test_observe_only_without_the_object_is_degraded() -> None:
    integration = Integration(
        spec={
            "platformRef": {"name": "oncall"},
            "displayName": "payments",
            "managementPolicy": "ObserveOnly",
        }
    )
    await integration.reconcile()
    assert integration.condition("Ready") == ("False", "NotFound")
    assert argocd_health(integration.obj)[0] == "Degraded"


async def test_a_failed_delivery_test_keeps_it_healthy_and_says_so() -> None:
    integration = Integration(platform=Platform(delivered=False))
    await integration.reconcile()
    assert integration.condition("Delivered") == ("False", "DeliveryFailed")
    status, message = argocd_health(integration.obj)
    assert status == "Healthy"
    assert message.endswith(
        "; last delivery test failed: DeliveryFailed: the receiver answered HTTP 500"
    )


async def test_being_deleted_is_progressing() -> None:
    integration = await healthy()
    integration.deleting = True
    assert argocd_health(integration.obj)[0] == "Progressing"
    assert kstatus(integration.obj) == "Terminating"


def conditions_status(*conditions: tuple[str, str, str], generation: int = 1) -> dict[str, Any]:
    made: tuple[Any, ...] = ()
    for kind, value, reason in conditions:
        made = set_condition(made, kind, value, reason, "", NOW, generation)  # type: ignore[arg-type]
    status = AlertIntegrationStatus(observed_generation=generation, conditions=made)
    return to_wire(status)


def with_status(status: Mapping[str, Any], kind: str = "AlertIntegration") -> dict[str, Any]:
    return {
        "apiVersion": "alertsync.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": "x", "generation": 1},
        "status": dict(status),
    }


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([("Ready", "Unknown", "Pending")], "Progressing"),
        ([("Ready", "False", "SomeNewReason")], "Progressing"),
        ([("Ready", "False", "SomeNewReason"), ("Stalled", "True", "SomeNewReason")], "Degraded"),
        ([("Synced", "True", "Reconciled")], "Progressing"),
    ],
    ids=["ready-unknown", "unknown-reason", "unknown-reason-stalled", "no-ready"],
)
def test_what_this_script_does_not_know_follows_stalled(
    conditions: list[tuple[str, str, str]], expected: str
) -> None:
    assert argocd_health(with_status(conditions_status(*conditions)))[0] == expected


def test_generation_given_as_a_string_still_compares_as_a_number() -> None:
    obj = with_status(conditions_status(("Ready", "True", "Reconciled")))
    obj["metadata"]["generation"] = "1"
    assert argocd_health(obj)[0] == "Healthy"


# -- AlertPlatform and ClusterAlertPlatform --------------------------------------


def platform_status(ready: str, reason: str, message: str, generation: int = 1) -> dict[str, Any]:
    """As Runtime._resync_platform writes it: observedGeneration and Ready, never Stalled."""
    status = AlertPlatformStatus(platform_uuid="platform-uid", observed_generation=generation)
    status.conditions = set_condition(
        status.conditions,
        "Ready",
        ready,  # type: ignore[arg-type]
        reason,
        message,
        NOW,
        generation,
    )
    return to_wire(status)


@pytest.mark.parametrize("kind", ["AlertPlatform", "ClusterAlertPlatform"])
@pytest.mark.parametrize(
    ("ready", "reason", "expected"),
    [
        ("True", "Connected", "Healthy"),
        ("False", "CredentialsMissing", "Progressing"),
        ("False", "PlatformUnavailable", "Progressing"),
        ("False", "RateLimited", "Progressing"),
        ("False", "CredentialsRejected", "Degraded"),
        ("False", "InvalidSpec", "Degraded"),
    ],
)
def test_platforms(kind: str, ready: str, reason: str, expected: str) -> None:
    obj = with_status(platform_status(ready, reason, "the message"), kind)
    assert argocd_health(obj)[0] == expected
    obj["metadata"]["generation"] = 2
    assert argocd_health(obj)[0] == "Progressing"


# -- docs/gitops.md ----------------------------------------------------------------


def section(text: str, heading: str) -> str:
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def table_rows(text: str) -> Iterator[list[str]]:
    for line in text.splitlines():
        if line.startswith("| `"):
            yield [cell.strip() for cell in line.strip().strip("|").split("|")]


REASON_ROWS = list(table_rows(section(GITOPS_DOC, "## Every reason")))


def documented_object(condition: str, reason: str) -> dict[str, Any]:
    """The status the docs' "condition" column describes, written with the operator's helpers."""
    parts = [part.strip() for part in condition.split(",")]
    conditions = []
    for part in parts:
        kind, value = part.split("=")
        conditions.append((kind, value, reason))
    if conditions[0][0] == "Delivered":
        conditions.insert(0, ("Ready", "True", "Reconciled"))
    return with_status(conditions_status(*conditions))


@pytest.mark.parametrize("row", REASON_ROWS, ids=[row[0].strip("`") for row in REASON_ROWS])
def test_the_docs_table_is_what_the_script_and_kstatus_do(row: list[str]) -> None:
    reason, condition, argo, flux = row[0].strip("`"), row[1], row[2], row[3]
    obj = documented_object(condition, reason)
    assert argocd_health(obj)[0] == argo
    assert kstatus(obj) == flux.strip("`")


def error_reasons() -> dict[str, bool]:
    """Every AlertSyncError's reason, and whether AlertSync stalls on it."""
    found: dict[str, bool] = {}
    pending: list[type[AlertSyncError]] = [AlertSyncError]
    while pending:
        cls = pending.pop()
        found[cls.reason] = cls.permanent
        pending.extend(cls.__subclasses__())
    return found


def test_every_reason_alertsync_can_write_is_in_the_docs_table() -> None:
    documented = {row[0].strip("`"): row[1] for row in REASON_ROWS}
    # Error classes, with Stalled exactly when AlertSync stalls on them.
    for reason, permanent in error_reasons().items():
        assert reason in documented, reason
        assert ("Stalled=True" in documented[reason]) == permanent, reason
    # And every reason docs/status-and-conditions.md lists.
    table = section(CONDITIONS_DOC, "## Conditions")
    listed = set(re.findall(r"^\| `(\w+)`", table, flags=re.MULTILINE))
    listed |= set(re.findall(r"^\| `\w+` / `(\w+)`", table, flags=re.MULTILINE))
    assert "AdoptionRefused" in listed
    assert listed - {"Delivered"} <= documented.keys()


def test_the_argocd_cm_snippet_carries_this_script_for_every_kind() -> None:
    block = GITOPS_DOC.split("```yaml", 1)[1].split("```", 1)[0]
    config_map = yaml.safe_load(block)
    assert (config_map["kind"], config_map["metadata"]["name"]) == ("ConfigMap", "argocd-cm")
    prefix = "resource.customizations.health.alertsync.dev_"
    scripts = {k.removeprefix(prefix): v for k, v in config_map["data"].items()}
    assert scripts == dict.fromkeys(
        ["AlertIntegration", "AlertPlatform", "ClusterAlertPlatform"], SCRIPT
    )


def test_the_sandbox_lacks_what_argocd_lacks() -> None:
    # Guards the harness: a script using the string library must fail here as in Argo CD.
    lua = lua51.LuaRuntime(register_eval=False, register_builtins=False)
    lua.execute(ARGO_SANDBOX)
    with pytest.raises(lua51.LuaError, match="attempt to index"):
        lua.execute('return ("Ready"):lower()')
    assert lua.eval("string") is None
