"""`govstream schemas --json`: the catalog as data for other tools (what the table shows, and
each topic's fingerprint and full schema)."""

from __future__ import annotations

from typing import Any

from govstream.contracts.catalog import Catalog, TopicSpec
from govstream.contracts.codec import fingerprint


def topic_data(catalog: Catalog, spec: TopicSpec) -> dict[str, Any]:
    schema = catalog.schema_json(spec.name)
    return {
        "topic": spec.name,
        "flow": spec.flow,
        "schema_file": spec.schema_file,
        "schema": f"{schema.get('namespace', '')}.{schema['name']}".lstrip("."),
        "fingerprint": fingerprint(schema).hex(),
        "producers": list(spec.producers),
        "consumers": list(spec.consumers),
        "key": spec.key,
        "partitions": spec.partitions,
        "definition": schema,
    }


def catalog_data(catalog: Catalog, specs: list[TopicSpec]) -> dict[str, Any]:
    return {
        "topics": [topic_data(catalog, spec) for spec in specs],
        "dead_letter": {
            "topic": catalog.dead_letter_topic,
            "partitions": catalog.dead_letter_partitions,
            "headers": list(catalog.dead_letter_headers),
        },
    }
