"""The `govstream` command: one parser, a module per group of subcommands.

Each module here registers its subcommands with `add_commands(commands)` and handles them;
they are imported when the parser is built, each importing what its commands need only when
they run, so `govstream --help` stays quick.

Exit codes: 0 ok; 1 the run failed (e.g. no broker); 2 bad input (scenario, arguments);
3 `--fail-on-sla` was given and a target was missed or had no data; 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from rich.console import Console

from govstream import __version__
from govstream.cli.args import EPILOG, EXIT_FAILURE, EXIT_INTERRUPTED, escape
from govstream.logs import LOG_FORMATS, configure_logging

COMMAND_MODULES = (
    "run",  # run, validate
    "lookup",  # flows, schemas
    "compare",
    "report",
    "contracts",
    "scenario_schema",
    "sweep",
    "kafka",  # kafka up / status / down
    "worker",
)
"""The modules of `govstream.cli` that register subcommands, in the order `--help` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govstream",
        description="Simulate the Yuzhong 2021 plan's inter-agency data-sharing flows and check "
        "their latency against the plan's time targets.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"govstream {__version__}")
    add_logging_args(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"govstream.cli.{name}").add_commands(commands)
    for command in subcommand_parsers(parser):
        add_logging_args(command, defaults=False)
    return parser


def add_logging_args(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """`--log-level` and `--log-format`, on the top-level parser and again on every
    subcommand: an error's hint says `--log-level debug`, and a user adds it at the end of the
    command they just ran. A subcommand's copy sets nothing unless given, so one given before
    the subcommand still counts."""
    parser.add_argument(
        "--log-level",
        default="warning" if defaults else argparse.SUPPRESS,
        choices=("debug", "info", "warning", "error"),
        help="log level for the structured log on stderr (default: warning); may come before "
        "or after the command",
    )
    parser.add_argument(
        "--log-format",
        default="auto" if defaults else argparse.SUPPRESS,
        choices=LOG_FORMATS,
        help="how the log on stderr is written: 'console' readable, 'json' one JSON object a "
        "line, 'auto' readable on a terminal and JSON otherwise (default: auto)",
    )


def subcommand_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every subcommand's parser, nested ones (`kafka up`, `contracts check`) included."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases share a parser
                found += [child, *subcommand_parsers(child)]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted (Ctrl-C)", highlight=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    except Exception as error:  # the last guard: a user sees one line, never a traceback
        err = Console(stderr=True)
        err.print(
            f"[bold red]error[/]: {escape(f'{error.__class__.__name__}: {error}')} "
            "(an internal error of govstream; --log-level debug shows where it happened)",
            highlight=False,
            soft_wrap=True,
        )
        if args.log_level == "debug":
            err.print_exception()
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
