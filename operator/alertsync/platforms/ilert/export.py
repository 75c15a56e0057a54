"""iLert alert sources as AlertIntegrations (spec.ilert).

Mapped as the adapter compares them: integration type, escalation policy, teams,
alert creation and priority rule, grouping window and auto-resolution timeout, and
`active` as targetState. iLert sources carry no marker (the name is how AlertSync
finds one), so adoption writes nothing. The source's integration URL holds its
integration key: server-owned, reported in status, never exported.
"""

import re
from collections.abc import Sequence
from typing import Any

from alertsync.models import TargetState
from alertsync.models.ilert import (
    ALERT_CREATIONS,
    ALERT_PRIORITY_RULES,
    DURATION_PATTERN,
    INTEGRATION_TYPES,
    duration_seconds,
)
from alertsync.platforms.ilert.wire import ILertAlertSource
from alertsync.platforms.mapping import Found, Mapper, list_all
from alertsync.redaction import register_secret

__all__ = ["MAPPER", "found"]


def found(listing: Sequence[Any]) -> list[Found]:
    return [_one(item) for item in listing if isinstance(item, ILertAlertSource)]


def _one(item: ILertAlertSource) -> Found:
    id_ = str(item.id)
    if item.integration_key:
        register_secret(item.integration_key)
    if item.integration_type not in INTEGRATION_TYPES:
        return Found(
            id_,
            item.name,
            unsupported=f"integration type {item.integration_type} is not one AlertSync manages "
            "(deprecated, or newer than this AlertSync)",
        )
    if item.escalation_policy is None:
        return Found(
            id_, item.name, unsupported="it has no escalation policy, which spec.ilert requires"
        )
    block: dict[str, Any] = {
        "integrationType": item.integration_type,
        "escalationPolicyId": item.escalation_policy.id,
        # Written even when empty: AlertSync then keeps the source without teams.
        "teams": sorted({team.id for team in item.teams}),
    }
    notes: list[str] = []
    for key, value, known in (
        ("alertCreation", item.alert_creation, ALERT_CREATIONS),
        ("alertPriorityRule", item.alert_priority_rule, ALERT_PRIORITY_RULES),
    ):
        if value is None:
            continue
        if value in known:
            block[key] = value
        else:
            notes.append(f"spec.ilert.{key}: {value} is not a value AlertSync knows: left out")
    for key, value in (
        ("alertGroupingWindow", item.alert_grouping_window),
        ("autoResolutionTimeout", item.auto_resolution_timeout),
    ):
        if value is None:
            continue
        duration = _duration(value)
        if duration is None:
            notes.append(
                f"spec.ilert.{key}: {value} is not a duration AlertSync can hold: left out"
            )
        else:
            block[key] = duration
    enabled = item.active and item.status != "DISABLED"
    return Found(
        id_,
        item.name,
        block=block,
        target_state=TargetState.ENABLED if enabled else TargetState.DISABLED,
        notes=tuple(notes),
    )


def _duration(value: str) -> str | None:
    """`value` as spec.ilert takes it (hours and/or minutes); None if it cannot be."""
    if re.match(DURATION_PATTERN, value):
        return value
    seconds = duration_seconds(value)
    # The adapter compares durations by length: PT1H0M0S is kept as PT1H.
    if seconds is None or seconds == 0 or seconds % 60:
        return None
    hours, minutes = divmod(seconds // 60, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")


MAPPER = Mapper(listing=list_all, found=found)
