"""One pass's decisions: the decision table, row by row, and `reconcile()` to run it.

`reconcile()` takes the resource as stored and returns the status it should
have, the Events worth telling a person about, what it did to the platform
object, and the error (if any) that decides how the caller retries. The only
write it makes to Kubernetes itself is the pending-create record, which must
land before the platform create.
"""

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from alertsync.errors import (
    AdoptionRefusedError,
    AlertSyncError,
    PlatformRejectedError,
    PlatformUnavailableError,
)
from alertsync.events import Event, Reason
from alertsync.models import (
    AdoptionPolicy,
    AlertIntegrationSpec,
    CurrentState,
    DeletionPolicy,
    ManagementPolicy,
    TargetState,
)
from alertsync.models.common import parse_spec
from alertsync.platforms.base import DesiredIntegration, Match, Observation, PlatformAdapter
from alertsync.reconcile.desired import desired_integration
from alertsync.reconcile.ledger import Ledger
from alertsync.reconcile.outcome import (
    ABSENT,
    MARKER_FIELD,
    Dependencies,
    DriftAction,
    IntegrationResource,
    Outcome,
    Update,
)

__all__ = ["reconcile"]

logger = logging.getLogger(__name__)


async def reconcile(resource: IntegrationResource, deps: Dependencies) -> Outcome:
    """One pass."""
    pass_ = _Pass(resource, deps, deps.clock())
    try:
        outcome = await pass_.run()
    except AlertSyncError as exc:
        outcome = pass_.failed(exc)
    if outcome.deferred:
        return outcome  # nothing was done, so there is nothing to tell
    return replace(
        outcome,
        wrote=pass_.wrote(outcome.error),
        drift=pass_.drift,
        adopted=pass_.adopted,
        created=pass_.created,
        vanished=pass_.vanished,
        updated=pass_.updated,
    )


