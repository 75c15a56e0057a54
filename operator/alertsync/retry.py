"""When to try again: every delay and backoff of the operator, decided here.

`delay_for(error, attempt)` is the one rule for integrations: how long a failed
pass waits before its next attempt, or None when only a change to something it
depends on (its spec, its platform, their Secrets) can help.
"""

import random

from alertsync.errors import (
    AlertSyncError,
    CredentialsError,
    CredentialsMissingError,
    PermissionDeniedError,
    RateLimitedError,
)

__all__ = [
    "CREDENTIALS_RETRY",
    "RESYNC_RETRY",
    "RETRY_UNREADY",
    "THROTTLE_FIRST",
    "backoff",
    "delay_for",
    "throttle_backoff",
]

# Timeouts, connection errors, 5xx: 5 s doubling up to 5 min.
BACKOFF_FIRST, BACKOFF_CAP = 5.0, 300.0
# A 429 that names no wait (iLert, Mackerel, ZStack): 10 s doubling up to 2 min,
# as iLert recommends (10-30 s first).
THROTTLE_FIRST, THROTTLE_CAP = 10.0, 120.0
# Credentials come back when a person fixes the Secret; the platform's resync
# re-reads it and wakes its integrations sooner than this.
CREDENTIALS_RETRY = 120.0
# A platform resync that failed on the Kubernetes API.
RESYNC_RETRY = 30.0
# While a platform is not usable, check it this often, not every resyncInterval.
RETRY_UNREADY = 30.0


def _jitter(seconds: float, low: float = 0.8, high: float = 1.2) -> float:
    # Replicas and integrations that failed together must not retry together.
    return seconds * random.uniform(low, high)  # noqa: S311 - jitter, not a secret


def backoff(attempt: int) -> float:
    """The wait before attempt `attempt + 1` after transient failures."""
    return _jitter(min(BACKOFF_CAP, BACKOFF_FIRST * 2.0 ** min(attempt, 16)))


def throttle_backoff(strikes: int) -> float:
    """The wait after the `strikes`-th 429 in a row that named no wait of its own."""
    return _jitter(min(THROTTLE_CAP, THROTTLE_FIRST * 2.0 ** min(strikes, 16)), 0.8, 1.0)


def delay_for(error: AlertSyncError, attempt: int, resync_seconds: float) -> float | None:
    """Seconds until the next attempt after `error`; None: wait for a change."""
    if error.permanent:
        return None
    if isinstance(error, RateLimitedError):
        return error.retry_after
    if isinstance(error, PermissionDeniedError):
        # Fixed on the platform, which no resource change announces: try
        # again at the pace of the platform's resync, not faster.
        return resync_seconds
    if isinstance(error, CredentialsMissingError):
        # A Secret that is not there yet (a later GitOps wave): looked for again at
        # the resync's pace, which costs a Kubernetes read and no platform request.
        return min(CREDENTIALS_RETRY, resync_seconds)
    if isinstance(error, CredentialsError):
        return CREDENTIALS_RETRY
    return backoff(attempt)
