"""`make chaos`: the real operator under a seeded random fault schedule, then the invariants.

One sandbox: the Kubernetes emulator and the five platform simulators on 127.0.0.1, each
holding some objects of someone else's (decoys: they make listings span pages, and must
come through untouched). N AlertIntegrations spread over the five platforms converge
first; then, for a fixed number of rounds, each round arms that round's faults of the
schedule (:mod:`alertsim.schedule`) on every simulator, changes things behind the
operator's back (drifts), and deletes and creates a few integrations. Then the faults go
off, and the soak waits until everything holds, or gives up:

* converged: every integration Ready=True for its generation, with exactly one object on
  its platform, that object the one in ``status.webhookId`` and as the spec declares;
  every deleted integration gone from Kubernetes;
* no duplicates: no integration owns more than one object (owners are told by the marker
  AlertSync writes: the ``managed-by=alertsync uid=...`` description, the iLert name, the
  Mackerel channel name with its ``[alertsync:ns/name]`` suffix);
* no orphans: no object whose owner is deleted or unknown (decoys aside);
* none lost: every integration owns an object;
* every ``driftCount`` equals the drifts injected into that integration's objects;
* every decoy that was not deleted on purpose is as it was made;
* no request reached a platform inside a wait its 429 announced (Grafana OnCall's
  ``Retry-After``, Confluent's ``X-RateLimit-Reset``), beyond what was already under way.

Drifts follow one rule, so that each one injected is one the operator can see: a drift
goes into an object only when the previous drift on it was observed, that is when the
integration's driftCount already counts every drift injected so far and the platform
object is back as declared. Two drifts on one object before the operator looked would be
seen as one change (or as two, depending on timing), and a drift repaired as a side effect
of a spec change is not a drift at all; so the soak makes no spec changes either.

The fault schedule is fixed by the random seed (--seed); which integrations take which
drift, and which are deleted, is drawn from it too, among those ready for it at that moment, which
depends on the operator's timing. The table goes to stdout, everything to a JSON file,
and the exit status is non-zero if any invariant fails.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime
import json
import math
import os
import platform as platform_module
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from alertsim.bench import revision, stop_operator
from alertsim.confluent import ApiKey, ConfluentSimulator
from alertsim.confluent import Rate as ConfluentRate
from alertsim.core import Simulator
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.ilert import ILertSimulator
from alertsim.kubeapi import ApiError, EmulatorThread, StrictEmulator
from alertsim.mackerel import READ_WRITE, MackerelSimulator
from alertsim.schedule import (
    DEFAULT_RATES,
    LABELS,
    Injector,
    Kind,
    Routes,
    Schedule,
    make_schedule,
)
from alertsim.server import SimulatorThread
from alertsim.zstack import ZStackSimulator

__all__ = ["PLATFORMS", "Soak", "main", "parse_args"]

ROOT = Path(__file__).resolve().parents[2]
NS = "default"
INTEGRATIONS = "alertintegrations"
# Where outbound platforms deliver: nothing listens, delivery is not what the soak checks.
RECEIVER = "http://127.0.0.1:9/alertsync-chaos"
ELSEWHERE = "http://127.0.0.1:9/elsewhere"
TOPIC = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"
GROUP = "ops"
DECOY = "someone else's"
# A stalled request is dropped after this; the operator's own timeout (10 s) comes first.
STALL_SECONDS = 15.0
# Nothing changing for this long, unconverged, is final: longer than any retry the operator
# schedules (2 minutes after the platform refused the credentials).
STUCK_SECONDS = 150.0
# Reconcile results that are not errors (docs/metrics.md): every other one is retried.
NOT_ERRORS = frozenset({"Reconciled", "DriftDetected", "NotFound", "HeldByPlatform", "Released"})
Obj = dict[str, Any]


def marker(uid: str) -> str:
    """What AlertSync writes on the objects it creates (alertsync.platforms.base.marker)."""
    return f"managed-by=alertsync uid={uid}"


@dataclasses.dataclass
class Resource:
    """One AlertIntegration of the soak, and the drifts injected into its objects."""

    name: str
    platform: str
    display: str
    uid: str
    deleted: bool = False
    drifts: int = 0
    # A drift was injected and not yet observed: no other drift until it is.
    pending: bool = False
    log: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Drift:
    name: str
    apply: Callable[[Any, str], None]


@dataclasses.dataclass(frozen=True)
class Platform:
    """What the soak needs of one platform: its simulator, spec, objects, drifts, decoys."""

    id: str
    build: Callable[[], Simulator]
    secret: Mapping[str, str]
    credentials: Mapping[str, str]
    spec: Callable[[str], Obj]
    # Every object of the managed kind on the platform (decoys included), and its id.
    objects: Callable[[Any], list[Obj]]
    object_id: Callable[[Obj], str]
    # What an object carries that names its owner, and what a resource's objects carry.
    claim: Callable[[Obj], str | None]
    token: Callable[[Resource], str]
    as_declared: Callable[[Any, str, Resource], bool]
    drifts: tuple[Drift, ...]
    # Someone else's object named `name` (returns its id); its name as shown; delete it.
    add_decoy: Callable[[Any, str], str]
    name_of: Callable[[Obj], str]
    remove: Callable[[Any, str], None]
    # Paths of a create and of the listing (route templates are taken from the simulator).
    create_path: str
    listing_path: str
    # Query parameters that tell the full listing from a search on its route.
    listing_params: Mapping[str, str | None] | None = None
    later_page: Callable[[httpx.Request], bool] | None = None
    page_size: int | None = None
    announces_wait: bool = False


def _int_param(request: httpx.Request, name: str) -> int:
    try:
        return int(request.url.params.get(name, "0"))
    except ValueError:
        return 0


# -- the five platforms ------------------------------------------------------------------


def _oncall() -> Platform:
    token = "chaos-oncall-token-3f9a"

    def as_declared(sim: GrafanaOnCallSimulator, id_: str, res: Resource) -> bool:
        found = sim.get(id_)
        return (
            found is not None
            and found["name"] == res.display
            and found["description_short"] == marker(res.uid)
            and found["maintenance_mode"] is None
            and found["templates"]["slack"]["title"] == "chaos"
        )

    return Platform(
        id="grafana-oncall",
        # Its own 300 a minute per token, as the real one.
        build=lambda: GrafanaOnCallSimulator(tokens={token: "admin"}),
        secret={"token": token},
        credentials={},
        spec=lambda display: {
            "displayName": display,
            "grafanaOnCall": {"type": "alertmanager", "templates": {"slack": {"title": "chaos"}}},
        },
        objects=lambda sim: sim.integrations(),
        object_id=lambda obj: str(obj["id"]),
        claim=lambda obj: obj.get("description_short"),
        token=lambda res: marker(res.uid),
        as_declared=as_declared,
        drifts=(
            Drift("renamed", lambda sim, id_: sim.rename(id_, f"renamed by hand {id_}")),
            Drift("template changed", lambda sim, id_: sim.set_template(id_, "slack.title", "x")),
            Drift("put in maintenance", lambda sim, id_: sim.start_maintenance(id_)),
            Drift("deleted", lambda sim, id_: sim.remove(id_)),
        ),
        add_decoy=lambda sim, name: str(sim.add_integration("webhook", name=name)["id"]),
        name_of=lambda obj: str(obj["name"]),
        remove=lambda sim, id_: sim.remove(id_),
        create_path="/api/v1/integrations/",
        listing_path="/api/v1/integrations/",
        listing_params={"name": None},
        later_page=lambda request: _int_param(request, "page") > 1,
        page_size=100,
        announces_wait=True,
    )


def _ilert() -> Platform:
    key = "chaos-ilert-key-8c1e"

    def build() -> ILertSimulator:
        # Its own 120 a minute per key, as the real one; the operator keeps to 100.
        sim = ILertSimulator(keys={key: "admin"})
        sim.add_escalation_policy("second line")
        return sim

    def as_declared(sim: ILertSimulator, id_: str, res: Resource) -> bool:
        found = sim.alert_source(id_)
        return (
            found is not None
            and found["name"] == res.display
            and found["active"] is True
            and found["escalationPolicy"]["id"] == 1
        )

    return Platform(
        id="ilert",
        build=build,
        secret={"token": key},
        credentials={},
        spec=lambda display: {
            "displayName": display,
            "ilert": {"integrationType": "PROMETHEUS", "escalationPolicyId": 1},
        },
        objects=lambda sim: sim.alert_sources(),
        object_id=lambda obj: str(obj["id"]),
        # iLert sources have no free text: the exact name is the marker.
        claim=lambda obj: obj.get("name"),
        token=lambda res: res.display,
        as_declared=as_declared,
        drifts=(
            Drift("renamed", lambda sim, id_: sim.rename(id_, f"renamed by hand {id_}")),
            Drift("deactivated", lambda sim, id_: sim.deactivate(id_)),
            Drift("escalation policy changed", lambda sim, id_: sim.set_escalation_policy(id_, 2)),
            Drift("deleted", lambda sim, id_: sim.remove(id_)),
        ),
        add_decoy=lambda sim, name: str(sim.add_alert_source(name, "API")["id"]),
        name_of=lambda obj: str(obj["name"]),
        remove=lambda sim, id_: sim.remove(id_),
        create_path="/api/alert-sources",
        listing_path="/api/alert-sources",
        later_page=lambda request: _int_param(request, "start-index") > 0,
        page_size=50,
    )


def _mackerel() -> Platform:
    key = "chaos-mackerel-key-61d0"

    def build() -> MackerelSimulator:
        sim = MackerelSimulator(keys={key: READ_WRITE})
        sim.add_notification_group(GROUP)
        return sim

    def group_id(sim: MackerelSimulator) -> str:
        return next(str(g["id"]) for g in sim.notification_groups() if g["name"] == GROUP)

    def as_declared(sim: MackerelSimulator, id_: str, res: Resource) -> bool:
        found = sim.channel(id_)
        group = sim.notification_group(group_id(sim)) or {}
        return (
            found is not None
            and found["name"] == channel_name(res)
            and found["url"] == RECEIVER
            and set(found["events"]) == {"alert"}
            and id_ in group.get("childChannelIds", [])
        )

    def channel_name(res: Resource) -> str:
        return f"{res.display} [alertsync:{NS}/{res.name}]"

    return Platform(
        id="mackerel",
        build=build,
        secret={"token": key},
        credentials={},
        spec=lambda display: {
            "displayName": display,
            "webhook": {"url": RECEIVER},
            "mackerel": {"events": ["alert"], "notificationGroups": [GROUP]},
        },
        objects=lambda sim: [c for c in sim.channels() if c["type"] == "webhook"],
        object_id=lambda obj: str(obj["id"]),
        # Channels have no description: the name with its suffix is the marker.
        claim=lambda obj: obj.get("name"),
        token=channel_name,
        as_declared=as_declared,
        drifts=(
            Drift("url changed", lambda sim, id_: sim.set_url(id_, ELSEWHERE)),
            Drift("events changed", lambda sim, id_: sim.set_events(id_, ["hostStatus"])),
            Drift(
                "removed from its group",
                lambda sim, id_: sim.remove_from_group(group_id(sim), id_),
            ),
            Drift("deleted", lambda sim, id_: sim.remove_channel(id_)),
        ),
        add_decoy=lambda sim, name: str(sim.add_channel(name, url=ELSEWHERE)["id"]),
        name_of=lambda obj: str(obj["name"]),
        remove=lambda sim, id_: sim.remove_channel(id_),
        create_path="/api/v0/channels",
        listing_path="/api/v0/channels",
    )


def _confluent() -> Platform:
    key_id, secret = "CHAOSKEY4D2E", "chaos-confluent-secret-7b93"

    def as_declared(sim: ConfluentSimulator, id_: str, res: Resource) -> bool:
        found = sim.get(id_)
        return (
            found is not None
            and found["display_name"] == res.display
            and found["target"] == {"kind": "Webhook", "url": RECEIVER}
            and found.get("description") == marker(res.uid)
        )

    return Platform(
        id="confluent",
        # Windows of 300 a minute, announced in X-RateLimit-* on every answer.
        build=lambda: ConfluentSimulator(
            keys={key_id: ApiKey(secret)}, rate=ConfluentRate(300, 60.0)
        ),
        secret={"apiKey": key_id, "apiSecret": secret},
        credentials={"key": "apiSecret", "usernameKey": "apiKey"},
        spec=lambda display: {
            "displayName": display,
            "webhook": {"url": RECEIVER},
            "confluent": {"targetKind": "Webhook"},
        },
        objects=lambda sim: [
            i for i in sim.integrations() if i["target"]["kind"] not in ("RoleEmail", "UserEmail")
        ],
        object_id=lambda obj: str(obj["id"]),
        claim=lambda obj: obj.get("description"),
        token=lambda res: marker(res.uid),
        as_declared=as_declared,
        drifts=(
            Drift("url changed", lambda sim, id_: sim.set_url(id_, ELSEWHERE)),
            Drift("renamed", lambda sim, id_: sim.rename(id_, f"renamed by hand {id_}"[:64])),
            Drift("deleted", lambda sim, id_: sim.remove(id_)),
        ),
        add_decoy=lambda sim, name: str(sim.add_integration(name, url=ELSEWHERE)["id"]),
        name_of=lambda obj: str(obj["display_name"]),
        remove=lambda sim, id_: sim.remove(id_),
        create_path="/notifications/v1/integrations",
        listing_path="/notifications/v1/integrations",
        announces_wait=True,
    )


def _zstack() -> Platform:
    password = "chaos-zstack-password-2a57"
    endpoints = "/zstack/v1/sns/application-endpoints/http"

    def as_declared(sim: ZStackSimulator, id_: str, res: Resource) -> bool:
        found = sim.get(id_)
        return (
            found is not None
            and found["name"] == res.display
            and found["url"] == RECEIVER
            and found["state"] == "Enabled"
            and found.get("description") == marker(res.uid)
            and sim.subscriptions(id_) == {TOPIC}
        )

    return Platform(
        id="zstack",
        build=lambda: ZStackSimulator(accounts={"admin": password}, topics={TOPIC: "alarms"}),
        secret={"accountName": "admin", "password": password},
        credentials={"key": "password", "usernameKey": "accountName"},
        spec=lambda display: {
            "displayName": display,
            "webhook": {"url": RECEIVER},
            "zstack": {"topicUuids": [TOPIC]},
        },
        objects=lambda sim: sim.endpoints(),
        object_id=lambda obj: str(obj["uuid"]),
        claim=lambda obj: obj.get("description"),
        token=lambda res: marker(res.uid),
        as_declared=as_declared,
        drifts=(
            Drift("url changed", lambda sim, id_: sim.set_url(id_, ELSEWHERE)),
            Drift("disabled", lambda sim, id_: sim.set_state(id_, "Disabled")),
            Drift("renamed", lambda sim, id_: sim.rename(id_, f"renamed by hand {id_}")),
            Drift("unsubscribed", lambda sim, id_: sim.unsubscribe(TOPIC, id_)),
            Drift("deleted", lambda sim, id_: sim.remove(id_)),
        ),
        add_decoy=lambda sim, name: str(sim.add_endpoint(name, ELSEWHERE)["uuid"]),
        name_of=lambda obj: str(obj["name"]),
        remove=lambda sim, id_: sim.remove(id_),
        create_path=endpoints,
        listing_path=endpoints,
        listing_params={"q": None},
        later_page=lambda request: _int_param(request, "start") > 0,
        page_size=100,
    )


PLATFORMS: tuple[Platform, ...] = (_oncall(), _ilert(), _mackerel(), _confluent(), _zstack())


# -- the sandbox ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Side:
    """One platform in the running soak: its simulator, injector and decoys."""

    platform: Platform
    sim: Simulator
    url: str
    injector: Injector
    # Decoys alive, oldest first (id -> name), and those the soak deleted itself.
    decoys: dict[str, str] = dataclasses.field(default_factory=dict)
    decoys_made: int = 0
    lock: threading.RLock = dataclasses.field(default_factory=threading.RLock)

    def add_decoy(self) -> None:
        with self.lock:
            self.decoys_made += 1
            name = f"{DECOY} {self.platform.id} {self.decoys_made:04d}"
            self.decoys[self.platform.add_decoy(self.sim, name)] = name

    def shift(self) -> bool:
        """Delete the oldest decoy (on the first page) and add one at the end.

        Under the lock throughout, so that a check never sees a decoy half replaced."""
        with self.lock:
            if not self.decoys:
                return False
            id_ = next(iter(self.decoys))
            del self.decoys[id_]
            self.platform.remove(self.sim, id_)
            self.add_decoy()
            return True


def _say(text: str) -> None:
    """Progress, on stderr: stdout is the report."""
    print(f"chaos: {text}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _picked(emu: StrictEmulator) -> dict[str, Obj]:
    """What the checks need of every AlertIntegration; runs in the emulator's loop, so that
    only small answers cross threads."""
    found: dict[str, Obj] = {}
    for obj in emu.list_objects(INTEGRATIONS, namespace=NS):
        status = obj.get("status") or {}
        ready = next(
            (c.get("status") for c in status.get("conditions") or () if c.get("type") == "Ready"),
            None,
        )
        found[obj["metadata"]["name"]] = {
            "uid": obj["metadata"]["uid"],
            "generation": obj["metadata"].get("generation"),
            "deleting": "deletionTimestamp" in obj["metadata"],
            "ready": ready,
            "observedGeneration": status.get("observedGeneration"),
            "driftCount": status.get("driftCount") or 0,
            "webhookId": status.get("webhookId"),
            "lastError": status.get("lastError") or "",
        }
    return found


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.platforms = [p for p in PLATFORMS if p.id in args.platforms]
        self.emulator = StrictEmulator()
        self.emulator.load_crd(ROOT / "crds")
        self.resources: dict[str, Resource] = {}
        self.sides: dict[str, _Side] = {}
        self.made = 0
        self.events: collections.Counter[str] = collections.Counter()
        self.drift_kinds: collections.Counter[str] = collections.Counter()
        self.schedule: Schedule = make_schedule(
            args.seed,
            args.rounds,
            [p.id for p in self.platforms],
            args.rates,
            max_lag=args.max_lag,
        )
        self.k8s: EmulatorThread | None = None
        # How long failures must stay as they are, everything converged, to be final.
        self.stable_seconds = max(15.0, 5.0 * args.interval)

    # -- setting up ----------------------------------------------------------------------

    def serve(self, stack: contextlib.ExitStack) -> None:
        per_platform = math.ceil(self.args.n / len(self.platforms))
        for platform in self.platforms:
            sim = platform.build()
            url = stack.enter_context(SimulatorThread(sim, stall_seconds=STALL_SECONDS))
            routes = Routes(
                create=sim.route_of(httpx.Request("POST", f"{url}{platform.create_path}")),
                listing=sim.route_of(httpx.Request("GET", f"{url}{platform.listing_path}")),
                listing_params=platform.listing_params,
                later_page=platform.later_page,
                announces_wait=platform.announces_wait,
            )
            side = _Side(platform, sim, url, Injector(sim, routes))
            side.injector.shift = side.shift if platform.later_page else None
            # Enough of someone else's objects that the listing takes two pages.
            page = platform.page_size
            decoys = max(5, page + 10 - per_platform) if page else 5
            for _ in range(decoys):
                side.add_decoy()
            self.sides[platform.id] = side

    def load(self) -> None:
        """Secrets, AlertPlatforms and the first N integrations, before the operator starts."""
        for side in self.sides.values():
            p = side.platform
            self.emulator.create_object(
                "secrets",
                {"metadata": {"name": f"{p.id}-credentials"}, "stringData": dict(p.secret)},
                namespace=NS,
            )
            spec: Obj = {
                "productType": p.id,
                "url": side.url,
                "credentialsSecretRef": {"name": f"{p.id}-credentials", **p.credentials},
                "resyncInterval": f"{self.args.interval}s",
                # The receivers are plain http on loopback.
                "allowInsecureHttp": True,
            }
            self.emulator.create_object(
                "alertplatforms", {"metadata": {"name": p.id}, "spec": spec}, namespace=NS
            )
        for i in range(self.args.n):
            self.create(self.platforms[i % len(self.platforms)], direct=True)

    def create(self, platform: Platform, *, direct: bool = False) -> Resource:
        self.made += 1
        name = f"chaos-{self.made:04d}"
        display = f"chaos {platform.id} {self.made:04d}"
        body = {
            "metadata": {"name": name},
            "spec": {"platformRef": {"name": platform.id}, **platform.spec(display)},
        }
        if direct:
            created = self.emulator.create_object(INTEGRATIONS, body, namespace=NS)
        else:
            assert self.k8s is not None
            created = self.k8s.create_object(INTEGRATIONS, body, namespace=NS)
        res = Resource(name, platform.id, display, created["metadata"]["uid"])
        self.resources[name] = res
        return res

    # -- looking -------------------------------------------------------------------------

    def statuses(self) -> dict[str, Obj]:
        assert self.k8s is not None
        return self.k8s.call(_picked, self.emulator)

    def owned(self) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
        """Objects per owning resource, orphans and damaged decoys, per platform."""
        owners: dict[str, list[str]] = collections.defaultdict(list)
        orphans: dict[str, list[str]] = collections.defaultdict(list)
        touched: dict[str, list[str]] = collections.defaultdict(list)
        for side in self.sides.values():
            p = side.platform
            tokens = {
                p.token(res): res.name for res in self.resources.values() if res.platform == p.id
            }
            with side.lock:  # no shift between the two
                decoys = dict(side.decoys)
                objects = p.objects(side.sim)
            seen_decoys = set()
            for obj in objects:
                id_ = p.object_id(obj)
                if id_ in decoys:
                    seen_decoys.add(id_)
                    if p.name_of(obj) != decoys[id_] or p.claim(obj) in tokens:
                        touched[p.id].append(id_)
                    continue
                claim = p.claim(obj)
                owner = tokens.get(claim) if claim is not None else None
                if owner is None:
                    orphans[p.id].append(f"{id_} (no owner: {claim!r})")
                elif self.resources[owner].deleted:
                    orphans[p.id].append(f"{id_} (of {owner}, deleted)")
                else:
                    owners[owner].append(id_)
            touched[p.id].extend(sorted(set(decoys) - seen_decoys))
        return owners, orphans, touched

    def in_sync(self, res: Resource, status: Obj | None, ids: Sequence[str]) -> bool:
        if status is None or status["ready"] != "True" or status["deleting"]:
            return False
        if status["observedGeneration"] != status["generation"]:
            return False
        id_ = status["webhookId"]
        side = self.sides[res.platform]
        return list(ids) == [id_] and side.platform.as_declared(side.sim, id_, res)

    def check(self, *, details: bool = False) -> Obj:
        """Every invariant, now; with `details`, what Kubernetes holds of the failing ones."""
        statuses = self.statuses()
        owners, orphans, touched = self.owned()
        live = [r for r in self.resources.values() if not r.deleted]
        per: dict[str, Obj] = {
            p.id: dict.fromkeys(
                ("integrations", "unconverged", "duplicates", "orphans", "lost", "drift_mismatch"),
                0,
            )
            for p in self.platforms
        }
        problems: list[str] = []
        for res in live:
            row = per[res.platform]
            row["integrations"] += 1
            ids = owners.get(res.name, [])
            status = statuses.get(res.name)
            if len(ids) > 1:
                row["duplicates"] += len(ids) - 1
                problems.append(f"{res.name}: {len(ids)} objects on {res.platform}: {ids}")
            if not ids:
                row["lost"] += 1
                problems.append(f"{res.name}: no object on {res.platform}")
            if not self.in_sync(res, status, ids):
                row["unconverged"] += 1
                problems.append(f"{res.name}: not converged: {status}")
            count = status["driftCount"] if status else None
            if count != res.drifts:
                row["drift_mismatch"] += 1
                problems.append(f"{res.name}: driftCount {count}, drifts injected {res.drifts}")
        stuck = [r.name for r in self.resources.values() if r.deleted and r.name in statuses]
        for name in stuck:
            per[self.resources[name].platform]["unconverged"] += 1
            problems.append(f"{name}: deleted, still in Kubernetes: {statuses[name]}")
        for pid, ids in orphans.items():
            per[pid]["orphans"] += len(ids)
            problems.append(f"{pid}: orphans {ids}")
        for pid, ids in touched.items():
            if ids:
                problems.append(f"{pid}: someone else's objects changed or deleted: {ids}")
        totals = {key: sum(row[key] for row in per.values()) for key in next(iter(per.values()))}
        into_windows = sum(side.injector.into_windows for side in self.sides.values())
        invariants = {
            "converged": totals["unconverged"] == 0,
            "no duplicates": totals["duplicates"] == 0,
            "no orphans": totals["orphans"] == 0,
            "none lost": totals["lost"] == 0,
            "driftCount == drifts injected": totals["drift_mismatch"] == 0,
            "someone else's objects untouched": not any(touched.values()),
            "no request into an announced 429 window": into_windows == 0,
        }
        named = sorted({p.split(":", 1)[0] for p in problems} | set(_owners_named(orphans)))
        return {
            "invariants": invariants,
            "details": self.details([n for n in named if n in self.resources][:30])
            if details
            else {},
            "per_platform": per,
            "totals": totals,
            "stuck_deletions": stuck,
            "decoys_touched": {k: v for k, v in touched.items() if v},
            "problems": problems,
        }

    def details(self, names: Sequence[str]) -> dict[str, Obj]:
        """For the report: what Kubernetes holds of these integrations, and their Events."""
        assert self.k8s is not None
        found: dict[str, Obj] = {}
        for name in names:
            res = self.resources[name]
            obj = self.k8s.read_object(INTEGRATIONS, name, namespace=NS)
            found[name] = {
                "platform": res.platform,
                "deleted": res.deleted,
                "drifts": res.log,
                "status": (obj or {}).get("status"),
                "finalizers": (obj or {}).get("metadata", {}).get("finalizers"),
            }
        for event in self.k8s.list_objects("events", namespace=NS):
            name = event.get("involvedObject", {}).get("name")
            if name in found:
                found[name].setdefault("events", []).append(
                    f"{event.get('lastTimestamp') or event.get('eventTime')} "
                    f"{event.get('reason')}: {event.get('message')}"
                )
        return found

    # -- acting --------------------------------------------------------------------------

    def observe_drifts(self, statuses: Mapping[str, Obj]) -> None:
        """A pending drift is observed once counted and repaired (see the module doc)."""
        owners: dict[str, list[str]] | None = None
        for res in self.resources.values():
            if not res.pending or res.deleted:
                continue
            status = statuses.get(res.name)
            if status is None or status["driftCount"] != res.drifts:
                continue
            if owners is None:
                owners = self.owned()[0]
            if self.in_sync(res, status, owners.get(res.name, [])):
                res.pending = False

    def inject_drifts(self, statuses: Mapping[str, Obj], count: int) -> None:
        owners = self.owned()[0]
        ready = [
            res
            for res in self.resources.values()
            if not res.deleted
            and not res.pending
            and (status := statuses.get(res.name)) is not None
            and status["driftCount"] == res.drifts
            and self.in_sync(res, status, owners.get(res.name, []))
        ]
        for res in self.rng.sample(ready, min(count, len(ready))):
            side = self.sides[res.platform]
            drift = self.rng.choice(side.platform.drifts)
            id_ = statuses[res.name]["webhookId"]
            try:
                drift.apply(side.sim, id_)
            except (KeyError, ValueError):  # gone meanwhile: nothing was changed
                continue
            res.drifts += 1
            res.pending = True
            res.log.append(f"{drift.name} on {id_}")
            self.drift_kinds[f"{res.platform}: {drift.name}"] += 1

    def churn(self, count: int) -> None:
        """Delete `count` integrations, whatever their state (a create may be under way), and
        create as many on the same platforms."""
        assert self.k8s is not None
        live = sorted(r.name for r in self.resources.values() if not r.deleted)
        for name in self.rng.sample(live, min(count, len(live))):
            res = self.resources[name]
            with contextlib.suppress(ApiError):  # gone already: nothing to delete
                self.k8s.delete_object(INTEGRATIONS, name, namespace=NS)
            res.deleted = True
            self.events["deleted"] += 1
            platform = next(p for p in self.platforms if p.id == res.platform)
            self.create(platform)
            self.events["created"] += 1

    # -- the run -------------------------------------------------------------------------

    def wait_until(self, deadline: float, done: Callable[[], bool], every: float = 0.5) -> bool:
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(every)
        return done()

    def all_converged(self) -> bool:
        statuses = self.statuses()
        owners = self.owned()[0]
        return all(
            self.in_sync(res, statuses.get(res.name), owners.get(res.name, []))
            for res in self.resources.values()
            if not res.deleted
        )

    def run(self, metrics_port: int) -> Obj:
        result: Obj = {}
        began = time.monotonic()
        converged = self.wait_until(began + self.args.converge_timeout, self.all_converged, 0.5)
        result["converge_seconds"] = time.monotonic() - began if converged else None
        _say(f"converged from empty: {_secs(result['converge_seconds'])}")
        before = self.requests()

        fault_began = time.monotonic()
        for number in range(self.args.rounds):
            round_began = time.monotonic()
            _say(f"round {number + 1}/{self.args.rounds}")
            for side in self.sides.values():
                side.injector.arm(self.schedule.round(number, side.platform.id))
            statuses = self.statuses()
            self.observe_drifts(statuses)
            self.inject_drifts(statuses, self.args.drifts)
            self.churn(self.args.churn)
            while time.monotonic() < round_began + self.args.round_seconds:
                time.sleep(0.5)
                self.observe_drifts(self.statuses())
            # What no request reached this round expires: each round's faults are its own.
            for side in self.sides.values():
                side.injector.off()
        off = time.monotonic()
        _say("faults off; waiting for everything to hold")
        result["fault_seconds"] = off - fault_began
        during = self.requests()

        passed, last, since = False, None, time.monotonic()
        converged_at: float | None = None

        def settled() -> bool:
            # Everything holds; or what fails has not changed for a while: everything
            # converged but a count the operator got wrong, or nothing moved for longer
            # than its slowest retry (credentials: 2 minutes). Waiting longer would only
            # delay the report.
            nonlocal passed, last, since, converged_at
            self.observe_drifts(self.statuses())
            check = self.check()
            passed = all(check["invariants"].values())
            now = time.monotonic()
            if converged_at is None and check["invariants"]["converged"]:
                converged_at = now
            if check["totals"] != last:
                last, since = check["totals"], now
            quiet = self.stable_seconds if check["invariants"]["converged"] else STUCK_SECONDS
            return passed or now - since > quiet

        self.wait_until(off + self.args.settle_timeout, settled, 1.0)
        result["settle_seconds"] = time.monotonic() - off if passed else None
        result["reconverge_seconds"] = converged_at - off if converged_at is not None else None
        result["check"] = self.check(details=True)
        after = self.requests()
        result["requests"] = {
            "converging": _sum_delta({}, before),
            "faults": _sum_delta(before, during),
            "settling": _sum_delta(during, after),
            "by_platform": {k: sum(v.values()) for k, v in after.items()},
        }
        result["metrics"] = _scrape(metrics_port)
        return result

    def requests(self) -> dict[str, dict[str, int]]:
        return {pid: side.sim.requests.snapshot() for pid, side in self.sides.items()}


def _owners_named(orphans: Mapping[str, Sequence[str]]) -> list[str]:
    """The deleted integrations named in orphan descriptions ("id (of name, deleted)")."""
    return [
        text.split("(of ", 1)[1].split(",", 1)[0]
        for ids in orphans.values()
        for text in ids
        if "(of " in text
    ]


def _sum_delta(
    before: Mapping[str, Mapping[str, int]], after: Mapping[str, Mapping[str, int]]
) -> int:
    return sum(
        n - before.get(pid, {}).get(route, 0)
        for pid, routes in after.items()
        for route, n in routes.items()
    )


def _scrape(port: int) -> dict[str, float]:
    """The operator's own counters that the table shows, summed over their labels."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return {}
    sums: dict[str, float] = collections.defaultdict(float)
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        series, _, value = line.rpartition(" ")
        name = series.split("{", 1)[0]
        try:
            number = float(value)
        except ValueError:
            continue
        if name == "alertsync_reconciles_total":
            result = series.partition('result="')[2].partition('"')[0]
            key = "reconciles_ok" if result in NOT_ERRORS else "reconciles_failed"
            sums[key] += number
        elif name.startswith("alertsync_") and name.endswith(("_total", "_count")):
            sums[name] += number
    return dict(sums)


