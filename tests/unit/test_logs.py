"""`alertsync run`'s logging: what speaks at info, the level names, the JSON fields."""

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, cast

import httpx
import pytest

from alertsync import cli, logs
from alertsync.accountwork import AccountWork
from alertsync.connector import Connector
from alertsync.errors import PlatformUnavailableError
from alertsync.integrationpass import PassRunner
from alertsync.kube import Kube
from alertsync.models import PlatformRef
from alertsync.reconcile import Outcome
from alertsync.records import IntegrationRecord
from alertsync.redaction import register_secret
from alertsync.stalls import Stalls
from alertsync.statuswriter import StatusWriter
from alertsync.wakeups import Wakeups
from alertsync.workqueue import Job, Work

LOGGERS = ("", *logs.TRAFFIC_LOGGERS, *logs.CHATTY_LOGGERS, "kopf.objects")


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """configure() changes process-wide loggers: put them back for the other tests."""
    saved = {
        name: (logger.level, list(logger.filters), list(logger.handlers))
        for name in LOGGERS
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (level, filters, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.filters[:] = filters
        logger.handlers[:] = handlers


def configured(level: str, log_format: str = "json") -> io.StringIO:
    stream = io.StringIO()
    logs.configure(level, log_format, stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def a_successful_platform_request() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"results": []}))
    async with httpx.AsyncClient(transport=transport, base_url="https://oncall.test") as client:
        response = await client.get("/api/v1/integrations/")
    assert response.status_code == 200


async def test_a_successful_platform_request_logs_nothing_at_info() -> None:
    stream = configured("info")
    logging.getLogger("alertsync.test").info("before")
    await a_successful_platform_request()
    logging.getLogger("alertsync.test").info("after")
    assert [line["message"] for line in lines(stream)] == ["before", "after"]


async def test_debug_logs_each_platform_request_as_debug() -> None:
    stream = configured("debug")
    await a_successful_platform_request()
    requests = [line for line in lines(stream) if line["logger"] == "httpx"]
    assert [line["severity"] for line in requests] == ["debug"]
    assert "GET https://oncall.test/api/v1/integrations/" in requests[0]["message"]


def test_the_flag_and_the_printed_level_names_agree(capsys: pytest.CaptureFixture[str]) -> None:
    assert logs.LEVELS == ("debug", "info", "warning", "error")
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["run", "--log-level", "warn"])
    assert "--log-level {debug,info,warning,error}" in capsys.readouterr().err
    for level in logs.LEVELS:
        assert cli._parser().parse_args(["run", "--log-level", level]).log_level == level
        stream = configured(level)
        logging.getLogger("alertsync.test").log(logging.getLevelName(level.upper()), "x")
        assert [line["severity"] for line in lines(stream)] == [level]
    with pytest.raises(ValueError, match="warn"):
        logs.configure("warn", "json")


def test_json_lines_name_the_logger_and_the_object() -> None:
    stream = configured("info")
    logging.getLogger("alertsync.runtime").warning("default/pay: something")
    ref = {"apiVersion": "alertsync.dev/v1alpha1", "kind": "AlertIntegration"}
    ref |= {"namespace": "default", "name": "pay", "uid": "u-1"}
    logging.getLogger("kopf.objects").error("Handler failed", extra={"k8s_ref": ref})
    first, second = lines(stream)
    assert first.keys() == {"timestamp", "severity", "logger", "message"}
    assert (first["logger"], first["severity"]) == ("alertsync.runtime", "warning")
    assert second["logger"] == "kopf.objects"
    assert second["object"] == ref


def test_plain_lines_name_the_level_the_logger_and_the_object() -> None:
    stream = configured("info", "plain")
    ref = {"namespace": "default", "name": "pay"}
    logging.getLogger("kopf.objects").warning("retrying", extra={"k8s_ref": ref})
    assert stream.getvalue().rstrip().endswith("WARNING  kopf.objects: [default/pay] retrying")


