"""What the ReconcileAlertIntegration API and the metrics read: every
integration's status as this operator last wrote it, from memory (no API calls)."""

from collections.abc import Iterator

from alertsync import metrics
from alertsync.models import AlertIntegrationStatus
from alertsync.records import IntegrationRecord
from alertsync.status import condition
from alertsync.statuswriter import StatusWriter
from alertsync.watchcache import WatchCache

__all__ = ["entries", "entry", "ready_states"]


def entries(
    cache: WatchCache, statuses: StatusWriter, platform_uid: str | None
) -> list[AlertIntegrationStatus] | None:
    """Every integration's status as last written, of one platform or all."""
    if platform_uid is None:
        keys = list(cache.integrations)
    else:
        platform = cache.platform_by_uid(platform_uid)
        if platform is None:
            return None
        keys = [platform.key]
    return [
        entry(cache, statuses, integration)
        for key in keys
        for integration in cache.integrations_of(key)
        if integration.uid in statuses.written or integration.status
    ]


def entry(
    cache: WatchCache, statuses: StatusWriter, integration: IntegrationRecord
) -> AlertIntegrationStatus:
    current = cache.integration(integration.uid) or integration
    status = statuses.status_of(current)
    return status if status.uuid else status.model_copy(update={"uuid": current.uid})


def ready_states(cache: WatchCache, statuses: StatusWriter) -> Iterator[tuple[str, str]]:
    """(platform, Ready status) of every integration, for the metrics."""
    for key, integrations in list(cache.integrations.items()):
        platform = cache.platforms.get(key)
        label = metrics.platform_label(platform.product_type if platform else None)
        for integration in list(integrations.values()):
            status = statuses.status_of(integration)
            ready = condition(status.conditions, "Ready")
            yield label, ready.status if ready else "Unknown"