class _Pass(Ledger):
    """The state of one reconcile pass; methods are the decision table's rows."""

    desired: DesiredIntegration
    adapter: PlatformAdapter

    def __init__(self, resource: IntegrationResource, deps: Dependencies, now: datetime) -> None:
        super().__init__(resource, now)
        self.deps = deps
        self.writing = False
        self.drift: DriftAction | None = None
        # What was done to the platform object (Outcome's facts of the same names).
        self.adopted = self.created = False
        self.vanished: str | None = None
        self.updated: Update | None = None

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
                if not self._count_kept(obs):
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
        read_secret = self.deps.read_secret
        desired = await desired_integration(self.resource, spec, account, read_secret, self.events)
        if read_secret is not None:
            desired = await adapter.with_secrets(desired, read_secret)
        self.desired, self.adapter = desired, adapter
        adapter.validate(desired)

        if self.resource.deleting:
            return await self._delete(spec, adapter, desired)

        listing = await self._listing()
        obs = await adapter.observe(desired, listing)
        # Ours may exist: recorded, pending, or made by a failed pass (its answer lost).
        known = bool(self.old.webhook_id or self.old.create_pending_since) or self.after_failure
        stale = not (obs.exists and obs.up_to_date)
        # A new spec is written whatever the listing shows of the object it names:
        # its differences are the work asked for, never counted as drift.
        asked = self.old.observed_generation != self.resource.generation and obs.match is Match.ID
        if listing is not None and known and stale and not asked and self.deps.may_write():
            # About to act on news about an object we may have: a listing can lag or miss
            # one on a shifted page, so confirm with one targeted read (a first create: no).
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
        if obs.match is Match.MARKER and self.old.webhook_id not in (None, obs.external_id):
            self._stand_in(obs)
        if obs.match is Match.NAME and self.old.create_pending_since is None:
            return await self._foreign(spec, adapter, desired, obs)
        if self.old.origin is None:
            # Found by marker or by name with a pending create: our own create,
            # whose id never reached the status (a crash or a lost response).
            self.record_object(obs, origin="created")
        return await self._existing(spec, adapter, desired, obs, adopted_now=False)

    def _stand_in(self, obs: Observation) -> None:
        """The recorded object is gone; another of ours (a lost create's) carries our
        marker: it takes the deleted one's place, and the deletion is a drift, repaired."""
        if self.count_drift((ABSENT,), active=False):
            self.drift = "repaired"
        self.events.append(
            Event(
                "Normal",
                Reason.DRIFT_REPAIRED,
                f"{self.old.webhook_id} had been deleted on the platform; "
                f"{obs.external_id}, also made by AlertSync for this resource, takes its place",
            )
        )

    # -- decision table rows -------------------------------------------------

    async def _absent(
        self, spec: AlertIntegrationSpec, adapter: PlatformAdapter, desired: DesiredIntegration
    ) -> Outcome:
        if adapter.disable_by_delete and spec.target_state is TargetState.DISABLED:
            # On this platform, disabled means no object: absent is in sync.
            self.observation = Observation(Match.NONE, CurrentState.DISABLED)
            self.record_object(self.observation, origin=self.old.origin or "created")
            self.resolve_drift()
            return self.finish("True", "Reconciled", "disabled: no object on the platform")
        vanished = self.old.webhook_id is not None
        new_drift = self.count_drift((ABSENT,), active=True) if vanished else False
        if spec.management_policy is ManagementPolicy.OBSERVE_ONLY:
            message = "the object is absent on the platform"
            if vanished:
                message += f" (it had id {self.old.webhook_id})"
            if new_drift:
                self.drift = "reported"
                self.events.append(Event("Warning", Reason.DRIFT_DETECTED, message))
            self.status.current_state = CurrentState.ABSENT
            return self.finish("False", "NotFound", message + "; ObserveOnly does not create it")

        if not self.deps.may_write():
            return self.deferred()
        if self.old.create_pending_since is None and not adapter.marks_creates:
            # Written ahead: should the create's answer be lost, the object found
            # by its name is ours (where the marker cannot tell it; else unneeded).
            self.status.create_pending_since = self.now
            await self.deps.write_status(self.status)
        # else: recorded by an earlier attempt; rewriting it each retry would be churn.
        self.writing = True
        obs = await adapter.create(desired)
        self.created, self.vanished = True, self.old.webhook_id
        self.record_object(obs, origin="created")
        self.status.create_date = self.now
        self.status.last_op_date = self.now
        await self._after_write(None, obs)
        if vanished:
            self.resolve_drift()
            if new_drift:
                self.drift = "repaired"
            self.events.append(
                Event(
                    "Normal",
                    Reason.DRIFT_REPAIRED,
                    "the object had been deleted on the platform; created it again as "
                    f"{obs.external_id}",
                )
            )
        else:
            self.events.append(Event("Normal", Reason.CREATED, f"created {obs.external_id}"))
        return self.in_sync(obs)

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
        self.record_object(obs, origin="adopted")
        self.status.create_date = self.now
        self.adopted = True
        self.events.append(Event("Normal", Reason.ADOPTED, f"adopted existing {obs.external_id}"))
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
        self.record_object(obs, origin=self.status.origin or "created")
        observe_only = spec.management_policy is ManagementPolicy.OBSERVE_ONLY
        if observe_only and MARKER_FIELD in obs.drifted_fields:
            # ObserveOnly never writes our marker, so its absence is no drift.
            kept = tuple(f for f in obs.drifted_fields if f != MARKER_FIELD)
            obs = replace(obs, drifted_fields=kept)
        if obs.up_to_date:
            self.resolve_drift()
            return self.in_sync(obs)

        fields = _fields(obs)
        # Differences right after a spec change or an adoption are the work
        # asked for, not drift, and so is the rest of a create whose answer was
        # lost (ZStack subscribes topics after the create); in ObserveOnly every
        # difference is reported.
        spec_changed = self.old.observed_generation != self.resource.generation
        # Ours but not yet recorded: found by marker (or by name, a create pending); or
        # made again after a deletion (counted) by a create whose answer was lost.
        last = self.old.last_drift
        recreating = last is not None and last.active and last.fields == (ABSENT,)
        finishing_create = (
            self.old.create_pending_since is not None or self.old.origin is None or recreating
        )
        is_drift = observe_only or not (spec_changed or adopted_now or finishing_create)
        if not observe_only and not self.deps.may_write():
            return self.deferred()
        new_drift = self.count_drift(fields, active=True) if is_drift else False

        if observe_only:
            message = f"the platform differs from the spec in {', '.join(fields)}"
            if new_drift:
                self.drift = "reported"
                self.events.append(Event("Warning", Reason.DRIFT_DETECTED, message))
            return self.finish("False", "DriftDetected", message + "; ObserveOnly does not repair")
        update = Update(obs.external_id, fields, obs.recreate_reason, drift=is_drift)
        return await self._update(adapter, desired, obs, update, new_drift=new_drift)

    async def _write_update(
        self, adapter: PlatformAdapter, desired: DesiredIntegration, obs: Observation
    ) -> Observation:
        """The update's answer; ABSENT when the object was deleted while it was written."""
        try:
            return await adapter.update(desired, obs)
        except PlatformRejectedError as exc:
            # A 404 is a spec problem only while the object is still there; most
            # platforms answer it to a write on an object deleted since it was read.
            if exc.status_code != 404:
                raise
            found = await adapter.observe(desired)
            if found.exists and found.external_id == obs.external_id:
                raise
            return Observation.absent()

    async def _update(
        self,
        adapter: PlatformAdapter,
        desired: DesiredIntegration,
        obs: Observation,
        update: Update,
        *,
        new_drift: bool,
    ) -> Outcome:
        """Make the object match the spec: a spec change, an adoption's, or a drift's repair."""
        if new_drift:
            # Counted before the repair, as a create is recorded before it is sent:
            # a repair that lands while the operator dies is still counted, once.
            await self.deps.write_status(self.status)
        self.writing = True
        repaired = await self._write_update(adapter, desired, obs)
        if repaired.current_state is CurrentState.ABSENT:
            # Deleted behind our back while it was written: recording "no object" would
            # lose its id, and the next pass would create it again as new, uncounted. The
            # next pass finds it gone instead (a drift, counted) and creates it again.
            raise PlatformUnavailableError(
                f"{obs.external_id} was deleted on the platform while AlertSync updated it"
            )
        self.updated = update
        self.record_object(repaired, origin=self.status.origin or "created")
        self.status.last_op_date = self.now
        await self._after_write(obs, repaired)
        fields = ", ".join(update.fields)
        how = f" (recreated: {update.recreate_reason})" if update.recreate_reason else ""
        if update.drift:
            self.resolve_drift()
            if new_drift:
                self.drift = "repaired"
                self.events.append(
                    Event("Normal", Reason.DRIFT_REPAIRED, f"repaired {fields}{how}")
                )
        elif not self.adopted:
            self.events.append(Event("Normal", Reason.UPDATED, f"updated {fields}{how}"))
        return self.in_sync(repaired)

    async def _delete(
        self, spec: AlertIntegrationSpec, adapter: PlatformAdapter, desired: DesiredIntegration
    ) -> Outcome:
        ours = self.old.origin == "created" or self.old.create_pending_since is not None
        policy = spec.deletion_policy or (DeletionPolicy.DELETE if ours else DeletionPolicy.ORPHAN)
        if spec.management_policy is ManagementPolicy.OBSERVE_ONLY:
            policy = DeletionPolicy.ORPHAN
        if policy is DeletionPolicy.ORPHAN:
            if self.old.webhook_id:
                left = f"left {self.old.webhook_id} on the platform"
                self.events.append(Event("Normal", Reason.ORPHANED, left))
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
                self.events.append(Event("Normal", Reason.BEFORE_DELETE, done))
            await adapter.delete(obs.external_id)
            self.events.append(Event("Normal", Reason.DELETED, f"deleted {obs.external_id}"))
        return Outcome(self.status, tuple(self.events), released=True)

    # -- optional capabilities -----------------------------------------------

    def _count_kept(self, obs: Observation) -> bool:
        """Whether this pass wrote to an object already counted: the count stands until
        the next observation (a mass spec change lists no alerts)."""
        return (
            self.writing
            and not self.created
            and self.old.open_alerts is not None
            and obs.external_id == self.old.webhook_id
        )

    async def _count_open_alerts(self, obs: Observation) -> None:
        try:
            self.status.open_alerts = await self.adapter.open_alerts(self.desired, obs)
        except AlertSyncError as exc:
            # The object itself is fine: keep the last count rather than fail the pass.
            logger.warning("could not count the open alerts of %s: %s", obs.external_id, exc)

    async def _after_write(self, before: Observation | None, after: Observation) -> None:
        test = await self.adapter.after_write(self.desired, before, after)
        if test is not None:
            self.record_delivery(test)


def _fields(obs: Observation) -> tuple[str, ...]:
    return tuple(sorted(set(obs.drifted_fields)))