@pytest.mark.parametrize("level", ["info", "debug"])
def test_kopf_routine_lines_are_debug(level: str) -> None:
    stream = configured(level)
    objects = logging.getLogger("kopf.objects")
    objects.info("Handler 'track' succeeded.", extra={"k8s_skip": True})  # every watch event
    objects.info("Creation is processed: 1 succeeded; 0 failed.")
    objects.info("Handler 'reconcile' succeeded.")  # something happened to the object
    objects.info("Update is processed: 0 succeeded; 1 failed.")
    found = [(line["severity"], line["message"]) for line in lines(stream)]
    kept = [
        ("info", "Handler 'reconcile' succeeded."),
        ("info", "Update is processed: 0 succeeded; 1 failed."),
    ]
    if level == "debug":
        assert found == [
            ("debug", "Handler 'track' succeeded."),
            ("debug", "Creation is processed: 1 succeeded; 0 failed."),
            *kept,
        ]
    else:
        assert found == kept


def test_health_probes_are_not_logged_at_info() -> None:
    stream = configured("info")
    logging.getLogger("aiohttp.access").info('127.0.0.1 "GET /healthz HTTP/1.1" 200')
    assert stream.getvalue() == ""


def test_secrets_are_masked_in_messages_and_tracebacks() -> None:
    secret = "s3cr3t-token-for-logs-test"
    register_secret(secret)
    for log_format in ("json", "plain"):
        stream = configured("info", log_format)
        try:
            raise RuntimeError(f"platform said {secret}")
        except RuntimeError:
            logging.getLogger("alertsync.test").exception("failed with %s", secret)
        assert secret not in stream.getvalue()
        assert "[REDACTED]" in stream.getvalue()


def test_configuring_again_replaces_the_handler() -> None:
    first = configured("info")
    second = configured("info")
    logging.getLogger("alertsync.test").info("once")
    assert first.getvalue() == ""
    assert len(lines(second)) == 1


# -- who is at fault decides the level: the user's mistakes are warnings -------------


class Cluster:
    """The Kubernetes side of a pass: it only takes status writes."""

    async def patch_status(
        self, plural: str, namespace: str | None, name: str, patch: dict[str, Any]
    ) -> None:
        pass

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        return None


