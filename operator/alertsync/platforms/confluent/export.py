"""Confluent Cloud notification integrations as AlertIntegrations (spec.confluent).

Mapped as the adapter compares them: the target's kind and the URL it delivers to.
`description` is AlertSync's marker: adoption writes it. Email and in-app
integrations belong to Confluent; they are listed to be reported, never exported.
"""

from collections.abc import Sequence
from typing import Any

from alertsync.models.confluent import WRITABLE_TARGET_KINDS
from alertsync.platforms.base import PlatformAdapter
from alertsync.platforms.confluent.adapter import ConfluentAdapter
from alertsync.platforms.confluent.wire import Integration
from alertsync.platforms.mapping import Found, Mapper, marker_uid

__all__ = ["MAPPER", "found", "listing"]


async def listing(adapter: PlatformAdapter) -> Sequence[Any]:
    """Every integration, email kinds included (the adapter's list_all leaves them out so
    that they are never matched): the same one listing, so they can be reported."""
    if not isinstance(adapter, ConfluentAdapter):
        raise TypeError(f"not a Confluent adapter: {type(adapter).__name__}")
    return await adapter.client.list_integrations()


def found(items: Sequence[Any]) -> list[Found]:
    return [_one(item) for item in items if isinstance(item, Integration)]


def _one(item: Integration) -> Found:
    owner = marker_uid(item.description)
    kind = item.target.kind
    if kind not in WRITABLE_TARGET_KINDS:
        return Found(
            item.id,
            item.display_name,
            owner_uid=owner,
            unsupported=f"a {kind} integration belongs to Confluent Cloud (read-only through "
            "its API); AlertSync manages Webhook, Slack and MsTeams targets",
        )
    return Found(
        item.id,
        item.display_name,
        block={"targetKind": kind},
        webhook_url=item.target.address,
        owner_uid=owner,
    )


MAPPER = Mapper(listing=listing, found=found)
