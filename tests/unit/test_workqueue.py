"""The account work queue's order: urgent first, creates and repairs sharing the rest."""

from alertsync.workqueue import Work, WorkQueue


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def drain(queue: WorkQueue) -> list[str]:
    order = []
    while (job := queue.pop()) is not None:
        order.append(job.uid)
        queue.done(job)
    return order


def test_deletions_and_changes_go_before_creates() -> None:
    queue = WorkQueue(Clock())
    for n in range(3):
        queue.put(f"new{n}", "team", Work.CREATE)
    queue.put("gone", "team", Work.DELETE)
    queue.put("edited", "team", Work.CHANGE)
    assert drain(queue)[:2] == ["gone", "edited"]


def test_a_drift_repair_is_not_starved_by_a_mass_create() -> None:
    queue = WorkQueue(Clock())
    for n in range(1000):
        queue.put(f"new{n}", "team", Work.CREATE)
    queue.put("drifted", "team", Work.REPAIR)
    order = drain(queue)
    assert order.index("drifted") < 10
    assert len(order) == 1001


def test_creates_get_most_of_the_account_when_both_wait() -> None:
    queue = WorkQueue(Clock())
    for n in range(100):
        queue.put(f"new{n}", "team", Work.CREATE)
        queue.put(f"drift{n}", "team", Work.REPAIR)
    first = drain(queue)[:50]
    assert sum(uid.startswith("new") for uid in first) >= 35


def test_namespaces_take_turns_within_a_class() -> None:
    queue = WorkQueue(Clock())
    for n in range(10):
        queue.put(f"a{n}", "big-team", Work.CREATE)
    queue.put("b0", "small-team", Work.CREATE)
    assert drain(queue)[:2] == ["a0", "b0"]


def test_one_job_per_integration_upgraded_by_a_more_urgent_cause() -> None:
    queue = WorkQueue(Clock())
    queue.put("x", "team", Work.OBSERVE)
    queue.put("y", "team", Work.CREATE)
    job = queue.put("x", "team", Work.CHANGE)
    assert job.work is Work.CHANGE
    assert len(queue) == 2
    assert drain(queue) == ["x", "y"]


def test_a_cause_during_the_pass_runs_it_once_more() -> None:
    queue = WorkQueue(Clock())
    queue.put("x", "team", Work.CREATE)
    running = queue.pop()
    assert running is not None
    queue.put("x", "team", Work.CHANGE)  # an edit while the create runs
    assert queue.pop() is None  # not twice at once
    queue.done(running)
    again = queue.pop()
    assert again is not None
    assert (again.uid, again.work) == ("x", Work.CHANGE)


def test_a_retry_waits_its_delay_unless_a_person_changes_something() -> None:
    clock = Clock()
    queue = WorkQueue(clock)
    queue.put("x", "team", Work.CREATE)
    job = queue.pop()
    assert job is not None
    queue.retry(job, 30.0)
    assert queue.pop() is None
    assert queue.next_due() == 30.0
    clock.now = 30.0
    retried = queue.pop()
    assert retried is not None
    assert retried.attempt == 1
    queue.retry(retried, 60.0)
    queue.put("x", "team", Work.CHANGE)  # a new generation: no backoff
    fresh = queue.pop()
    assert fresh is not None
    assert (fresh.work, fresh.attempt) == (Work.CHANGE, 0)


def test_a_new_generation_of_an_object_never_created_skips_the_backoff_too() -> None:
    clock = Clock()
    queue = WorkQueue(clock)
    queue.put("x", "team", Work.CREATE)
    for delay in (30.0, 60.0):
        job = queue.pop()
        assert job is not None
        queue.retry(job, delay)
        clock.now += delay
    job = queue.pop()
    assert job is not None
    queue.retry(job, 120.0)
    assert queue.pop() is None
    queue.put("x", "team", Work.CREATE, fresh=True)  # the spec fixed: still a create
    fresh = queue.pop()
    assert fresh is not None
    assert (fresh.work, fresh.attempt) == (Work.CREATE, 0)


def test_a_new_generation_during_a_failing_create_runs_next_without_delay() -> None:
    clock = Clock()
    queue = WorkQueue(clock)
    queue.put("x", "team", Work.CREATE)
    job = queue.pop()
    assert job is not None
    queue.put("x", "team", Work.CREATE, fresh=True)  # edited while the create runs
    queue.retry(job, 300.0)
    again = queue.pop()
    assert again is not None
    assert (again.work, again.attempt) == (Work.CREATE, 0)


def test_the_resync_does_not_cut_a_backoff_short() -> None:
    clock = Clock()
    queue = WorkQueue(clock)
    queue.put("x", "team", Work.CREATE)
    job = queue.pop()
    assert job is not None
    queue.retry(job, 30.0)
    queue.put("x", "team", Work.REPAIR)
    assert queue.pop() is None


def test_a_discarded_job_is_gone_from_every_lane() -> None:
    clock = Clock()
    queue = WorkQueue(clock)
    queue.put("x", "team", Work.CREATE)
    queue.put("y", "team", Work.CREATE)
    queue.discard("x")
    assert "x" not in queue
    assert drain(queue) == ["y"]
    queue.put("z", "team", Work.CREATE)
    job = queue.pop()
    assert job is not None
    queue.retry(job, 5.0)
    queue.discard("z")
    clock.now = 10.0
    assert queue.pop() is None
    assert len(queue) == 0


def test_ahead_of_counts_what_goes_first() -> None:
    queue = WorkQueue(Clock())
    for n in range(5):
        queue.put(f"new{n}", "team", Work.CREATE)
    queue.put("gone", "team", Work.DELETE)
    last = queue.put("new9", "team", Work.CREATE)
    assert queue.ahead_of(last) == 6
    assert queue.ready() == 7
