"""The CRDs in crds/, as `kubectl apply -f crds/` installs them."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CRDS", "integration_block"]

CRDS = Path(__file__).parents[2] / "crds"


@cache
def _integration_spec() -> dict[str, Any]:
    crd = yaml.safe_load((CRDS / "alertsync.dev_alertintegrations.yaml").read_text())
    spec: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"][
        "spec"
    ]
    return spec


def integration_block(name: str) -> dict[str, Any]:
    """The schema of AlertIntegration's spec.<name>: one platform's block."""
    found: dict[str, Any] = _integration_spec()["properties"][name]
    return found
