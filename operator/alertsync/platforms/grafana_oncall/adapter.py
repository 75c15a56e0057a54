"""Grafana OnCall adapter: an AlertIntegration is one OnCall integration.

The integration's `link` is the inbound URL monitoring tools post to; it is
server-owned, so it is reported as status.webhookUrl and never compared.
OnCall has no enable switch: `targetState: disabled` keeps the integration
(and its link) in debug maintenance, which silences escalations.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from pydantic.alias_generators import to_camel

from alertsync.errors import InvalidSpecError
from alertsync.models import CurrentState, GrafanaOnCallSpec, ProductType, TargetState
from alertsync.platforms.base import DesiredIntegration, Match, Observation
from alertsync.platforms.drift import Drift
from alertsync.platforms.grafana_oncall.client import GrafanaOnCallClient
from alertsync.platforms.grafana_oncall.wire import OnCallIntegration
from alertsync.platforms.typed import TypedAdapter

__all__ = ["GrafanaOnCallAdapter"]

MAINTENANCE_MODE = "debug"
# Long, so that re-arming after it lapses is rare; OnCall accepts any duration.
MAINTENANCE_SECONDS = 90 * 24 * 3600


Desired = DesiredIntegration[GrafanaOnCallSpec]


class GrafanaOnCallAdapter(TypedAdapter[GrafanaOnCallSpec, OnCallIntegration, GrafanaOnCallClient]):
    product: ClassVar[ProductType] = ProductType.GRAFANA_ONCALL
    marks_creates: ClassVar[bool] = True  # the marker is the description
    block_model = GrafanaOnCallSpec
    object_model = OnCallIntegration

    def _validate(self, desired: Desired) -> None:
        if len(desired.display_name) > 150:
            raise InvalidSpecError("spec.displayName", "Grafana OnCall allows 150 characters")

    async def list_all(self) -> Sequence[OnCallIntegration]:
        return await self.client.list_integrations()

    async def _observe(
        self, desired: Desired, listing: Sequence[OnCallIntegration] | None
    ) -> Observation:
        if listing is None:
            if desired.external_id:
                found = await self.client.get_integration(desired.external_id)
                if found is not None:
                    return self._compare(desired, found, Match.ID)
            candidates: Sequence[OnCallIntegration] = await self.client.list_integrations(
                name=desired.display_name
            )
            if not candidates and desired.create_pending:
                # Our own create, renamed before its id was recorded: only the
                # marker finds it then. Rare, so the full listing is affordable.
                candidates = await self.client.list_integrations()
        else:
            for item in listing:
                if item.id == desired.external_id:
                    return self._compare(desired, item, Match.ID)
            candidates = listing
        return self._find(desired, candidates)

    async def _create(self, desired: Desired) -> Observation:
        created = await self.client.create_integration(
            {"type": desired.block.type, **_payload(desired)}
        )
        if desired.target_state is TargetState.DISABLED:
            await self.client.start_maintenance(created.id, MAINTENANCE_MODE, MAINTENANCE_SECONDS)
            created = created.model_copy(update={"maintenance_mode": MAINTENANCE_MODE})
        # The answer is the object as stored: no re-read (each request is budget).
        return self._compare(desired, created, Match.ID)

    async def _update(self, desired: Desired, observed: Observation) -> Observation:
        assert observed.external_id is not None
        if observed.recreate_reason:
            await self.client.delete_integration(observed.external_id)
            return await self._create(desired)
        id_ = observed.external_id
        enabled = observed.current_state is CurrentState.ENABLED
        updated: OnCallIntegration | None = None
        if set(observed.drifted_fields) - {"targetState"}:
            # One PUT: the server takes team and route together, whichever team
            # the escalation chain belongs to (checked against a running engine).
            updated = await self.client.update_integration(id_, _payload(desired))
        switched = False
        if desired.target_state is TargetState.DISABLED and enabled:
            await self.client.start_maintenance(id_, MAINTENANCE_MODE, MAINTENANCE_SECONDS)
            switched = True
        elif desired.target_state is TargetState.ENABLED and not enabled:
            await self.client.stop_maintenance(id_)
            switched = True
        wanted = CurrentState(desired.target_state.value)
        if updated is None:
            # Only the maintenance switch moved: the rest is as observed.
            return replace(observed, match=Match.ID, current_state=wanted, drifted_fields=())
        if switched:
            mode = MAINTENANCE_MODE if wanted is CurrentState.DISABLED else None
            updated = updated.model_copy(update={"maintenance_mode": mode})
        return self._compare(desired, updated, Match.ID)

    async def delete(self, external_id: str) -> None:
        await self.client.delete_integration(external_id)

    def _find(self, desired: Desired, candidates: Sequence[OnCallIntegration]) -> Observation:
        for item in candidates:
            if item.description_short == desired.marker:
                return self._compare(desired, item, Match.MARKER)
        team = desired.block.team_id
        named = [
            item
            for item in candidates
            if item.name == desired.display_name and (team is None or item.team_id == team)
        ]
        if len(named) > 1:
            return Observation.conflict(item.id for item in named)
        if named:
            return self._compare(desired, named[0], Match.NAME)
        return Observation.absent()

    def _compare(self, desired: Desired, found: OnCallIntegration, match: Match) -> Observation:
        spec = desired.block
        drift = Drift()
        drift.check("displayName", found.name, desired.display_name)
        drift.check("marker", found.description_short, desired.marker)
        drift.check_if_set("grafanaOnCall.teamId", found.team_id, spec.team_id)
        chain = found.default_route.escalation_chain_id if found.default_route else None
        drift.check_if_set("grafanaOnCall.escalationChainId", chain, spec.escalation_chain_id)
        remote_templates = found.templates or {}
        for path, value in _template_paths(spec):
            camel = ".".join(to_camel(part) for part in path)
            drift.check(f"grafanaOnCall.templates.{camel}", _lookup(remote_templates, path), value)
        state = CurrentState.ENABLED if found.maintenance_mode is None else CurrentState.DISABLED
        drift.check_state(state, desired.target_state)
        if found.type != spec.type:
            drift.recreate(
                "grafanaOnCall.type",
                f"type is {found.type} on the platform and {spec.type} in the spec; "
                "Grafana OnCall cannot change it in place",
            )
        return drift.observation(match, state, found.id, found.link)


def _payload(desired: Desired) -> dict[str, Any]:
    """What AlertSync owns on the integration; PUT leaves everything else alone."""
    spec = desired.block
    body: dict[str, Any] = {"name": desired.display_name, "description_short": desired.marker}
    if spec.team_id is not None:
        body["team_id"] = spec.team_id
    if spec.escalation_chain_id is not None:
        body["default_route"] = {"escalation_chain_id": spec.escalation_chain_id}
    if spec.templates is not None:
        body["templates"] = spec.templates.model_dump(exclude_none=True)
    return body


_TemplatePath = tuple[tuple[str, ...], str]


def _template_paths(spec: GrafanaOnCallSpec) -> Iterator[_TemplatePath]:
    """(wire path, value) of every template the spec sets."""
    if spec.templates is None:
        return

    def walk(
        prefix: tuple[str, ...], data: Mapping[str, Any]
    ) -> Iterator[tuple[tuple[str, ...], str]]:
        for key, value in data.items():
            if isinstance(value, Mapping):
                yield from walk((*prefix, key), value)
            else:
                yield (*prefix, key), value

    yield from walk((), spec.templates.model_dump(exclude_none=True))


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = data
    for part in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current
