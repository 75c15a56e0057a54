"""The platform simulators the sandbox serves: the `SERVED` row (alertsim/serving.py) of
every module of this package that defines one, by port. A simulator joins the sandbox,
`python -m alertsim <product>` and the demo by defining `SERVED` at the end of its own
module, `alertsim/<name>.py`; nothing here names it.

Each row serves its deploy/samples/<productType>.yaml: the AlertPlatform's name and port
in its URL, the credentials in its Secret (placeholders such as `sandbox-oncall-token`;
the simulators accept exactly these), and the AlertIntegration the sample declares on it.
"""

import importlib
import pkgutil
from collections import defaultdict

import alertsim
from alertsim.serving import Served

__all__ = ["SIMULATORS"]

# The modules that read SIMULATORS, so define no row: importing them from here would be an
# import cycle (and `__main__` runs its command when imported).
_READERS = frozenset({"__main__", "demo", "sandbox"})


def _discover() -> dict[str, Served]:
    """Every module's SERVED, by module name."""
    rows: dict[str, Served] = {}
    for info in pkgutil.iter_modules(alertsim.__path__):
        if info.name in _READERS:
            continue
        name = f"{alertsim.__name__}.{info.name}"
        try:
            module = importlib.import_module(name)
        except ImportError as error:
            if error.name != __name__:
                raise
            raise ImportError(
                f"{name} imports {__name__} (to read SIMULATORS): list it in "
                f"{__name__}._READERS so that the discovery skips it"
            ) from error
        row = getattr(module, "SERVED", None)
        if row is None:
            continue
        if not isinstance(row, Served):
            raise TypeError(f"{name}.SERVED is a {type(row).__name__}, not a Served row")
        rows[name] = row
    return rows


def _unique(rows: dict[str, Served]) -> None:
    """Each row's name, product and port is its own: the sandbox and the samples key on them."""
    for field in ("name", "product", "port"):
        modules: defaultdict[object, list[str]] = defaultdict(list)
        for module, row in rows.items():
            modules[getattr(row, field)].append(module)
        for value, shared in modules.items():
            if len(shared) > 1:
                raise ValueError(
                    f"simulators share the {field} {value!r} in their SERVED rows: "
                    + ", ".join(shared)
                )


_ROWS = _discover()
_unique(_ROWS)

SIMULATORS: tuple[Served, ...] = tuple(sorted(_ROWS.values(), key=lambda row: row.port))
