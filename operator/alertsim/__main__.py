"""`python -m alertsim <piece> ...`: serve one sandbox piece on 127.0.0.1."""

import sys

from alertsim import confluent, grafana_oncall, ilert, kubeapi, mackerel, zstack

COMMANDS = {
    "grafana-oncall": grafana_oncall.main,
    "ilert": ilert.main,
    "mackerel": mackerel.main,
    "confluent": confluent.main,
    "zstack": zstack.main,
    "kubeapi": kubeapi.main,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit(f"usage: python -m alertsim {{{'|'.join(COMMANDS)}}} [options]")
    COMMANDS[sys.argv[1]](sys.argv[2:])


main()
