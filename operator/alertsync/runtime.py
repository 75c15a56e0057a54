"""The operator's state between kopf and the reconciler.

It resolves platforms and credentials (cached per platform generation, the
Secret re-read on every resync), serialises passes per resource, writes
status only when it changed, and runs each platform's batched resync.
"""

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from alertsync import metrics
from alertsync.config import OperatorConfig
from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    CredentialsMissingError,
    InvalidSpecError,
    NotPermittedError,
)
from alertsync.kube import Kube
from alertsync.models import (
    AlertIntegrationStatus,
    AlertPlatformSpec,
    AlertPlatformStatus,
    PlatformKind,
    PlatformRef,
    ProductType,
)
from alertsync.models.common import parse_spec
from alertsync.models.platform import parse_duration
from alertsync.platforms import SUPPORTED, build_adapter
from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.reconcile import Dependencies, Event, IntegrationResource, Outcome, reconcile
from alertsync.records import IntegrationRecord, PlatformKey, PlatformRecord, platform_key
from alertsync.redaction import redact, redact_url_credentials
from alertsync.status import HEARTBEAT, ConditionStatus, set_condition, status_patch

__all__ = ["Runtime"]

logger = logging.getLogger(__name__)

PostEvent = Callable[[IntegrationRecord, Event], None]
# While a platform is not usable, check it this often, not every resyncInterval.
RETRY_UNREADY_SECONDS = 30.0


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class _Connection:
    source: tuple[str, int]  # platform uid and generation it was built from
    account: PlatformAccount
    adapter: PlatformAdapter


