"""The Kubernetes condition shape (kstatus: Ready, Synced, Stalled)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from alertsync.models.common import INT64, CamelModel

__all__ = ["Condition", "Conditions", "Generation"]

#: A metadata.generation: an int64, as Kubernetes declares it.
Generation = Annotated[int, Field(json_schema_extra=INT64)]


class Condition(CamelModel):
    """A condition (kstatus conventions)."""

    model_config = ConfigDict(extra="ignore")

    type: str
    """Ready (usable), Synced (the last pass worked) or Stalled (waiting for a change to the
    resource)."""
    status: Literal["True", "False", "Unknown"]
    """True, False or Unknown."""
    reason: str
    """Stable CamelCase reason, documented in docs/status-and-conditions.md."""
    message: str = ""
    """What happened and, on failure, what to fix. Never contains secrets."""
    last_transition_time: datetime
    """When status last changed."""
    observed_generation: Generation | None = None
    """The metadata.generation this condition was set for."""


#: Conditions as Kubernetes lists them: one per type (a list-map keyed by type).
Conditions = Annotated[
    tuple[Condition, ...],
    Field(
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}
    ),
]
