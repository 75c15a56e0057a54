"""iLert in the adapter contract suite."""

from collections.abc import Callable

import httpx

from alertsim.core import json_response
from alertsim.ilert import ILertSimulator
from alertsync.models import ILertSpec, ProductType
from tests.contract.platform_case import PlatformCase
from tests.support.desired import Ask

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
