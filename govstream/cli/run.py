"""`govstream run` and `govstream validate`: a scenario checked, then run on an engine."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from govstream.cli.args import (
    EPILOG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SLA_MISSED,
    add_executor_args,
    add_jobs_arg,
    add_scenario_args,
    bad_input,
    escape,
    executor_choice,
    jobs_problem,
)
from govstream.engines import DEFAULT_ENGINE, RunSettings, engine, engine_names, engine_problem
from govstream.report.console import report_console

if TYPE_CHECKING:
    from govstream.engines.stopped import RunStopped
    from govstream.scenario.model import Scenario


def add_commands(commands: argparse._SubParsersAction) -> None:
    from govstream.cli.report import add_why

    run = commands.add_parser(
        "run",
        help="run a scenario and report latencies and SLA verdicts",
        epilog=EPILOG,
        description="Run a scenario (one flow or several); print the report, write result.json, "
        "summary.md and report.html.",
    )
    add_scenario_args(run)
    run.add_argument(
        "--engine",
        choices=engine_names(),
        default=DEFAULT_ENGINE,
        help=f"the engine that runs the scenario (default: {DEFAULT_ENGINE}): "
        + "; ".join(f"{name} = {engine(name).summary}" for name in engine_names()),
    )
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's seed)")
    run.add_argument(
        "--out",
        type=Path,
        help="directory for result.json, summary.md and report.html "
        "(default: runs/<scenario name>)",
    )
    run.add_argument(
        "--fail-on-sla", action="store_true", help="exit 3 when any target is missed or has no data"
    )
    run.add_argument("--quiet", action="store_true", help="print no report, only the output paths")
    run.add_argument(
        "--replications",
        type=int,
        default=1,
        metavar="N",
        help="run N independent seeds (seed..seed+N-1) in parallel on the sim engine; report "
        "each statistic's mean and 95 %% interval, verdicts from the interval (default: 1)",
    )
    add_jobs_arg(run, "the replications")
    add_executor_args(run, "the replications")
    add_allow_large(run)
    add_why(run)
    kafka = run.add_argument_group("kafka engine")
    kafka.add_argument(
        "--bootstrap",
        metavar="HOST:PORT",
        help="Kafka bootstrap servers (default: the cluster `govstream kafka up` started)",
    )
    kafka.add_argument(
        "--workers",
        type=int,
        help="worker processes to start here (default: the scenario's kafka.workers)",
    )
    kafka.add_argument(
        "--speedup",
        type=float,
        help="business seconds per wall second (default: the scenario's kafka.speedup)",
    )
    kafka.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="AGENCY",
        help="a system outside govstream answers this agency's requests (repeatable; as "
        "agencies.AGENCY.external: true): no endpoint is run for it, and every answer is "
        "checked and reported per agency",
    )
    run.set_defaults(func=cmd_run)

    validate = commands.add_parser(
        "validate",
        help="check a scenario file without running it",
        epilog=EPILOG,
        description="Validate a scenario and list its flows, agencies and targets; on error, "
        "name the file, the field and what is allowed.",
    )
    add_scenario_args(validate)
    add_allow_large(validate)
    validate.set_defaults(func=cmd_validate)


def add_allow_large(parser: argparse.ArgumentParser) -> None:
    from govstream.scenario.estimate import LARGE_EVENTS

    parser.add_argument(
        "--allow-large",
        action="store_true",
        help=f"accept a scenario expected to make more than {LARGE_EVENTS:,} events "
        "(otherwise refused as bad input: it would run for a very long time)",
    )


def too_large(scenario: Scenario, allow_large: bool) -> str | None:
    """The refusal for a scenario whose expected event count is absurd, unless confirmed."""
    from govstream.scenario.estimate import estimate, refusal

    found = estimate(scenario)
    return refusal(found) if found.large and not allow_large else None


def cmd_validate(args: argparse.Namespace) -> int:
    from govstream.scenario.loader import ScenarioError, load_scenario

    console = Console(stderr=True)
    try:
        scenario = load_scenario(args.scenario, args.overrides)
    except ScenarioError as error:
        return bad_input(console, escape(str(error)))
    large = too_large(scenario, args.allow_large)
    if large:
        return bad_input(console, escape(f"{args.scenario}: {large}"))
    out = report_console()
    out.print(f"{args.scenario}: valid — {scenario.name}", markup=False, soft_wrap=True)
    for line in describe_scenario(scenario):
        out.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    from govstream.report.plan_targets import not_checkable_lines, unchecked_lines

    for line in [*unchecked_lines(scenario), *not_checkable_lines(scenario)]:
        out.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    return EXIT_OK


def describe_scenario(scenario: Scenario) -> list[str]:
    """The flows, agencies and targets a scenario sets, one line each."""
    from govstream.scenario.estimate import describe, estimate
    from processors import FLOWS

    flows = [f"{flow_id} ({FLOWS[flow_id].title})" for flow_id in scenario.flows]
    agencies = []
    for name, agency in scenario.agencies.items():
        desks = "".join(f", desk {f}: {d.servers}" for f, d in agency.desks.items())
        agencies.append(f"{name} ({_servers(agency.servers)}{desks})")
    targets = [f"{t.id} ({scenario.target_flow(t)} {t.of})" for t in scenario.targets]
    external = [name for name, agency in scenario.agencies.items() if agency.external]
    outside = f"external agencies {', '.join(external)} (kafka engine only: answered from outside)"
    return [
        f"flows {', '.join(scenario.flows)}",
        *(f"  {line}" for line in flows),
        f"agencies {', '.join(agencies)}",
        *([outside] if external else []),
        f"targets {', '.join(targets) or 'none'}",
        f"expected load {describe(estimate(scenario))}",
    ]


def unknown_why(scenario: Scenario, target: str | None) -> str | None:
    """`--why` names a latency target of the scenario, checked before a long run."""
    from govstream.scenario.model import LATENCY_TARGETS

    if target is None:
        return None
    wanted = target.partition("/")[0]
    latency = [t.id for t in scenario.targets if t.of in LATENCY_TARGETS]
    if wanted in latency:
        return None
    return f"--why {target}: no latency target of that id; the scenario's: " + (
        ", ".join(latency) or "none"
    )


def unknown_agency(scenario: Scenario, names: list[str]) -> str | None:
    """`--external` names agencies of the scenario, or says which it has."""
    unknown = [name for name in names if name not in scenario.agencies]
    if not unknown:
        return None
    return f"--external {unknown[0]}: not an agency of {scenario.name}; allowed: " + ", ".join(
        scenario.agencies
    )


def _servers(n: int) -> str:
    return f"{n} server" + ("" if n == 1 else "s")


def cmd_run(args: argparse.Namespace) -> int:
    from govstream.calendar.working import CalendarError
    from govstream.cli.report import print_why
    from govstream.engines.stopped import RunStopped
    from govstream.progress import delayed_progress
    from govstream.report.console import print_report
    from govstream.runner import as_overrides, run_scenario, write_outputs
    from govstream.scenario.loader import ScenarioError, load_scenario
    from govstream.studies.executors import SchedulerUnreachable

    err = Console(stderr=True)
    overrides = as_overrides(
        args.overrides, seed=args.seed, speedup=args.speedup, workers=args.workers
    )
    try:
        scenario = load_scenario(args.scenario, overrides)
        if args.external:
            unknown = unknown_agency(scenario, args.external)
            if unknown:
                return bad_input(err, escape(unknown))
            overrides += [f"agencies.{name}.external=true" for name in args.external]
            scenario = load_scenario(args.scenario, overrides)
    except ScenarioError as error:
        return bad_input(err, escape(str(error)))
    problem = jobs_problem(args.jobs)
    if problem is not None:
        return bad_input(err, problem)
    if args.replications < 1 or (args.replications > 1 and args.engine != "sim"):
        return bad_input(
            err,
            f"--replications {args.replications}: give 1 or more; several run on the sim "
            "engine only (a kafka run measures one cluster's wall clock: rerun it with --seed)",
        )
    executor = executor_choice(args)
    if isinstance(executor, str):
        return bad_input(err, escape(executor))
    if executor.kind != "processes" and args.replications < 2:
        return bad_input(
            err,
            f"--executor {executor.kind} shares out replications: give --replications 2 or "
            "more (a single run runs here)",
        )
    large = too_large(scenario, args.allow_large)
    if large:
        return bad_input(err, escape(f"{args.scenario}: {large}"))
    unknown = unknown_why(scenario, args.why)
    if unknown:
        return bad_input(err, escape(unknown))
    unfit = engine_problem(scenario, args.engine)
    if unfit:
        return bad_input(err, escape(f"{args.scenario}: {unfit}"))
    # The name is a safe slug (validated), so the default folder stays under runs/.
    out_dir = args.out or Path("runs") / scenario.name
    started = time.monotonic()
    try:
        with delayed_progress(f"{scenario.name} on {args.engine}", err) as progress:
            settings = RunSettings(
                scenario_file=str(args.scenario),
                overrides=tuple(overrides),
                progress=progress,
                bootstrap=args.bootstrap,
            )
            if args.replications > 1:
                from govstream.studies.replications import run_replications

                result = run_replications(
                    scenario,
                    args.replications,
                    scenario_file=str(args.scenario),
                    overrides=overrides,
                    progress=progress,
                    workers=args.jobs,
                    executor=executor,
                )
            else:
                result = run_scenario(scenario, settings, args.engine)
    except RunStopped as stopped:
        return _stopped(stopped, out_dir, err)
    except SchedulerUnreachable as error:
        return bad_input(err, escape(str(error)))
    except CalendarError as error:
        return bad_input(err, escape(str(error)))
    except RuntimeError as error:
        err.print(f"[bold red]error[/]: {escape(str(error))}")
        return EXIT_FAILURE
    elapsed = time.monotonic() - started
    try:
        json_path, md_path, html_path = write_outputs(result, out_dir)
    except OSError as error:
        return _unwritable(err, out_dir, error)
    if args.why:
        shown = print_why(result, args.why)
        if shown != EXIT_OK:
            return shown
        return EXIT_SLA_MISSED if args.fail_on_sla and not result.targets_met else EXIT_OK
    console = report_console()
    if not args.quiet:
        print_report(result, console)
    console.print(f"wrote {json_path}, {md_path} and {html_path} ({elapsed:.1f}s wall clock)")
    if args.fail_on_sla and not result.targets_met:
        if args.quiet:  # the report was not printed: say on stderr what failed the run
            from govstream.report.failing import failing_lines

            for line in failing_lines(result):
                err.print(line, markup=False, highlight=False, soft_wrap=True)
        return EXIT_SLA_MISSED
    return EXIT_OK


def _stopped(stopped: RunStopped, out_dir: Path, err: Console) -> int:
    """One line: why the run stopped, and where its partial result is."""
    from govstream.runner import write_outputs

    where = "nothing was measured yet"
    if stopped.partial is not None:
        try:
            json_path, md_path, html_path = write_outputs(stopped.partial, out_dir)
            where = f"partial result in {json_path}, {md_path} and {html_path} (marked incomplete)"
        except OSError as error:
            where = f"the partial result could not be written to {out_dir}: {error.strerror}"
    if stopped.interrupted:
        err.print(f"{escape(str(stopped))}: {where}", highlight=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    err.print(
        f"[bold red]error[/]: {escape(str(stopped))}; {where}", highlight=False, soft_wrap=True
    )
    return EXIT_FAILURE


def _unwritable(err: Console, out_dir: Path, error: OSError) -> int:
    reason = error.strerror or str(error)
    err.print(
        f"[bold red]error[/]: cannot write the result to {out_dir}: {escape(reason)}",
        soft_wrap=True,
    )
    return EXIT_FAILURE
