"""`govstream flows` and `govstream schemas`: the plan's flows and the contracts, looked up."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.console import Console

from govstream.cli.args import EXIT_OK, bad_input, escape
from govstream.report.console import report_console

if TYPE_CHECKING:
    from rich.table import Table

    from govstream.contracts.catalog import Catalog, TopicSpec

NO_FLOW_GIVEN = ""
"""What `--graph` holds when it is given without a flow id."""

LOOKUP_EPILOG = "exit codes: 0 ok, 2 bad input (an unknown flow, topic or agency)"


def add_commands(commands: argparse._SubParsersAction) -> None:
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
    schemas.add_argument(
        "--agency",
        help="show only the topics this agency may read, then those it writes (its triggers "
        "as a source, its answers on its own outcome topics); with --personal, the topics "
        "holding personal data it may read",
    )
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


def cmd_flows(args: argparse.Namespace) -> int:
    if args.graph is not None:
        return _draw_flow(args.graph)
    from rich.table import Table

    from govstream.plan.flows import plan_rows
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
    from govstream.plan.flows import plan_flow
    from govstream.report.graph import draw_flow
    from processors import FLOWS

    err = Console(stderr=True)
    implemented = ", ".join(FLOWS) or "none"
    if flow_id == NO_FLOW_GIVEN:
        return bad_input(
            err, f"--graph needs a flow id, e.g. --graph F03; implemented: {implemented}"
        )
    flow = FLOWS.get(flow_id.upper())
    if flow is None:
        planned = plan_flow(flow_id)
        if planned is not None:
            return bad_input(
                err,
                f"{planned.id} ({planned.measures}: {planned.route}) is a flow of the plan "
                f"but is not implemented yet, so it has no steps to draw; "
                f"implemented: {implemented}",
            )
        return bad_input(err, f"no flow {flow_id!r}; implemented: {implemented}")
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
            return bad_input(
                Console(stderr=True), escape(str(error.args[0] if error.args else error))
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
    if not args.agency:
        console.print(
            _topics_table(catalog, list(catalog.topics.values()), "Topics and their contracts")
        )
    else:
        read, written = catalog.readable_by(args.agency), catalog.writable_by(args.agency)
        if not read and not written:
            return bad_input(Console(stderr=True), escape(_no_such_party(catalog, args.agency)))
        if read:
            console.print(_topics_table(catalog, read, f"Topics {args.agency} may read"))
        if written:
            console.print(_topics_table(catalog, written, f"Topics {args.agency} writes"))
    console.print(f"dead-letter topic: {catalog.dead_letter_topic}")
    console.print("who may read the topics holding personal data: govstream schemas --personal")
    return EXIT_OK


def _topics_table(catalog: Catalog, specs: list[TopicSpec], title: str) -> Table:
    from rich.table import Table

    from govstream.contracts.personal import marked_fields
    from govstream.report.personal import kinds_summary

    table = Table(title=title, title_justify="left")
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
    return table


def _no_such_party(catalog: Catalog, agency: str) -> str:
    parties = sorted(
        {name for spec in catalog.topics.values() for name in (*spec.producers, *spec.consumers)}
    )
    return f"no topic is read or written by {agency!r}; readers and writers: {', '.join(parties)}"


def _schemas_json(catalog: Catalog, args: argparse.Namespace) -> int:
    import json

    from govstream.contracts.listing import catalog_data

    if args.topic:
        try:
            specs = [catalog.topic(args.topic)]
        except KeyError as error:
            return bad_input(Console(stderr=True), escape(str(error)))
    elif args.agency:
        specs, written = catalog.readable_by(args.agency), catalog.writable_by(args.agency)
        if not specs and not written:
            return bad_input(Console(stderr=True), escape(_no_such_party(catalog, args.agency)))
        data = catalog_data(catalog, specs)
        data["writes"] = catalog_data(catalog, written)["topics"]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    else:
        specs = list(catalog.topics.values())
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
