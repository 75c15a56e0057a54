"""`alertsync export`, per platform, against the simulators in process.

Objects are made behind AlertSync's back (the simulators' own methods, which skip the
API and its request log). Each exported manifest is then applied the way the operator
would: one real reconcile pass with the real adapter, as a resource of a new uid. It
must adopt the same object and change nothing on it but AlertSync's marker.
"""

import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
from pydantic import SecretStr

from alertsim.confluent import ApiKey, ConfluentSimulator
from alertsim.core import Simulator
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.ilert import ILertSimulator
from alertsim.mackerel import READ_WRITE, MackerelSimulator
from alertsim.zstack import ZStackSimulator
from alertsync.config import OperatorConfig
from alertsync.connector import Connector
from alertsync.export import ANNOTATION, Export, Exported, Target, export
from alertsync.export.output import render_json, render_yaml, summary
from alertsync.kube import Kube
from alertsync.models import AlertIntegrationStatus, PlatformKind, ProductType
from alertsync.plan.sources import Manifests, Sources
from alertsync.platforms import build_adapter
from alertsync.platforms.base import PlatformAccount, PlatformAdapter, marker
from alertsync.reconcile import Dependencies, IntegrationResource, Outcome, reconcile
from alertsync.records import PlatformRecord
from alertsync.watchcache import WatchCache

NAMESPACE = "team-a"
PLATFORM = "prod"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# ZStack logs in (PUT) and out (DELETE) around every use of its API: sessions, not objects.
SESSION_ROUTES = ("/zstack/v1/accounts/login", "/zstack/v1/accounts/sessions/{uuid}")
TOPIC_A, TOPIC_B = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f", "6e1d9b2f4a3c5d7e8f9a0b1c2d3e4f5a"
RECEIVER = "https://receiver.example.com/hooks/payments"
EMAIL_KINDS = ("RoleEmail", "UserEmail")


# -- the platforms --------------------------------------------------------------------------


def seed_oncall(sim: GrafanaOnCallSimulator) -> None:
    sim.add_team("TPAYMENTS")
    chain = sim.add_escalation_chain("primary", "TPAYMENTS")
    rich = sim.add_integration(
        "alertmanager", name="Payments Prod", team_id="TPAYMENTS", escalation_chain_id=chain
    )["id"]
    sim.set_template(rich, "grouping_key", "{{ payload.labels.alertname }}")
    sim.set_template(rich, "slack.title", "{{ payload.title }}\n{{ payload.summary }}")
    sim.set_template(rich, "mobile_app.message", "paged")
    plain = sim.add_integration("webhook", name="checkout")["id"]
    sim.start_maintenance(plain, "maintenance", 7200)


def seed_ilert(sim: ILertSimulator) -> None:
    make_ilert_sources(sim)


def make_ilert_sources(sim: ILertSimulator) -> tuple[int, int]:
    """Two sources; returns the ids of the two teams the first one has."""
    team_a, team_b = sim.add_team("payments"), sim.add_team("sre")
    rich = sim.add_alert_source(
        "payments prod", "PROMETHEUS", escalation_policy_id=1, teams=[team_b, team_a]
    )["id"]
    sim.patch(
        rich,
        alert_creation="ONE_ALERT_GROUPED_PER_WINDOW",
        alert_grouping_window="PT30M",
        alert_priority_rule="HIGH_DURING_SUPPORT_HOURS",
        auto_resolution_timeout="PT4H",
    )
    sim.add_alert_source("checkout api", "API", escalation_policy_id=1, active=False)
    return team_a, team_b


def seed_mackerel(sim: MackerelSimulator) -> None:
    ops = sim.add_notification_group("ops")
    rich = sim.add_channel(
        "payments hook", url=RECEIVER, events=["alert", "alertGroup"], enabled_graph_image=True
    )["id"]
    sim.add_to_group(ops, rich)
    sim.add_channel("quiet hook", url=RECEIVER, events=[], add_to_default_group=False)


