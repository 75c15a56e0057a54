"""The platform simulators, one row each: what `python -m alertsim`, the sandbox and the
demo need to know of a platform. A new simulator joins all three by adding its row.

Each row serves its deploy/samples/<productType>.yaml: the AlertPlatform's name and port
in its URL, the credentials in its Secret (placeholders such as `sandbox-oncall-token`;
the simulators accept exactly these), and the AlertIntegration the sample declares on it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from alertsim import confluent, grafana_oncall, ilert, mackerel, zstack
from alertsim.core import Simulator

__all__ = ["SIMULATORS", "ZSTACK_TOPIC", "Running", "Served", "served"]

S = TypeVar("S", bound=Simulator)

# The samples' SNS topic (spec.zstack.topicUuids in deploy/samples/).
ZSTACK_TOPIC = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"


@dataclass(frozen=True)
class Running:
    """A row's simulator, made."""

    sim: Simulator
    # What AlertSync created on it that is still there (the platform's own objects aside).
    created: Callable[[], Sequence[object]]


@dataclass(frozen=True)
class Served:
    """One platform simulator as the sandbox serves it for deploy/samples/."""

    # The samples' AlertPlatform (metadata.name): the simulator's name in the sandbox.
    name: str
    # Its productType, which names its sample file (deploy/samples/<product>.yaml);
    # `python -m alertsim <product>` serves this simulator alone.
    product: str
    # The port of the samples' AlertPlatform URL (tests/e2e/test_sandbox.py holds them to it).
    port: int
    # The samples' AlertIntegration (metadata.name) on it.
    sample: str
    main: Callable[[Sequence[str] | None], None]
    # A new simulator that accepts the samples' credentials.
    start: Callable[[], Running]


def served(
    name: str,
    product: str,
    port: int,
    sample: str,
    main: Callable[[Sequence[str] | None], None],
    start: Callable[[], S],
    created: Callable[[S], Sequence[object]],
) -> Served:
    """A row, typed by its simulator: `created` reads the simulator `start` makes."""

    def run() -> Running:
        sim = start()
        return Running(sim, lambda: created(sim))

    return Served(name, product, port, sample, main, run)


def _confluent_created(sim: confluent.ConfluentSimulator) -> Sequence[object]:
    # Email and in-app integrations are Confluent's own.
    return [i for i in sim.integrations() if i["target"]["kind"] not in ("RoleEmail", "UserEmail")]


def _mackerel_created(sim: mackerel.MackerelSimulator) -> Sequence[object]:
    return [c for c in sim.channels() if c["type"] == "webhook"]


SIMULATORS: tuple[Served, ...] = (
    served(
        "oncall",
        "grafana-oncall",
        18090,
        "payments-alerts",
        grafana_oncall.main,
        lambda: grafana_oncall.GrafanaOnCallSimulator(tokens={"sandbox-oncall-token": "admin"}),
        lambda sim: sim.integrations(),
    ),
    served(
        "ilert",
        "ilert",
        18091,
        "payments-ilert",
        ilert.main,
        lambda: ilert.ILertSimulator(keys={"sandbox-ilert-token": "admin"}),
        lambda sim: sim.alert_sources(),
    ),
    served(
        "confluent",
        "confluent",
        18092,
        "kafka-notifications",
        confluent.main,
        lambda: confluent.ConfluentSimulator(
            keys={"sandbox-confluent-key": confluent.ApiKey("sandbox-confluent-secret")}
        ),
        _confluent_created,
    ),
    served(
        "mackerel",
        "mackerel",
        18093,
        "checkout-alerts",
        mackerel.main,
        lambda: mackerel.MackerelSimulator(keys={"sandbox-mackerel-key": mackerel.READ_WRITE}),
        _mackerel_created,
    ),
    served(
        "zstack",
        "zstack",
        18094,
        "storage-alarms",
        zstack.main,
        lambda: zstack.ZStackSimulator(
            accounts={"admin": "sandbox-zstack-password"}, topics={ZSTACK_TOPIC: "alarms"}
        ),
        lambda sim: sim.endpoints(),
    ),
)
