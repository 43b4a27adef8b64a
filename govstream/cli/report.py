"""`govstream report RUN_DIR`: every rendering of a run, again, from its result.json alone."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govstream.result import RunResult

EPILOG = "exit codes: 0 ok, 2 bad input (no readable govstream result.json)"


def add_commands(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="re-render a run's summary.md and report.html from its result.json",
        description="Render every output of a run again from its result.json alone (no "
        "scenario file, no flow code needed): the console report, summary.md and report.html.",
        epilog=EPILOG,
    )
    report.add_argument(
        "run", type=Path, metavar="RUN_DIR", help="a run directory, or its result.json"
    )
    report.add_argument(
        "--out",
        type=Path,
        help="directory for summary.md and report.html (default: beside the result.json)",
    )
    report.add_argument(
        "--quiet", action="store_true", help="print no report, only the paths written"
    )
    add_why(report)
    report.set_defaults(func=cmd_report)


def add_why(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--why",
        metavar="TARGET",
        help="print only where the time of TARGET's deciding cases went, part by part, and "
        "for a miss what would have to shrink (a target id, or ID/STEP for one of its steps)",
    )


def print_why(result: RunResult, target: str) -> int:
    """`--why TARGET`: its parts alone; bad input when the run has no such latency target."""
    from rich.console import Console

    from govstream.report.console import report_console
    from govstream.report.why import why_lines

    try:
        lines = why_lines(result, target)
    except KeyError as error:
        Console(stderr=True).print(f"error: --why: {error.args[0]}", markup=False)
        return 2
    console = report_console()
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from rich.console import Console

    from govstream.report.compare import read_run
    from govstream.report.console import print_report, report_console
    from govstream.report.outputs import write_renderings
    from govstream.report.unreadable import why_unreadable

    source = args.run / "result.json" if args.run.is_dir() else args.run
    try:
        result = read_run(args.run)
    except OSError as error:
        Console(stderr=True).print(f"error: {source}: {error.strerror}", markup=False)
        return 2
    except (ValidationError, ValueError) as error:
        Console(stderr=True).print(
            f"error: {source}: not a govstream result.json ({why_unreadable(error, source)})",
            markup=False,
            soft_wrap=True,
        )
        return 2
    out_dir = args.out or source.parent
    md_path, html_path = write_renderings(result, out_dir)
    if args.why:
        return print_why(result, args.why)
    console = report_console()
    if not args.quiet:
        print_report(result, console)
    console.print(f"wrote {md_path} and {html_path} from {source}", markup=False)
    return 0
