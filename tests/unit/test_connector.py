"""Every path reads the same, current credentials (issue 14: a Secret that lost its key)."""

from typing import Any, cast

import pytest

from alertsync.config import OperatorConfig
from alertsync.connector import Connector
from alertsync.errors import CredentialsMissingError
from alertsync.kube import Kube
from alertsync.models import PlatformKind, PlatformRef
from alertsync.records import PlatformRecord
from alertsync.watchcache import WatchCache

PLATFORM = PlatformRecord(
    kind=PlatformKind.NAMESPACED,
    namespace="team",
    name="oncall",
    uid="p-1",
    generation=1,
    spec={
        "productType": "grafana-oncall",
        "url": "https://oncall.example",
        "credentialsSecretRef": {"name": "oncall-token"},
    },
    status={},
)


class Secrets:
    def __init__(self) -> None:
        self.data: dict[str, str] | None = {"token": "connector-token-5d1e"}

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        return self.data

    async def read_platform(self, key: Any) -> None:
        return None


async def test_a_secret_that_lost_its_key_stops_every_path_not_only_the_resync() -> None:
    secrets, cache = Secrets(), WatchCache()
    cache.track_platform(PLATFORM)
    connector = Connector(cast(Kube, secrets), OperatorConfig(), cache)
    ref = PlatformRef(name="oncall")
    try:
        account = await connector.resolve(ref, "team")
        assert account.token.get_secret_value() == "connector-token-5d1e"
        secrets.data = {}
        with pytest.raises(CredentialsMissingError):
            await connector.account(PLATFORM, refresh=True)  # the resync re-reads
        # A queued pass, `alertsync reconcile`, the API: none uses the old token now.
        with pytest.raises(CredentialsMissingError):
            await connector.resolve(ref, "team")
        secrets.data = {"token": "connector-token-new"}
        await connector.account(PLATFORM, refresh=True)
        account = await connector.resolve(ref, "team")
        assert account.token.get_secret_value() == "connector-token-new"
    finally:
        await connector.aclose()
