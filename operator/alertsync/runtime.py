"""The operator between kopf and the reconciler: which pass runs when, on what budget.

kopf's handlers hand causes in (a new resource, a spec edit, a pass a person
asked for, a deletion, a restart); each becomes a job in its platform account's
work queue (alertsync.accountwork), which the account's workers run at the
pace of the platform's budget, reading the platform from the account's shared
listing. Each platform's resync lists the account once per interval, compares
every integration in memory and queues only what differs.

An integration that ended in a permanent error (Stalled) is left alone until
its generation, its platform or the platform's credentials change: no request,
no log line above debug, no metric.
"""

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx

from alertsync import metrics, readmodel
from alertsync.accountwork import AccountWork
from alertsync.config import OperatorConfig
from alertsync.connector import Connector
from alertsync.errors import AlertSyncError, RateLimitedError
from alertsync.integrationpass import PassRunner, PostEvent
from alertsync.kube import Kube
from alertsync.models import AlertIntegrationStatus
from alertsync.platforms.http import WAIT_NOTICE, Throttle
from alertsync.platformstatus import platform_status
from alertsync.reconcile import Outcome
from alertsync.records import IntegrationRecord, PlatformKey, PlatformRecord
from alertsync.retry import RETRY_UNREADY
from alertsync.stalls import Stalls
from alertsync.statuswriter import StatusWriter
from alertsync.wakeups import Wakeups
from alertsync.watchcache import WatchCache
from alertsync.workqueue import Job, Work

__all__ = ["Runtime"]

logger = logging.getLogger(__name__)