@contextlib.contextmanager
def _operator(
    kubeconfig: Path, metrics_port: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "ALERTSYNC_NAMESPACE": NS}
    command = [
        sys.executable,
        "-m",
        "alertsync",
        "run",
        "-A",
        "--health",
        "",
        "--metrics",
        f"127.0.0.1:{metrics_port}",
        "--log-level",
        "info",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)  # noqa: S603 - our own interpreter and module
        try:
            yield process
        finally:
            stop_operator(process)


def run(args: argparse.Namespace) -> Obj:
    work: Path = args.json.parent
    work.mkdir(parents=True, exist_ok=True)
    soak = Soak(args)
    with contextlib.ExitStack() as stack:
        soak.serve(stack)
        soak.load()
        soak.k8s = stack.enter_context(EmulatorThread(soak.emulator))
        kubeconfig = soak.k8s.write_kubeconfig(work / "chaos-kubeconfig")
        port = _free_port()
        with _operator(kubeconfig, port, work / "chaos-operator.log") as process:
            result = soak.run(port)
            result["operator_alive"] = process.poll() is None
        result["exit_code"] = process.returncode
    result["faults"] = {
        pid: {
            "armed": {k.value: n for k, n in side.injector.armed.items()},
            "fired": {k.value: n for k, n in side.injector.fired.items()},
            "into_windows": side.injector.into_windows,
        }
        for pid, side in soak.sides.items()
    }
    result["native_429"] = {
        pid: int(getattr(side.sim, "rate_limited", 0)) for pid, side in soak.sides.items()
    }
    result["drifts"] = {
        "injected": sum(r.drifts for r in soak.resources.values()),
        "by_kind": dict(sorted(soak.drift_kinds.items())),
        "per_integration": {
            r.name: {"platform": r.platform, "drifts": r.drifts, "log": r.log, "deleted": r.deleted}
            for r in soak.resources.values()
        },
    }
    result["churn"] = dict(soak.events)
    result["integrations"] = {
        "created": len(soak.resources),
        "live": sum(not r.deleted for r in soak.resources.values()),
    }
    return result


