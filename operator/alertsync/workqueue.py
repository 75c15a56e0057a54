"""One platform account's queue of work: what must be done, in what order.

Plain data, no I/O: the account's workers (alertsync.accountwork) take jobs
from it. At most one job per integration is queued: a newer cause upgrades the
queued job instead of adding a second one, and a cause that arrives while the
job runs makes it run once more afterwards (the running pass may have read an
older copy of the resource).

Order: deletions, then spec changes and passes a person asked for, strictly
first. Below them creates, drift repairs and observation share the account in
a fixed pattern (mostly creates), so that a drift on a Ready integration is
repaired while a mass create is still running. Within a class, namespaces take
turns, so that no namespace's folder of changes starves another's.
"""

import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

__all__ = ["URGENT", "Job", "Work", "WorkQueue"]


class Work(IntEnum):
    """What a job is for; lower values go first."""

    DELETE = 0
    CHANGE = 1  # a new generation of an existing object, or a pass a person asked for
    CREATE = 2  # the first create of a new object
    REPAIR = 3  # a drift found by the resync on an unchanged object
    OBSERVE = 4  # a check against the listing (restarts); writes only what it finds wrong


URGENT = (Work.DELETE, Work.CHANGE)
# The classes below URGENT share the account in this pattern, one pick each.
SHARES = (
    Work.CREATE,
    Work.CREATE,
    Work.CREATE,
    Work.REPAIR,
    Work.CREATE,
    Work.CREATE,
    Work.CREATE,
    Work.REPAIR,
    Work.CREATE,
    Work.OBSERVE,
)


@dataclass
class Job:
    uid: str
    namespace: str
    work: Work
    queued_at: float
    # The name the object has (or gets) on the platform, as the resource last said.
    name: str = ""
    # Failed attempts since the last success or the last change: the backoff's input.
    attempt: int = 0
    # Asked for by a person (a new generation, a deletion, a requested pass): it
    # starts without the backoff of the attempts before it.
    fresh: bool = field(default=False, compare=False)
    # Set when a status already says this job waits (Queued, RateLimited): once only.
    announced: bool = field(default=False, compare=False)
    rate_limited: bool = field(default=False, compare=False)


class WorkQueue:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.jobs: dict[str, Job] = {}  # queued, ready or delayed
        self.lanes: dict[Work, OrderedDict[str, deque[str]]] = {w: OrderedDict() for w in Work}
        self.delayed: list[tuple[float, int, str]] = []  # (not before, tie, uid)
        self.delayed_until: dict[str, float] = {}
        self.running: dict[str, Job] = {}
        self.again: dict[str, Job] = {}
        self.picks = itertools.cycle(SHARES)
        self.tie = itertools.count()

    def __len__(self) -> int:
        return len(self.jobs)

    def __contains__(self, uid: str) -> bool:
        return uid in self.jobs or uid in self.running

    def put(
        self, uid: str, namespace: str, work: Work, name: str = "", *, fresh: bool = False
    ) -> Job:
        """Queue `work` for `uid` now, or make its queued job at least as urgent.

        fresh: a person asked for it (DELETE and CHANGE always are), so a backoff
        earned by the attempts before it no longer applies.
        """
        fresh = fresh or work in URGENT
        if uid in self.running:
            later = self.again.get(uid)
            if later is None or work < later.work:
                self.again[uid] = Job(uid, namespace, work, self.clock(), name)
            self.again[uid].fresh |= fresh
            return self.again[uid]
        job = self.jobs.get(uid)
        if job is None:
            job = self.jobs[uid] = Job(uid, namespace, work, self.clock(), name, fresh=fresh)
            self._lane(job).append(uid)
            return job
        job.name = name or job.name
        if uid in self.delayed_until and fresh:
            # A person changed something: the backoff of the old attempt is moot.
            del self.delayed_until[uid]
            job.work, job.attempt = min(work, job.work), 0
            self._lane(job).append(uid)
        elif work < job.work:
            if uid not in self.delayed_until:
                self._unlane(job)
                job.work = work
                self._lane(job).append(uid)
            else:
                job.work = work
        return job

    def retry(self, job: Job, delay: float) -> None:
        """Queue `job` again after `delay` seconds (its attempt counted)."""
        self.running.pop(job.uid, None)
        newer = self.again.pop(job.uid, None)
        if newer is not None and newer.fresh:
            self.jobs[job.uid] = newer  # a change arrived meanwhile: no backoff
            self._lane(newer).append(job.uid)
            return
        job.attempt += 1
        self.jobs[job.uid] = job
        at = self.clock() + delay
        self.delayed_until[job.uid] = at
        heapq.heappush(self.delayed, (at, next(self.tie), job.uid))

    def release_delayed(self) -> None:
        """Make every delayed job ready now: what they waited for may have changed."""
        for uid in list(self.delayed_until):
            del self.delayed_until[uid]
            self._lane(self.jobs[uid]).append(uid)
        self.delayed.clear()

    def discard(self, uid: str) -> None:
        """Forget `uid` (its resource is gone); a running job finishes on its own."""
        job = self.jobs.pop(uid, None)
        self.again.pop(uid, None)
        if job is None:
            return
        if self.delayed_until.pop(uid, None) is None:
            self._unlane(job)

    def pop(self) -> Job | None:
        """The next ready job, now marked running; None when none is ready."""
        self._release_due()
        work = self._next_class()
        if work is None:
            return None
        lane = self.lanes[work]
        namespace, uids = next(iter(lane.items()))
        uid = uids.popleft()
        if uids:
            lane.move_to_end(namespace)  # the next namespace's turn
        else:
            del lane[namespace]
        job = self.jobs.pop(uid)
        self.running[uid] = job
        return job

    def done(self, job: Job) -> None:
        """`job` ended (success or a failure that waits for a change)."""
        self.running.pop(job.uid, None)
        newer = self.again.pop(job.uid, None)
        if newer is not None:
            self.jobs[job.uid] = newer
            self._lane(newer).append(job.uid)

    def next_due(self) -> float | None:
        """When the earliest delayed job becomes ready (clock time), if any."""
        while self.delayed and self.delayed_until.get(self.delayed[0][2]) != self.delayed[0][0]:
            heapq.heappop(self.delayed)  # superseded by put() or discard()
        return self.delayed[0][0] if self.delayed else None

    def ahead_of(self, job: Job) -> int:
        """Roughly how many ready jobs go before `job`: the others of its class and above."""
        waiting = sum(len(uids) for w in Work if w <= job.work for uids in self.lanes[w].values())
        return max(0, waiting - 1)

    def ready(self) -> int:
        return sum(len(uids) for lane in self.lanes.values() for uids in lane.values())

    def _lane(self, job: Job) -> deque[str]:
        lane = self.lanes[job.work]
        if job.namespace not in lane:
            lane[job.namespace] = deque()
        return lane[job.namespace]

    def _unlane(self, job: Job) -> None:
        lane = self.lanes[job.work]
        uids = lane[job.namespace]
        uids.remove(job.uid)
        if not uids:
            del lane[job.namespace]

    def _release_due(self) -> None:
        now = self.clock()
        while (due := self.next_due()) is not None and due <= now:
            _, _, uid = heapq.heappop(self.delayed)
            del self.delayed_until[uid]
            self._lane(self.jobs[uid]).append(uid)

    def _next_class(self) -> Work | None:
        for work in URGENT:
            if self.lanes[work]:
                return work
        waiting = [w for w in Work if w not in URGENT and self.lanes[w]]
        if not waiting:
            return None
        share = next(self.picks)
        return share if share in waiting else min(waiting)