class Runtime:
    def __init__(
        self,
        kube: Kube,
        config: OperatorConfig,
        post_event: PostEvent,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.kube = kube
        self.config = config
        self.post_event = post_event
        self.transport = transport
        self.connections: dict[PlatformKey, _Connection] = {}
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # The status as this operator last wrote it: fresher than a kopf index
        # or event body, which may lag behind our own writes.
        self.written: dict[str, dict[str, Any]] = {}
        self.wakeups: defaultdict[PlatformKey, asyncio.Event] = defaultdict(asyncio.Event)
        self.account_locks: defaultdict[PlatformKey, asyncio.Lock] = defaultdict(asyncio.Lock)
        # What the watch streams last showed: platforms, and integrations per platform.
        self.platforms: dict[PlatformKey, PlatformRecord] = {}
        self.integrations: defaultdict[PlatformKey, dict[str, IntegrationRecord]] = defaultdict(
            dict
        )
        self.platform_of: dict[str, PlatformKey] = {}
        # Integrations whose deletion finished: no later pass may act on them.
        self.released: set[str] = set()

    # -- what exists ------------------------------------------------------------

    def track_integration(self, record: IntegrationRecord, *, gone: bool = False) -> None:
        previous = self.platform_of.pop(record.uid, None)
        if previous is not None:
            self.integrations[previous].pop(record.uid, None)
        if gone:
            # Untracked now, which keeps a resync's stale copy from acting (_gone).
            self.released.discard(record.uid)
        else:
            self.platform_of[record.uid] = record.platform
            self.integrations[record.platform][record.uid] = record

    def track_platform(self, record: PlatformRecord, *, gone: bool = False) -> None:
        if gone:
            self.platforms.pop(record.key, None)
        else:
            self.platforms[record.key] = record

    # -- platforms and credentials ---------------------------------------------

    async def account(self, record: PlatformRecord, *, refresh: bool = False) -> PlatformAccount:
        """The usable account behind a platform resource; re-reads the Secret on refresh."""
        # One builder at a time per platform, so no connection is built twice and lost.
        async with self.account_locks[record.key]:
            return await self._account(record, refresh=refresh)

    async def _account(self, record: PlatformRecord, *, refresh: bool) -> PlatformAccount:
        cached = self.connections.get(record.key)
        if cached and not refresh and cached.source == (record.uid, record.generation):
            return cached.account
        what = f"{record.kind.value} {record.name!r}"
        spec = parse_spec(AlertPlatformSpec, record.spec, where=f" (in {what})")
        if spec.product_type not in SUPPORTED:
            raise InvalidSpecError(
                "spec.productType",
                f"{spec.product_type.value} is not supported by this AlertSync version",
            )
        if spec.auth_method == "AccessKey" and spec.product_type is not ProductType.ZSTACK:
            raise InvalidSpecError(
                "spec.authMethod",
                f"AccessKey is for ZStack; {spec.product_type.value} takes its credentials as is",
            )
        if spec.auth_method == "AccessKey" and spec.credentials_secret_ref.username_key is None:
            raise InvalidSpecError(
                "spec.credentialsSecretRef.usernameKey",
                "AccessKey needs the Secret key that holds the AccessKeyId",
            )
        if spec.namespace_selector is not None and record.kind is PlatformKind.NAMESPACED:
            raise InvalidSpecError(
                "spec.namespaceSelector",
                "only a ClusterAlertPlatform chooses namespaces; an AlertPlatform serves its own",
            )
        namespace = record.namespace or self.config.operator_namespace
        ref = spec.credentials_secret_ref
        data = await self.kube.read_secret(namespace, ref.name)
        if data is None:
            raise CredentialsMissingError(
                f"Secret {namespace}/{ref.name} named in spec.credentialsSecretRef of "
                f"{what} does not exist"
            )
        if not data.get(ref.key, "").strip():
            raise CredentialsMissingError(
                f"Secret {namespace}/{ref.name} has no key {ref.key!r} "
                f"(spec.credentialsSecretRef.key of {what})"
            )
        if ref.username_key is not None and not data.get(ref.username_key):
            raise CredentialsMissingError(
                f"Secret {namespace}/{ref.name} has no key {ref.username_key!r} "
                f"(spec.credentialsSecretRef.usernameKey of {what})"
            )
        account = PlatformAccount(
            kind=record.kind,
            namespace=record.namespace,
            name=record.name,
            uid=record.uid,
            display_name=spec.display_name or record.name,
            product_type=spec.product_type,
            url=spec.url,
            # `kubectl create secret --from-file` keeps the file's last newline,
            # which no platform accepts in a header.
            token=SecretStr(data[ref.key].strip()),
            username=SecretStr(data[ref.username_key].strip()) if ref.username_key else None,
            resync_seconds=spec.resync_seconds,
            requests_per_minute=spec.rate_limit.requests_per_minute if spec.rate_limit else None,
            namespace_selector=spec.namespace_selector,
            allow_insecure_http=spec.allow_insecure_http,
            auth_method=spec.auth_method,
        )
        # A changed token makes a different account: a new connection is built.
        source = (record.uid, record.generation)
        if cached is None or cached.account != account:
            if cached is not None:
                await cached.adapter.aclose()
            self.connections[record.key] = _Connection(
                source, account, build_adapter(account, self.transport)
            )
        else:
            cached.source = source
        return account

    def adapter_for(self, account: PlatformAccount) -> PlatformAdapter:
        return self.connections[account.key].adapter

    async def resolve(self, ref: PlatformRef, namespace: str) -> PlatformAccount:
        key = platform_key(ref.kind.value, namespace, ref.name)
        record = self.platforms.get(key)
        if record is None:
            # Not seen on its watch stream yet (the operator is starting): ask.
            body = await self.kube.read_platform(key)
            record = PlatformRecord.from_body(body) if body is not None else None
        if record is None:
            where = f" in namespace {namespace}" if ref.kind is PlatformKind.NAMESPACED else ""
            raise InvalidSpecError(
                "spec.platformRef.name", f"{ref.kind.value} {ref.name!r} not found{where}"
            )
        account = await self.account(record)
        selector = account.namespace_selector
        if selector is not None and not selector.matches(
            await self.kube.read_namespace_labels(namespace)
        ):
            raise NotPermittedError(
                f"ClusterAlertPlatform {ref.name!r} does not serve namespace {namespace}: "
                "its spec.namespaceSelector does not select this namespace's labels"
            )
        return account

    # -- one integration -------------------------------------------------------

    async def reconcile_integration(
        self,
        record: IntegrationRecord,
        listing: Sequence[Any] | None = None,
        *,
        heartbeat: bool = True,
        may_write: Callable[[], bool] = lambda: True,
    ) -> Outcome:
        """One pass for one integration. heartbeat=False writes lastReconcileAt every time."""
        async with self.locks[record.uid]:
            if record.uid in self.released or (listing is not None and self._gone(record)):
                # A resync's copy from before the deletion: creating it now would
                # leave an object no resource owns.
                return Outcome(AlertIntegrationStatus.model_validate(record.status))
            stored = self.written.get(record.uid, record.status)
            handled = stored.get("observedGeneration")
            if listing is not None and isinstance(handled, int) and handled > record.generation:
                # A resync holding an older copy than a handler just acted on.
                return Outcome(AlertIntegrationStatus.model_validate(stored))
            try:
                status = AlertIntegrationStatus.model_validate(stored)
            except ValidationError:
                logger.warning("%s/%s: unreadable status, starting afresh", *_where(record))
                status = AlertIntegrationStatus(drift_count=_int(stored.get("driftCount")))
            resource = IntegrationResource(
                namespace=record.namespace,
                name=record.name,
                uid=record.uid,
                generation=record.generation,
                spec=record.spec,
                status=status,
                deleting=record.deleting,
                requested_at=record.requested_at,
            )

            async def write(new: AlertIntegrationStatus) -> None:
                await self._write(record, new, heartbeat)

            deps = Dependencies(
                resolve_platform=self.resolve,
                adapter_for=self.adapter_for,
                write_status=write,
                may_write=may_write,
                read_secret=self.kube.read_secret,
            )
            outcome = await reconcile(resource, deps, listing)
            _count(outcome)
            if outcome.released:
                self.written.pop(record.uid, None)
                self.released.add(record.uid)
            else:
                await self._write(record, outcome.status, heartbeat)
            for event in outcome.events:
                self.post_event(record, Event(event.type, event.reason, redact(event.message)))
            if outcome.error is not None:
                logger.info("%s/%s: %s", *_where(record), redact(outcome.error.message))
            return outcome

    async def _write(
        self, record: IntegrationRecord, new: AlertIntegrationStatus, heartbeat: bool
    ) -> None:
        stored = self.written.get(record.uid, record.status)
        if new.last_error:
            new = new.model_copy(update={"last_error": redact(new.last_error)})
        if new.webhook_url:
            # Not redact(): an inbound URL (iLert's) holds a registered key by design.
            new = new.model_copy(update={"webhook_url": redact_url_credentials(new.webhook_url)})
        patch = status_patch(stored, new, _now(), heartbeat=HEARTBEAT if heartbeat else None)
        if patch is None:
            return
        await self.kube.patch_status("alertintegrations", record.namespace, record.name, patch)
        merged = {**stored, **patch}
        self.written[record.uid] = {k: v for k, v in merged.items() if v is not None}

    def forget(self, uid: str) -> None:
        self.written.pop(uid, None)
        self.locks.pop(uid, None)

    def _gone(self, record: IntegrationRecord) -> bool:
        """Deleted, or being deleted, since `record` was read (the watch knows better)."""
        key = self.platform_of.get(record.uid)
        current = self.integrations[key].get(record.uid) if key is not None else None
        return current is None or current.deleting

    # -- one platform's resync ---------------------------------------------------

    async def resync_platform(self, record: PlatformRecord) -> float:
        """Check the platform, list its objects once, reconcile every integration.

        Returns the seconds to wait before the next resync (with jitter, so
        that platforms started together do not resync together).
        """
        started = time.monotonic()
        try:
            return await self._resync_platform(record)
        finally:
            metrics.RESYNC_SECONDS.labels(_product_label(record)).observe(
                time.monotonic() - started
            )

    async def _resync_platform(self, record: PlatformRecord) -> float:
        now = _now()
        integrations = list(self.integrations[record.key].values())
        status = AlertPlatformStatus.model_validate(record.status)
        status.platform_uuid = record.uid
        status.platform_name = str(record.spec.get("displayName") or record.name)
        status.product_type = _product_type(record)
        status.integrations = len(integrations)
        listing: Sequence[Any] | None = None
        interval = _resync_seconds(record)
        ready: ConditionStatus
        try:
            account = await self.account(record, refresh=True)
            adapter = self.adapter_for(account)
            if integrations and self.config.observe_mode == "batched":
                listing = await adapter.list_all()
            else:
                await adapter.check()  # nothing to compare: prove the account works, cheaply
        except AlertSyncError as exc:
            _record_failure(status, exc)
            ready, reason, message = "False", exc.reason, status.last_error or ""
            interval = min(interval, RETRY_UNREADY_SECONDS)
        else:
            status.credentials, status.api_reachable, status.last_error = "Accepted", True, None
            ready, reason = "True", "Connected"
            message = "credentials accepted, API reachable"
            status.last_check_at = now
        status.observed_generation = record.generation
        status.conditions = set_condition(
            status.conditions, "Ready", ready, reason, message, now, record.generation
        )
        patch = status_patch(record.status, status, now, stamp="lastCheckAt")
        if patch is not None:
            await self.kube.patch_status(record.plural, record.namespace, record.name, patch)

        if listing is not None:
            gate = asyncio.Semaphore(self.config.resync_concurrency)
            budget = _Budget(self.config.max_repairs_per_cycle)

            async def one(integration: IntegrationRecord) -> None:
                async with gate:
                    await self.reconcile_integration(integration, listing, may_write=budget.take)

            await asyncio.gather(*(one(i) for i in integrations if not i.deleting))
            if budget.refused:
                logger.warning(
                    "%s %s: %d repairs deferred to the next resync (at most %d a cycle)",
                    record.kind.value,
                    record.name,
                    budget.refused,
                    budget.limit,
                )
        return interval * random.uniform(0.9, 1.1)  # noqa: S311 - jitter, not crypto

    def ready_states(self) -> Iterator[tuple[str, str]]:
        """(platform, Ready status) of every integration, for the metrics."""
        for key, integrations in list(self.integrations.items()):
            platform = self.platforms.get(key)
            label = _product_label(platform) if platform else "unknown"
            for integration in list(integrations.values()):
                stored = self.written.get(integration.uid, integration.status)
                yield label, _ready_of(stored)

    # -- the seed API (alertsync.api) ---------------------------------------------

    def _platform_by_uid(self, uid: str) -> PlatformRecord | None:
        return next((p for p in self.platforms.values() if p.uid == uid), None)

    async def reconcile_platform_now(self, uid: str) -> list[AlertIntegrationStatus] | None:
        """A targeted pass for every integration of the platform with this uid, at once."""
        platform = self._platform_by_uid(uid)
        if platform is None:
            return None
        integrations = [i for i in self.integrations[platform.key].values() if not i.deleting]
        gate = asyncio.Semaphore(self.config.resync_concurrency)

        async def one(integration: IntegrationRecord) -> AlertIntegrationStatus:
            async with gate:
                # heartbeat=False: lastReconcileAt says this check happened.
                await self.reconcile_integration(integration, heartbeat=False)
            return self._entry(integration)

        return list(await asyncio.gather(*(one(i) for i in integrations)))

    def entries(self, platform_uid: str | None) -> list[AlertIntegrationStatus] | None:
        """Every integration's status as last written, of one platform or all."""
        if platform_uid is None:
            keys = list(self.integrations)
        else:
            platform = self._platform_by_uid(platform_uid)
            if platform is None:
                return None
            keys = [platform.key]
        return [
            self._entry(integration)
            for key in keys
            for integration in self.integrations[key].values()
            if integration.uid in self.written or integration.status
        ]

    def _entry(self, integration: IntegrationRecord) -> AlertIntegrationStatus:
        stored = self.written.get(integration.uid, integration.status)
        try:
            return AlertIntegrationStatus.model_validate(stored)
        except ValidationError:
            return AlertIntegrationStatus(uuid=integration.uid)

    def wake(self, key: PlatformKey) -> None:
        self.wakeups[key].set()

    async def sleep(self, key: PlatformKey, timer: Awaitable[object]) -> None:
        """Wait until `timer` ends (the next resync, or the operator stopping), or
        less when the platform's spec changes."""
        event = self.wakeups[key]
        waits = {asyncio.ensure_future(timer), asyncio.ensure_future(event.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        event.clear()

    async def aclose(self) -> None:
        for connection in self.connections.values():
            await connection.adapter.aclose()
        self.connections.clear()


class _Budget:
    """How many platform writes one resync may still make (a storm of drift, or a
    platform restored from an old backup, is repaired over a few cycles)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.left, self.refused = limit, limit, 0

    def take(self) -> bool:
        if self.left > 0:
            self.left -= 1
            return True
        self.refused += 1
        return False


def _product_label(record: PlatformRecord) -> str:
    product = _product_type(record)
    return product.value if product else "unknown"


def _ready_of(status: Mapping[str, Any]) -> str:
    for condition in status.get("conditions") or ():
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return str(condition.get("status", "Unknown"))
    return "Unknown"


def _count(outcome: Outcome) -> None:
    status = outcome.status
    platform = status.product_type.value if status.product_type else "unknown"
    if outcome.released:
        result = "Released"
    elif outcome.error is not None:
        result = outcome.error.reason
    else:
        ready = next((c for c in status.conditions if c.type == "Ready"), None)
        result = ready.reason if ready else "Unknown"
    metrics.RECONCILES.labels(platform, result).inc()
    reasons = {event.reason for event in outcome.events}
    action = (
        "repaired"
        if "DriftRepaired" in reasons
        else "reported"
        if "DriftDetected" in reasons
        else None
    )
    if action and status.last_drift is not None:
        for field in status.last_drift.fields:
            metrics.DRIFT.labels(platform, field, action).inc()


def _product_type(record: PlatformRecord) -> ProductType | None:
    try:
        return ProductType(str(record.spec.get("productType")))
    except ValueError:
        return None


def _resync_seconds(record: PlatformRecord) -> float:
    try:
        return parse_duration(str(record.spec.get("resyncInterval", "5m")))
    except ValueError:
        return RETRY_UNREADY_SECONDS


def _record_failure(status: AlertPlatformStatus, error: AlertSyncError) -> None:
    if isinstance(error, CredentialsMissingError):
        status.credentials, status.api_reachable = "Missing", None
    elif isinstance(error, CredentialsError):
        # The platform answered, and said no.
        status.credentials, status.api_reachable = "Rejected", True
    elif isinstance(error, InvalidSpecError):
        status.api_reachable = None
    else:
        status.api_reachable = False
    status.last_error = redact(error.message)


def _where(record: IntegrationRecord) -> tuple[str, str]:
    return record.namespace, record.name


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0
