"""The topic catalog: which contract each topic carries, who writes it and who may read it.

The flows declare their topics (`flow_topics`); `schemas/catalog.yaml` adds what all topics
share and the dead-letter topic. Engines, processors and reports ask this module instead of
spelling topic names or schema paths themselves, so a topic cannot exist on one engine and not
on the other. Files are read through `importlib.resources` so the catalog works the same from a
checkout, an editable install or a wheel.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from types import MappingProxyType
from typing import Any

import avro.errors
import avro.schema
import fastavro
import yaml

from processors.flow import TIMER, FlowSpec

SCHEMA_PACKAGE = "schemas"
OUTCOME_SCHEMA = "common/StepOutcome.avsc"
WAIT_SCHEMA = "common/StepWait.avsc"
COMPLETED_SCHEMA = "common/CaseCompleted.avsc"
PROGRESS_SCHEMA = "common/CaseProgress.avsc"
SCORED_SCHEMA = "common/SignalScored.avsc"
COLLECTOR = "collector"
"""The measuring instrument of a run: it reads the orchestrators' progress records and the dead
letters, nothing an agency wrote."""
CATALOG_FILE = "catalog.yaml"

SchemaJson = dict[str, Any]


class CatalogError(ValueError):
    """The catalog file or one of its schema files is not what the catalog format requires."""


class UnknownTopicError(KeyError):
    """A topic name the catalog does not declare."""

    def __init__(self, topic: str, allowed: Iterable[str]) -> None:
        self.topic = topic
        self.allowed = tuple(sorted(allowed))
        super().__init__(
            f"unknown topic {topic!r}; the catalog declares: {', '.join(self.allowed)}"
        )

    def __str__(self) -> str:
        # KeyError would quote the message as a repr; the message is meant to be read.
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic as declared in the catalog."""

    name: str
    flow: str
    schema_file: str
    """The .avsc path inside the `schemas` package, e.g. f03/CompanyDeregistered.avsc."""
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    key: str
    partitions: int
    compacted: bool = False
    """A table's topic: the broker keeps the latest value of each key, and a tombstone (a
    null value) deletes it."""


@dataclass(frozen=True, eq=False)
class Catalog:
    """All topics, the dead-letter topic, and the schema text behind each topic.

    Compared and hashed by identity: a catalog is loaded once and shared, and identity hashing
    lets codecs and engines cache per catalog.
    """

    topics: Mapping[str, TopicSpec]
    dead_letter_topic: str
    dead_letter_partitions: int
    dead_letter_headers: tuple[str, ...] = ()
    schema_sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Schema file → its JSON text, read once when the catalog is loaded."""
    _parsed: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _avro: dict[str, avro.schema.Schema] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def topic(self, name: str) -> TopicSpec:
        try:
            return self.topics[name]
        except KeyError:
            raise UnknownTopicError(name, self.topics) from None

    def topics_for_flow(self, flow: str) -> list[TopicSpec]:
        return [spec for spec in self.topics.values() if spec.flow == flow]

    def readable_by(self, agency: str) -> list[TopicSpec]:
        """Topics `agency` may consume: the catalog is also the access-control list."""
        return [spec for spec in self.topics.values() if agency in spec.consumers]

    def writable_by(self, agency: str) -> list[TopicSpec]:
        return [spec for spec in self.topics.values() if agency in spec.producers]

    @property
    def schema_files(self) -> tuple[str, ...]:
        """Each schema file once, in catalog order (several topics may share one contract)."""
        return tuple(dict.fromkeys(spec.schema_file for spec in self.topics.values()))

    def schema_json(self, topic: str) -> SchemaJson:
        """A fresh copy of the topic's schema as JSON data; callers may modify it."""
        return json.loads(self._source(topic))

    def parsed_schema(self, topic: str) -> Any:
        """The topic's schema parsed by fastavro (for the hot encode/decode path)."""
        schema_file = self.topic(topic).schema_file
        parsed = self._parsed.get(schema_file)
        if parsed is None:
            parsed = fastavro.parse_schema(json.loads(self.schema_sources[schema_file]))
            self._parsed[schema_file] = parsed
        return parsed

    def avro_schema(self, topic: str) -> avro.schema.Schema:
        """The topic's schema parsed by the reference library (fingerprints, compatibility)."""
        schema_file = self.topic(topic).schema_file
        schema = self._avro.get(schema_file)
        if schema is None:
            schema = avro.schema.parse(self.schema_sources[schema_file])
            self._avro[schema_file] = schema
        return schema

    def _source(self, topic: str) -> str:
        return self.schema_sources[self.topic(topic).schema_file]


