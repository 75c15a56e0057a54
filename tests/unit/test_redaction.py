"""Registered secrets are masked in any text and in log records."""

import logging

import pytest

from alertsync.redaction import RedactingFilter, redact, redact_url_credentials, register_secret


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


@pytest.mark.parametrize(
    ("shown", "masked"),
    [
        ("https://bot:hunter2-pass@hooks.example/x", "https://bot:[REDACTED]@hooks.example/x"),
        (
            "https://hooks.example/x?token=abc123&team=pay",
            "https://hooks.example/x?token=[REDACTED]&team=pay",
        ),
        ("https://h.example/x?a=1&api_key=zzz", "https://h.example/x?a=1&api_key=[REDACTED]"),
        (
            "https://h.example/x?sig=0f0f&access_token=q",
            "https://h.example/x?sig=[REDACTED]&access_token=[REDACTED]",
        ),
        (
            "cannot post to https://u:p4ss@h.example: 500",
            "cannot post to https://u:[REDACTED]@h.example: 500",
        ),
        (
            "https://hooks.example/plain?team=pay&page=2",
            "https://hooks.example/plain?team=pay&page=2",
        ),
        ("https://user@hooks.example/x", "https://user@hooks.example/x"),
    ],
)
def test_credentials_in_webhook_urls_are_masked(shown: str, masked: str) -> None:
    assert redact_url_credentials(shown) == masked
    assert redact(shown) == masked


def test_a_secret_echoed_trimmed_or_squeezed_is_masked_too() -> None:
    register_secret("  padded secret\tvalue 42\n")
    assert redact("got 'padded secret\tvalue 42'") == "got '[REDACTED]'"
    assert redact("got 'padded secret value 42'") == "got '[REDACTED]'"
