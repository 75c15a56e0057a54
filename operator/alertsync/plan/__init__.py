"""`alertsync plan -f manifests/`: what the operator would do, without doing it.

For each AlertIntegration in the manifests this runs the operator's own pass
(`alertsync.reconcile.reconcile`, through `alertsync.runtime.Runtime` for
platforms and credentials) against the real platforms, with every adapter
wrapped in a `RecordingAdapter`: reads (`observe`, `list_all`, `check`) reach
the platform, writes (`create`, `update`, `delete`, `before_delete`,
`after_write`) are only recorded, and nothing is written to Kubernetes. The
pass's outcome (what it did: created, adopted, updated which fields, and why),
its recorded writes and its conditions give each resource's line.

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
import logging
import os
import sys
from collections.abc import Sequence

import httpx

from alertsync.config import OperatorConfig
from alertsync.kube import Kube
from alertsync.redaction import RedactingFilter, redact

__all__ = [
    "NEW_ID",
    "Action",
    "ManifestError",
    "Manifests",
    "PlannedResource",
    "PlannedWrite",
    "RecordingAdapter",
    "Sources",
    "add_arguments",
    "exit_code",
    "load_manifests",
    "log_warnings_to_stderr",
    "main",
    "plan",
    "render_json",
    "render_text",
    "run",
]

from alertsync.plan.output import exit_code, render_json, render_text
from alertsync.plan.planning import PlannedResource, plan
from alertsync.plan.recording import NEW_ID, Action, PlannedWrite, RecordingAdapter
from alertsync.plan.sources import ManifestError, Manifests, Sources, load_manifests

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
    log_warnings_to_stderr()
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


def log_warnings_to_stderr() -> None:
    """Warnings to stderr, redacted, in a bare process; an embedding program keeps its own."""
    root = logging.getLogger()
    if root.handlers:
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        handler.addFilter(RedactingFilter())