def parse_catalog(raw: Mapping[str, Any], read_schema: Callable[[str], str]) -> Catalog:
    """Build a `Catalog` from the YAML document and a reader of schema files.

    Every schema file is read and parsed here, so a broken contract fails at start-up rather
    than at the first message that needs it.
    """
    if not isinstance(raw, Mapping) or not isinstance(raw.get("topics"), Mapping):
        raise CatalogError("catalog must be a mapping with a 'topics' mapping")
    defaults = raw.get("defaults") or {}
    topics: dict[str, TopicSpec] = {}
    sources: dict[str, str] = {}
    for name, entry in raw["topics"].items():
        spec = _topic_spec(str(name), entry, defaults)
        topics[spec.name] = spec
        if spec.schema_file not in sources:
            sources[spec.schema_file] = _read_checked(spec, read_schema)
    dead_letter = raw.get("dead_letter")
    if not isinstance(dead_letter, Mapping) or not dead_letter.get("topic"):
        raise CatalogError("catalog must declare dead_letter.topic")
    if dead_letter["topic"] in topics:
        raise CatalogError("the dead-letter topic must not also be a contract topic")
    return Catalog(
        topics=MappingProxyType(topics),
        dead_letter_topic=str(dead_letter["topic"]),
        dead_letter_partitions=_positive(
            dead_letter.get("partitions", defaults.get("partitions", 1)), "dead_letter"
        ),
        dead_letter_headers=tuple(str(h) for h in dead_letter.get("headers") or ()),
        schema_sources=MappingProxyType(sources),
    )


def _topic_spec(name: str, entry: Any, defaults: Mapping[str, Any]) -> TopicSpec:
    if not isinstance(entry, Mapping):
        raise CatalogError(f"topic {name}: entry must be a mapping")
    for required in ("flow", "schema", "producer", "consumers"):
        if not entry.get(required):
            raise CatalogError(f"topic {name}: '{required}' is missing or empty")
    return TopicSpec(
        name=name,
        flow=str(entry["flow"]),
        schema_file=str(entry["schema"]),
        producers=_names(entry["producer"]),
        consumers=_names(entry["consumers"]),
        key=str(entry.get("key", defaults.get("key", "case_id"))),
        partitions=_positive(entry.get("partitions", defaults.get("partitions", 1)), name),
        compacted=bool(entry.get("compacted", False)),
    )


def _names(value: Any) -> tuple[str, ...]:
    """The catalog writes a single producer as a scalar and several as a list."""
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def _positive(value: Any, where: str) -> int:
    number = int(value)
    if number < 1:
        raise CatalogError(f"{where}: partitions must be at least 1, got {value!r}")
    return number


def _read_checked(spec: TopicSpec, read_schema: Callable[[str], str]) -> str:
    try:
        text = read_schema(spec.schema_file)
        avro.schema.parse(text)
    except FileNotFoundError as error:
        raise CatalogError(
            f"topic {spec.name}: schema file {spec.schema_file} not found"
        ) from error
    except (ValueError, avro.errors.AvroException) as error:
        raise CatalogError(
            f"topic {spec.name}: {spec.schema_file} is not a valid schema: {error}"
        ) from error
    return text


def _read_resource(relative_path: str) -> str:
    return files(SCHEMA_PACKAGE).joinpath(*relative_path.split("/")).read_text(encoding="utf-8")


