"""What the watch streams last showed: platforms, and integrations per platform.

Fed by kopf's event handlers (no API calls), read by the resync, the work
queue (a job always acts on the newest copy of its resource) and the API.
"""

from collections import defaultdict

from alertsync.records import IntegrationRecord, PlatformKey, PlatformRecord

__all__ = ["WatchCache"]


class WatchCache:
    def __init__(self) -> None:
        self.platforms: dict[PlatformKey, PlatformRecord] = {}
        self.integrations: defaultdict[PlatformKey, dict[str, IntegrationRecord]] = defaultdict(
            dict
        )
        self.platform_of: dict[str, PlatformKey] = {}

    def track_integration(self, record: IntegrationRecord, *, gone: bool = False) -> None:
        previous = self.platform_of.pop(record.uid, None)
        if previous is not None:
            self.integrations[previous].pop(record.uid, None)
        if not gone:
            self.platform_of[record.uid] = record.platform
            self.integrations[record.platform][record.uid] = record

    def track_platform(self, record: PlatformRecord, *, gone: bool = False) -> None:
        if gone:
            self.platforms.pop(record.key, None)
        else:
            self.platforms[record.key] = record

    def integration(self, uid: str) -> IntegrationRecord | None:
        key = self.platform_of.get(uid)
        return None if key is None else self.integrations[key].get(uid)

    def integrations_of(self, key: PlatformKey) -> list[IntegrationRecord]:
        return list(self.integrations[key].values())

    def platform_by_uid(self, uid: str) -> PlatformRecord | None:
        return next((p for p in self.platforms.values() if p.uid == uid), None)
