"""Observe -> decide -> act for one AlertIntegration. Plain async Python, no kopf.

`reconcile()` takes the resource as stored and returns the status it should
have, the Events worth telling a person about, and the error (if any) that
decides how the caller retries. The only write it makes to Kubernetes itself
is the pending-create record, which must land before the platform create.
"""

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from alertsync.errors import (
    AdoptionRefusedError,
    AlertSyncError,
    CredentialsMissingError,
    InvalidSpecError,
    PlatformUnavailableError,
    RateLimitedError,
)
from alertsync.models import (
    AdoptionPolicy,
    AlertIntegrationSpec,
    AlertIntegrationStatus,
    CurrentState,
    DeletionPolicy,
    LastDrift,
    ManagementPolicy,
    PlatformRef,
    TargetState,
)
from alertsync.models.common import URL_PATTERN, parse_spec
from alertsync.platforms.base import (
    DesiredIntegration,
    Match,
    Observation,
    PlatformAccount,
    PlatformAdapter,
    secret_value,
)
from alertsync.redaction import redact_url_credentials
from alertsync.status import drop_condition, set_condition

__all__ = [
    "Dependencies",
    "Event",
    "IntegrationResource",
    "Outcome",
    "reconcile",
]

logger = logging.getLogger(__name__)

# A drift in which the object itself disappeared from the platform.
ABSENT = "absent"
# The drifted-field name adapters use when our marker is missing or wrong.
MARKER_FIELD = "marker"
# A webhook URL read from a Secret meets the rule the CRD sets for an inline one.
URL, URL_MAX = re.compile(URL_PATTERN), 2048


@dataclass(frozen=True)
class IntegrationResource:
    namespace: str
    name: str
    uid: str
    generation: int
    spec: Mapping[str, Any]
    status: AlertIntegrationStatus
    deleting: bool = False
    # The reconcile-requested-at annotation: echoed as lastHandledReconcileAt.
    requested_at: str | None = None


@dataclass(frozen=True)
class Event:
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


DriftAction = Literal["repaired", "reported"]


@dataclass(frozen=True)
class Outcome:
    status: AlertIntegrationStatus
    events: tuple[Event, ...] = ()
    error: AlertSyncError | None = None
    # Deletion is complete: the finalizer may go.
    released: bool = False
    # A write was due and `may_write` said not now: nothing written or counted.
    deferred: bool = False
    # A platform write was sent and may have changed the object (a listing
    # taken before it no longer shows that object as it is).
    wrote: bool = False
    # This pass counted a new drift, and repaired or only reported it.
    drift: DriftAction | None = None


@dataclass(frozen=True)
class Dependencies:
    resolve_platform: Callable[[PlatformRef, str], Awaitable[PlatformAccount]]
    adapter_for: Callable[[PlatformAccount], PlatformAdapter]
    # Writes the status at once; used for the pending-create record.
    write_status: Callable[[AlertIntegrationStatus], Awaitable[None]]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC).replace(microsecond=0))
    # Asked before each platform write; False defers the write (the resync
    # compares in memory and leaves the writes to the account's work queue).
    may_write: Callable[[], bool] = field(default=lambda: True)
    # A Secret's data in a namespace, or None: for Secrets a spec block names.
    read_secret: Callable[[str, str], Awaitable[dict[str, str] | None]] | None = None
    # The account's listing, recent enough for this resource (no request of
    # this pass's own); None: targeted reads instead (per-object mode).
    listing: Callable[[PlatformAdapter], Awaitable[Sequence[object]]] | None = None


async def reconcile(resource: IntegrationResource, deps: Dependencies) -> Outcome:
    """One pass."""
    now = deps.clock()
    pass_ = _Pass(resource, deps, now)
    try:
        outcome = await pass_.run()
    except AlertSyncError as exc:
        outcome = pass_.failed(exc)
    return replace(outcome, wrote=pass_.wrote(outcome.error), drift=pass_.drift)