def seed_confluent(sim: ConfluentSimulator) -> None:
    sim.add_integration("kafka prod", kind="Webhook", url=RECEIVER)
    sim.add_integration("kafka chat", kind="Slack", url="https://chat.example.com/kafka")


def seed_zstack(sim: ZStackSimulator) -> None:
    rich = sim.add_endpoint("storage alarms", RECEIVER, username="receiver")["uuid"]
    sim.subscribe(TOPIC_A, rich)
    sim.subscribe(TOPIC_B, rich)
    sim.add_endpoint("quiet alarms", RECEIVER, state="Disabled")


@dataclass(frozen=True)
class Case:
    id: str
    product: ProductType
    make: Callable[[], Simulator]
    secret: Mapping[str, str]
    # credentialsSecretRef beyond its name.
    ref: Mapping[str, str]
    # Exportable objects made by hand (two at least, in different states).
    seed: Callable[[Any], None]
    # `n` plain objects, for the scale test.
    seed_many: Callable[[Any, int], None]
    # id -> the object as the simulator shows it.
    objects: Callable[[Any], dict[str, dict[str, Any]]]
    # Where adoption writes AlertSync's marker; None: the platform has no marker field.
    marker_field: str | None
    # What the platform itself changes on any write (update times).
    volatile: tuple[str, ...] = ()


def _oncall_many(sim: GrafanaOnCallSimulator, n: int) -> None:
    for i in range(n):
        sim.add_integration("webhook", name=f"service {i:04d}")


def _ilert_many(sim: ILertSimulator, n: int) -> None:
    for i in range(n):
        sim.add_alert_source(f"service {i:04d}", "API", escalation_policy_id=1)


def _mackerel_many(sim: MackerelSimulator, n: int) -> None:
    for i in range(n):
        sim.add_channel(f"service {i:04d}", url=RECEIVER)


def _confluent_many(sim: ConfluentSimulator, n: int) -> None:
    for i in range(n):
        sim.add_integration(f"service {i:04d}", url=RECEIVER)


def _zstack_many(sim: ZStackSimulator, n: int) -> None:
    for i in range(n):
        sim.add_endpoint(f"service {i:04d}", RECEIVER)


def _ilert_sim() -> ILertSimulator:
    sim = ILertSimulator(keys={"unit-export-ilert-key-3f9a": "admin"}, base_url="http://ilert.sim")
    sim.add_escalation_policy("second line")
    return sim


CASES = [
    Case(
        "grafana-oncall",
        ProductType.GRAFANA_ONCALL,
        lambda: GrafanaOnCallSimulator(
            tokens={"unit-export-oncall-token-91ce": "admin"}, base_url="http://grafana-oncall.sim"
        ),
        {"token": "unit-export-oncall-token-91ce"},
        {},
        seed_oncall,
        _oncall_many,
        lambda sim: {i["id"]: i for i in sim.integrations()},
        "description_short",
    ),
    Case(
        "ilert",
        ProductType.ILERT,
        _ilert_sim,
        {"token": "unit-export-ilert-key-3f9a"},
        {},
        seed_ilert,
        _ilert_many,
        lambda sim: {str(s["id"]): s for s in sim.alert_sources()},
        None,
    ),
    Case(
        "mackerel",
        ProductType.MACKEREL,
        lambda: MackerelSimulator(keys={"unit-export-mackerel-key-77b1": READ_WRITE}),
        {"token": "unit-export-mackerel-key-77b1"},
        {},
        seed_mackerel,
        _mackerel_many,
        lambda sim: {
            c["id"]: {
                **c,
                "groups": sorted(
                    g["id"] for g in sim.notification_groups() if c["id"] in g["childChannelIds"]
                ),
            }
            for c in sim.channels()
        },
        None,
    ),
    Case(
        "confluent",
        ProductType.CONFLUENT,
        lambda: ConfluentSimulator(
            keys={"UNITEXPORTKEY9": ApiKey("unit-export-confluent-secret-4d2e")}
        ),
        {"apiKey": "UNITEXPORTKEY9", "apiSecret": "unit-export-confluent-secret-4d2e"},
        {"key": "apiSecret", "usernameKey": "apiKey"},
        seed_confluent,
        _confluent_many,
        # Confluent's own email integrations (one comes with every organisation) aside.
        lambda sim: {
            i["id"]: i for i in sim.integrations() if i["target"]["kind"] not in EMAIL_KINDS
        },
        "description",
        ("metadata",),
    ),
    Case(
        "zstack",
        ProductType.ZSTACK,
        lambda: ZStackSimulator(
            accounts={"admin": "unit-export-zstack-password-5e0b"},
            topics={TOPIC_A: "alarms", TOPIC_B: "events"},
        ),
        {"accountName": "admin", "password": "unit-export-zstack-password-5e0b"},
        {"key": "password", "usernameKey": "accountName"},
        seed_zstack,
        _zstack_many,
        lambda sim: {
            e["uuid"]: {**e, "topics": sorted(sim.subscriptions(e["uuid"]))}
            for e in sim.endpoints()
        },
        "description",
        ("lastOpDate",),
    ),
]
BY_ID = {case.id: case for case in CASES}


