"""iLert: alert sources through the REST API, open alerts through the Alerts API."""

import httpx

from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.platforms.http import PlatformHttp, Throttle
from alertsync.platforms.ilert import client
from alertsync.platforms.ilert.adapter import ILertAdapter
from alertsync.platforms.ilert.client import ILertClient
from alertsync.platforms.ilert.export import MAPPER

__all__ = ["DEFAULT_REQUESTS_PER_MINUTE", "MAPPER", "ILertAdapter", "ILertClient", "build"]

# iLert allows 120 requests a minute per API key and says nothing in its answers about
# what is left: stay 5 % below it (with the throttle's burst, at most 120 in any minute).
DEFAULT_REQUESTS_PER_MINUTE = 114


def build(account: PlatformAccount, http_client: httpx.AsyncClient) -> PlatformAdapter:
    # Every path starts with /api; a URL given as ".../api" would double it.
    base_url = account.url.rstrip("/").removesuffix("/api")
    http = PlatformHttp(
        client=http_client,
        base_url=base_url,
        auth_headers={
            "Authorization": f"Bearer {account.token.get_secret_value()}",
            "Accept": "application/json",
        },
        throttle=Throttle(account.requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE),
        describe_error=client.describe_error,
        retry_after=client.retry_after,
        platform=account.product_type.value,
    )
    return ILertAdapter(ILertClient(http))
