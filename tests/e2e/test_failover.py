"""Failover: replicas of the operator peering through kopf, as the chart runs two or more.

Each replica is the real operator in its own process (tests/support/failover.py); each
platform request carries its replica's Pod name, so the simulators' logs say who sent
what. Three takeovers, each while integrations are being created:

- the active replica is SIGKILLed (a node lost) with a drift repair on its way to the
  platform: the standby takes over once the dead one's peering record expires, finishes
  the creates and the repairs, and nothing is duplicated, orphaned, lost, or counted as
  drift that was not (nor left uncounted);
- a rolling update: SIGTERM to the active replica while its creates wait out a 429 in
  process; it withdraws its record on the way out, and the standby takes over within
  seconds, not a peering lifetime;
- a rolling update whose new Pod drew a higher priority than the active one: kopf pauses
  the active one (it keeps running) while its creates wait out a 429, and from then on
  it must send nothing.

Throughout, one replica at a time sends requests for a platform account, and a replica
that handed over never sends again (from the simulators' request logs, per replica).

`make test` runs them with FAILOVER_N=20 integrations and a 10 s peering lifetime for the
SIGKILL case (kopf's default, kept by the chart, is 60 s), in about 55 s; `make
failover` runs them with 100 and the chart's 60 s, in about 2 minutes. Each reports its
takeover time and the platform requests per replica, printed at the end of the run in a
section "failover takeover times" (tests/support/summary.py: also under xdist).
"""

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from alertsim.grafana_oncall import GrafanaOnCallSimulator
from tests.support.failover import PlatformLog, Replica, Sent, install_peering, keepalives
from tests.support.sandbox import TOKEN, Sandbox, ready
from tests.support.summary import SUMMARY
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

N = int(os.environ.get("FAILOVER_N", "20"))
# The SIGKILL case waits for the dead replica's record to expire: this long at most.
KILL_LIFETIME = int(os.environ.get("FAILOVER_LIFETIME", "10"))
# A replica that stops cleanly withdraws its record: the next one must act within this.
SECONDS_AFTER_SIGTERM = 10.0
# Creates arrive over this long in the rolling-update cases: work keeps coming throughout.
TRICKLE_SECONDS = 10.0
OTHER_TOKEN = "e2e-failover-second-account-8c1d"
DRIFTED_NAME = "renamed by hand"
Obj = dict[str, Any]
RecordProperty = Callable[[str, object], None]  # pytest's record_property fixture


