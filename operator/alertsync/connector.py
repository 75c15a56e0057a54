"""Platform accounts: from an AlertPlatform and its Secret to a usable adapter.

One connection per platform resource, rebuilt when its spec or its credentials
change. The Secret is re-read on every resync and before every pass a person asked
for (`alertsync reconcile`, the ReconcileAlertIntegration API), so no path uses
credentials older than the last resync, and a requested pass none older than the
Secret.
"""

import asyncio
from collections import defaultdict
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from alertsync.config import OperatorConfig
from alertsync.errors import (
    AlertSyncError,
    CredentialsMissingError,
    InvalidSpecError,
    NotPermittedError,
)
from alertsync.kube import Kube
from alertsync.models import AlertPlatformSpec, PlatformKind, PlatformRef, ProductType
from alertsync.models.common import parse_spec
from alertsync.platforms import SUPPORTED, build_adapter
from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.records import PlatformKey, PlatformRecord, platform_key
from alertsync.watchcache import WatchCache

__all__ = ["QUEUED_MAX_WAIT", "Connector"]

# The longest wait for the budget a queued job sits out in place (Confluent's
# windows, a 429's Retry-After); longer ones fail the pass as RateLimited, which
# the queue retries when the platform said.
QUEUED_MAX_WAIT = 60.0


@dataclass
class _Connection:
    source: tuple[str, int]  # platform uid and generation it was built from
    account: PlatformAccount
    adapter: PlatformAdapter


class Connector:
    def __init__(
        self,
        kube: Kube,
        config: OperatorConfig,
        cache: WatchCache,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.kube, self.config, self.cache, self.transport = kube, config, cache, transport
        self.connections: dict[PlatformKey, _Connection] = {}
        self.locks: defaultdict[PlatformKey, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Moves whenever what a platform resource resolves to may have changed (its
        # spec, its credentials, whether it exists): a Stalled integration that
        # depends on it is worth one more pass then.
        self.versions: defaultdict[PlatformKey, int] = defaultdict(int)
        # Accounts whose credentials the platform accepted and then refused a
        # write with (a read-only token): the message, until a write works.
        self.read_only: dict[PlatformKey, str] = {}
        # Why the last re-read of a platform's spec or Secret failed, until one works.
        self.failures: dict[PlatformKey, AlertSyncError] = {}

    def version(self, key: PlatformKey) -> int:
        return self.versions[key]

    def changed(self, key: PlatformKey) -> None:
        self.versions[key] += 1
        self.read_only.pop(key, None)

    async def account(self, record: PlatformRecord, *, refresh: bool = False) -> PlatformAccount:
        """The usable account behind a platform resource; re-reads the Secret on refresh."""
        # One builder at a time per platform, so no connection is built twice and lost.
        async with self.locks[record.key]:
            cached = self.connections.get(record.key)
            if cached and not refresh and cached.source == (record.uid, record.generation):
                failure = self.failures.get(record.key)
                if failure is not None:
                    raise failure  # the last re-read failed: no path uses the old credentials
                return cached.account
            try:
                account = await self._build(record)
            except AlertSyncError as exc:
                self.failures[record.key] = exc
                raise
            self.failures.pop(record.key, None)
            source = (record.uid, record.generation)
            if cached is None or cached.account != account:
                # A changed token makes a different account: a new connection.
                if cached is not None:
                    await cached.adapter.aclose()
                adapter = build_adapter(account, self.transport)
                throttle = adapter.throttle()
                if throttle is not None:
                    # The operator's jobs wait for the budget in place, in their
                    # turn, instead of failing the pass and queueing again.
                    throttle.max_wait = QUEUED_MAX_WAIT
                self.connections[record.key] = _Connection(source, account, adapter)
                self.changed(record.key)
            else:
                cached.source = source
            return account

    def adapter_for(self, account: PlatformAccount) -> PlatformAdapter:
        return self.connections[account.key].adapter

    def adapter_of(self, key: PlatformKey) -> PlatformAdapter | None:
        connection = self.connections.get(key)
        return None if connection is None else connection.adapter

    async def resolve(
        self, ref: PlatformRef, namespace: str, *, refresh: bool = False
    ) -> PlatformAccount:
        """The account `ref` names; refresh: re-read its Secret first (a pass a person
        asked for must not use credentials older than the Secret)."""
        key = platform_key(ref.kind.value, namespace, ref.name)
        record = await self.platform(key)
        if record is None:
            where = f" in namespace {namespace}" if ref.kind is PlatformKind.NAMESPACED else ""
            raise InvalidSpecError(
                "spec.platformRef.name", f"{ref.kind.value} {ref.name!r} not found{where}"
            )
        account = await self.account(record, refresh=refresh)
        selector = account.namespace_selector
        if selector is not None and not selector.matches(
            await self.kube.read_namespace_labels(namespace)
        ):
            raise NotPermittedError(
                f"ClusterAlertPlatform {ref.name!r} does not serve namespace {namespace}: "
                "its spec.namespaceSelector does not select this namespace's labels"
            )
        return account

    async def platform(self, key: PlatformKey) -> PlatformRecord | None:
        """The platform resource as last seen, or read when not seen yet (at startup)."""
        record = self.cache.platforms.get(key)
        if record is None:
            body = await self.kube.read_platform(key)
            record = PlatformRecord.from_body(body) if body is not None else None
        return record

    @staticmethod
    def resync_seconds(record: PlatformRecord) -> float | None:
        """The platform's resyncInterval, or None when its spec does not parse."""
        try:
            return parse_spec(AlertPlatformSpec, record.spec).resync_seconds
        except InvalidSpecError:
            return None

    async def aclose(self) -> None:
        for connection in self.connections.values():
            await connection.adapter.aclose()
        self.connections.clear()

    async def _build(self, record: PlatformRecord) -> PlatformAccount:
        what = f"{record.kind.value} {record.name!r}"
        spec = parse_spec(AlertPlatformSpec, record.spec, where=f" (in {what})")
        _check(spec, record.kind)
        namespace = record.namespace or self.config.operator_namespace
        ref = spec.credentials_secret_ref
        data = await self.kube.read_secret(namespace, ref.name)
        if data is None:
            raise CredentialsMissingError(
                f"Secret {namespace}/{ref.name} named in spec.credentialsSecretRef of "
                f"{what} does not exist"
            )
        for key, field in ((ref.key, "key"), (ref.username_key, "usernameKey")):
            if key is not None and not data.get(key, "").strip():
                raise CredentialsMissingError(
                    f"Secret {namespace}/{ref.name} has no key {key!r} "
                    f"(spec.credentialsSecretRef.{field} of {what})"
                )
        return PlatformAccount(
            kind=record.kind,
            namespace=record.namespace,
            name=record.name,
            uid=record.uid,
            display_name=spec.name_of(record.name),
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


def _check(spec: AlertPlatformSpec, kind: PlatformKind) -> None:
    """What the CRD schema cannot say about a platform's spec."""
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
    if spec.namespace_selector is not None and kind is PlatformKind.NAMESPACED:
        raise InvalidSpecError(
            "spec.namespaceSelector",
            "only a ClusterAlertPlatform chooses namespaces; an AlertPlatform serves its own",
        )
