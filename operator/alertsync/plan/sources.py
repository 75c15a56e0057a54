"""Manifests, and where platforms, Secrets and stored statuses come from."""

import asyncio
import base64
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client.exceptions import ApiException

from alertsync.errors import (
    PlatformUnavailableError,
)
from alertsync.kube import Kube
from alertsync.models.common import GROUP, VERSION
from alertsync.redaction import register_secret

INTEGRATION_KINDS = ("AlertPlatform", "ClusterAlertPlatform", "AlertIntegration")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class ManifestError(Exception):
    """The manifests cannot be read: nothing is planned."""


# -- manifests -------------------------------------------------------------------------


@dataclass
class Manifests:
    integrations: list[dict[str, Any]] = field(default_factory=list)
    platforms: list[dict[str, Any]] = field(default_factory=list)
    # (namespace, name) -> decoded data
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    files: int = 0
    # Documents of other kinds (Deployments, ...): not AlertSync's to plan.
    ignored: int = 0


def load_manifests(
    paths: Sequence[str], namespace: str = "default", *, recursive: bool = False
) -> Manifests:
    """The documents of the files and directories in `paths` (`-`: stdin), read as kubectl does."""
    found = Manifests()
    integrations: dict[tuple[str, str], dict[str, Any]] = {}
    platforms: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for source, text in _read_sources(paths, recursive):
        found.files += 1
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            raise ManifestError(f"{source}: not valid YAML: {exc}") from None
        for document in _flatten(documents):
            if not isinstance(document, Mapping):
                raise ManifestError(f"{source}: a document is not a mapping")
            kind, api_version = document.get("kind"), str(document.get("apiVersion", ""))
            meta = document.get("metadata")
            if kind == "Secret" and api_version == "v1":
                key, data = _secret(source, document, namespace)
                found.secrets[key] = data
                continue
            if kind not in INTEGRATION_KINDS or api_version.split("/")[0] != GROUP:
                found.ignored += 1
                continue
            if api_version != f"{GROUP}/{VERSION}":
                raise ManifestError(
                    f"{source}: {kind} has apiVersion {api_version}, not {GROUP}/{VERSION}"
                )
            if not isinstance(meta, Mapping) or not meta.get("name"):
                raise ManifestError(f"{source}: a {kind} has no metadata.name")
            body = _with_namespace(document, None if kind == "ClusterAlertPlatform" else namespace)
            name, ns = body["metadata"]["name"], body["metadata"].get("namespace")
            # Applied in order, a later document replaces an earlier one of the same name.
            if kind == "AlertIntegration":
                integrations[(ns, name)] = body
            else:
                platforms[(str(kind), ns, name)] = body
    found.integrations = list(integrations.values())
    found.platforms = list(platforms.values())
    return found


def _read_sources(paths: Sequence[str], recursive: bool) -> Iterator[tuple[str, str]]:
    for raw in paths:
        if raw == "-":
            yield "<stdin>", sys.stdin.read()
            continue
        path = Path(raw)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(
                p for p in path.glob(pattern) if p.is_file() and p.suffix in MANIFEST_SUFFIXES
            )
        elif path.is_file():
            files = [path]
        else:
            raise ManifestError(f"{raw}: no such file or directory")
        for file in files:
            try:
                yield str(file), file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ManifestError(f"{file}: cannot read: {exc}") from None


def _flatten(documents: Iterable[Any]) -> Iterator[Any]:
    for document in documents:
        if document is None:
            continue
        if isinstance(document, Mapping) and document.get("kind") == "List":
            yield from _flatten(document.get("items") or ())
        else:
            yield document


def _with_namespace(document: Mapping[str, Any], namespace: str | None) -> dict[str, Any]:
    body = dict(document)
    meta = dict(body["metadata"])
    if namespace is None:
        meta.pop("namespace", None)
    else:
        meta.setdefault("namespace", namespace)
    body["metadata"] = meta
    return body


def _secret(
    source: str, document: Mapping[str, Any], namespace: str
) -> tuple[tuple[str, str], dict[str, str]]:
    meta = document.get("metadata") or {}
    if not isinstance(meta, Mapping) or not meta.get("name"):
        raise ManifestError(f"{source}: a Secret has no metadata.name")
    encoded, plain = document.get("data") or {}, document.get("stringData") or {}
    if not isinstance(encoded, Mapping) or not isinstance(plain, Mapping):
        raise ManifestError(f"{source}: Secret {meta['name']}: data and stringData must be maps")
    data: dict[str, str] = {}
    for key, value in encoded.items():
        try:
            data[str(key)] = base64.b64decode(str(value), validate=True).decode("utf-8", "replace")
        except ValueError:
            # The message names the key only: the value is a secret, typo or not.
            raise ManifestError(
                f"{source}: Secret {meta['name']}: data.{key} is not base64"
            ) from None
    data.update({str(k): str(v) for k, v in plain.items()})
    for value in data.values():
        register_secret(value)
    return (str(meta.get("namespace") or namespace), str(meta["name"])), data


# -- where platforms, Secrets and stored statuses come from -----------------------------


class Sources:
    """The manifests first, then the cluster (none when offline).

    Stands in for `alertsync.kube.Kube` in the runtime: it has the two reads
    the runtime makes, and no way to write.
    """

    def __init__(self, manifests: Manifests, kube: Kube | None) -> None:
        self.manifests = manifests
        self.kube = kube

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        data = self.manifests.secrets.get((namespace, name))
        if data is None and self.kube is not None:
            data = await self.kube.read_secret(namespace, name)
            for value in (data or {}).values():
                register_secret(value)
        return data

    async def read_platform(self, key: tuple[str, str | None, str]) -> dict[str, Any] | None:
        # The runtime found no such platform in the manifests: the cluster's, if any.
        return None if self.kube is None else await self.kube.read_platform(key)

    async def read_integration(self, namespace: str, name: str) -> dict[str, Any] | None:
        if self.kube is None:
            return None
        try:
            body: object = await asyncio.to_thread(
                self.kube.custom.get_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                "alertintegrations",
                name,
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise PlatformUnavailableError(
                f"cannot read AlertIntegration {namespace}/{name} from the cluster: "
                f"Kubernetes answered {exc.status}"
            ) from None
        return body if isinstance(body, dict) else None
