"""ZStack Cloud: SNS HTTP endpoints, the platform's outbound webhooks, through its REST API."""

from urllib.parse import urlsplit

import httpx

from alertsync.platforms.base import PlatformAccount, PlatformAdapter
from alertsync.platforms.http import PlatformHttp, Throttle
from alertsync.platforms.zstack import client, errors
from alertsync.platforms.zstack.adapter import ZStackAdapter, resource_uuid
from alertsync.platforms.zstack.auth import AccessKeyAuth, SessionAuth
from alertsync.platforms.zstack.client import ZStackClient
from alertsync.platforms.zstack.export import MAPPER

__all__ = [
    "DEFAULT_ACCOUNT",
    "MAPPER",
    "ZStackAdapter",
    "ZStackClient",
    "build",
    "build_with_access_key",
    "resource_uuid",
]

# ZStack's built-in administrator, when credentialsSecretRef names no usernameKey.
DEFAULT_ACCOUNT = "admin"


def build(account: PlatformAccount, http_client: httpx.AsyncClient) -> PlatformAdapter:
    """Session login: account name from `usernameKey`, password from `key` (or, with
    `spec.authMethod: AccessKey`, access-key signing)."""
    if account.auth_method == "AccessKey":
        return build_with_access_key(account, http_client)
    name = account.username.get_secret_value() if account.username else DEFAULT_ACCOUNT
    return _adapter(account, http_client, SessionAuth(name, account.token))


def build_with_access_key(
    account: PlatformAccount, http_client: httpx.AsyncClient
) -> PlatformAdapter:
    """Access-key signing instead: AccessKeyId from `usernameKey`, AccessKeySecret from `key`."""
    if account.username is None:
        raise ValueError("access-key auth needs the AccessKeyId (credentialsSecretRef.usernameKey)")
    base = client.api_base(account.url)
    auth = AccessKeyAuth(account.username, account.token, urlsplit(base).path)
    return _adapter(account, http_client, auth)


def _adapter(
    account: PlatformAccount, http_client: httpx.AsyncClient, auth: SessionAuth | AccessKeyAuth
) -> ZStackAdapter:
    # The credentials go on per request (a session that changes, or a fresh signature).
    http_client.auth = auth
    http = PlatformHttp(
        client=http_client,
        base_url=client.api_base(account.url),
        auth_headers={},
        throttle=Throttle(account.requests_per_minute),
        describe_error=errors.describe_error,
        retry_after=errors.retry_after,
        platform=account.product_type.value,
    )
    return ZStackAdapter(ZStackClient(http, auth))
