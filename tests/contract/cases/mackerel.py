"""Mackerel in the adapter contract suite."""

from collections.abc import Awaitable, Callable

import httpx

from alertsim.core import json_response
from alertsim.mackerel import READ_WRITE, MackerelSimulator
from alertsync.models import MackerelSpec, ProductType
from alertsync.platforms.base import PlatformAdapter
from alertsync.platforms.mackerel import MackerelAdapter
from tests.contract.platform_case import PlatformCase
from tests.support.desired import Ask

RECEIVER = "https://receiver.example.com/mackerel/team-a"


def _hostile_page(request: httpx.Request, cursor: Callable[[], str]) -> httpx.Response:
    at = cursor()
    alert = {"id": f"A{at}", "status": "OK", "monitorId": "m", "type": "host", "openedAt": 1}
    return json_response(200, {"alerts": [alert], "nextId": at})


def _paged_listing(adapter: PlatformAdapter) -> Awaitable[object]:
    """Mackerel's channels are one page; its alerts are paged."""
    assert isinstance(adapter, MackerelAdapter)
    return adapter.client.list_alerts()


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
    hostile_page=_hostile_page,
    announces_wait=False,
    paged_listing=_paged_listing,
)
