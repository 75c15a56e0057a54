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

__all__ = ["Kube", "client_configuration", "use_kubeconfig"]

# The CLI's --kubeconfig and --context, for every later connection of this process
# (the operator's own calls, kopf's login, plan, reconcile). None: kubectl's defaults.
_kubeconfig: str | None = None
_context: str | None = None


def use_kubeconfig(kubeconfig: str | None = None, context: str | None = None) -> None:
    """Connect with this kubeconfig file and context from now on (as kubectl's flags do)."""
    global _kubeconfig, _context
    _kubeconfig, _context = kubeconfig, context


def client_configuration() -> Any:
    """A fresh `kubernetes.client.Configuration`, as kubectl chooses one.

    --kubeconfig, else $KUBECONFIG, else ~/.kube/config, with --context or the file's
    current context; the pod's service account when in a cluster and neither flag is
    given. Raises `kubernetes.config.ConfigException` when none of these works.
    """
    config = kubernetes.client.Configuration()
    if _kubeconfig is None and _context is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        kubernetes.config.load_incluster_config(client_configuration=config)  # type: ignore[no-untyped-call]
        return config
    path = _kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=path, context=_context, client_configuration=config
    )
    return config


class Kube:
    def __init__(self, api: Any) -> None:
        self.api = api
        self.core = kubernetes.client.CoreV1Api(api)
        self.custom = kubernetes.client.CustomObjectsApi(api)

    @classmethod
    def connect(cls) -> "Kube":
        """Connect as `client_configuration` says (the CLI's flags, else kubectl's defaults)."""
        return cls(kubernetes.client.ApiClient(client_configuration()))

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
