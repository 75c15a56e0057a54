"""One planned pass per AlertIntegration, and what it would do."""

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

import httpx
from pydantic import ValidationError

from alertsync.config import OperatorConfig
from alertsync.connector import Connector
from alertsync.errors import (
    AdoptionRefusedError,
    AlertSyncError,
    InvalidSpecError,
)
from alertsync.kube import Kube
from alertsync.models import (
    AlertIntegrationSpec,
    AlertIntegrationStatus,
    PlatformKind,
)
from alertsync.models.common import parse_spec
from alertsync.plan.recording import (
    Action,
    PlannedWrite,
    RecordingAdapter,
)
from alertsync.plan.sources import (
    Manifests,
    Sources,
)
from alertsync.platforms.base import (
    PlatformAccount,
    PlatformAdapter,
)
from alertsync.reconcile import (
    MARKER_FIELD,
    Dependencies,
    IntegrationResource,
    Outcome,
    Update,
    reconcile,
)
from alertsync.records import PlatformRecord, platform_ref
from alertsync.status import condition
from alertsync.watchcache import WatchCache

logger = logging.getLogger(__name__)

# Resources planned at once; each platform's own throttle still applies.
CONCURRENCY = 8


@dataclass(frozen=True)
class PlannedResource:
    namespace: str
    name: str
    # "AlertPlatform default/oncall" as spec.platformRef names it.
    platform: str
    product_type: str | None
    action: Action
    fields: tuple[str, ...] = ()
    # Why: the recreate reason, the error, or a note on an unchanged resource.
    message: str = ""
    # The condition reason of an error (InvalidSpec, PlatformUnavailable, ...).
    reason: str | None = None
    external_id: str | None = None
    # The difference is drift (the platform changed behind AlertSync's back), not the spec.
    drift: bool = False
    # It takes over an object AlertSync did not create (adoptionPolicy: AdoptExisting);
    # with action no-change, in place, writing at most AlertSync's marker (`fields`).
    adopted: bool = False
    # Does the resource already exist in the cluster (its status was used)?
    in_cluster: bool = False
    writes: tuple[PlannedWrite, ...] = ()


