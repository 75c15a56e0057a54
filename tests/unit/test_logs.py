"""`alertsync run`'s logging: what speaks at info, the level names, the JSON fields."""

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from alertsync import cli, logs
from alertsync.redaction import register_secret

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
