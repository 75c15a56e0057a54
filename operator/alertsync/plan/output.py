"""The plan as text (Terraform-like) or JSON."""

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

from alertsync.plan.planning import (
    PlannedResource,
)
from alertsync.plan.recording import (
    CHANGES,
    PROBLEMS,
    Action,
)
from alertsync.redaction import redact

_SUMMARY: tuple[tuple[Action, str, bool], ...] = (
    # (action, words, shown even when 0): the first five always, as Terraform does.
    ("create", "to create", True),
    ("update", "to update", True),
    ("replace", "to replace", True),
    ("no-change", "unchanged", True),
    ("invalid", "invalid", True),
    ("adopt", "to adopt", False),
    ("refused", "refused", False),
    ("failed", "failed", False),
)


def summary(results: Sequence[PlannedResource]) -> dict[str, int]:
    return {action: sum(r.action == action for r in results) for action, _, _ in _SUMMARY}


def exit_code(results: Sequence[PlannedResource]) -> int:
    """0: nothing would change; 2: changes are planned; 1: something is wrong."""
    if any(r.action in PROBLEMS for r in results):
        return 1
    return 2 if any(r.action in CHANGES for r in results) else 0


def render_text(results: Sequence[PlannedResource], *, heading: str = "") -> str:
    lines = [heading, ""] if heading else []
    if not results:
        lines += ["No AlertIntegration in the manifests.", ""]
    for result in results:
        product = f"{result.product_type} via " if result.product_type else ""
        lines.append(f"# {result.namespace}/{result.name} ({product}{result.platform})")
        lines += [line.rstrip() for line in _describe(result)]
        lines.append("")
    counts = summary(results)
    parts = [f"{counts[a]} {words}" for a, words, always in _SUMMARY if always or counts[a]]
    lines.append(f"Plan: {', '.join(parts)}.")
    return redact("\n".join(lines)) + "\n"


def _describe(r: PlannedResource) -> Iterator[str]:
    why = (
        "drift: changed on the platform behind AlertSync's back"
        if r.drift
        else "the spec asks for it"
    )
    if r.action == "create":
        yield "+ create"
        create = next((w for w in r.writes if w.operation == "create"), None)
        if create is not None:
            yield f"    name: {create.display_name!r} ({create.target_state})"
        if r.message:
            yield f"    why: {r.message}; AlertSync creates it again"
    elif r.action == "adopt":
        yield f"+ adopt {r.external_id} (spec.adoptionPolicy: AdoptExisting)"
        if r.message:
            yield f"    then replace ({r.message})"
        elif r.fields:
            yield f"    then update {', '.join(r.fields)}"
    elif r.action == "update":
        yield f"~ update {', '.join(r.fields)}"
        yield f"    id: {r.external_id}"
        yield f"    why: {why}"
    elif r.action == "replace":
        yield f"-/+ replace ({r.message})"
        yield f"    id: {r.external_id} (deleted, then created again)"
        yield f"    fields: {', '.join(r.fields)}"
        yield f"    why: {why}"
    elif r.action == "no-change":
        yield "= no change"
        if r.adopted:
            writes = "writes only AlertSync's marker" if r.fields else "writes nothing"
            yield (
                f"    adopts {r.external_id} in place (spec.adoptionPolicy: AdoptExisting) "
                f"and {writes}"
            )
        elif r.external_id:
            yield f"    id: {r.external_id}"
        if r.message:
            yield f"    note: {r.message}"
    elif r.action == "invalid":
        yield f"! invalid: {r.message}"
    elif r.action == "refused":
        yield f"? refused: {r.message}"
    else:
        yield f"! failed ({r.reason}): {r.message}"


def render_json(results: Sequence[PlannedResource]) -> str:
    document = {
        "resources": [_camel(asdict(result)) for result in results],
        "summary": summary(results),
        "exitCode": exit_code(results),
    }
    return redact(json.dumps(document, indent=2)) + "\n"


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_camel(v) for v in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)
