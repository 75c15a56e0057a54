"""Confluent Cloud in the adapter contract suite."""

from collections.abc import Callable

import httpx

from alertsim.confluent import ApiKey, ConfluentSimulator
from alertsim.core import json_response
from alertsync.models import ConfluentSpec, ProductType
from tests.contract.platform_case import PlatformCase
from tests.support.desired import Ask

RECEIVER = "https://receiver.example.com/team-a"


def _confluent_simulator(secret: str, key_id: str | None) -> ConfluentSimulator:
    assert key_id is not None, "Confluent uses two-part credentials"
    # The organisation's default RoleEmail integration is there, as on the platform.
    return ConfluentSimulator(keys={key_id: ApiKey(secret)}, rate=None, seed=5)


def _hostile_page(request: httpx.Request, cursor: Callable[[], str]) -> httpx.Response:
    at = cursor()
    return json_response(
        200,
        {
            "metadata": {
                "next": f"http://confluent.test/notifications/v1/integrations?page_token={at}"
            },
            "data": [{"id": f"I{at}", "display_name": "d", "target": {"kind": "Webhook"}}],
        },
    )


CASE = PlatformCase[ConfluentSimulator](
    id="confluent",
    product=ProductType.CONFLUENT,
    url="http://confluent.test",
    simulator=_confluent_simulator,
    ask=Ask(ConfluentSpec, url=RECEIVER, block={"targetKind": "Webhook"}),
    drift=lambda sim, id_: sim.set_url(id_, "https://someone-else.example.com/hook"),
    drifted_field="webhook.url",
    remove=lambda sim, id_: sim.remove(id_),
    add_foreign=lambda sim, name: str(sim.add_integration(name)["id"]),
    hostile_page=_hostile_page,
    two_part_credentials=True,
    disable_by_delete=True,
)
