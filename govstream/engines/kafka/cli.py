"""`govstream worker`: a faust worker for a scenario's flow, on this or any other machine."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_worker_command(commands: argparse._SubParsersAction) -> None:
    from govstream.cli_args import add_scenario_args

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
    worker.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    from rich.console import Console

    from govstream.engines.kafka.worker import run_worker
    from govstream.runner import as_overrides
    from govstream.scenario.loader import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.scenario, as_overrides(args.overrides, workers=args.workers))
    except ScenarioError as error:
        Console(stderr=True).print(f"error: {error}", markup=False)
        return 2
    return run_worker(scenario, args.bootstrap, ready_file=args.ready_file)
