"""`govstream scenario-schema`: the scenario file's JSON Schema, for editors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_commands(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "scenario-schema",
        help="print the JSON Schema of scenario files (for editors)",
        description="The JSON Schema of a scenario file, generated from the scenario model, so "
        "an editor can check and complete scenarios as they are written (e.g. a first line "
        "'# yaml-language-server: $schema=scenario.schema.json'). `govstream validate` checks "
        "what the schema cannot: steps of the flow, agencies the flows reach, measures.",
        epilog="exit codes: 0 ok",
    )
    command.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE (default: standard output)"
    )
    command.set_defaults(func=cmd_scenario_schema)


def scenario_schema_text() -> str:
    from govstream.scenario.json_schema import scenario_json_schema

    return json.dumps(scenario_json_schema(), ensure_ascii=False, indent=2) + "\n"


def cmd_scenario_schema(args: argparse.Namespace) -> int:
    text = scenario_schema_text()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0
