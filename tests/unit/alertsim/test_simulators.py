"""The sandbox's table of simulators (alertsim/simulators.py) against deploy/samples/."""

from alertsim.sandbox import Platforms
from alertsim.simulators import SIMULATORS
from tests.support.samples import SAMPLES, sample_file, sample_names, sandbox_samples


def test_every_sample_platform_is_served_where_its_url_says() -> None:
    assert {row.name for row in SIMULATORS} == sample_names("AlertPlatform")
    # One file per platform, named by its productType.
    assert set(SAMPLES.glob("*.yaml")) == {sample_file(row.product) for row in SIMULATORS}
    for row in SIMULATORS:
        samples = sandbox_samples(row.product, f"http://127.0.0.1:{row.port}")
        assert samples.platform["metadata"]["name"] == row.name
        assert samples.integration["metadata"]["name"] == row.sample
    assert len({row.port for row in SIMULATORS}) == len(SIMULATORS)


def test_nothing_is_left_on_fresh_simulators() -> None:
    platforms = Platforms()
    assert set(platforms.sims) == {row.name for row in SIMULATORS}
    assert platforms.created() == []
