"""Mackerel in the adapter contract suite and the end-to-end platform suite.

`CASE` is its `PlatformCase` (tests/contract/, tests/property/), `ROW` its `PlatformRow`
(tests/e2e/test_platforms.py). A new platform joins both suites with one such module.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from alertsim.core import json_response
from alertsim.mackerel import READ_ONLY, READ_WRITE, MackerelSimulator
from alertsync.models import MackerelSpec, ProductType
from alertsync.platforms.base import PlatformAdapter
from alertsync.platforms.mackerel import MackerelAdapter
from tests.platforms.case import PlatformCase
from tests.platforms.row import NAME, RECEIVER, Drift, PlatformRow
from tests.support.desired import Ask

# The adapter contract suite (tests/contract/) and the property tests (tests/property/).

# Where the contract's channels deliver (the end-to-end rows use row.RECEIVER).
CONTRACT_RECEIVER = "https://receiver.example.com/mackerel/team-a"


def _hostile_page(request: httpx.Request, cursor: Callable[[], str]) -> httpx.Response:
    at = cursor()
    alert = {"id": f"A{at}", "status": "OK", "monitorId": "m", "type": "host", "openedAt": 1}
    return json_response(200, {"alerts": [alert], "nextId": at})


def _paged_listing(adapter: PlatformAdapter) -> Awaitable[object]:
    """Mackerel's channels are one page; its alerts are paged."""
    assert isinstance(adapter, MackerelAdapter)
    return adapter.client.list_alerts()


CASE = PlatformCase[MackerelSimulator](
    id="mackerel",
    product=ProductType.MACKEREL,
    url="http://mackerel.test",
    simulator=lambda token, _: MackerelSimulator(keys={token: READ_WRITE}, seed=5),
    ask=Ask(MackerelSpec, url=CONTRACT_RECEIVER, block={"events": ["alert", "alertGroup"]}),
    drift=lambda sim, id_: sim.set_events(id_, ["alert", "hostStatus"]),
    drifted_field="mackerel.events",
    remove=lambda sim, id_: sim.remove_channel(id_),
    add_foreign=lambda sim, name: str(sim.add_channel(name)["id"]),
    hostile_page=_hostile_page,
    announces_wait=False,
    paged_listing=_paged_listing,
)


# The end-to-end platform suite (tests/e2e/test_platforms.py).

KEY = "e2e-suite-mackerel-key-4a8e"
READ_ONLY_KEY = "e2e-suite-mackerel-ro-2c71"
GROUP = "ops"


def simulator() -> MackerelSimulator:
    sim = MackerelSimulator(keys={KEY: READ_WRITE, READ_ONLY_KEY: READ_ONLY})
    sim.add_notification_group(GROUP)
    return sim


def group_id(sim: MackerelSimulator) -> str:
    return next(str(g["id"]) for g in sim.notification_groups() if g["name"] == GROUP)


def in_group(sim: MackerelSimulator, channel_id: str) -> bool:
    group = sim.notification_group(group_id(sim)) or {}
    return channel_id in group.get("childChannelIds", [])


def as_declared(sim: MackerelSimulator, id_: str) -> bool:
    found: dict[str, Any] | None = sim.channel(id_)
    return (
        found is not None
        and str(found["name"]).startswith(NAME)
        and found["url"] == RECEIVER
        and set(found["events"]) == {"alert", "alertGroup"}
        and in_group(sim, id_)
    )


ROW = PlatformRow[MackerelSimulator](
    id="mackerel",
    simulator=simulator,
    secret={"token": KEY},
    declares=lambda: {
        "webhook": {"url": RECEIVER},
        "mackerel": {"events": ["alert"], "notificationGroups": [GROUP]},
    },
    edit={"mackerel": {"events": ["alert", "alertGroup"], "notificationGroups": [GROUP]}},
    edited=lambda sim, id_: (
        set((sim.channel(id_) or {}).get("events", ())) == {"alert", "alertGroup"}
    ),
    as_declared=as_declared,
    objects=lambda sim: [str(c["id"]) for c in sim.channels() if c["type"] == "webhook"],
    drifts=[
        Drift("url changed", lambda sim, id_: sim.set_url(id_, "https://elsewhere.example/hook")),
        Drift("events changed", lambda sim, id_: sim.set_events(id_, ["hostStatus"])),
        Drift("removed from its group", lambda sim, id_: sim.remove_from_group(group_id(sim), id_)),
        Drift("deleted", lambda sim, id_: sim.remove_channel(id_)),
    ],
    read_only_secret={"token": READ_ONLY_KEY},
)