class Account:
    """One platform account in a simulator, its AlertPlatform, and the cluster's view."""

    def __init__(self, case: Case, sim: Simulator | None = None) -> None:
        self.case = case
        self.sim = sim or case.make()
        self.transport = httpx.MockTransport(self.sim.handle)
        self.platform: dict[str, Any] = {
            "apiVersion": "alertsync.dev/v1alpha1",
            "kind": "AlertPlatform",
            "metadata": {"name": PLATFORM, "namespace": NAMESPACE, "uid": "platform-uid"},
            "spec": {
                "productType": case.product.value,
                "url": f"http://{case.id}.sim",
                "credentialsSecretRef": {"name": "credentials", **case.ref},
            },
        }

    def sources(self, integrations: Iterable[dict[str, Any]] = ()) -> Sources:
        manifests = Manifests(
            integrations=list(integrations),
            platforms=[self.platform],
            secrets={(NAMESPACE, "credentials"): dict(self.case.secret)},
        )
        return Sources(manifests, None)

    async def export(self, integrations: Iterable[dict[str, Any]] = (), **options: Any) -> Export:
        target = Target(PlatformKind.NAMESPACED, PLATFORM, NAMESPACE)
        return await export(target, self.sources(integrations), transport=self.transport, **options)

    def writes(self) -> dict[str, int]:
        return {
            key: count
            for key, count in self.sim.requests.snapshot().items()
            if key.split(" ", 1)[0] in WRITES and key.split(" ", 1)[1] not in SESSION_ROUTES
        }

    async def apply(self, exported: Exported, uid: str) -> Outcome:
        """The operator's pass for the manifest, as a new resource: a targeted observe."""
        return await self._pass(exported, uid, AlertIntegrationStatus(), with_listing=False)

    async def resync(self, exported: Exported, uid: str, status: AlertIntegrationStatus) -> Outcome:
        """A later batched resync of the adopted resource: one listing, compared in memory."""
        return await self._pass(exported, uid, status, with_listing=True)

    async def _pass(
        self, exported: Exported, uid: str, status: AlertIntegrationStatus, *, with_listing: bool
    ) -> Outcome:
        sources = self.sources()
        cache = WatchCache()
        cache.track_platform(PlatformRecord.from_body(self.platform))
        connector = Connector(cast(Kube, sources), OperatorConfig(), cache, self.transport)

        async def no_write(status: AlertIntegrationStatus) -> None:
            raise AssertionError("an adoption never records a pending create")

        async def listing(adapter: PlatformAdapter) -> Sequence[object]:
            return await adapter.list_all()

        meta = exported.manifest["metadata"]
        resource = IntegrationResource(
            namespace=meta["namespace"],
            name=meta["name"],
            uid=uid,
            generation=1,
            spec=exported.manifest["spec"],
            status=status,
        )
        deps = Dependencies(
            connector.resolve,
            connector.adapter_for,
            no_write,
            read_secret=sources.read_secret,
            listing=listing if with_listing else None,
        )
        try:
            return await reconcile(resource, deps)
        finally:
            await connector.aclose()


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def account(request: pytest.FixtureRequest) -> Account:
    return Account(request.param)


