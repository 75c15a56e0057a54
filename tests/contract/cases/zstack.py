"""ZStack Cloud (SNS HTTP endpoints) in the adapter contract suite."""

from collections.abc import Awaitable, Callable

import httpx

from alertsim.core import json_response
from alertsim.zstack import ZStackSimulator
from alertsync.models import ProductType, ZStackSpec
from alertsync.platforms.base import PlatformAdapter
from alertsync.platforms.zstack import ZStackAdapter
from tests.contract.platform_case import PlatformCase
from tests.support.desired import Ask

TOPIC = "7c1d0e5a9b2f4c3d8e6f1a2b3c4d5e6f"
URL = "http://receiver.test/zstack-alarms"


def _hostile_page(request: httpx.Request, cursor: Callable[[], str]) -> httpx.Response:
    if request.url.path.endswith("/accounts/login"):
        return json_response(200, {"inventory": {"uuid": "0" * 32}})
    at = cursor()
    endpoint = {"name": "n", "url": "http://x.test", "state": "Enabled"}
    # A full page (100) of the uuids the cursor names; no total, so only the uuids tell.
    inventories = [{**endpoint, "uuid": f"{at}-{i}"} for i in range(100)]
    return json_response(200, {"inventories": inventories})


def _paged_listing(adapter: PlatformAdapter) -> Awaitable[object]:
    assert isinstance(adapter, ZStackAdapter)
    return adapter.client.list_endpoints()


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
    hostile_page=_hostile_page,
    two_part_credentials=True,
    # ZStack has no rate limit of its own and names no wait: the shared backoff applies.
    announces_wait=False,
    paged_listing=_paged_listing,
    listing_logins=1,
)