def flow_topics(flow: FlowSpec) -> dict[str, dict[str, Any]]:
    """The catalog entries a flow's declaration implies: its trigger, each step's request topic,
    its waits, each answerer's outcomes, its completions and its progress records. The flow
    module is their one source."""
    orchestrator = flow.orchestrator
    topics: dict[str, dict[str, Any]] = {
        flow.source_topic: {
            "schema": flow.source.schema,
            "producer": flow.source_agency,
            "consumers": [orchestrator],
        }
    }
    if flow.scoring is not None:
        # The scorer writes the triggers of the cases its crossings start, on the platform's
        # behalf, and reads every source's signals.
        topics[flow.source_topic]["producer"] = [flow.source_agency, flow.scorer]
        for signal in flow.scoring.signals:
            topics[signal.topic] = {
                "schema": signal.schema,
                "producer": signal.agency,
                "consumers": [flow.scorer],
                # Keyed by the entity, so one entity's signals meet in one partition, where its
                # scores are kept.
                "key": "uscc",
            }
        topics[flow.scored_topic] = {
            "schema": SCORED_SCHEMA,
            "producer": flow.scorer,
            "consumers": [COLLECTOR],
        }
    for step in flow.steps:
        if step.topic is None:
            continue
        if step.topic in topics:
            shared = topics[step.topic]
            if step.published is None or shared["schema"] != step.schema:
                raise CatalogError(f"{flow.id}: topic {step.topic} is declared by two steps")
            # A publication's subscribers all read its one compacted topic.
            if step.agency not in shared["consumers"]:
                shared["consumers"].append(step.agency)
            continue
        topics[step.topic] = {
            "schema": step.schema,
            "producer": orchestrator,
            "consumers": [step.agency],
            **({"compacted": True, "key": "uscc/record_id"} if step.published else {}),
        }
    if flow.publication is not None:
        for subscriber in flow.publication.subscribers:
            # Its checks are its own work, which only it reads; what each found it tells the
            # platform, whose books count the exposures.
            topics[subscriber.checks] = {
                "schema": flow.publication.check_schema,
                "producer": subscriber.agency,
                "consumers": [subscriber.agency],
                "key": "uscc",
            }
            topics[subscriber.uses] = {
                "schema": flow.publication.use_schema,
                "producer": subscriber.agency,
                "consumers": [orchestrator],
                "key": "uscc",
            }
        topics[flow.publication.uses_told] = {
            "schema": flow.publication.use_schema,
            "producer": orchestrator,
            "consumers": [COLLECTOR],
            "key": "uscc",
        }
    for tally in flow.tallies:
        topics[tally.topic] = {
            "schema": tally.schema,
            "producer": tally.agency,
            "consumers": [orchestrator],
            "key": "uscc",
        }
        topics[tally.counted] = {
            "schema": tally.counted_schema,
            "producer": orchestrator,
            "consumers": [COLLECTOR],
            "key": "uscc",
        }
    if flow.waits:
        topics[flow.wait_topic] = {
            "schema": WAIT_SCHEMA,
            "producer": orchestrator,
            "consumers": [f"{flow.prefix}-timer"],
        }
    for answerer, topic in flow.outcome_topics.items():
        topics[topic] = {
            "schema": OUTCOME_SCHEMA,
            # An answerer writes only its own outcome topic: on a secure cluster the broker
            # refuses an agency's answer to another agency's step.
            "producer": f"{flow.prefix}-timer" if answerer == TIMER else answerer,
            "consumers": [orchestrator],
        }
    topics[flow.completed_topic] = {
        "schema": COMPLETED_SCHEMA,
        "producer": orchestrator,
        "consumers": [flow.source_agency],
    }
    topics[flow.progress_topic] = {
        "schema": PROGRESS_SCHEMA,
        "producer": orchestrator,
        "consumers": [COLLECTOR],
    }
    for entry in topics.values():
        entry["flow"] = flow.id
        if flow.partitions is not None:
            entry["partitions"] = flow.partitions
    return topics


def catalog_document(flows: Iterable[FlowSpec]) -> dict[str, Any]:
    """catalog.yaml's defaults and dead-letter topic, with every flow's topics filled in."""
    flows = list(flows)
    raw = dict(yaml.safe_load(_read_resource(CATALOG_FILE)))
    topics: dict[str, Any] = {}
    for flow in flows:
        for name, entry in flow_topics(flow).items():
            if name in topics:
                raise CatalogError(
                    f"topic {name} is declared by {topics[name]['flow']} and {flow.id}"
                )
            topics[name] = entry
    by_id = {flow.id: flow for flow in flows}
    for flow in flows:
        # A hand-over writes the other flow's trigger where its source does: the flow's
        # orchestrator is that topic's producer as well.
        for handover in flow.handovers:
            if handover.flow in by_id:
                entry = topics[by_id[handover.flow].source_topic]
                entry["producer"] = [*_names(entry["producer"]), flow.orchestrator]
    raw["topics"] = topics
    return raw


@functools.cache
def load_catalog() -> Catalog:
    """Every discovered flow's topics, loaded once per process."""
    from processors import FLOWS

    return parse_catalog(catalog_document(FLOWS.values()), _read_resource)
