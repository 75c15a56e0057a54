"""The seeded fault schedule, the injector that arms it, and the fault kinds it drives.

The kinds the simulators gained for it (a lagging listing, revoked credentials, rules
aimed at a route or at a listing without a filter, a hook that sees every request) are
checked here too, against the simulators' own in-process transports.
"""

from __future__ import annotations

import base64
import collections
import email.utils
from collections.abc import Callable

import httpx
import pytest

from alertsim.confluent import ApiKey, ConfluentSimulator
from alertsim.core import FaultKind, FaultRule, ManualClock, Simulator
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.ilert import ILertSimulator
from alertsim.mackerel import READ_WRITE, MackerelSimulator
from alertsim.schedule import DEFAULT_RATES, Fault, Injector, Kind, Routes, make_schedule
from alertsim.zstack import ZStackSimulator, password_hash

BASE = "http://sim.test"
TOKEN = "schedule-test-token"
INTEGRATIONS = "/api/v1/integrations/"
PLATFORMS = ("grafana-oncall", "ilert", "mackerel", "confluent", "zstack")


def oncall(clock: ManualClock | None = None) -> GrafanaOnCallSimulator:
    return GrafanaOnCallSimulator(
        tokens={TOKEN: "admin"}, base_url=BASE, rate=None, clock=clock or ManualClock(), seed=3
    )


def client(sim: Simulator, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.MockTransport(sim.handle),
        base_url=BASE,
        headers={"Authorization": TOKEN} if headers is None else headers,
    )


def oncall_routes() -> Routes:
    return Routes(
        create=INTEGRATIONS,
        listing=INTEGRATIONS,
        listing_params={"name": None},
        later_page=lambda request: int(request.url.params.get("page", "1")) > 1,
        announces_wait=True,
    )


# -- the schedule ---------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another() -> None:
    first = make_schedule(7, 12, PLATFORMS)
    assert make_schedule(7, 12, PLATFORMS) == first
    assert make_schedule(8, 12, PLATFORMS) != first
    assert {f.round for f in first.faults} == set(range(12))
    assert {f.platform for f in first.faults} == set(PLATFORMS)


def test_each_kind_comes_at_its_rate_on_average() -> None:
    rounds = 400
    schedule = make_schedule(1, rounds, ("p",))
    armed = schedule.armed()
    for kind, rate in DEFAULT_RATES.items():
        assert armed[kind] == pytest.approx(rate * rounds, rel=0.2), kind


def test_a_rate_of_zero_arms_none_and_a_whole_rate_arms_that_many_every_round() -> None:
    rates = dict.fromkeys(Kind, 0.0) | {Kind.STALE: 2.0}
    schedule = make_schedule(5, 3, ("p", "q"), rates, max_lag=2.0)
    assert schedule.armed() == collections.Counter({Kind.STALE: 12})
    for number in range(3):
        assert len(schedule.round(number, "p")) == 2
    assert all(0.5 <= f.seconds <= 2.0 and 1 <= f.times <= 3 for f in schedule.faults)


def test_drawn_parameters_stay_in_their_ranges() -> None:
    schedule = make_schedule(11, 200, ("p",))
    by_kind: dict[Kind, list[Fault]] = collections.defaultdict(list)
    for fault in schedule.faults:
        by_kind[fault.kind].append(fault)
    assert {f.status for f in by_kind[Kind.STATUS]} == {500, 502, 503}
    assert {f.retry_after for f in by_kind[Kind.THROTTLE]} == {1, 2, 3}
    assert all(0.5 <= f.seconds <= 2 for f in by_kind[Kind.LATENCY])
    # A timeout costs the operator a whole request timeout: one request each.
    assert {f.times for f in by_kind[Kind.TIMEOUT]} == {1}
    assert {f.times for f in by_kind[Kind.LOST_CREATE]} == {1}


def test_kinds_are_not_always_armed_in_the_same_order() -> None:
    # Rules fire first-armed first: a fixed order would let one kind take every request.
    schedule = make_schedule(2, 50, ("p",), dict.fromkeys(Kind, 1.0))
    firsts = {schedule.round(n)[0].kind for n in range(50)}
    assert len(firsts) > 3


# -- the injector -------------------------------------------------------------------------


async def test_each_kind_arms_its_rule_and_fired_faults_are_counted() -> None:
    sim = oncall()
    injector = Injector(sim, oncall_routes())
    injector.arm(
        [
            Fault(0, "p", Kind.STATUS, times=1, status=502),
            Fault(0, "p", Kind.THROTTLE, times=1, retry_after=2),
            Fault(0, "p", Kind.LOST_CREATE),
        ]
    )
    assert [(r.kind, r.status, r.route, r.method) for r in sim.faults.pending] == [
        (FaultKind.STATUS, 502, None, None),
        (FaultKind.THROTTLE, 503, None, None),
        (FaultKind.LOSE_RESPONSE, 503, INTEGRATIONS, "POST"),
    ]
    async with client(sim) as api:
        assert (await api.get(INTEGRATIONS)).status_code == 502
        throttled = await api.get(INTEGRATIONS)
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "2"
        # A read of one object is no create: the lost answer waits for a create.
        assert (await api.get(f"{INTEGRATIONS}CNOPE/")).status_code == 404
        with pytest.raises(httpx.ReadTimeout):
            await api.post(INTEGRATIONS, json={"type": "webhook", "name": "made anyway"})
    assert [i["name"] for i in sim.integrations()] == ["made anyway"]
    assert injector.fired == {Kind.STATUS: 1, Kind.THROTTLE: 1, Kind.LOST_CREATE: 1}
    assert injector.armed == {Kind.STATUS: 1, Kind.THROTTLE: 1, Kind.LOST_CREATE: 1}


