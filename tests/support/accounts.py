"""A resolved platform account for tests that build adapters without Kubernetes."""

from dataclasses import replace
from typing import Any

from pydantic import SecretStr

from alertsync.models import PlatformKind, ProductType
from alertsync.platforms.base import PlatformAccount


def platform_account(
    url: str,
    token: str,
    product: ProductType = ProductType.GRAFANA_ONCALL,
    **overrides: Any,
) -> PlatformAccount:
    """An AlertPlatform `team-a/oncall` on `url`; keyword arguments replace any field."""
    account = PlatformAccount(
        kind=PlatformKind.NAMESPACED,
        namespace="team-a",
        name="oncall",
        uid="platform-uid",
        display_name="OnCall",
        product_type=product,
        url=url,
        token=SecretStr(token),
    )
    return replace(account, **overrides)
