"""The Kubernetes condition shape (kstatus: Ready, Synced, Stalled)."""

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict

from alertsync.models.common import CamelModel

__all__ = ["Condition"]


class Condition(CamelModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str = ""
    last_transition_time: datetime
    observed_generation: int | None = None
