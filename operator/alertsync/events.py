"""Kubernetes Events about AlertIntegrations, posted by AlertSync itself.

kopf's `kopf.event` names every Event `kopf-event-*`, reports action `Action?` and
cannot say which pod posted it. This poster writes core v1 Events the way
client-go's recorder does (cert-manager's, for one): named `<object>.<hex time>`,
from the component `alertsync`, with the pod's name as the reporting instance and
a verb as the action, so that `kubectl describe` says `From: alertsync`.

Posting never blocks or fails a reconcile: `post` only queues the Event, and one
background task sends the queue in order. An Event that cannot be sent is logged
and dropped; it is a notice, the status is the record.
"""

import asyncio
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from alertsync.errors import AlertSyncError
from alertsync.records import IntegrationRecord
from alertsync.redaction import redact

__all__ = [
    "ACTIONS",
    "COMPONENT",
    "Event",
    "EventPoster",
    "Reason",
    "event_body",
    "reporting_instance",
]

logger = logging.getLogger(__name__)


class Reason(StrEnum):
    """Every reason an Event of AlertSync's has: what it did, or the error's condition reason."""

    CREATED = "Created"
    ADOPTED = "Adopted"
    UPDATED = "Updated"
    DRIFT_DETECTED = "DriftDetected"
    DRIFT_REPAIRED = "DriftRepaired"
    BEFORE_DELETE = "BeforeDelete"
    DELETED = "Deleted"
    ORPHANED = "Orphaned"
    DELIVERED = "Delivered"
    DELIVERY_FAILED = "DeliveryFailed"
    CREDENTIALS_IN_SPEC = "CredentialsInSpec"
    # The errors' (AlertSyncError.reason and its subclasses'): a failed pass.
    RECONCILE_FAILED = "ReconcileFailed"
    INVALID_SPEC = "InvalidSpec"
    ADOPTION_REFUSED = "AdoptionRefused"
    CREDENTIALS_REJECTED = "CredentialsRejected"
    CREDENTIALS_MISSING = "CredentialsMissing"
    PERMISSION_DENIED = "PermissionDenied"
    NOT_PERMITTED = "NotPermitted"
    RATE_LIMITED = "RateLimited"
    PLATFORM_UNAVAILABLE = "PlatformUnavailable"
    PLATFORM_REJECTED = "PlatformRejected"

    @classmethod
    def of(cls, error: AlertSyncError) -> "Reason":
        """The reason of an Event about `error` (its condition reason)."""
        return cls(error.reason)


@dataclass(frozen=True)
class Event:
    type: Literal["Normal", "Warning"]
    reason: Reason
    message: str


COMPONENT = "alertsync"
# What AlertSync did, by the Event's reason; any other reason (an error's) is a
# failed reconcile.
ACTIONS: Mapping[Reason, str] = {
    Reason.CREATED: "Create",
    Reason.ADOPTED: "Adopt",
    Reason.UPDATED: "Update",
    Reason.DRIFT_DETECTED: "Observe",
    Reason.DRIFT_REPAIRED: "Repair",
    Reason.BEFORE_DELETE: "Delete",
    Reason.DELETED: "Delete",
    Reason.ORPHANED: "Delete",
    Reason.DELIVERED: "Test",
    Reason.DELIVERY_FAILED: "Test",
    Reason.CREDENTIALS_IN_SPEC: "Validate",
}
DEFAULT_ACTION = "Reconcile"

# The API server's limits for Events (k8s.io/kubernetes pkg/apis/core/validation).
MAX_MESSAGE = 1024
MAX_FIELD = 128  # reason, action, reportingInstance
MAX_NAME = 253
# Waits before the retries of an Event the API server could not take (5xx, 429,
# no connection); client errors (4xx) are not retried.
RETRY_DELAYS = (0.5, 1.0, 2.0)
# A burst beyond this (10,000 integrations created at once) drops Events, not memory.
QUEUE_SIZE = 10_000
WARN_EVERY = 60.0  # seconds between warnings about dropped Events; the rest at debug


class EventsApi(Protocol):
    """The one call of `kubernetes.client.CoreV1Api` this module makes."""

    def create_namespaced_event(self, namespace: str, body: Any) -> object: ...


def reporting_instance() -> str:
    """The pod's name (the chart sets POD_ID from metadata.name), else the host's."""
    name = os.environ.get("POD_NAME") or os.environ.get("POD_ID") or socket.gethostname()
    return name[:MAX_FIELD] or COMPONENT


