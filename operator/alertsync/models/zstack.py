"""`spec.zstack`: an SNS HTTP endpoint on a ZStack Cloud (productType zstack)."""

from typing import Annotated

from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator

from alertsync.models.common import LIST_SET, CamelModel
from alertsync.models.messages import explained_pattern

__all__ = ["ZStackSecretKeyRef", "ZStackSpec"]

# ZStack uuids are 32 lowercase hex digits, no dashes.
ZStackUuid = Annotated[
    str,
    Field(
        pattern=explained_pattern(
            r"^[0-9a-f]{32}$", "must be a ZStack uuid: 32 lowercase hex digits, no dashes"
        ),
        description="An SNS topic uuid (32 lowercase hex digits).",
    ),
]


class ZStackSecretKeyRef(CamelModel):
    """A key of a Secret in the AlertIntegration's namespace."""

    name: Annotated[str, Field(min_length=1, max_length=253)]
    """Name of the Secret."""
    key: Annotated[str, Field(min_length=1, max_length=253)] = "password"
    """Key of the Secret that holds the password."""


class ZStackSpec(CamelModel):
    """The endpoint's own settings; its name, URL and state come from the common spec.

    The basic-auth password is write-only on ZStack (never returned), so it is
    never compared: the core resolves `passwordSecretRef` and hands the value
    over with `with_password`, and the adapter sends it whenever it writes.
    """

    # _password_needs_a_user, as the API server checks it.
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.passwordSecretRef) || has(self.username)",
                    "message": "passwordSecretRef needs username (basic auth sends both)",
                }
            ]
        }
    )

    username: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    """Basic-auth user ZStack sends with each notification. Unset: not compared."""
    password_secret_ref: ZStackSecretKeyRef | None = None
    """The Secret in this namespace that holds the basic-auth password. ZStack never returns it, so
    it is not compared; it is sent again when the Secret changes. Needs username."""
    topic_uuids: Annotated[
        tuple[ZStackUuid, ...] | None, Field(max_length=64, json_schema_extra=LIST_SET)
    ] = None
    """SNS topics the endpoint subscribes to, compared as a set: subscriptions to other topics are
    removed. Unset: not compared."""

    # Resolved from password_secret_ref by the core; never serialised or shown.
    _password: SecretStr | None = PrivateAttr(default=None)

    @field_validator("topic_uuids")
    @classmethod
    def _topics_are_a_set(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a topic twice")
        return value

    @model_validator(mode="after")
    def _password_needs_a_user(self) -> "ZStackSpec":
        if self.password_secret_ref is not None and self.username is None:
            raise ValueError("passwordSecretRef needs username: basic auth sends both")
        return self

    @property
    def password(self) -> SecretStr | None:
        return self._password

    def with_password(self, password: SecretStr) -> "ZStackSpec":
        """A copy carrying the resolved password (the model itself stays frozen)."""
        copy = self.model_copy()
        copy._password = password
        return copy
