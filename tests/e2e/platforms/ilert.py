"""iLert in the end-to-end platform suite."""

from typing import Any

from alertsim.ilert import ILertSimulator
from tests.e2e.platforms.row import NAME, Drift, PlatformRow

KEY = "e2e-suite-ilert-key-5d2b91"
READ_ONLY_KEY = "e2e-suite-ilert-stakeholder-77e0"


def simulator() -> ILertSimulator:
    sim = ILertSimulator(keys={KEY: "admin", READ_ONLY_KEY: "stakeholder"})
    sim.add_escalation_policy("second line")
    return sim


def as_declared(sim: ILertSimulator, id_: str) -> bool:
    found: dict[str, Any] | None = sim.alert_source(id_)
    return (
        found is not None
        and found["name"] == NAME
        and found["active"] is True
        and found["escalationPolicy"]["id"] == 1
        and found["alertGroupingWindow"] == "PT30M"
    )


ROW = PlatformRow[ILertSimulator](
    id="ilert",
    simulator=simulator,
    secret={"token": KEY},
    declares=lambda: {
        "ilert": {"integrationType": "PROMETHEUS", "escalationPolicyId": 1},
    },
    edit={
        "ilert": {
            "integrationType": "PROMETHEUS",
            "escalationPolicyId": 1,
            "alertCreation": "ONE_ALERT_GROUPED_PER_WINDOW",
            "alertGroupingWindow": "PT30M",
        }
    },
    edited=lambda sim, id_: (sim.alert_source(id_) or {}).get("alertGroupingWindow") == "PT30M",
    as_declared=as_declared,
    objects=lambda sim: [str(s["id"]) for s in sim.alert_sources()],
    drifts=[
        Drift("renamed", lambda sim, id_: sim.rename(id_, "renamed by hand")),
        Drift("deactivated", lambda sim, id_: sim.deactivate(id_)),
        Drift("escalation policy changed", lambda sim, id_: sim.set_escalation_policy(id_, 2)),
        Drift("deleted", lambda sim, id_: sim.remove(id_)),
    ],
    read_only_secret={"token": READ_ONLY_KEY},
)
