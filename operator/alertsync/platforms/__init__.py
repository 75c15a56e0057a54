"""Platform adapters, and the one place that knows which adapter serves which product.

Each platform is a package here with a `build(account, http_client)` function;
the registry below names them all, so readers and tools see every dependency.
"""

import os
from collections.abc import Callable

import httpx

from alertsync import __version__
from alertsync.models import ProductType
from alertsync.platforms import confluent, grafana_oncall, ilert, mackerel, zstack
from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.platforms.http import DEFAULT_TIMEOUT
from alertsync.redaction import register_secret

__all__ = ["BUILDERS", "SUPPORTED", "build_adapter", "user_agent"]

Build = Callable[[PlatformAccount, httpx.AsyncClient], PlatformAdapter]

BUILDERS: dict[ProductType, Build] = {
    ProductType.GRAFANA_ONCALL: grafana_oncall.build,
    ProductType.CONFLUENT: confluent.build,
    ProductType.MACKEREL: mackerel.build,
    ProductType.ILERT: ilert.build,
    ProductType.ZSTACK: zstack.build,
}
SUPPORTED = frozenset(BUILDERS)


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
    build = BUILDERS.get(account.product_type)
    if build is None:
        raise NotImplementedError(account.product_type)
    for secret in (account.token, account.username):
        if secret is not None:
            register_secret(secret.get_secret_value())
    client = httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT, transport=transport, headers={"User-Agent": user_agent()}
    )
    return build(account, client)
