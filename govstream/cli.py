"""The `govstream` command.

Exit codes: 0 ok; 1 the run failed (e.g. no broker); 2 bad input (scenario, arguments);
3 `--fail-on-sla` was given and a target was missed or had no data.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from govstream import __version__
from govstream.cli_args import add_jobs_arg, add_scenario_args, jobs_problem
from govstream.engines import DEFAULT_ENGINE, RunSettings, engine, engine_names
from govstream.logs import configure_logging
from govstream.report.console import report_console

if TYPE_CHECKING:
    from govstream.contracts.catalog import Catalog
    from govstream.engines.stopped import RunStopped
    from govstream.scenario.model import Scenario

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_SLA_MISSED = 3
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command stopped with Ctrl-C."""

NO_FLOW_GIVEN = ""
"""What `--graph` holds when it is given without a flow id."""

EPILOG = """exit codes: 0 ok, 1 run failed, 2 bad input (scenario or arguments),
3 a target was missed or had no data and --fail-on-sla was given, 130 interrupted (Ctrl-C)"""
LOOKUP_EPILOG = "exit codes: 0 ok, 2 bad input (an unknown flow, topic or agency)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govstream",
        description="Simulate the Yuzhong 2021 plan's inter-agency data-sharing flows and check "
        "their latency against the plan's time targets.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"govstream {__version__}")
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("debug", "info", "warning", "error"),
        help="log level for the structured log on stderr (default: warning)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

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
    _add_allow_large(run)
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
    run.set_defaults(func=cmd_run)

    validate = commands.add_parser(
        "validate",
        help="check a scenario file without running it",
        epilog=EPILOG,
        description="Validate a scenario and list its flows, agencies and targets; on error, "
        "name the file, the field and what is allowed.",
    )
    add_scenario_args(validate)
    _add_allow_large(validate)
    validate.set_defaults(func=cmd_validate)

    flows = commands.add_parser(
        "flows",
        help="list the plan's flows, or draw one flow's step graph",
        description="The plan's data-sharing flows, their targets, and which are implemented; "
        "with --graph, one implemented flow's steps as a graph.",
        epilog=LOOKUP_EPILOG,
    )
    flows.add_argument(
        "--graph",
        nargs="?",
        const=NO_FLOW_GIVEN,
        metavar="FLOW",
        help="draw the steps of an implemented flow (e.g. --graph F03): who acts after whom, "
        "which steps are conditional or answer with data, and the spans the plan times",
    )
    flows.set_defaults(func=cmd_flows)

    schemas = commands.add_parser(
        "schemas",
        help="list the Avro contracts and who may read what",
        description="The topics (declared by the flows), their Avro contracts, producers and "
        "consumers; which topics hold personal data (marked in the contracts) and who may read "
        "them.",
        epilog=LOOKUP_EPILOG,
    )
    schemas.add_argument("--topic", help="show the fields of one topic's contract")
    schemas.add_argument("--agency", help="show only the topics this agency may read")
    schemas.add_argument(
        "--personal",
        action="store_true",
        help="show only the topics that hold personal data, what kinds, and which principals "
        "may read them on a secure cluster",
    )
    schemas.add_argument(
        "--json",
        action="store_true",
        help="print the topics as JSON (with each schema's fingerprint and definition)",
    )
    schemas.set_defaults(func=cmd_schemas)

    _add_review_commands(commands)
    _add_study_commands(commands)
    _add_kafka_commands(commands)
    return parser


def _add_study_commands(commands: argparse._SubParsersAction) -> None:
    from govstream.sweep_cli import add_sweep_command

    add_sweep_command(commands)


def _add_allow_large(parser: argparse.ArgumentParser) -> None:
    from govstream.scenario.estimate import LARGE_EVENTS

    parser.add_argument(
        "--allow-large",
        action="store_true",
        help=f"accept a scenario expected to make more than {LARGE_EVENTS:,} events "
        "(otherwise refused as bad input: it would run for a very long time)",
    )


def _too_large(scenario: Scenario, allow_large: bool) -> str | None:
    """The refusal for a scenario whose expected event count is absurd, unless confirmed."""
    from govstream.scenario.estimate import estimate, refusal

    found = estimate(scenario)
    return refusal(found) if found.large and not allow_large else None


def _add_kafka_commands(commands: argparse._SubParsersAction) -> None:
    from govstream.broker.cli import add_kafka_commands
    from govstream.engines.kafka.cli import add_worker_command

    add_kafka_commands(commands)
    add_worker_command(commands)


def _add_review_commands(commands: argparse._SubParsersAction) -> None:
    from govstream.contracts.cli import add_contracts_command
    from govstream.report.cli import add_report_command
    from govstream.report.compare_cli import add_compare_command
    from govstream.scenario.cli import add_scenario_schema_command

    add_compare_command(commands)
    add_report_command(commands)
    add_contracts_command(commands)
    add_scenario_schema_command(commands)


