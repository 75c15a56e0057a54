"""The simulators are the platforms as documented, never a mirror of our client.

No module under ``operator/alertsim`` may import ``alertsync``: not at the top, not inside a
function, not through ``importlib``. Running the operator as a process (``python -m
alertsync``) is how the sandbox drives it, and stays allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import alertsim

PACKAGE = Path(alertsim.__file__).parent
FORBIDDEN = "alertsync"


def _forbidden(module: str | None) -> bool:
    return module is not None and (module == FORBIDDEN or module.startswith(f"{FORBIDDEN}."))


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _dynamic_import(call: ast.Call) -> str | None:
    """The module a literal ``importlib.import_module(...)``/``__import__(...)`` names."""
    func = call.func
    named = (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )
    return _literal(call.args[0]) if named and call.args else None


def imports_of_alertsync(source: str, filename: str = "<source>") -> list[str]:
    """Every place in ``source`` that imports ``alertsync``, as ``line: what``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom):
            # A relative import stays inside alertsim; only an absolute one can leave it.
            if node.level == 0 and _forbidden(node.module):
                found.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and _forbidden(module := _dynamic_import(node)):
            found.append(f"{node.lineno}: dynamic import of {module}")
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_scan_covers_every_simulator_module() -> None:
    names = {path.stem for path in _modules()}
    assert {"core", "grafana_oncall", "ilert", "bench", "chaos", "demo"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda path: path.name)
def test_no_alertsim_module_imports_alertsync(path: Path) -> None:
    assert imports_of_alertsync(path.read_text(encoding="utf-8"), str(path)) == []


@pytest.mark.parametrize(
    "source",
    [
        "import alertsync",
        "import alertsync.platforms.ilert.client as client",
        "import json, alertsync.models",
        "from alertsync import metrics",
        "from alertsync.platforms.ilert.client import INCLUDE_FIELDS",
        "def run():\n    from alertsync.cli import main\n    main()",
        "class A:\n    def f(self):\n        import alertsync.errors",
        "import importlib\nclient = importlib.import_module('alertsync.platforms.base')",
        "from importlib import import_module\nimport_module('alertsync')",
        "__import__('alertsync.models')",
        "try:\n    import alertsync\nexcept ImportError:\n    pass",
    ],
)
def test_the_scan_finds_every_way_of_importing_alertsync(source: str) -> None:
    assert len(imports_of_alertsync(source)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "import subprocess, sys\nsubprocess.run([sys.executable, '-m', 'alertsync', 'run'])",
        "from . import core",
        "from .alertsync import x",  # a relative module of that name would be alertsim's own
        "import alertsync_tools",
        "METRIC = 'alertsync_reconciles_total'",
        "from alertsim.core import Simulator",
    ],
)
def test_the_scan_allows_processes_strings_and_own_modules(source: str) -> None:
    assert imports_of_alertsync(source) == []