def without(obj: dict[str, Any], *fields: str | None) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in fields}


# -- every platform -------------------------------------------------------------------------


async def test_applied_export_adopts_every_object_in_place_and_changes_only_the_marker(
    account: Account,
) -> None:
    case = account.case
    case.seed(account.sim)
    before = case.objects(account.sim)
    account.sim.requests.clear()

    result = await account.export()

    assert account.sim.requests.count() > 0
    assert account.writes() == {}
    assert result.managed == []
    # Only what AlertSync cannot represent (Confluent's own email integration).
    assert all(left.found.id not in before for left in result.skipped)
    assert sorted(item.found.id for item in result.exported) == sorted(before)
    for item in result.exported:
        meta, spec = item.manifest["metadata"], item.manifest["spec"]
        assert meta["annotations"] == {ANNOTATION: item.found.id}
        assert meta["namespace"] == NAMESPACE
        assert spec["platformRef"] == {"kind": "AlertPlatform", "name": PLATFORM}
        assert spec["displayName"] == before[item.found.id].get(
            "name", before[item.found.id].get("display_name")
        )
        assert (spec["adoptionPolicy"], spec["deletionPolicy"]) == ("AdoptExisting", "Orphan")
        assert case.product.block in spec

    uids: dict[str, str] = {}
    for item in result.exported:
        uid = str(uuid.uuid4())
        uids[item.found.id] = uid
        outcome = await account.apply(item, uid)
        assert outcome.error is None, outcome.error
        status = outcome.status
        assert (status.webhook_id, status.origin, status.drift_count) == (
            item.found.id,
            "adopted",
            0,
        )
        assert [e.reason for e in outcome.events] == ["Adopted"]
        ready = next(c for c in status.conditions if c.type == "Ready")
        assert ready.status == "True", ready.message

        # Later resyncs find it in sync: nothing more is ever written.
        account.sim.requests.clear()
        again = await account.resync(item, uid, status)
        assert again.error is None
        assert again.events == ()
        assert again.status.webhook_id == item.found.id
        assert account.writes() == {}

    after = case.objects(account.sim)
    assert sorted(after) == sorted(before)  # nothing created, nothing deleted
    for id_, obj in after.items():
        # Each object as it was, but for AlertSync's marker where the platform has one.
        ignored = (case.marker_field, *case.volatile)
        assert without(obj, *ignored) == without(before[id_], *ignored)
        if case.marker_field is not None:
            assert obj[case.marker_field] == marker(uids[id_])


async def test_1000_objects_cost_one_listing_and_no_more(account: Account) -> None:
    """The simulators keep their platforms' rate limits (iLert 120, Confluent 60, OnCall
    300 a minute): a request past the budget would be a 429, retried, and counted."""
    account.case.seed_many(account.sim, 1000)
    # One listing of the account by the adapter alone, for comparison (without a
    # client-side limit of its own: the count is what matters here).
    ref: dict[str, str] = account.platform["spec"]["credentialsSecretRef"]
    secret = account.case.secret
    platform = PlatformAccount(
        kind=PlatformKind.NAMESPACED,
        namespace=NAMESPACE,
        name=PLATFORM,
        uid="platform-uid",
        display_name=PLATFORM,
        product_type=account.case.product,
        url=account.platform["spec"]["url"],
        token=SecretStr(secret[ref.get("key", "token")]),
        username=SecretStr(secret[ref["usernameKey"]]) if "usernameKey" in ref else None,
        requests_per_minute=100_000,
    )
    adapter = build_adapter(platform, account.transport)
    try:
        assert len(await adapter.list_all()) == 1000
    finally:
        await adapter.aclose()
    one_listing = account.sim.requests.snapshot()
    account.sim.requests.clear()

    started = time.monotonic()
    result = await account.export()

    # On the account's own throttle (iLert's default 100 a minute): within a minute.
    assert time.monotonic() - started < 60
    assert len(result.exported) == 1000
    assert account.sim.requests.snapshot() == one_listing
    names = [item.name for item in result.exported]
    assert len(set(names)) == 1000


