"""Confluent Cloud adapter: an AlertIntegration is one notifications/v1 integration.

The integration's target (Webhook, Slack or MsTeams) delivers to
`spec.webhook.url`, so that URL is desired state and drift-checked, like the
target kind, the display name and the marker in `description`.

Integrations have no enable switch: `targetState: disabled` means no
integration on the platform (`disable_by_delete`). Observing a disabled
resource whose integration still exists reports the drift `targetState`;
`update` then deletes it and answers "nothing there, currentState disabled".

Email integrations (RoleEmail, UserEmail, and any kind this code does not know)
belong to Confluent: they are listed by the client but never matched, changed
or deleted here, and a spec asking for one is refused before any call.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from alertsync.errors import AlertSyncError, InvalidSpecError
from alertsync.models import ConfluentSpec, CurrentState, ProductType, TargetState
from alertsync.models.confluent import (
    CONFLUENT_DISPLAY_NAME_MAX,
    READ_ONLY_TARGET_KINDS,
    WRITABLE_TARGET_KINDS,
)
from alertsync.platforms.base import (
    DeliveryTest,
    DesiredIntegration,
    Match,
    Observation,
)
from alertsync.platforms.confluent.client import ConfluentClient
from alertsync.platforms.confluent.wire import Integration
from alertsync.platforms.drift import Drift
from alertsync.platforms.typed import TypedAdapter

__all__ = ["DESCRIPTION_MAX", "TARGET_FIELDS", "ConfluentAdapter"]

DESCRIPTION_MAX = 128
# Drifted-field names that mean "the target changed": a delivery test is due.
TARGET_FIELDS = frozenset({"confluent.targetKind", "webhook.url"})

Desired = DesiredIntegration[ConfluentSpec]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ConfluentAdapter(TypedAdapter[ConfluentSpec, Integration, ConfluentClient]):
    product: ClassVar[ProductType] = ProductType.CONFLUENT
    disable_by_delete: ClassVar[bool] = True
    marks_creates: ClassVar[bool] = True  # the marker is the description
    block_model = ConfluentSpec
    object_model = Integration

    def __init__(self, client: ConfluentClient, clock: Callable[[], datetime] = _now) -> None:
        super().__init__(client)
        self.clock = clock

    def _validate(self, desired: Desired) -> None:
        kind = desired.block.target_kind
        if kind in READ_ONLY_TARGET_KINDS:
            raise InvalidSpecError(
                "spec.confluent.targetKind",
                f"{kind} integrations belong to Confluent Cloud and are read-only through its "
                "API; AlertSync can only create Webhook, Slack or MsTeams targets",
            )
        length = len(desired.display_name)
        if length > CONFLUENT_DISPLAY_NAME_MAX:
            defaulted = desired.display_name == f"{desired.namespace}/{desired.name}"
            raise InvalidSpecError(
                "spec.displayName",
                f"Confluent Cloud allows {CONFLUENT_DISPLAY_NAME_MAX} characters, "
                f"this name has {length}"
                + (" (the default <namespace>/<name>: set a shorter one)" if defaulted else ""),
            )
        if len(desired.marker) > DESCRIPTION_MAX:
            raise InvalidSpecError(
                "metadata.uid",
                f"the marker {desired.marker!r} does not fit Confluent's "
                f"{DESCRIPTION_MAX}-character description",
            )
        url = desired.webhook_url
        if url is None:
            raise InvalidSpecError(
                "spec.webhook.url", f"required: the URL the Confluent {kind} target delivers to"
            )
        if any(char.isspace() for char in url):
            raise InvalidSpecError("spec.webhook.url", "must not contain whitespace")
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise InvalidSpecError("spec.webhook.url", f"is not a valid URL ({exc})") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise InvalidSpecError("spec.webhook.url", "must be an http(s) URL with a host")

    async def list_all(self) -> Sequence[Integration]:
        """Only integrations AlertSync could manage: email kinds are never candidates."""
        return [item for item in await self.client.list_integrations() if _manageable(item)]

    async def _observe(
        self, desired: Desired, listing: Sequence[Integration] | None
    ) -> Observation:
        if listing is None:
            if desired.external_id:
                found = await self.client.get_integration(desired.external_id)
                if found is not None and _manageable(found):
                    return self._compare(desired, found, Match.ID)
            # The API filters by nothing useful (name, description): one full listing.
            candidates: Sequence[Integration] = await self.list_all()
        else:
            candidates = [item for item in listing if _manageable(item)]
            for item in candidates:
                if item.id == desired.external_id:
                    return self._compare(desired, item, Match.ID)
        return self._find(desired, candidates)

    async def _create(self, desired: Desired) -> Observation:
        if desired.target_state is TargetState.DISABLED:
            # Disabled is "no integration": nothing to create.
            return _nothing(desired)
        created = await self.client.create_integration(_payload(desired))
        return self._compare(desired, created, Match.ID)

    async def _update(self, desired: Desired, observed: Observation) -> Observation:
        assert observed.external_id is not None
        id_ = observed.external_id
        if desired.target_state is TargetState.DISABLED:
            await self.client.delete_integration(id_)
            return _nothing(desired)
        drifted = set(observed.drifted_fields)
        full = _payload(desired)
        body: dict[str, Any] = {}
        if "displayName" in drifted:
            body["display_name"] = full["display_name"]
        if "marker" in drifted:
            body["description"] = full["description"]
        if drifted & TARGET_FIELDS:
            # The target is one object: its kind decides which URL field it has.
            body["target"] = full["target"]
        updated = await self.client.update_integration(id_, body or full)
        return self._compare(desired, updated, Match.ID)

    async def delete(self, external_id: str) -> None:
        await self.client.delete_integration(external_id)

    async def _after_write(
        self, desired: Desired, before: Observation | None, after: Observation
    ) -> DeliveryTest | None:
        """With testOnChange, have Confluent send a test notification to a new target."""
        if not desired.block.test_on_change or not after.exists:
            return None
        if before is not None and before.exists and not TARGET_FIELDS & set(before.drifted_fields):
            return None
        url = after.webhook_url or desired.webhook_url
        try:
            await self.client.test_integration(_payload(desired))
        except AlertSyncError as exc:
            # The write is done and will not be repeated: record the failure
            # rather than fail the pass, so the outcome is not lost.
            return DeliveryTest(at=self.clock(), delivered=False, message=exc.message)
        return DeliveryTest(
            at=self.clock(),
            delivered=True,
            message=f"Confluent Cloud delivered a test notification to {url}",
        )

    def _find(self, desired: Desired, candidates: Sequence[Integration]) -> Observation:
        for item in candidates:
            if item.description == desired.marker:
                return self._compare(desired, item, Match.MARKER)
        if desired.target_state is TargetState.DISABLED and not desired.create_pending:
            # Someone else's integration of that name is no business of a resource
            # that wants none; only our own lost create would be ours to remove.
            return _nothing(desired)
        named = [item for item in candidates if item.display_name == desired.display_name]
        if len(named) > 1:
            return Observation.conflict(item.id for item in named)
        if named:
            return self._compare(desired, named[0], Match.NAME)
        return _nothing(desired)

    def _compare(self, desired: Desired, found: Integration, match: Match) -> Observation:
        drift = Drift()
        if desired.target_state is TargetState.DISABLED:
            # Only its existence is wrong: the repair deletes it whatever it holds.
            drift.add("targetState")
        else:
            drift.check("displayName", found.display_name, desired.display_name)
            drift.check("marker", found.description, desired.marker)
            drift.check("confluent.targetKind", found.target.kind, desired.block.target_kind)
            drift.check("webhook.url", found.target.address, desired.webhook_url)
        return drift.observation(match, CurrentState.ENABLED, found.id, found.target.address)


def _manageable(item: Integration) -> bool:
    return item.target.kind in WRITABLE_TARGET_KINDS


def _nothing(desired: Desired) -> Observation:
    """No integration found: the state asked for when disabled, else missing."""
    if desired.target_state is TargetState.DISABLED:
        return Observation(match=Match.NONE, current_state=CurrentState.DISABLED)
    return Observation.absent()


def _payload(desired: Desired) -> dict[str, Any]:
    """Everything AlertSync owns on the integration (create, :test, or a full PATCH)."""
    kind = desired.block.target_kind
    address = "url" if kind == "Webhook" else "webhook_url"
    return {
        "display_name": desired.display_name,
        "description": desired.marker,
        "target": {"kind": kind, address: desired.webhook_url},
    }
