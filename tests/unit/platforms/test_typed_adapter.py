"""The typed adapter base: what the core hands an adapter is checked to be its own, once."""

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from alertsync.errors import InvalidSpecError
from alertsync.models import GrafanaOnCallSpec, MackerelSpec, ProductType, TargetState
from alertsync.platforms import build_adapter
from alertsync.platforms.base import DesiredIntegration, Match, PlatformAdapter
from alertsync.platforms.grafana_oncall.wire import OnCallIntegration
from alertsync.platforms.zstack.wire import HttpEndpoint, Listed
from tests.support.accounts import platform_account

UID = "0f6c1a52-7d0e-4f0b-9d1e-3c2b1a000001"
ASK: DesiredIntegration = DesiredIntegration(
    namespace="team-a",
    name="prod-alerts",
    uid=UID,
    display_name="team-a prod alerts",
    target_state=TargetState.DISABLED,
    webhook_url="https://hooks.example/in",
    block=GrafanaOnCallSpec(),
    external_id="C1",
    create_pending=True,
)


def unreachable(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected, got {request.method} {request.url}")


@pytest.fixture
async def adapter() -> AsyncIterator[PlatformAdapter]:
    account = platform_account("http://oncall.test", "token", ProductType.GRAFANA_ONCALL)
    built = build_adapter(account, transport=httpx.MockTransport(unreachable))
    yield built
    await built.aclose()


def integration(id_: str, name: str) -> OnCallIntegration:
    return OnCallIntegration(id=id_, name=name, type="webhook", description_short=ASK.marker)


def test_with_block_keeps_every_other_field() -> None:
    other = MackerelSpec()
    assert ASK.with_block(other) == dataclasses.replace(ASK, block=other)


def test_another_platforms_block_is_refused_with_this_platforms_field(
    adapter: PlatformAdapter,
) -> None:
    with pytest.raises(InvalidSpecError) as refused:
        adapter.validate(dataclasses.replace(ASK, block=MackerelSpec()))
    assert refused.value.field == "spec.grafanaOnCall"


async def test_a_listing_of_its_own_objects_is_used_without_a_request(
    adapter: PlatformAdapter,
) -> None:
    listing = [integration("C1", ASK.display_name)]
    seen = await adapter.observe(ASK, listing)
    assert (seen.match, seen.external_id) == (Match.ID, "C1")
    # The same listing again (a resync hands it to every observe): still no request.
    assert await adapter.observe(ASK, listing) == seen


async def test_a_listing_of_another_platforms_objects_is_refused(
    adapter: PlatformAdapter,
) -> None:
    endpoint = HttpEndpoint(uuid="u1", name=ASK.display_name, url="https://x", state="Enabled")
    with pytest.raises(TypeError, match="grafana-oncall"):
        await adapter.observe(ASK, [integration("C1", "a"), Listed(endpoint, frozenset())])
