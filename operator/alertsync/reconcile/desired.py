"""The spec, resolved against its platform: what the platform object should be."""

import re

from alertsync.errors import CredentialsMissingError, InvalidSpecError
from alertsync.events import Event, Reason
from alertsync.models import AlertIntegrationSpec
from alertsync.models.common import URL_PATTERN
from alertsync.platforms.base import DesiredIntegration, PlatformAccount, ReadSecret, secret_value
from alertsync.reconcile.outcome import IntegrationResource
from alertsync.redaction import redact_url_credentials

__all__ = ["desired_integration"]

# A webhook URL read from a Secret meets the rule the CRD sets for an inline one.
URL, URL_MAX = re.compile(URL_PATTERN), 2048


async def desired_integration(
    resource: IntegrationResource,
    spec: AlertIntegrationSpec,
    account: PlatformAccount,
    read_secret: ReadSecret | None,
    events: list[Event],
) -> DesiredIntegration:
    """What the platform should hold for `resource`; a warning about the spec goes to `events`."""
    product, old = account.product_type, resource.status
    others = [name for name in spec.platform_blocks() if name != product.block]
    if others:
        raise InvalidSpecError(
            f"spec.{others[0]}",
            f"the platform {spec.platform_ref.name!r} is {product.value}: "
            f"use spec.{product.block} instead",
        )
    webhook = await _webhook_url(resource, spec, read_secret, events)
    if webhook and webhook[0].startswith("http://") and not account.allow_insecure_http:
        raise InvalidSpecError(
            webhook[1],
            f"must be https://: the platform {spec.platform_ref.name!r} does not allow plain "
            "http (set spec.allowInsecureHttp: true on it for a receiver that needs http)",
        )
    return DesiredIntegration(
        namespace=resource.namespace,
        name=resource.name,
        uid=resource.uid,
        display_name=spec.name_on_platform(resource.namespace, resource.name),
        target_state=spec.target_state,
        webhook_url=webhook[0] if webhook else None,
        block=spec.block_for(product),
        external_id=old.webhook_id,
        create_pending=old.create_pending_since is not None,
    )


async def _webhook_url(
    resource: IntegrationResource,
    spec: AlertIntegrationSpec,
    read_secret: ReadSecret | None,
    events: list[Event],
) -> tuple[str, str] | None:
    """The webhook URL and the spec field it comes from, inline or from a Secret."""
    if spec.webhook is None:
        return None
    source = spec.webhook.source
    if isinstance(source, str):
        spec_changed = resource.status.observed_generation != resource.generation
        if spec_changed and redact_url_credentials(source) != source:
            events.append(
                Event(
                    "Warning",
                    Reason.CREDENTIALS_IN_SPEC,
                    "spec.webhook.url carries a credential, readable by everyone who can "
                    "read this resource and kept in Git: move the URL to a Secret and name "
                    "it in spec.webhook.urlSecretRef",
                )
            )
        return source, "spec.webhook.url"
    where = "spec.webhook.urlSecretRef"
    if read_secret is None:
        raise CredentialsMissingError(f"{where}: Secrets cannot be read here")
    url = await secret_value(read_secret, resource.namespace, source.name, source.key, where)
    if not URL.fullmatch(url) or len(url) > URL_MAX:
        raise InvalidSpecError(
            where,
            f"the value of key {source.key!r} in Secret {source.name!r} is not an http(s) "
            f"URL of at most {URL_MAX} characters",
        )
    return url, where
