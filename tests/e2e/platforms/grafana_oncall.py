"""Grafana OnCall in the end-to-end platform suite."""

from typing import Any

from alertsim.grafana_oncall import GrafanaOnCallSimulator
from tests.e2e.platforms.row import NAME, Drift, PlatformRow

TOKEN = "e2e-suite-oncall-token-71c2"
VIEWER = "e2e-suite-oncall-viewer-0b4e"


def _as_declared(sim: GrafanaOnCallSimulator, id_: str) -> bool:
    found: dict[str, Any] | None = sim.get(id_)
    return (
        found is not None
        and found["name"] == NAME
        and found["templates"]["slack"]["title"] == "edited"
        and found["maintenance_mode"] is None
        and str(found["description_short"]).startswith("managed-by=alertsync uid=")
    )


ROW = PlatformRow[GrafanaOnCallSimulator](
    id="grafana-oncall",
    simulator=lambda: GrafanaOnCallSimulator(tokens={TOKEN: "admin", VIEWER: "viewer"}),
    secret={"token": TOKEN},
    read_only_secret={"token": VIEWER},
    declares=lambda: {
        "grafanaOnCall": {"type": "alertmanager", "templates": {"slack": {"title": "first"}}},
    },
    edit={"grafanaOnCall": {"type": "alertmanager", "templates": {"slack": {"title": "edited"}}}},
    edited=lambda sim, id_: (
        (sim.get(id_) or {}).get("templates", {}).get("slack", {}).get("title") == "edited"
    ),
    as_declared=_as_declared,
    objects=lambda sim: [str(item["id"]) for item in sim.integrations()],
    drifts=[
        Drift("renamed", lambda sim, id_: sim.rename(id_, "renamed by hand")),
        Drift("template changed", lambda sim, id_: sim.set_template(id_, "slack.title", "x")),
        Drift("put in maintenance", lambda sim, id_: sim.start_maintenance(id_)),
        Drift("deleted", lambda sim, id_: sim.remove(id_)),
    ],
)
