"""Mackerel in the end-to-end platform suite."""

from typing import Any

from alertsim.mackerel import READ_ONLY, READ_WRITE, MackerelSimulator
from tests.e2e.platforms.row import NAME, RECEIVER, Drift, PlatformRow

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
