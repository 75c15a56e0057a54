"""What the cluster (and an earlier export) already holds: which platform objects an
AlertIntegration manages, and which names are taken."""

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from alertsync.errors import PlatformUnavailableError
from alertsync.kube import Kube
from alertsync.models.common import GROUP, VERSION
from alertsync.records import PlatformKey, platform_of

__all__ = ["ANNOTATION", "ClusterView", "list_integrations"]

# The platform id an exported AlertIntegration was made from: a later export knows the
# object is taken even before the operator has written the resource's status.
ANNOTATION = "alertsync.dev/exported-from"

# (platform, platform object id) an AlertIntegration stands for.
Claim = tuple[PlatformKey, str]


@dataclass
class ClusterView:
    """AlertIntegrations already there, as far as the export needs them."""

    platform: PlatformKey
    namespace: str
    # Every AlertIntegration seen, by uid and by (namespace, name).
    uids: dict[str, str] = field(default_factory=dict)
    refs: set[tuple[str, str]] = field(default_factory=set)
    # Objects of this platform that an AlertIntegration manages: id -> "namespace/name".
    managing: dict[str, str] = field(default_factory=dict)
    # Names in the export's namespace: name -> the object it claims (None: unknown).
    names: dict[str, Claim | None] = field(default_factory=dict)

    def add(self, bodies: Iterable[Mapping[str, Any]], *, names_only: bool = False) -> None:
        """Take in AlertIntegrations; `names_only`: files, not resources (they manage nothing)."""
        for body in bodies:
            meta = body.get("metadata") or {}
            namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
            where = f"{namespace}/{name}"
            spec = body.get("spec")
            key = platform_of(spec if isinstance(spec, Mapping) else {}, namespace)
            exported = (meta.get("annotations") or {}).get(ANNOTATION)
            if namespace == self.namespace:
                claim = (key, str(exported)) if exported else None
                # Two sources (the cluster, a file) disagreeing: taken for everyone.
                self.names[name] = claim if self.names.get(name, claim) == claim else None
            if names_only:
                continue
            if meta.get("uid"):
                self.uids[str(meta["uid"])] = where
            self.refs.add((namespace, name))
            status = body.get("status") or {}
            if key == self.platform:
                for id_ in (status.get("webhookId"), exported):
                    if id_:
                        self.managing.setdefault(str(id_), where)

    def free(self, name: str, platform_id: str) -> bool:
        """May the object with this id be exported as `name` in the namespace?"""
        if name not in self.names:
            return True
        return self.names[name] == (self.platform, platform_id)

    def managed_by(
        self, platform_id: str, owner_uid: str | None, owner_ref: tuple[str, str] | None
    ) -> str | None:
        """The AlertIntegration that manages the object, if one in the cluster does."""
        if platform_id in self.managing:
            return self.managing[platform_id]
        if owner_uid is not None and owner_uid in self.uids:
            return self.uids[owner_uid]
        if owner_ref is not None and owner_ref in self.refs:
            return f"{owner_ref[0]}/{owner_ref[1]}"
        return None


async def list_integrations(kube: Kube, namespace: str) -> list[dict[str, Any]]:
    """Every AlertIntegration the caller may list: all namespaces (a marker may be any
    namespace's), else those of `namespace`."""
    try:
        found: Any = await asyncio.to_thread(
            kube.custom.list_cluster_custom_object, GROUP, VERSION, "alertintegrations"
        )
    except ApiException as exc:
        if exc.status != 403:
            raise _unavailable(exc) from None
        try:
            found = await asyncio.to_thread(
                kube.custom.list_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                "alertintegrations",
            )
        except ApiException as inner:
            raise _unavailable(inner) from None
    items = found.get("items") if isinstance(found, Mapping) else None
    return [item for item in items or () if isinstance(item, dict)]


def _unavailable(exc: ApiException) -> PlatformUnavailableError:
    return PlatformUnavailableError(
        f"cannot list AlertIntegrations: Kubernetes answered {exc.status} (the export needs "
        "to know which platform objects are managed already)"
    )
