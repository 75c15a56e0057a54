"""The status and Events one pass writes: its bookkeeping, apart from its decisions."""

from datetime import datetime
from typing import Literal

from alertsync.errors import AlertSyncError, RateLimitedError
from alertsync.events import Event, Reason
from alertsync.models import AlertIntegrationStatus, CurrentState, LastDrift
from alertsync.platforms.base import DeliveryTest, Observation
from alertsync.reconcile.outcome import IntegrationResource, Outcome
from alertsync.status import condition, drop_condition, set_condition

__all__ = ["Ledger"]


class Ledger:
    """The status a pass builds from the stored one, and the Events it will post."""

    def __init__(self, resource: IntegrationResource, now: datetime) -> None:
        self.resource = resource
        self.now = now
        self.old = resource.status
        self.status: AlertIntegrationStatus = resource.status.model_copy(
            update={"uuid": resource.uid, "last_handled_reconcile_at": resource.requested_at}
        )
        self.events: list[Event] = []
        self.observation: Observation | None = None

    @property
    def after_failure(self) -> bool:
        """The pass before failed, maybe after its create was made and its answer lost
        (not for a 429: the platform refused the request, nothing was made)."""
        synced = condition(self.old.conditions, "Synced")
        limited = synced is not None and synced.reason == RateLimitedError.reason
        return bool(self.old.last_error) and not limited

    def record_object(self, obs: Observation, origin: Literal["created", "adopted"]) -> None:
        self.status.webhook_id = obs.external_id
        self.status.webhook_url = obs.webhook_url
        self.status.current_state = obs.current_state
        self.status.create_pending_since = None
        if self.status.origin is None:
            self.status.origin = origin
            self.status.create_date = self.status.create_date or self.now

    def count_drift(self, fields: tuple[str, ...], *, active: bool) -> bool:
        """Count a drift once: the same drift still present is not counted again."""
        last = self.old.last_drift
        if last is not None and last.active and last.fields == fields:
            return False
        self.status.drift_count = self.old.drift_count + 1
        self.status.last_drift = LastDrift(at=self.now, fields=fields, active=active)
        return True

    def resolve_drift(self) -> None:
        if self.status.last_drift is not None and self.status.last_drift.active:
            self.status.last_drift = self.status.last_drift.model_copy(update={"active": False})

    def record_delivery(self, test: DeliveryTest) -> None:
        """The test notification after a write (Confluent's testOnChange)."""
        self.status.last_test_at = test.at
        reason = Reason.DELIVERED if test.delivered else Reason.DELIVERY_FAILED
        self.status.conditions = set_condition(
            self.status.conditions,
            "Delivered",
            "True" if test.delivered else "False",
            reason.value,
            test.message,
            self.now,
            self.resource.generation,
        )
        self.events.append(Event("Normal" if test.delivered else "Warning", reason, test.message))

    def deferred(self) -> Outcome:
        """Nothing written, nothing counted: the account's work queue does it."""
        return Outcome(self.old, deferred=True)

    def in_sync(self, obs: Observation) -> Outcome:
        self.observation = obs
        self.status.current_state = obs.current_state
        if obs.state_reason:
            # The platform holds the object in a state that is not ours to repair.
            return self.finish("False", "HeldByPlatform", obs.state_reason)
        return self.finish("True", "Reconciled", _ready_message(obs))

    def finish(self, ready: Literal["True", "False"], reason: str, message: str) -> Outcome:
        status, now, gen = self.status, self.now, self.resource.generation
        # Empty rather than absent: the ReconcileAlertIntegration response always carries lastError.
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
        ready = condition(conditions, "Ready")
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
            events.append(
                Event("Warning", Reason.ORPHANED, f"{message}; left{left} on the platform")
            )
            return Outcome(status, tuple(events), released=True)
        if self.old.last_error != message:
            events.append(Event("Warning", Reason.of(error), message))
        return Outcome(status, tuple(events), error=error)


def _ready_message(obs: Observation) -> str:
    if obs.external_id is None:
        return f"{obs.current_state.value}: no object on the platform"
    return f"{obs.external_id} is {obs.current_state.value} on the platform"