def _bad_input(console: Console, message: str) -> int:
    console.print(f"[bold red]error[/]: {message}", highlight=False, markup=True, soft_wrap=True)
    return EXIT_BAD_INPUT


def cmd_validate(args: argparse.Namespace) -> int:
    from govstream.scenario.loader import ScenarioError, load_scenario

    console = Console(stderr=True)
    try:
        scenario = load_scenario(args.scenario, args.overrides)
    except ScenarioError as error:
        return _bad_input(console, _escape(str(error)))
    large = _too_large(scenario, args.allow_large)
    if large:
        return _bad_input(console, _escape(f"{args.scenario}: {large}"))
    out = report_console()
    out.print(f"{args.scenario}: valid — {scenario.name}", markup=False, soft_wrap=True)
    for line in describe_scenario(scenario):
        out.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    from govstream.report.plan_targets import unchecked_lines

    for line in unchecked_lines(scenario):
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
    return [
        f"flows {', '.join(scenario.flows)}",
        *(f"  {line}" for line in flows),
        f"agencies {', '.join(agencies)}",
        f"targets {', '.join(targets) or 'none'}",
        f"expected load {describe(estimate(scenario))}",
    ]


def _servers(n: int) -> str:
    return f"{n} server" + ("" if n == 1 else "s")


