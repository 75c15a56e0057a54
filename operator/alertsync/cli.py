"""The `alertsync` command: run the operator, plan, ask it for a pass, print the version."""

import argparse
import os
import random
import sys
from collections.abc import Sequence
from typing import Any

import kopf

from alertsync import __version__, logs

__all__ = ["main"]


def _cluster_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """--kubeconfig and --context, as kubectl takes them, before or after the command.

    Only the top-level parser has defaults: a subcommand's default would overwrite a
    value given before the command.
    """
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--kubeconfig",
        default=default,
        metavar="PATH",
        help="the kubeconfig file for every Kubernetes call (default: $KUBECONFIG, else "
        "~/.kube/config; in a pod with neither flag: its service account)",
    )
    parser.add_argument(
        "--context",
        default=default,
        help="the kubeconfig context to use (default: the file's current context)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alertsync", description=__doc__)
    _cluster_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True)
    _run_options(commands.add_parser("run", help="run the operator"))
    reconcile = commands.add_parser(
        "reconcile", help="ask the running operator for a pass over one integration, and wait"
    )
    _cluster_options(reconcile)
    reconcile.add_argument("name", help="the AlertIntegration")
    reconcile.add_argument("-n", "--namespace", default="default")
    reconcile.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")
    plan = commands.add_parser(
        "plan", help="show what the operator would do for the manifests, changing nothing"
    )
    from alertsync import plan as planning  # the runtime and clients: only for this command

    planning.add_arguments(plan)
    _cluster_options(plan)
    export = commands.add_parser(
        "export", help="write AlertIntegrations for what a platform already has, to adopt it"
    )
    from alertsync import export as exporting  # the runtime and clients: only for this command

    exporting.add_arguments(export)
    _cluster_options(export)
    # Makes no Kubernetes call; takes the flags so that they can be set once for any command.
    _cluster_options(commands.add_parser("version", help="print the version"))
    return parser


def _run_options(run: argparse.ArgumentParser) -> None:
    """The options of `alertsync run`: what to watch, logs, endpoints, peering."""
    _cluster_options(run)
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
        choices=logs.LEVELS,
        help="debug adds every platform request and kopf's routine lines (default: info)",
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


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "version":
        print(f"alertsync {__version__}")
        return
    if args.kubeconfig is not None or args.context is not None:
        from alertsync.kube import use_kubeconfig

        use_kubeconfig(args.kubeconfig, args.context)
    if args.command == "reconcile":
        _check_kubeconfig()
        raise SystemExit(_reconcile(args.namespace, args.name, args.timeout))
    if args.command == "plan":
        from alertsync import plan

        raise SystemExit(plan.run(args))
    if args.command == "export":
        from alertsync import export

        raise SystemExit(export.run(args))
    _run(args)


def _reconcile(namespace: str, name: str, timeout: float) -> int:
    from urllib3.exceptions import HTTPError

    from alertsync.kube import Kube
    from alertsync.request import request_reconcile

    try:
        status = request_reconcile(Kube.connect().api, namespace, name, timeout)
    except (LookupError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except HTTPError as exc:
        print(f"error: cannot reach the Kubernetes API: {exc}", file=sys.stderr)
        return 1
    conditions: list[dict[str, Any]] = status.get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), {})
    print(
        f"{namespace}/{name}: Ready={ready.get('status', 'Unknown')} "
        f"({ready.get('reason', '-')}) {ready.get('message', '')}".rstrip()
    )
    # Only what is known: a pass that could not reach the platform has no object yet.
    known = [f"{key}={status[key]}" for key in ("currentState", "webhookId") if status.get(key)]
    print("  " + " ".join([*known, f"driftCount={status.get('driftCount', 0)}"]))
    if status.get("lastError"):
        print(f"  lastError: {status['lastError']}")
    return 0 if ready.get("status") == "True" else 2


def _check_kubeconfig() -> None:
    """Exit with kubectl's kind of message when the kubeconfig or context cannot be used."""
    import kubernetes

    from alertsync.kube import client_configuration

    try:
        client_configuration()
    except kubernetes.config.ConfigException as exc:
        raise SystemExit(f"error: {exc}") from None


def _login(settings: kopf.OperatorSettings, **_: Any) -> kopf.ConnectionInfo:
    """kopf's login from the configuration `Kube.connect` uses (as kopf's login_via_client)."""
    from alertsync.kube import client_configuration

    config = client_configuration()
    # The kubernetes client keeps the bearer token as "BearerToken" (37+) or "authorization".
    header = config.get_api_key_with_prefix("BearerToken") or config.get_api_key_with_prefix(
        "authorization"
    )
    scheme, _space, token = (header or "").rpartition(" ")
    return kopf.ConnectionInfo(
        server=config.host,
        ca_path=config.ssl_ca_cert,
        insecure=not config.verify_ssl,
        username=config.username or None,
        password=config.password or None,
        scheme=scheme or None,
        token=token or None,
        certificate_path=config.cert_file,
        private_key_path=config.key_file,
        trust_env=settings.networking.trust_env,
    )


def _run(args: argparse.Namespace) -> None:
    _check_kubeconfig()
    logs.configure(args.log_level, args.log_format)
    # The operator's settings come from the environment (alertsync.config).
    os.environ["ALERTSYNC_METRICS_LISTEN"] = args.metrics
    # Imported here: registering the handlers is a side effect of the import.
    import alertsync.handlers  # noqa: F401

    if args.kubeconfig is not None or args.context is not None:
        # kopf's own logins read $KUBECONFIG's current context; with a login of ours, kopf
        # uses it alone, so its watches go where the flags say, as our own calls do.
        kopf.on.login()(_login)
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
