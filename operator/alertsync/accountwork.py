"""One platform account's work: its queue, its workers, and its shared listing.

Every request an account's integrations need goes through here, so that they
share one budget instead of competing for it: a job waits in the queue, never
fails for want of budget, and reads the platform from the account's latest
listing instead of looking itself up. At most one listing of the account is in
flight at a time, and it is taken again only for an integration that the
platform may have changed since (our own write, or a write whose answer was lost).

The workers run while the platform's kopf daemon runs (alertsync.handlers): a
replica that kopf pauses (peering) or stops sends nothing more for the account.
"""

import asyncio
import contextlib
import contextvars
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from alertsync.errors import AlertSyncError
from alertsync.platforms.http import WAIT_NOTICE
from alertsync.reconcile import Outcome
from alertsync.retry import backoff, delay_for
from alertsync.workqueue import URGENT, Job, Work, WorkQueue

__all__ = ["AccountWork", "Listing", "Listings", "RunJob"]

logger = logging.getLogger(__name__)

# A job's pass; None when there was nothing to do (its resource is gone).
RunJob = Callable[[Job], Awaitable[Outcome | None]]
# A write's effect may land on the platform a little after its answer (or its
# timeout) reached us: a listing must start this much later to be trusted.
WRITE_SETTLE_SECONDS = 1.0


@dataclass(frozen=True)
class Listing:
    items: Sequence[object]
    started: float  # clock time: it shows every write that landed before this


class Listings:
    """The account's latest full listing, shared by every job and the resync."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.latest: Listing | None = None
        self._task: asyncio.Task[Sequence[object]] | None = None
        self._task_started = -math.inf
        self._started_at: dict[asyncio.Future[Sequence[object]], float] = {}
        # After a failed listing, jobs fail fast with its error for a while
        # instead of each asking the struggling platform again.
        self._failure: AlertSyncError | None = None
        self._failed_until = -math.inf
        self._failures = 0

    async def fresh(
        self,
        after: float,
        fetch: Callable[[], Awaitable[Sequence[object]]],
        *,
        urgent: bool = False,
    ) -> Listing:
        """A listing that started after `after` (clock time): the latest, or a new one.

        `after` may lie a little ahead (a write settling): a new listing waits for it.
        `urgent` (a change or a pass a person asked for) asks again at once even
        right after a failed listing.
        """
        while True:
            latest = self.latest
            if latest is not None and latest.started > after:
                return latest
            if self._failure is not None and self.clock() < self._failed_until and not urgent:
                raise self._failure
            task = self._task
            if task is not None and self._task_started <= after:
                # Too old for this caller: let it end, then take another (one at a time).
                with contextlib.suppress(AlertSyncError):
                    await asyncio.shield(task)
                self._settle(task)  # a done task is awaited without a pause: settle it here
                continue
            if task is None:
                ahead = after - self.clock()
                if ahead >= 0:
                    await asyncio.sleep(ahead + 0.01)
                    continue
                task = self._start(fetch)
            try:
                await asyncio.shield(task)
            finally:
                self._settle(task)

    def cancel(self) -> None:
        """Stop a listing in flight: its account's work has stopped (pause, shutdown)."""
        if self._task is not None:
            self._task.cancel()

    def _start(
        self, fetch: Callable[[], Awaitable[Sequence[object]]]
    ) -> asyncio.Task[Sequence[object]]:
        started = self._task_started = self.clock()
        # Shared by every job: no one job's wait notice (WAIT_NOTICE) goes with it.
        context = contextvars.copy_context()
        context.run(WAIT_NOTICE.set, None)

        async def listing() -> Sequence[object]:
            return await fetch()

        task = self._task = asyncio.get_running_loop().create_task(listing(), context=context)
        self._started_at[task] = started
        task.add_done_callback(self._settle)
        return task

    def _settle(self, task: asyncio.Future[Sequence[object]]) -> None:
        """Record a finished listing once, whoever sees it end first."""
        if not task.done():
            return  # its waiter was cancelled: the done callback settles it
        started = self._started_at.pop(task, None)
        if started is None:
            return  # settled already
        if self._task is task:
            self._task = None
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            self.latest = Listing(task.result(), started)
            self._failure, self._failures = None, 0
        elif isinstance(error, AlertSyncError):
            self._failure = error
            self._failed_until = self.clock() + backoff(self._failures)
            self._failures += 1


