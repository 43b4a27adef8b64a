"""Personal data as the contracts mark it: which fields hold it, and keeping it out of text.

A field that carries personal data says so in its schema with a custom attribute,
``{"name": "id_number", "pii": "identity-number", "type": "string"}``. Avro's parsing canonical
form keeps only what decoding needs, so the mark changes no fingerprint and no message on the
wire. Marked values never go into a log line or a dead-letter header: :func:`scrub` takes them
out of any text (an error message that quotes a record, say) before it is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from govstream.contracts.catalog import Catalog

ATTRIBUTE = "pii"
KINDS = ("name", "identity-number", "phone", "account-number", "address")
"""What a mark may say: a person's name, an identity number, a phone number, an account or
card number, an address where a person may live or be reached."""
MASK = "***"
_LONG_DIGITS = re.compile(r"\d{6,}")
"""Identity, account, card and phone numbers all run to six digits or more."""


def marked_fields(schema: Any) -> dict[str, str]:
    """Every marked field of a schema as ``path → kind``; a path names nested records' fields
    as ``party.name``, array items as ``employees[].name`` and map values as ``reply{}``."""
    found: dict[str, str] = {}
    named: dict[str, Any] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, str):
            target = named.get(node) or named.get(node.rsplit(".", 1)[-1])
            if target is not None:
                walk_record(target, path)
            return
        if isinstance(node, list):
            for branch in node:
                walk(branch, path)
            return
        if not isinstance(node, Mapping):
            return
        kind = node.get("type")
        if kind == "record":
            named[str(node["name"])] = node
            if "namespace" in node:
                named[f"{node['namespace']}.{node['name']}"] = node
            walk_record(node, path)
        elif kind == "array":
            walk(node["items"], f"{path}[]")
        elif kind == "map":
            walk(node["values"], f"{path}{{}}")
        elif isinstance(kind, dict | list):
            walk(kind, path)

    def walk_record(record: Mapping[str, Any], path: str) -> None:
        for field in record["fields"]:
            here = f"{path}.{field['name']}" if path else str(field["name"])
            if ATTRIBUTE in field:
                found[here] = str(field[ATTRIBUTE])
            walk(field["type"], here)

    walk(schema, "")
    return found


def personal_topics(catalog: Catalog) -> dict[str, dict[str, str]]:
    """Topics whose contract marks any field, with their marked fields, in catalog order."""
    topics = {name: marked_fields(catalog.schema_json(name)) for name in catalog.topics}
    return {name: fields for name, fields in topics.items() if fields}


def values_at(value: Any, path: str) -> Iterator[Any]:
    """The values found at ``path`` (in :func:`marked_fields` form) inside a decoded record."""
    steps = re.findall(r"[^.\[\]{}]+|\[\]|\{\}", path)

    def walk(node: Any, rest: list[str]) -> Iterator[Any]:
        if node is None:
            return
        if not rest:
            yield node
            return
        head, tail = rest[0], rest[1:]
        if head == "[]" and isinstance(node, list | tuple):
            for item in node:
                yield from walk(item, tail)
        elif head == "{}" and isinstance(node, Mapping):
            for item in node.values():
                yield from walk(item, tail)
        elif isinstance(node, Mapping) and head in node:
            yield from walk(node[head], tail)

    yield from walk(value, steps)


def personal_values(fields: Mapping[str, str], value: Any) -> set[str]:
    """Every string a record holds at its marked fields."""
    found: set[str] = set()
    for path in fields:
        for item in values_at(value, path):
            if isinstance(item, str) and item:
                found.add(item)
            elif isinstance(item, Mapping):  # a marked map: its values
                found.update(str(v) for v in item.values() if v)
    return found


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every given personal value, and any run of six or more digits, masked."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 2:
            text = text.replace(secret, MASK)
    return _LONG_DIGITS.sub(MASK, text)
