"""Names of exported AlertIntegrations, and credentials found in webhook URLs."""

import re

import pytest

from alertsync.export.credentials import PLACEHOLDER, scrub
from alertsync.export.naming import MAX_LENGTH, assign, hashed, slug
from alertsync.redaction import redact

LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def anything_free(name: str, platform_id: str) -> bool:
    return True


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("payments", "payments"),
        ("Payments Prod", "payments-prod"),
        ("team-a/prod  alerts!", "team-a-prod-alerts"),
        ("Zürich Störungen", "zurich-storungen"),
        ("--edge--", "edge"),
        ("警报", ""),
        ("x" * 100, "x" * MAX_LENGTH),
    ],
)
def test_slug_is_a_dns_label(name: str, expected: str) -> None:
    assert slug(name) == expected
    assert expected == "" or LABEL.match(expected)


def test_a_unique_slug_is_the_name_and_duplicates_take_a_hash_of_their_id() -> None:
    names = assign(
        [("C1", "Payments Prod"), ("C2", "checkout"), ("C3", "Checkout"), ("C4", "警报")],
        anything_free,
    )
    assert names["C1"] == "payments-prod"
    assert names["C2"] == hashed("checkout", "C2")
    assert names["C3"] == hashed("checkout", "C3")
    assert names["C2"] != names["C3"]
    assert names["C4"] == hashed("", "C4")
    assert names["C4"].startswith("integration-")
    assert all(LABEL.match(name) and len(name) <= MAX_LENGTH for name in names.values())


def test_names_are_stable_whatever_the_order_and_the_other_objects() -> None:
    first = assign([("A", "alpha"), ("B", "beta"), ("C", "beta")], anything_free)
    second = assign([("C", "beta"), ("D", "gamma"), ("B", "beta"), ("A", "alpha")], anything_free)
    assert {k: second[k] for k in first} == first


def test_a_name_taken_by_another_resource_is_not_reused() -> None:
    def free(name: str, platform_id: str) -> bool:
        return name != "payments"

    names = assign([("C1", "payments")], free)
    assert names == {"C1": hashed("payments", "C1")}


def test_a_hashed_name_never_takes_a_name_another_object_keeps() -> None:
    clash = hashed("pay", "B")
    names = assign([("A", clash), ("B", "pay"), ("C", "pay")], anything_free)
    assert names["A"] == clash
    assert names["B"] != clash
    assert len(set(names.values())) == 3


def test_long_names_keep_their_hash_within_63_characters() -> None:
    names = assign([("A", "y" * 90), ("B", "y" * 91)], anything_free)
    assert all(len(name) == MAX_LENGTH for name in names.values())
    assert names["A"] != names["B"]


# -- credentials in URLs ---------------------------------------------------------------------


def test_a_url_without_credentials_is_clean() -> None:
    url = "https://receiver.example.com/hooks/payments?team=pay&channel=ops"
    scrubbed = scrub(url)
    assert scrubbed.clean
    assert scrubbed.shown == url


@pytest.mark.parametrize(
    ("url", "shown", "found"),
    [
        (
            "https://alert:s3cret-pass-91@hooks.example.com/in",
            f"https://alert:{PLACEHOLDER}@hooks.example.com/in",
            ("a password in its userinfo",),
        ),
        (
            "https://tok-7c1e5a9b3d@hooks.example.com/in",
            f"https://{PLACEHOLDER}@hooks.example.com/in",
            ("a user name in its userinfo (often a token)",),
        ),
        (
            "https://hooks.example.com/in?team=pay&api_key=key-0a9b8c7d&sig=sig-1f2e3d4c",
            f"https://hooks.example.com/in?team=pay&api_key={PLACEHOLDER}&sig={PLACEHOLDER}",
            ("query parameter api_key, sig",),
        ),
        (
            "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnop",
            f"https://hooks.slack.com/services/{PLACEHOLDER}",
            ("its path (an incoming-webhook URL of hooks.slack.com is its own secret)",),
        ),
        (
            "https://acme.webhook.office.com/webhookb2/abc-123/IncomingWebhook/def/456",
            f"https://acme.webhook.office.com/webhookb2/{PLACEHOLDER}",
            ("its path (an incoming-webhook URL of webhook.office.com is its own secret)",),
        ),
    ],
)
def test_credentials_are_found_replaced_and_registered_as_secrets(
    url: str, shown: str, found: tuple[str, ...]
) -> None:
    scrubbed = scrub(url)
    assert scrubbed.shown == shown
    assert scrubbed.found == found
    # Registered: no message can show them, even quoted out of the URL.
    for part in ("s3cret-pass-91", "tok-7c1e5a9b3d", "key-0a9b8c7d", "sig-1f2e3d4c"):
        if part in url:
            assert part not in redact(f"the value was {part}")
    assert redact(scrubbed.shown) == scrubbed.shown
