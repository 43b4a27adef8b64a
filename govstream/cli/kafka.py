"""``govstream kafka up|status|down``: the launcher for people at a terminal."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from govstream.broker.config import DEFAULT_CLIENT_PORT, SUPPORTED_NODE_COUNTS
from govstream.broker.errors import BrokerError
from govstream.broker.info import ClusterInfo
from govstream.broker.launcher import DEFAULT_START_TIMEOUT_S, down, status, up
from govstream.broker.layout import default_state_dir

STATUS_RUNNING = 0
STATUS_DEGRADED = 1
"""Some node is down or not serving: the cluster may still serve, with less redundancy."""
STATUS_STOPPED = 3
"""No node runs (2 stays the code for bad input, as everywhere in govstream)."""
STATUS_EPILOG = "exit codes: 0 running (every node serving), 1 degraded (some node down), 3 stopped"


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``kafka`` and its sub-commands; each sets ``func(args) -> int`` (exit code)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where the cluster keeps config, data, logs and pid files "
        "(default: $GOVSTREAM_KAFKA_HOME or ~/.cache/govstream/cluster)",
    )
    kafka = subparsers.add_parser(
        "kafka",
        help="run a local Apache Kafka cluster (KRaft, loopback) for the kafka engine",
        description="Start, inspect and stop a local Apache Kafka cluster. The broker jars are "
        "fetched once with Maven; Java 17+ is needed. No Docker required.",
    )
    commands = kafka.add_subparsers(dest="kafka_command", metavar="COMMAND", required=True)

    start = commands.add_parser(
        "up",
        parents=[common],
        help="start a cluster in the background (or report the one already running)",
        description="Start a KRaft cluster whose nodes are each broker and controller, and wait "
        "until every broker serves clients. Data is kept between down and up. With --secure, "
        "clients authenticate with SCRAM over TLS and may do only what the catalog grants them.",
    )
    start.add_argument(
        "--nodes",
        type=int,
        choices=SUPPORTED_NODE_COUNTS,
        default=1,
        help="1 for development; 3 for replication (RF 3, min.insync.replicas 2). Default: 1",
    )
    start.add_argument(
        "--port",
        type=int,
        default=DEFAULT_CLIENT_PORT,
        help=f"client port of node 0; node i uses PORT+i, controllers PORT+100+i. "
        f"Default: {DEFAULT_CLIENT_PORT}",
    )
    start.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_START_TIMEOUT_S,
        help=f"seconds to wait for the cluster to serve. Default: {DEFAULT_START_TIMEOUT_S:.0f}",
    )
    start.add_argument(
        "--fresh",
        action="store_true",
        help="discard the data of a previous run of this cluster",
    )
    start.add_argument(
        "--secure",
        action="store_true",
        help="require SASL/SCRAM-SHA-512 over TLS and enforce the catalog's ACLs: each agency "
        "reads only its own requests; certificates and each principal's client properties are "
        "written under the state dir",
    )
    start.set_defaults(func=_cmd_up)

    show = commands.add_parser(
        "status",
        parents=[common],
        help="show which nodes run; exit code 0 running, 1 degraded, 3 stopped",
        description="Show the local cluster's nodes, their pids and ports, and its bootstrap "
        "address.",
        epilog=STATUS_EPILOG,
    )
    show.set_defaults(func=_cmd_status)

    stop = commands.add_parser(
        "down",
        parents=[common],
        help="stop every node (SIGTERM, then SIGKILL after a grace period); data is kept",
        description="Stop every node of the local cluster: SIGTERM, then SIGKILL after a grace "
        "period. Data stays for the next `up` unless it is started with --fresh.",
    )
    stop.set_defaults(func=_cmd_down)


def _cmd_up(args: argparse.Namespace) -> int:
    out = Console()
    try:
        with out.status(f"Starting {args.nodes}-node Kafka cluster…"):
            info = up(
                args.nodes,
                port=args.port,
                state_dir=args.state_dir,
                timeout=args.timeout,
                fresh=args.fresh,
                secure=args.secure,
            )
    except (BrokerError, ValueError) as exc:
        return _fail(exc)
    out.print(
        f"[green]Kafka {info.kafka_version} running[/green] "
        f"({info.nodes} node{'s' if info.nodes > 1 else ''})"
    )
    out.print(f"bootstrap: [bold]{info.bootstrap}[/bold]")
    if info.secure:
        _print_security(out, info)
    out.print(f"logs:      {info.state_dir}/node-*/kafka.log")
    out.print("stop with: govstream kafka down")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    out = Console()
    try:
        info = status(args.state_dir)
    except BrokerError as exc:
        return _fail(exc)
    if info is None:
        where = args.state_dir or default_state_dir()
        out.print(f"stopped: no Kafka cluster running (state dir {where})")
        return STATUS_STOPPED
    out.print(_node_table(info))
    verdict = "[green]running[/green]" if info.running else "[red]degraded[/red]"
    out.print(f"{verdict}  bootstrap: [bold]{info.bootstrap}[/bold]  state: {info.state_dir}")
    if info.secure:
        _print_security(out, info)
    else:
        out.print("security:  none (plaintext, no ACLs; start with --secure for SASL/TLS and ACLs)")
    return STATUS_RUNNING if info.running else STATUS_DEGRADED


def _cmd_down(args: argparse.Namespace) -> int:
    out = Console()
    try:
        with out.status("Stopping Kafka cluster…"):
            stopped = down(args.state_dir)
    except BrokerError as exc:
        return _fail(exc)
    out.print("Kafka cluster stopped" if stopped else "no Kafka cluster was running")
    return 0


def _print_security(out: Console, info: ClusterInfo) -> None:
    principals = info.security.known_principals()
    out.print("security:  SASL_SSL (SCRAM-SHA-512), StandardAuthorizer, deny unless an ACL allows")
    out.print(f"CA:        {info.security.tls.ca_certificate}")
    out.print(f"clients:   {info.security.principals_dir}/<principal>.properties")
    out.print(f"           principals: {', '.join(principals)}")


def _node_table(info: ClusterInfo) -> Table:
    table = Table(title=f"Kafka {info.kafka_version} cluster {info.cluster_id}")
    for column in ("node", "pid", "client port", "controller port", "state"):
        table.add_column(column)
    table.add_column("log", overflow="fold")
    for m in info.members:
        state = "serving" if m.alive and m.serving else "starting" if m.alive else "stopped"
        colour = {"serving": "green", "starting": "yellow", "stopped": "red"}[state]
        table.add_row(
            str(m.node_id),
            str(m.pid) if m.alive else "-",
            str(m.client_port),
            str(m.controller_port),
            f"[{colour}]{state}[/{colour}]",
            str(m.log_file),
        )
    return table


def _fail(exc: Exception) -> int:
    err = Console(stderr=True)
    err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    return 1
