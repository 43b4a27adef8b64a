"""Decoding a message captured off a topic: the bytes as given, the schema they name, the record.

Captured messages reach a developer as a raw file (a consumer's dump) or as hex text (a log
line, a ticket); both are read. A fingerprint the catalog no longer has may be a released
version's (a message written before a change), so the released schemas are searched too.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader

from govstream.contracts.catalog import Catalog, load_catalog
from govstream.contracts.codec import (
    HEADER_LENGTH,
    MARKER,
    AvroCodec,
    CodecError,
    UnknownFingerprintError,
)
from govstream.contracts.lock import LockError, default_lock_path, read_lock
from govstream.contracts.samples import as_json

_HEX_NOISE = re.compile(r"(\\x|0x|[\s:,])", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-fA-F]*$")


class DecodeInputError(ValueError):
    """Bytes that are not a message govstream can decode, said so a person can act on it."""


def message_bytes(data: bytes, form: str = "auto") -> bytes:
    """The message itself: raw bytes as they are, hex text turned into bytes."""
    if not data.strip():
        raise DecodeInputError("no input: give a file, or pipe the message in (hex or raw)")
    if form == "raw" or (form == "auto" and data[:2] == MARKER):
        return data
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise DecodeInputError(
            f"neither a single-object message (those start with c301) nor hex text: the input "
            f"starts with {data[:4].hex()}; pass --format raw to decode it as bytes anyway"
        ) from None
    digits = _HEX_NOISE.sub("", text)
    if not _HEX.match(digits) or len(digits) % 2:
        shown = text.strip()[:24]
        raise DecodeInputError(
            f"not hex text (expected pairs of hex digits, spaces and colons allowed): "
            f"{shown!r}…; pass --format raw for a binary file"
        )
    return bytes.fromhex(digits)


def decode_message(
    data: bytes,
    form: str = "auto",
    *,
    topic: str | None = None,
    lock: Path | None = None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """The writer schema (name, fingerprint, topics, definition) and the record as JSON data."""
    catalog = catalog or load_catalog()
    codec = AvroCodec(catalog)
    message = message_bytes(data, form)
    try:
        decoded = codec.decode(message, expected_topic=topic)
    except UnknownFingerprintError as unknown:
        return _decode_released(message, unknown, lock)
    except CodecError as error:
        hint = ""
        if message[:1] in (b"{", b"["):
            hint = " (it looks like JSON, not Avro)"
        raise DecodeInputError(f"{error}{hint}") from None
    topics = [name for name in catalog.topics if codec.schema_name_of(name) == decoded.schema_name]
    definition = catalog.schema_json(topics[0]) if topics else None
    return {
        "schema": decoded.schema_name,
        "fingerprint": decoded.fingerprint_hex,
        "topics": topics,
        "released_only": False,
        "writer_schema": definition,
        "record": as_json(decoded.value),
    }


def _decode_released(
    message: bytes, unknown: UnknownFingerprintError, lock: Path | None
) -> dict[str, Any]:
    path = lock or default_lock_path()
    try:
        released = read_lock(path) if path.exists() or lock else None
    except LockError as error:
        raise DecodeInputError(
            f"{unknown}; and the released schemas cannot be read: {error}"
        ) from None
    schema = released.by_fingerprint(unknown.fingerprint_hex) if released else None
    if released is None or schema is None:
        raise DecodeInputError(
            f"{unknown} nor any released version in {path}; `govstream schemas --json` lists "
            "every fingerprint the catalog knows"
        )
    stream = BytesIO(message)
    stream.seek(HEADER_LENGTH)
    try:
        value = schemaless_reader(stream, parse_schema(schema.definition), None)
    except Exception as error:
        raise DecodeInputError(
            f"body does not decode as the released {schema.name}: {type(error).__name__}: "
            f"{error or 'unexpected end of data'}"
        ) from None
    if stream.tell() != len(message):
        raise DecodeInputError(
            f"{len(message) - stream.tell()} trailing bytes after a released {schema.name} body"
        )
    topics = sorted(t for t, f in released.topics.items() if f == schema.schema_file)
    return {
        "schema": schema.name,
        "fingerprint": schema.fingerprint,
        "topics": topics,
        "released_only": True,
        "note": "written with a released version the catalog no longer has",
        "writer_schema": schema.definition,
        "record": as_json(value),
    }