# A job expected to wait longer than this says so on its status (Synced=False, Queued).
QUEUED_NOTICE_SECONDS = 5.0


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Runtime:
    def __init__(
        self,
        kube: Kube,
        config: OperatorConfig,
        post_event: PostEvent,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.kube, self.config, self.post_event = kube, config, post_event
        self.cache = WatchCache()
        self.connector = Connector(kube, config, self.cache, transport)
        self.statuses = StatusWriter(kube)
        self.stalls = Stalls(self.connector.version, kube.read_secret)
        self.passes = PassRunner(kube, self.connector, self.statuses, self.stalls, post_event)
        self.released = self.passes.released
        self.accounts: dict[PlatformKey, AccountWork] = {}
        self.wakeups = Wakeups()
        # The platform version each account's queue last ran against.
        self.queued_against: dict[PlatformKey, int] = {}

    # -- what exists (kopf's watch events) -------------------------------------------

    def track_integration(self, record: IntegrationRecord, *, gone: bool = False) -> None:
        self.cache.track_integration(record, gone=gone)
        if gone:
            self.released.discard(record.uid)
            self.stalls.forget(record.uid)
            work = self.accounts.get(record.platform)
            if work is not None:
                work.forget(record.uid)

    def track_platform(self, record: PlatformRecord, *, gone: bool = False) -> None:
        previous = self.cache.platforms.get(record.key)
        self.cache.track_platform(record, gone=gone)
        if gone or previous is None or previous.generation != record.generation:
            self.connector.changed(record.key)
        if previous is not None and not gone and previous.generation != record.generation:
            self.wakeups.wake(record.key)  # a spec edit is checked now, not at the next resync

    async def seen(self, record: IntegrationRecord, *, gone: bool = False) -> None:
        """A watch event: queue a pass for a resource seen for the first time (created,
        or found at start-up), a new generation, or a pass asked for by annotation."""
        previous = self.cache.integration(record.uid)
        self.track_integration(record, gone=gone)
        if gone or record.deleting or not record.guarded:
            # Deletion is the delete handler's; an unguarded resource gets kopf's
            # finalizer first (a status write now would also make kopf's patch of it,
            # which tests the resourceVersion, fail and go again).
            return
        if (
            previous is None
            or not previous.guarded
            or previous.generation != record.generation
            or previous.requested_at != record.requested_at
        ):
            await self.submit(record)

    # -- causes from kopf's handlers ---------------------------------------------------

    async def submit(self, record: IntegrationRecord) -> None:
        """A new resource, an edit, a pass asked for, or a restart: queue what it needs
        (its watch event has tracked it already)."""
        stored = self.statuses.stored(record)
        asked = record.asked(stored.get("lastHandledReconcileAt"))
        fresh = stored.get("observedGeneration") != record.generation
        if fresh:
            self.stalls.forget(record.uid)
            work = Work.CHANGE if stored.get("webhookId") else Work.CREATE
        elif asked:
            work, fresh = Work.CHANGE, True
        elif await self.stalls.stalled(record):
            return
        else:
            work = Work.OBSERVE  # a restart: compare with the listing, write what is wrong
        await self._queue(record, work, fresh=fresh)

    async def delete(self, record: IntegrationRecord) -> Outcome | None:
        """The deletion's pass; None when the resource was already released."""
        self.cache.track_integration(record)
        if record.uid in self.released:
            return None
        work = await self._work_for(record)
        if work is None:
            return await self.passes.run(record, listing=None)
        done = work.waiter(record.uid)
        work.submit(record.uid, record.namespace, Work.DELETE, record.display_name)
        return await done

    def forget(self, uid: str) -> None:
        self.statuses.forget(uid)
        self.stalls.forget(uid)

    async def poll(self, record: IntegrationRecord) -> Outcome:
        """One targeted pass, now: per-object polling (the benchmark's baseline)."""
        return await self.passes.run(record, listing=None, heartbeat=False)

    # -- the account's work queue --------------------------------------------------------

    def account_work(self, key: PlatformKey) -> AccountWork:
        work = self.accounts.get(key)
        if work is None:
            work = self.accounts[key] = AccountWork(
                f"{key[0]} {key[2]}",
                lambda job: self._run_job(key, job),
                lambda: self._resync_seconds(key),
            )
        return work

    @contextlib.asynccontextmanager
    async def serving(self, key: PlatformKey) -> AsyncIterator[None]:
        """The account's workers, for as long as its platform's daemon runs."""
        async with self.account_work(key).running(self.config.resync_concurrency):
            yield

    async def _work_for(self, record: IntegrationRecord) -> AccountWork | None:
        """The queue of the integration's account; None if its platform does not exist
        (its pass then fails at once, with no platform request to wait for)."""
        if await self.connector.platform(record.platform) is None:
            return None
        return self.account_work(record.platform)

    async def _queue(
        self, record: IntegrationRecord, work_kind: Work, *, fresh: bool = False
    ) -> None:
        work = await self._work_for(record)
        if work is None:
            outcome = await self.passes.run(record, listing=None)
            self.stalls.note(record, outcome)
            return
        job = work.submit(record.uid, record.namespace, work_kind, record.display_name, fresh=fresh)
        if job.work is not Work.OBSERVE and not job.announced:
            await self._announce_queued(record, work, job)

    async def _announce_queued(
        self, record: IntegrationRecord, work: AccountWork, job: Job
    ) -> None:
        """One status write when a job starts a long wait in the queue: Queued."""
        throttle = self._throttle(record.platform)
        budget = throttle.per_second() if throttle is not None else None
        blocked = throttle.blocked_for() if throttle is not None else 0.0
        seconds = work.expected_wait(job, budget, blocked)
        if seconds < QUEUED_NOTICE_SECONDS:
            return
        job.announced = True
        ahead = work.queue.ahead_of(job)
        pace = f" at {budget * 60:.0f} requests a minute" if budget else ""
        await self.statuses.announce(
            record,
            "Queued",
            f"queued behind {ahead} other changes to this platform account{pace}; "
            f"expected to start in about {seconds:.0f}s",
        )

    async def _announce_rate_limit(
        self, record: IntegrationRecord, job: Job, seconds: float
    ) -> None:
        """One status write when the job starts a long wait for the budget: RateLimited.

        Called from inside its pass (which holds the resource's lock)."""
        if job.rate_limited:
            return
        job.announced = job.rate_limited = True
        until = datetime.now(UTC) + timedelta(seconds=seconds)
        message = (
            f"rate limited by the platform until {until:%Y-%m-%dT%H:%M:%SZ} "
            f"({seconds:.0f}s); waiting for it in turn"
        )
        await self.statuses.announce(
            record, "RateLimited", message, last_error=message, locked=True
        )

    def _throttle(self, key: PlatformKey) -> Throttle | None:
        adapter = self.connector.adapter_of(key)
        return adapter.throttle() if adapter is not None else None

    async def _run_job(self, key: PlatformKey, job: Job) -> Outcome | None:
        record = self.cache.integration(job.uid)
        if record is None or job.uid in self.released:
            return None
        if record.platform != key:
            # platformRef changed while queued: the new account does the work.
            await self._queue(record, job.work)
            return None
        work = self.accounts[key]

        async def notice(seconds: float) -> None:
            await self._announce_rate_limit(record, job, seconds)

        waiting = WAIT_NOTICE.set(notice)
        try:
            outcome = await self.passes.run(
                record,
                listing=work.listing_for(job),
                heartbeat=job.work is not Work.CHANGE,
                quiet=job.announced and job.attempt > 0,
            )
        finally:
            WAIT_NOTICE.reset(waiting)
        if (
            outcome is not None
            and outcome.error is not None
            and isinstance(outcome.error, RateLimitedError)
        ):
            job.announced = True
        self.stalls.note(record, outcome)
        return outcome

    # -- one platform's resync ------------------------------------------------------------

    async def resync_platform(self, record: PlatformRecord) -> float:
        """Check the platform, list it once, compare every integration, queue what differs.

        Returns the seconds to wait before the next resync (with jitter, so
        that platforms started together do not resync together).
        """
        started = time.monotonic()
        try:
            return await self._resync_platform(record)
        finally:
            metrics.RESYNC_SECONDS.labels(metrics.platform_label(record.product_type)).observe(
                time.monotonic() - started
            )

    async def _resync_platform(self, record: PlatformRecord) -> float:
        integrations = [i for i in self.cache.integrations_of(record.key) if not i.deleting]
        work = self.account_work(record.key)
        listing: Sequence[object] | None = None
        listed_at = 0.0
        interval = self.connector.resync_seconds(record) or RETRY_UNREADY
        error: AlertSyncError | None = None
        try:
            account = await self.connector.account(record, refresh=True)
            self._release_if_changed(record.key, work)
            adapter = self.connector.adapter_for(account)
            if integrations and self.config.observe_mode == "batched":
                # A listing that started just now (a job's) is as good as a new one,
                # unless it may not show a write made since.
                after = max(
                    time.monotonic() - 1.0,
                    *(work.last_write.get(i.uid, 0.0) for i in integrations),
                )
                taken = await work.listings.fresh(after, adapter.list_all)
                listing, listed_at = taken.items, taken.started
            else:
                await adapter.check()  # nothing to compare: prove the account works, cheaply
        except AlertSyncError as exc:
            error = exc
            interval = min(interval, RETRY_UNREADY)
            self.queued_against[record.key] = self.connector.version(record.key)
        patch = platform_status(
            record, len(integrations), error, self.connector.read_only.get(record.key), _now()
        )
        if patch is not None:
            await self.kube.patch_status(record.plural, record.namespace, record.name, patch)
        if listing is not None:
            await self._compare_all(record.key, work, integrations, listing, listed_at)
        return interval * random.uniform(0.9, 1.1)  # noqa: S311 - jitter, not crypto

    def _release_if_changed(self, key: PlatformKey, work: AccountWork) -> None:
        """New credentials or a new platform spec: the retries that waited for them go now."""
        version = self.connector.version(key)
        if self.queued_against.get(key) not in (None, version):
            work.queue.release_delayed()
            work.wake()
        self.queued_against[key] = version

    async def _compare_all(
        self,
        key: PlatformKey,
        work: AccountWork,
        integrations: list[IntegrationRecord],
        listing: Sequence[object],
        listed_at: float,
    ) -> None:
        """Each integration against the listing, in memory; what differs goes to the queue."""
        gate = asyncio.Semaphore(self.config.resync_concurrency)

        async def items(_: Callable[[], Awaitable[Sequence[object]]]) -> Sequence[object]:
            return listing

        async def one(integration: IntegrationRecord) -> None:
            if (
                integration.uid in work.queue
                or await self.stalls.stalled(integration)
                or work.written_since(integration.uid, listed_at)
            ):
                return  # queued, left alone, or newer than this listing
            async with gate:
                outcome = await self.passes.run(integration, items, may_write=lambda: False)
            if outcome.deferred:
                kind = Work.REPAIR if outcome.status.webhook_id else Work.CREATE
                await self._queue(integration, kind)
            else:
                self.stalls.note(integration, outcome)

        await asyncio.gather(*(one(i) for i in integrations))

    def _resync_seconds(self, key: PlatformKey) -> float:
        connection = self.connector.connections.get(key)
        return connection.account.resync_seconds if connection else RETRY_UNREADY

    # -- the ReconcileAlertIntegration API (alertsync.api) and metrics --------------------

    async def reconcile_platform_now(
        self, uid: str
    ) -> tuple[list[AlertIntegrationStatus], int] | None:
        """A pass for every integration of the platform with this uid, on its queue.

        Returns their statuses once done and how many jobs were queued before them.
        """
        platform = self.cache.platform_by_uid(uid)
        if platform is None:
            return None
        with contextlib.suppress(AlertSyncError):
            # Asked for by a person: not with credentials older than the Secret (a
            # failure is remembered and each pass reports it).
            await self.connector.account(platform, refresh=True)
        work = self.account_work(platform.key)
        ahead = work.queue.ready()
        integrations = [i for i in self.cache.integrations_of(platform.key) if not i.deleting]
        waits = []
        for integration in integrations:
            self.stalls.forget(integration.uid)
            waits.append(work.waiter(integration.uid))
            work.submit(
                integration.uid, integration.namespace, Work.CHANGE, integration.display_name
            )
        await asyncio.gather(*waits)
        return [readmodel.entry(self.cache, self.statuses, i) for i in integrations], ahead

    def entries(self, platform_uid: str | None) -> list[AlertIntegrationStatus] | None:
        return readmodel.entries(self.cache, self.statuses, platform_uid)

    def ready_states(self) -> Iterator[tuple[str, str]]:
        return readmodel.ready_states(self.cache, self.statuses)

    async def aclose(self) -> None:
        await self.connector.aclose()
