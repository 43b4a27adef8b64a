"""Schema evolution checks, using the reference library's reader/writer rules.

A contract may change only in ways its readers survive; checks run in tests and before a new
schema version is added to the catalog. The Confluent vocabulary is used because it is what
people who run Kafka already know:

- backward: consumers on the new schema can read data written with the old one;
- forward: consumers still on the old schema can read data written with the new one;
- full: both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

SchemaLike = avro.schema.Schema | Mapping[str, Any] | str


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """Whether a reader can read a writer's data, and if not, why (one message per problem)."""

    compatible: bool
    messages: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.compatible


def check(reader_schema_json: SchemaLike, writer_schema_json: SchemaLike) -> CompatibilityResult:
    """Can data written with the writer schema be read with the reader schema?"""
    reader = _parse(reader_schema_json)
    writer = _parse(writer_schema_json)
    # A fresh checker each time: it memoises pairs, and stale entries must not leak across checks.
    result = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
    compatible = result.compatibility is SchemaCompatibilityType.compatible
    messages: list[str] = []
    if not compatible:
        # The library merges problems into sets, so kinds and places are reported per check.
        kinds = ", ".join(sorted({kind.value for kind in result.incompatibilities}))
        places = sorted(loc for loc in result.locations if loc != "/") or ["/"]
        where = ", ".join(places)
        messages = [f"{message} ({kinds}; at {where})" for message in sorted(result.messages)]
    return CompatibilityResult(compatible, messages)


def check_backward(new: SchemaLike, old: SchemaLike) -> CompatibilityResult:
    """New readers, old data."""
    return check(new, old)


def check_forward(new: SchemaLike, old: SchemaLike) -> CompatibilityResult:
    """Old readers, new data."""
    return check(old, new)


def check_full(new: SchemaLike, old: SchemaLike) -> CompatibilityResult:
    """Both directions; messages from each direction are prefixed with it."""
    backward = check_backward(new, old)
    forward = check_forward(new, old)
    messages = [f"backward: {m}" for m in backward.messages]
    messages += [f"forward: {m}" for m in forward.messages]
    return CompatibilityResult(backward.compatible and forward.compatible, messages)


def _parse(schema: SchemaLike) -> avro.schema.Schema:
    if isinstance(schema, avro.schema.Schema):
        return schema
    return avro.schema.parse(schema if isinstance(schema, str) else json.dumps(schema))
