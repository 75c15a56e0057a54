"""The CRD's spec.zstack block and ZStackSpec describe the same fields and limits."""

import re
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from alertsync.errors import InvalidSpecError
from alertsync.models import AlertIntegrationSpec, ZStackSpec
from alertsync.models.common import parse_spec
from alertsync.models.zstack import ZStackSecretKeyRef
from tests.support.crds import integration_block
from tests.support.samples import sandbox_samples

TOPIC = "5d0c8a1e3f2b4c6d9e7f0a1b2c3d4e5f"


def block() -> dict[str, Any]:
    return integration_block("zstack")


def aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def test_zstack_block_matches_its_model() -> None:
    assert set(block()["properties"]) == aliases(ZStackSpec)
    assert set(block()["properties"]["passwordSecretRef"]["properties"]) == aliases(
        ZStackSecretKeyRef
    )
    assert "x-kubernetes-preserve-unknown-fields" not in block()


def test_limits_are_the_models_limits() -> None:
    properties = block()["properties"]
    assert properties["username"]["maxLength"] == 128  # ZStack's @APIParam(maxLength = 128)
    with pytest.raises(ValidationError):
        ZStackSpec(username="u" * 129)
    pattern = properties["topicUuids"]["items"]["pattern"]
    assert re.fullmatch(pattern, TOPIC)
    assert not re.fullmatch(pattern, TOPIC.upper())
    with pytest.raises(ValidationError):
        ZStackSpec.model_validate({"topicUuids": [TOPIC.upper()]})
    assert properties["topicUuids"]["x-kubernetes-list-type"] == "set"
    with pytest.raises(ValidationError):
        ZStackSpec.model_validate({"topicUuids": [TOPIC, TOPIC]})
    assert properties["passwordSecretRef"]["properties"]["key"]["default"] == "password"
    assert ZStackSecretKeyRef(name="s").key == "password"


def test_a_password_needs_a_username_in_both() -> None:
    rules = [rule["rule"] for rule in block()["x-kubernetes-validations"]]
    assert rules == ["!has(self.passwordSecretRef) || has(self.username)"]
    raw = {"platformRef": {"name": "zstack"}, "zstack": {"passwordSecretRef": {"name": "s"}}}
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(AlertIntegrationSpec, raw)
    assert caught.value.field == "spec.zstack"
    assert "username" in caught.value.message


def test_the_password_is_never_serialised_nor_shown() -> None:
    spec = ZStackSpec.model_validate({"username": "u", "passwordSecretRef": {"name": "s"}})
    given = spec.with_password(SecretStr("hunter2-hunter2"))
    assert spec.password is None
    assert given.password is not None
    assert given.password.get_secret_value() == "hunter2-hunter2"
    for text in (repr(given), str(given), given.model_dump_json()):
        assert "hunter2" not in text


def test_samples_use_the_zstack_block_and_two_part_credentials() -> None:
    samples = sandbox_samples("zstack", "http://127.0.0.1:18094")
    assert samples.secret["stringData"] == {
        "accountName": "admin",
        "password": "sandbox-zstack-password",
    }
    ref = samples.platform_spec.credentials_secret_ref
    assert (ref.key, ref.username_key) == ("password", "accountName")
    integration = samples.integration_spec
    assert isinstance(integration.zstack, ZStackSpec)
    assert integration.webhook is not None
