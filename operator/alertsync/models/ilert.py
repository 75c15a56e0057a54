"""`spec.ilert`: what an AlertIntegration declares for an iLert alert source."""

import re
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field

from alertsync.models.common import INT64, LIST_SET, CamelModel
from alertsync.models.messages import explained_pattern, shown

__all__ = [
    "ALERT_CREATIONS",
    "ALERT_PRIORITY_RULES",
    "INTEGRATION_TYPES",
    "ILertSpec",
    "duration_seconds",
]

# iLert's IntegrationType enum (OpenAPI v2.2026.5-r.3), minus the deprecated EMAIL and
# HEARTBEAT. iLert adds types over time: extend this tuple, then `make crds` writes the
# CRD's enum from it.
INTEGRATION_TYPES: tuple[str, ...] = (
    "NAGIOS", "ICINGA", "EMAIL2", "SMS", "API", "HEARTBEAT2", "PRTG", "PINGDOM", "CLOUDWATCH",
    "AWSPHD", "STACKDRIVER", "INSTANA", "ZABBIX", "SOLARWINDS", "PROMETHEUS", "NEWRELIC",
    "GRAFANA", "GITHUB", "DATADOG", "UPTIMEROBOT", "APPDYNAMICS", "DYNATRACE", "TOPDESK",
    "STATUSCAKE", "MONITOR", "TOOL", "CHECKMK", "AUTOTASK", "AWSBUDGET", "SYSDIG",
    "SERVERDENSITY", "ZAPIER", "KENTIXAM", "JIRA", "CONSUL", "ZAMMAD", "SPLUNK", "SERVICENOW",
    "SEARCHGUARD", "KUBERNETES", "SIGNALFX", "AZUREALERTS", "TERRAFORMCLOUD", "SENTRY",
    "SEMATEXT", "SUMOLOGIC", "RAYGUN", "MXTOOLBOX", "ESWATCHER", "AMAZONSNS", "KAPACITOR",
    "CORTEXXSOAR", "ZENDESK", "AUVIK", "SENSU", "NCENTRAL", "JUMPCLOUD", "SALESFORCE",
    "GUARDDUTY", "STATUSHUB", "IXON", "APIFORTRESS", "FRESHSERVICE", "APPSIGNAL", "LIGHTSTEP",
    "IBMCLOUDFUNCTIONS", "CROWDSTRIKE", "HUMIO", "OHDEAR", "MONGODBATLAS", "GITLAB",
    "HYPERPING", "PAPRISMACLOUD", "SAMSARA", "PANDORAFMS", "MSSCOM", "TWILIO", "CISCOMERAKI",
    "CHECKLY", "POSTHOG", "GOOGLESCC", "SLACK", "MSTEAMS", "UPTIMEKUMA", "TWILIOERRORS",
    "PARTICLE", "CLOUDFLARE", "TULIP", "GRAYLOG", "CATCHPOINT", "LOKI", "CORTEX", "MIMIR",
    "HALOPSA", "INFLUXDB", "CALLFLOW", "HALOITSM", "KIBANA", "VICTORIAMETRICS", "HONEYCOMB",
    "FOURME", "KEEP", "UBIDOTS", "HETRIXTOOLS", "POSTMAN", "CLUSTERCONTROL", "NETDATA", "AWX",
    "KAFKA", "MQTT", "RAPIDSPIKE", "HONEYBADGER", "HEALTHCHECKSIO", "MEZMO", "SERVERGUARD24",
    "CISCOTHOUSANDEYES", "SITE24X7", "ITCONDUCTOR", "SAPFRUN", "APICA", "DASH0", "ROLLBAR",
    "GATUS", "LIBRENMS", "PANTHER", "TEAMCITY", "ALIBABACLOUD", "FLEETDM", "CONNECTWISEPSA",
    "DEADMANSSNITCH", "FORTISOAR", "OPMANAGER", "CRONITOR", "DOMOTZ", "LIVEWATCH",
    "AZUREDEVOPS", "LEVELIO", "EKARA", "SYSAID", "PHAREIO", "OPSGENIE", "WHATAP", "SIGNOZ",
    "GOOGLECHAT", "DOTCOMMONITOR", "UPTIME", "HELPSCOUT", "SCIENCELOGIC", "PULSETIC", "WAZUH",
    "SEKOIA",
)  # fmt: skip
_KNOWN_TYPES = frozenset(INTEGRATION_TYPES)