async def test_nothing_secret_reaches_the_output(account: Account) -> None:
    account.case.seed(account.sim)
    result = await account.export()
    text = render_yaml(result.exported) + render_json(result.exported) + summary(result)
    for secret in account.case.secret.values():
        if len(secret) >= 8:
            assert secret not in text
    for obj in account.case.objects(account.sim).values():
        # iLert's inbound URL carries the source's integration key.
        for key in ("integrationKey", "integrationUrl", "link"):
            if obj.get(key):
                assert str(obj[key]) not in text


# -- what each platform maps ----------------------------------------------------------------


def by_name(result: Export) -> dict[str, dict[str, Any]]:
    return {item.found.name: item.manifest["spec"] for item in result.exported}


async def test_oncall_maps_type_team_route_templates_and_maintenance() -> None:
    account = Account(BY_ID["grafana-oncall"])
    seed_oncall(cast(GrafanaOnCallSimulator, account.sim))
    result = await account.export()
    specs = by_name(result)
    chain = account.sim.escalation_chains()[0]["id"]  # type: ignore[attr-defined]
    assert specs["Payments Prod"]["grafanaOnCall"] == {
        "type": "alertmanager",
        "teamId": "TPAYMENTS",
        "escalationChainId": chain,
        "templates": {
            "groupingKey": "{{ payload.labels.alertname }}",
            "slack": {"title": "{{ payload.title }}\n{{ payload.summary }}"},
            "mobileApp": {"message": "paged"},
        },
    }
    assert specs["Payments Prod"]["targetState"] == "enabled"
    assert specs["checkout"]["grafanaOnCall"] == {"type": "webhook"}
    assert specs["checkout"]["targetState"] == "disabled"
    [noted] = result.attention
    assert noted.found.name == "checkout"
    assert "maintenance" in noted.attention[0]
    assert "make it enabled" in noted.attention[0]


async def test_oncall_types_alertsync_does_not_manage_are_skipped_with_the_reason() -> None:
    account = Account(BY_ID["grafana-oncall"])
    sim = cast(GrafanaOnCallSimulator, account.sim)
    paging = sim.add_integration("webhook", name="Direct paging")["id"]
    sim.patch(paging, type="direct_paging")
    sim.add_integration("webhook", name="kept")
    result = await account.export()
    assert [item.found.name for item in result.exported] == ["kept"]
    [left] = result.skipped
    assert left.found.id == paging
    assert left.reason.startswith("type direct_paging is not one AlertSync manages")


async def test_ilert_maps_policy_teams_grouping_priority_and_resolution() -> None:
    account = Account(BY_ID["ilert"])
    teams = make_ilert_sources(cast(ILertSimulator, account.sim))
    specs = by_name(await account.export())
    assert specs["payments prod"]["ilert"] == {
        "integrationType": "PROMETHEUS",
        "escalationPolicyId": 1,
        "teams": sorted(teams),
        "alertCreation": "ONE_ALERT_GROUPED_PER_WINDOW",
        "alertPriorityRule": "HIGH_DURING_SUPPORT_HOURS",
        "alertGroupingWindow": "PT30M",
        "autoResolutionTimeout": "PT4H",
    }
    assert specs["payments prod"]["targetState"] == "enabled"
    assert specs["checkout api"]["targetState"] == "disabled"
    assert "webhook" not in specs["payments prod"]


