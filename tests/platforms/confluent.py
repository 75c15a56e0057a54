"""Confluent Cloud notifications in the adapter contract suite and the end-to-end platform suite.

`CASE` is its `PlatformCase` (tests/contract/, tests/property/), `ROW` its `PlatformRow`
(tests/e2e/test_platforms.py). A new platform joins both suites with one such module.
"""

from collections.abc import Callable
from typing import Any

import httpx

from alertsim.confluent import ApiKey, ConfluentSimulator
from alertsim.core import json_response
from alertsync.models import ConfluentSpec, ProductType
from tests.platforms.case import PlatformCase
from tests.platforms.row import NAME, RECEIVER, Drift, PlatformRow
from tests.support.desired import Ask

# The adapter contract suite (tests/contract/) and the property tests (tests/property/).

# Where the contract's integrations deliver (the end-to-end rows use row.RECEIVER).
CONTRACT_RECEIVER = "https://receiver.example.com/team-a"


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
    ask=Ask(ConfluentSpec, url=CONTRACT_RECEIVER, block={"targetKind": "Webhook"}),
    drift=lambda sim, id_: sim.set_url(id_, "https://someone-else.example.com/hook"),
    drifted_field="webhook.url",
    remove=lambda sim, id_: sim.remove(id_),
    add_foreign=lambda sim, name: str(sim.add_integration(name)["id"]),
    hostile_page=_hostile_page,
    two_part_credentials=True,
    disable_by_delete=True,
)


# The end-to-end platform suite (tests/e2e/test_platforms.py).

KEY_ID, SECRET = "E2ESUITEKEY7F3A", "e2e-suite-confluent-secret-c41d"
VIEWER_ID, VIEWER_SECRET = "E2ESUITEVIEW2B9", "e2e-suite-confluent-viewer-8e62"


def managed(sim: ConfluentSimulator) -> list[dict[str, Any]]:
    return [i for i in sim.integrations() if i["target"]["kind"] not in ("RoleEmail", "UserEmail")]


def as_declared(sim: ConfluentSimulator, id_: str) -> bool:
    found: dict[str, Any] | None = sim.get(id_)
    return (
        found is not None
        and found["display_name"] == NAME
        # Slack and MsTeams targets call their URL webhook_url.
        and found["target"] == {"kind": "Slack", "webhook_url": RECEIVER}
        and str(found.get("description", "")).startswith("managed-by=alertsync uid=")
    )


ROW = PlatformRow[ConfluentSimulator](
    id="confluent",
    simulator=lambda: ConfluentSimulator(
        keys={KEY_ID: ApiKey(SECRET), VIEWER_ID: ApiKey(VIEWER_SECRET, role="MetricsViewer")},
        rate=None,
    ),
    secret={"apiKey": KEY_ID, "apiSecret": SECRET},
    credentials={"key": "apiSecret", "usernameKey": "apiKey"},
    declares=lambda: {
        "webhook": {"url": RECEIVER},
        "confluent": {"targetKind": "Webhook"},
    },
    edit={"confluent": {"targetKind": "Slack"}},
    edited=lambda sim, id_: (sim.get(id_) or {}).get("target", {}).get("kind") == "Slack",
    as_declared=as_declared,
    objects=lambda sim: [str(i["id"]) for i in managed(sim)],
    drifts=[
        Drift("url changed", lambda sim, id_: sim.set_url(id_, "https://elsewhere.example/hook")),
        Drift("renamed", lambda sim, id_: sim.rename(id_, "renamed by hand")),
        Drift("deleted", lambda sim, id_: sim.remove(id_)),
    ],
    read_only_secret={"apiKey": VIEWER_ID, "apiSecret": VIEWER_SECRET},
    disable_by_delete=True,
)
