"""The `govstream sweep` command: argument parsing and the console, around `govstream.sweep`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console

from govstream.cli.args import (
    add_executor_args,
    add_jobs_arg,
    add_scenario_args,
    executor_choice,
    jobs_problem,
)
from govstream.report.console import escape, print_tables, report_console
from govstream.report.tables import Table
from govstream.result import RunResult

if TYPE_CHECKING:
    from govstream.studies.sweep import Vary

EXIT_OK = 0
EXIT_INTERRUPTED = 1
EXIT_BAD_INPUT = 2

EPILOG = """exit codes: 0 ok (the answer may be that no point meets every target),
1 interrupted or the cluster failed (the points done are kept; the same command resumes),
2 bad input (or a --scheduler that cannot be reached)"""


def add_commands(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="run a scenario over a grid of settings; find the least that meets every target",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a scenario at every point of a grid (--vary, one or more) on the sim "
        "engine, the same seeds at every point; print and write a table of each target's "
        "statistic and verdict per point, and the least setting at which every target is met. "
        "Finished points are kept: an interrupted sweep resumes where it stopped.",
    )
    add_scenario_args(sweep)
    sweep.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="PATH=RANGE",
        help="a setting to vary: path=from..to (whole steps, e.g. agencies.bank.servers=2..10), "
        "path=from..to:step, or path=v1,v2,v3 (repeatable: the grid is every combination)",
    )
    sweep.add_argument(
        "--replications",
        type=int,
        default=1,
        metavar="N",
        help="replications per point (seeds seed..seed+N-1), verdicts from their 95 %% "
        "interval (default: 1)",
    )
    add_jobs_arg(sweep, "the points' replications")
    add_executor_args(sweep, "the points' replications")
    sweep.add_argument(
        "--out",
        type=Path,
        help="directory for sweep.json, sweep.md, sweep.csv and each point's result.json "
        "(default: runs/<scenario name>-sweep)",
    )
    sweep.add_argument(
        "--fresh",
        action="store_true",
        help="start over, discarding the points an earlier run of this sweep kept",
    )
    sweep.set_defaults(func=cmd_sweep)


def _bad_input(message: str) -> int:
    Console(stderr=True).print(f"[bold red]error[/]: {escape(message)}", soft_wrap=True)
    return EXIT_BAD_INPUT


def cmd_sweep(args: argparse.Namespace) -> int:
    from govstream.engines import engine_problem
    from govstream.progress import delayed_progress
    from govstream.scenario.loader import ScenarioError, load_scenario
    from govstream.studies.executors import ExecutorError, SchedulerUnreachable
    from govstream.studies.sweep import (
        Interrupted,
        SweepError,
        SweepState,
        answer_text,
        grid,
        parse_vary,
        point_key,
        run_sweep,
        sweep_settings,
    )

    if args.replications < 1:
        return _bad_input(f"--replications {args.replications}: give 1 or more")
    problem = jobs_problem(args.jobs)
    if problem is not None:
        return _bad_input(problem)
    executor = executor_choice(args)
    if isinstance(executor, str):
        return _bad_input(executor)
    try:
        varies = [parse_vary(text) for text in args.vary]
        points = grid(varies)
    except SweepError as error:
        return _bad_input(str(error))
    scenarios = {}
    for point in points:
        try:
            scenarios[point] = load_scenario(args.scenario, [*args.overrides, *point])
        except ScenarioError as error:
            return _bad_input(f"at {point_key(point)}: {error}")
        unfit = engine_problem(scenarios[point], "sim")
        if unfit:
            return _bad_input(f"at {point_key(point)}: {unfit}")
    name = scenarios[points[0]].name
    out_dir = args.out or Path("runs") / f"{name}-sweep"
    settings = sweep_settings(str(args.scenario), args.overrides, varies, args.replications)
    try:
        state = SweepState(out_dir, settings, args.fresh)
    except SweepError as error:
        return _bad_input(str(error))
    console = report_console()
    kept = sum(state.done(point) for point in points)
    console.print(
        f"sweep of {escape(name)}: {len(points)} points × {args.replications} "
        f"replication{'s' if args.replications > 1 else ''} on the sim engine"
        + (f"; {kept} kept from an earlier run" if kept else ""),
        highlight=False,
    )
    started = time.monotonic()

    def on_point(point: Sequence[str], result: RunResult) -> None:
        missed = sum(1 for v in result.targets if v.met is not True)
        said = "every target met" if result.targets_met else f"{missed} not met"
        if result.unchecked_plan_targets:
            said += ", a plan target not checked"
        console.print(f"  {escape(point_key(point))}: {said}", highlight=False)

    try:
        with delayed_progress(f"sweep of {name}", Console(stderr=True)) as progress:
            run_sweep(
                points,
                scenarios,
                state,
                varies,
                replications=args.replications,
                scenario_file=str(args.scenario),
                overrides=args.overrides,
                name=name,
                on_point=on_point,
                jobs=args.jobs,
                executor=executor,
                progress=progress,
            )
    except SchedulerUnreachable as error:
        return _bad_input(str(error))
    except ExecutorError as error:
        done = sum(state.done(point) for point in points)
        Console(stderr=True).print(
            f"[bold red]error[/]: {escape(str(error))}; {done} of {len(points)} points done, "
            f"kept in {escape(str(out_dir))}: run the same command to resume",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_INTERRUPTED
    except Interrupted:
        done = sum(state.done(point) for point in points)
        Console(stderr=True).print(
            f"interrupted: {done} of {len(points)} points done, kept in {out_dir}; "
            "run the same command to resume",
            highlight=False,
        )
        return EXIT_INTERRUPTED
    records = [state.points[point_key(p)] for p in points]
    print_sweep(varies, records, console)
    console.print(f"[bold]{escape(answer_text(varies, records, len(points)))}[/]")
    elapsed = time.monotonic() - started
    console.print(
        f"wrote {out_dir / 'sweep.md'}, sweep.json, sweep.csv and points/ ({elapsed:.1f}s wall "
        "clock)",
        highlight=False,
    )
    return EXIT_OK


def print_sweep(
    varies: Sequence[Vary], records: Sequence[dict[str, Any]], console: Console
) -> None:
    """The sweep's table: a column per target where the console is wide enough for every
    value, otherwise a row per point and target."""
    from govstream.studies.sweep import sweep_rows_table, sweep_table

    wide = sweep_table(varies, records)
    print_tables(
        [wide if table_width(wide) <= console.width else sweep_rows_table(varies, records)], console
    )


def table_width(table: Table) -> int:
    """The width a table needs to show every cell on one line: each column as wide as its
    widest cell or header, with rich's borders and padding (three cells a column, one more)."""
    widths = [
        max(cell_len(text) for text in (header, *(row[i] for row in table.rows)))
        for i, header in enumerate(table.headers)
    ]
    return sum(widths) + 3 * len(widths) + 1
