"""ZStack Cloud (SNS HTTP endpoints) in the adapter contract suite."""

from alertsim.zstack import ZStackSimulator
from alertsync.models import ProductType, ZStackSpec
from tests.contract.platform_case import PlatformCase
from tests.support.desired import Ask

TOPIC = "7c1d0e5a9b2f4c3d8e6f1a2b3c4d5e6f"
URL = "http://receiver.test/zstack-alarms"


CASE = PlatformCase[ZStackSimulator](
    id="zstack",
    product=ProductType.ZSTACK,
    url="http://zstack.test:8080",
    # The contract's token is the account's password, its username the account name.
    simulator=lambda token, username: ZStackSimulator(
        accounts={username or "admin": token}, topics={TOPIC: "alarms"}, seed=5
    ),
    ask=Ask(ZStackSpec, url=URL, block={"username": "alarm-bot", "topicUuids": [TOPIC]}),
    drift=lambda sim, id_: sim.set_url(id_, "http://elsewhere.test/hook"),
    drifted_field="webhook.url",
    remove=lambda sim, id_: sim.remove(id_),
    add_foreign=lambda sim, name: str(sim.add_endpoint(name)["uuid"]),
    two_part_credentials=True,
    # ZStack has no rate limit of its own and names no wait: the shared backoff applies.
    announces_wait=False,
)
