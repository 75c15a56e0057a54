"""Keeps secret values out of logs, events, status and error messages.

Every credential the operator reads is registered here. Messages are built
without secrets in the first place; this is the safety net behind that rule,
for text that comes from elsewhere (a platform echoing a header, a library's
exception).
"""

import logging
import re
import threading

__all__ = ["RedactingFilter", "redact", "redact_url_credentials", "register_secret"]

_MASK = "[REDACTED]"
# Short values would mask ordinary words; real credentials are longer.
_MIN_LENGTH = 6
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    # A platform may echo a value trimmed or with its whitespace squeezed.
    forms = {value, value.strip(), " ".join(value.split())}
    with _lock:
        _secrets.update(form for form in forms if len(form) >= _MIN_LENGTH)


# Credentials people put into webhook URLs: a password in the userinfo, or a
# query parameter named like one (?token=, &api_key=, &sig=...).
_USERINFO = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@", re.IGNORECASE)
_QUERY = re.compile(
    r"(?P<head>[?&](?:[a-z0-9_.-]*(?:token|secret|password|passwd|apikey|api_key|api-key|key"
    r"|sig|signature|auth|credential)[a-z0-9_.-]*)=)[^&#\s\"']+",
    re.IGNORECASE,
)


def redact_url_credentials(text: str) -> str:
    """Masks passwords in URLs' userinfo and secret-looking query parameters."""
    text = _USERINFO.sub(lambda m: f"{m['head']}{_MASK}@", text)
    return _QUERY.sub(lambda m: f"{m['head']}{_MASK}", text)


def redact(text: str) -> str:
    with _lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, _MASK)
    return redact_url_credentials(text)


class RedactingFilter(logging.Filter):
    """Masks registered secrets in every record that passes a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
