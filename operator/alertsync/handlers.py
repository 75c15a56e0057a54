"""kopf handlers: the only module that knows kopf. Each one is a thin call into Runtime."""

import asyncio
import contextvars
import logging
import random
from typing import Any, cast

import kopf

from alertsync import metrics
from alertsync.api import ApiServer, Backend
from alertsync.config import OperatorConfig
from alertsync.errors import CredentialsError, RateLimitedError
from alertsync.kube import Kube
from alertsync.models import AlertIntegrationStatus
from alertsync.models.common import GROUP, VERSION
from alertsync.reconcile import Event, Outcome
from alertsync.records import IntegrationRecord, PlatformRecord
from alertsync.redaction import RedactingFilter, register_secret
from alertsync.runtime import Runtime

__all__: list[str] = []

INTEGRATIONS = "alertintegrations"
KOPF_PREFIX = f"operator.{GROUP}"
# Backoff for unreachable platforms: 5 s doubling up to 5 min, with jitter.
MAX_BACKOFF = 300.0
# Credentials come back when a person fixes the Secret; the platform's resync
# re-reads it and re-reconciles dependents sooner than this.
CREDENTIALS_RETRY = 120.0
RESYNC_RETRY = 30.0

logger = logging.getLogger(__name__)
# Read once, at import: the observe mode decides which handlers exist.
CONFIG = OperatorConfig.from_env()


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # kopf's bookkeeping goes to annotations, never to the user's status. Its
    # prefix must differ from ours: kopf ignores every annotation under its own
    # prefix, and alertsync.dev/reconcile-requested-at must reach the handlers.
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_PREFIX, key="last-handled-configuration"
    )
    # Only the Events we post ourselves; never one per handler log line.
    settings.posting.level = logging.CRITICAL + 1
    settings.watching.server_timeout = 300
    # The kubernetes client logs whole response bodies (Secrets too) at DEBUG.
    logging.getLogger("kubernetes.client.rest").setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    memo.runtime = runtime = Runtime(Kube.connect(), CONFIG, post_event=_post_event)
    memo.api = None
    memo.metrics = None
    memo.kopf_context = [None]
    metrics.count_integrations(runtime.ready_states)
    if CONFIG.metrics_address is not None:
        memo.metrics = metrics.MetricsServer(*CONFIG.metrics_address)
        await memo.metrics.start()
    address = CONFIG.api_address
    if address is not None:
        register_secret(CONFIG.api_token)

        async def reconcile_platform(uid: str) -> list[AlertIntegrationStatus] | None:
            context = memo.kopf_context[0]
            if context is None:  # no platform seen yet
                return None
            work = runtime.reconcile_platform_now(uid)
            return await asyncio.get_running_loop().create_task(work, context=context.copy())

        backend = Backend(reconcile_platform, runtime.entries)
        memo.api = ApiServer(backend, CONFIG.api_token, *address)
        await memo.api.start()


@kopf.on.cleanup()
async def close(memo: kopf.Memo, **_: Any) -> None:
    if memo.api is not None:
        await memo.api.stop()
    if memo.metrics is not None:
        await memo.metrics.stop()
    metrics.count_integrations(None)
    await memo.runtime.aclose()


def _post_event(record: IntegrationRecord, event: Event) -> None:
    body = kopf.Body(cast(kopf.RawBody, record.reference()))
    kopf.event(body, type=event.type, reason=event.reason, message=event.message)


# -- tracking: the grouping the resync needs, without API calls ------------------
# Plain watch-event handlers rather than kopf indexes: with an index, kopf 1.45
# holds every handler until all objects are indexed, and its readiness toggles
# wake every waiting worker per object, which is quadratic at startup (10,000
# integrations did not converge in 8 minutes; 1,000 took 20 s).


@kopf.on.event(GROUP, VERSION, INTEGRATIONS, id="track")
async def alertintegration_track(
    body: kopf.Body, type: str | None, memo: kopf.Memo, **_: Any
) -> None:
    # async on purpose: kopf runs sync handlers in threads, and these maps are
    # read by the resync on the event loop.
    memo.runtime.track_integration(IntegrationRecord.from_body(body), gone=type == "DELETED")


