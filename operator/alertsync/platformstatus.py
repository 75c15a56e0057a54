"""An AlertPlatform's status after a resync: can its account be used, and how."""

from datetime import datetime
from typing import Any

from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    CredentialsMissingError,
    InvalidSpecError,
)
from alertsync.models import AlertPlatformStatus
from alertsync.records import PlatformRecord
from alertsync.redaction import redact
from alertsync.status import ConditionStatus, set_condition, status_patch

__all__ = ["platform_status"]


def platform_status(
    record: PlatformRecord,
    integrations: int,
    error: AlertSyncError | None,
    read_only: str | None,
    now: datetime,
) -> dict[str, Any] | None:
    """The status patch for the platform (None: nothing changed worth a write).

    `error` is what checking or listing the account raised; `read_only` the
    message of a write the platform refused with these credentials since.
    """
    status = AlertPlatformStatus.model_validate(record.status)
    status.platform_uuid = record.uid
    status.platform_name = record.display_name
    status.product_type = record.product_type
    status.integrations = integrations
    ready: ConditionStatus
    if error is not None:
        _record_failure(status, error)
        ready, reason, message = "False", error.reason, status.last_error or ""
    elif read_only is not None:
        status.credentials, status.api_reachable = "ReadOnly", True
        status.last_error = redact(read_only)
        ready, reason, message = "False", "PermissionDenied", status.last_error
        status.last_check_at = now
    else:
        status.credentials, status.api_reachable, status.last_error = "Accepted", True, None
        ready, reason = "True", "Connected"
        message = "credentials accepted, API reachable"
        status.last_check_at = now
    status.observed_generation = record.generation
    status.conditions = set_condition(
        status.conditions, "Ready", ready, reason, message, now, record.generation
    )
    return status_patch(record.status, status, now, stamp="lastCheckAt")


def _record_failure(status: AlertPlatformStatus, error: AlertSyncError) -> None:
    if isinstance(error, CredentialsMissingError):
        status.credentials, status.api_reachable = "Missing", None
    elif isinstance(error, CredentialsError):
        # The platform answered, and said no.
        status.credentials, status.api_reachable = "Rejected", True
    elif isinstance(error, InvalidSpecError):
        status.api_reachable = None
    else:
        status.api_reachable = False
    status.last_error = redact(error.message)
