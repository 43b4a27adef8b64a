"""Arguments several commands share, kept apart from `cli.py` so engines' commands can use
them without importing the CLI that registers those commands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


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