class Platforms:
    """A connector whose every platformRef fails to resolve with `failure`, if any."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self.read_only: dict[Any, str] = {}

    async def resolve(self, ref: PlatformRef, namespace: str, *, refresh: bool = False) -> Any:
        assert self.failure is not None, "an invalid spec reaches no platform"
        raise self.failure

    def adapter_for(self, account: Any) -> Any:
        raise AssertionError("no platform was resolved")


PASS_LOGGER = "alertsync.integrationpass"


async def passes_logged(
    caplog: pytest.LogCaptureFixture, spec: dict[str, Any], platforms: Platforms
) -> list[logging.LogRecord]:
    """Two passes of one integration, each failing the same way: what they logged."""
    caplog.set_level(logging.DEBUG, PASS_LOGGER)
    cluster = Cluster()
    kube = cast(Kube, cluster)
    runner = PassRunner(
        kube=kube,
        connector=cast(Connector, platforms),
        statuses=StatusWriter(kube),
        stalls=Stalls(lambda key: 0, cluster.read_secret),
        post_event=lambda *_: None,
    )
    record = IntegrationRecord("team", "pay", "u-1", generation=1, spec=spec, status={})
    for _ in range(2):
        outcome = await runner.run(record, listing=None)
        assert outcome.error is not None
    return [r for r in caplog.records if r.name == PASS_LOGGER]


async def test_a_users_spec_error_is_a_warning_once_then_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spec = {"platformRef": {"name": "oncall"}, "targetState": "paused"}
    first, again = await passes_logged(caplog, spec, Platforms())
    assert first.levelno == logging.WARNING
    assert first.getMessage().startswith("team/pay: spec.targetState: ")  # names the field
    assert again.levelno == logging.DEBUG  # the same mistake, retried: said once
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_platform_outage_is_a_warning_too(caplog: pytest.LogCaptureFixture) -> None:
    """Not the user's, but not AlertSync's failure either: retried with backoff, on the
    status and in an Event; the level says nothing is broken in the operator."""
    down = Platforms(PlatformUnavailableError("Grafana OnCall unreachable: timed out"))
    first, again = await passes_logged(caplog, {"platformRef": {"name": "oncall"}}, down)
    assert (first.levelno, again.levelno) == (logging.WARNING, logging.DEBUG)
    assert first.getMessage() == "team/pay: Grafana OnCall unreachable: timed out"


async def test_a_pass_that_fails_unexpectedly_is_alertsyncs_failure_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def run(job: Job) -> Outcome | None:
        raise KeyError("status")  # a bug, or an answer nobody expected

    work = AccountWork("oncall", run, lambda: 60.0)
    work.submit("u-1", "team", Work.CREATE)
    async with work.running(1):
        for _ in range(100):
            if caplog.records:
                break
            await asyncio.sleep(0.01)
    [failed] = [r for r in caplog.records if r.name == "alertsync.accountwork"]
    assert failed.levelno == logging.ERROR
    assert failed.getMessage() == "oncall: the pass of u-1 failed; retrying"
    assert failed.exc_info is not None  # with its traceback


# -- shutdown: the platforms' resync daemons stop cleanly, with nothing to warn about ---


async def an_answer_that_does_not_come() -> None:
    await asyncio.Event().wait()


class ResyncingRuntime:
    """A runtime whose resync and passes are in flight (a listing, say) when the
    operator stops."""

    def __init__(self) -> None:
        self.wakeups = Wakeups()
        self.resyncing, self.passing = asyncio.Event(), asyncio.Event()
        self.passes = 0

        async def run(job: Job) -> Outcome | None:
            self.passes += 1
            if self.passes == 4:
                self.passing.set()
            await an_answer_that_does_not_come()
            return None

        self.work = AccountWork("oncall", run, lambda: 60.0)

    @contextlib.asynccontextmanager
    async def serving(self, key: Any) -> AsyncIterator[None]:
        async with self.work.running(4):
            yield

    async def resync_platform(self, record: Any) -> float:
        for uid in ("u-1", "u-2", "u-3", "u-4"):
            self.work.submit(uid, "team", Work.CREATE)
        self.resyncing.set()
        await an_answer_that_does_not_come()
        return 60.0


async def test_the_operator_exiting_mid_resync_cancels_no_daemon(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """kopf warns "Daemon 'resync' is cancelled. Will escalate." when it has to cancel a
    daemon: the daemon must return by itself once told to stop, even mid-resync.

    Stopped by kopf's own code (1.45.2, pinned), with the handler as registered."""
    import kopf
    from kopf._core.engines import daemons
    from kopf._core.intents import stoppers

    import alertsync.handlers
    from tests.support.sandbox import REGISTRY  # the operator's, kept from other kopf tests

    spawning = REGISTRY._spawning.get_all_handlers()
    # One for AlertPlatforms, one for ClusterAlertPlatforms: the same settings.
    handler = next(h for h in spawning if h.fn is alertsync.handlers.platform_resync)
    runtime = ResyncingRuntime()
    stopper = stoppers.DaemonStopper()
    body = {
        "kind": "AlertPlatform",
        "metadata": {"namespace": "team", "name": "oncall", "uid": "p-1"},
        "spec": {},
    }
    daemon_fn = cast(Callable[..., Awaitable[None]], alertsync.handlers.platform_resync)
    task = asyncio.ensure_future(
        daemon_fn(
            body=kopf.Body(cast(kopf.RawBody, body)),
            memo=kopf.Memo(runtime=runtime),
            stopped=stopper.async_waiter,  # what kopf gives an async daemon
        )
    )
    await asyncio.wait_for(runtime.resyncing.wait(), 5)
    await asyncio.wait_for(runtime.passing.wait(), 5)

    logger = logging.getLogger("kopf.objects")
    daemon = daemons.Daemon(task=task, logger=logger, handler=handler, stopper=stopper)
    reason = stoppers.DaemonStoppingReason.OPERATOR_EXITING
    await daemons.stop_daemon(settings=kopf.OperatorSettings(), daemon=daemon, reason=reason)

    assert task.done()
    assert not task.cancelled()  # it returned: kopf cancelled nothing
    assert not stopper.is_set(stoppers.DaemonStoppingReason.DAEMON_CANCELLED)
    assert runtime.work.workers == 0  # the account's workers stopped with it
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