# -- the report ----------------------------------------------------------------------------


def table(args: argparse.Namespace, result: Obj) -> str:
    pids = list(result["faults"])
    short = {"grafana-oncall": "oncall"}
    header = ["", *(short.get(p, p) for p in pids), "total"]
    rows: list[list[str]] = []

    def add(label: str, values: Sequence[Any]) -> None:
        total = sum(v for v in values if isinstance(v, int | float))
        rows.append([label, *(str(v) for v in values), _num(total)])

    for kind in Kind:
        add(LABELS[kind], [result["faults"][p]["fired"].get(kind.value, 0) for p in pids])
    rows.append([])
    check = result["check"]
    per = check["per_platform"]
    add("platform requests", [result["requests"]["by_platform"].get(p, 0) for p in pids])
    add("platform's own 429s", [result["native_429"].get(p, 0) for p in pids])
    add("drifts injected", [_drifts(result, p) for p in pids])
    add("integrations live at the end", [per[p]["integrations"] for p in pids])
    for key, label in (
        ("duplicates", "duplicates"),
        ("orphans", "orphans"),
        ("lost", "lost"),
        ("unconverged", "not converged"),
        ("drift_mismatch", "driftCount != drifts injected"),
    ):
        add(label, [per[p][key] for p in pids])
    add("requests into announced 429 windows", [result["faults"][p]["into_windows"] for p in pids])
    widths = [max(len(r[i]) for r in [header, *rows] if r) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            [
                cells[0].ljust(widths[0]),
                *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)),
            ]
        )

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) if r else "" for r in rows]
    metrics = result.get("metrics") or {}
    out.append("")
    out.append(
        f"operator: {_num(metrics.get('alertsync_platform_requests_total'))} requests sent, "
        f"{_num(metrics.get('reconciles_failed'))} passes failed and retried "
        f"({_num(metrics.get('reconciles_ok'))} succeeded), "
        f"{_num(metrics.get('alertsync_rate_limit_waits_total'))} rate-limit waits honoured, "
        f"{_num(metrics.get('alertsync_rate_limit_deferred_total'))} deferred"
    )
    settled = result.get("settle_seconds")
    out.append(
        f"time: converged from empty in {_secs(result.get('converge_seconds'))}; faults for "
        f"{_secs(result.get('fault_seconds'))}; converged again "
        f"{_secs(result.get('reconverge_seconds'))} after the faults went off"
        + (f", every invariant held after {_secs(settled)}" if settled is not None else "")
    )
    churn = result.get("churn", {})
    out.append(
        f"churn: {churn.get('deleted', 0)} integrations deleted and {churn.get('created', 0)} "
        "created under faults"
    )
    out.append("")
    failed = [name for name, ok in check["invariants"].items() if not ok]
    for name, ok in check["invariants"].items():
        out.append(f"{'PASS' if ok else 'FAIL'}  {name}")
    if failed:
        out.append("")
        out += [f"  {p}" for p in check["problems"][:10]]
    return "\n".join(out)


