"""spec.confluent: the target of a Confluent Cloud notifications/v1 integration.

The URL the target delivers to is `spec.webhook.url`; this block says what kind
of target it is and how AlertSync proves it works.
"""

from typing import Literal

from alertsync.models.common import CamelModel

__all__ = [
    "CONFLUENT_DISPLAY_NAME_MAX",
    "READ_ONLY_TARGET_KINDS",
    "WRITABLE_TARGET_KINDS",
    "ConfluentSpec",
    "ConfluentTargetKind",
]

# Email kinds are in the enum so that asking for one reaches the reconciler and
# earns a clear Ready=False, rather than a bare "unsupported value" at admission.
ConfluentTargetKind = Literal["Webhook", "Slack", "MsTeams", "RoleEmail", "UserEmail"]
WRITABLE_TARGET_KINDS: frozenset[str] = frozenset({"Webhook", "Slack", "MsTeams"})
READ_ONLY_TARGET_KINDS: frozenset[str] = frozenset({"RoleEmail", "UserEmail"})

# Confluent's limit; spec.displayName itself allows more for other platforms.
CONFLUENT_DISPLAY_NAME_MAX = 64


class ConfluentSpec(CamelModel):
    target_kind: ConfluentTargetKind = "Webhook"
    """Kind of the integration's target: Webhook, Slack or MsTeams. RoleEmail and UserEmail
    integrations belong to Confluent and are read-only: asking for one is refused (Ready=False). A
    change is made in place."""
    # After each create or update that changes the target, ask Confluent to send
    # a test notification, so that the webhook is proven rather than assumed.
    test_on_change: bool = False
    """After each create or update that changes the target, have Confluent send a test notification
    to it; the outcome is status.lastTestAt and the Delivered condition."""
