"""ZStack adapter: an AlertIntegration is one SNS HTTP endpoint, ZStack's outbound webhook.

The endpoint is created with a `resourceUuid` derived from the resource's uid, so the
derived uuid is the marker: a create whose outcome was lost is found under it, and a
retried create cannot make a second endpoint (ZStack refuses the uuid the first one took).
The URL is desired state (`spec.webhook.url`), so it is compared; the basic-auth password
is write-only on ZStack and never compared: it is sent with every write, and again when
the value handed over by the core differs from what this adapter last sent.
"""

import hashlib
import hmac
import logging
import secrets
import uuid as uuid_module
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from pydantic import SecretStr

from alertsync.errors import CredentialsMissingError, InvalidSpecError
from alertsync.models import CurrentState, ProductType, TargetState
from alertsync.models.zstack import ZStackSpec
from alertsync.platforms.base import (
    DesiredIntegration,
    Match,
    Observation,
    ReadSecret,
    secret_value,
)
from alertsync.platforms.drift import Drift
from alertsync.platforms.typed import TypedAdapter
from alertsync.platforms.zstack.client import ZStackClient, equals
from alertsync.platforms.zstack.errors import ZStackRejectedError, ZStackUnavailableError
from alertsync.platforms.zstack.wire import HttpEndpoint, Listed

__all__ = ["ZStackAdapter", "resource_uuid", "with_password"]

logger = logging.getLogger(__name__)

# Fixed forever: changing it would orphan every endpoint made before.
_NAMESPACE = uuid_module.uuid5(uuid_module.NAMESPACE_URL, "https://alertsync.dev/zstack/sns")
_STATES = {"Enabled": CurrentState.ENABLED, "Disabled": CurrentState.DISABLED}
# Drifted fields that one updateSNSHttpEndpoint repairs.
_ENDPOINT_FIELDS = frozenset(
    {"displayName", "webhook.url", "marker", "zstack.username", "zstack.passwordSecretRef"}
)
TOPICS_FIELD = "zstack.topicUuids"

Desired = DesiredIntegration[ZStackSpec]


def resource_uuid(uid: str) -> str:
    """The endpoint's uuid for the resource `uid`: 32 hex, a version-5 UUID as ZStack wants."""
    return uuid_module.uuid5(_NAMESPACE, uid).hex


