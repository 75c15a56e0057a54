"""The account's shared listing and its workers: each request spent once."""

import asyncio
import time
from collections.abc import Sequence

import pytest

from alertsync.accountwork import AccountWork, Listings
from alertsync.errors import InvalidSpecError, PlatformUnavailableError, RateLimitedError
from alertsync.models import AlertIntegrationStatus
from alertsync.reconcile import Outcome
from alertsync.workqueue import Job, Work


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Platform:
    """Counts listings; each one can be held open to test what waits for it."""

    def __init__(self) -> None:
        self.listings = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def list_all(self) -> Sequence[object]:
        self.listings += 1
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return [f"listing {self.listings}"]


async def test_jobs_waiting_at_once_share_one_listing() -> None:
    platform, listings = Platform(), Listings(Clock())
    platform.gate.clear()
    waits = [asyncio.ensure_future(listings.fresh(0.0, platform.list_all)) for _ in range(50)]
    await asyncio.sleep(0)
    platform.gate.set()
    results = await asyncio.gather(*waits)
    assert platform.listings == 1
    assert {tuple(r.items) for r in results} == {("listing 1",)}


async def test_a_listing_is_reused_until_someone_needs_a_newer_one() -> None:
    clock, platform = Clock(), Platform()
    listings = Listings(clock)
    await listings.fresh(0.0, platform.list_all)
    clock.now += 5
    assert (await listings.fresh(50.0, platform.list_all)).items == ["listing 1"]
    assert platform.listings == 1
    # We wrote to an object at 104: a listing from 100 may not show it.
    assert (await listings.fresh(104.0, platform.list_all)).items == ["listing 2"]
    assert platform.listings == 2


async def test_a_listing_older_than_a_write_is_not_joined_but_followed() -> None:
    clock, platform = Clock(), Platform()
    listings = Listings(clock)
    platform.gate.clear()
    early = asyncio.ensure_future(listings.fresh(0.0, platform.list_all))
    await asyncio.sleep(0)
    clock.now += 1  # a write landed after that listing started
    late = asyncio.ensure_future(listings.fresh(clock.now - 0.5, platform.list_all))
    await asyncio.sleep(0)
    assert platform.listings == 1  # one at a time: the second waits for the first
    platform.gate.set()
    assert (await early).items == ["listing 1"]
    assert (await late).items == ["listing 2"]


async def test_a_listing_asked_for_after_a_write_still_settling_waits_for_it() -> None:
    platform = Platform()
    listings = Listings()  # the real clock: the wait is real, and short
    after = time.monotonic() + 0.05
    taken = await listings.fresh(after, platform.list_all)
    assert taken.started > after
    assert platform.listings == 1


async def test_after_a_failed_listing_jobs_fail_fast_for_a_while() -> None:
    clock, platform = Clock(), Platform()
    listings = Listings(clock)
    platform.fail = PlatformUnavailableError("cannot list: 500")
    with pytest.raises(PlatformUnavailableError):
        await listings.fresh(0.0, platform.list_all)
    for _ in range(20):
        with pytest.raises(PlatformUnavailableError):
            await listings.fresh(0.0, platform.list_all)
    assert platform.listings == 1
    clock.now += 400  # past the backoff
    platform.fail = None
    assert (await listings.fresh(0.0, platform.list_all)).items == ["listing 2"]


def outcome(error: Exception | None = None, *, wrote: bool = False) -> Outcome:
    return Outcome(AlertIntegrationStatus(), error=error, wrote=wrote)  # type: ignore[arg-type]


async def test_workers_run_jobs_settle_retries_and_stop_with_their_context() -> None:
    clock = Clock()
    ran: list[tuple[str, int]] = []
    results = {
        "ok": outcome(wrote=True),
        "bad": outcome(InvalidSpecError("spec.x", "no")),
        "busy": outcome(RateLimitedError("rate limited", 30.0)),
    }

    async def run(job: Job) -> Outcome | None:
        ran.append((job.uid, job.attempt))
        return results[job.uid]

    work = AccountWork("test", run, lambda: 60.0, clock)
    for uid in results:
        work.submit(uid, "team", Work.CREATE)
    waited = work.waiter("ok")
    async with work.running(2):
        assert (await waited) is results["ok"]
        for _ in range(100):
            if len(ran) == 3:
                break
            await asyncio.sleep(0.01)
    assert sorted(ran) == [("bad", 0), ("busy", 0), ("ok", 0)]
    assert work.written_since("ok", 100.0)  # its write may not be in older listings
    assert not work.written_since("bad", 0.0)
    assert "bad" not in work.queue  # permanent: waits for a change, not a timer
    assert work.queue.next_due() == 130.0  # the platform's announced wait
    assert work.workers == 0


async def test_a_waiter_is_answered_by_a_pass_that_starts_after_it_not_one_running() -> None:
    """A deletion arriving while a repair runs must get the deletion's outcome."""
    clock = Clock()
    repairing, release = asyncio.Event(), asyncio.Event()
    first, second = outcome(), outcome(wrote=True)

    async def run(job: Job) -> Outcome | None:
        if job.work is Work.REPAIR:
            repairing.set()
            await release.wait()
            return first
        return second

    work = AccountWork("test", run, lambda: 60.0, clock)
    work.submit("x", "team", Work.REPAIR)
    async with work.running(1):
        await repairing.wait()
        deleted = work.waiter("x")
        work.submit("x", "team", Work.DELETE)
        release.set()
        assert (await asyncio.wait_for(deleted, 5)) is second


async def test_a_finished_listing_is_never_awaited_in_a_loop_that_does_not_yield() -> None:
    """A caller that needs a newer listing than a finished one must not spin on it."""
    clock, platform = Clock(), Platform()
    listings = Listings(clock)
    first = await listings.fresh(0.0, platform.list_all)
    clock.now += 1
    # The first listing's task is done; a caller needing one newer than it starts another.
    second = await asyncio.wait_for(listings.fresh(first.started, platform.list_all), 1.0)
    assert second.items == ["listing 2"]
