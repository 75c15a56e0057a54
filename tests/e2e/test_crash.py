"""The operator SIGKILLed mid-update and mid-delete: it converges after a restart with no
duplicate, no orphan and no drift that did not happen. (Killed between a create and its
status write: test_adoption.py and, for ZStack's async jobs, test_zstack.py.)"""

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.support.sandbox import Sandbox, operator_process, ready, running_operator
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@contextmanager
def killed_when(sandbox: Sandbox, happened: Callable[[], bool]) -> Iterator[None]:
    """Run the operator as a process; SIGKILL it as soon as `happened` is true."""
    with operator_process(sandbox, stop=signal.SIGKILL):
        yield
        wait_for(happened, timeout=30, interval=0.01)


def test_killed_while_an_update_is_in_flight(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1s")
    with running_operator():
        sandbox.create("pay", displayName="payments")
        webhook = sandbox.wait_ready("pay")["webhookId"]
    # The platform takes 3 s to answer the update; the operator dies waiting.
    sandbox.oncall.faults.delay(3, method="PUT")
    with killed_when(sandbox, lambda: sandbox.oncall.requests.count("PUT") >= 1):
        sandbox.patch_spec("pay", {"displayName": "payments renamed"})

    with running_operator():
        status = sandbox.wait_status(
            "pay", lambda s: s.get("observedGeneration") == 2 and ready(s) == "True"
        )
    [remote] = sandbox.oncall.integrations()
    assert (remote["id"], remote["name"]) == (webhook, "payments renamed")
    assert status["webhookId"] == webhook
    assert status["driftCount"] == 0  # a spec change, whatever the crash, is not drift


def test_killed_while_a_delete_is_in_flight_leaves_no_orphan(sandbox: Sandbox) -> None:
    sandbox.apply_platform(resync="1s")
    with running_operator():
        sandbox.create("pay", displayName="payments")
        sandbox.wait_ready("pay")
    sandbox.oncall.faults.delay(3, method="DELETE")
    with killed_when(sandbox, lambda: sandbox.oncall.requests.count("DELETE") >= 1):
        sandbox.delete("pay")
    assert sandbox.get("pay") is not None  # the finalizer holds it

    with running_operator():
        wait_for(lambda: sandbox.get("pay") is None, timeout=30)
    assert sandbox.oncall.integrations() == []
