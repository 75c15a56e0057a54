"""alertsync.events: the Events AlertSync posts, and that posting never holds up a pass."""

import ast
import asyncio
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError

from alertsync import events
from alertsync.errors import AlertSyncError, InvalidSpecError
from alertsync.events import Event, EventPoster, Reason, event_body, reporting_instance
from alertsync.records import IntegrationRecord
from alertsync.redaction import register_secret

PACKAGE = Path(events.__file__).parent
NOW_NS = 1_767_225_600_123_456_789  # 2026-01-01T00:00:00.123456789Z


def record(name: str = "pay") -> IntegrationRecord:
    return IntegrationRecord(
        namespace="default", name=name, uid="uid-1", generation=1, spec={}, status={}
    )


class FakeEventsApi:
    """CoreV1Api.create_namespaced_event: its first answers are these (an error, or None
    for a success), then successes."""

    def __init__(self, *answers: Exception | None) -> None:
        self.answers = list(answers)
        self.created: list[tuple[str, dict[str, Any]]] = []
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()

    def create_namespaced_event(self, namespace: str, body: Any) -> object:
        self.gate.wait(10)
        self.calls += 1
        error = self.answers.pop(0) if self.answers else None
        if error is not None:
            raise error
        self.created.append((namespace, body))
        return body


