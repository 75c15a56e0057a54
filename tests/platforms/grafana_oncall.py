"""Grafana OnCall in the adapter contract suite and the end-to-end platform suite.

`CASE` is its `PlatformCase` (tests/contract/, tests/property/), `ROW` its `PlatformRow`
(tests/e2e/test_platforms.py). A new platform joins both suites with one such module.
"""

from collections.abc import Callable
from typing import Any

import httpx

from alertsim.core import json_response
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsync.models import GrafanaOnCallSpec, ProductType
from tests.platforms.case import PlatformCase
from tests.platforms.row import NAME, Drift, PlatformRow
from tests.support.desired import Ask

# The adapter contract suite (tests/contract/) and the property tests (tests/property/).

# Teams of the organisation, for namesakes: OnCall refuses a second integration of a name
# within one team, so someone else's namesakes can only live in different teams.
TEAMS = ("TCONTRACTAAAA", "TCONTRACTBBBB")


def _add_foreign(sim: GrafanaOnCallSimulator, name: str) -> str:
    """Someone else's integration of this name, where the engine would let them make it:
    no team if the name is free there, else the first team where it is still free."""
    taken = {item["team_id"] for item in sim.integrations() if item["name"] == name}
    free = [team for team in (None, *TEAMS) if team not in taken]
    if not free:
        raise AssertionError(f"no team left where {name!r} is free: add one to TEAMS")
    return str(sim.add_integration(name=name, team_id=free[0])["id"])


def _hostile_page(request: httpx.Request, cursor: Callable[[], str]) -> httpx.Response:
    at = cursor()
    return json_response(
        200,
        {
            "count": 10**6,
            "next": f"http://oncall.test/api/v1/integrations/?page={at}&perpage=100",
            "results": [{"id": f"C{at}", "name": f"n{at}", "type": "webhook"}],
        },
    )


CASE = PlatformCase[GrafanaOnCallSimulator](
    id="grafana-oncall",
    product=ProductType.GRAFANA_ONCALL,
    url="http://oncall.test",
    simulator=lambda token, _: GrafanaOnCallSimulator(
        tokens={token: "admin"}, teams=TEAMS, rate=None, seed=5
    ),
    ask=Ask(
        GrafanaOnCallSpec,
        block={"type": "webhook", "templates": {"groupingKey": "{{ payload.labels.alertname }}"}},
    ),
    drift=lambda sim, id_: sim.set_template(id_, "grouping_key", "{{ payload.fingerprint }}"),
    drifted_field="grafanaOnCall.templates.groupingKey",
    remove=lambda sim, id_: sim.remove(id_),
    add_foreign=_add_foreign,
    hostile_page=_hostile_page,
)


# The end-to-end platform suite (tests/e2e/test_platforms.py).

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