async def plan(
    manifests: Manifests,
    kube: Kube | None = None,
    *,
    config: OperatorConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[PlannedResource]:
    """One planned pass per AlertIntegration in `manifests`, in their order."""
    sources = Sources(manifests, kube)
    cache = WatchCache()
    # cast: Sources has the connector's reads of Kube and nothing else, on purpose.
    connector = Connector(cast(Kube, sources), config or OperatorConfig(), cache, transport)
    for body in manifests.platforms:
        cache.track_platform(PlatformRecord.from_body(_with_uid(body)))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(body: dict[str, Any]) -> PlannedResource:
        async with gate:
            return await _plan_one(body, sources, connector)

    try:
        return list(await asyncio.gather(*(one(body) for body in manifests.integrations)))
    finally:
        await connector.aclose()


def _with_uid(body: Mapping[str, Any]) -> dict[str, Any]:
    meta = dict(body["metadata"])
    meta.setdefault("uid", _placeholder_uid(str(body["kind"]), meta.get("namespace"), meta["name"]))
    return {**body, "metadata": meta}


def _placeholder_uid(kind: str, namespace: str | None, name: str) -> str:
    # The resource has no uid yet: one that no platform object can carry in its
    # marker, the same on every run so that two plans agree.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alertsync-plan:{kind}/{namespace}/{name}"))


async def _plan_one(
    body: dict[str, Any], sources: Sources, connector: Connector
) -> PlannedResource:
    meta = body["metadata"]
    namespace, name = str(meta["namespace"]), str(meta["name"])
    raw = body.get("spec")
    spec: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    platform = _platform_label(spec, namespace)
    base = PlannedResource(namespace, name, platform, None, "failed")
    try:
        live = await sources.read_integration(namespace, name)
    except AlertSyncError as exc:
        return replace(base, reason=exc.reason, message=exc.message)
    resource = _resource(body, spec, live)
    recorders: list[RecordingAdapter] = []

    def adapter_for(account: PlatformAccount) -> PlatformAdapter:
        recorder = RecordingAdapter(connector.adapter_for(account))
        recorders.append(recorder)
        return recorder

    async def no_status_write(status: AlertIntegrationStatus) -> None:
        """The pending-create record: a plan writes nothing."""

    deps = Dependencies(
        resolve_platform=connector.resolve,
        adapter_for=adapter_for,
        write_status=no_status_write,
        read_secret=sources.read_secret,
    )
    try:
        outcome = await reconcile(resource, deps)
    except Exception as exc:
        # Not an AlertSyncError (those end in the outcome): a bug or a library's
        # surprise; the other resources are still planned.
        logger.debug("planning %s/%s failed", namespace, name, exc_info=True)
        return replace(base, reason=type(exc).__name__, message=str(exc))
    writes = tuple(w for recorder in recorders for w in recorder.writes)
    return _classify(replace(base, in_cluster=live is not None), outcome, writes)


def _platform_label(spec: Mapping[str, Any], namespace: str) -> str:
    kind, name = platform_ref(spec)
    name = name or "?"
    return f"{kind} {name}" if kind == PlatformKind.CLUSTER.value else f"{kind} {namespace}/{name}"


def _resource(
    body: Mapping[str, Any], spec: Mapping[str, Any], live: Mapping[str, Any] | None
) -> IntegrationResource:
    """The resource as the operator would see it once the manifest is applied."""
    meta = body["metadata"]
    namespace, name = str(meta["namespace"]), str(meta["name"])
    if live is not None:
        live_meta = live.get("metadata") or {}
        uid = str(live_meta.get("uid") or "")
        stored = live.get("status") or {}
        generation = int(live_meta.get("generation") or 1)
        # Applying a different spec makes a new generation: then a difference on
        # the platform is the change asked for, not drift.
        if not _same_spec(live.get("spec") or {}, spec):
            generation += 1
    else:
        # A manifest exported from a cluster (kubectl get -o yaml) carries both.
        uid = str(meta.get("uid") or "")
        stored = body.get("status") or {}
        generation = int(meta.get("generation") or 1)
    try:
        status = AlertIntegrationStatus.model_validate(stored)
    except ValidationError:
        status = AlertIntegrationStatus()
    return IntegrationResource(
        namespace=namespace,
        name=name,
        uid=uid or _placeholder_uid("AlertIntegration", namespace, name),
        generation=generation,
        spec=spec,
        status=status,
    )


def _same_spec(stored: Mapping[str, Any], applied: Mapping[str, Any]) -> bool:
    # Parsed, so that defaults the API server filled in do not count as changes.
    try:
        return parse_spec(AlertIntegrationSpec, stored) == parse_spec(AlertIntegrationSpec, applied)
    except InvalidSpecError:
        return dict(stored) == dict(applied)


def _classify(
    base: PlannedResource, outcome: Outcome, writes: tuple[PlannedWrite, ...]
) -> PlannedResource:
    status = outcome.status
    base = replace(
        base,
        product_type=status.product_type.value if status.product_type else None,
        external_id=status.webhook_id,
        writes=writes,
    )
    error = outcome.error
    if error is not None:
        action: Action = (
            "invalid"
            if isinstance(error, InvalidSpecError)
            else "refused"
            if isinstance(error, AdoptionRefusedError)
            else "failed"
        )
        return replace(base, action=action, reason=error.reason, message=error.stable_message)
    if outcome.created:
        # Created again: the object the status names is gone from the platform.
        gone = outcome.vanished
        return replace(
            base,
            action="create",
            external_id=None,
            drift=gone is not None,
            message=f"{gone} is gone from the platform" if gone else "",
        )
    update = outcome.updated
    if update is not None and not (outcome.adopted and _marker_only(update)):
        change: Action = "replace" if update.recreate_reason else "update"
        return replace(
            base,
            action="adopt" if outcome.adopted else change,
            adopted=outcome.adopted,
            fields=update.fields,
            external_id=update.external_id,
            message=update.recreate_reason or "",
            # An update after a spec change or an adoption is the work asked for.
            drift=update.drift,
        )
    ready = condition(status.conditions, "Ready")
    note = ready.message if ready is not None and ready.status != "True" else ""
    if outcome.adopted:
        # Taken over where it is, every declared field as it already is: nothing on the
        # platform changes but AlertSync's marker (what applying an export does).
        fields = update.fields if update is not None else ()
        return replace(base, action="no-change", adopted=True, fields=fields, message=note)
    return replace(base, action="no-change", message=note)


def _marker_only(update: Update) -> bool:
    """The update writes AlertSync's marker and no field the spec declares."""
    return update.recreate_reason is None and set(update.fields) <= {MARKER_FIELD}
