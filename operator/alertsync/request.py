"""`alertsync reconcile NAME`: ask the running operator for a pass now, and wait for it.

It sets the annotation alertsync.dev/reconcile-requested-at, which the operator's
update handler answers with a pass that echoes it in status.lastHandledReconcileAt
(Flux's convention), whether the pass succeeded or not.
"""

import time
from datetime import UTC, datetime
from typing import Any

import kubernetes
from kubernetes.client.exceptions import ApiException

from alertsync.models.common import GROUP, VERSION
from alertsync.records import REQUESTED_AT

__all__ = ["request_reconcile"]

PLURAL = "alertintegrations"


def request_reconcile(
    api: Any, namespace: str, name: str, timeout: float = 60.0, poll: float = 0.5
) -> dict[str, Any]:
    """Ask for a pass; return the status it wrote. Raises TimeoutError, LookupError."""
    custom = kubernetes.client.CustomObjectsApi(api)
    asked = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    patch = {"metadata": {"annotations": {REQUESTED_AT: asked}}}
    try:
        custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, patch)
    except ApiException as exc:
        if exc.status == 404:
            raise LookupError(f"AlertIntegration {namespace}/{name} not found") from None
        raise
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        status: dict[str, Any] = (body.get("status") if isinstance(body, dict) else None) or {}
        if status.get("lastHandledReconcileAt") == asked:
            return status
        time.sleep(poll)
    raise TimeoutError(
        f"no pass of AlertIntegration {namespace}/{name} within {timeout:.0f}s: "
        "is the operator running and watching that namespace?"
    )
