"""Confluent Cloud: notifications/v1 integrations with a Webhook, Slack or MsTeams target."""

import base64

import httpx

from alertsync.errors import CredentialsMissingError
from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.platforms.confluent import client
from alertsync.platforms.confluent.adapter import ConfluentAdapter
from alertsync.platforms.confluent.client import ConfluentClient
from alertsync.platforms.confluent.export import MAPPER
from alertsync.platforms.http import PlatformHttp, Throttle
from alertsync.redaction import register_secret

__all__ = ["MAPPER", "ConfluentAdapter", "ConfluentClient", "basic_auth", "build"]


def basic_auth(key_id: str, secret: str) -> str:
    """The Authorization header of a Cloud API key, registered as a secret itself."""
    encoded = base64.b64encode(f"{key_id}:{secret}".encode()).decode("ascii")
    # A platform echoing the header would otherwise show the key in base64.
    register_secret(encoded)
    return f"Basic {encoded}"


def build(account: PlatformAccount, http_client: httpx.AsyncClient) -> PlatformAdapter:
    if account.username is None:
        raise CredentialsMissingError(
            f"Confluent Cloud needs an API key id and its secret: set "
            f"spec.credentialsSecretRef.usernameKey of {account.kind.value} {account.name!r} "
            "to the Secret key that holds the API key id"
        )
    http = PlatformHttp(
        client=http_client,
        base_url=account.url.rstrip("/"),
        auth_headers={
            "Authorization": basic_auth(
                account.username.get_secret_value(), account.token.get_secret_value()
            )
        },
        # Confluent announces its windows: the first request learns the window alone.
        throttle=Throttle(account.requests_per_minute, probe_first=True),
        describe_error=client.describe_error,
        retry_after=client.retry_after,
        rate_window=client.rate_window,
        platform=account.product_type.value,
    )
    return ConfluentAdapter(ConfluentClient(http))