class _Pass:
    """The state of one reconcile pass; methods are the decision table's rows."""

    def __init__(self, resource: IntegrationResource, deps: Dependencies, now: datetime) -> None:
        self.resource = resource
        self.deps = deps
        self.now = now
        self.old = resource.status
        self.status = resource.status.model_copy(
            update={"uuid": resource.uid, "last_handled_reconcile_at": resource.requested_at}
        )
        self.events: list[Event] = []
        self.observation: Observation | None = None
        self.writing = False
        self.drift: DriftAction | None = None

    def wrote(self, error: AlertSyncError | None) -> bool:
        """Whether the platform may have changed by this pass: a write was sent and
        succeeded, or failed in a way that does not prove it was not carried out."""
        return self.writing and (error is None or isinstance(error, PlatformUnavailableError))

    async def run(self) -> Outcome:
        outcome = await self._decide()
        obs = self.observation
        if outcome.status is self.status and not outcome.released:
            if obs is not None and obs.exists and not obs.conflicting_ids:
                # Adapters count from one listing of open alerts shared by every
                # pass for a few seconds (iLert, Mackerel): not a request per pass.
                await self._count_open_alerts(obs)
            else:
                self.status.open_alerts = None
        return outcome

    async def _listing(self) -> Sequence[object] | None:
        return None if self.deps.listing is None else await self.deps.listing(self.adapter)

    async def _decide(self) -> Outcome:
        spec = parse_spec(AlertIntegrationSpec, self.resource.spec)
        self.status.target_state = spec.target_state
        account = await self.deps.resolve_platform(spec.platform_ref, self.resource.namespace)
        self.status.platform_uuid = account.uid
        self.status.platform_name = account.display_name
        self.status.product_type = account.product_type
        adapter = self.deps.adapter_for(account)
        desired = await self._desired(spec, account)
        if self.deps.read_secret is not None:
            desired = await adapter.with_secrets(desired, self.deps.read_secret)
        self.desired, self.adapter = desired, adapter
        adapter.validate(desired)

        if self.resource.deleting:
            return await self._delete(spec, adapter, desired)

        listing = await self._listing()
        obs = await adapter.observe(desired, listing)
        known = self.old.webhook_id is not None or self.old.create_pending_since is not None
        stale = not (obs.exists and obs.up_to_date)
        if listing is not None and known and stale and self.deps.may_write():
            # About to change an object we already have: a listing can lag behind
            # the platform, so confirm with one targeted read before acting on it.
            # (A first create needs no confirming: nothing of ours exists yet.)
            obs = await adapter.observe(desired)
        self.observation = obs

        if obs.conflicting_ids:
            ids = ", ".join(obs.conflicting_ids)
            raise AdoptionRefusedError(
                f"{len(obs.conflicting_ids)} objects named {desired.display_name!r} exist on "
                f"the platform ({ids}); AlertSync will not guess which one is its own: "
                "delete or rename the others"
            )
        if not obs.exists:
            return await self._absent(spec, adapter, desired)
        if obs.match is Match.NAME and self.old.create_pending_since is None:
            return await self._foreign(spec, adapter, desired, obs)
        if self.old.origin is None:
            # Found by marker or by name with a pending create: our own create,
            # whose id never reached the status (a crash or a lost response).
            self._record_object(obs, origin="created")
        return await self._existing(spec, adapter, desired, obs, adopted_now=False)

    # -- decision table rows -------------------------------------------------

    async def _absent(
        self, spec: AlertIntegrationSpec, adapter: PlatformAdapter, desired: DesiredIntegration
    ) -> Outcome:
        if adapter.disable_by_delete and spec.target_state is TargetState.DISABLED:
            # On this platform, disabled means no object: absent is in sync.
            self.observation = Observation(Match.NONE, CurrentState.DISABLED)
            self._record_object(self.observation, origin=self.old.origin or "created")
            self._resolve_drift()
            return self._finish("True", "Reconciled", "disabled: no object on the platform")
        vanished = self.old.webhook_id is not None
        new_drift = self._count_drift((ABSENT,), active=True) if vanished else False
        if spec.management_policy is ManagementPolicy.OBSERVE_ONLY:
            message = "the object is absent on the platform"
            if vanished:
                message += f" (it had id {self.old.webhook_id})"
            if new_drift:
                self.drift = "reported"
                self.events.append(Event("Warning", "DriftDetected", message))
            self.status.current_state = CurrentState.ABSENT
            return self._finish("False", "NotFound", message + "; ObserveOnly does not create it")

        if not self.deps.may_write():
            return self._deferred()
        if self.old.create_pending_since is None:
            self.status.create_pending_since = self.now
            await self.deps.write_status(self.status)
        # else: recorded by an earlier attempt; rewriting it each retry would be churn.
        self.writing = True
        obs = await adapter.create(desired)
        self._record_object(obs, origin="created")
        self.status.create_date = self.now
        self.status.last_op_date = self.now
        await self._after_write(None, obs)
        if vanished:
            self._resolve_drift()
            if new_drift:
                self.drift = "repaired"
            self.events.append(
                Event(
                    "Normal",
                    "DriftRepaired",
                    f"the object had been deleted on the platform; created it again as "
                    f"{obs.external_id}",
                )
            )
        else:
            self.events.append(Event("Normal", "Created", f"created {obs.external_id}"))
        return self._in_sync(obs)

    async def _foreign(
        self,
        spec: AlertIntegrationSpec,
        adapter: PlatformAdapter,
        desired: DesiredIntegration,
        obs: Observation,
    ) -> Outcome:
        if spec.adoption_policy is not AdoptionPolicy.ADOPT_EXISTING:
            raise AdoptionRefusedError(
                f"an object named {desired.display_name!r} already exists on the platform "
                f"(id {obs.external_id}) and was not created by AlertSync for this resource; "
                "set spec.adoptionPolicy: AdoptExisting to take it over, or choose another "
                "spec.displayName"
            )
        self._record_object(obs, origin="adopted")
        self.status.create_date = self.now
        self.events.append(Event("Normal", "Adopted", f"adopted existing {obs.external_id}"))
        return await self._existing(spec, adapter, desired, obs, adopted_now=True)

    async def _existing(
        self,
        spec: AlertIntegrationSpec,
        adapter: PlatformAdapter,
        desired: DesiredIntegration,
        obs: Observation,
        *,
        adopted_now: bool,
    ) -> Outcome:
        self._record_object(obs, origin=self.status.origin or "created")
        observe_only = spec.management_policy is ManagementPolicy.OBSERVE_ONLY
        if observe_only and MARKER_FIELD in obs.drifted_fields:
            # ObserveOnly never writes our marker, so its absence is no drift.
            kept = tuple(f for f in obs.drifted_fields if f != MARKER_FIELD)
            obs = replace(obs, drifted_fields=kept)
        if obs.up_to_date:
            self._resolve_drift()
            return self._in_sync(obs)

        fields = _fields(obs)
        # Differences right after a spec change or an adoption are the work
        # asked for, not drift, and so is the rest of a create whose answer was
        # lost (ZStack subscribes topics after the create); in ObserveOnly every
        # difference is reported.
        spec_changed = self.old.observed_generation != self.resource.generation
        finishing_create = self.old.create_pending_since is not None
        is_drift = observe_only or not (spec_changed or adopted_now or finishing_create)
        if not observe_only and not self.deps.may_write():
            return self._deferred()
        new_drift = self._count_drift(fields, active=True) if is_drift else False

        if observe_only:
            message = f"the platform differs from the spec in {', '.join(fields)}"
            if new_drift:
                self.drift = "reported"
                self.events.append(Event("Warning", "DriftDetected", message))
            return self._finish("False", "DriftDetected", message + "; ObserveOnly does not repair")

        if new_drift:
            # Counted before the repair, as a create is recorded before it is sent:
            # a repair that lands while the operator dies is still counted, once.
            await self.deps.write_status(self.status)
        self.writing = True
        repaired = await adapter.update(desired, obs)
        self._record_object(repaired, origin=self.status.origin or "created")
        self.status.last_op_date = self.now
        await self._after_write(obs, repaired)
        how = f" (recreated: {obs.recreate_reason})" if obs.recreate_reason else ""
        if is_drift:
            self._resolve_drift()
            if new_drift:
                self.drift = "repaired"
                self.events.append(
                    Event("Normal", "DriftRepaired", f"repaired {', '.join(fields)}{how}")
                )
        elif not adopted_now:
            self.events.append(Event("Normal", "Updated", f"updated {', '.join(fields)}{how}"))
        return self._in_sync(repaired)

    async def _delete(
        self, spec: AlertIntegrationSpec, adapter: PlatformAdapter, desired: DesiredIntegration
    ) -> Outcome:
        ours = self.old.origin == "created" or self.old.create_pending_since is not None
        policy = spec.deletion_policy or (DeletionPolicy.DELETE if ours else DeletionPolicy.ORPHAN)
        if spec.management_policy is ManagementPolicy.OBSERVE_ONLY:
            policy = DeletionPolicy.ORPHAN
        if policy is DeletionPolicy.ORPHAN:
            if self.old.webhook_id:
                self.events.append(
                    Event("Normal", "Orphaned", f"left {self.old.webhook_id} on the platform")
                )
            return Outcome(self.status, tuple(self.events), released=True)
        # A targeted read, not the listing: a listing that lags behind the
        # platform must never make a deletion miss its object (an orphan).
        obs = await adapter.observe(desired)
        claimed = obs.match in (Match.ID, Match.MARKER) or (
            obs.match is Match.NAME and (self.old.create_pending_since or self.old.origin)
        )
        if obs.exists and obs.external_id and claimed:
            self.writing = True
            done = await adapter.before_delete(desired, obs.external_id)
            if done:
                self.events.append(Event("Normal", "BeforeDelete", done))
            await adapter.delete(obs.external_id)
            self.events.append(Event("Normal", "Deleted", f"deleted {obs.external_id}"))
        return Outcome(self.status, tuple(self.events), released=True)

    # -- optional capabilities -----------------------------------------------

    async def _count_open_alerts(self, obs: Observation) -> None:
        try:
            self.status.open_alerts = await self.adapter.open_alerts(self.desired, obs)
        except AlertSyncError as exc:
            # The object itself is fine: keep the last count rather than fail the pass.
            logger.warning("could not count the open alerts of %s: %s", obs.external_id, exc)

    async def _after_write(self, before: Observation | None, after: Observation) -> None:
        test = await self.adapter.after_write(self.desired, before, after)
        if test is None:
            return
        self.status.last_test_at = test.at
        gen = self.resource.generation
        reason = "Delivered" if test.delivered else "DeliveryFailed"
        event_type: Literal["Normal", "Warning"] = "Normal" if test.delivered else "Warning"
        self.status.conditions = set_condition(
            self.status.conditions,
            "Delivered",
            "True" if test.delivered else "False",
            reason,
            test.message,
            self.now,
            gen,
        )
        self.events.append(Event(event_type, reason, test.message))

    # -- status helpers ------------------------------------------------------

    async def _desired(
        self, spec: AlertIntegrationSpec, account: PlatformAccount
    ) -> DesiredIntegration:
        product = account.product_type
        others = [name for name in spec.platform_blocks() if name != product.block]
        if others:
            raise InvalidSpecError(
                f"spec.{others[0]}",
                f"the platform {spec.platform_ref.name!r} is {product.value}: "
                f"use spec.{product.block} instead",
            )
        webhook = await self._webhook_url(spec)
        if webhook and webhook[0].startswith("http://") and not account.allow_insecure_http:
            raise InvalidSpecError(
                webhook[1],
                f"must be https://: the platform {spec.platform_ref.name!r} does not allow plain "
                "http (set spec.allowInsecureHttp: true on it for a receiver that needs http)",
            )
        return DesiredIntegration(
            namespace=self.resource.namespace,
            name=self.resource.name,
            uid=self.resource.uid,
            display_name=spec.display_name or f"{self.resource.namespace}/{self.resource.name}",
            target_state=spec.target_state,
            webhook_url=webhook[0] if webhook else None,
            block=spec.block_for(product),
            external_id=self.old.webhook_id,
            create_pending=self.old.create_pending_since is not None,
        )

    async def _webhook_url(self, spec: AlertIntegrationSpec) -> tuple[str, str] | None:
        """The webhook URL and the spec field it comes from, inline or from a Secret."""
        if spec.webhook is None:
            return None
        source = spec.webhook.source
        if isinstance(source, str):
            spec_changed = self.old.observed_generation != self.resource.generation
            if spec_changed and redact_url_credentials(source) != source:
                self.events.append(
                    Event(
                        "Warning",
                        "CredentialsInSpec",
                        "spec.webhook.url carries a credential, readable by everyone who can "
                        "read this resource and kept in Git: move the URL to a Secret and name "
                        "it in spec.webhook.urlSecretRef",
                    )
                )
            return source, "spec.webhook.url"
        where = "spec.webhook.urlSecretRef"
        read = self.deps.read_secret
        if read is None:
            raise CredentialsMissingError(f"{where}: Secrets cannot be read here")
        url = await secret_value(read, self.resource.namespace, source.name, source.key, where)
        if not URL.fullmatch(url) or len(url) > URL_MAX:
            raise InvalidSpecError(
                where,
                f"the value of key {source.key!r} in Secret {source.name!r} is not an http(s) "
                f"URL of at most {URL_MAX} characters",
            )
        return url, where

    def _deferred(self) -> Outcome:
        """Nothing written, nothing counted: the account's work queue does it."""
        return Outcome(self.old, deferred=True)

    def _record_object(self, obs: Observation, origin: Literal["created", "adopted"]) -> None:
        self.status.webhook_id = obs.external_id
        self.status.webhook_url = obs.webhook_url
        self.status.current_state = obs.current_state
        self.status.create_pending_since = None
        if self.status.origin is None:
            self.status.origin = origin
            self.status.create_date = self.status.create_date or self.now

    def _count_drift(self, fields: tuple[str, ...], *, active: bool) -> bool:
        """Count a drift once: the same drift still present is not counted again."""
        last = self.old.last_drift
        if last is not None and last.active and last.fields == fields:
            return False
        self.status.drift_count = self.old.drift_count + 1
        self.status.last_drift = LastDrift(at=self.now, fields=fields, active=active)
        return True

    def _resolve_drift(self) -> None:
        if self.status.last_drift is not None and self.status.last_drift.active:
            self.status.last_drift = self.status.last_drift.model_copy(update={"active": False})

    def _in_sync(self, obs: Observation) -> Outcome:
        self.observation = obs
        self.status.current_state = obs.current_state
        if obs.state_reason:
            # The platform holds the object in a state that is not ours to repair.
            return self._finish("False", "HeldByPlatform", obs.state_reason)
        return self._finish("True", "Reconciled", _ready_message(obs))

    def _finish(self, ready: Literal["True", "False"], reason: str, message: str) -> Outcome:
        status, now, gen = self.status, self.now, self.resource.generation
        # Empty rather than absent: the seed's response always carries lastError.
        status.last_error = ""
        status.last_reconcile_at = now
        status.observed_generation = gen
        conditions = set_condition(status.conditions, "Ready", ready, reason, message, now, gen)
        conditions = set_condition(conditions, "Synced", "True", "Reconciled", "", now, gen)
        status.conditions = drop_condition(conditions, "Stalled")
        return Outcome(status, tuple(self.events))

    def failed(self, error: AlertSyncError) -> Outcome:
        status, now, gen = self.status, self.now, self.resource.generation
        message = error.stable_message
        status.last_error = message
        if self.observation is None:
            status.current_state = CurrentState.UNKNOWN
        if error.permanent:
            # Nothing will change until the spec does: this generation is handled.
            status.observed_generation = gen
        conditions = status.conditions
        ready = next((c for c in conditions if c.type == "Ready"), None)
        if not isinstance(error, RateLimitedError) or ready is None:
            # Waiting for the budget says nothing of whether the object works.
            conditions = set_condition(
                conditions, "Ready", "False", error.reason, message, now, gen
            )
        conditions = set_condition(conditions, "Synced", "False", error.reason, message, now, gen)
        if error.permanent:
            conditions = set_condition(
                conditions, "Stalled", "True", error.reason, message, now, gen
            )
        else:
            conditions = drop_condition(conditions, "Stalled")
        status.conditions = conditions
        events = list(self.events)
        if self.resource.deleting and error.permanent:
            # Retrying cannot help and would block the deletion for ever.
            left = f" {self.old.webhook_id}" if self.old.webhook_id else " the platform object"
            events.append(Event("Warning", "Orphaned", f"{message}; left{left} on the platform"))
            return Outcome(status, tuple(events), released=True)
        if self.old.last_error != message:
            events.append(Event("Warning", error.reason, message))
        return Outcome(status, tuple(events), error=error)


def _fields(obs: Observation) -> tuple[str, ...]:
    return tuple(sorted(set(obs.drifted_fields)))


def _ready_message(obs: Observation) -> str:
    if obs.external_id is None:
        return f"{obs.current_state.value}: no object on the platform"
    return f"{obs.external_id} is {obs.current_state.value} on the platform"