@kopf.on.event(GROUP, VERSION, "alertplatforms", id="track")
@kopf.on.event(GROUP, VERSION, "clusteralertplatforms", id="track")
async def platform_track(body: kopf.Body, type: str | None, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.track_platform(PlatformRecord.from_body(body), gone=type == "DELETED")
    # kopf posts Events only from tasks that carry its context; the API's
    # requests run outside kopf, so their passes run in this context instead.
    # (memo is copied per object: the holder made at startup is what they share)
    memo.kopf_context[0] = contextvars.copy_context()


# -- AlertIntegration -------------------------------------------------------------


@kopf.on.resume(GROUP, VERSION, INTEGRATIONS, id="reconcile")
@kopf.on.create(GROUP, VERSION, INTEGRATIONS, id="reconcile")
@kopf.on.update(GROUP, VERSION, INTEGRATIONS, id="reconcile")
async def alertintegration_reconcile(
    body: kopf.Body,
    memo: kopf.Memo,
    retry: int,
    reason: str,
    **_: Any,
) -> None:
    """Spec changes, the reconcile-requested-at annotation, and operator restarts."""
    runtime: Runtime = memo.runtime
    record = IntegrationRecord.from_body(body)
    # A person asked (an edit, `alertsync reconcile`): lastReconcileAt tells them it ran.
    # Restarts keep the heartbeat, so that they do not rewrite every status.
    asked = reason == kopf.Reason.UPDATE.value
    _raise_for(await runtime.reconcile_integration(record, heartbeat=not asked), retry)


@kopf.on.delete(GROUP, VERSION, INTEGRATIONS, id="delete")
async def alertintegration_delete(
    body: kopf.Body,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    runtime: Runtime = memo.runtime
    record = IntegrationRecord.from_body(body)
    outcome = await runtime.reconcile_integration(record)
    if not outcome.released:
        _raise_for(outcome, retry)
    runtime.forget(record.uid)


def _raise_for(outcome: Outcome, retry: int) -> None:
    error = outcome.error
    if error is None:
        return
    if error.permanent:
        raise kopf.PermanentError(error.message)
    if isinstance(error, RateLimitedError):
        delay = error.retry_after
    elif isinstance(error, CredentialsError):
        delay = CREDENTIALS_RETRY
    else:
        delay = min(MAX_BACKOFF, 5.0 * 2**retry) * random.uniform(0.8, 1.2)  # noqa: S311
    raise kopf.TemporaryError(error.message, delay=delay)


async def alertintegration_poll(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Per-object polling (benchmark baseline): one GET and one status write per interval.

    Errors are already on the status; the next tick is the retry.
    """
    runtime: Runtime = memo.runtime
    record = IntegrationRecord.from_body(body)
    await runtime.reconcile_integration(record, heartbeat=False)


if CONFIG.observe_mode == "per-object":
    # sharp: every interval from the first tick, as a polling controller does.
    kopf.timer(GROUP, VERSION, INTEGRATIONS, id="poll", interval=CONFIG.poll_interval, sharp=True)(
        alertintegration_poll
    )


# -- AlertPlatform and ClusterAlertPlatform ------------------------------------------


@kopf.daemon(GROUP, VERSION, "alertplatforms", id="resync", cancellation_timeout=5.0)
@kopf.daemon(GROUP, VERSION, "clusteralertplatforms", id="resync", cancellation_timeout=5.0)
async def platform_resync(
    body: kopf.Body,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    **_: Any,
) -> None:
    """One loop per platform account: check it, list once, reconcile its integrations."""
    runtime: Runtime = memo.runtime
    while not stopped:
        record = PlatformRecord.from_body(body)  # the body is a live view: spec edits show
        try:
            seconds = await runtime.resync_platform(record)
        except Exception:
            # A Kubernetes API hiccup must not end this platform's resync for good.
            logger.exception("resync of %s %s failed; retrying", record.kind.value, record.name)
            seconds = RESYNC_RETRY
        # kopf's stop flag ends the wait too: a clean exit, no cancellation.
        await runtime.sleep(record.key, stopped.wait(seconds))


@kopf.on.update(GROUP, VERSION, "alertplatforms", id="wake")
@kopf.on.update(GROUP, VERSION, "clusteralertplatforms", id="wake")
async def platform_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.wake(PlatformRecord.from_body(body).key)
