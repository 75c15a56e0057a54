"""`python -m alertsim <piece> ...`: serve a sandbox piece, or all of it, on 127.0.0.1."""

import sys

from alertsim import confluent, grafana_oncall, ilert, kubeapi, mackerel, sandbox, zstack

COMMANDS = {
    "sandbox": sandbox.main,
    "grafana-oncall": grafana_oncall.main,
    "ilert": ilert.main,
    "mackerel": mackerel.main,
    "confluent": confluent.main,
    "zstack": zstack.main,
    "kubeapi": kubeapi.main,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit(
            f"usage: python -m alertsim {{{'|'.join(COMMANDS)}}} [options]\n"
            "  sandbox: the Kubernetes API emulator and all five simulators, as deploy/samples/ "
            "expects them"
        )
    COMMANDS[sys.argv[1]](sys.argv[2:])


main()
