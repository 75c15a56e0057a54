"""Logging for `alertsync run`: one handler, plain or JSON, and what speaks at which level.

At the default `info`, a line says something happened to a resource or to the
operator; the traffic behind it (each platform request, each health probe, kopf's
note for every watch event) is debug. Level names are the `--log-level` values:
JSON's `severity` is `debug`, `info`, `warning`, `error` or `critical`.
"""

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from alertsync.redaction import RedactingFilter, redact

__all__ = ["LEVELS", "JsonFormatter", "TextFormatter", "configure"]

# The --log-level values, and the names the log prints for them.
LEVELS = ("debug", "info", "warning", "error")

# Libraries that log routine traffic at info: one line per platform request (httpx),
# per kubelet probe of the health endpoint (aiohttp's access log). Below debug they
# are at warning; at debug their info lines say debug.
TRAFFIC_LOGGERS = ("httpx", "aiohttp.access")
# Their lower layers and the event loop: only warnings, unless debugging.
CHATTY_LOGGERS = ("httpcore", "asyncio")

# kopf's summary after its handlers for one change all succeeded, which repeats the
# "Handler '...' succeeded." line before it.
_KOPF_SUMMARY = re.compile(r" is processed: \d+ succeeded; 0 failed\.$")


def _object_of(record: logging.LogRecord) -> dict[str, Any] | None:
    """The Kubernetes object a kopf per-object logger names (its `k8s_ref`)."""
    ref = getattr(record, "k8s_ref", None)
    if not isinstance(ref, dict):
        return None
    return {key: value for key, value in ref.items() if value is not None}


class TextFormatter(logging.Formatter):
    """`[time] LEVEL logger: [namespace/name] message`, the object when kopf names one."""

    def __init__(self) -> None:
        super().__init__("[%(asctime)s] %(levelname)-8s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ref = _object_of(record)
        if ref and ref.get("name"):
            where = f"{ref['namespace']}/{ref['name']}" if ref.get("namespace") else ref["name"]
            record = logging.makeLogRecord(record.__dict__)
            record.msg, record.args = f"[{where}] {record.getMessage()}", None
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: timestamp, severity, logger, message, and the object
    (apiVersion, kind, namespace, name, uid) when the line is about one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "severity": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        ref = _object_of(record)
        if ref:
            entry["object"] = ref
        if record.exc_info:
            # Tracebacks quote arguments and library messages: redact them too.
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        return json.dumps(entry, default=str)


def _kopf_routine(record: logging.LogRecord) -> bool:
    """kopf's routine per-object lines: the "succeeded" of watch-event handlers (kopf
    marks them k8s_skip; they run for every watch event, our own status writes
    included) and the summary after handlers that all succeeded."""
    return getattr(record, "k8s_skip", False) is True or bool(
        _KOPF_SUMMARY.search(record.getMessage())
    )


def _all(_: logging.LogRecord) -> bool:
    return True


class _Routine(logging.Filter):
    """A logger's routine info lines, demoted: dropped, or at debug relabelled debug."""

    def __init__(self, debug: bool, routine: Callable[[logging.LogRecord], bool]) -> None:
        super().__init__()
        self.debug, self.routine = debug, routine

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self.routine(record):
            return True
        if not self.debug:
            return False
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


class _Handler(logging.StreamHandler[TextIO]):
    """Ours, so that configuring again replaces it (tests configure several times)."""


def configure(level: str, log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """Send every log line to `stream` (stderr) at `level`, as `log_format` (plain, json)."""
    if level not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    debug = level == "debug"
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())

    quiet = logging.NOTSET if debug else logging.WARNING
    for name in (*TRAFFIC_LOGGERS, *CHATTY_LOGGERS):
        logging.getLogger(name).setLevel(quiet)
    routines = {name: _all for name in TRAFFIC_LOGGERS} | {"kopf.objects": _kopf_routine}
    for name, routine in routines.items():
        logger = logging.getLogger(name)
        for old_filter in [f for f in logger.filters if isinstance(f, _Routine)]:
            logger.removeFilter(old_filter)
        logger.addFilter(_Routine(debug, routine))
    return handler
