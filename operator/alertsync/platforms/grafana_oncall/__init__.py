"""Grafana OnCall: integrations through the public API v1."""

import httpx

from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.platforms.grafana_oncall import client
from alertsync.platforms.grafana_oncall.adapter import GrafanaOnCallAdapter
from alertsync.platforms.grafana_oncall.client import GrafanaOnCallClient
from alertsync.platforms.grafana_oncall.export import MAPPER
from alertsync.platforms.http import PlatformHttp, Throttle

__all__ = [
    "DEFAULT_REQUESTS_PER_MINUTE",
    "MAPPER",
    "GrafanaOnCallAdapter",
    "GrafanaOnCallClient",
    "build",
]

# OnCall's public API allows 300 requests a minute per user (a sliding window):
# stay 5 % below it (with the throttle's burst, at most 300 in any minute).
DEFAULT_REQUESTS_PER_MINUTE = 285


def build(account: PlatformAccount, http_client: httpx.AsyncClient) -> PlatformAdapter:
    http = PlatformHttp(
        client=http_client,
        base_url=account.url.rstrip("/"),
        auth_headers={"Authorization": account.token.get_secret_value()},
        throttle=Throttle(account.requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE),
        describe_error=client.describe_error,
        retry_after=client.retry_after,
        bad_token=client.bad_token,
        platform=account.product_type.value,
    )
    return GrafanaOnCallAdapter(GrafanaOnCallClient(http))
