"""Grafana OnCall in the adapter contract suite."""

from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsync.models import GrafanaOnCallSpec, ProductType, TargetState
from alertsync.platforms.base import DesiredIntegration
from tests.contract.platform_case import PlatformCase


def _oncall_desired(uid: str, name: str, state: TargetState) -> DesiredIntegration:
    return DesiredIntegration(
        namespace="team-a",
        name="prod-alerts",
        uid=uid,
        display_name=name,
        target_state=state,
        webhook_url=None,
        block=GrafanaOnCallSpec.model_validate(
            {"type": "webhook", "templates": {"groupingKey": "{{ payload.labels.alertname }}"}}
        ),
    )


CASE = PlatformCase[GrafanaOnCallSimulator](
    id="grafana-oncall",
    product=ProductType.GRAFANA_ONCALL,
    url="http://oncall.test",
    simulator=lambda token, _: GrafanaOnCallSimulator(tokens={token: "admin"}, rate=None, seed=5),
    desired=_oncall_desired,
    drift=lambda sim, id_: sim.set_template(id_, "grouping_key", "{{ payload.fingerprint }}"),
    drifted_field="grafanaOnCall.templates.groupingKey",
    remove=lambda sim, id_: sim.remove(id_),
    add_foreign=lambda sim, name: str(sim.add_integration(name=name)["id"]),
)