async def test_ilert_durations_it_answers_in_seconds_are_kept_by_length() -> None:
    account = Account(BY_ID["ilert"])
    sim = cast(ILertSimulator, account.sim)
    id_ = sim.add_alert_source("hourly", "API", escalation_policy_id=1)["id"]
    sim.patch(id_, auto_resolution_timeout="PT1H30M0S", alert_grouping_window="PT90S")
    result = await account.export()
    [item] = result.exported
    assert item.manifest["spec"]["ilert"]["autoResolutionTimeout"] == "PT1H30M"
    assert "alertGroupingWindow" not in item.manifest["spec"]["ilert"]
    assert item.attention == (
        "spec.ilert.alertGroupingWindow: PT90S is not a duration AlertSync can hold: left out",
    )
    outcome = await account.apply(item, str(uuid.uuid4()))
    assert outcome.error is None
    assert outcome.status.drift_count == 0
    assert account.writes() == {}


async def test_ilert_deprecated_types_are_skipped() -> None:
    account = Account(BY_ID["ilert"])
    sim = cast(ILertSimulator, account.sim)
    old = sim.add_alert_source("old mail", "EMAIL", escalation_policy_id=1)["id"]
    result = await account.export()
    [left] = result.skipped
    assert left.found.id == str(old)
    assert "integration type EMAIL is not one AlertSync manages" in left.reason


async def test_mackerel_maps_url_events_graph_image_and_groups_by_id() -> None:
    account = Account(BY_ID["mackerel"])
    seed_mackerel(cast(MackerelSimulator, account.sim))
    sim = cast(MackerelSimulator, account.sim)
    groups = {g["name"]: g["id"] for g in sim.notification_groups()}
    specs = by_name(await account.export())
    rich = specs["payments hook"]
    assert rich["webhook"] == {"url": RECEIVER}
    assert rich["targetState"] == "enabled"
    assert rich["mackerel"]["events"] == ["alert", "alertGroup"]
    assert rich["mackerel"]["enabledGraphImage"] is True
    assert rich["mackerel"]["nameSuffix"] is False
    assert sorted(rich["mackerel"]["notificationGroups"]) == sorted(groups.values())
    quiet = specs["quiet hook"]
    assert quiet["targetState"] == "disabled"
    assert "events" not in quiet["mackerel"]
    # In no group: an empty list, which leaves membership alone.
    assert quiet["mackerel"]["notificationGroups"] == []


async def test_mackerel_other_channel_types_and_suffixed_channels_are_not_exported() -> None:
    account = Account(BY_ID["mackerel"])
    sim = cast(MackerelSimulator, account.sim)
    slack = sim.add_channel("chat", type="slack", url="https://chat.example.com/x")["id"]
    ours = sim.add_channel("pay [alertsync:team-a/pay]", url=RECEIVER)["id"]
    lost = sim.add_channel("gone [alertsync:team-b/gone]", url=RECEIVER)["id"]
    pay = {"metadata": {"namespace": "team-a", "name": "pay"}, "spec": {}}
    result = await account.export([pay])
    assert result.exported == []
    assert [(m.found.id, m.reason) for m in result.managed] == [
        (ours, "managed by AlertIntegration team-a/pay")
    ]
    reasons = {left.found.id: left.reason for left in result.skipped}
    assert reasons[slack] == "a slack channel: AlertSync manages webhook channels only"
    assert reasons[lost].startswith("carries the marker of AlertIntegration team-b/gone")


async def test_confluent_maps_the_target_and_skips_email_kinds() -> None:
    account = Account(BY_ID["confluent"])
    seed_confluent(cast(ConfluentSimulator, account.sim))
    sim = cast(ConfluentSimulator, account.sim)
    role = sim.add_integration("admins", kind="RoleEmail")["id"]
    user = sim.add_integration("a person", kind="UserEmail")["id"]
    result = await account.export()
    specs = by_name(result)
    assert specs["kafka prod"]["confluent"] == {"targetKind": "Webhook"}
    assert specs["kafka prod"]["webhook"] == {"url": RECEIVER}
    assert specs["kafka chat"]["confluent"] == {"targetKind": "Slack"}
    assert specs["kafka chat"]["webhook"] == {"url": "https://chat.example.com/kafka"}
    reasons = {left.found.id: left.reason for left in result.skipped}
    # With the organisation's own "Organization admins", which every organisation has.
    assert len(reasons) == 3
    assert {role, user} < set(reasons)
    assert reasons[role].startswith("a RoleEmail integration belongs to Confluent Cloud")
    assert reasons[user].startswith("a UserEmail integration belongs to Confluent Cloud")
    assert result.listed == 5