def _message(text: str) -> str:
    if len(text) <= MAX_MESSAGE:
        return text
    # Both ends: the start says what, the end often says which.
    half = (MAX_MESSAGE - 3) // 2
    return f"{text[:half]}...{text[len(text) - (MAX_MESSAGE - 3 - half) :]}"


def event_body(
    record: IntegrationRecord, event: Event, instance: str, now_ns: int
) -> dict[str, Any]:
    """A core v1 Event, as client-go's recorder writes one (one occurrence, count 1)."""
    suffix = f".{now_ns:x}"
    whole, nanoseconds = divmod(now_ns, 1_000_000_000)
    when = datetime.fromtimestamp(whole, UTC).replace(microsecond=nanoseconds // 1000)
    seconds = when.strftime("%Y-%m-%dT%H:%M:%SZ")  # first/lastTimestamp: whole seconds
    reference = record.reference()
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": record.name[: MAX_NAME - len(suffix)] + suffix,
            "namespace": record.namespace,
        },
        "involvedObject": {
            "apiVersion": reference["apiVersion"],
            "kind": reference["kind"],
            "namespace": record.namespace,
            "name": record.name,
            "uid": record.uid,
        },
        "type": event.type,
        "reason": str(event.reason)[:MAX_FIELD],
        # The Runtime redacts messages already; this is the last stop before the API.
        "message": _message(redact(event.message)),
        "action": ACTIONS.get(event.reason, DEFAULT_ACTION),
        # source.component is kubectl describe's "From"; the reporting* fields are the
        # same for readers of events.k8s.io/v1.
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance,
        "firstTimestamp": seconds,
        "lastTimestamp": seconds,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "count": 1,
    }


class EventPoster:
    """Queues Events (`post`, the Runtime's `post_event`) and sends them in the background.

    Bound to the event loop that calls `start`; `aclose` sends what is queued (for a
    moment) and stops.
    """

    def __init__(self, api: EventsApi, instance: str | None = None) -> None:
        self.api = api
        self.instance = instance or reporting_instance()
        # How long `aclose` lets the queue drain.
        self.flush_seconds = 2.0
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_ns = 0
        self._dropped = 0
        self._warned_at = -WARN_EVERY

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._send_all(), name="alertsync events")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), self.flush_seconds)
        except TimeoutError:
            logger.debug("stopping with %d Events not posted", self._queue.qsize())
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def post(self, record: IntegrationRecord, event: Event) -> None:
        """Queue one Event about `record`; never raises, never waits."""
        # Strictly increasing: two Events of one object in one clock tick get two names.
        self._last_ns = max(time.time_ns(), self._last_ns + 1)
        try:
            body = event_body(record, event, self.instance, self._last_ns)
        except Exception:  # a notice is not worth a failed pass
            logger.exception("Event %s about %s/%s not posted", event.reason, *_where(record))
            return
        loop = self._loop
        if loop is None or self._task is None:
            self._drop(body, "the poster is not running")
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(body)
        else:  # from a worker thread: hand it to the loop
            loop.call_soon_threadsafe(self._enqueue, body)

    def _enqueue(self, body: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(body)
        except asyncio.QueueFull:
            self._drop(body, f"{QUEUE_SIZE} Events are waiting already")

    async def _send_all(self) -> None:
        while True:
            body = await self._queue.get()
            try:
                await self._send(body)
            except Exception as exc:  # a bug here must not end the posting of Events
                self._drop(body, f"{type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()

    async def _send(self, body: dict[str, Any]) -> None:
        namespace = body["metadata"]["namespace"]
        for delay in (*RETRY_DELAYS, None):
            try:
                await asyncio.to_thread(self.api.create_namespaced_event, namespace, body)
                return
            except ApiException as exc:
                status = int(exc.status or 0)
                retry = status == 429 or status >= 500
                reason = f"Kubernetes answered {status} {exc.reason}"
            except (HTTPError, OSError) as exc:  # no connection, or it broke
                retry, reason = True, type(exc).__name__
            if not retry or delay is None:
                self._drop(body, reason)
                return
            await asyncio.sleep(delay)

    def _drop(self, body: Mapping[str, Any], why: str) -> None:
        self._dropped += 1
        involved = body["involvedObject"]
        now = time.monotonic()
        level = logging.DEBUG
        if now - self._warned_at >= WARN_EVERY:
            level, self._warned_at = logging.WARNING, now
        logger.log(
            level,
            "Event %s about %s/%s not posted (%s); %d not posted since the start",
            body["reason"],
            involved["namespace"],
            involved["name"],
            why,
            self._dropped,
        )


def _where(record: IntegrationRecord) -> tuple[str, str]:
    return record.namespace, record.name
