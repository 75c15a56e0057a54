"""`alertsync plan -f manifests/`: what the operator would do, without doing it.

For each AlertIntegration in the manifests this runs the operator's own pass
(`alertsync.reconcile.reconcile`, through `alertsync.runtime.Runtime` for
platforms and credentials) against the real platforms, with every adapter
wrapped in a `RecordingAdapter`: reads (`observe`, `list_all`, `check`) reach
the platform, writes (`create`, `update`, `delete`, `before_delete`,
`after_write`) are only recorded, and nothing is written to Kubernetes. The
recorded writes and the pass's Events and conditions give each resource's line.

AlertPlatforms, ClusterAlertPlatforms and Secrets come from the manifests when
they are there, else from the cluster ($KUBECONFIG); an AlertIntegration that
exists in the cluster is planned from its stored uid and status, as the
operator would see it after the manifests are applied. `--offline` reads no
cluster at all.

Exit codes (as `terraform plan -detailed-exitcode`): 0 nothing would change,
2 changes are planned, 1 an error (unreadable manifests, an invalid or refused
resource, a platform that could not be read).
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

import httpx
import yaml
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from alertsync.config import OperatorConfig
from alertsync.errors import (
    AdoptionRefusedError,
    AlertSyncError,
    InvalidSpecError,
    PlatformUnavailableError,
)
from alertsync.kube import Kube
from alertsync.models import (
    AlertIntegrationSpec,
    AlertIntegrationStatus,
    CurrentState,
    PlatformKind,
    ProductType,
    TargetState,
)
from alertsync.models.common import GROUP, VERSION, parse_spec
from alertsync.platforms.base import (
    DeliveryTest,
    DesiredIntegration,
    Match,
    Observation,
    PlatformAccount,
    PlatformAdapter,
)
from alertsync.reconcile import Dependencies, IntegrationResource, Outcome, reconcile
from alertsync.records import PlatformRecord
from alertsync.redaction import RedactingFilter, redact, register_secret
from alertsync.runtime import Runtime

__all__ = [
    "NEW_ID",
    "ManifestError",
    "Manifests",
    "PlannedResource",
    "PlannedWrite",
    "RecordingAdapter",
    "add_arguments",
    "exit_code",
    "load_manifests",
    "main",
    "plan",
    "render_json",
    "render_text",
    "run",
]

logger = logging.getLogger(__name__)

# The id a planned create would get: unknown until the platform assigns it.
NEW_ID = "(new)"
# Resources planned at once; each platform's own throttle still applies.
CONCURRENCY = 8
INTEGRATION_KINDS = ("AlertPlatform", "ClusterAlertPlatform", "AlertIntegration")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

Action = Literal[
    "create", "adopt", "update", "replace", "no-change", "invalid", "refused", "failed"
]
# The actions that change something on a platform.
CHANGES: frozenset[Action] = frozenset({"create", "adopt", "update", "replace"})
PROBLEMS: frozenset[Action] = frozenset({"invalid", "refused", "failed"})


class ManifestError(Exception):
    """The manifests cannot be read: nothing is planned."""


# -- the recording adapter ------------------------------------------------------------


@dataclass(frozen=True)
class PlannedWrite:
    """One platform write the operator would make, not made."""

    operation: Literal["create", "update", "delete", "before_delete", "after_write"]
    external_id: str | None = None
    fields: tuple[str, ...] = ()
    recreate_reason: str | None = None
    # What a create would name the object, and the state it would be in.
    display_name: str | None = None
    target_state: str | None = None


class RecordingAdapter(PlatformAdapter):
    """A real adapter whose reads go through and whose writes are only recorded.

    The answers to writes are what the platform would hold afterwards, as far as
    the spec tells, so that the pass completes the way it would for real.
    """

    # The real adapter's, by __getattr__ (a class variable cannot be a property).
    product: ClassVar[ProductType]

    def __init__(self, real: PlatformAdapter) -> None:
        self.real = real
        self.writes: list[PlannedWrite] = []

    def __getattr__(self, name: str) -> Any:
        if name == "product":
            return self.real.product
        raise AttributeError(name)

    @property
    def disable_by_delete(self) -> bool:  # type: ignore[override]
        # The decision table asks the real platform's answer (Confluent: True).
        return self.real.disable_by_delete

    def validate(self, desired: DesiredIntegration) -> None:
        self.real.validate(desired)

    async def check(self) -> None:
        await self.real.check()

    async def list_all(self) -> Sequence[Any]:
        return await self.real.list_all()

    async def observe(
        self, desired: DesiredIntegration, listing: Sequence[Any] | None = None
    ) -> Observation:
        return await self.real.observe(desired, listing)

    async def create(self, desired: DesiredIntegration) -> Observation:
        self.writes.append(
            PlannedWrite(
                "create",
                NEW_ID,
                display_name=desired.display_name,
                target_state=desired.target_state.value,
            )
        )
        return Observation(
            match=Match.ID,
            current_state=_state(desired.target_state),
            external_id=NEW_ID,
            webhook_url=desired.webhook_url,
        )

    async def update(self, desired: DesiredIntegration, observed: Observation) -> Observation:
        self.writes.append(
            PlannedWrite(
                "update",
                observed.external_id,
                tuple(sorted(set(observed.drifted_fields))),
                observed.recreate_reason,
            )
        )
        # A state the platform holds is not ours to change: the update leaves it.
        held = observed.state_reason is not None
        return replace(
            observed,
            match=Match.ID,
            current_state=observed.current_state if held else _state(desired.target_state),
            external_id=NEW_ID if observed.recreate_reason else observed.external_id,
            drifted_fields=(),
            recreate_reason=None,
            conflicting_ids=(),
        )

    async def delete(self, external_id: str) -> None:
        self.writes.append(PlannedWrite("delete", external_id))

    async def aclose(self) -> None:
        """The runtime owns the real adapter and closes it."""

    async def open_alerts(self, desired: DesiredIntegration, observed: Observation) -> int | None:
        return None

    async def before_delete(self, desired: DesiredIntegration, external_id: str) -> str | None:
        self.writes.append(PlannedWrite("before_delete", external_id))
        return None

    async def after_write(
        self, desired: DesiredIntegration, before: Observation | None, after: Observation
    ) -> DeliveryTest | None:
        # e.g. Confluent's delivery test: it sends a notification, so it is a write too.
        self.writes.append(PlannedWrite("after_write", after.external_id))
        return None


def _state(target: TargetState) -> CurrentState:
    return CurrentState(target.value)


# -- manifests -------------------------------------------------------------------------


@dataclass
class Manifests:
    integrations: list[dict[str, Any]] = field(default_factory=list)
    platforms: list[dict[str, Any]] = field(default_factory=list)
    # (namespace, name) -> decoded data
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    files: int = 0
    # Documents of other kinds (Deployments, ...): not AlertSync's to plan.
    ignored: int = 0


def load_manifests(
    paths: Sequence[str], namespace: str = "default", *, recursive: bool = False
) -> Manifests:
    """The documents of the files and directories in `paths` (`-`: stdin), read as kubectl does."""
    found = Manifests()
    integrations: dict[tuple[str, str], dict[str, Any]] = {}
    platforms: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for source, text in _read_sources(paths, recursive):
        found.files += 1
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            raise ManifestError(f"{source}: not valid YAML: {exc}") from None
        for document in _flatten(documents):
            if not isinstance(document, Mapping):
                raise ManifestError(f"{source}: a document is not a mapping")
            kind, api_version = document.get("kind"), str(document.get("apiVersion", ""))
            meta = document.get("metadata")
            if kind == "Secret" and api_version == "v1":
                key, data = _secret(source, document, namespace)
                found.secrets[key] = data
                continue
            if kind not in INTEGRATION_KINDS or api_version.split("/")[0] != GROUP:
                found.ignored += 1
                continue
            if api_version != f"{GROUP}/{VERSION}":
                raise ManifestError(
                    f"{source}: {kind} has apiVersion {api_version}, not {GROUP}/{VERSION}"
                )
            if not isinstance(meta, Mapping) or not meta.get("name"):
                raise ManifestError(f"{source}: a {kind} has no metadata.name")
            body = _with_namespace(document, None if kind == "ClusterAlertPlatform" else namespace)
            name, ns = body["metadata"]["name"], body["metadata"].get("namespace")
            # Applied in order, a later document replaces an earlier one of the same name.
            if kind == "AlertIntegration":
                integrations[(ns, name)] = body
            else:
                platforms[(str(kind), ns, name)] = body
    found.integrations = list(integrations.values())
    found.platforms = list(platforms.values())
    return found


def _read_sources(paths: Sequence[str], recursive: bool) -> Iterator[tuple[str, str]]:
    for raw in paths:
        if raw == "-":
            yield "<stdin>", sys.stdin.read()
            continue
        path = Path(raw)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(
                p for p in path.glob(pattern) if p.is_file() and p.suffix in MANIFEST_SUFFIXES
            )
        elif path.is_file():
            files = [path]
        else:
            raise ManifestError(f"{raw}: no such file or directory")
        for file in files:
            try:
                yield str(file), file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ManifestError(f"{file}: cannot read: {exc}") from None


def _flatten(documents: Iterable[Any]) -> Iterator[Any]:
    for document in documents:
        if document is None:
            continue
        if isinstance(document, Mapping) and document.get("kind") == "List":
            yield from _flatten(document.get("items") or ())
        else:
            yield document


def _with_namespace(document: Mapping[str, Any], namespace: str | None) -> dict[str, Any]:
    body = dict(document)
    meta = dict(body["metadata"])
    if namespace is None:
        meta.pop("namespace", None)
    else:
        meta.setdefault("namespace", namespace)
    body["metadata"] = meta
    return body


def _secret(
    source: str, document: Mapping[str, Any], namespace: str
) -> tuple[tuple[str, str], dict[str, str]]:
    meta = document.get("metadata") or {}
    if not isinstance(meta, Mapping) or not meta.get("name"):
        raise ManifestError(f"{source}: a Secret has no metadata.name")
    encoded, plain = document.get("data") or {}, document.get("stringData") or {}
    if not isinstance(encoded, Mapping) or not isinstance(plain, Mapping):
        raise ManifestError(f"{source}: Secret {meta['name']}: data and stringData must be maps")
    data: dict[str, str] = {}
    for key, value in encoded.items():
        try:
            data[str(key)] = base64.b64decode(str(value), validate=True).decode("utf-8", "replace")
        except ValueError:
            # The message names the key only: the value is a secret, typo or not.
            raise ManifestError(
                f"{source}: Secret {meta['name']}: data.{key} is not base64"
            ) from None
    data.update({str(k): str(v) for k, v in plain.items()})
    for value in data.values():
        register_secret(value)
    return (str(meta.get("namespace") or namespace), str(meta["name"])), data


# -- where platforms, Secrets and stored statuses come from -----------------------------


class Sources:
    """The manifests first, then the cluster (none when offline).

    Stands in for `alertsync.kube.Kube` in the runtime: it has the two reads
    the runtime makes, and no way to write.
    """

    def __init__(self, manifests: Manifests, kube: Kube | None) -> None:
        self.manifests = manifests
        self.kube = kube

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        data = self.manifests.secrets.get((namespace, name))
        if data is None and self.kube is not None:
            data = await self.kube.read_secret(namespace, name)
            for value in (data or {}).values():
                register_secret(value)
        return data

    async def read_platform(self, key: tuple[str, str | None, str]) -> dict[str, Any] | None:
        # The runtime found no such platform in the manifests: the cluster's, if any.
        return None if self.kube is None else await self.kube.read_platform(key)

    async def read_integration(self, namespace: str, name: str) -> dict[str, Any] | None:
        if self.kube is None:
            return None
        try:
            body: object = await asyncio.to_thread(
                self.kube.custom.get_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                "alertintegrations",
                name,
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise PlatformUnavailableError(
                f"cannot read AlertIntegration {namespace}/{name} from the cluster: "
                f"Kubernetes answered {exc.status}"
            ) from None
        return body if isinstance(body, dict) else None


# -- planning --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedResource:
    namespace: str
    name: str
    # "AlertPlatform default/oncall" as spec.platformRef names it.
    platform: str
    product_type: str | None
    action: Action
    fields: tuple[str, ...] = ()
    # Why: the recreate reason, the error, or a note on an unchanged resource.
    message: str = ""
    # The condition reason of an error (InvalidSpec, PlatformUnavailable, ...).
    reason: str | None = None
    external_id: str | None = None
    # The difference is drift (the platform changed behind AlertSync's back), not the spec.
    drift: bool = False
    # Does the resource already exist in the cluster (its status was used)?
    in_cluster: bool = False
    writes: tuple[PlannedWrite, ...] = ()


async def plan(
    manifests: Manifests,
    kube: Kube | None = None,
    *,
    config: OperatorConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[PlannedResource]:
    """One planned pass per AlertIntegration in `manifests`, in their order."""
    sources = Sources(manifests, kube)
    # cast: Sources has the runtime's two reads of Kube and nothing else, on purpose.
    runtime = Runtime(
        cast(Kube, sources),
        config or OperatorConfig(),
        post_event=lambda record, event: None,
        transport=transport,
    )
    for body in manifests.platforms:
        runtime.track_platform(PlatformRecord.from_body(_with_uid(body)))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(body: dict[str, Any]) -> PlannedResource:
        async with gate:
            return await _plan_one(body, sources, runtime)

    try:
        return list(await asyncio.gather(*(one(body) for body in manifests.integrations)))
    finally:
        await runtime.aclose()


def _with_uid(body: Mapping[str, Any]) -> dict[str, Any]:
    meta = dict(body["metadata"])
    meta.setdefault("uid", _placeholder_uid(str(body["kind"]), meta.get("namespace"), meta["name"]))
    return {**body, "metadata": meta}


def _placeholder_uid(kind: str, namespace: str | None, name: str) -> str:
    # The resource has no uid yet: one that no platform object can carry in its
    # marker, the same on every run so that two plans agree.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alertsync-plan:{kind}/{namespace}/{name}"))


async def _plan_one(body: dict[str, Any], sources: Sources, runtime: Runtime) -> PlannedResource:
    meta = body["metadata"]
    namespace, name = str(meta["namespace"]), str(meta["name"])
    raw = body.get("spec")
    spec: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    platform = _platform_label(spec, namespace)
    base = PlannedResource(namespace, name, platform, None, "failed")
    try:
        live = await sources.read_integration(namespace, name)
    except AlertSyncError as exc:
        return replace(base, reason=exc.reason, message=exc.message)
    resource = _resource(body, spec, live)
    recorders: list[RecordingAdapter] = []

    def adapter_for(account: PlatformAccount) -> PlatformAdapter:
        recorder = RecordingAdapter(runtime.adapter_for(account))
        recorders.append(recorder)
        return recorder

    async def no_status_write(status: AlertIntegrationStatus) -> None:
        """The pending-create record: a plan writes nothing."""

    deps = Dependencies(
        resolve_platform=runtime.resolve,
        adapter_for=adapter_for,
        write_status=no_status_write,
        read_secret=sources.read_secret,
    )
    try:
        outcome = await reconcile(resource, deps)
    except Exception as exc:
        # Not an AlertSyncError (those end in the outcome): a bug or a library's
        # surprise; the other resources are still planned.
        logger.debug("planning %s/%s failed", namespace, name, exc_info=True)
        return replace(base, reason=type(exc).__name__, message=str(exc))
    writes = tuple(w for recorder in recorders for w in recorder.writes)
    return _classify(replace(base, in_cluster=live is not None), resource.status, outcome, writes)


def _platform_label(spec: Mapping[str, Any], namespace: str) -> str:
    ref = spec.get("platformRef")
    ref = ref if isinstance(ref, Mapping) else {}
    kind = str(ref.get("kind") or PlatformKind.NAMESPACED.value)
    name = str(ref.get("name") or "?")
    return f"{kind} {name}" if kind == PlatformKind.CLUSTER.value else f"{kind} {namespace}/{name}"


def _resource(
    body: Mapping[str, Any], spec: Mapping[str, Any], live: Mapping[str, Any] | None
) -> IntegrationResource:
    """The resource as the operator would see it once the manifest is applied."""
    meta = body["metadata"]
    namespace, name = str(meta["namespace"]), str(meta["name"])
    if live is not None:
        live_meta = live.get("metadata") or {}
        uid = str(live_meta.get("uid") or "")
        stored = live.get("status") or {}
        generation = int(live_meta.get("generation") or 1)
        # Applying a different spec makes a new generation: then a difference on
        # the platform is the change asked for, not drift.
        if not _same_spec(live.get("spec") or {}, spec):
            generation += 1
    else:
        # A manifest exported from a cluster (kubectl get -o yaml) carries both.
        uid = str(meta.get("uid") or "")
        stored = body.get("status") or {}
        generation = int(meta.get("generation") or 1)
    try:
        status = AlertIntegrationStatus.model_validate(stored)
    except ValidationError:
        status = AlertIntegrationStatus()
    return IntegrationResource(
        namespace=namespace,
        name=name,
        uid=uid or _placeholder_uid("AlertIntegration", namespace, name),
        generation=generation,
        spec=spec,
        status=status,
    )


def _same_spec(stored: Mapping[str, Any], applied: Mapping[str, Any]) -> bool:
    # Parsed, so that defaults the API server filled in do not count as changes.
    try:
        return parse_spec(AlertIntegrationSpec, stored) == parse_spec(AlertIntegrationSpec, applied)
    except InvalidSpecError:
        return dict(stored) == dict(applied)


def _classify(
    base: PlannedResource,
    old: AlertIntegrationStatus,
    outcome: Outcome,
    writes: tuple[PlannedWrite, ...],
) -> PlannedResource:
    status = outcome.status
    base = replace(
        base,
        product_type=status.product_type.value if status.product_type else None,
        external_id=status.webhook_id,
        writes=writes,
    )
    error = outcome.error
    if error is not None:
        action: Action = (
            "invalid"
            if isinstance(error, InvalidSpecError)
            else "refused"
            if isinstance(error, AdoptionRefusedError)
            else "failed"
        )
        return replace(base, action=action, reason=error.reason, message=error.stable_message)
    reasons = {event.reason for event in outcome.events}
    adopted = "Adopted" in reasons
    create = next((w for w in writes if w.operation == "create"), None)
    update = next((w for w in writes if w.operation == "update"), None)
    if create is not None:
        # Created again: the object the status names is gone from the platform.
        gone = old.webhook_id if "DriftRepaired" in reasons else None
        return replace(
            base,
            action="create",
            external_id=None,
            drift=gone is not None,
            message=f"{gone} is gone from the platform" if gone else "",
        )
    if update is not None:
        return replace(
            base,
            action="adopt" if adopted else "replace" if update.recreate_reason else "update",
            fields=update.fields,
            external_id=update.external_id,
            message=update.recreate_reason or "",
            # An update after a spec change or an adoption is the work asked for.
            drift=not adopted and "Updated" not in reasons,
        )
    if adopted:
        return replace(base, action="adopt")
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    note = ready.message if ready is not None and ready.status != "True" else ""
    return replace(base, action="no-change", message=note)


# -- output ----------------------------------------------------------------------------

_SUMMARY: tuple[tuple[Action, str, bool], ...] = (
    # (action, words, shown even when 0): the first five always, as Terraform does.
    ("create", "to create", True),
    ("update", "to update", True),
    ("replace", "to replace", True),
    ("no-change", "unchanged", True),
    ("invalid", "invalid", True),
    ("adopt", "to adopt", False),
    ("refused", "refused", False),
    ("failed", "failed", False),
)


def summary(results: Sequence[PlannedResource]) -> dict[str, int]:
    return {action: sum(r.action == action for r in results) for action, _, _ in _SUMMARY}


def exit_code(results: Sequence[PlannedResource]) -> int:
    """0: nothing would change; 2: changes are planned; 1: something is wrong."""
    if any(r.action in PROBLEMS for r in results):
        return 1
    return 2 if any(r.action in CHANGES for r in results) else 0


def render_text(results: Sequence[PlannedResource], *, heading: str = "") -> str:
    lines = [heading, ""] if heading else []
    if not results:
        lines += ["No AlertIntegration in the manifests.", ""]
    for result in results:
        product = f"{result.product_type} via " if result.product_type else ""
        lines.append(f"# {result.namespace}/{result.name} ({product}{result.platform})")
        lines += [line.rstrip() for line in _describe(result)]
        lines.append("")
    counts = summary(results)
    parts = [f"{counts[a]} {words}" for a, words, always in _SUMMARY if always or counts[a]]
    lines.append(f"Plan: {', '.join(parts)}.")
    return redact("\n".join(lines)) + "\n"


def _describe(r: PlannedResource) -> Iterator[str]:
    why = (
        "drift: changed on the platform behind AlertSync's back"
        if r.drift
        else "the spec asks for it"
    )
    if r.action == "create":
        yield "+ create"
        create = next((w for w in r.writes if w.operation == "create"), None)
        if create is not None:
            yield f"    name: {create.display_name!r} ({create.target_state})"
        if r.message:
            yield f"    why: {r.message}; AlertSync creates it again"
    elif r.action == "adopt":
        yield f"+ adopt {r.external_id} (spec.adoptionPolicy: AdoptExisting)"
        if r.message:
            yield f"    then replace ({r.message})"
        elif r.fields:
            yield f"    then update {', '.join(r.fields)}"
    elif r.action == "update":
        yield f"~ update {', '.join(r.fields)}"
        yield f"    id: {r.external_id}"
        yield f"    why: {why}"
    elif r.action == "replace":
        yield f"-/+ replace ({r.message})"
        yield f"    id: {r.external_id} (deleted, then created again)"
        yield f"    fields: {', '.join(r.fields)}"
        yield f"    why: {why}"
    elif r.action == "no-change":
        yield "= no change"
        if r.external_id:
            yield f"    id: {r.external_id}"
        if r.message:
            yield f"    note: {r.message}"
    elif r.action == "invalid":
        yield f"! invalid: {r.message}"
    elif r.action == "refused":
        yield f"? refused: {r.message}"
    else:
        yield f"! failed ({r.reason}): {r.message}"


def render_json(results: Sequence[PlannedResource]) -> str:
    document = {
        "resources": [_camel(asdict(result)) for result in results],
        "summary": summary(results),
        "exitCode": exit_code(results),
    }
    return redact(json.dumps(document, indent=2)) + "\n"


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_camel(v) for v in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


# -- the command -----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `alertsync plan`, for the CLI's subparser."""
    parser.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="PATH",
        help="a manifest file or directory (repeatable; - reads stdin)",
    )
    parser.add_argument(
        "-R", "--recursive", action="store_true", help="read directories recursively"
    )
    parser.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace of manifests that name none (default: default)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="read no cluster: platforms and Secrets from the manifests only, no stored status",
    )
    parser.add_argument("-o", "--output", choices=["text", "json"], default="text")
    parser.add_argument(
        "--operator-namespace",
        default=os.environ.get("ALERTSYNC_NAMESPACE", OperatorConfig.operator_namespace),
        help="where ClusterAlertPlatform credential Secrets live (default: $ALERTSYNC_NAMESPACE "
        "or alertsync-system)",
    )


