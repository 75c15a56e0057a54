"""iLert in the adapter contract suite."""

from alertsim.ilert import ILertSimulator
from alertsync.models import ILertSpec, ProductType, TargetState
from alertsync.platforms.base import DesiredIntegration
from tests.contract.platform_case import PlatformCase

# The simulator's policies count from 1: "Default", then "Backup".
DEFAULT_POLICY, BACKUP_POLICY = 1, 2


def _ilert_desired(uid: str, name: str, state: TargetState) -> DesiredIntegration:
    return DesiredIntegration(
        namespace="team-a",
        name="prod-alerts",
        uid=uid,
        display_name=name,
        target_state=state,
        webhook_url=None,
        block=ILertSpec.model_validate(
            {
                "integrationType": "PROMETHEUS",
                "escalationPolicyId": DEFAULT_POLICY,
                "alertCreation": "ONE_ALERT_PER_EMAIL",
            }
        ),
    )


CASE = PlatformCase[ILertSimulator](
    id="ilert",
    product=ProductType.ILERT,
    url="http://ilert.test",
    simulator=lambda token, _: ILertSimulator(
        keys={token: "admin"}, rate=None, seed=5, escalation_policies=("Default", "Backup")
    ),
    desired=_ilert_desired,
    drift=lambda sim, id_: sim.set_escalation_policy(id_, BACKUP_POLICY),
    drifted_field="ilert.escalationPolicyId",
    remove=lambda sim, id_: sim.remove(id_),
    add_foreign=lambda sim, name: str(sim.add_alert_source(name, "PROMETHEUS")["id"]),
    announces_wait=False,
    marker_is_name=True,
)
