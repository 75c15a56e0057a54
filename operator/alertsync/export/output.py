"""The export as YAML or JSON, as files with a kustomization.yaml, and its summary."""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alertsync.export.exporting import Export, Exported, Left
from alertsync.plan.sources import ManifestError, load_manifests
from alertsync.redaction import redact

__all__ = [
    "KUSTOMIZATION",
    "OutputError",
    "Written",
    "exit_code",
    "read_reserved",
    "render_json",
    "render_yaml",
    "summary",
    "write_dir",
]

KUSTOMIZATION = "kustomization.yaml"


class OutputError(Exception):
    """The output directory cannot be read or written."""


# Plain scalars YAML 1.1 readers (kubectl's among them) would not take as strings:
# numbers in any notation, booleans and nulls. PyYAML quotes most, not all (1e5).
_AMBIGUOUS = re.compile(
    r"^([-+]?(\.?[0-9][0-9_]*)(\.[0-9_]*)?([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    r"|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?"
    r"|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|null|Null|NULL|~|)$"
)


class _Dumper(yaml.SafeDumper):
    """Strings stay strings for every reader; templates keep their lines."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if _AMBIGUOUS.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def _yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def render_yaml(items: Sequence[Exported]) -> str:
    """A multi-document stream, one AlertIntegration each."""
    return "".join(f"---\n{_yaml(item.manifest)}" for item in items)


def render_json(items: Sequence[Exported]) -> str:
    """A `kind: List`, which kubectl applies and `alertsync plan -f` reads."""
    document = {"apiVersion": "v1", "kind": "List", "items": [item.manifest for item in items]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- a directory ------------------------------------------------------------------------


@dataclass
class Written:
    directory: Path
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # What happened to kustomization.yaml: "new", "changed" or "unchanged".
    kustomization: str = "unchanged"


def read_reserved(directory: Path, namespace: str) -> list[dict[str, Any]]:
    """The AlertIntegrations an earlier export left in `directory` (their names are taken)."""
    if not directory.is_dir():
        return []
    try:
        return load_manifests([str(directory)], namespace).integrations
    except ManifestError as exc:
        raise OutputError(f"cannot read the files already in {directory}: {exc}") from None


def write_dir(directory: Path, items: Sequence[Exported]) -> Written:
    """One file per AlertIntegration and a kustomization.yaml listing them.

    Files of an earlier export stay (nothing is deleted); the kustomization keeps the
    resources it listed and gains the new ones. A file whose content would not change is
    not written again.
    """
    written = Written(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for item in items:
            file = f"{item.name}.yaml"
            state = _write(directory / file, _yaml(item.manifest))
            getattr(written, state).append(file)
        written.kustomization = _write_kustomization(
            directory / KUSTOMIZATION, [f"{item.name}.yaml" for item in items]
        )
    except OSError as exc:
        raise OutputError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    return written


def _write(path: Path, text: str) -> str:
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            return "unchanged"
        path.write_text(text, encoding="utf-8")
        return "changed"
    path.write_text(text, encoding="utf-8")
    return "new"


def _write_kustomization(path: Path, files: Sequence[str]) -> str:
    document: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [],
    }
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise OutputError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("resources", []), list):
            raise OutputError(f"{path}: not a kustomization with a list of resources")
        document = loaded
    resources = list(document.get("resources") or [])
    added = sorted(set(files) - set(resources))
    if path.exists() and not added:
        return "unchanged"
    document["resources"] = resources + added
    return _write(path, yaml.safe_dump(document, sort_keys=False))


# -- the summary --------------------------------------------------------------------------


def exit_code(result: Export) -> int:
    """0: everything exported as it is; 2: something was skipped or needs a person."""
    return 2 if result.skipped or result.attention else 0


def summary(result: Export, written: Written | None = None) -> str:
    """What was exported, skipped (and why) and needs attention: for stderr."""
    lines = [
        f"alertsync export: {result.target.label} ({result.product.value}): "
        f"{result.listed} object(s) read in one listing"
    ]
    exported = f"exported: {len(result.exported)}"
    if written is not None:
        exported += (
            f" ({written.directory}: {len(written.new)} new, {len(written.changed)} changed, "
            f"{len(written.unchanged)} unchanged; {KUSTOMIZATION} {written.kustomization})"
        )
    lines.append(exported)
    lines.append(f"already managed by an AlertIntegration: {len(result.managed)}")
    lines.append(f"skipped: {len(result.skipped)}")
    lines += [f"  {_object(left)}: {left.reason}" for left in result.skipped]
    attention = result.attention
    lines.append(f"needs attention: {len(attention)}")
    for item in attention:
        where = f"{result.target.namespace}/{item.name}"
        lines += [f"  {where} ({_object(item)}): {note}" for note in item.attention]
    return redact("\n".join(lines)) + "\n"


def _object(item: Left | Exported) -> str:
    return f"{item.found.id} {item.found.name!r}"
