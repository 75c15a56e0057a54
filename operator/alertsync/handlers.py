"""kopf handlers: the only module that knows kopf. Each one is a thin call into Runtime."""

import asyncio
import logging
from typing import Any

import kopf

from alertsync import metrics
from alertsync.api import ApiServer, Backend
from alertsync.config import OperatorConfig
from alertsync.events import EventPoster
from alertsync.kube import Kube
from alertsync.models.common import GROUP, VERSION
from alertsync.records import FINALIZER, IntegrationRecord, PlatformRecord
from alertsync.redaction import RedactingFilter, register_secret
from alertsync.retry import RESYNC_RETRY, RETRY_UNREADY, delay_for
from alertsync.runtime import Runtime

__all__: list[str] = []

INTEGRATIONS = "alertintegrations"
KOPF_PREFIX = f"operator.{GROUP}"

logger = logging.getLogger(__name__)
# Read once, at import: the observe mode decides which handlers exist.
CONFIG = OperatorConfig.from_env()


class NoDiffBase(kopf.AnnotationsDiffBaseStorage):
    """kopf's copy of the last handled spec, kept nowhere.

    AlertSync decides what a watch event asks for from the generation and the
    status it wrote (Runtime.seen); kopf's copy would cost one more write per
    resource. The deletion handler does not need it.
    """

    def fetch(self, *, body: kopf.Body) -> None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # kopf's bookkeeping goes to annotations, never to the user's status. Its
    # prefix must differ from ours: kopf ignores every annotation under its own
    # prefix, and alertsync.dev/reconcile-requested-at must reach the handlers.
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    settings.persistence.diffbase_storage = NoDiffBase(prefix=KOPF_PREFIX)
    # AlertSync posts its Events itself (alertsync.events): kopf posts none, neither
    # for handler log lines nor otherwise.
    settings.posting.enabled = False
    settings.watching.server_timeout = 300
    # The kubernetes client logs whole response bodies (Secrets too) at DEBUG.
    logging.getLogger("kubernetes.client.rest").setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        # `alertsync run` installs its handler with one (alertsync.logs); kopf's own CLI,
        # as the tests run it, does not.
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    kube = Kube.connect()
    memo.events = EventPoster(kube.core)
    await memo.events.start()
    memo.runtime = runtime = Runtime(kube, CONFIG, post_event=memo.events.post)
    memo.api = None
    memo.metrics = None
    metrics.count_integrations(runtime.ready_states)
    if CONFIG.metrics_address is not None:
        memo.metrics = metrics.MetricsServer(*CONFIG.metrics_address)
        await memo.metrics.start()
    address = CONFIG.api_address
    if address is not None:
        register_secret(CONFIG.api_token)

        backend = Backend(runtime.reconcile_platform_now, runtime.entries)
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
    await memo.events.aclose()  # the Events still queued go out before the process ends


# -- tracking: the grouping the resync needs, without API calls ------------------
# Plain watch-event handlers rather than kopf indexes: with an index, kopf 1.45
# holds every handler until all objects are indexed, and its readiness toggles
# wake every waiting worker per object, which is quadratic at startup (10,000
# integrations did not converge in 8 minutes; 1,000 took 20 s).


@kopf.on.event(GROUP, VERSION, INTEGRATIONS, id="track")
async def alertintegration_seen(
    body: kopf.Body, type: str | None, memo: kopf.Memo, **_: Any
) -> None:
    """Every watch event: the first sight of a resource (created, or found at start-up),
    a new generation and the reconcile-requested-at annotation queue a pass.

    A plain event handler, not kopf's create/update/resume handlers: those need
    kopf's last-handled-configuration annotation, one more write per resource.
    async on purpose: kopf runs sync handlers in threads, and the runtime's maps
    are read by the resync on the event loop.
    """
    await memo.runtime.seen(IntegrationRecord.from_body(body), gone=type == "DELETED")


@kopf.on.event(GROUP, VERSION, "alertplatforms", id="track")
@kopf.on.event(GROUP, VERSION, "clusteralertplatforms", id="track")
async def platform_track(body: kopf.Body, type: str | None, memo: kopf.Memo, **_: Any) -> None:
    memo.runtime.track_platform(PlatformRecord.from_body(body), gone=type == "DELETED")


