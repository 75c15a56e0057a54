"""ZStack's JSON, as its REST server sends it (camelCase; unknown fields ignored)."""

from dataclasses import dataclass

from alertsync.platforms.wire import CamelWireModel

__all__ = [
    "ApiError",
    "ErrorReply",
    "HttpEndpoint",
    "Listed",
    "Session",
    "Subscriber",
    "Topic",
]


class ApiError(CamelWireModel):
    """ZStack's ErrorCode: `code` such as SYS.1007 or ID.1001, words, an optional cause."""

    code: str | None = None
    description: str | None = None
    details: str | None = None
    elaboration: str | None = None
    cause: "ApiError | None" = None

    def words(self) -> str:
        """The most specific text ZStack gave, with the code: "SYS.1007 ... (details)"."""
        parts = [part for part in (self.description, self.details) if part]
        if self.cause is not None and self.cause.details and self.cause.details not in parts:
            parts.append(self.cause.details)
        text = ": ".join(parts) or "no description"
        return f"{self.code} {text}" if self.code else text


class ErrorReply(CamelWireModel):
    error: ApiError


class Session(CamelWireModel):
    uuid: str
    account_uuid: str | None = None
    expired_date: str | None = None


class HttpEndpoint(CamelWireModel):
    """An SNS HTTP endpoint inventory; the password is never returned."""

    uuid: str
    name: str
    description: str | None = None
    url: str
    username: str | None = None
    type: str | None = None
    state: str
    platform_uuid: str | None = None
    connection_status: str | None = None
    create_date: str | None = None
    last_op_date: str | None = None


class Subscriber(CamelWireModel):
    topic_uuid: str
    endpoint_uuid: str


class Topic(CamelWireModel):
    uuid: str
    name: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class Listed:
    """One endpoint of the batched listing, with the topics it subscribes to."""

    endpoint: HttpEndpoint
    topics: frozenset[str]

    @property
    def uuid(self) -> str:
        return self.endpoint.uuid
