"""Platform adapters, and the one place that knows which platform serves which product.

Each platform is a package here with a `build(account, http_client)` function and an
export `MAPPER`; the registry below names them all, one record each, imported
explicitly so that readers and tools see every dependency (no discovery).
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from alertsync import __version__
from alertsync.models import ProductType
from alertsync.platforms import confluent, grafana_oncall, ilert, mackerel, zstack
from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.platforms.http import DEFAULT_TIMEOUT
from alertsync.platforms.mapping import Mapper
from alertsync.redaction import register_secret

__all__ = ["PLATFORMS", "SUPPORTED", "Build", "Platform", "build_adapter", "user_agent"]

Build = Callable[[PlatformAccount, httpx.AsyncClient], PlatformAdapter]


@dataclass(frozen=True)
class Platform:
    """One platform AlertSync serves: what the runtime, plan and export need of it."""

    product: ProductType
    # A new adapter for an account, on the http client given (its pool and throttle).
    build: Build
    # Its objects as AlertIntegrations, for `alertsync export`.
    mapper: Mapper


def _registry(*platforms: Platform) -> Mapping[ProductType, Platform]:
    table = {platform.product: platform for platform in platforms}
    if len(table) != len(platforms):
        raise ValueError("a product is registered twice")
    return table


PLATFORMS = _registry(
    Platform(ProductType.GRAFANA_ONCALL, grafana_oncall.build, grafana_oncall.MAPPER),
    Platform(ProductType.CONFLUENT, confluent.build, confluent.MAPPER),
    Platform(ProductType.MACKEREL, mackerel.build, mackerel.MAPPER),
    Platform(ProductType.ILERT, ilert.build, ilert.MAPPER),
    Platform(ProductType.ZSTACK, zstack.build, zstack.MAPPER),
)
SUPPORTED = frozenset(PLATFORMS)


def user_agent() -> str:
    """``alertsync/<version> (<pod>)``: which replica sent a request, in a platform's audit log.

    The pod is kopf's peering identity (``POD_ID``, the Pod's name in the chart).
    """
    pod = os.environ.get("POD_ID", "").strip()
    return f"alertsync/{__version__} ({pod})" if pod else f"alertsync/{__version__}"


def build_adapter(
    account: PlatformAccount, transport: httpx.AsyncBaseTransport | None = None
) -> PlatformAdapter:
    """A new adapter with its own connection pool and throttle for `account`.

    `transport` lets tests serve a simulator in process.
    """
    platform = PLATFORMS.get(account.product_type)
    if platform is None:
        raise NotImplementedError(account.product_type)
    for secret in (account.token, account.username):
        if secret is not None:
            register_secret(secret.get_secret_value())
    client = httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT, transport=transport, headers={"User-Agent": user_agent()}
    )
    return platform.build(account, client)
