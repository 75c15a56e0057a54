"""The sample manifests of one platform in deploy/samples/, as a person applies them.

`<product>.yaml` holds the credentials' Secret, the AlertPlatform, then the
AlertIntegration and any Secret it refers to: each after what it refers to, so that
`kubectl apply -f deploy/samples/` creates them in order.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alertsync.models import AlertIntegrationSpec, AlertPlatformSpec

__all__ = ["SAMPLES", "Samples", "sample_file", "sample_names", "sandbox_samples"]

SAMPLES = Path(__file__).parents[2] / "deploy" / "samples"

Doc = dict[str, Any]


@dataclass(frozen=True)
class Samples:
    secret: Doc  # the platform's credentials
    platform: Doc
    platform_spec: AlertPlatformSpec
    integration: Doc
    integration_spec: AlertIntegrationSpec


def sample_names(kind: str) -> set[str]:
    """metadata.name of every `kind` in deploy/samples/: what a test of all the samples
    expects, so that a platform's samples join it by being there."""
    return {
        doc["metadata"]["name"]
        for path in SAMPLES.glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["kind"] == kind
    }


def sample_file(product: str) -> Path:
    """The one file of `product`'s samples."""
    return SAMPLES / f"{product}.yaml"


def _docs(product: str) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(sample_file(product).read_text()) if doc]


def _one(docs: list[Doc], kind: str) -> Doc:
    [found] = [doc for doc in docs if doc["kind"] == kind]
    return found


def sandbox_samples(product: str, url: str) -> Samples:
    """`product`'s samples, checked as every platform's are: they parse, the platform is
    the `alertsim sandbox` one at `url`, and the integration refers to it."""
    docs = _docs(product)
    # The credentials' Secret, the AlertPlatform, then what the integration needs: only
    # its Secrets, before it.
    secret, platform, *rest = docs
    assert (secret["kind"], platform["kind"]) == ("Secret", "AlertPlatform")
    integration = _one(rest, "AlertIntegration")
    assert rest[-1] is integration
    assert {doc["kind"] for doc in rest[:-1]} <= {"Secret"}
    samples = Samples(
        secret=secret,
        platform=platform,
        platform_spec=AlertPlatformSpec.model_validate(platform["spec"]),
        integration=integration,
        integration_spec=AlertIntegrationSpec.model_validate(integration["spec"]),
    )
    assert samples.platform_spec.product_type.value == product
    assert samples.platform_spec.url == url
    assert samples.integration_spec.platform_ref.name == platform["metadata"]["name"]
    ref = samples.platform_spec.credentials_secret_ref
    assert ref.name == samples.secret["metadata"]["name"]
    return samples
