"""Credentials in webhook URLs: found, kept out of every manifest and message.

A URL carries a credential when it has userinfo (`user:password@`, or a token as the
user), a query parameter named like one (the names `alertsync.redaction` masks:
`token`, `api_key`, `sig`, ...), or when it is an incoming-webhook URL whose path is
the secret itself (Slack, Microsoft Teams). Such a URL is never written: the manifest
names a Secret key instead (`spec.webhook.urlSecretRef`), and people are shown the
URL with each credential replaced by PLACEHOLDER.
"""

import urllib.parse
from dataclasses import dataclass

from alertsync.redaction import redact_url_credentials, register_secret

__all__ = ["PLACEHOLDER", "Scrubbed", "scrub"]

# What alertsync.redaction puts where it masks (its own constant is private): the same,
# so that a message shown through redact() reads the same.
PLACEHOLDER = "[REDACTED]"
# Hosts whose webhook URL path is the credential: (host suffix, path prefix kept).
_SECRET_PATHS = (
    ("hooks.slack.com", "/services/"),
    ("webhook.office.com", "/webhookb2/"),
    ("outlook.office.com", "/webhook/"),
)


@dataclass(frozen=True)
class Scrubbed:
    # The URL with every credential replaced by PLACEHOLDER (for people, never applied).
    shown: str
    # Where the credentials were, in words; empty when the URL carries none.
    found: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.found


def scrub(url: str) -> Scrubbed:
    """`url` with its credentials replaced, and where they were."""
    found: list[str] = []
    parts = urllib.parse.urlsplit(url)
    netloc, path = parts.netloc, parts.path
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, colon, password = userinfo.partition(":")
        for secret in (user, password):
            if secret:
                register_secret(urllib.parse.unquote(secret))
        if colon:
            netloc = f"{user}:{PLACEHOLDER}@{host}"
            found.append("a password in its userinfo")
        else:
            netloc = f"{PLACEHOLDER}@{host}"
            found.append("a user name in its userinfo (often a token)")
    host = (parts.hostname or "").lower()
    for suffix, prefix in _SECRET_PATHS:
        if (host == suffix or host.endswith("." + suffix)) and path.startswith(prefix):
            if path != prefix:
                register_secret(path.removeprefix(prefix))
                path = prefix + PLACEHOLDER
                found.append(f"its path (an incoming-webhook URL of {suffix} is its own secret)")
            break
    query = parts.query
    if query:
        masked = redact_url_credentials("?" + query)[1:]
        if masked != query:
            names = [
                name
                for name, value in urllib.parse.parse_qsl(masked, keep_blank_values=True)
                if value == PLACEHOLDER
            ]
            for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
                if name in names:
                    register_secret(value)
            query = masked
            listed = ", ".join(sorted(set(names))) or "a credential"
            found.append(f"query parameter {listed}")
    shown = urllib.parse.urlunsplit((parts.scheme, netloc, path, query, parts.fragment))
    return Scrubbed(shown, tuple(found))
