"""The /metrics endpoint: both exposition formats, the process series, the build info."""

from collections.abc import AsyncIterator

import httpx
import pytest

from alertsync import __version__, metrics
from alertsync.models import ProductType

OPENMETRICS = "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"


@pytest.fixture
async def served() -> AsyncIterator[str]:
    server = metrics.MetricsServer("127.0.0.1", 0)
    port = await server.start()
    try:
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        await server.stop()


async def test_the_text_format_by_default(served: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(served)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# EOF" not in response.text
    assert "# TYPE alertsync_reconciles_total counter" in response.text


async def test_openmetrics_when_the_scraper_asks_for_it(served: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(served, headers={"Accept": OPENMETRICS})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")
    # OpenMetrics names a counter's family without _total; its samples keep it.
    assert "# TYPE alertsync_reconciles counter" in response.text
    assert "# TYPE alertsync_build info" in response.text


async def test_process_and_build_series(served: str) -> None:
    async with httpx.AsyncClient() as client:
        text = (await client.get(served)).text
    samples = {line.split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
    assert {
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_start_time_seconds",
        "process_open_fds",
    } <= samples
    assert any(name.startswith("python_info{") for name in samples)
    assert any(name.startswith("python_gc_collections_total{") for name in samples)
    assert f'alertsync_build_info{{version="{__version__}"}} 1.0' in text.splitlines()


def test_the_platform_label_is_a_product_type_or_empty() -> None:
    assert metrics.platform_label(ProductType("grafana-oncall")) == "grafana-oncall"
    assert metrics.platform_label("ilert") == "ilert"
    assert metrics.platform_label(None) == metrics.NO_PLATFORM == ""
    assert metrics.platform_label("unknown") == ""
    assert metrics.platform_label("Grafana OnCall") == ""
