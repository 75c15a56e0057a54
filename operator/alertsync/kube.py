"""The operator's own Kubernetes calls: read a Secret, patch a status.

kopf handles watching and finalizers. These few direct calls exist because
some writes must land at a moment kopf does not choose: the pending-create
record before a platform create, and statuses written by a platform's resync.
The `kubernetes` client is synchronous, so calls run in worker threads.
"""

import asyncio
import base64
import os
from collections.abc import Mapping
from typing import Any

import kubernetes
from kubernetes.client.exceptions import ApiException

from alertsync.errors import CredentialsMissingError, PlatformUnavailableError
from alertsync.models.common import GROUP, VERSION

__all__ = ["Kube"]


class Kube:
    def __init__(self, api: Any) -> None:
        self.api = api
        self.core = kubernetes.client.CoreV1Api(api)
        self.custom = kubernetes.client.CustomObjectsApi(api)

    @classmethod
    def connect(cls) -> "Kube":
        """In-cluster service account, else $KUBECONFIG or ~/.kube/config."""
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            kubernetes.config.load_incluster_config()  # type: ignore[no-untyped-call]
            return cls(kubernetes.client.ApiClient())
        path = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        api = kubernetes.config.new_client_from_config(config_file=path)  # type: ignore[no-untyped-call]
        return cls(api)

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """The Secret's data decoded, or None if there is no such Secret."""
        try:
            secret = await asyncio.to_thread(self.core.read_namespaced_secret, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            if exc.status == 403:
                raise CredentialsMissingError(
                    f"not allowed to read Secret {namespace}/{name}: check the operator's RBAC"
                ) from None
            raise PlatformUnavailableError(
                f"cannot read Secret {namespace}/{name}: Kubernetes answered {exc.status}"
            ) from None
        data: Mapping[str, str | bytes] = secret.data or {}
        return {
            key: base64.b64decode(value).decode("utf-8", "replace") for key, value in data.items()
        }

    async def read_namespace_labels(self, name: str) -> dict[str, str]:
        """A Namespace's labels (for ClusterAlertPlatform namespace selectors)."""
        try:
            namespace = await asyncio.to_thread(self.core.read_namespace, name)
        except ApiException as exc:
            if exc.status == 404:
                return {}
            raise PlatformUnavailableError(
                f"cannot read Namespace {name}: Kubernetes answered {exc.status}"
            ) from None
        labels: dict[str, str] = (namespace.metadata and namespace.metadata.labels) or {}
        return labels

    async def read_platform(self, key: tuple[str, str | None, str]) -> dict[str, Any] | None:
        """An AlertPlatform or ClusterAlertPlatform by (kind, namespace, name), or None."""
        kind, namespace, name = key
        try:
            body: object
            if namespace is None:
                body = await asyncio.to_thread(
                    self.custom.get_cluster_custom_object,
                    GROUP,
                    VERSION,
                    "clusteralertplatforms",
                    name,
                )
            else:
                body = await asyncio.to_thread(
                    self.custom.get_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    namespace,
                    "alertplatforms",
                    name,
                )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise PlatformUnavailableError(
                f"cannot read {kind} {name}: Kubernetes answered {exc.status}"
            ) from None
        return body if isinstance(body, dict) else None

    async def patch_status(
        self, plural: str, namespace: str | None, name: str, patch: dict[str, Any]
    ) -> None:
        """Merge-patch the status subresource; an object already gone is fine."""
        body = {"status": patch}
        try:
            if namespace is None:
                await asyncio.to_thread(
                    self.custom.patch_cluster_custom_object_status,
                    GROUP,
                    VERSION,
                    plural,
                    name,
                    body,
                )
            else:
                await asyncio.to_thread(
                    self.custom.patch_namespaced_custom_object_status,
                    GROUP,
                    VERSION,
                    namespace,
                    plural,
                    name,
                    body,
                )
        except ApiException as exc:
            if exc.status != 404:
                raise
