"""What several commands share: exit codes, arguments, and how bad input is reported."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console

from govstream.report.console import escape as escape

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
        "here); the results do not depend on it",
    )


def jobs_problem(jobs: int | None) -> str | None:
    """Why a `--jobs` value cannot be used, or None."""
    if jobs is not None and jobs < 1:
        return f"--jobs {jobs}: give 1 or more processes"
    return None
