"""ZStack Cloud SNS HTTP endpoints in the end-to-end platform suite."""

from typing import Any

from alertsim.zstack import ZStackSimulator
from tests.e2e.platforms.row import NAME, RECEIVER, Drift, PlatformRow

PASSWORD = "e2e-suite-zstack-password-19af"
VIEWER_PASSWORD = "e2e-suite-zstack-viewer-5c03"
TOPIC = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"
EDITED = "http://127.0.0.1:9/edited"


def as_declared(sim: ZStackSimulator, id_: str) -> bool:
    found: dict[str, Any] | None = sim.get(id_)
    return (
        found is not None
        and found["name"] == NAME
        and found["url"] == EDITED
        and found["state"] == "Enabled"
        and str(found["description"]).startswith("managed-by=alertsync uid=")
        and sim.subscriptions(id_) == {TOPIC}
    )


ROW = PlatformRow[ZStackSimulator](
    id="zstack",
    simulator=lambda: ZStackSimulator(
        accounts={"admin": PASSWORD, "viewer": VIEWER_PASSWORD},
        read_only=["viewer"],
        topics={TOPIC: "alarms"},
    ),
    secret={"accountName": "admin", "password": PASSWORD},
    credentials={"key": "password", "usernameKey": "accountName"},
    declares=lambda: {
        "webhook": {"url": RECEIVER},
        "zstack": {"topicUuids": [TOPIC]},
    },
    edit={"webhook": {"url": EDITED}},
    edited=lambda sim, id_: (sim.get(id_) or {}).get("url") == EDITED,
    as_declared=as_declared,
    objects=lambda sim: [str(e["uuid"]) for e in sim.endpoints()],
    drifts=[
        Drift("url changed", lambda sim, id_: sim.set_url(id_, "http://elsewhere.example/y")),
        Drift("disabled", lambda sim, id_: sim.set_state(id_, "Disabled")),
        Drift("renamed", lambda sim, id_: sim.rename(id_, "renamed by hand")),
        Drift("unsubscribed", lambda sim, id_: sim.unsubscribe(TOPIC, id_)),
        Drift("deleted", lambda sim, id_: sim.remove(id_)),
    ],
    read_only_secret={"accountName": "viewer", "password": VIEWER_PASSWORD},
)
