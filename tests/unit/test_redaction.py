"""Registered secrets are masked in any text and in log records."""

import logging

import pytest

from alertsync.redaction import RedactingFilter, redact, register_secret


def test_registered_secret_is_masked_in_text() -> None:
    register_secret("s3cr3t-token-abc")
    assert redact("header Authorization: s3cr3t-token-abc") == "header Authorization: [REDACTED]"


def test_short_values_are_not_registered_so_words_survive() -> None:
    register_secret("abc")
    assert redact("abc def") == "abc def"


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("another-secret-value")
    logger = logging.getLogger("test.redaction")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("token is %s", "another-secret-value")
    assert "another-secret-value" not in caplog.text
    assert "[REDACTED]" in caplog.text
