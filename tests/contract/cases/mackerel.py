"""Mackerel in the adapter contract suite."""

from alertsim.mackerel import READ_WRITE, MackerelSimulator
from alertsync.models import MackerelSpec, ProductType
from tests.contract.platform_case import PlatformCase
from tests.support.desired import Ask

RECEIVER = "https://receiver.example.com/mackerel/team-a"


CASE = PlatformCase[MackerelSimulator](
    id="mackerel",
    product=ProductType.MACKEREL,
    url="http://mackerel.test",
    simulator=lambda token, _: MackerelSimulator(keys={token: READ_WRITE}, seed=5),
    ask=Ask(MackerelSpec, url=RECEIVER, block={"events": ["alert", "alertGroup"]}),
    drift=lambda sim, id_: sim.set_events(id_, ["alert", "hostStatus"]),
    drifted_field="mackerel.events",
    remove=lambda sim, id_: sim.remove_channel(id_),
    add_foreign=lambda sim, name: str(sim.add_channel(name)["id"]),
    announces_wait=False,
)
