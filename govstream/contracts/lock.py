"""schemas/released.lock: what was released, so a schema change is checked against it.

A topic's consumers are other agencies' systems, deployed on their own schedule; what they were
built against is the released schema, not whatever the working tree holds. The lock records,
for every topic, the schema it was released with: its fingerprint and Parsing Canonical Form
(the identity every message carries) and its full definition (defaults, aliases and logical
types, which the canonical form strips but schema resolution needs to judge compatibility).

`govstream contracts lock` writes it; `govstream contracts check` compares the catalog with it.
The file is JSON, sorted, so a release shows in review as a readable diff.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from govstream.contracts.catalog import SCHEMA_PACKAGE, Catalog
from govstream.contracts.codec import canonical_form, fingerprint

LOCK_FORMAT = "govstream.released/1"
LOCK_FILE = "released.lock"


class LockError(ValueError):
    """The lock file is missing, unreadable, or was edited so it no longer adds up."""


@dataclass(frozen=True, slots=True)
class ReleasedSchema:
    """One released schema version."""

    schema_file: str
    name: str
    fingerprint: str
    """Hex, in wire order, as `govstream contracts decode` and the codec print it."""
    canonical: str
    definition: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Released:
    """Every released topic and the schema it carries."""

    topics: Mapping[str, str]
    """Topic → schema file."""
    schemas: Mapping[str, ReleasedSchema]
    """Schema file → the released schema."""

    def schema_of(self, topic: str) -> ReleasedSchema:
        return self.schemas[self.topics[topic]]

    def by_fingerprint(self, fingerprint_hex: str) -> ReleasedSchema | None:
        return next((s for s in self.schemas.values() if s.fingerprint == fingerprint_hex), None)


def default_lock_path() -> Path:
    """The lock beside the schemas (the checkout's file in an editable install)."""
    return Path(str(files(SCHEMA_PACKAGE).joinpath(LOCK_FILE)))


def released_from_catalog(catalog: Catalog) -> Released:
    """The catalog as it stands, as if released now."""
    schemas = {}
    for schema_file in catalog.schema_files:
        definition = json.loads(catalog.schema_sources[schema_file])
        canonical = canonical_form(definition)
        schemas[schema_file] = ReleasedSchema(
            schema_file=schema_file,
            name=full_name(definition),
            fingerprint=fingerprint(definition).hex(),
            canonical=canonical,
            definition=definition,
        )
    topics = {name: spec.schema_file for name, spec in catalog.topics.items()}
    return Released(topics=topics, schemas=schemas)


def lock_text(released: Released) -> str:
    document = {
        "format": LOCK_FORMAT,
        "topics": {
            topic: {
                "schema_file": schema_file,
                "fingerprint": released.schemas[schema_file].fingerprint,
            }
            for topic, schema_file in sorted(released.topics.items())
        },
        "schemas": {
            schema_file: {
                "name": schema.name,
                "fingerprint": schema.fingerprint,
                "canonical": schema.canonical,
                "definition": schema.definition,
            }
            for schema_file, schema in sorted(released.schemas.items())
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_lock(released: Released, path: Path) -> None:
    path.write_text(lock_text(released), encoding="utf-8")


def read_lock(path: Path) -> Released:
    """The lock at `path`, checked: each fingerprint is its canonical form's, and each
    canonical form is its definition's."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LockError(
            f"{path}: no released.lock; release the current schemas with `govstream contracts lock`"
        ) from None
    except (OSError, json.JSONDecodeError) as error:
        raise LockError(f"{path}: not a readable lock file: {error}") from None
    return parse_lock(document, str(path))


def parse_lock(document: Any, where: str) -> Released:
    if not isinstance(document, dict) or document.get("format") != LOCK_FORMAT:
        raise LockError(f"{where}: not a govstream lock file (format {LOCK_FORMAT} expected)")
    schemas = {}
    for schema_file, entry in (document.get("schemas") or {}).items():
        try:
            definition = entry["definition"]
            schema = ReleasedSchema(
                schema_file=schema_file,
                name=str(entry["name"]),
                fingerprint=str(entry["fingerprint"]),
                canonical=str(entry["canonical"]),
                definition=definition,
            )
        except (KeyError, TypeError) as error:
            raise LockError(f"{where}: schema {schema_file}: missing {error}") from None
        if canonical_form(definition) != schema.canonical:
            raise LockError(
                f"{where}: schema {schema_file}: its canonical form does not match its "
                "definition (edited by hand?); write the lock with `govstream contracts lock`"
            )
        if fingerprint(definition).hex() != schema.fingerprint:
            raise LockError(
                f"{where}: schema {schema_file}: fingerprint {schema.fingerprint} is not its "
                "canonical form's (edited by hand?)"
            )
        schemas[schema_file] = schema
    topics = {}
    for topic, entry in (document.get("topics") or {}).items():
        schema_file = entry.get("schema_file") if isinstance(entry, dict) else None
        if schema_file not in schemas:
            raise LockError(f"{where}: topic {topic}: schema {schema_file!r} is not in the lock")
        topics[topic] = schema_file
    return Released(topics=topics, schemas=schemas)


def full_name(definition: Mapping[str, Any]) -> str:
    name = str(definition.get("name", ""))
    namespace = definition.get("namespace")
    return f"{namespace}.{name}" if namespace and "." not in name else name