AlertCreation = Literal[
    "ONE_ALERT_PER_EMAIL",
    "ONE_ALERT_PER_EMAIL_SUBJECT",
    "ONE_PENDING_ALERT_ALLOWED",
    "ONE_OPEN_ALERT_ALLOWED",
    "OPEN_RESOLVE_ON_EXTRACTION",
    "ONE_ALERT_GROUPED_PER_WINDOW",
    "INTELLIGENT_GROUPING",
]
AlertPriorityRule = Literal["HIGH", "LOW", "HIGH_DURING_SUPPORT_HOURS", "LOW_DURING_SUPPORT_HOURS"]
ALERT_CREATIONS: tuple[str, ...] = get_args(AlertCreation)
ALERT_PRIORITY_RULES: tuple[str, ...] = get_args(AlertPriorityRule)

# The ISO-8601 durations iLert uses for windows and timeouts: hours and/or minutes.
DURATION_PATTERN = explained_pattern(
    r"^PT([0-9]+H|[0-9]+M|[0-9]+H[0-9]+M)$",
    "must be an ISO-8601 duration in hours and/or minutes, such as PT4H, PT30M or PT1H30M",
)
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def duration_seconds(value: str | None) -> int | None:
    """`PT4H` as 14400; None for None or anything that is not such a duration.

    iLert may store `PT60M` and answer `PT1H`: durations are compared by length.
    """
    match = _DURATION.match(value or "")
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _known_type(value: str) -> str:
    if value not in _KNOWN_TYPES:
        raise ValueError(
            f"{shown(value)} is not an iLert integration type (for Alertmanager use PROMETHEUS; "
            "others: API, GRAFANA, KUBERNETES, ... as in iLert's API reference, upper case)"
        )
    return value


def _unique(ids: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if ids is not None and len(set(ids)) != len(ids):
        raise ValueError("team ids must be unique")
    return ids


# Checked by _known_type for a message that names PROMETHEUS; the CRD lists the values.
IntegrationType = Annotated[
    str, AfterValidator(_known_type), Field(json_schema_extra={"enum": list(INTEGRATION_TYPES)})
]
Duration = Annotated[str, Field(pattern=DURATION_PATTERN, max_length=16)]
Id = Annotated[int, Field(ge=1, json_schema_extra=INT64)]
TeamId = Annotated[Id, Field(description="An iLert team id.")]


class ILertSpec(CamelModel):
    """An iLert alert source. Optional fields left unset are left to iLert (not compared)."""

    # Create-only on iLert: a change deletes and re-creates the source (new key and URL).
    integration_type: IntegrationType = "API"
    """iLert integration type of the alert source (PROMETHEUS for Alertmanager, API for the Events
    API, ...). Cannot change in place: a change deletes and re-creates the source, which gets a new
    integration key and URL."""
    escalation_policy_id: Id
    """Id of the iLert escalation policy the source escalates to. It must exist on iLert."""
    teams: Annotated[
        tuple[TeamId, ...] | None, AfterValidator(_unique), Field(json_schema_extra=LIST_SET)
    ] = None
    """Ids of the iLert teams that own the source, compared as a set. Unset: not compared."""
    alert_creation: AlertCreation | None = None
    """How events become alerts (iLert alertCreation). Unset: not compared."""
    alert_priority_rule: AlertPriorityRule | None = None
    """Priority of new alerts (iLert alertPriorityRule). Unset: not compared."""
    alert_grouping_window: Duration | None = None
    """ISO-8601 duration (e.g. PT30M, PT2H) within which events are grouped into one alert, with
    alertCreation ONE_ALERT_GROUPED_PER_WINDOW. Unset: not compared."""
    auto_resolution_timeout: Duration | None = None
    """ISO-8601 duration (e.g. PT4H) after which iLert resolves an alert on its own. Unset: not
    compared."""
    resolve_open_alerts_on_delete: bool = False
    """When true, every PENDING or ACCEPTED alert of the source is resolved before AlertSync deletes
    the source, so nobody keeps being paged by an alert whose source is gone."""
