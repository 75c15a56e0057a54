"""The platforms in the test suites: every module here defines one `CASE` and one `ROW`.

`CASE` (a `PlatformCase`, tests/platforms/case.py) is the platform in the adapter
contract suite and the property tests; `ROW` (a `PlatformRow`, tests/platforms/row.py)
is the platform in the end-to-end platform suite. A new adapter joins every suite by
adding its one module; the scenarios never change.
"""

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from tests.platforms.case import PlatformCase
from tests.platforms.row import PlatformRow

__all__ = ["CASES", "ROWS"]

# The types the platform modules share, not platforms.
_SHARED = frozenset({"case", "row"})

_PLATFORMS: list[ModuleType] = [
    importlib.import_module(f"{__name__}.{module.name}")
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
    if module.name not in _SHARED
]

CASES: list[PlatformCase[Any]] = [platform.CASE for platform in _PLATFORMS]
ROWS: list[PlatformRow[Any]] = [platform.ROW for platform in _PLATFORMS]
