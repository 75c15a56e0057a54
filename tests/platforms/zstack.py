"""ZStack Cloud SNS HTTP endpoints in the adapter contract suite and the end-to-end platform suite.

`CASE` is its `PlatformCase` (tests/contract/, tests/property/), `ROW` its `PlatformRow`
(tests/e2e/test_platforms.py). A new platform joins both suites with one such module.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from alertsim.core import json_response
from alertsim.zstack import ZStackSimulator
from alertsync.models import ProductType, ZStackSpec
from alertsync.platforms.base import PlatformAdapter
from alertsync.platforms.zstack import ZStackAdapter
from tests.platforms.case import PlatformCase
from tests.platforms.row import NAME, RECEIVER, Drift, PlatformRow
from tests.support.desired import Ask

# The adapter contract suite (tests/contract/) and the property tests (tests/property/).

# The contract's SNS topic (the end-to-end row has its own, TOPIC below).
CONTRACT_TOPIC = "7c1d0e5a9b2f4c3d8e6f1a2b3c4d5e6f"
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
        accounts={username or "admin": token}, topics={CONTRACT_TOPIC: "alarms"}, seed=5
    ),
    ask=Ask(ZStackSpec, url=URL, block={"username": "alarm-bot", "topicUuids": [CONTRACT_TOPIC]}),
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


# The end-to-end platform suite (tests/e2e/test_platforms.py).

PASSWORD = "e2e-suite-zstack-password-19af"
VIEWER_PASSWORD = "e2e-suite-zstack-viewer-5c03"
TOPIC = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"
EDITED = "http://127.0.0.1:9/edited"


def as_declared(sim: ZStackSimulator, id_: str) -> bool:
    found: dict[str, Any] | None = sim.get(id_)
    return (
        found is not None
        and found["name"] == NAME
        and found["url"] == EDITED
        and found["state"] == "Enabled"
        and str(found["description"]).startswith("managed-by=alertsync uid=")
        and sim.subscriptions(id_) == {TOPIC}
    )


ROW = PlatformRow[ZStackSimulator](
    id="zstack",
    simulator=lambda: ZStackSimulator(
        accounts={"admin": PASSWORD, "viewer": VIEWER_PASSWORD},
        read_only=["viewer"],
        topics={TOPIC: "alarms"},
    ),
    secret={"accountName": "admin", "password": PASSWORD},
    credentials={"key": "password", "usernameKey": "accountName"},
    declares=lambda: {
        "webhook": {"url": RECEIVER},
        "zstack": {"topicUuids": [TOPIC]},
    },
    edit={"webhook": {"url": EDITED}},
    edited=lambda sim, id_: (sim.get(id_) or {}).get("url") == EDITED,
    as_declared=as_declared,
    objects=lambda sim: [str(e["uuid"]) for e in sim.endpoints()],
    drifts=[
        Drift("url changed", lambda sim, id_: sim.set_url(id_, "http://elsewhere.example/y")),
        Drift("disabled", lambda sim, id_: sim.set_state(id_, "Disabled")),
        Drift("renamed", lambda sim, id_: sim.rename(id_, "renamed by hand")),
        Drift("unsubscribed", lambda sim, id_: sim.unsubscribe(TOPIC, id_)),
        Drift("deleted", lambda sim, id_: sim.remove(id_)),
    ],
    read_only_secret={"accountName": "viewer", "password": VIEWER_PASSWORD},
)