class ZStackAdapter(TypedAdapter[ZStackSpec, Listed, ZStackClient]):
    product: ClassVar[ProductType] = ProductType.ZSTACK
    marks_creates: ClassVar[bool] = True  # resourceUuid is derived from the uid
    block_model = ZStackSpec
    object_model = Listed

    def __init__(self, client: ZStackClient) -> None:
        super().__init__(client)
        # Which password each endpoint was last given, as a keyed hash: ZStack never
        # returns it, so a changed Secret is only seen against what we sent.
        self._sent: dict[str, str] = {}
        self._key = secrets.token_bytes(32)

    async def _with_secrets(self, desired: Desired, read_secret: ReadSecret) -> Desired:
        return await with_password(desired, read_secret)

    def _validate(self, desired: Desired) -> None:
        if not desired.webhook_url:
            raise InvalidSpecError(
                "spec.webhook.url", "required for ZStack: the URL the SNS HTTP endpoint posts to"
            )
        if len(desired.display_name) > 255:
            raise InvalidSpecError("spec.displayName", "ZStack allows 255 characters")
        spec = desired.block
        if spec.password_secret_ref is not None and spec.password is None:
            ref = spec.password_secret_ref
            raise CredentialsMissingError(
                f"spec.zstack.passwordSecretRef: key {ref.key!r} of Secret {ref.name!r} "
                "could not be read"
            )

    async def list_all(self) -> Sequence[Listed]:
        endpoints = await self.client.list_endpoints()
        topics: defaultdict[str, set[str]] = defaultdict(set)
        for subscriber in await self.client.list_subscribers():
            topics[subscriber.endpoint_uuid].add(subscriber.topic_uuid)
        return [Listed(e, frozenset(topics[e.uuid])) for e in endpoints]

    async def _observe(self, desired: Desired, listing: Sequence[Listed] | None) -> Observation:
        derived = resource_uuid(desired.uid)
        if listing is not None:
            topics = {item.uuid: item.topics for item in listing}
            endpoints = [item.endpoint for item in listing]
            for uuid, match in ((desired.external_id, Match.ID), (derived, Match.MARKER)):
                for endpoint in endpoints:
                    if uuid and endpoint.uuid == uuid:
                        return self._compare(desired, endpoint, topics[uuid], match)
            match, picked = self._pick(desired, endpoints)
            if len(picked) != 1:
                return _conflict(picked)
            return self._compare(desired, picked[0], topics[picked[0].uuid], match)

        wanted = list(dict.fromkeys(u for u in (desired.external_id, derived) if u))
        by_uuid = {e.uuid: e for e in await self.client.list_endpoints([_any_of("uuid", wanted)])}
        for uuid, match in ((desired.external_id, Match.ID), (derived, Match.MARKER)):
            if uuid and uuid in by_uuid:
                return await self._compare_fetched(desired, by_uuid[uuid], match)
        # Rare (before a create, after a delete): our marker under another uuid, as the
        # batched listing would find it, so both ways of observing agree.
        marked = equals("description", desired.marker)
        if marked is not None and (found := await self.client.list_endpoints([marked])):
            return await self._compare_fetched(desired, found[0], Match.MARKER)
        condition = equals("name", desired.display_name)
        # A name ZStack would split at an operator is matched here, in the whole listing.
        candidates = await self.client.list_endpoints([condition] if condition else [])
        match, picked = self._pick(desired, candidates)
        if len(picked) != 1:
            return _conflict(picked)
        return await self._compare_fetched(desired, picked[0], match)

    async def _create(self, desired: Desired) -> Observation:
        spec = desired.block
        uuid = resource_uuid(desired.uid)
        if spec.topic_uuids:
            await self._require_topics(spec.topic_uuids)
        params = {**self._owned(desired), "resourceUuid": uuid}
        current: frozenset[str] = frozenset()  # a new endpoint subscribes to nothing
        try:
            created = await self.client.create_endpoint(params)
        except (ZStackRejectedError, ZStackUnavailableError) as exc:
            # ZStack answered and said no. If our uuid is taken, it is taken by our own
            # earlier create whose outcome never reached us: that endpoint is the one.
            if await self.client.get_endpoint(uuid) is None:
                raise
            logger.info("endpoint %s exists already (an earlier create landed): %s", uuid, exc)
            created = await self.client.update_endpoint(uuid, self._owned(desired))
            if spec.topic_uuids is not None:
                current = await self._topics_of(uuid)
        self._note_sent(uuid, desired)
        enabled = created.state != "Disabled"
        if enabled != (desired.target_state is TargetState.ENABLED):
            await self.client.change_state(uuid, enable=not enabled)
        if spec.topic_uuids is not None:
            await self._subscribe_exactly(uuid, frozenset(spec.topic_uuids), current)
        return await self._reread(desired, uuid)

    async def _update(self, desired: Desired, observed: Observation) -> Observation:
        assert observed.external_id is not None
        uuid = observed.external_id
        drifted = set(observed.drifted_fields)
        if drifted & _ENDPOINT_FIELDS:
            await self.client.update_endpoint(uuid, self._owned(desired))
            self._note_sent(uuid, desired)
        enabled = observed.current_state is CurrentState.ENABLED
        if desired.target_state is TargetState.DISABLED and enabled:
            await self.client.change_state(uuid, enable=False)
        elif desired.target_state is TargetState.ENABLED and not enabled:
            await self.client.change_state(uuid, enable=True)
        wanted = desired.block.topic_uuids
        if TOPICS_FIELD in drifted and wanted is not None:
            await self._repair_topics(uuid, frozenset(wanted))
        return await self._reread(desired, uuid)

    async def delete(self, external_id: str) -> None:
        await self.client.delete_endpoint(external_id)
        self._sent.pop(external_id, None)

    async def aclose(self) -> None:
        await self.client.logout()
        await super().aclose()

    # -- helpers ---------------------------------------------------------------------------

    def _owned(self, desired: Desired) -> dict[str, Any]:
        """What AlertSync keeps on the endpoint; ZStack leaves fields a request omits alone."""
        spec = desired.block
        fields: dict[str, Any] = {
            "name": desired.display_name,
            "url": desired.webhook_url,
            "description": desired.marker,
        }
        if spec.username is not None:
            fields["username"] = spec.username
        if spec.password is not None:
            fields["password"] = spec.password.get_secret_value()
        return fields

    def _fingerprint(self, desired: Desired) -> str | None:
        password = desired.block.password
        if password is None:
            return None
        return hmac.new(self._key, password.get_secret_value().encode(), hashlib.sha256).hexdigest()

    def _note_sent(self, uuid: str, desired: Desired) -> None:
        fingerprint = self._fingerprint(desired)
        if fingerprint is not None:
            self._sent[uuid] = fingerprint

    async def _require_topics(self, topics: Iterable[str]) -> None:
        wanted = sorted(set(topics))
        known = {topic.uuid for topic in await self.client.list_topics(wanted)}
        missing = [topic for topic in wanted if topic not in known]
        if missing:
            raise InvalidSpecError(
                "spec.zstack.topicUuids",
                f"no SNS topic {', '.join(missing)} on the ZStack platform: create it there "
                "or remove it from the list",
            )

    async def _topics_of(self, uuid: str) -> frozenset[str]:
        return frozenset(s.topic_uuid for s in await self.client.list_subscribers([uuid]))

    async def _repair_topics(self, uuid: str, wanted: frozenset[str]) -> None:
        current = await self._topics_of(uuid)
        if wanted - current:
            await self._require_topics(wanted - current)
        await self._subscribe_exactly(uuid, wanted, current)

    async def _subscribe_exactly(
        self, uuid: str, wanted: frozenset[str], current: frozenset[str]
    ) -> None:
        for topic in sorted(wanted - current):
            await self.client.subscribe(topic, uuid)
        for topic in sorted(current - wanted):
            await self.client.unsubscribe(topic, uuid)

    async def _reread(self, desired: Desired, uuid: str) -> Observation:
        found = await self.client.get_endpoint(uuid)
        if found is None:
            return Observation.absent()
        return await self._compare_fetched(desired, found, Match.ID)

    async def _compare_fetched(
        self, desired: Desired, found: HttpEndpoint, match: Match
    ) -> Observation:
        """Compare, reading the subscriptions only when the spec lists topics."""
        topics: frozenset[str] | None = None
        if desired.block.topic_uuids is not None:
            topics = await self._topics_of(found.uuid)
        return self._compare(desired, found, topics, match)

    @staticmethod
    def _pick(
        desired: Desired, candidates: Sequence[HttpEndpoint]
    ) -> tuple[Match, list[HttpEndpoint]]:
        """Ours by marker first, else every endpoint of the name (names are not unique)."""
        for endpoint in candidates:
            if endpoint.description == desired.marker:
                return Match.MARKER, [endpoint]
        named = [e for e in candidates if e.name == desired.display_name]
        return (Match.NAME if named else Match.NONE), named

    def _compare(
        self,
        desired: Desired,
        found: HttpEndpoint,
        topics: frozenset[str] | None,
        match: Match,
    ) -> Observation:
        spec = desired.block
        drift = Drift()
        drift.check("displayName", found.name, desired.display_name)
        drift.check("webhook.url", found.url, desired.webhook_url)
        drift.check("marker", found.description, desired.marker)
        drift.check_if_set("zstack.username", found.username, spec.username)
        # Only a password given before and now another is news; with none given, ZStack
        # keeps whatever it has (its updates leave out what a request omits).
        sent, given = self._sent.get(found.uuid), self._fingerprint(desired)
        if sent is not None and given is not None and sent != given:
            drift.add("zstack.passwordSecretRef")
        wanted = spec.topic_uuids
        if wanted is not None and topics is not None:
            drift.check(TOPICS_FIELD, topics, frozenset(wanted))
        state = _STATES.get(found.state, CurrentState.UNKNOWN)
        drift.check_state(state, desired.target_state)
        return drift.observation(match, state, found.uuid, found.url)


async def with_password(desired: Desired, read_secret: ReadSecret) -> Desired:
    """The endpoint's basic-auth password, from the Secret spec.zstack names."""
    ref = desired.block.password_secret_ref
    if ref is None:
        return desired
    password = await secret_value(
        read_secret, desired.namespace, ref.name, ref.key, "spec.zstack.passwordSecretRef"
    )
    return replace(desired, block=desired.block.with_password(SecretStr(password)))


def _any_of(name: str, values: Sequence[str]) -> str:
    return f"{name}?={','.join(values)}" if len(values) > 1 else f"{name}={values[0]}"


def _conflict(named: Sequence[HttpEndpoint]) -> Observation:
    """No candidate (absent), or several of the name (AlertSync will not guess)."""
    if not named:
        return Observation.absent()
    return Observation.conflict(e.uuid for e in named)
