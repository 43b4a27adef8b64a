"""`govstream compare`: two runs side by side, and a gate a pipeline can fail on.

Exit codes: 0 compared (no threshold crossed); 2 bad input (not a result, a threshold that
cannot be read or names what the runs lack, runs of different flows without
--allow-different-flows); 3 a --fail-if threshold was crossed, or --fail-on-new-miss was given
and a target met in the first run was not met in the second.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """exit codes: 0 ok, 2 bad input (not a run, an unreadable threshold, a metric the runs
do not both have, runs of different flows without --allow-different-flows), 3 a --fail-if
threshold was crossed (or --fail-on-new-miss and a target newly missed)

thresholds: [wd:]METRIC.STAT OP CHANGE
  'F03/case.p90 > +10%'      the case's p90 grew by more than 10 %
  'case.p90 > 1.5x'          ... to more than 1.5 times (F03/ implied when one flow is shared)
  'wait:bank.p99 > 2h'       the bank's wait p99 in the second run is over 2 hours
  'F03/acted:bank.p99 > +1d' grew by more than a day
  'wd:F03/case.p99 > +0.5wd' grew by more than half a working day
  'F03/case.count < -5%'     five per cent fewer cases completed
STAT: count mean p50 p90 p99 p99.9 max; OP: > >= < <="""

EXIT_OK, EXIT_BAD_INPUT, EXIT_GATE = 0, 2, 3


def add_commands(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser(
        "compare",
        help="compare two runs' latencies, counts and SLA verdicts; fail on thresholds",
        description="Put two runs side by side (run directories or result.json files): the "
        "verdicts that changed first, the inputs that differ, then counts and latencies in "
        "clock time and working days with the ratio of the second run to the first. With "
        "--fail-if, a gate: exit 3 when a threshold is crossed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    compare.add_argument(
        "first", type=Path, help="the baseline run: a run directory or result.json"
    )
    compare.add_argument("second", type=Path, help="the run to compare with it")
    compare.add_argument(
        "--fail-if",
        action="append",
        default=[],
        metavar="THRESHOLD",
        help="exit 3 when the second run crosses this threshold, e.g. 'F03/case.p90 > +10%%' "
        "(repeatable; syntax below)",
    )
    compare.add_argument(
        "--fail-on-new-miss",
        action="store_true",
        help="exit 3 when a target met in the first run is missed or has no data in the second",
    )
    compare.add_argument(
        "--html", type=Path, metavar="FILE", help="also write the comparison as an HTML page"
    )
    compare.add_argument(
        "--allow-different-flows",
        action="store_true",
        help="compare runs that simulate different flows (refused otherwise): only the flows "
        "both ran are compared",
    )
    compare.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from rich.console import Console

    from govstream.report.compare import (
        describe,
        gate_tables,
        newly_failing,
        read_run,
        run_warnings,
    )
    from govstream.report.console import escape, print_tables, report_console
    from govstream.report.gate import ThresholdError, evaluate, parse_threshold, thresholds_table
    from govstream.report.tables import condition_text
    from govstream.report.unreadable import why_unreadable

    err = Console(stderr=True)

    def bad_input(message: str) -> int:
        err.print(f"[bold red]error[/]: {escape(message)}", soft_wrap=True)
        return EXIT_BAD_INPUT

    runs = []
    for path in (args.first, args.second):
        try:
            runs.append(read_run(path))
        except OSError as error:
            return bad_input(f"{path}: {error.strerror}")
        except (ValidationError, ValueError) as error:
            source = path / "result.json" if path.is_dir() else path
            return bad_input(f"{source}: not a govstream result ({why_unreadable(error, source)})")
    first, second = runs
    if first.flow_ids != second.flow_ids and not args.allow_different_flows:
        return bad_input(
            f"the runs simulate different flows (first: {', '.join(first.flow_ids)}; second: "
            f"{', '.join(second.flow_ids)}), so their figures answer different questions; "
            "compare runs of the same flows, or pass --allow-different-flows to compare what "
            "they share"
        )
    try:
        crossings = [evaluate(parse_threshold(text), first, second) for text in args.fail_if]
    except ThresholdError as error:
        return bad_input(str(error))

    warnings = run_warnings(first, second)
    tables = gate_tables(first, second)
    if crossings:
        tables.insert(1, thresholds_table(crossings))
    failures = [f"crossed: {c.statement}" for c in crossings if c.crossed]
    if args.fail_on_new_miss:
        failures += [
            f"newly not met: {v.flow} {v.id} ({condition_text(v)})"
            for v in newly_failing(first, second)
        ]

    console = report_console()
    console.print(f"[bold]first[/]: {escape(describe(first))}")
    console.print(f"[bold]second[/]: {escape(describe(second))}")
    for warning in warnings:
        console.print(f"[bold red]WARNING[/]: [bold]{escape(warning)}[/]", soft_wrap=True)
    shown = [table for table in tables if table.rows or table.title != "Verdict changes"]
    if len(shown) < len(tables):  # an empty table's borders say less than one line
        console.print("no verdict changed: every target has the same verdict in both runs")
    print_tables(shown, console)
    if args.html:
        from govstream.report.compare_html import render_comparison

        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(
            render_comparison(first, second, tables, warnings, failures), encoding="utf-8"
        )
        console.print(f"wrote {escape(str(args.html))}")
    for failure in failures:
        console.print(f"[bold red]FAILED[/] {escape(failure)}", soft_wrap=True)
    if failures:
        return EXIT_GATE
    if crossings:
        console.print(f"[green]{held_text(len(crossings))}[/]")
    return EXIT_OK


def held_text(count: int) -> str:
    """`the 1 threshold held`, `all 3 thresholds held`."""
    return "the 1 threshold held" if count == 1 else f"all {count} thresholds held"
