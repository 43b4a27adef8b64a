"""Avro single-object encoding: every message names its own writer schema, no registry needed.

Wire format (Avro specification, "Single-object encoding"):

    C3 01 | 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's
            Parsing Canonical Form | Avro binary body

Fingerprints are computed with fastavro over the specification's Parsing Canonical Form, so they
are the ones any other Avro implementation computes (the tests check them against the Avro
project's published vectors and the reference library). Bodies are written
and read with `fastavro`, several times faster, using schemas parsed once per codec.

Every way a message can be unusable raises its own `CodecError` subclass with a stable `reason`
code, which the engines put in the dead-letter header so a report can count failures by cause.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any, ClassVar

import avro.schema
from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint as avro_fingerprint
from fastavro.schema import to_parsing_canonical_form
from fastavro.validation import ValidationError, validate

from govstream.contracts.catalog import Catalog, UnknownTopicError, load_catalog

MARKER = b"\xc3\x01"
"""The two bytes that open every single-object encoded message."""
FINGERPRINT_LENGTH = 8
HEADER_LENGTH = len(MARKER) + FINGERPRINT_LENGTH


class CodecError(Exception):
    """A value that cannot be encoded or bytes that cannot be decoded.

    `reason` is a short, stable code meant for machines (dead-letter headers, report counters);
    the message is for people.
    """

    reason: ClassVar[str] = "codec-error"

    def __init__(self, message: str, *, topic: str | None = None) -> None:
        super().__init__(message)
        self.topic = topic


class EncodeError(CodecError):
    """The value does not satisfy the topic's schema, so it was not encoded."""

    reason = "invalid-value"


class NotSingleObjectError(CodecError):
    """Too short for the header, or not opened by the C3 01 marker."""

    reason = "not-single-object"


class UnknownFingerprintError(CodecError):
    """The writer schema's fingerprint is not one of the catalog's schemas."""

    reason = "unknown-schema"

    def __init__(self, message: str, *, fingerprint_hex: str, topic: str | None = None) -> None:
        super().__init__(message, topic=topic)
        self.fingerprint_hex = fingerprint_hex


class MalformedBodyError(CodecError):
    """The schema is known but the body does not decode with it (truncated, trailing bytes…)."""

    reason = "malformed-body"


class SchemaMismatchError(CodecError):
    """A well-formed message of a known schema, but not the schema of the topic it came on."""

    reason = "unexpected-schema"


@dataclass(frozen=True, slots=True)
class DecodedMessage:
    """A decoded message and the writer schema it named."""

    schema_name: str
    """Full name of the writer schema, e.g. govstream.f03.CompanyDeregistered."""
    fingerprint_hex: str
    """The fingerprint as it appears on the wire (little-endian), in hex."""
    value: dict[str, Any]


def canonical_form(schema: avro.schema.Schema | Mapping[str, Any] | str) -> str:
    """The specification's Parsing Canonical Form of a schema, as fastavro writes it.

    Accepts schema JSON data, schema JSON text, or a parsed `avro` schema. fastavro follows the
    specification's [PRIMITIVES] and [STRIP] rules, so `{"type": "int", "logicalType": "date"}`
    becomes `"int"` as in Java; the reference library's own `canonical_form` (avro 1.12) keeps
    such a primitive in object form and would give another fingerprint.
    """
    if isinstance(schema, avro.schema.Schema):
        data: Any = schema.to_json()
    elif isinstance(schema, str):
        data = json.loads(schema)
    else:
        data = schema
    return str(to_parsing_canonical_form(data))


def fingerprint(schema: avro.schema.Schema | Mapping[str, Any] | str) -> bytes:
    """The 8-byte CRC-64-AVRO fingerprint of a schema's canonical form, in wire order.

    fastavro returns the fingerprint's bytes in the order the single-object header carries them
    (little-endian), which the Avro project's published test vectors confirm.
    """
    return bytes.fromhex(avro_fingerprint(canonical_form(schema), "CRC-64-AVRO"))


@dataclass(frozen=True, slots=True)
class _Contract:
    """What the hot path needs about one schema, computed once."""

    schema_name: str
    fingerprint: bytes
    fingerprint_hex: str
    header: bytes
    parsed: Any


class _Sink(list[bytes]):
    """A write target that keeps fastavro's buffer as is, avoiding a BytesIO copy."""

    __slots__ = ()
    write = list.append


