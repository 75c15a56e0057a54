"""Stalled integrations: a permanent error waits for a change to what its pass read.

A pass that ended in a permanent error (InvalidSpec, AdoptionRefused, a 4xx for its
spec) is not worked on again, by the resync or a restart, until one of the things it
depended on changes: its generation, its platform resource or that resource's Secret
(the connector's version), or a Secret the integration itself names
(`spec.webhook.urlSecretRef`, `spec.zstack.passwordSecretRef`). While it stands, it
costs no platform request, no log line above debug and no metric.
"""

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from alertsync.errors import AlertSyncError
from alertsync.reconcile import Outcome
from alertsync.records import IntegrationRecord, PlatformKey

__all__ = ["ReadSecret", "Stalls"]

ReadSecret = Callable[[str, str], Awaitable[dict[str, str] | None]]
# (namespace, name) of a Secret a pass read -> a digest of what it held (None: no Secret).
_Reads = dict[tuple[str, str], str | None]


def _digest(data: Mapping[str, str] | None) -> str | None:
    # A digest, not the data: the stall must not keep a copy of a credential.
    if data is None:
        return None
    return hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()


@dataclass(frozen=True)
class _Stall:
    generation: int
    platform_version: int
    secrets: _Reads = field(default_factory=dict)


class Stalls:
    def __init__(self, version: Callable[[PlatformKey], int], read_secret: ReadSecret) -> None:
        self.version, self._read_secret = version, read_secret
        self._stalls: dict[str, _Stall] = {}
        # The Secrets each integration's latest pass read, until its outcome is noted.
        self._reads: dict[str, _Reads] = {}

    def reader(self, uid: str) -> ReadSecret:
        """read_secret for one pass of `uid`, remembering what it read."""
        reads: _Reads = {}
        self._reads[uid] = reads

        async def read(namespace: str, name: str) -> dict[str, str] | None:
            data = await self._read_secret(namespace, name)
            reads[(namespace, name)] = _digest(data)
            return data

        return read

    def note(self, record: IntegrationRecord, outcome: Outcome | None) -> None:
        reads = self._reads.pop(record.uid, {})
        if outcome is None or outcome.error is None or not outcome.error.permanent:
            self._stalls.pop(record.uid, None)
            return
        self._stalls[record.uid] = _Stall(record.generation, self.version(record.platform), reads)

    def forget(self, uid: str) -> None:
        self._stalls.pop(uid, None)
        self._reads.pop(uid, None)

    async def stalled(self, record: IntegrationRecord) -> bool:
        """Still stalled: nothing it depends on changed (its Secrets read again to know)."""
        stall = self._stalls.get(record.uid)
        if stall is None:
            return False
        if (stall.generation, stall.platform_version) != (
            record.generation,
            self.version(record.platform),
        ):
            return False
        for (namespace, name), digest in stall.secrets.items():
            try:
                now = _digest(await self._read_secret(namespace, name))
            except AlertSyncError:  # unreadable now: a pass says why
                return False
            if now != digest:
                return False
        return True
