"""`python -m alertsim <piece> ...`: serve a sandbox piece, or all of it, on 127.0.0.1."""

import sys
from collections.abc import Callable, Sequence

from alertsim import kubeapi, sandbox
from alertsim.simulators import SIMULATORS

COMMANDS: dict[str, Callable[[Sequence[str] | None], None]] = {
    "sandbox": sandbox.main,
    **{row.product: row.main for row in SIMULATORS},
    "kubeapi": kubeapi.main,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit(
            f"usage: python -m alertsim {{{'|'.join(COMMANDS)}}} [options]\n"
            "  sandbox: the Kubernetes API emulator and every simulator, as deploy/samples/ "
            "expects them"
        )
    COMMANDS[sys.argv[1]](sys.argv[2:])


main()
