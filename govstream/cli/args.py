"""What several commands share: exit codes, arguments, and how bad input is reported."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from govstream.report.console import escape as escape

if TYPE_CHECKING:
    from govstream.studies.executors import ExecutorChoice

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_SLA_MISSED = 3
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command stopped with Ctrl-C."""

EPILOG = """exit codes: 0 ok, 1 run failed, 2 bad input (scenario or arguments),
3 a target was missed or had no data and --fail-on-sla was given, 130 interrupted (Ctrl-C)"""


def bad_input(console: Console, message: str) -> int:
    console.print(f"[bold red]error[/]: {message}", highlight=False, markup=True, soft_wrap=True)
    return EXIT_BAD_INPUT


def add_scenario_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenario", type=Path, help="scenario YAML file, e.g. scenarios/deregistration-fanout.yaml"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a scenario field, e.g. --set agencies.bank.servers=4 (repeatable)",
    )


def add_jobs_arg(parser: argparse.ArgumentParser, what: str) -> None:
    """`--jobs N`: how many processes run `what` at once. A study on a shared machine may
    want fewer than every core; the result is the same whatever the number."""
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help=f"processes that run {what} at the same time (default: one per core, {cores} "
        "here), or with --executor dask and no --scheduler the local cluster's workers; the "
        "results do not depend on it",
    )


def add_executor_args(parser: argparse.ArgumentParser, what: str) -> None:
    """`--executor`, `--scheduler` and `--scheduler-timeout`: where `what` run. A study that
    outgrows one machine runs on a Dask cluster; the results are the same wherever it runs."""
    from govstream.studies.executors import DEFAULT_SCHEDULER_TIMEOUT, EXECUTORS, PROCESSES

    group = parser.add_argument_group("where the runs go")
    group.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=PROCESSES,
        help=f"what runs {what}: processes = worker processes on this machine (the default); "
        "dask = a Dask cluster (dask.distributed): the one at --scheduler, or without it a "
        "local cluster started on this machine's cores. The results are the same byte for "
        "byte either way",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="the Dask scheduler to send the runs to, e.g. tcp://HOST:8786 (needs --executor "
        "dask; its workers need this project installed and the scenario files)",
    )
    group.add_argument(
        "--scheduler-timeout",
        type=float,
        default=DEFAULT_SCHEDULER_TIMEOUT,
        metavar="SECONDS",
        help="how long to try reaching --scheduler before giving up with exit 2 "
        f"(default: {DEFAULT_SCHEDULER_TIMEOUT:g})",
    )


def executor_choice(args: argparse.Namespace) -> ExecutorChoice | str:
    """The executor the arguments ask for, or why they cannot be used together."""
    from govstream.studies.executors import DASK, ExecutorChoice

    if args.scheduler is not None and args.executor != DASK:
        return (
            f"--scheduler {args.scheduler} needs --executor dask (the runs go to processes on "
            f"this machine with --executor {args.executor}): add --executor dask, or leave "
            "out --scheduler"
        )
    if args.scheduler is not None and args.jobs is not None:
        return (
            f"--jobs {args.jobs} with --scheduler {args.scheduler}: a cluster given by its "
            "scheduler runs on the workers it has; --jobs sizes a local one (leave out "
            "--scheduler)"
        )
    if args.scheduler_timeout <= 0:
        return f"--scheduler-timeout {args.scheduler_timeout:g}: give more than 0 seconds"
    return ExecutorChoice(args.executor, args.scheduler, args.scheduler_timeout)


def jobs_problem(jobs: int | None) -> str | None:
    """Why a `--jobs` value cannot be used, or None."""
    if jobs is not None and jobs < 1:
        return f"--jobs {jobs}: give 1 or more processes"
    return None