async def test_zstack_maps_url_state_user_and_topics() -> None:
    account = Account(BY_ID["zstack"])
    seed_zstack(cast(ZStackSimulator, account.sim))
    specs = by_name(await account.export())
    assert specs["storage alarms"]["zstack"] == {
        "topicUuids": sorted([TOPIC_A, TOPIC_B]),
        "username": "receiver",
    }
    assert specs["storage alarms"]["webhook"] == {"url": RECEIVER}
    assert specs["quiet alarms"]["targetState"] == "disabled"
    assert specs["quiet alarms"]["zstack"] == {"topicUuids": []}


# -- what is not exported -------------------------------------------------------------------


async def test_objects_with_another_resources_marker_need_include_managed() -> None:
    account = Account(BY_ID["zstack"])
    sim = cast(ZStackSimulator, account.sim)
    stranger = sim.add_endpoint("x", RECEIVER, description=marker("uid-elsewhere"))["uuid"]
    known = sim.add_endpoint("y", RECEIVER, description=marker("uid-here"))["uuid"]
    here = {"metadata": {"namespace": "other", "name": "y", "uid": "uid-here"}, "spec": {}}

    result = await account.export([here])
    assert result.exported == []
    assert [(m.found.id, m.reason) for m in result.managed] == [
        (known, "managed by AlertIntegration other/y")
    ]
    [left] = result.skipped
    assert left.found.id == stranger
    assert "carries the marker of uid uid-elsewhere" in left.reason
    assert "--include-managed" in left.reason

    included = await account.export([here], include_managed=True)
    # Never the one a resource of this cluster manages: two resources would fight over it.
    assert [item.found.id for item in included.exported] == [stranger]
    assert included.skipped == []


async def test_objects_an_alertintegration_manages_by_id_or_annotation_are_not_exported() -> None:
    account = Account(BY_ID["ilert"])
    sim = cast(ILertSimulator, account.sim)
    adopted = str(sim.add_alert_source("adopted", "API", escalation_policy_id=1)["id"])
    exported = str(sim.add_alert_source("exported", "API", escalation_policy_id=1)["id"])
    elsewhere = str(sim.add_alert_source("elsewhere", "API", escalation_policy_id=1)["id"])
    ref = {"platformRef": {"name": PLATFORM}}
    cluster = [
        {
            "metadata": {"namespace": NAMESPACE, "name": "a", "uid": "u1"},
            "spec": ref,
            "status": {"webhookId": adopted},
        },
        {
            "metadata": {
                "namespace": NAMESPACE,
                "name": "b",
                "uid": "u2",
                "annotations": {ANNOTATION: exported},
            },
            "spec": ref,
        },
        # Another platform's object with the same id: not this one.
        {
            "metadata": {"namespace": NAMESPACE, "name": "c", "uid": "u3"},
            "spec": {"platformRef": {"name": "staging"}},
            "status": {"webhookId": elsewhere},
        },
    ]
    result = await account.export(cluster)
    assert {m.found.id: m.reason for m in result.managed} == {
        adopted: f"managed by AlertIntegration {NAMESPACE}/a",
        exported: f"managed by AlertIntegration {NAMESPACE}/b",
    }
    assert [item.found.id for item in result.exported] == [elsewhere]


async def test_objects_sharing_a_name_are_skipped_as_adoption_could_not_choose() -> None:
    account = Account(BY_ID["ilert"])
    sim = cast(ILertSimulator, account.sim)
    one = sim.add_alert_source("twins", "API", escalation_policy_id=1)["id"]
    two = sim.add_alert_source("twins", "API", escalation_policy_id=1)["id"]
    result = await account.export()
    assert result.exported == []
    assert {left.found.id for left in result.skipped} == {str(one), str(two)}
    assert all("2 objects share the name 'twins'" in left.reason for left in result.skipped)