class AccountWork:
    def __init__(
        self,
        name: str,
        run: RunJob,
        resync_seconds: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.run = run
        self.resync_seconds = resync_seconds
        self.clock = clock
        self.queue = WorkQueue(clock)
        self.listings = Listings(clock)
        # When each integration's last write may have landed on the platform, and
        # each name we gave an object: another resource of that name (a resource
        # deleted with Orphan and made again, two of one name) must not be decided
        # from a listing that predates it.
        self.last_write: dict[str, float] = {}
        self.names_written: dict[str, float] = {}
        # Each waiter with the pass count when it was registered: only a pass that
        # starts later answers it (one already running may predate its cause, e.g.
        # a repair running when the resource's deletion comes in).
        self.waiters: dict[str, list[tuple[int, asyncio.Future[Outcome | None]]]] = {}
        self._passes = 0
        self._changed = asyncio.Event()
        self.workers = 0
        # Jobs finished per second, smoothed: the queue's pace where no budget is known.
        self.pace: float | None = None
        self._last_done: float | None = None

    # -- what callers use ---------------------------------------------------------

    def wake(self) -> None:
        """Look at the queue again (jobs were made ready outside submit)."""
        self._changed.set()

    def submit(
        self, uid: str, namespace: str, work: Work, name: str = "", *, fresh: bool = False
    ) -> Job:
        job = self.queue.put(uid, namespace, work, name, fresh=fresh)
        self._changed.set()
        return job

    def waiter(self, uid: str) -> asyncio.Future[Outcome | None]:
        """The outcome of the next pass of `uid` that starts after this call.

        Registered at once (not when awaited): a pass may start and end before
        the caller's next await.
        """
        future: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(uid, []).append((self._passes, future))
        return future

    def forget(self, uid: str) -> None:
        self.queue.discard(uid)
        self.last_write.pop(uid, None)

    def listing_for(
        self, job: Job
    ) -> Callable[[Callable[[], Awaitable[Sequence[object]]]], Awaitable[Sequence[object]]]:
        """The listing provider for one job: recent enough for what we wrote that it
        depends on (its own object, and any object we gave its name)."""
        after = max(
            self.last_write.get(job.uid, -math.inf), self.names_written.get(job.name, -math.inf)
        )

        urgent = job.work in URGENT

        async def items(fetch: Callable[[], Awaitable[Sequence[object]]]) -> Sequence[object]:
            return (await self.listings.fresh(after, fetch, urgent=urgent)).items

        return items

    def written_since(self, uid: str, started: float) -> bool:
        """Whether a listing that started at `started` may not show our last write to `uid`."""
        return self.last_write.get(uid, -math.inf) >= started

    def expected_wait(self, job: Job, budget: float | None, blocked: float) -> float:
        """Seconds until `job` is likely to start: the jobs ahead at the account's pace."""
        pace = budget or self.pace or 1.0
        return blocked + self.queue.ahead_of(job) / pace

    @contextlib.asynccontextmanager
    async def running(self, workers: int) -> AsyncIterator[None]:
        """Run `workers` workers for as long as the context lasts."""
        tasks = [
            asyncio.create_task(self._worker(), name=f"{self.name} worker {i}")
            for i in range(workers)
        ]
        self.workers += workers
        try:
            yield
        finally:
            self.workers -= workers
            for task in tasks:
                task.cancel()
            # Shielded from each job: without this it would go on sending.
            self.listings.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- the workers ----------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            job = self.queue.pop()
            if job is None:
                # Cleared before looking again: a submit after this look sets it.
                self._changed.clear()
                job = self.queue.pop()
            if job is None:
                await self._idle()
                continue
            self._passes += 1
            started = self._passes
            try:
                outcome = await self.run(job)
            except asyncio.CancelledError:
                self.queue.done(job)
                self.queue.put(job.uid, job.namespace, job.work, job.name)
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # the daemon stopped (pause, shutdown): the next one runs it
                continue  # only what it waited for was cancelled (a listing): run it again
            except Exception:
                logger.exception("%s: the pass of %s failed; retrying", self.name, job.uid)
                self.queue.retry(job, backoff(job.attempt))
                self._resolve(job.uid, None, started)
                continue
            self._settle(job, outcome, started)

    def _settle(self, job: Job, outcome: Outcome | None, started: int) -> None:
        now = self.clock()
        if outcome is not None and outcome.wrote:
            self.last_write[job.uid] = now + WRITE_SETTLE_SECONDS
            if job.name:
                self.names_written[job.name] = now + WRITE_SETTLE_SECONDS
        if self._last_done is not None and now > self._last_done:
            rate = 1.0 / (now - self._last_done)
            self.pace = rate if self.pace is None else 0.8 * self.pace + 0.2 * rate
        self._last_done = now
        error = outcome.error if outcome is not None else None
        delay = (
            None
            if error is None or job.work is Work.DELETE  # kopf retries deletions itself
            else delay_for(error, job.attempt, self.resync_seconds())
        )
        if delay is None:
            self.queue.done(job)
        else:
            self.queue.retry(job, delay)
        self._resolve(job.uid, outcome, started)

    def _resolve(self, uid: str, outcome: Outcome | None, started: int) -> None:
        waiting = self.waiters.pop(uid, [])
        later = [(since, future) for since, future in waiting if since >= started]
        if later:
            self.waiters[uid] = later
        for since, future in waiting:
            if since < started and not future.done():
                future.set_result(outcome)

    async def _idle(self) -> None:
        due = self.queue.next_due()
        timeout = None if due is None else max(0.0, due - self.clock())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)
