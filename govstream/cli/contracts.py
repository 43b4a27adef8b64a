"""`govstream contracts`: the developer's contract tool.

- `check`: every topic's schema against its released version (schemas/released.lock, or a git
  ref), per topic and per field, and whether the change needs a new topic version;
- `lock`: release the current schemas (write schemas/released.lock);
- `asyncapi`: an AsyncAPI 3.0 document of every channel;
- `decode`: single-object encoded bytes (a file or stdin, hex or raw) as the schema and JSON;
- `sample`: a realistic encoded message for a topic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govstream.contracts.catalog import Catalog
    from govstream.contracts.evolution import TopicCheck

EXIT_OK, EXIT_BREAKING, EXIT_BAD_INPUT = 0, 1, 2

EPILOG = """exit codes: 0 ok, 1 a breaking change (check, lock), 2 bad input (an unknown topic or
ref, unreadable bytes, an unknown fingerprint, a missing or corrupt lock)"""

WORKFLOW = """contract workflow:
  1. edit a schema in schemas/
  2. govstream contracts check        names each changed field and its compatibility
  3. if the change breaks a direction, give the topic its next version (….v2) in the flow's
     module, so consumers move when they are ready; check again: the topic is a new version
  4. govstream contracts lock         release: record the new schemas in schemas/released.lock"""


def _add_schemas_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--schemas",
        type=Path,
        metavar="DIR",
        help="read the schema files from DIR instead of the installed schemas package "
        "(e.g. a proposed change checked out elsewhere)",
    )
    parser.add_argument(
        "--lock",
        type=Path,
        metavar="FILE",
        help="the lock file of released schemas (default: schemas/released.lock)",
    )


def add_commands(commands: argparse._SubParsersAction) -> None:
    contracts = commands.add_parser(
        "contracts",
        help="check schema changes against released versions; AsyncAPI; decode and sample",
        description="The contract tool: check every schema against its released version, "
        "release the current schemas, write an AsyncAPI 3.0 document, decode captured "
        "messages, and make sample messages.",
        epilog=f"{EPILOG}\n\n{WORKFLOW}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = contracts.add_subparsers(dest="action", metavar="ACTION", required=True)

    check = actions.add_parser(
        "check",
        help="compare every schema with its released version",
        description="Compare every topic's schema with its released version: backward, "
        "forward and full compatibility per topic, each changed field by name, and whether "
        "the change needs a new topic version. Exit 1 on a breaking change.",
        epilog=f"{EPILOG}\n\n{WORKFLOW}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--against",
        metavar="REF",
        help="compare with the schema files at this git ref (a tag, branch or commit) "
        "instead of schemas/released.lock",
    )
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    _add_schemas_options(check)
    check.set_defaults(func=cmd_check)

    lock = actions.add_parser(
        "lock",
        help="release the current schemas: write schemas/released.lock",
        description="Record every topic's current schema (fingerprint, canonical form, "
        "definition) as released. Refused while a released topic has a breaking change.",
        epilog=EPILOG,
    )
    lock.add_argument(
        "--force", action="store_true", help="write the lock even over a breaking change"
    )
    _add_schemas_options(lock)
    lock.set_defaults(func=cmd_lock)

    asyncapi = actions.add_parser(
        "asyncapi",
        help="write an AsyncAPI 3.0 document of every channel",
        description="An AsyncAPI 3.0 document of every topic: its Avro payload, producers "
        "and consumers, key, CloudEvents and trace headers.",
        epilog=EPILOG,
    )
    asyncapi.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE (default: standard output)"
    )
    asyncapi.add_argument(
        "--format", choices=("json", "yaml"), default="json", help="output format (default json)"
    )
    asyncapi.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="AGENCY",
        help="mark the operations this agency's own system must implement when a run treats it "
        "as external (repeatable)",
    )
    asyncapi.set_defaults(func=cmd_asyncapi)

    decode = actions.add_parser(
        "decode",
        help="decode a single-object encoded message (a file or stdin, hex or raw)",
        description="Read one Avro single-object encoded message and print its writer schema "
        "and the record as JSON. A fingerprint the catalog no longer has is looked up among "
        "the released versions.",
        epilog=EPILOG,
    )
    decode.add_argument(
        "input",
        nargs="?",
        default="-",
        help="a file holding the message, or - for standard input (default)",
    )
    decode.add_argument(
        "--format",
        choices=("auto", "hex", "raw"),
        default="auto",
        help="raw bytes, or hex text (spaces, colons and a 0x allowed); auto tells them "
        "apart by the C3 01 marker (default)",
    )
    decode.add_argument("--topic", help="also check that the message is the one this topic carries")
    decode.add_argument(
        "--lock", type=Path, metavar="FILE", help="released schemas to fall back on"
    )
    decode.set_defaults(func=cmd_decode)

    sample = actions.add_parser(
        "sample",
        help="print a realistic encoded message for a topic",
        description="A message of the topic as a run makes it (the flow's own source and "
        "orchestrator), single-object encoded.",
        epilog=EPILOG,
    )
    sample.add_argument("topic", help="a topic of the catalog (govstream schemas lists them)")
    sample.add_argument(
        "--format",
        choices=("hex", "raw", "json"),
        default="hex",
        help="hex of the encoded message (default), the raw bytes, or the record as JSON",
    )
    sample.add_argument("--seed", type=int, default=1, help="another seed, another case")
    sample.set_defaults(func=cmd_sample)


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _catalog(schemas: Path | None) -> Catalog:
    from govstream.contracts.catalog import catalog_document, load_catalog, parse_catalog
    from processors import FLOWS

    if schemas is None:
        return load_catalog()
    if not schemas.is_dir():
        raise ValueError(f"{schemas}: not a directory of schema files")

    def read(relative: str) -> str:
        return (schemas / relative).read_text(encoding="utf-8")

    return parse_catalog(catalog_document(FLOWS.values()), read)


def _findings(args: argparse.Namespace) -> tuple[list[TopicCheck], str]:
    from govstream.contracts.evolution import check_catalog, released_at_ref
    from govstream.contracts.lock import default_lock_path, read_lock

    catalog = _catalog(args.schemas)
    if getattr(args, "against", None):
        released = released_at_ref(catalog, args.against)
        source = f"the schema files at {args.against}"
    else:
        path = args.lock or default_lock_path()
        released = read_lock(path)
        source = f"{path} ({len(released.topics)} topics released)"
    return check_catalog(catalog, released), source


def _describe(check: TopicCheck) -> list[str]:
    direction = {True: "ok", False: "BREAKS"}
    if check.status == "unchanged":
        return []
    if check.status in ("new", "new version"):
        since = f" (next version of {check.replaces})" if check.replaces else ""
        return [f"{check.topic}: new topic{since}, fingerprint {check.fingerprint}"]
    if check.status == "retired":
        return [f"{check.topic}: retired" + "".join(f"; {m}" for m in check.messages)]
    head = (
        f"{check.topic} ({check.schema_file}): {check.compatibility} compatibility "
        f"(backward {direction[check.backward]}, forward {direction[check.forward]}); "
        f"fingerprint {check.released_fingerprint} → {check.fingerprint}"
    )
    if check.needs_new_version:
        head += f"; BREAKING: needs a new topic version, {check.next_version}"
    else:
        head += "; may go out on the same topic"
    lines = [head]
    for change in check.fields:
        verdict = change.compatibility
        lines.append(
            f"  field {change.field}: {change.change} — {verdict}"
            + (f": {change.why}" if change.why else "")
        )
    lines += [f"  {message}" for message in check.messages]
    return lines


def cmd_check(args: argparse.Namespace) -> int:
    from govstream.contracts.catalog import CatalogError
    from govstream.contracts.evolution import RefError
    from govstream.contracts.lock import LockError

    try:
        findings, source = _findings(args)
    except (LockError, RefError, CatalogError, ValueError, OSError) as error:
        return _error(str(error))
    breaking = [c for c in findings if c.needs_new_version]
    if args.json:
        print(json.dumps([_as_data(c) for c in findings], ensure_ascii=False, indent=2))
        return EXIT_BREAKING if breaking else EXIT_OK
    print(f"contracts checked against {source}")
    for check in findings:
        for line in _describe(check):
            print(line)
    counts: dict[str, int] = {}
    for check in findings:
        counts[check.status] = counts.get(check.status, 0) + 1
    print(", ".join(f"{n} {status}" for status, n in counts.items()))
    if breaking:
        print(
            f"{len(breaking)} breaking change{'s' if len(breaking) > 1 else ''}: give "
            + ", ".join(f"{c.topic} its next version ({c.next_version})" for c in breaking)
            + " in the flow's module, or make the change compatible both ways"
        )
        return EXIT_BREAKING
    return EXIT_OK


def _as_data(check: TopicCheck) -> dict[str, object]:
    return {
        "topic": check.topic,
        "schema_file": check.schema_file,
        "status": check.status,
        "compatibility": check.compatibility,
        "backward": check.backward,
        "forward": check.forward,
        "needs_new_version": check.needs_new_version,
        "next_version": check.next_version,
        "replaces": check.replaces,
        "released_fingerprint": check.released_fingerprint,
        "fingerprint": check.fingerprint,
        "fields": [
            {
                "field": f.field,
                "change": f.change,
                "compatibility": f.compatibility,
                "backward": f.backward,
                "forward": f.forward,
                "why": f.why,
            }
            for f in check.fields
        ],
        "messages": check.messages,
    }


def cmd_lock(args: argparse.Namespace) -> int:
    from govstream.contracts.catalog import CatalogError
    from govstream.contracts.evolution import check_catalog
    from govstream.contracts.lock import (
        LockError,
        default_lock_path,
        read_lock,
        released_from_catalog,
        write_lock,
    )

    path = args.lock or default_lock_path()
    try:
        catalog = _catalog(args.schemas)
        if path.exists():
            breaking = [c for c in check_catalog(catalog, read_lock(path)) if c.needs_new_version]
            if breaking and not args.force:
                names = ", ".join(c.topic for c in breaking)
                print(
                    f"error: not released: {names} changed in a way that breaks its consumers; "
                    "give each its next topic version first (govstream contracts check says "
                    "which fields), or pass --force",
                    file=sys.stderr,
                )
                return EXIT_BREAKING
    except (LockError, CatalogError, ValueError, OSError) as error:
        return _error(str(error))
    released = released_from_catalog(catalog)
    write_lock(released, path)
    print(f"released {len(released.topics)} topics ({len(released.schemas)} schemas) to {path}")
    return EXIT_OK


def cmd_asyncapi(args: argparse.Namespace) -> int:
    from govstream.contracts.asyncapi import asyncapi_document
    from govstream.contracts.catalog import load_catalog

    catalog = load_catalog()
    parties = {p for spec in catalog.topics.values() for p in (*spec.producers, *spec.consumers)}
    unknown = [name for name in args.external if name not in parties]
    if unknown:
        print(
            f"error: --external {unknown[0]}: not an agency of the catalog; allowed: "
            + ", ".join(sorted(parties)),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    document = asyncapi_document(catalog, tuple(args.external))
    if args.format == "yaml":
        import yaml

        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    else:
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: {len(document['channels'])} channels")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_decode(args: argparse.Namespace) -> int:
    from govstream.contracts.catalog import UnknownTopicError
    from govstream.contracts.decoding import DecodeInputError, decode_message

    try:
        data = sys.stdin.buffer.read() if args.input == "-" else Path(args.input).read_bytes()
    except OSError as error:
        return _error(f"{args.input}: {error.strerror}")
    try:
        decoded = decode_message(data, args.format, topic=args.topic, lock=args.lock)
    except (DecodeInputError, UnknownTopicError) as error:
        return _error(str(error))
    print(json.dumps(decoded, ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    from govstream.contracts.catalog import UnknownTopicError, load_catalog
    from govstream.contracts.codec import AvroCodec
    from govstream.contracts.samples import SampleError, json_text, sample_value

    catalog = load_catalog()
    try:
        value = sample_value(args.topic, args.seed, catalog)
    except (UnknownTopicError, SampleError) as error:
        return _error(str(error))
    if args.format == "json":
        print(json_text(value))
        return EXIT_OK
    data = AvroCodec(catalog).encode(args.topic, value)
    if args.format == "raw":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        print(data.hex())
    return EXIT_OK
