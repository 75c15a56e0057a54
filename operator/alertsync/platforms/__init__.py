"""Platform adapters, and the one place that knows which adapter serves which product."""

import httpx

from alertsync.models import ProductType
from alertsync.platforms import grafana_oncall
from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.platforms.http import DEFAULT_TIMEOUT, PlatformHttp, Throttle
from alertsync.redaction import register_secret

__all__ = ["SUPPORTED", "build_adapter"]

SUPPORTED = frozenset({ProductType.GRAFANA_ONCALL})


def build_adapter(
    account: PlatformAccount, transport: httpx.AsyncBaseTransport | None = None
) -> PlatformAdapter:
    """A new adapter with its own connection pool and throttle for `account`.

    `transport` lets tests serve a simulator in process.
    """
    token = account.token.get_secret_value()
    register_secret(token)
    client = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, transport=transport)
    if account.product_type is ProductType.GRAFANA_ONCALL:
        http = PlatformHttp(
            client=client,
            base_url=account.url.rstrip("/"),
            auth_headers={"Authorization": token},
            throttle=Throttle(account.requests_per_minute),
            describe_error=grafana_oncall.client.describe_error,
            retry_after=grafana_oncall.client.retry_after,
        )
        return grafana_oncall.GrafanaOnCallAdapter(grafana_oncall.GrafanaOnCallClient(http))
    raise NotImplementedError(account.product_type)
