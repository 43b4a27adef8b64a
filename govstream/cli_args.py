"""Arguments several commands share, kept apart from `cli.py` so engines' commands can use
them without importing the CLI that registers those commands."""

from __future__ import annotations

import argparse
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
