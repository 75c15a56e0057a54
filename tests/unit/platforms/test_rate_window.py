"""Throttle's announced-window logic (RateWindow, as Confluent sends it), on a manual clock.

`note_window` takes in what an answer says of the window (requests left, seconds until it
resets); `acquire` spends it locally and holds requests back when it is spent.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from alertsim.core import ManualClock
from alertsync.errors import RateLimitedError
from alertsync.platforms.http import RateWindow, Throttle


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=0.0)


def sleeper(clock: ManualClock) -> Callable[[float], Coroutine[Any, Any, None]]:
    """A sleep that lets time pass to its end on `clock`, and no further (shared by waiters)."""

    async def sleep(seconds: float) -> None:
        until = clock() + seconds
        await asyncio.sleep(0)  # a suspension point, as a real sleep is
        if clock() < until:
            clock.advance(until - clock())

    return sleep


def throttle_on(clock: ManualClock, max_wait: float = 5.0) -> Throttle:
    return Throttle(None, clock=clock, sleep=sleeper(clock), max_wait=max_wait)


def window(remaining: int, reset: float, limit: int | None = 60) -> RateWindow:
    return RateWindow(remaining=remaining, reset_seconds=reset, limit=limit)


async def spend(throttle: Throttle, times: int) -> None:
    for _ in range(times):
        await throttle.acquire()


# -- note_window --------------------------------------------------------------------------------


def test_the_first_answer_sets_the_window_less_the_requests_still_in_flight(
    clock: ManualClock,
) -> None:
    throttle = throttle_on(clock)
    clock.advance(100)
    throttle.note_window(window(10, 30), in_flight=3)
    assert throttle.window_remaining == 7
    assert throttle.window_ends == 130
    assert throttle.window_limit == 60


def test_the_reset_is_relative_to_now_never_an_epoch(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    clock.advance(1_800_000_000)
    throttle.note_window(window(0, 30), in_flight=0)
    # As an epoch, 30 would be long past and nothing would be held back.
    assert throttle.window_ends == 1_800_000_030


def test_out_of_order_answers_within_one_window_keep_the_lowest_count(
    clock: ManualClock,
) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(5, 30), in_flight=0)
    throttle.note_window(window(8, 30), in_flight=0)  # an older answer arriving late
    assert throttle.window_remaining == 5
    clock.advance(0.5)
    throttle.note_window(window(9, 29.5), in_flight=0)
    assert throttle.window_remaining == 5


async def test_answers_never_give_back_what_was_spent_locally(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(10, 30), in_flight=0)
    await spend(throttle, 7)
    # Sent before most of ours reached the platform: it still counts 8 left.
    throttle.note_window(window(8, 30), in_flight=0)
    assert throttle.window_remaining == 3


def test_an_answer_from_a_newer_window_replaces_the_count(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(0, 5), in_flight=0)
    clock.advance(6)
    throttle.note_window(window(59, 60), in_flight=2)
    assert throttle.window_remaining == 57
    assert throttle.window_ends == 66


async def test_an_answer_from_an_ended_window_is_ignored(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(3, 5, limit=10), in_flight=0)
    clock.advance(6)
    await throttle.acquire()  # the window rolled over: 10 again, end unknown
    throttle.note_window(window(9, 30, limit=10), in_flight=0, sent_at=6)  # the new one's first
    assert (throttle.window_remaining, throttle.window_ends) == (9, 36)
    # The old window's last answer, sent before it ended, arrives late.
    throttle.note_window(window(0, 0, limit=10), in_flight=0, sent_at=4)
    assert (throttle.window_remaining, throttle.window_ends) == (9, 36)


async def test_an_answer_late_in_a_window_is_never_taken_for_an_ended_one(
    clock: ManualClock,
) -> None:
    """A reset read mid-window is what is left of it, not its length: an answer to a request
    sent in the window's middle still counts, and the spent window holds everything back."""
    throttle = throttle_on(clock)
    throttle.note_window(window(4, 10, limit=5), in_flight=0, sent_at=0)
    clock.advance(7)
    throttle.note_window(window(3, 3, limit=5), in_flight=0, sent_at=6.9)
    clock.advance(0.5)
    throttle.note_window(window(0, 3, limit=5), in_flight=0, sent_at=6.95)
    assert (throttle.window_remaining, throttle.window_ends) == (0, 10.5)
    assert throttle.expected_wait() == 3


async def test_a_window_that_shrinks_while_we_run_wins_at_once(clock: ManualClock) -> None:
    """The platform moves the account from 60 per 60 s to 5 per 10 s (issue 14.5)."""
    throttle = throttle_on(clock)
    throttle.note_window(window(50, 60, limit=60), in_flight=0, sent_at=0)
    clock.advance(2)
    throttle.note_window(window(4, 10, limit=5), in_flight=0, sent_at=1.5)
    assert (throttle.window_remaining, throttle.window_ends, throttle.window_limit) == (4, 12, 5)
    await spend(throttle, 4)
    with pytest.raises(RateLimitedError):
        await throttle.acquire()  # spent: nothing more goes until 12, not until 60