async def until(check: Callable[[], bool]) -> None:
    """Let the poster's task run until `check()` holds (5 s at most)."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in 5 s")


def test_an_event_reads_like_client_gos() -> None:
    body = event_body(
        record(), Event("Normal", Reason.CREATED, "created C1"), "alertsync-0", NOW_NS
    )
    assert body == {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"pay.{NOW_NS:x}", "namespace": "default"},
        "involvedObject": {
            "apiVersion": "alertsync.dev/v1alpha1",
            "kind": "AlertIntegration",
            "namespace": "default",
            "name": "pay",
            "uid": "uid-1",
        },
        "type": "Normal",
        "reason": "Created",
        "message": "created C1",
        "action": "Create",
        "source": {"component": "alertsync"},
        "reportingComponent": "alertsync",
        "reportingInstance": "alertsync-0",
        "firstTimestamp": "2026-01-01T00:00:00Z",
        "lastTimestamp": "2026-01-01T00:00:00Z",
        "eventTime": "2026-01-01T00:00:00.123456Z",
        "count": 1,
    }


def test_errors_are_failed_reconciles() -> None:
    body = event_body(record(), Event("Warning", Reason.INVALID_SPEC, "x"), "p", NOW_NS)
    assert body["action"] == "Reconcile"


def test_long_names_and_messages_fit_the_api_servers_limits() -> None:
    message = "start " + "x" * 5000 + " end"
    body = event_body(
        record("n" * 253), Event("Warning", Reason.PLATFORM_REJECTED, message), "p", NOW_NS
    )
    assert len(body["metadata"]["name"]) == 253
    assert body["metadata"]["name"].endswith(f".{NOW_NS:x}")
    assert len(body["message"]) == 1024
    assert body["message"].startswith("start x")
    assert body["message"].endswith("x end")
    assert "..." in body["message"]


def all_errors() -> list[type[AlertSyncError]]:
    """AlertSyncError and every subclass the operator defines."""
    found, todo = [], [AlertSyncError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += [sub for sub in cls.__subclasses__() if sub.__module__.startswith("alertsync.")]
    return found


def test_every_reason_has_an_action_and_every_error_a_reason() -> None:
    """A new Event reason needs its verb in ACTIONS; a new error, its reason in Reason."""
    errors = {Reason(cls.reason) for cls in all_errors()}  # ValueError: a reason Reason lacks
    assert len(errors) >= 10  # the walk works (subclasses may share a reason)
    assert Reason.of(InvalidSpecError("spec.x", "wrong")) is Reason.INVALID_SPEC
    assert set(Reason) - events.ACTIONS.keys() == errors
    assert all(re.fullmatch(r"[A-Z][a-z]+", action) for action in events.ACTIONS.values())


def test_events_are_made_with_a_reason_never_a_string() -> None:
    """Every Event the operator makes names a Reason: a typo cannot reach the API server."""
    calls = [
        (path.name, node)
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Event"
    ]
    literal = [
        f"{name}:{node.lineno}"
        for name, node in calls
        if any(
            isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in node.args[1:2]
        )
    ]
    named = {
        arg.attr
        for _, node in calls
        for arg in node.args[1:2]
        if isinstance(arg, ast.Attribute) and getattr(arg.value, "id", None) == "Reason"
    }
    assert {"CREATED", "UPDATED", "DELETED", "DRIFT_REPAIRED"} <= named  # the scan works
    assert literal == []


def test_the_reporting_instance_is_the_pods_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POD_NAME", raising=False)
    monkeypatch.setenv("POD_ID", "alertsync-5d9c7-x2x8q")  # what the chart sets
    assert reporting_instance() == "alertsync-5d9c7-x2x8q"
    monkeypatch.setenv("POD_NAME", "p" * 300)
    assert reporting_instance() == "p" * 128
    monkeypatch.delenv("POD_NAME")
    monkeypatch.delenv("POD_ID")
    assert reporting_instance()  # the host's name


async def test_events_are_posted_in_order_with_distinct_names() -> None:
    api = FakeEventsApi()
    poster = EventPoster(api, instance="alertsync-0")
    await poster.start()
    for reason in (Reason.CREATED, Reason.UPDATED, Reason.DRIFT_REPAIRED):
        poster.post(record(), Event("Normal", reason, reason.lower()))
    await until(lambda: len(api.created) == 3)
    await poster.aclose()
    assert [body["reason"] for _, body in api.created] == ["Created", "Updated", "DriftRepaired"]
    assert {namespace for namespace, _ in api.created} == {"default"}
    names = [body["metadata"]["name"] for _, body in api.created]
    assert len(set(names)) == 3
    assert names == sorted(names, key=lambda name: int(name.split(".")[1], 16))


async def test_posting_never_waits_for_the_api() -> None:
    api = FakeEventsApi()
    api.gate.clear()  # the API server hangs
    poster = EventPoster(api, instance="p")
    await poster.start()
    for _ in range(100):
        poster.post(record(), Event("Normal", Reason.UPDATED, "u"))  # returns at once
    api.gate.set()
    await until(lambda: len(api.created) == 100)
    await poster.aclose()


async def test_server_errors_are_retried_and_client_errors_dropped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(events, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    api = FakeEventsApi(
        ApiException(status=503, reason="Service Unavailable"),
        MaxRetryError(pool=None, url="/api/v1/namespaces/default/events"),  # type: ignore[arg-type]
        None,  # the first Event, on its third try
        ApiException(status=403, reason="Forbidden"),  # the second: not retried
    )
    poster = EventPoster(api, instance="p")
    await poster.start()
    poster.post(record(), Event("Normal", Reason.CREATED, "c"))
    poster.post(record(), Event("Normal", Reason.UPDATED, "u"))
    poster.post(record(), Event("Normal", Reason.DELETED, "d"))
    await until(lambda: len(api.created) == 2)
    await poster.aclose()
    assert [body["reason"] for _, body in api.created] == ["Created", "Deleted"]
    assert api.calls == 5
    [dropped] = [r for r in caplog.records if r.name == "alertsync.events"]
    assert dropped.levelno == logging.WARNING
    assert "Event Updated about default/pay not posted (Kubernetes answered 403" in (
        dropped.getMessage()
    )


async def test_an_api_that_stays_down_costs_one_warning_a_minute(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "alertsync.events")
    monkeypatch.setattr(events, "RETRY_DELAYS", ())
    api = FakeEventsApi(*(ApiException(status=500, reason="Error") for _ in range(5)))
    poster = EventPoster(api, instance="p")
    await poster.start()
    for _ in range(5):
        poster.post(record(), Event("Normal", Reason.UPDATED, "u"))
    await until(lambda: api.calls == 5)
    await poster.aclose()
    levels = [r.levelno for r in caplog.records if r.name == "alertsync.events"]
    assert levels == [logging.WARNING] + [logging.DEBUG] * 4


async def test_a_full_queue_drops_events_instead_of_growing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "QUEUE_SIZE", 3)
    api = FakeEventsApi()
    api.gate.clear()
    poster = EventPoster(api, instance="p")
    await poster.start()
    for _ in range(10):
        poster.post(record(), Event("Normal", Reason.UPDATED, "u"))
    api.gate.set()
    await until(lambda: len(api.created) >= 3)
    await asyncio.sleep(0.05)
    await poster.aclose()
    # One taken by the sender before the queue filled, three queued: the rest dropped.
    assert 3 <= len(api.created) <= 4


def test_an_event_posted_before_the_start_is_dropped_not_raised() -> None:
    poster = EventPoster(FakeEventsApi(), instance="p")
    poster.post(record(), Event("Normal", Reason.CREATED, "c"))


async def test_events_from_a_worker_thread_are_handed_to_the_loop() -> None:
    api = FakeEventsApi()
    poster = EventPoster(api, instance="p")
    await poster.start()
    await asyncio.to_thread(poster.post, record(), Event("Normal", Reason.CREATED, "c"))
    await until(lambda: len(api.created) == 1)
    await poster.aclose()


def test_a_registered_secret_never_reaches_the_api() -> None:
    secret = "oncall-token-in-an-event-4f2c"
    register_secret(secret)
    event = Event("Warning", Reason.PLATFORM_REJECTED, f"the platform echoed {secret}")
    body = event_body(record(), event, "p", NOW_NS)
    assert secret not in str(body)
    assert body["message"] == "the platform echoed [REDACTED]"
