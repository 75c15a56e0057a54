"""`make chaos` in small and seeded, inside `make test`; and proof that its checks can fail.

The soak (alertsim.chaos) runs the real operator as its own process against the emulator
and the five simulators under the seeded fault schedule, then checks the invariants. Here
it runs two integrations per platform for a few short rounds: the same code path as
`make chaos`, sized for the test budget.
"""

import json
from contextlib import ExitStack
from pathlib import Path

import pytest

from alertsim.chaos import INTEGRATIONS, NS, Soak, main, marker, parse_args
from alertsim.grafana_oncall import GrafanaOnCallSimulator
from alertsim.kubeapi import EmulatorThread

SMALL = [
    "--n", "10",
    "--seed", "7",
    "--rounds", "4",
    "--round-seconds", "3",
    "--interval", "1",
    "--drifts", "3",
    "--churn", "1",
    "--converge-timeout", "30",
    "--settle-timeout", "35",
]  # fmt: skip


@pytest.mark.e2e
def test_a_small_seeded_soak_keeps_every_invariant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "chaos.json"
    code = main([*SMALL, "--json", str(out)])

    report = json.loads(out.read_text())
    log = (tmp_path / "chaos-operator.log").read_text()
    check = report["check"]
    failing = [name for name, ok in check["invariants"].items() if not ok]
    assert failing == [], json.dumps(check["problems"], indent=1) + log[-3000:]
    assert report["operator_alive"]
    assert code == 0
    assert report["converge_seconds"] is not None
    assert report["settle_seconds"] is not None
    # It was a soak: faults reached the operator, drifts and deletions happened under them.
    fired = {kind for side in report["faults"].values() for kind in side["fired"]}
    assert len(fired) >= 3, report["faults"]
    for side in report["faults"].values():
        assert set(side["fired"]) <= set(side["armed"])  # nothing fired that was not armed
    assert report["drifts"]["injected"] > 0
    assert report["churn"] == {"deleted": 4, "created": 4}
    assert check["totals"]["integrations"] == 10
    table = capsys.readouterr().out
    assert "PASS  no duplicates" in table
    assert "create, answer lost" in table


def test_the_checks_fail_on_each_broken_invariant(tmp_path: Path) -> None:
    """What the operator should leave behind passes; each way of breaking it is caught."""
    args = parse_args(["--n", "4", "--platforms", "grafana-oncall", "--json", str(tmp_path / "c")])
    soak = Soak(args)
    with ExitStack() as stack:
        soak.serve(stack)
        soak.load()
        k8s = soak.k8s = stack.enter_context(EmulatorThread(soak.emulator))
        sim = soak.sides["grafana-oncall"].sim
        assert isinstance(sim, GrafanaOnCallSimulator)

        ids = {}
        for name, res in soak.resources.items():  # as the operator would leave them
            made = sim.add_integration(
                "alertmanager", name=res.display, description_short=marker(res.uid)
            )
            sim.set_template(made["id"], "slack.title", "chaos")
            ready = {
                "type": "Ready",
                "status": "True",
                "reason": "Reconciled",
                "lastTransitionTime": "2026-11-23T00:00:00Z",
            }
            status = {
                "observedGeneration": 1,
                "driftCount": 0,
                "webhookId": made["id"],
                "conditions": [ready],
            }
            k8s.update_object(
                INTEGRATIONS, name, {"status": status}, namespace=NS, subresource="status"
            )
            ids[name] = made["id"]

        def failing() -> list[str]:
            return [name for name, ok in soak.check()["invariants"].items() if not ok]

        assert failing() == []
        first, second, third, fourth = sorted(soak.resources)

        # A second object carrying the first one's marker: the operator did not find its own.
        sim.add_integration("alertmanager", name="made twice", description_short=marker(
            soak.resources[first].uid
        ))  # fmt: skip
        assert failing() == ["converged", "no duplicates"]
        assert soak.check()["totals"]["duplicates"] == 1

        # The second deleted in Kubernetes while its object stays: an orphan.
        k8s.delete_object(INTEGRATIONS, second, namespace=NS)
        soak.resources[second].deleted = True
        assert "no orphans" in failing()

        # The third one's object gone: lost. The fourth counted a drift nobody made.
        sim.remove(ids[third])
        k8s.update_object(
            INTEGRATIONS, fourth, {"status": {"driftCount": 1}}, namespace=NS, subresource="status"
        )
        decoy = next(iter(soak.sides["grafana-oncall"].decoys))
        sim.rename(decoy, "taken over")
        assert failing() == [
            "converged",
            "no duplicates",
            "no orphans",
            "none lost",
            "driftCount == drifts injected",
            "someone else's objects untouched",
        ]
        totals = soak.check()["totals"]
        assert (totals["orphans"], totals["lost"], totals["drift_mismatch"]) == (1, 1, 1)
