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

from rich.console import Console

from govstream import __version__
from govstream.logs import configure_logging
from govstream.report.console import report_console

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_SLA_MISSED = 3

EPILOG = """exit codes: 0 ok, 1 run failed, 2 bad input (scenario or arguments),
3 a target was missed or had no data and --fail-on-sla was given"""


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
        description="Run a scenario; print the report, write result.json and summary.md.",
    )
    add_scenario_args(run)
    run.add_argument(
        "--engine", choices=("sim", "kafka"), default="sim", help="sim (embedded, default) or kafka"
    )
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    run.add_argument("--out", type=Path, help="output directory (default: runs/<scenario name>)")
    run.add_argument(
        "--fail-on-sla", action="store_true", help="exit 3 when any target is missed or has no data"
    )
    run.add_argument("--quiet", action="store_true", help="print no report, only the output paths")
    kafka = run.add_argument_group("kafka engine")
    kafka.add_argument(
        "--bootstrap",
        metavar="HOST:PORT",
        help="Kafka bootstrap servers (default: the launcher's cluster)",
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
        description="Validate a scenario; on error, name the file, the field and what is allowed.",
    )
    add_scenario_args(validate)
    validate.set_defaults(func=cmd_validate)

    flows = commands.add_parser(
        "flows",
        help="list the plan's flows with their measures and time targets",
        description="The plan's data-sharing flows, their targets, and which are implemented.",
    )
    flows.set_defaults(func=cmd_flows)

    schemas = commands.add_parser(
        "schemas",
        help="list the Avro contracts and who may read what",
        description="The topics, their Avro contracts, producers and consumers.",
    )
    schemas.add_argument("--topic", help="show the fields of one topic's contract")
    schemas.add_argument("--agency", help="show only the topics this agency may read")
    schemas.set_defaults(func=cmd_schemas)

    compare = commands.add_parser(
        "compare",
        help="compare two runs' latencies, counts and SLA verdicts",
        description="Put two runs side by side (run directories or result.json files), with "
        "the ratio of the second run's latencies to the first's.",
        epilog=EPILOG,
    )
    compare.add_argument(
        "first", type=Path, help="the baseline run: a run directory or result.json"
    )
    compare.add_argument("second", type=Path, help="the run to compare with it")
    compare.set_defaults(func=cmd_compare)

    _add_kafka_commands(commands)
    return parser


def _add_kafka_commands(commands: argparse._SubParsersAction) -> None:
    from govstream.broker.cli import add_kafka_commands
    from govstream.engines.kafka.cli import add_worker_command

    add_kafka_commands(commands)
    add_worker_command(commands)


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
    Console().print(
        f"{args.scenario}: valid — {scenario.name}, flow {scenario.flow}, "
        f"{len(scenario.agencies)} agencies, {len(scenario.targets)} targets"
    )
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from govstream.progress import delayed_progress
    from govstream.report.console import print_report
    from govstream.runner import KafkaSettings, run_scenario, with_seed, write_outputs
    from govstream.scenario.loader import ScenarioError, load_scenario

    err = Console(stderr=True)
    overrides = with_seed(args.overrides, args.seed)
    try:
        scenario = load_scenario(args.scenario, overrides)
    except ScenarioError as error:
        return _bad_input(err, _escape(str(error)))
    settings = KafkaSettings(bootstrap=args.bootstrap, workers=args.workers, speedup=args.speedup)
    started = time.monotonic()
    try:
        with delayed_progress(f"{scenario.name} on {args.engine}", err) as progress:
            result = run_scenario(
                scenario,
                scenario_file=str(args.scenario),
                overrides=overrides,
                engine=args.engine,
                progress=progress,
                kafka=settings,
            )
    except RuntimeError as error:
        err.print(f"[bold red]error[/]: {_escape(str(error))}")
        return EXIT_FAILURE
    elapsed = time.monotonic() - started
    out_dir = args.out or Path("runs") / scenario.name
    json_path, md_path = write_outputs(result, out_dir)
    console = report_console()
    if not args.quiet:
        print_report(result, console)
    console.print(f"wrote {json_path} and {md_path} ({elapsed:.1f}s wall clock)")
    if args.fail_on_sla and not result.targets_met:
        return EXIT_SLA_MISSED
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from govstream.report.compare import comparison_tables, describe, read_run
    from govstream.report.console import print_tables

    runs = []
    for path in (args.first, args.second):
        try:
            runs.append(read_run(path))
        except (OSError, ValidationError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not a govstream result"
            return _bad_input(Console(stderr=True), _escape(f"{path}: {reason}"))
    first, second = runs
    console = report_console()
    console.print(f"[bold]first[/]: {_escape(describe(first))}")
    console.print(f"[bold]second[/]: {_escape(describe(second))}")
    print_tables(comparison_tables(first, second), console)
    return EXIT_OK


def cmd_flows(args: argparse.Namespace) -> int:
    from rich.table import Table

    from govstream.plan import PLAN_FLOWS
    from processors import FLOWS

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
    for flow in PLAN_FLOWS:
        implemented = "yes" if flow.id in FLOWS else "-"
        table.add_row(flow.id, flow.measures, flow.route, flow.shared, flow.targets, implemented)
    report_console().print(table)
    return EXIT_OK


def cmd_schemas(args: argparse.Namespace) -> int:
    from rich.table import Table

    from govstream.contracts.catalog import load_catalog

    catalog = load_catalog()
    console = report_console()
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
        for field in schema["fields"]:
            table.add_row(field["name"], _type_name(field["type"]))
        console.print(table)
        console.print(
            f"written by: {', '.join(spec.producers)}; readable by: {', '.join(spec.consumers)}"
        )
        return EXIT_OK
    specs = catalog.readable_by(args.agency) if args.agency else list(catalog.topics.values())
    table = Table(title="Topics and their contracts", title_justify="left")
    for column in ("topic", "flow", "schema", "producer", "readable by", "partitions"):
        table.add_column(column)
    for spec in specs:
        table.add_row(
            spec.name,
            spec.flow,
            spec.schema_file,
            ", ".join(spec.producers),
            ", ".join(spec.consumers),
            str(spec.partitions),
        )
    console.print(table)
    console.print(f"dead-letter topic: {catalog.dead_letter_topic}")
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
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