async def test_oncall_names_are_per_team_so_same_names_in_two_teams_both_export() -> None:
    account = Account(BY_ID["grafana-oncall"])
    sim = cast(GrafanaOnCallSimulator, account.sim)
    sim.add_team("TA")
    sim.add_team("TB")
    sim.add_integration("webhook", name="alerts", team_id="TA")
    sim.add_integration("webhook", name="alerts", team_id="TB")
    result = await account.export()
    assert result.skipped == []
    names = sorted(item.name for item in result.exported)
    # The same slug twice: each takes a hash of its id, stable from run to run.
    assert len(set(names)) == 2
    assert all(name.startswith("alerts-") for name in names)
    assert names == sorted(item.name for item in (await account.export()).exported)


async def test_names_taken_in_the_namespace_by_other_resources_are_avoided() -> None:
    account = Account(BY_ID["confluent"])
    cast(ConfluentSimulator, account.sim).add_integration("payments", url=RECEIVER)
    theirs = {"metadata": {"namespace": NAMESPACE, "name": "payments", "uid": "u"}, "spec": {}}
    [item] = (await account.export([theirs])).exported
    assert item.name.startswith("payments-")
    assert len(item.name) == len("payments-") + 8


async def test_names_the_spec_cannot_hold_are_skipped_with_the_field() -> None:
    account = Account(BY_ID["zstack"])
    sim = cast(ZStackSimulator, account.sim)
    long = sim.add_endpoint("x" * 200, RECEIVER)["uuid"]
    padded = sim.add_endpoint(" padded ", RECEIVER)["uuid"]
    result = await account.export()
    reasons = {left.found.id: left.reason for left in result.skipped}
    assert reasons[long].startswith("cannot be represented: spec.displayName")
    assert reasons[padded].startswith("cannot be represented: spec.displayName")


# -- credentials in URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secret", "where"),
    [
        (
            "https://hooks.example.com/in?token=tok-5f1e9a7c3b&team=pay",
            "tok-5f1e9a7c3b",
            "query parameter token",
        ),
        (
            "https://alert:pw-8c2d6e0f4a@hooks.example.com/in",
            "pw-8c2d6e0f4a",
            "a password in its userinfo",
        ),
        (
            "https://hooks.slack.com/services/T000/B000/slk-3e7a9c1d5f",
            "slk-3e7a9c1d5f",
            "its path",
        ),
    ],
)
async def test_a_url_with_credentials_is_never_written_and_needs_attention(
    url: str, secret: str, where: str
) -> None:
    account = Account(BY_ID["mackerel"])
    cast(MackerelSimulator, account.sim).add_channel("payments hook", url=url)
    result = await account.export()
    [item] = result.exported
    assert item.manifest["spec"]["webhook"] == {
        "urlSecretRef": {"name": f"{item.name}-webhook", "key": "url"}
    }
    [note] = item.attention
    assert where in note
    assert f"Create Secret {NAMESPACE}/{item.name}-webhook with key url" in note
    text = render_yaml(result.exported) + render_json(result.exported) + summary(result)
    assert secret not in text
    assert "[REDACTED]" in summary(result)


async def test_a_channel_mackerel_suspended_is_exported_as_it_is_and_needs_attention() -> None:
    account = Account(BY_ID["mackerel"])
    sim = cast(MackerelSimulator, account.sim)
    id_ = sim.add_channel("payments hook", url=RECEIVER, events=["alert"])["id"]
    sim.suspend(id_)
    [item] = (await account.export()).exported
    # Enabled as it was: disabled would make AlertSync clear its events.
    assert item.manifest["spec"]["targetState"] == "enabled"
    [note] = item.attention
    assert note.startswith("suspended by Mackerel at ")
    outcome = await account.apply(item, str(uuid.uuid4()))
    assert outcome.status.drift_count == 0
    assert account.writes() == {}
