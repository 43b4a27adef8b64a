"""`govstream worker`: a faust worker for a scenario's flow, on this or any other machine."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(commands: argparse._SubParsersAction) -> None:
    from govstream.cli.args import add_scenario_args

    worker = commands.add_parser(
        "worker",
        help="run a faust worker for a scenario's flows against a Kafka cluster",
        description="Start a faust worker (orchestrator, agency endpoints, wait timer) for the "
        "scenario's flows. Start more on other machines with the same scenario and bootstrap: "
        "Kafka's consumer group shares the partitions between them.",
    )
    add_scenario_args(worker)
    worker.add_argument(
        "--bootstrap", required=True, metavar="HOST:PORT", help="Kafka bootstrap servers"
    )
    worker.add_argument(
        "--workers",
        type=int,
        help="how many workers share the run in all, so each runs its share of every agency's "
        "clerks (default: the scenario's kafka.workers)",
    )
    worker.add_argument(
        "--ready-file", type=Path, help="file to create once partitions are assigned"
    )
    worker.add_argument(
        "--run-id",
        metavar="RUN",
        help="the run this worker serves, put on every line it logs beside its role ("
        "`govstream run` passes its own run id to the workers it starts); lines about a "
        "message carry the message's run, flow and case as well",
    )
    worker.add_argument(
        "--role",
        metavar="ROLE",
        help="run only one role's agents: 'platform' (orchestrator and wait timer) or an agency "
        "of the scenario (its endpoints); needed on a secure cluster, where each role connects "
        "as its own principal (default: every agent, in one app)",
    )
    worker.add_argument(
        "--client-properties",
        type=Path,
        metavar="FILE",
        help="Kafka client properties of the principal to connect as (SASL_SSL settings, as "
        "`govstream kafka up --secure` writes them under its state dir); default: those of the "
        "local secure cluster when --bootstrap is its address, else plaintext",
    )
    worker.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    from rich.console import Console

    from govstream.broker.clients import ClientConfigError
    from govstream.engines.kafka.access import Access, access_for, register, use_client_properties
    from govstream.engines.kafka.app import roles
    from govstream.engines.kafka.worker import run_worker
    from govstream.runner import as_overrides
    from govstream.scenario.loader import ScenarioError, load_scenario

    err = Console(stderr=True)
    try:
        scenario = load_scenario(args.scenario, as_overrides(args.overrides, workers=args.workers))
    except ScenarioError as error:
        err.print(f"error: {error}", markup=False)
        return 2
    allowed = roles(scenario)
    if args.role is not None and args.role not in allowed:
        err.print(f"error: --role {args.role!r}: allowed: {', '.join(allowed)}", markup=False)
        return 2
    if args.client_properties is not None:
        try:
            given = use_client_properties(args.client_properties)
        except ClientConfigError as error:
            err.print(f"error: {error}", markup=False)
            return 2
        # The file names its cluster; --bootstrap may list the same brokers another way.
        register(Access(args.bootstrap, only=given))
    if access_for(args.bootstrap).secure and args.role is None:
        err.print(
            f"error: {args.bootstrap} is a secure cluster, where each role connects as its own "
            f"principal: give --role (allowed: {', '.join(allowed)})",
            markup=False,
        )
        return 2
    return run_worker(
        scenario, args.bootstrap, ready_file=args.ready_file, role=args.role, run_id=args.run_id
    )
