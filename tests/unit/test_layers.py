"""Layer contracts: data flows down, calls never go up, the sandbox stays outside."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "operator" / "alertsync"


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


MODULES = {
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts): imports_of(path)
    for path in PACKAGE.rglob("*.py")
}


def importers(prefix: str) -> set[str]:
    return {
        module
        for module, imported in MODULES.items()
        if any(name == prefix or name.startswith(prefix + ".") for name in imported)
    }


def test_the_operator_never_imports_the_sandbox() -> None:
    assert importers("alertsim") == set()


def test_only_the_entry_points_know_kopf() -> None:
    assert importers("kopf") == {"alertsync.handlers", "alertsync.cli"}


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("alertsync.models", ("alertsync.platforms", "alertsync.reconcile", "alertsync.runtime")),
        ("alertsync.platforms", ("alertsync.reconcile", "alertsync.runtime", "alertsync.handlers")),
        ("alertsync.reconcile", ("alertsync.runtime", "alertsync.handlers", "alertsync.kube")),
    ],
)
def test_lower_layers_do_not_import_upper_ones(layer: str, forbidden: tuple[str, ...]) -> None:
    for module, imported in MODULES.items():
        if module == layer or module.startswith(layer + "."):
            assert not {name for name in imported if name.startswith(forbidden)}, module
