"""The products AlertSync serves, and each one's block in `AlertIntegration.spec`.

The one place a product joins the API: a member of `ProductType` (the CRDs' productType
enum) and a field of `PlatformBlocks` (its spec block), the field annotated with its
member. `make crds` writes both into the CRDs; the block names come from the fields.
A product's spec model lives in its own module beside this one.
"""

from enum import StrEnum
from typing import Annotated

from pydantic.fields import FieldInfo

from alertsync.models.common import CamelModel
from alertsync.models.confluent import ConfluentSpec
from alertsync.models.grafana_oncall import GrafanaOnCallSpec
from alertsync.models.ilert import ILertSpec
from alertsync.models.mackerel import MackerelSpec
from alertsync.models.zstack import ZStackSpec

__all__ = ["PlatformBlocks", "ProductType"]


class ProductType(StrEnum):
    GRAFANA_ONCALL = "grafana-oncall"
    ILERT = "ilert"
    MACKEREL = "mackerel"
    CONFLUENT = "confluent"
    ZSTACK = "zstack"

    @property
    def block(self) -> str:
        """The name of this product's block in `AlertIntegration.spec` (camelCase)."""
        return _BLOCKS[self][1]

    @property
    def field(self) -> str:
        """The name of this product's block as a field of the spec model (snake_case)."""
        return _BLOCKS[self][0]


class PlatformBlocks(CamelModel):
    """One optional block per product, in the order the CRD lists them: a base of
    AlertIntegrationSpec (which checks that at most one is set)."""

    grafana_on_call: Annotated[GrafanaOnCallSpec | None, ProductType.GRAFANA_ONCALL] = None
    """Grafana OnCall integration settings (productType grafana-oncall)."""
    ilert: Annotated[ILertSpec | None, ProductType.ILERT] = None
    """iLert alert source settings (productType ilert). The source's inbound URL (integrationUrl,
    with its integration key) is reported in status.webhookUrl. iLert alert sources have no
    description field, so spec.displayName (the exact name) is how AlertSync finds the source
    again."""
    mackerel: Annotated[MackerelSpec | None, ProductType.MACKEREL] = None
    """Mackerel notification channel settings (productType mackerel). The channel delivers to
    spec.webhook.url (required). Channels have no enable switch: targetState disabled keeps the
    channel and its id with no events. A channel Mackerel suspended is reported as disabled, not
    changed."""
    confluent: Annotated[ConfluentSpec | None, ProductType.CONFLUENT] = None
    """Confluent Cloud notifications/v1 integration settings (productType confluent). The target
    delivers to spec.webhook.url (required); spec.displayName may have at most 64 characters on
    Confluent. targetState disabled deletes the integration (Confluent has no enable switch)."""
    zstack: Annotated[ZStackSpec | None, ProductType.ZSTACK] = None
    """ZStack Cloud SNS HTTP endpoint settings (productType zstack). The endpoint's name is
    displayName, its URL webhook.url (required) and its state targetState."""


def _product(info: FieldInfo) -> ProductType:
    [product] = [item for item in info.metadata if isinstance(item, ProductType)]
    return product


def _blocks() -> dict[ProductType, tuple[str, str]]:
    """(field, block) of each product, from PlatformBlocks: every product has exactly one."""
    blocks = {
        _product(info): (name, info.alias or name)
        for name, info in PlatformBlocks.model_fields.items()
    }
    missing = set(ProductType) - set(blocks)
    if missing or len(blocks) != len(PlatformBlocks.model_fields):
        raise TypeError(f"PlatformBlocks needs one field per ProductType (missing {missing})")
    return blocks


_BLOCKS = _blocks()
