"""Confluent Cloud notifications in the end-to-end platform suite."""

from typing import Any

from alertsim.confluent import ApiKey, ConfluentSimulator
from tests.e2e.platforms.row import NAME, RECEIVER, Drift, PlatformRow

KEY_ID, SECRET = "E2ESUITEKEY7F3A", "e2e-suite-confluent-secret-c41d"
VIEWER_ID, VIEWER_SECRET = "E2ESUITEVIEW2B9", "e2e-suite-confluent-viewer-8e62"


def managed(sim: ConfluentSimulator) -> list[dict[str, Any]]:
    return [i for i in sim.integrations() if i["target"]["kind"] not in ("RoleEmail", "UserEmail")]


def as_declared(sim: ConfluentSimulator, id_: str) -> bool:
    found: dict[str, Any] | None = sim.get(id_)
    return (
        found is not None
        and found["display_name"] == NAME
        # Slack and MsTeams targets call their URL webhook_url.
        and found["target"] == {"kind": "Slack", "webhook_url": RECEIVER}
        and str(found.get("description", "")).startswith("managed-by=alertsync uid=")
    )


ROW = PlatformRow[ConfluentSimulator](
    id="confluent",
    simulator=lambda: ConfluentSimulator(
        keys={KEY_ID: ApiKey(SECRET), VIEWER_ID: ApiKey(VIEWER_SECRET, role="MetricsViewer")},
        rate=None,
    ),
    secret={"apiKey": KEY_ID, "apiSecret": SECRET},
    credentials={"key": "apiSecret", "usernameKey": "apiKey"},
    declares=lambda: {
        "webhook": {"url": RECEIVER},
        "confluent": {"targetKind": "Webhook"},
    },
    edit={"confluent": {"targetKind": "Slack"}},
    edited=lambda sim, id_: (sim.get(id_) or {}).get("target", {}).get("kind") == "Slack",
    as_declared=as_declared,
    objects=lambda sim: [str(i["id"]) for i in managed(sim)],
    drifts=[
        Drift("url changed", lambda sim, id_: sim.set_url(id_, "https://elsewhere.example/hook")),
        Drift("renamed", lambda sim, id_: sim.rename(id_, "renamed by hand")),
        Drift("deleted", lambda sim, id_: sim.remove(id_)),
    ],
    read_only_secret={"apiKey": VIEWER_ID, "apiSecret": VIEWER_SECRET},
    disable_by_delete=True,
)
