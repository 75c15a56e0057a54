"""iLert in the adapter contract suite and the end-to-end platform suite.

`CASE` is its `PlatformCase` (tests/contract/, tests/property/), `ROW` its `PlatformRow`
(tests/e2e/test_platforms.py). A new platform joins both suites with one such module.
"""

from collections.abc import Callable
from typing import Any

import httpx

from alertsim.core import json_response
from alertsim.ilert import ILertSimulator
from alertsync.models import ILertSpec, ProductType
from tests.platforms.case import PlatformCase
from tests.platforms.row import NAME, Drift, PlatformRow
from tests.support.desired import Ask

# The adapter contract suite (tests/contract/) and the property tests (tests/property/).

# The simulator's policies count from 1: "Default", then "Backup".
DEFAULT_POLICY, BACKUP_POLICY = 1, 2


def _hostile_page(request: httpx.Request, cursor: Callable[[], str]) -> httpx.Response:
    # Offsets: a full page (50) of the ids the cursor names, so only ids can repeat.
    first = int.from_bytes(cursor().encode()) * 100
    items = [{"id": first + i, "name": "n", "integrationType": "API"} for i in range(50)]
    return json_response(200, items)


CASE = PlatformCase[ILertSimulator](
    id="ilert",
    product=ProductType.ILERT,
    url="http://ilert.test",
    simulator=lambda token, _: ILertSimulator(
        keys={token: "admin"}, rate=None, seed=5, escalation_policies=("Default", "Backup")
    ),
    ask=Ask(
        ILertSpec,
        block={
            "integrationType": "PROMETHEUS",
            "escalationPolicyId": DEFAULT_POLICY,
            "alertCreation": "ONE_ALERT_PER_EMAIL",
        },
    ),
    drift=lambda sim, id_: sim.set_escalation_policy(id_, BACKUP_POLICY),
    drifted_field="ilert.escalationPolicyId",
    remove=lambda sim, id_: sim.remove(id_),
    add_foreign=lambda sim, name: str(sim.add_alert_source(name, "PROMETHEUS")["id"]),
    hostile_page=_hostile_page,
    announces_wait=False,
    marker_is_name=True,
)


# The end-to-end platform suite (tests/e2e/test_platforms.py).

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
