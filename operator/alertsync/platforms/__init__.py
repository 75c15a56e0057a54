"""Platform adapters, and the one place that knows which adapter serves which product.

Each platform is a package here with a `build(account, http_client)` function.
"""

import importlib
from collections.abc import Callable

import httpx

from alertsync.models import ProductType
from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.platforms.http import DEFAULT_TIMEOUT
from alertsync.redaction import register_secret

__all__ = ["SUPPORTED", "build_adapter"]

PACKAGES = {
    ProductType.GRAFANA_ONCALL: "grafana_oncall",
    ProductType.CONFLUENT: "confluent",
    ProductType.MACKEREL: "mackerel",
    ProductType.ILERT: "ilert",
    ProductType.ZSTACK: "zstack",
}
SUPPORTED = frozenset(PACKAGES)


def build_adapter(
    account: PlatformAccount, transport: httpx.AsyncBaseTransport | None = None
) -> PlatformAdapter:
    """A new adapter with its own connection pool and throttle for `account`.

    `transport` lets tests serve a simulator in process.
    """
    package = PACKAGES.get(account.product_type)
    if package is None:
        raise NotImplementedError(account.product_type)
    for secret in (account.token, account.username):
        if secret is not None:
            register_secret(secret.get_secret_value())
    module = importlib.import_module(f"alertsync.platforms.{package}")
    build: Callable[[PlatformAccount, httpx.AsyncClient], PlatformAdapter] = module.build
    return build(account, httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, transport=transport))
