"""The sample manifests of one platform in deploy/samples/, as a person applies them.

`alertplatform-<product>.yaml` holds the credentials' Secret and the AlertPlatform;
`alertintegration-<product>.yaml` the AlertIntegration (and any Secret it refers to).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alertsync.models import AlertIntegrationSpec, AlertPlatformSpec

__all__ = ["SAMPLES", "Samples", "sandbox_samples"]

SAMPLES = Path(__file__).parents[2] / "deploy" / "samples"

Doc = dict[str, Any]


@dataclass(frozen=True)
class Samples:
    secret: Doc  # the platform's credentials
    platform: Doc
    platform_spec: AlertPlatformSpec
    integration: Doc
    integration_spec: AlertIntegrationSpec


def _docs(name: str) -> list[Doc]:
    path = SAMPLES / f"alertsync.dev_v1alpha1_{name}.yaml"
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _one(docs: list[Doc], kind: str) -> Doc:
    [found] = [doc for doc in docs if doc["kind"] == kind]
    return found


def sandbox_samples(product: str, url: str) -> Samples:
    """`product`'s samples, checked as every platform's are: they parse, the platform is
    the `alertsim sandbox` one at `url`, and the integration refers to it."""
    platform_docs = _docs(f"alertplatform-{product}")
    integration_docs = _docs(f"alertintegration-{product}")
    platform = _one(platform_docs, "AlertPlatform")
    integration = _one(integration_docs, "AlertIntegration")
    samples = Samples(
        secret=_one(platform_docs, "Secret"),
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
