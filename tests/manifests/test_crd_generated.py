"""The committed CRDs are what `make crds` makes from the models, byte for byte.

The models are the one definition of the API; a hand edit to crds/ (or a model
changed without `make crds`) fails here. The chart's copies are held to crds/ by
tests/manifests/test_chart.py.
"""

import pytest
import yaml
from tools.crds import CRDS, OPENAPI, Crd, main, openapi, render, structural

from alertsync.models import AlertIntegrationSpec, ProductType


@pytest.mark.parametrize("crd", CRDS, ids=lambda crd: crd.kind)
def test_the_committed_crd_is_the_generated_one(crd: Crd) -> None:
    assert crd.file.read_text() == render(crd), "run `make crds`"


def test_check_mode_reports_nothing_stale() -> None:
    assert main(["--check"]) == 0


def test_the_seed_apis_product_types_are_the_models() -> None:
    text = OPENAPI.read_text()
    assert text == openapi(text), "run `make crds`"
    entry = yaml.safe_load(text)["components"]["schemas"]["IntegrationEntry"]
    assert entry["properties"]["productType"]["enum"] == [*(p.value for p in ProductType), None]


def test_a_stale_product_type_enum_is_rewritten() -> None:
    text = OPENAPI.read_text()
    last = list(ProductType)[-1].value
    stale = text.replace(f", {last}, null]", ", null]")
    assert stale != text
    assert openapi(stale) == text


def test_descriptions_come_from_the_field_docstrings() -> None:
    spec = structural(AlertIntegrationSpec, "spec", defaults=True)
    documented = AlertIntegrationSpec.model_fields["adoption_policy"].description
    assert documented is not None
    assert spec["properties"]["adoptionPolicy"]["description"] == " ".join(documented.split())
    assert spec["properties"]["adoptionPolicy"]["default"] == "CreateOnly"


def test_optional_fields_are_plain_and_unrequired() -> None:
    spec = structural(AlertIntegrationSpec, "spec", defaults=True)
    assert spec["required"] == ["platformRef"]
    # `X | None` is X in a CRD: a field is optional by not being required, never null.
    assert spec["properties"]["displayName"]["type"] == "string"
    assert "anyOf" not in str(spec)
    assert "$ref" not in str(spec)
