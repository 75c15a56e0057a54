"""iLert adapter: an AlertIntegration is one iLert alert source.

The source's `integrationUrl` (it carries the integration key) is where monitoring tools
post events: server-owned, reported as status.webhookUrl, never compared; the key is
registered as a secret so that no message shows it. `targetState` is the source's
`active` switch.

Marker: iLert alert sources have no description, label or other free-text field, so the
marker is the exact name (== displayName). A name alone cannot prove the source is ours,
so a source found without its stored id is always `Match.NAME`, never `Match.MARKER`: the
reconciler takes it as its own only while a create of this resource is pending (a crash
or a lost answer between create and the status write), adopts it only with
`adoptionPolicy: AdoptExisting`, and reports several as a conflict without guessing.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from alertsync.errors import InvalidSpecError
from alertsync.models import CurrentState, ILertSpec, ProductType, TargetState
from alertsync.models.ilert import duration_seconds
from alertsync.platforms.base import DesiredIntegration, Match, Observation
from alertsync.platforms.drift import Drift
from alertsync.platforms.ilert.client import ILertClient
from alertsync.platforms.ilert.wire import ILertAlertSource
from alertsync.platforms.typed import TypedAdapter
from alertsync.redaction import register_secret

__all__ = ["OPEN_STATES", "ILertAdapter"]

# The alert states that still page someone.
OPEN_STATES = ("PENDING", "ACCEPTED")
# iLert (and its Terraform provider) store names of up to 255 characters.
MAX_NAME = 255
# An escalation policy seen to exist is not looked up again for this long: a
# mass create for one team checks its policy once, not once per source.
POLICY_SEEN_SECONDS = 600.0
# The open alerts of every source are listed once for this long: a resync's
# passes, run together, share one listing of open alerts instead of one count
# request per source.
OPEN_ALERTS_SECONDS = 5.0

Desired = DesiredIntegration[ILertSpec]


class ILertAdapter(TypedAdapter[ILertSpec, ILertAlertSource, ILertClient]):
    product: ClassVar[ProductType] = ProductType.ILERT
    block_model = ILertSpec
    object_model = ILertAlertSource

    def __init__(self, client: ILertClient, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(client)
        self.clock = clock
        self._policies_seen: dict[int, float] = {}
        self._open: tuple[float, Mapping[int, int]] | None = None
        self._open_lock = asyncio.Lock()
        # When each source was created, for OPEN_ALERTS_SECONDS: a source that new is
        # counted 0 (it had none a moment ago), so a mass create lists no alerts.
        self._created: dict[int, float] = {}
        self._policy_lock = asyncio.Lock()

    def _default_block(self) -> ILertSpec:
        raise InvalidSpecError(
            "spec.ilert", "required for an iLert platform: set at least escalationPolicyId"
        )

    def _validate(self, desired: Desired) -> None:
        if len(desired.display_name) > MAX_NAME:
            raise InvalidSpecError("spec.displayName", f"iLert allows {MAX_NAME} characters")

    async def list_all(self) -> Sequence[ILertAlertSource]:
        return await self.client.list_alert_sources()

    async def _observe(
        self, desired: Desired, listing: Sequence[ILertAlertSource] | None
    ) -> Observation:
        if listing is None:
            if desired.external_id:
                found = await self.client.get_alert_source(desired.external_id)
                if found is not None:
                    return self._compare(desired, found, Match.ID)
            # No server-side name filter is documented: the name is looked up in the list.
            candidates: Sequence[ILertAlertSource] = await self.client.list_alert_sources()
        else:
            for item in listing:
                if str(item.id) == desired.external_id:
                    return self._compare(desired, item, Match.ID)
            candidates = listing
        return self._find(desired, candidates)

    async def _create(self, desired: Desired) -> Observation:
        await self._require_policy(desired.block)
        return await self._post(desired)

    async def _update(self, desired: Desired, observed: Observation) -> Observation:
        assert observed.external_id is not None
        id_ = observed.external_id
        spec = desired.block
        if observed.recreate_reason:
            # Checked before the delete: a refused create must not leave nothing behind.
            await self._require_policy(spec)
            if spec.resolve_open_alerts_on_delete:
                await self._resolve_open(id_)
            await self.client.delete_alert_source(id_)
            return await self._post(desired)
        if not observed.drifted_fields:
            found = await self.client.get_alert_source(id_)
            return (
                Observation.absent() if found is None else self._compare(desired, found, Match.ID)
            )
        if "ilert.escalationPolicyId" in observed.drifted_fields:
            await self._require_policy(spec)
        updated = await self.client.update_alert_source(id_, _owned(desired))
        return self._compare(desired, updated, Match.ID)

    async def delete(self, external_id: str) -> None:
        await self.client.delete_alert_source(external_id)

    # -- the Alerts API ----------------------------------------------------------------------

    async def _open_alerts(self, desired: Desired, observed: Observation) -> int | None:
        """PENDING and ACCEPTED alerts of the source, from one listing shared by all."""
        if not observed.exists or not (observed.external_id or "").isdigit():
            return None
        assert observed.external_id is not None
        created = self._created.get(int(observed.external_id))
        if created is not None and self.clock() - created < OPEN_ALERTS_SECONDS:
            return 0
        return (await self._open_counts()).get(int(observed.external_id), 0)

    async def _open_counts(self) -> Mapping[int, int]:
        async with self._open_lock:  # one listing at a time; the others use it
            if self._open is not None and self.clock() - self._open[0] < OPEN_ALERTS_SECONDS:
                return self._open[1]
            taken = self.clock()
            self._created = {
                id_: at for id_, at in self._created.items() if taken - at < OPEN_ALERTS_SECONDS
            }
            alerts = await self.client.list_alerts((), OPEN_STATES)
            counts = Counter(a.alert_source.id for a in alerts if a.alert_source is not None)
            self._open = (taken, counts)
            return counts

    async def _before_delete(self, desired: Desired, external_id: str) -> str | None:
        """With `resolveOpenAlertsOnDelete`, resolve the source's open alerts first."""
        if not desired.block.resolve_open_alerts_on_delete:
            return None
        resolved = await self._resolve_open(external_id)
        noun = "alert" if resolved == 1 else "alerts"
        return f"resolved {resolved} open {noun} of alert source {external_id}"

    async def _resolve_open(self, external_id: str) -> int:
        if not external_id.isdigit():
            return 0
        # Every page first: resolving while paging would shift the later pages.
        alerts = await self.client.list_alerts([int(external_id)], OPEN_STATES)
        resolved = 0
        for alert in alerts:
            if await self.client.resolve_alert(alert.id) is not None:
                resolved += 1
        return resolved

    # -- matching and comparing --------------------------------------------------------------

    async def _post(self, desired: Desired) -> Observation:
        """Create the source; the escalation policy is known to exist."""
        body = {"integrationType": desired.block.integration_type, **_owned(desired)}
        created = await self.client.create_alert_source(body)
        self._created[created.id] = self.clock()
        return self._compare(desired, created, Match.ID)

    async def _require_policy(self, spec: ILertSpec) -> None:
        """iLert refuses a source without a valid policy; say which spec field to fix."""
        policy = spec.escalation_policy_id
        # One check at a time: the creates of a mass apply wait for the first one's answer.
        async with self._policy_lock:
            seen = self._policies_seen.get(policy)
            if seen is not None and self.clock() - seen < POLICY_SEEN_SECONDS:
                return
            if await self.client.get_escalation_policy(policy) is None:
                self._policies_seen.pop(policy, None)
                raise InvalidSpecError(
                    "spec.ilert.escalationPolicyId",
                    f"escalation policy {policy} does not exist on iLert (or "
                    "this API key cannot see it): use the id of an existing escalation policy",
                )
            self._policies_seen[policy] = self.clock()

    def _find(self, desired: Desired, candidates: Sequence[ILertAlertSource]) -> Observation:
        named = [item for item in candidates if item.name == desired.display_name]
        if len(named) > 1:
            return Observation.conflict(str(item.id) for item in named)
        if named:
            return self._compare(desired, named[0], Match.NAME)
        return Observation.absent()

    def _compare(self, desired: Desired, found: ILertAlertSource, match: Match) -> Observation:
        spec = desired.block
        if found.integration_key:
            register_secret(found.integration_key)
        drift = Drift()
        drift.check("displayName", found.name, desired.display_name)
        policy = found.escalation_policy.id if found.escalation_policy else None
        drift.check("ilert.escalationPolicyId", policy, spec.escalation_policy_id)
        if spec.teams is not None:
            drift.check("ilert.teams", {team.id for team in found.teams}, set(spec.teams))
        drift.check_if_set("ilert.alertCreation", found.alert_creation, spec.alert_creation)
        rule = spec.alert_priority_rule
        drift.check_if_set("ilert.alertPriorityRule", found.alert_priority_rule, rule)
        # Compared by length: iLert may answer PT1H for PT60M.
        for name, remote, wanted in (
            ("alertGroupingWindow", found.alert_grouping_window, spec.alert_grouping_window),
            ("autoResolutionTimeout", found.auto_resolution_timeout, spec.auto_resolution_timeout),
        ):
            if wanted is not None:
                drift.check(f"ilert.{name}", duration_seconds(remote), duration_seconds(wanted))
        enabled = found.active and found.status != "DISABLED"
        state = CurrentState.ENABLED if enabled else CurrentState.DISABLED
        drift.check_state(state, desired.target_state)
        if found.integration_type != spec.integration_type:
            drift.recreate(
                "ilert.integrationType",
                f"integrationType is {found.integration_type} on iLert and "
                f"{spec.integration_type} in the spec; iLert cannot change it in place (the new "
                "alert source gets a new integration key and URL)",
            )
        return drift.observation(match, state, str(found.id), found.integration_url)


def _owned(desired: Desired) -> dict[str, Any]:
    """What AlertSync owns on the source; the rest of a PUT comes from a fresh read."""
    spec = desired.block
    body: dict[str, Any] = {
        "name": desired.display_name,
        "escalationPolicy": {"id": spec.escalation_policy_id},
        "active": desired.target_state is TargetState.ENABLED,
    }
    if spec.teams is not None:
        body["teams"] = [{"id": team} for team in spec.teams]
    if spec.alert_creation is not None:
        body["alertCreation"] = spec.alert_creation
    if spec.alert_priority_rule is not None:
        body["alertPriorityRule"] = spec.alert_priority_rule
    if spec.alert_grouping_window is not None:
        body["alertGroupingWindow"] = spec.alert_grouping_window
    if spec.auto_resolution_timeout is not None:
        body["autoResolutionTimeout"] = spec.auto_resolution_timeout
    return body
