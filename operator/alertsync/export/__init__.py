"""`alertsync export --platform NAME`: what a platform already has, as AlertIntegrations.

Reads the AlertPlatform (or ClusterAlertPlatform) and its credentials from the cluster
as the operator does (through `alertsync.plan.Sources` and the operator's Connector),
lists the account once on the account's own throttle, and writes one AlertIntegration
per platform object that no AlertIntegration manages yet: every field AlertSync
manages, `adoptionPolicy: AdoptExisting` and `deletionPolicy: Orphan`, so that
applying the export adopts each object in place and never creates or deletes one.

Exit codes: 0 everything was exported as it is; 2 something was skipped or needs a
person before applying (the summary on stderr says what); 1 an error (no such
platform, credentials missing or refused, the platform or the cluster not reachable,
the output directory not writable).
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from urllib3.exceptions import HTTPError

from alertsync.config import OperatorConfig
from alertsync.errors import AlertSyncError
from alertsync.export.cluster import ANNOTATION
from alertsync.export.exporting import Export, Exported, Left, Target, export
from alertsync.export.output import (
    OutputError,
    exit_code,
    read_reserved,
    render_json,
    render_yaml,
    summary,
    write_dir,
)
from alertsync.kube import Kube
from alertsync.models import PlatformKind
from alertsync.plan import log_warnings_to_stderr
from alertsync.plan.sources import Manifests, Sources
from alertsync.redaction import redact

__all__ = [
    "ANNOTATION",
    "Export",
    "Exported",
    "Left",
    "Target",
    "add_arguments",
    "export",
    "main",
    "run",
]

DESCRIPTION = (
    "Write an AlertIntegration for every object a platform account already has (made by "
    "hand or by Terraform) that no AlertIntegration manages yet, ready to apply: each adopts "
    "its object in place (adoptionPolicy: AdoptExisting, deletionPolicy: Orphan)."
)
EPILOG = (
    "Exit codes: 0 everything was exported; 2 something was skipped or needs attention "
    "(see the summary on stderr); 1 an error. Each manifest carries the annotation "
    f"{ANNOTATION}: <platform id>. See docs/export.md."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `alertsync export`, for the CLI's subparser."""
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.add_argument(
        "--platform",
        required=True,
        metavar="NAME",
        help="the AlertPlatform (or ClusterAlertPlatform) whose account is exported",
    )
    parser.add_argument(
        "--kind",
        choices=[kind.value for kind in PlatformKind],
        default=PlatformKind.NAMESPACED.value,
        help="the kind of --platform (default: AlertPlatform)",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="the AlertPlatform's namespace, which the AlertIntegrations are written for; "
        "with a ClusterAlertPlatform, the AlertIntegrations' namespace (default: default)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--output",
        metavar="DIR",
        type=Path,
        help="write one file per AlertIntegration and a kustomization.yaml into DIR "
        "(created if missing; existing files are kept, unchanged ones not rewritten)",
    )
    output.add_argument(
        "-o",
        "--format",
        choices=["yaml", "json"],
        default="yaml",
        help="without --output, write to stdout: a multi-document YAML stream (default) or "
        "a JSON List",
    )
    parser.add_argument(
        "--include-managed",
        action="store_true",
        help="also export objects that carry the marker of an AlertIntegration this cluster "
        "does not have (another cluster's, or one orphaned); objects an AlertIntegration of "
        "this cluster manages are never exported",
    )
    parser.add_argument(
        "--operator-namespace",
        metavar="NAMESPACE",
        default=os.environ.get("ALERTSYNC_NAMESPACE", OperatorConfig.operator_namespace),
        help="where ClusterAlertPlatform credential Secrets live (default: $ALERTSYNC_NAMESPACE "
        "or alertsync-system)",
    )


def run(args: argparse.Namespace, *, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """`alertsync export` with parsed options; writes the export, returns the exit code."""
    log_warnings_to_stderr()
    target = Target(PlatformKind(args.kind), args.platform, args.namespace)
    try:
        reserved = read_reserved(args.output, args.namespace) if args.output else []
    except OutputError as exc:
        return _error(str(exc))
    try:
        kube = Kube.connect()
    except Exception as exc:
        return _error(f"cannot reach the cluster ({exc})")
    config = OperatorConfig(operator_namespace=args.operator_namespace)
    try:
        result = asyncio.run(
            export(
                target,
                Sources(Manifests(), kube),
                config=config,
                transport=transport,
                include_managed=args.include_managed,
                reserved=reserved,
            )
        )
    except AlertSyncError as exc:
        return _error(exc.message)
    except HTTPError as exc:
        return _error(f"cannot reach the Kubernetes API: {exc}")
    finally:
        kube.api.close()
    written = None
    if args.output:
        try:
            written = write_dir(args.output, result.exported)
        except OutputError as exc:
            return _error(str(exc))
    elif args.format == "json":
        sys.stdout.write(render_json(result.exported))
    else:
        sys.stdout.write(render_yaml(result.exported))
    sys.stderr.write(summary(result, written))
    return exit_code(result)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alertsync export")
    add_arguments(parser)
    return run(parser.parse_args(argv))


def _error(message: str) -> int:
    print(f"error: {redact(message)}", file=sys.stderr)
    return 1
