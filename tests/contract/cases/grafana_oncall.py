"""Grafana OnCall in the adapter contract suite."""

from collections.abc import Callable

import httpx

from alertsim.core import json_response
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsync.models import GrafanaOnCallSpec, ProductType
from tests.contract.platform_case import PlatformCase
from tests.support.desired import Ask

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
