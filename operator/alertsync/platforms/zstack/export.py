"""ZStack SNS HTTP endpoints as AlertIntegrations (spec.zstack, spec.webhook).

Mapped as the adapter compares them: URL, state, basic-auth user and the topics the
endpoint subscribes to. The password is write-only on ZStack: never read, never
exported (without spec.zstack.passwordSecretRef, AlertSync leaves it as it is).
`description` is AlertSync's marker: adoption writes it.
"""

from collections.abc import Sequence
from typing import Any

from alertsync.models import TargetState
from alertsync.platforms.mapping import Found, Mapper, list_all, marker_uid
from alertsync.platforms.zstack.wire import Listed

__all__ = ["MAPPER", "found"]

_STATES = {"Enabled": TargetState.ENABLED, "Disabled": TargetState.DISABLED}


def found(listing: Sequence[Any]) -> list[Found]:
    return [_one(item) for item in listing if isinstance(item, Listed)]


def _one(item: Listed) -> Found:
    endpoint = item.endpoint
    owner = marker_uid(endpoint.description)
    state = _STATES.get(endpoint.state)
    if state is None:
        return Found(
            endpoint.uuid,
            endpoint.name,
            owner_uid=owner,
            unsupported=f"its state is {endpoint.state}, neither Enabled nor Disabled",
        )
    # Written even when empty: AlertSync then keeps the endpoint subscribed to nothing.
    block: dict[str, Any] = {"topicUuids": sorted(item.topics)}
    if endpoint.username:
        block["username"] = endpoint.username
    return Found(
        endpoint.uuid,
        endpoint.name,
        block=block,
        target_state=state,
        webhook_url=endpoint.url,
        owner_uid=owner,
    )


MAPPER = Mapper(listing=list_all, found=found)
