"""What an AlertIntegration asks of an adapter, for tests that call adapters directly.

Each test file (and each contract case) describes its platform's ask once, as an `Ask`
with its spec model and its defaults, and then writes only what a test changes:
`desired({"events": ["alert"]}, state=TargetState.DISABLED)`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from pydantic import BaseModel

from alertsync.models import TargetState
from alertsync.platforms.base import DesiredIntegration

__all__ = ["UID", "Ask", "Changes"]

UID = "0f6c1a52-7d0e-4f0b-9d1e-3c2b1a000001"


class Changes(TypedDict, total=False):
    """What a test may change of the ask (any other field keeps the `Ask`'s default)."""

    uid: str
    name: str  # the display name
    url: str | None  # spec.webhook.url
    state: TargetState
    external_id: str | None  # the id recorded in status
    create_pending: bool
    resource: str  # the AlertIntegration's metadata.name


@dataclass(frozen=True)
class Ask:
    """An AlertIntegration `team-a/<resource>` whose platform block is a `spec`."""

    spec: type[BaseModel]
    uid: str = UID
    name: str = "team-a prod alerts"
    url: str | None = None
    resource: str = "prod-alerts"
    # The block when a test gives none (or an empty one), as a user writes it.
    block: Mapping[str, Any] = field(default_factory=dict)

    def __call__(
        self, block: Mapping[str, Any] | None = None, **changes: Unpack[Changes]
    ) -> DesiredIntegration:
        """The ask with `block` (as a user writes it) and `changes`."""
        return DesiredIntegration(
            namespace="team-a",
            name=changes.get("resource", self.resource),
            uid=changes.get("uid", self.uid),
            display_name=changes.get("name", self.name),
            target_state=changes.get("state", TargetState.ENABLED),
            webhook_url=changes.get("url", self.url),
            block=self.spec.model_validate(block or self.block),
            external_id=changes.get("external_id"),
            create_pending=changes.get("create_pending", False),
        )