class AvroCodec:
    """Encodes and decodes every topic of a catalog in Avro single-object encoding.

    Stateless after construction, so one instance can be shared by all threads and agents.
    """

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog if catalog is not None else load_catalog()
        by_topic: dict[str, _Contract] = {}
        by_fingerprint: dict[bytes, _Contract] = {}
        full_text: dict[bytes, str] = {}
        for name in self.catalog.topics:
            schema = self.catalog.avro_schema(name)
            fp = fingerprint(self.catalog.schema_json(name))
            # The fingerprint ignores logical types and docs; schemas that differ only there
            # would decode ambiguously, so the catalog must not contain both.
            text = json.dumps(schema.to_json(), sort_keys=True, ensure_ascii=False)
            if full_text.setdefault(fp, text) != text:
                raise ValueError(f"different schemas share fingerprint {fp.hex()} in the catalog")
            contract = by_fingerprint.get(fp)
            if contract is None:
                contract = _Contract(
                    schema_name=schema.fullname,
                    fingerprint=fp,
                    fingerprint_hex=fp.hex(),
                    header=MARKER + fp,
                    parsed=self.catalog.parsed_schema(name),
                )
                by_fingerprint[fp] = contract
            by_topic[name] = contract
        self._by_topic = by_topic
        self._by_fingerprint = by_fingerprint

    @property
    def fingerprints(self) -> Mapping[bytes, str]:
        """Every known fingerprint and the full name of its schema."""
        return {fp: contract.schema_name for fp, contract in self._by_fingerprint.items()}

    def fingerprint_of(self, topic: str) -> bytes:
        return self._contract(topic).fingerprint

    def schema_name_of(self, topic: str) -> str:
        return self._contract(topic).schema_name

    def encode(self, topic: str, value: Mapping[str, Any]) -> bytes:
        """`value` encoded with the topic's schema, header included.

        Fields the schema does not name are refused rather than dropped: a projection that
        leaks data to a recipient is a contract violation, not something to hide.
        """
        contract = self._contract(topic)
        sink = _Sink()
        try:
            schemaless_writer(sink, contract.parsed, value, strict_allow_default=True)
        except Exception as error:
            raise EncodeError(
                f"cannot encode value for topic {topic} ({contract.schema_name}): "
                f"{_explain(value, contract.parsed, error)}",
                topic=topic,
            ) from error
        return contract.header + (sink[0] if len(sink) == 1 else b"".join(sink))

    def decode(self, data: bytes, expected_topic: str | None = None) -> DecodedMessage:
        """The message in `data`; with `expected_topic`, also checks which schema wrote it."""
        if len(data) < HEADER_LENGTH or data[:2] != MARKER:
            raise NotSingleObjectError(
                f"not an Avro single-object message: {_describe_start(data)}",
                topic=expected_topic,
            )
        fp = bytes(data[2:HEADER_LENGTH])
        contract = self._by_fingerprint.get(fp)
        if contract is None:
            raise UnknownFingerprintError(
                f"unknown writer schema fingerprint {fp.hex()}: no catalog schema has it",
                fingerprint_hex=fp.hex(),
                topic=expected_topic,
            )
        stream = BytesIO(data)
        stream.seek(HEADER_LENGTH)
        try:
            value = schemaless_reader(stream, contract.parsed, None)
        except Exception as error:
            raise MalformedBodyError(
                f"body does not decode as {contract.schema_name}: "
                f"{type(error).__name__}: {str(error) or 'unexpected end of data'}",
                topic=expected_topic,
            ) from error
        consumed = stream.tell()
        if consumed != len(data):
            raise MalformedBodyError(
                f"{len(data) - consumed} trailing bytes after a {contract.schema_name} body",
                topic=expected_topic,
            )
        if expected_topic is not None:
            expected = self._contract(expected_topic)
            if expected is not contract:
                raise SchemaMismatchError(
                    f"topic {expected_topic} carries {expected.schema_name} "
                    f"({expected.fingerprint_hex}), got {contract.schema_name} "
                    f"({contract.fingerprint_hex})",
                    topic=expected_topic,
                )
        return DecodedMessage(contract.schema_name, contract.fingerprint_hex, value)

    def _contract(self, topic: str) -> _Contract:
        try:
            return self._by_topic[topic]
        except KeyError:
            raise UnknownTopicError(topic, self._by_topic) from None


def _explain(value: Any, parsed: Any, error: Exception) -> str:
    """The validator names the offending field path, which the writer's own error may not."""
    try:
        validate(value, parsed, raise_errors=True)
    except ValidationError as invalid:
        return "; ".join(str(message) for message in invalid.errors)
    except Exception:  # the validator may choke on what the writer choked on
        pass
    return f"{type(error).__name__}: {error}"


def _describe_start(data: bytes) -> str:
    if len(data) < HEADER_LENGTH:
        return f"{len(data)} bytes, shorter than the {HEADER_LENGTH}-byte header"
    return f"starts with {bytes(data[:2]).hex()} instead of {MARKER.hex()}"
