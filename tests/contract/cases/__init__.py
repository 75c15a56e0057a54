"""The platforms in the contract suite: every module here defines one `CASE`.

A new adapter joins the suite by adding its module; the scenarios never change.
"""

import importlib
import pkgutil
from typing import Any

from tests.contract.platform_case import PlatformCase

__all__ = ["CASES"]

CASES: list[PlatformCase[Any]] = [
    importlib.import_module(f"{__name__}.{module.name}").CASE
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
]
