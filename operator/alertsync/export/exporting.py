"""The export: one listing of a platform account, one AlertIntegration per object.

Each manifest is checked before it is kept, by the adapter the operator runs: parsed
as the operator parses a spec, validated by the adapter, and observed against the
listing already read (no request). The object must be the one found by name and must
not differ in any field but AlertSync's marker, which adoption writes. Whatever fails
a check is reported with the reason instead of exported.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import httpx

from alertsync.config import OperatorConfig
from alertsync.connector import Connector
from alertsync.errors import AlertSyncError, InvalidSpecError, NotPermittedError
from alertsync.export.cluster import ANNOTATION, ClusterView, list_integrations
from alertsync.export.credentials import scrub
from alertsync.export.naming import assign
from alertsync.kube import Kube
from alertsync.models import (
    AdoptionPolicy,
    AlertIntegrationSpec,
    DeletionPolicy,
    PlatformKind,
    ProductType,
)
from alertsync.models.common import GROUP, VERSION, parse_spec
from alertsync.plan.sources import Sources
from alertsync.platforms import PLATFORMS
from alertsync.platforms.base import DesiredIntegration, Observation, PlatformAdapter
from alertsync.platforms.mapping import Found
from alertsync.reconcile import MARKER_FIELD
from alertsync.records import PlatformKey, PlatformRecord, platform_key
from alertsync.watchcache import WatchCache

__all__ = ["ADOPTION_WRITES", "Export", "Exported", "Left", "Target", "export"]

# The drifted fields adoption itself repairs: AlertSync's marker (OnCall's
# description_short, Confluent's and ZStack's description). Anything else would be a
# change to the platform object, which an export must never cause.
ADOPTION_WRITES = frozenset({MARKER_FIELD})
# The uid the checks run with: no platform object can carry its marker.
_CHECK_UID = str(uuid.uuid5(uuid.NAMESPACE_URL, "alertsync-export:check"))


@dataclass(frozen=True)
class Target:
    """The platform to export, and where its AlertIntegrations go."""

    kind: PlatformKind
    name: str
    # The AlertPlatform's namespace; for a ClusterAlertPlatform, the integrations'.
    namespace: str

    @property
    def key(self) -> PlatformKey:
        return platform_key(self.kind.value, self.namespace, self.name)

    @property
    def label(self) -> str:
        if self.kind is PlatformKind.CLUSTER:
            return f"{self.kind.value} {self.name}"
        return f"{self.kind.value} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Exported:
    found: Found
    manifest: dict[str, Any]
    # What a person must do or know before applying it.
    attention: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return str(self.manifest["metadata"]["name"])


@dataclass(frozen=True)
class Left:
    """An object not exported, and why."""

    found: Found
    reason: str


@dataclass
class Export:
    target: Target
    product: ProductType
    listed: int = 0
    exported: list[Exported] = field(default_factory=list)
    # Managed by an AlertIntegration of this cluster already: nothing to do.
    managed: list[Left] = field(default_factory=list)
    # Cannot be exported, or should not be without a person deciding.
    skipped: list[Left] = field(default_factory=list)

    @property
    def attention(self) -> list[Exported]:
        return [item for item in self.exported if item.attention]


async def export(
    target: Target,
    sources: Sources,
    *,
    config: OperatorConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    include_managed: bool = False,
    reserved: Iterable[Mapping[str, Any]] = (),
) -> Export:
    """Read `target` and its credentials as the operator does (its Connector, as `alertsync
    plan` uses it), and list the account once on the account's own throttle.

    `reserved` are AlertIntegrations beyond the cluster's whose names count as taken
    (an earlier export's files). Raises AlertSyncError when the platform cannot be
    used or read.
    """
    body = _manifest_platform(target, sources) or await sources.read_platform(target.key)
    if body is None:
        where = "" if target.kind is PlatformKind.CLUSTER else f" in namespace {target.namespace}"
        raise InvalidSpecError(
            "--platform", f"{target.kind.value} {target.name!r} not found{where}"
        )
    record = PlatformRecord.from_body(body)
    view = ClusterView(target.key, target.namespace)
    view.add(sources.manifests.integrations)
    if sources.kube is not None:
        view.add(await list_integrations(sources.kube, target.namespace))
    view.add(reserved, names_only=True)
    # cast: Sources has the connector's reads of Kube and no way to write, as for plan.
    connector = Connector(cast(Kube, sources), config or OperatorConfig(), WatchCache(), transport)
    try:
        account = await connector.account(record)
        if account.namespace_selector is not None and sources.kube is not None:
            labels = await sources.kube.read_namespace_labels(target.namespace)
            if not account.namespace_selector.matches(labels):
                raise NotPermittedError(
                    f"{target.label} does not serve namespace {target.namespace} (its "
                    "spec.namespaceSelector): export into a namespace it serves (-n)"
                )
        adapter = connector.adapter_for(account)
        mapper = PLATFORMS[account.product_type].mapper
        listing = await mapper.listing(adapter)
        result = Export(target, account.product_type, listed=len(listing))
        found = mapper.found(listing)
        allow_http = account.allow_insecure_http
        await _decide(result, found, listing, adapter, view, include_managed, allow_http)
        return result
    finally:
        await connector.aclose()


def _manifest_platform(target: Target, sources: Sources) -> dict[str, Any] | None:
    for body in sources.manifests.platforms:
        meta = body["metadata"]
        if platform_key(str(body["kind"]), meta.get("namespace"), meta["name"]) == target.key:
            return {**body, "metadata": {"uid": f"manifest:{meta['name']}", **meta}}
    return None


async def _decide(
    result: Export,
    found: Sequence[Found],
    listing: Sequence[Any],
    adapter: PlatformAdapter,
    view: ClusterView,
    include_managed: bool,
    allow_http: bool,
) -> None:
    names = assign([(f.id, f.name) for f in found], view.free)
    for item in found:
        manager = view.managed_by(item.id, item.owner_uid, item.owner_ref)
        if manager is not None:
            result.managed.append(Left(item, f"managed by AlertIntegration {manager}"))
        elif item.owner is not None and not include_managed:
            result.skipped.append(
                Left(
                    item,
                    f"carries the marker of {item.owner}, which no AlertIntegration in this "
                    "cluster has (another cluster's, or one deleted with deletionPolicy: "
                    "Orphan): --include-managed exports it",
                )
            )
        elif item.unsupported is not None:
            result.skipped.append(Left(item, item.unsupported))
        else:
            outcome = await _checked(result, item, names[item.id], listing, adapter, allow_http)
            if isinstance(outcome, Left):
                result.skipped.append(outcome)
            else:
                result.exported.append(outcome)


async def _checked(
    result: Export,
    item: Found,
    name: str,
    listing: Sequence[Any],
    adapter: PlatformAdapter,
    allow_http: bool,
) -> Exported | Left:
    target = result.target
    # Scrubbed first: it registers the URL's credentials, which no message may show.
    scrubbed = scrub(item.webhook_url) if item.webhook_url is not None else None
    spec = _spec(target, result.product, item)
    try:
        desired = _desired(target, result.product, item, name, spec)
        adapter.validate(desired)
    except AlertSyncError as exc:
        return Left(item, f"cannot be represented: {exc.message}")
    observed = _adoptable(item, await adapter.observe(desired, listing))
    if isinstance(observed, Left):
        return observed
    attention = list(item.notes)
    if observed.state_reason:
        attention.append(observed.state_reason)
    if (item.webhook_url or "").startswith("http://") and not allow_http:
        attention.append(
            f"its URL is plain http, which {target.label} does not allow: set "
            "spec.allowInsecureHttp: true on it, or the integration stays Ready=False"
        )
    if scrubbed is not None and not scrubbed.clean:
        secret = f"{name}-webhook"
        spec["webhook"] = {"urlSecretRef": {"name": secret, "key": "url"}}
        attention.append(
            f"its URL carries credentials ({'; '.join(scrubbed.found)}): not exported. "
            f"Create Secret {target.namespace}/{secret} with key url holding the full URL "
            f"({scrubbed.shown}) before applying"
        )
    try:
        parse_spec(AlertIntegrationSpec, spec)
    except InvalidSpecError as exc:
        return Left(item, f"cannot be represented: {exc.message}")
    return Exported(item, _manifest(target, name, item.id, spec), tuple(attention))


def _spec(target: Target, product: ProductType, item: Found) -> dict[str, Any]:
    """The spec that adopts `item` where it is, every field AlertSync manages as it is."""
    spec: dict[str, Any] = {
        "platformRef": {"kind": target.kind.value, "name": target.name},
        "displayName": item.name,
        "targetState": item.target_state.value,
        "adoptionPolicy": AdoptionPolicy.ADOPT_EXISTING.value,
        "deletionPolicy": DeletionPolicy.ORPHAN.value,
    }
    if item.webhook_url is not None:
        spec["webhook"] = {"url": item.webhook_url}
    if item.block is not None:
        spec[product.block] = dict(item.block)
    return spec


def _desired(
    target: Target, product: ProductType, item: Found, name: str, spec: dict[str, Any]
) -> DesiredIntegration:
    """What the operator would ask of the platform for `spec`, parsed as it parses it."""
    parsed = parse_spec(AlertIntegrationSpec, spec)
    return DesiredIntegration(
        namespace=target.namespace,
        name=name,
        uid=_CHECK_UID,
        display_name=item.name,
        target_state=parsed.target_state,
        webhook_url=item.webhook_url,
        block=parsed.block_for(product),
    )


def _adoptable(item: Found, observed: Observation) -> Observation | Left:
    """`observed` when adopting by name finds `item` and changes none of its fields."""
    if observed.conflicting_ids:
        return Left(
            item,
            f"{len(observed.conflicting_ids)} objects share the name {item.name!r} "
            f"({', '.join(observed.conflicting_ids)}): AlertSync adopts by name and will not "
            "guess which; rename all but one on the platform first",
        )
    if observed.external_id != item.id:
        return Left(item, f"adopting by name would find {observed.external_id} instead")
    changes = sorted(set(observed.drifted_fields) - ADOPTION_WRITES)
    if changes or observed.recreate_reason:
        # The mapping above misses something the adapter compares: never let an
        # export change the object it describes.
        return Left(
            item,
            f"AlertSync would change {', '.join(changes) or 'it'} on adoption "
            "(a mapping this export lacks): not exported",
        )
    return observed


def _manifest(target: Target, name: str, platform_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AlertIntegration",
        "metadata": {
            "name": name,
            "namespace": target.namespace,
            "annotations": {ANNOTATION: platform_id},
        },
        "spec": spec,
    }
