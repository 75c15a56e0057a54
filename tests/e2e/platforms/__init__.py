"""The platforms in the end-to-end platform suite: every module here defines one `ROW`.

A new adapter joins the suite by adding its module; the scenarios never change.
"""

import importlib
import pkgutil
from typing import Any

from tests.e2e.platforms.row import PlatformRow

__all__ = ["ROWS"]

ROWS: list[PlatformRow[Any]] = [
    importlib.import_module(f"{__name__}.{module.name}").ROW
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
    if module.name != "row"
]
