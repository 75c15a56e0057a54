"""Observe -> decide -> act for one AlertIntegration. Plain async Python, no kopf.

`reconcile()` takes the resource as stored and returns an `Outcome`: the status it
should have, the Events worth telling a person about, what it did to the platform
object, and the error (if any) that decides how the caller retries.

- `outcome`: what a pass takes (the resource, its dependencies) and returns;
- `desired`: the spec resolved against its platform, what the object should be;
- `ledger`: the status and Events a pass writes;
- `passes`: the decision table, and `reconcile()`.
"""

from alertsync.events import Event, Reason
from alertsync.reconcile.outcome import (
    MARKER_FIELD,
    Dependencies,
    IntegrationResource,
    Outcome,
    Update,
)
from alertsync.reconcile.passes import reconcile

__all__ = [
    "MARKER_FIELD",
    "Dependencies",
    "Event",
    "IntegrationResource",
    "Outcome",
    "Reason",
    "Update",
    "reconcile",
]