async def test_the_same_limit_announced_to_end_sooner_wins(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(50, 60, limit=60), in_flight=0, sent_at=0)
    clock.advance(1)
    throttle.note_window(window(0, 5, limit=60), in_flight=0, sent_at=0.5)
    assert (throttle.window_remaining, throttle.window_ends) == (0, 6)


def test_an_announced_window_ends_a_run_of_429s(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    throttle.backoff()
    throttle.backoff()
    throttle.note_window(window(1, 1), in_flight=0)
    assert throttle.strikes == 0


# -- acquire ------------------------------------------------------------------------------------


async def test_requests_spend_the_window_then_a_long_wait_is_refused_without_waiting(
    clock: ManualClock,
) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(3, 42), in_flight=0)
    await spend(throttle, 3)
    assert throttle.window_remaining == 0

    with pytest.raises(RateLimitedError) as caught:
        await throttle.acquire("list integrations")
    assert caught.value.retry_after == 42
    assert "cannot list integrations: rate limited by the platform until" in str(caught.value)
    assert "(42s)" in str(caught.value)
    assert clock() == 0
    assert throttle.window_remaining == 0  # a refused request spends nothing


async def test_a_short_wait_is_waited_out_and_the_new_window_opens(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(1, 3, limit=60), in_flight=0)
    await throttle.acquire()
    await throttle.acquire()  # spent: waits the 3 s to the reset
    assert clock() == 3
    assert throttle.window_remaining == 59
    assert throttle.window_ends == 6  # as long as the last, until an answer says when it ends
    throttle.note_window(window(59, 60, limit=60), in_flight=0)
    assert (throttle.window_remaining, throttle.window_ends) == (59, 63)


async def test_rollover_to_a_new_window_restores_the_announced_limit(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(0, 30, limit=5), in_flight=0)
    clock.advance(30)
    await spend(throttle, 5)  # the whole new window, no waiting
    assert clock() == 30
    assert throttle.window_remaining == 0


async def test_without_an_announced_limit_a_new_window_is_unknown_not_empty(
    clock: ManualClock,
) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(0, 10, limit=None), in_flight=0)
    clock.advance(10)
    await spend(throttle, 100)
    assert throttle.window_remaining is None


async def test_a_block_after_a_429_outlasts_a_window_with_room(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(50, 60), in_flight=0)
    throttle.block(20)
    with pytest.raises(RateLimitedError) as caught:
        await throttle.acquire()
    assert caught.value.retry_after == 20


async def test_concurrent_callers_never_spend_more_than_the_window(clock: ManualClock) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(10, 60), in_flight=0)
    results = await asyncio.gather(*(throttle.acquire() for _ in range(30)), return_exceptions=True)
    passed = [result for result in results if result is None]
    refused = [result for result in results if isinstance(result, RateLimitedError)]
    assert (len(passed), len(refused)) == (10, 20)


# -- defects found while building the Confluent client, fixed -------------------------------------


async def test_waiters_woken_at_the_reset_do_not_overrun_the_new_window(
    clock: ManualClock,
) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(0, 3, limit=10), in_flight=0)  # spent; a 3 s (inline) wait

    sent_at: list[float] = []

    async def send() -> None:
        await throttle.acquire()
        sent_at.append(clock())

    await asyncio.gather(*(send() for _ in range(25)))

    # Each window (ending 3, 6, 9 s) takes at most its 10; the rest wait for the next.
    assert sorted(sent_at) == [3.0] * 10 + [6.0] * 10 + [9.0] * 5


async def test_a_new_window_spent_before_its_first_answer_is_a_rate_limited_error(
    clock: ManualClock,
) -> None:
    throttle = throttle_on(clock)
    throttle.note_window(window(0, 30, limit=2), in_flight=0)
    clock.advance(30)
    await spend(throttle, 2)
    with pytest.raises(RateLimitedError):
        await throttle.acquire()


async def test_a_late_answer_from_the_current_window_is_not_taken_for_a_new_one(
    clock: ManualClock,
) -> None:
    throttle = throttle_on(clock)
    # The platform's window ends at t=59.99; it answers "60 s" (whole seconds, rounded up).
    throttle.note_window(window(59, 60), in_flight=0)
    await spend(throttle, 59)
    # An answer the platform sent at t=0.01 (reset 60 s) arrives 1.5 s later.
    clock.advance(1.5)
    throttle.note_window(window(58, 60), in_flight=8)
    assert throttle.window_remaining == 0, "requests already spent were given back"
