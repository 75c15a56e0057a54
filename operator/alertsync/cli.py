"""The `alertsync` command: run the operator, plan, ask it for a pass, print the version."""

import argparse
import logging
import os
import random
import sys
from collections.abc import Sequence
from typing import Any

import kopf

from alertsync import __version__

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alertsync", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the operator")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        help="watch this namespace (repeatable; globs allowed); default: all namespaces",
    )
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch all namespaces")
    run.add_argument(
        "--log-level",
        default=os.environ.get("ALERTSYNC_LOG_LEVEL", "info"),
        choices=["debug", "info", "warning", "error"],
    )
    run.add_argument(
        "--log-format",
        default=os.environ.get("ALERTSYNC_LOG_FORMAT", "plain"),
        choices=["plain", "json"],
    )
    run.add_argument(
        "--health",
        default="http://0.0.0.0:8080/healthz",
        help="liveness endpoint URL to serve (empty to disable)",
    )
    run.add_argument(
        "--metrics",
        default=os.environ.get("ALERTSYNC_METRICS_LISTEN", "0.0.0.0:8081"),
        help="host:port to serve Prometheus /metrics on (empty to disable)",
    )
    run.add_argument(
        "--peering",
        default=None,
        help="kopf peering name, for several replicas with one active; default: standalone",
    )
    run.add_argument(
        "--priority",
        type=int,
        default=None,
        help="this replica's peering priority (the highest is active); default: random",
    )
    reconcile = commands.add_parser(
        "reconcile", help="ask the running operator for a pass over one integration, and wait"
    )
    reconcile.add_argument("name", help="the AlertIntegration")
    reconcile.add_argument("-n", "--namespace", default="default")
    reconcile.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")
    plan = commands.add_parser(
        "plan", help="show what the operator would do for the manifests, changing nothing"
    )
    from alertsync import plan as planning  # the runtime and clients: only for this command

    planning.add_arguments(plan)
    commands.add_parser("version", help="print the version")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "version":
        print(f"alertsync {__version__}")
        return
    if args.command == "reconcile":
        raise SystemExit(_reconcile(args.namespace, args.name, args.timeout))
    if args.command == "plan":
        from alertsync import plan

        raise SystemExit(plan.run(args))
    _run(args)


def _reconcile(namespace: str, name: str, timeout: float) -> int:
    from alertsync.kube import Kube
    from alertsync.request import request_reconcile

    try:
        status = request_reconcile(Kube.connect().api, namespace, name, timeout)
    except (LookupError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    conditions: list[dict[str, Any]] = status.get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), {})
    print(
        f"{namespace}/{name}: Ready={ready.get('status', 'Unknown')} "
        f"({ready.get('reason', '-')}) {ready.get('message', '')}".rstrip()
    )
    print(
        f"  currentState={status.get('currentState')} webhookId={status.get('webhookId')} "
        f"driftCount={status.get('driftCount', 0)}"
    )
    if status.get("lastError"):
        print(f"  lastError: {status['lastError']}")
    return 0 if ready.get("status") == "True" else 2


def _run(args: argparse.Namespace) -> None:
    kopf.configure(
        debug=args.log_level == "debug",
        verbose=args.log_level in ("debug", "info"),
        quiet=args.log_level in ("warning", "error"),
        log_format=kopf.LogFormat.JSON if args.log_format == "json" else kopf.LogFormat.FULL,
    )
    logging.getLogger().setLevel(args.log_level.upper())
    # The operator's settings come from the environment (alertsync.config).
    os.environ["ALERTSYNC_METRICS_LISTEN"] = args.metrics
    # Imported here: registering the handlers is a side effect of the import.
    import alertsync.handlers  # noqa: F401

    # kopf pauses every replica that shares the top priority: replicas must differ.
    priority = args.priority if args.priority is not None else random.randint(1, 2**31 - 1)  # noqa: S311
    kopf.run(
        standalone=args.peering is None,
        peering_name=args.peering,
        priority=priority,
        namespaces=args.namespace,
        clusterwide=not args.namespace,
        liveness_endpoint=args.health or None,
    )