async def test_off_drops_what_never_fired() -> None:
    sim = oncall()
    injector = Injector(sim, oncall_routes(), shift=lambda: True)
    injector.arm([Fault(0, "p", Kind.STATUS, times=3), Fault(0, "p", Kind.SHIFT)])
    injector.off()
    assert sim.faults.pending == []
    assert injector.shifts_pending == 0
    async with client(sim) as api:
        assert (await api.get(INTEGRATIONS)).status_code == 200
    assert injector.fired == {}
    injector.detach()
    assert sim.hooks == []


async def test_a_shift_deletes_ahead_of_a_reader_so_that_one_object_is_never_seen() -> None:
    sim = oncall()
    made = [sim.add_integration("webhook", name=f"object {i:03d}")["id"] for i in range(120)]
    decoys = list(made[:10])

    def shift() -> bool:
        sim.remove(decoys.pop(0))
        return True

    injector = Injector(sim, oncall_routes(), shift=shift)
    injector.arm([Fault(0, "p", Kind.SHIFT)])
    seen: list[str] = []
    async with client(sim) as api:
        url: str | None = f"{INTEGRATIONS}?perpage=100"
        while url is not None:
            page = (await api.get(url)).json()
            seen.extend(item["id"] for item in page["results"])
            url = page["next"]
    assert injector.fired == {Kind.SHIFT: 1}
    # The first object was read, then deleted: the 101st slid onto the page already read.
    assert len(seen) == 119
    assert set(made) - set(seen) == {made[100]}


async def test_a_shift_needs_offset_paging() -> None:
    sim = oncall()
    injector = Injector(sim, Routes(create=INTEGRATIONS, listing=INTEGRATIONS), shift=lambda: True)
    injector.arm([Fault(0, "p", Kind.SHIFT)])
    assert injector.shifts_pending == 0
    assert injector.armed == {}


async def test_requests_inside_an_announced_window_are_counted() -> None:
    now = [100.0]
    sim = oncall()
    injector = Injector(sim, oncall_routes(), clock=lambda: now[0], grace=0.25)
    injector.arm([Fault(0, "p", Kind.THROTTLE, retry_after=3)])
    async with client(sim) as api:
        assert (await api.get(INTEGRATIONS)).status_code == 429
        now[0] += 0.1  # under way when the 429 was sent: not the client's fault
        await api.get(INTEGRATIONS)
        now[0] += 1.0
        await api.get(INTEGRATIONS)
        now[0] += 2.0  # the window is over
        await api.get(INTEGRATIONS)
    assert injector.into_windows == 1


async def test_a_429_that_names_no_wait_opens_no_window() -> None:
    now = [100.0]
    sim = ILertSimulator(keys={TOKEN: "admin"})
    routes = Routes(create="/api/alert-sources", listing="/api/alert-sources")
    injector = Injector(sim, routes, clock=lambda: now[0])
    injector.arm([Fault(0, "p", Kind.THROTTLE, retry_after=3)])
    async with client(sim, {"Authorization": f"Bearer {TOKEN}"}) as api:
        throttled = await api.get("/api/alert-sources")
        assert throttled.status_code == 429
        assert "Retry-After" not in throttled.headers
        now[0] += 1.0
        assert (await api.get("/api/alert-sources")).status_code == 200
    assert injector.into_windows == 0


# -- the simulators' fault kinds ------------------------------------------------------------


async def test_a_stale_listing_is_answered_as_it_was_up_to_its_lag_ago() -> None:
    clock = ManualClock()
    sim = oncall(clock)
    async with client(sim) as api:
        sim.faults.stale(5.0, times=None, route=INTEGRATIONS, params={"name": None})
        await api.get(INTEGRATIONS)  # remembered: empty
        created = await api.post(INTEGRATIONS, json={"type": "webhook", "name": "new"})
        id_ = created.json()["id"]
        clock.advance(4)
        assert (await api.get(INTEGRATIONS)).json()["results"] == []
        # A search by name on the same route, and a read of the object, are current.
        named = await api.get(INTEGRATIONS, params={"name": "new"})
        assert [i["id"] for i in named.json()["results"]] == [id_]
        assert (await api.get(f"{INTEGRATIONS}{id_}/")).status_code == 200
        clock.advance(2)  # older than the lag: answered fresh, and remembered anew
        assert [i["id"] for i in (await api.get(INTEGRATIONS)).json()["results"]] == [id_]