def _drifts(result: Obj, pid: str) -> int:
    return sum(
        r["drifts"] for r in result["drifts"]["per_integration"].values() if r["platform"] == pid
    )


def _num(value: Any) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:.0f}"


def _secs(value: Any) -> str:
    return f"{value:.1f} s" if isinstance(value, int | float) else "never"


# -- the command ---------------------------------------------------------------------------


def _rates(text: str) -> dict[Kind, float]:
    rates = dict(DEFAULT_RATES)
    for part in filter(None, text.split(",")):
        name, _, value = part.partition("=")
        try:
            rates[Kind(name.strip())] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{part!r}: use kind=rate with kind one of {', '.join(k.value for k in Kind)}"
            ) from None
    return rates


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m alertsim.chaos", description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="integrations at any time")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--round-seconds", type=float, default=6.0)
    parser.add_argument("--interval", type=int, default=3, help="resyncInterval, seconds")
    parser.add_argument("--drifts", type=int, default=10, help="drifts injected per round")
    parser.add_argument("--churn", type=int, default=2, help="deleted and created per round")
    parser.add_argument(
        "--rates",
        type=_rates,
        default=dict(DEFAULT_RATES),
        help="faults per platform and round, e.g. timeout=0,stale=2 (the rest: defaults)",
    )
    parser.add_argument("--max-lag", type=float, default=3.0, help="stale listings, seconds")
    parser.add_argument("--platforms", default=",".join(p.id for p in PLATFORMS))
    parser.add_argument("--converge-timeout", type=float, default=300.0)
    parser.add_argument("--settle-timeout", type=float, default=300.0)
    parser.add_argument("--json", type=Path, default=ROOT / ".sandbox" / "chaos.json")
    args = parser.parse_args(argv)
    args.platforms = [p for p in args.platforms.split(",") if p]
    known = {p.id for p in PLATFORMS}
    if not args.platforms or set(args.platforms) - known:
        parser.error(f"--platforms: a comma-separated list of {', '.join(sorted(known))}")
    if args.n < len(args.platforms) or args.rounds < 0 or args.interval < 1:
        parser.error("--n must cover every platform, --rounds be 0 or more, --interval 1 or more")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    machine = {
        "nproc": len(os.sched_getaffinity(0)),
        "python": platform_module.python_version(),
        "revision": revision(),
        "platform": platform_module.platform(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    began = time.monotonic()
    result = run(args)
    result["run_seconds"] = time.monotonic() - began
    parameters = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "rates"
    }
    parameters["rates"] = {k.value: v for k, v in args.rates.items()}
    report = {"parameters": parameters, "machine": machine, **result}
    ok = all(result["check"]["invariants"].values()) and result.get("operator_alive", False)
    report["passed"] = ok
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(
        f"seed {args.seed}: {args.n} integrations on {len(args.platforms)} platforms, "
        f"{args.rounds} rounds of {args.round_seconds:g} s, resyncInterval {args.interval}s, "
        f"{args.drifts} drifts and {args.churn} deletions+creations a round"
    )
    print(table(args, result), flush=True)
    print(f"run time {result['run_seconds']:.0f} s; everything in {args.json}")
    if not result.get("operator_alive", False):
        print("FAIL  the operator process exited during the soak")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