@kopf.on.delete(GROUP, VERSION, INTEGRATIONS, id="delete")
async def alertintegration_delete(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    runtime: Runtime = memo.runtime
    record = IntegrationRecord.from_body(body)
    outcome = await runtime.delete(record)
    if outcome is not None and not outcome.released:
        error = outcome.error
        delay = delay_for(error, retry, RETRY_UNREADY) if error is not None else None
        # Deletion is kopf's to retry: the finalizer stays until the object is gone.
        raise kopf.TemporaryError(
            error.message if error is not None else "deletion not finished",
            delay=delay if delay is not None else RETRY_UNREADY,
        )
    runtime.forget(record.uid)


async def alertintegration_poll(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Per-object polling (benchmark baseline): one GET and one status write per interval.

    Errors are already on the status; the next tick is the retry.
    """
    await memo.runtime.poll(IntegrationRecord.from_body(body))


if CONFIG.observe_mode == "per-object":
    # sharp: every interval from the first tick, as a polling controller does.
    kopf.timer(GROUP, VERSION, INTEGRATIONS, id="poll", interval=CONFIG.poll_interval, sharp=True)(
        alertintegration_poll
    )


# -- AlertPlatform and ClusterAlertPlatform ------------------------------------------


# kopf stops a daemon by setting `stopped`, then waits `cancellation_backoff` seconds for
# it to return before it cancels it (and warns "Daemon 'resync' is cancelled. Will
# escalate."), then `cancellation_timeout` more before it gives up on it. Without a
# backoff it cancels after 10 event-loop cycles: a margin for the account's workers to
# wind down (a request in flight), which kopf stops waiting for once the daemon returns.
STOP_BACKOFF, STOP_TIMEOUT = 5.0, 5.0


@kopf.daemon(
    GROUP,
    VERSION,
    "alertplatforms",
    id="resync",
    cancellation_backoff=STOP_BACKOFF,
    cancellation_timeout=STOP_TIMEOUT,
)
@kopf.daemon(
    GROUP,
    VERSION,
    "clusteralertplatforms",
    id="resync",
    cancellation_backoff=STOP_BACKOFF,
    cancellation_timeout=STOP_TIMEOUT,
)
async def platform_resync(
    body: kopf.Body,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    **_: Any,
) -> None:
    """One loop per platform account: check it, list once, compare its integrations.

    The account's work queue runs while this daemon does: kopf stops it when the
    operator pauses (peering) or exits, and then nothing more is sent.
    """
    runtime: Runtime = memo.runtime
    resync: asyncio.Future[float] | None = None
    try:
        async with runtime.serving(PlatformRecord.from_body(body).key):
            while not stopped:
                record = PlatformRecord.from_body(body)  # a live view: spec edits show
                resync = asyncio.ensure_future(runtime.resync_platform(record))
                try:
                    seconds = await _unless_stopped(resync, stopped)
                except Exception:
                    # A Kubernetes API hiccup must not end this platform's resync for good.
                    logger.exception(
                        "resync of %s %s failed; retrying", record.kind.value, record.name
                    )
                    seconds = RESYNC_RETRY
                if seconds is None:
                    break  # stopped mid-resync: the account's workers stop first, below
                # kopf's stop flag ends the wait too: a clean exit, no cancellation.
                await runtime.wakeups.sleep(record.key, stopped.wait(seconds))
    finally:
        # Leaving `serving` has cancelled the workers and the shared listings that a
        # stopped resync may still be unwinding from: it ends now, nothing more is sent.
        if resync is not None and not resync.done():
            resync.cancel()
            await asyncio.wait({resync})


async def _unless_stopped(
    resync: asyncio.Future[float], stopped: kopf.DaemonStopped
) -> float | None:
    """What `resync` returns; None, `resync` cancelled, if kopf says stop before it ends.

    A resync waits on the platform and the API server (a listing can take seconds): the
    daemon returns as soon as it is told to stop, so that kopf need not cancel it. It
    does not wait here for `resync` to unwind: the account's workers stop first (a
    shared listing that `resync` waits for ends with them).
    """
    stopping = asyncio.ensure_future(stopped.wait())
    either: set[asyncio.Future[Any]] = {resync, stopping}
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if resync.done():
        return resync.result()
    resync.cancel()
    return None
