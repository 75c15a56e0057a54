"""AlertIntegration status as this operator last wrote it, and the writes themselves.

The copy we wrote is fresher than any watch event, which may lag behind our
own writes. A write is made only when something changed (status_patch), and
whatever could carry a credential is redacted on the way out.
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from alertsync.kube import Kube
from alertsync.models import AlertIntegrationStatus
from alertsync.records import IntegrationRecord
from alertsync.redaction import redact, redact_url_credentials
from alertsync.status import HEARTBEAT, condition, set_condition, status_patch

__all__ = ["StatusWriter"]

logger = logging.getLogger(__name__)

# The reasons of a wait: a later, better-known state replaces them on Ready too.
WAITING = frozenset({"Queued", "RateLimited"})


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class StatusWriter:
    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.written: dict[str, dict[str, Any]] = {}
        # One pass (or status write) at a time per integration.
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def stored(self, record: IntegrationRecord) -> Mapping[str, Any]:
        return self.written.get(record.uid, record.status)

    def status_of(self, record: IntegrationRecord) -> AlertIntegrationStatus:
        stored = self.stored(record)
        try:
            return AlertIntegrationStatus.model_validate(stored)
        except ValidationError:
            logger.warning("%s/%s: unreadable status, starting afresh", *record.where)
            drift = stored.get("driftCount")
            return AlertIntegrationStatus(drift_count=drift if isinstance(drift, int) else 0)

    async def write(
        self, record: IntegrationRecord, new: AlertIntegrationStatus, *, heartbeat: bool = True
    ) -> None:
        """Write `new` if it differs; heartbeat=False writes lastReconcileAt every time."""
        stored = self.stored(record)
        if new.last_error:
            new = new.model_copy(update={"last_error": redact(new.last_error)})
        if new.webhook_url:
            # Not redact(): an inbound URL (iLert's) holds a registered key by design.
            new = new.model_copy(update={"webhook_url": redact_url_credentials(new.webhook_url)})
        patch = status_patch(stored, new, _now(), heartbeat=HEARTBEAT if heartbeat else None)
        if patch is None:
            return
        await self.kube.patch_status("alertintegrations", record.namespace, record.name, patch)
        merged = {**stored, **patch}
        self.written[record.uid] = {k: v for k, v in merged.items() if v is not None}

    async def announce(
        self,
        record: IntegrationRecord,
        reason: str,
        message: str,
        last_error: str | None = None,
        *,
        locked: bool = False,
    ) -> None:
        """Synced=False with `reason` (and Ready too while nothing better is known).

        locked: the caller holds the resource's lock already (a pass that waits).
        """
        async with contextlib.nullcontext() if locked else self.locks[record.uid]:
            status = self.status_of(record)
            now, gen = _now(), record.generation
            conditions = set_condition(
                status.conditions, "Synced", "False", reason, message, now, gen
            )
            ready = condition(conditions, "Ready")
            if ready is None or ready.reason in WAITING:
                conditions = set_condition(conditions, "Ready", "False", reason, message, now, gen)
            update: dict[str, object] = {"conditions": conditions}
            if last_error is not None:
                update["last_error"] = last_error
            await self.write(record, status.model_copy(update=update))

    def forget(self, uid: str) -> None:
        self.written.pop(uid, None)
        self.locks.pop(uid, None)
