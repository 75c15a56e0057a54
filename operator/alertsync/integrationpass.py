"""One pass over one AlertIntegration: the reconciler, then its status write, Events,
metrics and log line. Plain async Python: the runtime decides when a pass runs."""

import logging
from collections.abc import Awaitable, Callable, Sequence

from alertsync import metrics
from alertsync.connector import Connector
from alertsync.errors import PermissionDeniedError
from alertsync.kube import Kube
from alertsync.models import AlertIntegrationStatus, PlatformRef
from alertsync.platforms.base import PlatformAccount
from alertsync.reconcile import Dependencies, Event, IntegrationResource, Outcome, reconcile
from alertsync.records import IntegrationRecord
from alertsync.redaction import redact
from alertsync.stalls import Stalls
from alertsync.status import condition
from alertsync.statuswriter import StatusWriter

__all__ = ["Listing", "PassRunner", "PostEvent"]

logger = logging.getLogger(__name__)

PostEvent = Callable[[IntegrationRecord, Event], None]
Listing = Callable[[Callable[[], Awaitable[Sequence[object]]]], Awaitable[Sequence[object]]]


class PassRunner:
    def __init__(
        self,
        kube: Kube,
        connector: Connector,
        statuses: StatusWriter,
        stalls: Stalls,
        post_event: PostEvent,
    ) -> None:
        self.kube, self.connector, self.statuses, self.stalls = kube, connector, statuses, stalls
        self.post_event = post_event
        # Integrations whose deletion finished: no later pass may act on them.
        self.released: set[str] = set()

    async def run(
        self,
        record: IntegrationRecord,
        listing: Listing | None,
        *,
        heartbeat: bool = True,
        may_write: Callable[[], bool] = lambda: True,
        quiet: bool = False,
    ) -> Outcome:
        """One reconcile pass and what follows from it.

        quiet: a retry of a wait already announced on the status (rate limits):
        its status, Events and counts are left as they are.
        """
        async with self.statuses.locks[record.uid]:
            status = self.statuses.status_of(record)
            if record.uid in self.released:
                return Outcome(status, released=True)
            deps = self._dependencies(record, status, listing, heartbeat, may_write)
            outcome = await reconcile(_resource(record, status), deps)
            if outcome.deferred or (quiet and outcome.error is not None):
                return outcome
            if outcome.wrote and outcome.error is None:
                self.connector.read_only.pop(record.platform, None)  # writes work again
            _count(outcome)
            if outcome.released:
                self.statuses.forget(record.uid)
                self.released.add(record.uid)
            else:
                await self.statuses.write(record, outcome.status, heartbeat=heartbeat)
            for event in outcome.events:
                self.post_event(record, Event(event.type, event.reason, redact(event.message)))
            self._log(record, status, outcome)
            return outcome

    def _dependencies(
        self,
        record: IntegrationRecord,
        status: AlertIntegrationStatus,
        listing: Listing | None,
        heartbeat: bool,
        may_write: Callable[[], bool],
    ) -> Dependencies:
        asked = record.asked(status.last_handled_reconcile_at)

        async def write(new: AlertIntegrationStatus) -> None:
            await self.statuses.write(record, new, heartbeat=heartbeat)

        async def resolve(ref: PlatformRef, namespace: str) -> PlatformAccount:
            return await self.connector.resolve(ref, namespace, refresh=asked)

        return Dependencies(
            resolve_platform=resolve,
            adapter_for=self.connector.adapter_for,
            write_status=write,
            may_write=may_write,
            read_secret=self.stalls.reader(record.uid),
            listing=None if listing is None else (lambda adapter: listing(adapter.list_all)),
        )

    def _log(
        self, record: IntegrationRecord, before: AlertIntegrationStatus, outcome: Outcome
    ) -> None:
        error = outcome.error
        if error is None:
            return
        if isinstance(error, PermissionDeniedError):
            self.connector.read_only[record.platform] = error.stable_message
        # Said once, when it changes; its repetitions are for debugging only.
        new = before.last_error != error.stable_message
        level = logging.WARNING if new else logging.DEBUG
        logger.log(level, "%s/%s: %s", *record.where, redact(error.message))


def _resource(record: IntegrationRecord, status: AlertIntegrationStatus) -> IntegrationResource:
    return IntegrationResource(
        namespace=record.namespace,
        name=record.name,
        uid=record.uid,
        generation=record.generation,
        spec=record.spec,
        status=status,
        deleting=record.deleting,
        requested_at=record.requested_at,
    )


def _count(outcome: Outcome) -> None:
    status = outcome.status
    platform = metrics.platform_label(status.product_type)
    if outcome.released:
        result = "Released"
    elif outcome.error is not None:
        result = outcome.error.reason
    else:
        ready = condition(status.conditions, "Ready")
        result = ready.reason if ready else "Unknown"
    metrics.RECONCILES.labels(platform, result).inc()
    if outcome.drift and status.last_drift is not None:
        for field in status.last_drift.fields:
            metrics.DRIFT.labels(platform, field, outcome.drift).inc()
