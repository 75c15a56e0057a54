"""Prometheus metrics (docs/metrics.md). Labels are bounded sets only: the
platform's product type, an operation, a status code, a condition reason, a
spec field path; never a resource name or id.
"""

from collections.abc import Callable, Iterable, Iterator

from aiohttp import web
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from alertsync import __version__
from alertsync.models import ProductType

__all__ = [
    "BUILD_INFO",
    "DRIFT",
    "NO_PLATFORM",
    "RATE_LIMIT_DEFERRED",
    "RATE_LIMIT_WAITS",
    "RATE_LIMIT_WAIT_SECONDS",
    "RECONCILES",
    "REGISTRY",
    "REQUESTS",
    "REQUEST_SECONDS",
    "RESYNC_SECONDS",
    "MetricsServer",
    "count_integrations",
    "operation_of",
    "platform_label",
]

# *_created series double the output and say nothing a restart does not.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Our own registry, so that what /metrics shows is chosen here; it carries the
# client library's process_*, python_info and python_gc_* series (the collectors
# of the default registry: they read the process, whichever registry shows them).
REGISTRY = CollectorRegistry(auto_describe=True)
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

BUILD_INFO = Info(
    "alertsync_build",
    "The running AlertSync's version (always 1): which release each replica runs.",
    registry=REGISTRY,
)
BUILD_INFO.info({"version": __version__})

# The platform label of an integration whose platform does not exist (yet): empty,
# which PromQL treats as no label, never a made-up product type.
NO_PLATFORM = ""

RECONCILES = Counter(
    "alertsync_reconciles_total",
    "Reconcile passes of AlertIntegrations, by platform and result (the Ready reason).",
    ["platform", "result"],
    registry=REGISTRY,
)
DRIFT = Counter(
    "alertsync_drift_total",
    "Drifts found on the platform, by field; action is repaired or reported (ObserveOnly).",
    ["platform", "field", "action"],
    registry=REGISTRY,
)
REQUESTS = Counter(
    "alertsync_platform_requests_total",
    "Requests sent to platforms, by operation and HTTP status code (or timeout, error).",
    ["platform", "operation", "code"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "alertsync_platform_request_duration_seconds",
    "Latency of platform requests.",
    ["platform", "operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
RATE_LIMIT_WAITS = Counter(
    "alertsync_rate_limit_waits_total",
    "Requests held back by a client-side limit or an announced platform window, then sent.",
    ["platform"],
    registry=REGISTRY,
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "alertsync_rate_limit_wait_seconds_total",
    "Seconds requests spent waiting for a rate limit.",
    ["platform"],
    registry=REGISTRY,
)
RATE_LIMIT_DEFERRED = Counter(
    "alertsync_rate_limit_deferred_total",
    "Requests not sent because the platform's window was spent for longer than we wait "
    "(the reconcile is retried when it opens).",
    ["platform"],
    registry=REGISTRY,
)
RESYNC_SECONDS = Histogram(
    "alertsync_resync_duration_seconds",
    "Duration of one platform's resync cycle (listing and every integration's pass).",
    ["platform"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
    registry=REGISTRY,
)

_OPERATIONS = {"GET": "read", "POST": "create", "PUT": "update", "PATCH": "update"}


def operation_of(method: str) -> str:
    return _OPERATIONS.get(method.upper(), method.lower())


def platform_label(product: ProductType | str | None) -> str:
    """The `platform` label: a product type (docs/metrics.md lists them), else NO_PLATFORM."""
    try:
        return ProductType(product).value if product is not None else NO_PLATFORM
    except ValueError:
        return NO_PLATFORM


# (platform, Ready status) for every integration the operator knows.
ReadyStates = Callable[[], Iterable[tuple[str, str]]]


class _IntegrationsCollector(Collector):
    """alertsync_integrations: counted at scrape time from what the operator holds."""

    def __init__(self) -> None:
        self.source: ReadyStates | None = None

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "alertsync_integrations",
            "AlertIntegrations by platform and Ready condition status (True, False, Unknown).",
            labels=["platform", "ready"],
        )
        counts: dict[tuple[str, str], int] = {}
        for key in self.source() if self.source else ():
            counts[key] = counts.get(key, 0) + 1
        for (platform, ready), count in sorted(counts.items()):
            family.add_metric([platform, ready], count)
        yield family


_INTEGRATIONS = _IntegrationsCollector()
REGISTRY.register(_INTEGRATIONS)


def count_integrations(source: ReadyStates | None) -> None:
    """Tell the gauge where the integrations are (the Runtime); None forgets them."""
    _INTEGRATIONS.source = source


class MetricsServer:
    """/metrics on its own port, in the operator's event loop."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        port: int = self._runner.addresses[0][1]
        return port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        # OpenMetrics when the scraper asks for it (Prometheus does), else the text format.
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encode(REGISTRY), headers={"Content-Type": content_type})