def run(args: argparse.Namespace, *, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """`alertsync plan` with parsed options; prints the plan, returns the exit code."""
    _log_to_stderr()
    try:
        manifests = load_manifests(args.filename, args.namespace, recursive=args.recursive)
    except ManifestError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1
    kube: Kube | None = None
    if not args.offline:
        try:
            kube = Kube.connect()
        except Exception as exc:
            print(
                f"error: cannot reach the cluster ({redact(str(exc))}); "
                "use --offline to plan from the manifests alone",
                file=sys.stderr,
            )
            return 1
    config = OperatorConfig(operator_namespace=args.operator_namespace)
    try:
        results = asyncio.run(plan(manifests, kube, config=config, transport=transport))
    finally:
        if kube is not None:
            kube.api.close()
    if args.output == "json":
        sys.stdout.write(render_json(results))
    else:
        where = "the manifests only (--offline)" if args.offline else "manifests, then the cluster"
        heading = (
            f"AlertSync plan: {len(results)} AlertIntegration(s) in {manifests.files} file(s); "
            f"platforms and Secrets from {where}. Nothing is changed."
        )
        sys.stdout.write(render_text(results, heading=heading))
    return exit_code(results)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="alertsync plan",
        description="Show what AlertSync would do for the AlertIntegrations in some "
        "manifests, against the real platforms, without changing anything.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def _log_to_stderr() -> None:
    """Warnings to stderr, redacted, in a bare process; an embedding program keeps its own."""
    root = logging.getLogger()
    if root.handlers:
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        handler.addFilter(RedactingFilter())


if __name__ == "__main__":
    raise SystemExit(main())
