"""What the import contracts cannot say about themselves.

The contracts live in pyproject.toml ([tool.importlinter]) and `make lint` checks them
with `lint-imports`: the layers, kopf in the entry points only, each platform package
on its own, the operator and the sandbox apart. These tests keep the contracts honest:
a platform package let off the independence contract, or a module loaded by name (which
no import graph can see), would otherwise pass unnoticed.
"""

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "operator" / "alertsync"


def contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def test_every_platform_package_stands_alone_in_the_contract() -> None:
    """Every module under platforms is in the contract, a new package without a line;
    only imports of the shared modules (files, never a platform's package) are let by."""
    packages = {path.parent.name for path in (PACKAGE / "platforms").glob("*/__init__.py")}
    assert len(packages) >= 5
    independence = contracts()["platforms"]
    assert independence["type"] == "independence"
    assert independence["modules"] == ["alertsync.platforms.*"]
    shared = set()
    for ignored in independence["ignore_imports"]:
        importer, imported = (part.strip() for part in ignored.split("->"))
        assert importer == "alertsync.platforms.**"
        shared.add(imported.removeprefix("alertsync.platforms."))
    assert not shared & packages
    assert all((PACKAGE / "platforms" / f"{name}.py").is_file() for name in shared)


def test_the_layers_cover_every_module() -> None:
    layers = contracts()["layers"]
    assert layers["containers"] == ["alertsync"]
    # exhaustive: lint-imports fails for a module of alertsync that has no layer.
    assert layers["exhaustive"] is True


def loads_by_name(path: Path) -> list[str]:
    """Calls that import a module named at run time: importlib.import_module, __import__."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names]
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if "importlib" in names or module == "importlib" or "import_module" in names:
                found.append(f"{path.name}:{node.lineno}")
        elif isinstance(node, ast.Name) and node.id == "__import__":
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_module_of_the_operator_is_loaded_by_name() -> None:
    # An import made by name is invisible to lint-imports, so no contract would hold it.
    assert [hit for path in PACKAGE.rglob("*.py") for hit in loads_by_name(path)] == []


def test_make_lint_checks_the_contracts() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert lint is not None
    assert "lint-imports" in lint.group(1)
