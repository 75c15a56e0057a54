"""Mackerel: webhook notification channels, their notification groups, and open alerts."""

import httpx

from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.platforms.http import PlatformHttp, Throttle
from alertsync.platforms.mackerel import client
from alertsync.platforms.mackerel.adapter import MackerelAdapter
from alertsync.platforms.mackerel.client import MackerelClient
from alertsync.platforms.mackerel.export import MAPPER

__all__ = ["MAPPER", "MackerelAdapter", "MackerelClient", "build"]


def build(account: PlatformAccount, http_client: httpx.AsyncClient) -> PlatformAdapter:
    http = PlatformHttp(
        client=http_client,
        base_url=account.url.rstrip("/"),
        auth_headers={"X-Api-Key": account.token.get_secret_value()},
        # Mackerel documents no rate limit: only the AlertPlatform's own, if set.
        throttle=Throttle(account.requests_per_minute),
        describe_error=client.describe_error,
        retry_after=client.retry_after,
        platform=account.product_type.value,
    )
    return MackerelAdapter(MackerelClient(http))