def cmd_run(args: argparse.Namespace) -> int:
    from govstream.calendar import CalendarError
    from govstream.engines.stopped import RunStopped
    from govstream.progress import delayed_progress
    from govstream.report.console import print_report
    from govstream.runner import as_overrides, run_scenario, write_outputs
    from govstream.scenario.loader import ScenarioError, load_scenario

    err = Console(stderr=True)
    overrides = as_overrides(
        args.overrides, seed=args.seed, speedup=args.speedup, workers=args.workers
    )
    try:
        scenario = load_scenario(args.scenario, overrides)
    except ScenarioError as error:
        return _bad_input(err, _escape(str(error)))
    problem = jobs_problem(args.jobs)
    if problem is not None:
        return _bad_input(err, problem)
    if args.replications < 1 or (args.replications > 1 and args.engine != "sim"):
        return _bad_input(
            err,
            f"--replications {args.replications}: give 1 or more; several run on the sim "
            "engine only (a kafka run measures one cluster's wall clock: rerun it with --seed)",
        )
    large = _too_large(scenario, args.allow_large)
    if large:
        return _bad_input(err, _escape(f"{args.scenario}: {large}"))
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
                from govstream.replications import run_replications

                result = run_replications(
                    scenario,
                    args.replications,
                    scenario_file=str(args.scenario),
                    overrides=overrides,
                    progress=progress,
                    workers=args.jobs,
                )
            else:
                result = run_scenario(scenario, settings, args.engine)
    except RunStopped as stopped:
        return _stopped(stopped, out_dir, err)
    except CalendarError as error:
        return _bad_input(err, _escape(str(error)))
    except RuntimeError as error:
        err.print(f"[bold red]error[/]: {_escape(str(error))}")
        return EXIT_FAILURE
    elapsed = time.monotonic() - started
    try:
        json_path, md_path, html_path = write_outputs(result, out_dir)
    except OSError as error:
        return _unwritable(err, out_dir, error)
    console = report_console()
    if not args.quiet:
        print_report(result, console)
    console.print(f"wrote {json_path}, {md_path} and {html_path} ({elapsed:.1f}s wall clock)")
    if args.fail_on_sla and not result.targets_met:
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
        err.print(f"{_escape(str(stopped))}: {where}", highlight=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    err.print(
        f"[bold red]error[/]: {_escape(str(stopped))}; {where}", highlight=False, soft_wrap=True
    )
    return EXIT_FAILURE


def _unwritable(err: Console, out_dir: Path, error: OSError) -> int:
    reason = error.strerror or str(error)
    err.print(
        f"[bold red]error[/]: cannot write the result to {out_dir}: {_escape(reason)}",
        soft_wrap=True,
    )
    return EXIT_FAILURE


def cmd_flows(args: argparse.Namespace) -> int:
    if args.graph is not None:
        return _draw_flow(args.graph)
    from rich.table import Table

    from govstream.plan import plan_rows
    from govstream.report.plan_targets import plan_targets_table

    table = Table(
        title="The plan's information-sharing flows (渝中府办〔2021〕16号)", title_justify="left"
    )
    for column in (
        "flow",
        "measures",
        "trigger → recipients",
        "what is shared",
        "plan's time targets",
        "implemented",
    ):
        table.add_column(column)
    for row in plan_rows():
        table.add_row(*row)
    console = report_console()
    console.print(table)
    console.print(plan_targets_table())
    console.print("draw an implemented flow's steps: govstream flows --graph FLOW")
    return EXIT_OK


def _draw_flow(flow_id: str) -> int:
    from govstream.plan import plan_flow
    from govstream.report.graph import draw_flow
    from processors import FLOWS

    err = Console(stderr=True)
    implemented = ", ".join(FLOWS) or "none"
    if flow_id == NO_FLOW_GIVEN:
        return _bad_input(
            err, f"--graph needs a flow id, e.g. --graph F03; implemented: {implemented}"
        )
    flow = FLOWS.get(flow_id.upper())
    if flow is None:
        planned = plan_flow(flow_id)
        if planned is not None:
            return _bad_input(
                err,
                f"{planned.id} ({planned.measures}: {planned.route}) is a flow of the plan "
                f"but is not implemented yet, so it has no steps to draw; "
                f"implemented: {implemented}",
            )
        return _bad_input(err, f"no flow {flow_id!r}; implemented: {implemented}")
    console = report_console()
    for line in draw_flow(flow):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return EXIT_OK


def cmd_schemas(args: argparse.Namespace) -> int:
    from rich.table import Table

    from govstream.contracts.catalog import load_catalog
    from govstream.contracts.personal import marked_fields
    from govstream.report.personal import kinds_summary, personal_data_table, principal_readers

    catalog = load_catalog()
    if args.json:
        return _schemas_json(catalog, args)
    console = report_console()
    if args.personal and not args.topic:
        names = [spec.name for spec in catalog.readable_by(args.agency)] if args.agency else None
        console.print(personal_data_table(catalog, names))
        return EXIT_OK
    if args.topic:
        try:
            spec = catalog.topic(args.topic)
        except KeyError as error:
            return _bad_input(
                Console(stderr=True), _escape(str(error.args[0] if error.args else error))
            )
        schema = catalog.schema_json(spec.name)
        table = Table(
            title=f"{spec.name}: {schema['namespace']}.{schema['name']}", title_justify="left"
        )
        table.add_column("field")
        table.add_column("type")
        table.add_column("personal data")
        marked = marked_fields(schema)
        for field in schema["fields"]:
            inside = sorted(
                {marked[p] for p in marked if p.split(".")[0].rstrip("[]{}") == field["name"]}
            )
            table.add_row(field["name"], _type_name(field["type"]), ", ".join(inside))
        console.print(table)
        console.print(
            f"written by: {', '.join(spec.producers)}; readable by: {', '.join(spec.consumers)}"
        )
        if marked:
            console.print(
                f"personal data: {kinds_summary(marked)}; readable on a secure cluster by: "
                f"{', '.join(principal_readers(catalog, spec.name))}"
            )
        return EXIT_OK
    specs = catalog.readable_by(args.agency) if args.agency else list(catalog.topics.values())
    if args.agency and not specs:
        readers = sorted({name for spec in catalog.topics.values() for name in spec.consumers})
        return _bad_input(
            Console(stderr=True),
            _escape(f"no topic is readable by {args.agency!r}; readers: {', '.join(readers)}"),
        )
    table = Table(title="Topics and their contracts", title_justify="left")
    for column in ("topic", "flow", "schema", "producer", "readable by", "partitions"):
        table.add_column(column, no_wrap=column == "topic")
    table.add_column("personal data")
    for spec in specs:
        table.add_row(
            spec.name,
            spec.flow,
            spec.schema_file,
            ", ".join(spec.producers),
            ", ".join(spec.consumers),
            str(spec.partitions),
            kinds_summary(marked_fields(catalog.schema_json(spec.name))),
        )
    console.print(table)
    console.print(f"dead-letter topic: {catalog.dead_letter_topic}")
    console.print("who may read the topics holding personal data: govstream schemas --personal")
    return EXIT_OK


def _schemas_json(catalog: Catalog, args: argparse.Namespace) -> int:
    import json

    from govstream.contracts.listing import catalog_data

    if args.topic:
        try:
            specs = [catalog.topic(args.topic)]
        except KeyError as error:
            return _bad_input(Console(stderr=True), _escape(str(error)))
    else:
        specs = catalog.readable_by(args.agency) if args.agency else list(catalog.topics.values())
        if args.agency and not specs:
            return _bad_input(
                Console(stderr=True), _escape(f"no topic is readable by {args.agency!r}")
            )
    print(json.dumps(catalog_data(catalog, specs), ensure_ascii=False, indent=2))
    return EXIT_OK


def _type_name(avro_type: object) -> str:
    if isinstance(avro_type, str):
        return avro_type
    if isinstance(avro_type, list):
        return " | ".join(_type_name(t) for t in avro_type)
    if isinstance(avro_type, dict):
        kind = avro_type.get("type")
        if kind == "array":
            return f"array<{_type_name(avro_type['items'])}>"
        if avro_type.get("logicalType"):
            return f"{avro_type['logicalType']} ({kind})"
        return str(avro_type.get("name", kind))
    return str(avro_type)


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted (Ctrl-C)", highlight=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    except Exception as error:  # the last guard: a user sees one line, never a traceback
        err = Console(stderr=True)
        err.print(
            f"[bold red]error[/]: {_escape(f'{error.__class__.__name__}: {error}')} "
            "(an internal error of govstream; --log-level debug shows where it happened)",
            highlight=False,
            soft_wrap=True,
        )
        if args.log_level == "debug":
            err.print_exception()
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
