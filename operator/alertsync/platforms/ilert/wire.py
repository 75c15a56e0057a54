"""iLert's JSON, as the REST API sends it (camelCase; unknown fields ignored).

Only what AlertSync reads is typed; the rest of an alert source is kept as raw JSON by
the client where it must survive a read-modify-write (PUT replaces the whole object).
"""

from alertsync.platforms.wire import CamelWireModel

__all__ = [
    "ILertAlert",
    "ILertAlertCount",
    "ILertAlertSource",
    "ILertEscalationPolicy",
    "ILertRef",
    "ILertResponder",
    "ILertUser",
]


class ILertRef(CamelWireModel):
    """A sub-entity as iLert embeds it: at least its id (teams, support hours, users)."""

    id: int
    name: str | None = None


class ILertUser(CamelWireModel):
    id: int
    first_name: str | None = None
    last_name: str | None = None


class ILertEscalationPolicy(CamelWireModel):
    id: int
    name: str | None = None
    routing_key: str | None = None
    teams: tuple[ILertRef, ...] = ()


class ILertAlertSource(CamelWireModel):
    """An alert source as a list item (AlertSourceNoIncludes) or a single read."""

    id: int
    name: str
    integration_type: str
    integration_key: str | None = None
    integration_url: str | None = None
    escalation_policy: ILertEscalationPolicy | None = None
    active: bool = True
    status: str | None = None
    alert_creation: str | None = None
    alert_priority_rule: str | None = None
    auto_resolution_timeout: str | None = None
    alert_grouping_window: str | None = None
    teams: tuple[ILertRef, ...] = ()
    # Changes with every change to the source, the include-only fields too.
    updated_at: str | None = None


class ILertResponder(CamelWireModel):
    user: ILertUser | None = None
    status: str | None = None
    accepted_at: str | None = None


class ILertAlert(CamelWireModel):
    id: int
    summary: str | None = None
    details: str | None = None
    report_time: str | None = None
    resolved_on: str | None = None
    status: str
    priority: str | None = None
    alert_key: str | None = None
    alert_source: ILertAlertSource | None = None
    escalation_policy: ILertEscalationPolicy | None = None
    assigned_to: ILertRef | None = None
    responders: tuple[ILertResponder, ...] = ()


class ILertAlertCount(CamelWireModel):
    count: int
