"""Mackerel in the adapter contract suite."""

from alertsim.mackerel import READ_WRITE, MackerelSimulator
from alertsync.models import MackerelSpec, ProductType, TargetState
from alertsync.platforms.base import DesiredIntegration
from tests.contract.platform_case import PlatformCase

RECEIVER = "https://receiver.example.com/mackerel/team-a"


def _mackerel_desired(uid: str, name: str, state: TargetState) -> DesiredIntegration:
    return DesiredIntegration(
        namespace="team-a",
        name="prod-alerts",
        uid=uid,
        display_name=name,
        target_state=state,
        webhook_url=RECEIVER,
        block=MackerelSpec.model_validate({"events": ["alert", "alertGroup"]}),
    )


CASE = PlatformCase[MackerelSimulator](
    id="mackerel",
    product=ProductType.MACKEREL,
    url="http://mackerel.test",
    simulator=lambda token, _: MackerelSimulator(keys={token: READ_WRITE}, seed=5),
    desired=_mackerel_desired,
    drift=lambda sim, id_: sim.set_events(id_, ["alert", "hostStatus"]),
    drifted_field="mackerel.events",
    remove=lambda sim, id_: sim.remove_channel(id_),
    add_foreign=lambda sim, name: str(sim.add_channel(name)["id"]),
    announces_wait=False,
)
