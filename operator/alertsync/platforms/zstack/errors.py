"""What ZStack's failures mean: every failed API answers 503 with an ErrorCode.

The code decides what a 503 means (`{"error": {"code", "description", "details"}}`):
ID.* are the credentials (ID.1001, an expired session, is logged in again once), a few
SYS.* codes are requests that can never work as sent, and everything else is treated as
transient. Codes are ZStack's own (IdentityErrors, SysErrors).
"""

import httpx
from pydantic import ValidationError

from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    PermissionDeniedError,
    PlatformRejectedError,
    PlatformUnavailableError,
)
from alertsync.platforms.http import header_seconds, json_of
from alertsync.platforms.zstack.wire import ApiError, ErrorReply
from alertsync.redaction import redact

__all__ = [
    "INVALID_SESSION",
    "RESOURCE_NOT_FOUND",
    "ZStackRejectedError",
    "ZStackUnavailableError",
    "describe_error",
    "error_for",
    "error_of",
    "retry_after",
]

# SysErrors that no retry of the same request can fix: INVALID_ARGUMENT_ERROR,
# UNKNOWN_MESSAGE_ERROR, NO_CAPABILITY_ERROR, UNIMPLEMENTED_OPERATION_ERROR.
_PERMANENT = frozenset({"SYS.1007", "SYS.1008", "SYS.1013", "SYS.1014"})
INVALID_SESSION = "ID.1001"  # IdentityErrors.INVALID_SESSION
RESOURCE_NOT_FOUND = "SYS.1003"  # SysErrors.RESOURCE_NOT_FOUND


class ZStackRejectedError(PlatformRejectedError):
    """ZStack refused the request as sent; `error` is its ErrorCode."""

    def __init__(self, message: str, error: ApiError) -> None:
        super().__init__(message, 503)
        self.error = error


class ZStackUnavailableError(PlatformUnavailableError):
    """ZStack failed the request in a way that may pass; `error` is its ErrorCode."""

    def __init__(self, message: str, error: ApiError) -> None:
        super().__init__(message)
        self.error = error


def error_of(response: httpx.Response) -> ApiError | None:
    try:
        return ErrorReply.model_validate(json_of(response)).error
    except (ValueError, ValidationError):
        return None


def describe_error(response: httpx.Response) -> str:
    """An ErrorCode's words, or RestServer's plain-text line (400/404/405/500)."""
    error = error_of(response)
    if error is not None:
        return error.words()
    try:
        # Redacted before stripping: a secret that ends in a space would not be found.
        text = redact(response.text).strip()
    except ValueError:  # a charset its body is not in (utf-16 without a BOM)
        return response.reason_phrase
    if text and not text.startswith("<"):
        return text
    return response.reason_phrase


def retry_after(response: httpx.Response) -> float | None:
    # ZStack has no rate limit of its own; a proxy in front of it may name a wait.
    return header_seconds(response, "Retry-After")


def error_for(error: ApiError, what: str) -> AlertSyncError:
    """The AlertSync error an ErrorCode means (after an expired session was retried)."""
    code = error.code or ""
    # Redacted before clipping, which squeezes spaces and cuts: both hide a secret.
    message = redact(f"cannot {what}: {_clip(redact(error.words()))}")
    if code == "ID.1002":
        # ZStack's IdentityErrors.PERMISSION_DENIED: the account logged in, and may
        # not call this API (a read-only account).
        return PermissionDeniedError(
            f"{message} (the credentials are accepted but may not make this change: "
            "give the account permission for SNS endpoints)"
        )
    if code.startswith("ID."):
        return CredentialsError(
            f"{message}; check the account and password (or access key) in the "
            "AlertPlatform's credentials Secret"
        )
    if code in _PERMANENT:
        return ZStackRejectedError(message, error)
    return ZStackUnavailableError(message, error)


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
