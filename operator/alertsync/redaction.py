"""Keeps secret values out of logs, events, status and error messages.

Every credential the operator reads is registered here. Messages are built
without secrets in the first place; this is the safety net behind that rule,
for text that comes from elsewhere (a platform echoing a header, a library's
exception).
"""

import logging
import threading

__all__ = ["RedactingFilter", "redact", "register_secret"]

_MASK = "[REDACTED]"
# Short values would mask ordinary words; real credentials are longer.
_MIN_LENGTH = 6
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    if len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, _MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks registered secrets in every record that passes a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