async def test_a_stale_rule_with_nothing_recent_answers_fresh_and_fires_as_nothing() -> None:
    sim = oncall()
    fired: list[FaultRule | None] = []
    sim.hooks.append(lambda request, rule: fired.append(rule))
    sim.faults.stale(5.0, route=INTEGRATIONS)
    async with client(sim) as api:
        assert (await api.get(INTEGRATIONS)).status_code == 200
    assert fired == [None]
    assert sim.faults.pending == []


def test_answers_are_only_remembered_once_a_stale_rule_was_armed() -> None:
    sim = oncall()
    assert not sim.faults.remembers
    sim.faults.fail(503)
    assert not sim.faults.remembers
    sim.faults.stale(1.0)
    sim.faults.clear()
    assert sim.faults.remembers


def test_a_rule_with_a_route_or_params_matches_only_those() -> None:
    rule = FaultRule(kind=FaultKind.STATUS, route=INTEGRATIONS, params={"name": None, "x": "1"})
    assert rule.matches("GET", INTEGRATIONS, INTEGRATIONS, {"x": "1"})
    assert not rule.matches("GET", INTEGRATIONS, INTEGRATIONS, {"x": "1", "name": "a"})
    assert not rule.matches("GET", INTEGRATIONS, INTEGRATIONS, {"x": "2"})
    assert not rule.matches("GET", f"{INTEGRATIONS}C1/", f"{INTEGRATIONS}{{id}}/", {"x": "1"})
    # Rules without them match as before, whatever the route.
    assert FaultRule(kind=FaultKind.STATUS, path="/api").matches("GET", INTEGRATIONS)


def _without_ids(body: object) -> object:
    """An error body without its per-answer ids (Confluent numbers each error)."""
    if isinstance(body, dict):
        return {k: _without_ids(v) for k, v in body.items() if k != "id"}
    if isinstance(body, list):
        return [_without_ids(v) for v in body]
    return body


def _mackerel() -> tuple[Simulator, dict[str, str], str]:
    return MackerelSimulator(keys={TOKEN: READ_WRITE}), {"X-Api-Key": TOKEN}, "/api/v0/channels"


def _ilert() -> tuple[Simulator, dict[str, str], str]:
    sim = ILertSimulator(keys={TOKEN: "admin"})
    return sim, {"Authorization": f"Bearer {TOKEN}"}, "/api/alert-sources"


def _confluent() -> tuple[Simulator, dict[str, str], str]:
    sim = ConfluentSimulator(keys={"KEY": ApiKey(TOKEN)}, rate=None)
    basic = base64.b64encode(f"KEY:{TOKEN}".encode()).decode()
    return sim, {"Authorization": f"Basic {basic}"}, "/notifications/v1/integrations"


def _oncall() -> tuple[Simulator, dict[str, str], str]:
    return oncall(), {"Authorization": TOKEN}, INTEGRATIONS


@pytest.mark.parametrize(
    ("make", "refused"),
    [(_oncall, 403), (_ilert, 401), (_mackerel, 403), (_confluent, 401)],
    ids=["grafana-oncall", "ilert", "mackerel", "confluent"],
)
async def test_revoked_credentials_are_refused_as_the_platform_refuses_unknown_ones(
    make: Callable[[], tuple[Simulator, dict[str, str], str]], refused: int
) -> None:
    sim, headers, listing = make()
    async with client(sim, headers) as api:
        assert (await api.get(listing)).status_code == 200
        unknown = await api.get(listing, headers={k: "nobody-knows-this" for k in headers})
        sim.faults.revoke(times=2)
        first, second = await api.get(listing), await api.get(listing)
        assert (first.status_code, second.status_code) == (refused, refused)
        assert _without_ids(first.json()) == _without_ids(unknown.json())
        assert (await api.get(listing)).status_code == 200  # the key works again


async def test_a_revoked_zstack_session_is_refused_and_a_new_login_works() -> None:
    sim = ZStackSimulator(accounts={"admin": "pw"})
    async with client(sim, {}) as api:
        login = await api.put(
            "/zstack/v1/accounts/login",
            json={"logInByAccount": {"accountName": "admin", "password": password_hash("pw")}},
        )
        session = login.json()["inventory"]["uuid"]
        headers = {"Authorization": f"OAuth {session}", "Date": email.utils.formatdate()}
        path = "/zstack/v1/sns/application-endpoints/http"
        sim.faults.revoke()
        refused = await api.get(path, headers=headers)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "ID.1001"
        assert (await api.get(path, headers=headers)).status_code == 200


async def test_every_platform_request_reaches_the_hooks_with_its_fault() -> None:
    sim = oncall()
    seen: list[tuple[str, FaultKind | None]] = []
    sim.hooks.append(
        lambda request, rule: seen.append((request.method, rule.kind if rule else None))
    )
    sim.faults.fail(500)
    async with client(sim) as api:
        await api.get(INTEGRATIONS)
        await api.get(INTEGRATIONS)
        await api.get("/_sim/faults")  # the admin API is not the platform
    assert seen == [("GET", FaultKind.STATUS), ("GET", None)]
