"""AlertSync's errors: each class decides how a failure is retried and reported.

    AlertSyncError
    ├── InvalidSpecError         the user must change the resource; no platform call
    ├── AdoptionRefusedError     an object of that name exists and is not ours
    ├── CredentialsError         Secret missing or rejected; retry later
    │   └── PermissionDeniedError  accepted, but not allowed to write
    ├── NotPermittedError        a ClusterAlertPlatform not open to this namespace
    ├── RateLimitedError         the platform said how long to wait
    ├── PlatformUnavailableError timeouts, connection errors, 5xx; back off
    └── PlatformRejectedError    the platform refused the request (4xx); fix the spec

Messages are safe to show: they never carry tokens, headers or request bodies.
A part that differs between two identical failures (a platform's request id)
is written `[request id …]`: logs keep it, status drops it (`stable_message`),
so a failure retried unchanged rewrites no status and posts no new Event.
"""

import re

__all__ = [
    "AdoptionRefusedError",
    "AlertSyncError",
    "CredentialsError",
    "CredentialsMissingError",
    "InvalidSpecError",
    "NotPermittedError",
    "PermissionDeniedError",
    "PlatformRejectedError",
    "PlatformUnavailableError",
    "RateLimitedError",
]


class AlertSyncError(Exception):
    """Base class. `reason` is the stable CamelCase condition reason."""

    reason = "ReconcileFailed"
    # Permanent errors wait for the user to change the resource instead of retrying.
    permanent = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def stable_message(self) -> str:
        """The message without what changes from one identical failure to the next."""
        return _VOLATILE.sub("", self.message)


_VOLATILE = re.compile(r"\[request id [^\]]*\] ?")


class InvalidSpecError(AlertSyncError):
    reason = "InvalidSpec"
    permanent = True

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class AdoptionRefusedError(AlertSyncError):
    reason = "AdoptionRefused"
    permanent = True


class CredentialsError(AlertSyncError):
    reason = "CredentialsRejected"


class CredentialsMissingError(CredentialsError):
    reason = "CredentialsMissing"


class PermissionDeniedError(CredentialsError):
    """The platform accepted the credentials and refused the write (a read-only token):
    the fix is the token's permissions on the platform, not a new token."""

    reason = "PermissionDenied"


class NotPermittedError(AlertSyncError):
    """Not permanent: a person may label the namespace, which no spec change announces."""

    reason = "NotPermitted"


class RateLimitedError(AlertSyncError):
    reason = "RateLimited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PlatformUnavailableError(AlertSyncError):
    reason = "PlatformUnavailable"


class PlatformRejectedError(AlertSyncError):
    reason = "PlatformRejected"
    permanent = True

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code
