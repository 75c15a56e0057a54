"""Grafana OnCall integrations as AlertIntegrations (spec.grafanaOnCall).

Mapped as the adapter compares them: type, team, the default route's escalation
chain, every template AlertSync manages that the integration sets, and debug or
maintenance mode as `targetState: disabled`. `description_short` is AlertSync's
marker: adoption writes it.
"""

from collections.abc import Mapping, Sequence
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from alertsync.models import TargetState
from alertsync.models.grafana_oncall import GrafanaOnCallTemplates, OnCallType
from alertsync.platforms.grafana_oncall.wire import OnCallIntegration
from alertsync.platforms.mapping import Found, Mapper, list_all, marker_uid

__all__ = ["MAPPER", "TYPES", "found"]

TYPES: tuple[str, ...] = get_args(OnCallType)


def found(listing: Sequence[Any]) -> list[Found]:
    return [_one(item) for item in listing if isinstance(item, OnCallIntegration)]


def _one(item: OnCallIntegration) -> Found:
    owner = marker_uid(item.description_short)
    if item.type not in TYPES:
        return Found(
            item.id,
            item.name,
            owner_uid=owner,
            unsupported=f"type {item.type} is not one AlertSync manages "
            f"(spec.grafanaOnCall.type: {', '.join(TYPES)})",
        )
    block: dict[str, Any] = {"type": item.type}
    if item.team_id is not None:
        block["teamId"] = item.team_id
    chain = item.default_route.escalation_chain_id if item.default_route else None
    if chain is not None:
        block["escalationChainId"] = chain
    templates = _templates(GrafanaOnCallTemplates, item.templates or {})
    if templates:
        block["templates"] = templates
    notes: tuple[str, ...] = ()
    if item.maintenance_mode is not None:
        until = f" until {item.maintenance_end_at}" if item.maintenance_end_at else ""
        notes = (
            f"in {item.maintenance_mode} maintenance{until}: exported as targetState: disabled, "
            "which AlertSync keeps in debug maintenance for good; make it enabled if the "
            "maintenance was meant to end",
        )
    return Found(
        item.id,
        item.name,
        block=block,
        target_state=TargetState.ENABLED if item.maintenance_mode is None else TargetState.DISABLED,
        owner_uid=owner,
        notes=notes,
    )


def _templates(model: type[BaseModel], remote: Mapping[str, Any]) -> dict[str, Any]:
    """The templates `model` knows that the integration sets (strings), camelCase.

    Keys AlertSync does not manage, and templates left null (OnCall's defaults), are
    not written: the adapter compares only what a spec sets.
    """
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = remote.get(name)
        nested = next(
            (
                t
                for t in get_args(info.annotation)
                if isinstance(t, type) and issubclass(t, BaseModel)
            ),
            None,
        )
        if nested is None:
            if isinstance(value, str):
                out[to_camel(name)] = value
        elif isinstance(value, Mapping):
            inner = _templates(nested, value)
            if inner:
                out[to_camel(name)] = inner
    return out


def _is_model(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


MAPPER = Mapper(listing=list_all, found=found)
