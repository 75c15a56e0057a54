"""Confluent Cloud notifications/v1 JSON, as the API sends it (unknown fields ignored).

Every field Confluent documents is kept, so a payload parses without loss; the
target is one flat model rather than a union over its kinds, because kinds the
operator does not know yet (InApp, ...) must parse too.
"""

from pydantic import Field

from alertsync.platforms.wire import WireModel

__all__ = [
    "ErrorSource",
    "Failure",
    "FailureError",
    "GlobalObjectReference",
    "Integration",
    "IntegrationList",
    "IntegrationTarget",
    "ListMeta",
    "ObjectMeta",
]


class GlobalObjectReference(WireModel):
    id: str
    related: str | None = None
    resource_name: str | None = None


class IntegrationTarget(WireModel):
    kind: str
    # Webhook
    url: str | None = None
    # Slack, MsTeams
    webhook_url: str | None = None
    # RoleEmail
    role_name: str | None = None
    # UserEmail, InApp
    user: GlobalObjectReference | None = None

    @property
    def address(self) -> str | None:
        """Where this target delivers: `url` for Webhook, `webhook_url` for Slack and Teams."""
        return self.url if self.kind == "Webhook" else self.webhook_url


class ObjectMeta(WireModel):
    self_: str | None = Field(default=None, alias="self")
    resource_name: str | None = None
    # RFC 3339 strings, kept as sent: nothing here computes with them.
    created_at: str | None = None
    updated_at: str | None = None
    deleted_at: str | None = None


class Integration(WireModel):
    api_version: str | None = None
    kind: str | None = None
    id: str
    metadata: ObjectMeta | None = None
    display_name: str
    description: str | None = None
    target: IntegrationTarget


class ListMeta(WireModel):
    first: str | None = None
    last: str | None = None
    prev: str | None = None
    # Absent or null on the last page.
    next: str | None = None
    total_size: int | None = None


class IntegrationList(WireModel):
    api_version: str | None = None
    kind: str | None = None
    metadata: ListMeta
    data: list[Integration]


class ErrorSource(WireModel):
    # A JSON pointer into the request body, e.g. "/target/url".
    pointer: str | None = None
    # A query parameter, e.g. "page_size".
    parameter: str | None = None


class FailureError(WireModel):
    id: str | None = None
    status: str | None = None
    code: str | None = None
    title: str | None = None
    detail: str | None = None
    source: ErrorSource | None = None
    error_code: int | None = None
    message: str | None = None


class Failure(WireModel):
    errors: list[FailureError]
