"""iLert in the adapter contract suite."""

from alertsim.ilert import ILertSimulator
from alertsync.models import ILertSpec, ProductType
from tests.contract.platform_case import PlatformCase
from tests.support.desired import Ask

# The simulator's policies count from 1: "Default", then "Backup".
DEFAULT_POLICY, BACKUP_POLICY = 1, 2


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
    announces_wait=False,
    marker_is_name=True,
)
