"""Plain snapshots of AlertSync resources, as kept in kopf's indexes."""

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alertsync.models import PlatformKind

__all__ = ["IntegrationRecord", "PlatformKey", "PlatformRecord", "platform_key"]

# (kind, namespace or None for cluster-scoped, name)
PlatformKey = tuple[str, str | None, str]


def platform_key(kind: str, namespace: str | None, name: str) -> PlatformKey:
    return (kind, namespace if kind == PlatformKind.NAMESPACED else None, name)


def _plain(value: Any) -> dict[str, Any]:
    return copy.deepcopy(dict(value)) if isinstance(value, Mapping) else {}


REQUESTED_AT = "alertsync.dev/reconcile-requested-at"


@dataclass(frozen=True)
class IntegrationRecord:
    namespace: str
    name: str
    uid: str
    generation: int
    spec: Mapping[str, Any]
    status: Mapping[str, Any]
    deleting: bool = False
    # The alertsync.dev/reconcile-requested-at annotation (Flux's convention).
    requested_at: str | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> "IntegrationRecord":
        meta = body["metadata"]
        annotations = meta.get("annotations") or {}
        return cls(
            namespace=meta["namespace"],
            name=meta["name"],
            uid=meta["uid"],
            generation=int(meta.get("generation") or 1),
            spec=_plain(body.get("spec")),
            status=_plain(body.get("status")),
            deleting=meta.get("deletionTimestamp") is not None,
            requested_at=annotations.get(REQUESTED_AT),
        )

    @property
    def where(self) -> tuple[str, str]:
        """(namespace, name), for log lines."""
        return self.namespace, self.name

    @property
    def platform(self) -> PlatformKey:
        ref = self.spec.get("platformRef")
        ref = ref if isinstance(ref, Mapping) else {}
        kind = str(ref.get("kind") or PlatformKind.NAMESPACED.value)
        return platform_key(kind, self.namespace, str(ref.get("name") or ""))

    def reference(self) -> dict[str, Any]:
        """Enough of the body for kopf to post an Event about it."""
        return {
            "apiVersion": "alertsync.dev/v1alpha1",
            "kind": "AlertIntegration",
            "metadata": {"namespace": self.namespace, "name": self.name, "uid": self.uid},
        }


@dataclass(frozen=True)
class PlatformRecord:
    kind: PlatformKind
    namespace: str | None
    name: str
    uid: str
    generation: int
    spec: Mapping[str, Any]
    status: Mapping[str, Any]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> "PlatformRecord":
        meta = body["metadata"]
        return cls(
            kind=PlatformKind(body["kind"]),
            namespace=meta.get("namespace"),
            name=meta["name"],
            uid=meta["uid"],
            generation=int(meta.get("generation") or 1),
            spec=_plain(body.get("spec")),
            status=_plain(body.get("status")),
        )

    @property
    def key(self) -> PlatformKey:
        return platform_key(self.kind.value, self.namespace, self.name)

    @property
    def plural(self) -> str:
        return "alertplatforms" if self.kind is PlatformKind.NAMESPACED else "clusteralertplatforms"