@dataclass
class Cluster:
    """The sandbox with two OnCall accounts, the peering object, and the replicas."""

    box: Sandbox
    logs: Path
    sims: dict[str, GrafanaOnCallSimulator]
    sent: PlatformLog
    replicas: list[Replica] = field(default_factory=list)

    def start(
        self, name: str, priority: int, lifetime: int | None = None, *, primed: bool = False
    ) -> Replica:
        replica = Replica.start(
            name, priority, self.box.kubeconfig, self.logs, lifetime=lifetime, primed=primed
        )
        self.replicas.append(replica)
        return replica

    def wait_active(self, replica: Replica) -> None:
        wait_for(replica.resumed, timeout=30, interval=0.1)

    def join(self, *replicas: Replica) -> None:
        """Let primed standbys run, and wait for each one's keep-alive: it saw the peering,
        and a higher priority there."""
        for replica in replicas:
            wait_for(replica.primed, timeout=30)
            replica.go()
        wait_for(lambda: {r.name for r in replicas} <= set(keepalives(self.box.k8s)), timeout=30)
        assert not any(r.resumed() for r in replicas), self.tails()

    def create(self, names: Sequence[str], offset: int = 0) -> None:
        for index, name in enumerate(names, start=offset):
            platform = list(self.sims)[index % len(self.sims)]
            self.box.create(name, platform=platform, displayName=f"failover {name}")

    def trickle(self, names: Sequence[str], seconds: float) -> threading.Thread:
        """Create the integrations one by one over `seconds`, from a thread: work keeps
        arriving while replicas start, stop and take over."""

        def run() -> None:
            for index in range(len(names)):
                self.create(names[index : index + 1], offset=index)
                time.sleep(seconds / len(names))

        thread = threading.Thread(target=run, name="trickle", daemon=True)
        thread.start()
        return thread

    def sim_of(self, name: str) -> GrafanaOnCallSimulator:
        obj = self.box.get(name)
        assert obj is not None, name
        return self.sims[str(obj["spec"]["platformRef"]["name"])]

    def creates(self) -> int:
        return sum(1 for sent in self.sent.sent() if sent.method == "POST")

    def wait_converged(self, names: Sequence[str], timeout: float) -> float:
        """Every integration Ready for its current generation, and its platform object named
        as declared (drift repaired); returns when (time.monotonic())."""

        def converged() -> bool:
            objs = [self.box.get(name) for name in names]
            if not all(
                obj is not None
                and ready(obj.get("status") or {}) == "True"
                and obj["status"].get("observedGeneration") == obj["metadata"]["generation"]
                for obj in objs
            ):
                return False
            declared = {f"failover {name}" for name in names}
            named = {str(r["name"]) for sim in self.sims.values() for r in sim.integrations()}
            return declared <= named

        try:
            wait_for(converged, timeout=timeout, interval=0.2)
        except AssertionError:
            waiting = [n for n in names if ready(self.box.status(n)) != "True"]
            raise AssertionError(f"not Ready: {waiting[:10]}\n{self.tails()}") from None
        return time.monotonic()

    def platform_id(self, name: str) -> str:
        return str(self.box.status(name)["webhookId"])

    def tails(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {r.name}\n{r.output()[-chars:]}" for r in self.replicas)

    def check_end_state(self, names: Sequence[str], drifted: Sequence[str] = ()) -> None:
        """One platform object per integration and none else; driftCount exactly as injected."""
        objs = {name: self.box.get(name) for name in names}
        uids = {str(obj["metadata"]["uid"]): name for name, obj in objs.items() if obj}
        held: dict[str, list[str]] = {}
        strays: list[Obj] = []
        for sim in self.sims.values():
            for remote in sim.integrations():
                uid = str(remote["description_short"]).removeprefix("managed-by=alertsync uid=")
                if uid in uids:
                    held.setdefault(uids[uid], []).append(str(remote["id"]))
                else:
                    strays.append(remote)
        assert strays == [], "orphans on the platforms"
        duplicated = {name: ids for name, ids in held.items() if len(ids) != 1}
        assert duplicated == {}, "integrations with more than one platform object"
        assert sorted(held) == sorted(names), "integrations with no platform object"
        for name in names:
            status = self.box.status(name)
            assert [status["webhookId"]] == held[name], name
            expected = 1 if name in drifted else 0
            assert status.get("driftCount", 0) == expected, (name, status.get("lastDrift"))

    def check_one_at_a_time(self, order: Sequence[str]) -> None:
        """Per account, the replicas took turns in this order, each once: never two at once,
        and never back once handed over (the order lists every replica that may act)."""
        for account in self.sims:
            turns = self.sent.turns(account)
            assert turns == [name for name in order if name in turns], (account, turns)

    def sent_after(self, replica: Replica, took_over: Sent) -> list[Sent]:
        """`replica`'s platform requests, on any account, from `took_over` (the first
        request of the replica that took over) on."""
        return [s for s in self.sent.sent(replica.name) if s.at >= took_over.at]

    def check_silent_after(self, replica: Replica, took_over: Sent) -> None:
        """No request reaches a platform from the replica that handed over, on any account,
        once the one that took over has started its work (`took_over`, its first request)."""
        late = self.sent_after(replica, took_over)
        at = took_over.at
        assert late == [], [(s.account, s.method, s.route, round(s.at - at, 2)) for s in late]

    def leak_check(self) -> None:
        for replica in self.replicas:
            for secret in (TOKEN, OTHER_TOKEN):
                assert secret not in replica.output(), replica.name


@pytest.fixture
def cluster(sandbox: Sandbox, tmp_path: Path) -> Iterator[Cluster]:
    install_peering(sandbox.k8s)
    other = GrafanaOnCallSimulator(tokens={OTHER_TOKEN: "admin"})
    other_url = sandbox.serve(other)
    sims = {"oncall": sandbox.oncall, "oncall-b": other}
    sent = PlatformLog()
    for account, sim in sims.items():
        sent.watch(account, sim)
        sim.faults.latency = 0.02  # a little of a real platform's: work overlaps the takeover
    sandbox.apply_platform(resync="2s")
    sandbox.add_platform(
        "oncall-b", "grafana-oncall", other_url, {"token": OTHER_TOKEN}, {"key": "token"}, "2s"
    )
    logs = tmp_path / "replicas"
    logs.mkdir()
    cluster = Cluster(sandbox, logs, sims, sent)
    try:
        yield cluster
    finally:
        for replica in cluster.replicas:
            replica.stop()
    cluster.leak_check()


def names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{index:03d}" for index in range(count)]


def report(record_property: RecordProperty, cluster: Cluster, lines: Sequence[str]) -> None:
    """Printed at the end of the run, even when pytest captures output or runs the tests on
    xdist workers: the takeover times are the point."""
    table = cluster.sent.counts([r.name for r in cluster.replicas], list(cluster.sims))
    text = "\n".join(lines) + "\nplatform requests per replica and account:\n" + table
    record_property(SUMMARY + "failover takeover times", text)


def test_the_standby_finishes_what_a_killed_replica_was_doing(
    cluster: Cluster, record_property: RecordProperty
) -> None:
    active = cluster.start("alertsync-a", 300, lifetime=KILL_LIFETIME)
    standby = cluster.start("alertsync-b", 200, lifetime=KILL_LIFETIME, primed=True)
    cluster.wait_active(active)
    cluster.join(standby)

    first, second = names("early", N // 2), names("late", N - N // 2)
    cluster.create(first)
    cluster.wait_converged(first, timeout=60)
    # Drift behind the operator's back (consecutive names: both accounts), while more
    # integrations arrive. The first repair on each account takes the platform a second:
    # the active replica is killed the moment one reaches it, with creates in flight too.
    drifted = first[: max(2, N // 10)]
    for sim in cluster.sims.values():
        sim.faults.delay(1.0, method="PUT", times=1)
    for name in drifted:
        cluster.sim_of(name).rename(cluster.platform_id(name), DRIFTED_NAME)
    creating = cluster.trickle(second, seconds=6.0)
    wait_for(lambda: cluster.sent.first(active.name, method="PUT"), timeout=30, interval=0.005)

    last_seen = keepalives(cluster.box.k8s)[active.name]["lastseen"]
    killed_at = active.signal(signal.SIGKILL)
    active.wait(10)
    created_before = cluster.creates()
    time.sleep(1.5)  # the repair in flight lands, with no one left to record it
    repaired_before = [
        name
        for name in drifted
        if (cluster.sim_of(name).get(cluster.platform_id(name)) or {}).get("name") != DRIFTED_NAME
    ]
    creating.join()

    converged_at = cluster.wait_converged(first + second, timeout=KILL_LIFETIME + 60)
    took_over = cluster.sent.first(standby.name)
    assert took_over is not None, cluster.tails()
    takeover = took_over.at - killed_at
    report(
        record_property,
        cluster,
        [
            f"SIGKILL of the active replica, {N} integrations on 2 accounts, peering lifetime "
            f"{KILL_LIFETIME} s:",
            f"  its last keep-alive was {_age(last_seen, killed_at):.1f} s before the kill; the "
            f"standby's first platform request came {takeover:.1f} s after it",
            f"  killed with a drift repair in flight: {created_before} of {N} creates sent, "
            f"{len(repaired_before)} of {len(drifted)} drifts repaired by then; all {N} Ready "
            f"{converged_at - killed_at:.1f} s after the kill",
        ],
    )
    assert takeover <= KILL_LIFETIME + 5, cluster.tails()
    cluster.check_silent_after(active, took_over)  # dead: it cannot; the rule, stated
    cluster.check_one_at_a_time([active.name, standby.name])
    cluster.check_end_state(first + second, drifted)


def test_a_rolling_update_hands_over_within_seconds(
    cluster: Cluster, record_property: RecordProperty
) -> None:
    """kopf's default 60 s lifetime here: only a withdrawn record makes the takeover quick.
    The stopping replica is in the middle of its work, which it must not finish once the
    standby has begun."""
    active = cluster.start("alertsync-a", 300)
    standby = cluster.start("alertsync-b", 200, primed=True)
    surge = cluster.start("alertsync-c", 100, primed=True)  # the rollout's new Pod, below both
    cluster.wait_active(active)
    cluster.join(standby, surge)

    everything = names("item", N)
    trickled, burst = everything[: N // 2], everything[N // 2 :]
    creating = cluster.trickle(trickled, seconds=TRICKLE_SECONDS / 2)
    wait_for(lambda: cluster.creates() >= N // 4, timeout=60, interval=0.005)
    # Busy as it is told to stop: a 429 (Retry-After 1 s) on each account, then a burst
    # of creates, which wait it out in process.
    for sim in cluster.sims.values():
        sim.faults.throttle(retry_after=1, method="POST")
    wait_for(lambda: not any(sim.faults.pending for sim in cluster.sims.values()), timeout=30)
    cluster.create(burst, offset=len(trickled))
    terminated_at = active.signal(signal.SIGTERM)
    took_over = wait_for(lambda: cluster.sent.first(standby.name), timeout=70, interval=0.01)
    exit_code = active.wait(30)  # from here on, its requests are all in the log
    stopped_in = time.monotonic() - terminated_at  # an upper bound: waited for after the takeover
    creating.join()

    takeover = took_over.at - terminated_at
    last = cluster.sent.sent(active.name)[-1]
    late = cluster.sent_after(active, took_over)
    report(
        record_property,
        cluster,
        [
            f"SIGTERM to the active replica, {N} integrations, kopf's 60 s peering lifetime:",
            f"  the standby's first platform request came {takeover:.2f} s after the signal; "
            f"the stopping replica's last {last.at - terminated_at:+.2f} s from it; it exited "
            f"within {stopped_in:.1f} s; {len(late)} requests of the stopping one after the "
            "standby's first",
        ],
    )
    assert exit_code == 0, active.output()[-3000:]
    assert takeover < SECONDS_AFTER_SIGTERM, cluster.tails()
    cluster.check_silent_after(active, took_over)
    cluster.check_one_at_a_time([active.name, standby.name])
    assert cluster.sent.sent(surge.name) == []  # one standby took over, not both
    cluster.wait_converged(everything, timeout=60)
    cluster.check_end_state(everything)


def test_a_replica_paused_for_a_higher_priority_sends_nothing_more(
    cluster: Cluster, record_property: RecordProperty
) -> None:
    """A rollout's new Pod draws its priority at random: half the time it outranks the
    active replica, which kopf then pauses while it still runs, busy. Here the active one
    is waiting out a platform's 429 (Retry-After 4 s, waited in process) when the new one
    joins: what it was about to send must not go out."""
    active = cluster.start("alertsync-a", 100)
    newcomer = cluster.start("alertsync-b", 300, primed=True)
    cluster.wait_active(active)
    wait_for(newcomer.primed, timeout=30)
    everything = names("item", N)
    creating = cluster.trickle(everything, seconds=TRICKLE_SECONDS)
    wait_for(lambda: cluster.creates() >= N // 4, timeout=60, interval=0.005)
    for sim in cluster.sims.values():
        sim.faults.throttle(retry_after=4, method="POST")
    wait_for(lambda: not any(sim.faults.pending for sim in cluster.sims.values()), timeout=30)
    joined_at = newcomer.go()
    took_over = wait_for(lambda: cluster.sent.first(newcomer.name), timeout=60, interval=0.01)
    creating.join()
    # What the paused one had waiting is due 4 s after the 429s: give it that, and a second.
    time.sleep(max(0.0, joined_at + 5.0 - time.monotonic()))
    paused_at = active.logged_at("Pausing operations in favour of")
    terminated_at = active.signal(signal.SIGTERM)  # paused, it still runs until its Pod goes
    exit_code = active.wait(30)  # from here on, its requests are all in the log
    late = cluster.sent_after(active, took_over)
    last = cluster.sent.sent(active.name)[-1]
    pause = "never" if paused_at is None else f"{paused_at - joined_at:.2f} s after the new one"
    report(
        record_property,
        cluster,
        [
            f"A new replica with a higher priority joins, {N} integrations, the active one "
            "waiting out a 429:",
            f"  it paused {pause} joined; its last platform request came "
            f"{last.at - joined_at:+.2f} s from the join, the new one's first "
            f"{took_over.at - joined_at:+.2f} s; {len(late)} requests of the paused one after that",
            f"  the paused one exited {time.monotonic() - terminated_at:.1f} s after SIGTERM",
        ],
    )
    cluster.check_silent_after(active, took_over)
    assert paused_at is not None, active.output()[-3000:]
    assert exit_code == 0, active.output()[-3000:]
    cluster.check_one_at_a_time([active.name, newcomer.name])
    cluster.wait_converged(everything, timeout=60)
    cluster.check_end_state(everything)


def _age(lastseen: str, at: float) -> float:
    """Seconds between a keep-alive's ISO timestamp and a monotonic instant."""
    wall = time.time() - (time.monotonic() - at)
    return wall - datetime.fromisoformat(lastseen).timestamp()
