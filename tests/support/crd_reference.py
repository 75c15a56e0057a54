"""docs/crd-reference.md, made from the CRDs and the samples (`make docs` writes it).

Every field of every CRD gets a row: its type and limits, its description, and
an example, taken from deploy/samples/ where a sample sets it.
"""

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
TARGET = ROOT / "docs" / "crd-reference.md"

Node = dict[str, Any]


def fields(node: Node, path: str) -> Iterator[tuple[str, Node]]:
    for name, child in node.get("properties", {}).items():
        here = f"{path}.{name}" if path else name
        yield here, child
        yield from fields(child, here)
        if "items" in child:
            yield from fields(child["items"], f"{here}[]")


def sample_values() -> dict[tuple[str, str], Any]:
    """(kind, field path) -> the first value a sample gives it."""
    found: dict[tuple[str, str], Any] = {}

    def walk(kind: str, value: Any, path: str) -> None:
        found.setdefault((kind, path), value)
        if isinstance(value, dict):
            for key, child in value.items():
                walk(kind, child, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                walk(kind, item, f"{path}[]")

    for file in sorted((ROOT / "deploy" / "samples").glob("*.yaml")):
        for doc in yaml.safe_load_all(file.read_text()):
            if doc and "spec" in doc:
                walk(doc["kind"], doc["spec"], "spec")
    return found


def limits(node: Node) -> str:
    parts = []
    if "enum" in node and len(node["enum"]) > 12:
        parts.append(f"one of {len(node['enum'])} values (see `kubectl explain`)")
    elif "enum" in node:
        parts.append("one of " + ", ".join(f"`{v}`" for v in node["enum"]))
    if "default" in node:
        parts.append(f"default `{json.dumps(node['default'])}`")
    for key, word in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
    ):
        if key in node:
            parts.append(f"{word} {node[key]}")
    if "pattern" in node:
        parts.append(f"pattern `{node['pattern']}`")
    return "; ".join(parts)


def example(node: Node, given: Any) -> str:
    if given is not None and not isinstance(given, dict):
        return f"`{json.dumps(given)}`"
    if "enum" in node:
        return f"`{json.dumps(node['enum'][0])}`"
    if "default" in node:
        return f"`{json.dumps(node['default'])}`"
    return ""


def render() -> str:
    samples = sample_values()
    lines = [
        "# CRD reference",
        "",
        "Made from `crds/` and `deploy/samples/` by `make docs`; a test keeps it current.",
        "`kubectl explain <kind>.spec` shows the same descriptions in a cluster.",
    ]
    for file in sorted((ROOT / "crds").glob("*.yaml")):
        crd = yaml.safe_load(file.read_text())
        kind = crd["spec"]["names"]["kind"]
        version = crd["spec"]["versions"][0]
        schema = version["schema"]["openAPIV3Schema"]
        lines += [
            "",
            f"## {kind} (`{crd['spec']['group']}/{version['name']}`)",
            "",
            "| field | type | limits | description | example |",
            "|---|---|---|---|---|",
        ]
        for path, node in fields(schema, ""):
            if not path.startswith(("spec", "status")):
                continue
            description = " ".join(str(node.get("description", "")).split()).replace("|", "\\|")
            type_ = node.get("type", "object" if "properties" in node else "")
            if node.get("format"):
                type_ += f" ({node['format']})"
            shown = example(node, samples.get((kind, path)))
            lines.append(f"| `{path}` | {type_} | {limits(node)} | {description} | {shown} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    sys.stdout.write(f"wrote {TARGET.relative_to(ROOT)}\n")
