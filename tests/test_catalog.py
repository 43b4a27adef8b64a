"""The catalog: every topic has a contract, an owner and readers; each agency reads only its own.

The topics are derived from the flows, so the generic tests rebuild what each flow's
declaration implies (its trigger, one request topic per agency step, outcomes, waits,
completions) and compare it with the catalog the engines load.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import avro.schema
import fastavro
import pytest
import yaml
from expected_topics import REQUEST_TOPICS

from govstream.contracts.catalog import (
    COMPLETED_SCHEMA,
    OUTCOME_SCHEMA,
    WAIT_SCHEMA,
    Catalog,
    CatalogError,
    TopicSpec,
    UnknownTopicError,
    catalog_document,
    flow_topics,
    load_catalog,
    parse_catalog,
)
from processors import FLOWS, flow
from processors.flow import FlowSpec, Step

ALL_AGENCIES = sorted({agency for spec in FLOWS.values() for agency in spec.agencies})


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(files("schemas").joinpath("catalog.yaml").read_text("utf-8"))


def agency_steps(spec: FlowSpec) -> list[Step]:
    return [step for step in spec.steps if not step.is_wait]


def expected_topics(spec: FlowSpec) -> set[str]:
    """What the flow declares, spelt out from its parts rather than from `flow_topics`."""
    names = {spec.source_topic, spec.outcome_topic, spec.completed_topic}
    names |= {str(step.topic) for step in agency_steps(spec)}
    if spec.waits:
        names.add(spec.wait_topic)
    return names


# -- every flow -----------------------------------------------------------------------------


def test_catalog_holds_exactly_the_flows_topics(catalog: Catalog, flow_spec: FlowSpec) -> None:
    mine = {topic.name for topic in catalog.topics_for_flow(flow_spec.id)}
    assert mine == expected_topics(flow_spec) == set(flow_topics(flow_spec))
    # One topic per agency step: no two steps share a request topic.
    assert len({step.topic for step in agency_steps(flow_spec)}) == len(agency_steps(flow_spec))


def test_source_topic_is_written_by_the_source_and_read_by_the_orchestrator(
    catalog: Catalog, flow_spec: FlowSpec
) -> None:
    source = catalog.topic(flow_spec.source_topic)
    assert source.producers == (flow_spec.source_agency,)
    assert source.consumers == (flow_spec.orchestrator,)
    assert source.schema_file == flow_spec.source.schema


def test_each_agency_step_topic_is_read_by_that_agency_alone(
    catalog: Catalog, flow_spec: FlowSpec
) -> None:
    for step in agency_steps(flow_spec):
        spec = catalog.topic(str(step.topic))
        assert spec.consumers == (step.agency,), step.id
        assert spec.producers == (flow_spec.orchestrator,), step.id
        assert spec.schema_file == step.schema
        assert spec.flow == flow_spec.id


def test_outcome_wait_and_completion_topics(catalog: Catalog, flow_spec: FlowSpec) -> None:
    orchestrator = flow_spec.orchestrator
    outcome = catalog.topic(flow_spec.outcome_topic)
    timer = f"{flow_spec.prefix}-timer"
    acting = list(flow_spec.agencies) + ([timer] if flow_spec.waits else [])
    assert sorted(outcome.producers) == sorted(acting)
    assert outcome.consumers == (orchestrator,)
    assert outcome.schema_file == OUTCOME_SCHEMA
    completed = catalog.topic(flow_spec.completed_topic)
    assert completed.producers == (orchestrator,)
    assert completed.consumers == (flow_spec.source_agency,)
    assert completed.schema_file == COMPLETED_SCHEMA
    if flow_spec.waits:
        wait = catalog.topic(flow_spec.wait_topic)
        assert (wait.producers, wait.consumers) == ((orchestrator,), (timer,))
        assert wait.schema_file == WAIT_SCHEMA
    else:
        assert flow_spec.wait_topic not in catalog.topics


def test_every_schema_of_the_flow_parses(catalog: Catalog, flow_spec: FlowSpec) -> None:
    for spec in catalog.topics_for_flow(flow_spec.id):
        resource = files("schemas").joinpath(*spec.schema_file.split("/"))
        assert resource.is_file(), spec.schema_file
        data = json.loads(resource.read_text("utf-8"))
        assert avro.schema.parse(json.dumps(data)).type == "record"
        fastavro.parse_schema(data)
        assert catalog.schema_json(spec.name) == data
        assert catalog.avro_schema(spec.name).fullname.endswith("." + data["name"])
        assert catalog.parsed_schema(spec.name)["name"] == catalog.avro_schema(spec.name).fullname


def test_request_schemas_open_with_request_and_case_ids(
    catalog: Catalog, flow_spec: FlowSpec
) -> None:
    """The orchestrator puts these two first in every request; the contract must agree."""
    topics = [str(step.topic) for step in agency_steps(flow_spec)]
    if flow_spec.waits:
        topics.append(flow_spec.wait_topic)
    for topic in topics:
        fields = catalog.schema_json(topic)["fields"]
        assert [(f["name"], f["type"]) for f in fields[:2]] == [
            ("request_id", "string"),
            ("case_id", "string"),
        ], topic


def test_topics_are_keyed_by_case(catalog: Catalog, flow_spec: FlowSpec) -> None:
    for spec in catalog.topics_for_flow(flow_spec.id):
        assert spec.key == "case_id"
        assert spec.partitions >= 1
        if flow_spec.partitions is not None:
            assert spec.partitions == flow_spec.partitions


# -- every agency, whatever flows reach it --------------------------------------------------


@pytest.mark.parametrize("agency", ALL_AGENCIES)
def test_agency_reads_only_its_own_request_topics(catalog: Catalog, agency: str) -> None:
    """The catalog is the access-control list: an agency's steps, and its own flows' ends."""
    steps = {str(s.topic) for spec in FLOWS.values() for s in spec.steps_of(agency)}
    completions = {s.completed_topic for s in FLOWS.values() if s.source_agency == agency}
    assert {spec.name for spec in catalog.readable_by(agency)} == steps | completions
    outcomes = {s.outcome_topic for s in FLOWS.values() if agency in s.agencies}
    sources = {s.source_topic for s in FLOWS.values() if s.source_agency == agency}
    assert {spec.name for spec in catalog.writable_by(agency)} == outcomes | sources


def test_catalog_is_every_flows_topics_and_nothing_else(catalog: Catalog) -> None:
    expected = set().union(*(expected_topics(spec) for spec in FLOWS.values()))
    assert set(catalog.topics) == expected
    assert set(catalog.topics) == set(catalog_document(FLOWS.values())["topics"])
    assert all(isinstance(spec, TopicSpec) for spec in catalog.topics.values())
    assert {spec.flow for spec in catalog.topics.values()} == set(FLOWS)


# -- F03 and F10: their recipients' topics as the plan names them ---------------------------


@pytest.mark.parametrize(
    ("flow_id", "step", "topic"),
    [(f, step, topic) for f, steps in REQUEST_TOPICS.items() for step, topic in steps.items()],
)
def test_f03_and_f10_recipients_read_the_topics_written_out(
    catalog: Catalog, flow_id: str, step: str, topic: str
) -> None:
    spec = flow(flow_id)
    assert spec.step(step).topic == topic
    assert catalog.topic(topic).consumers == (spec.step(step).agency,)
    assert [s.id for s in spec.steps] == list(REQUEST_TOPICS[flow_id])


# -- derivation errors ----------------------------------------------------------------------


def test_two_steps_on_one_topic_are_refused() -> None:
    spec = flow("F03")
    first = spec.steps[0]
    twin = Step(
        f"{first.id}-again", first.title, first.agency, first.topic, first.schema, first.request
    )
    clash = FlowSpec(spec.id, spec.title, spec.measures, spec.source, (first, twin))
    with pytest.raises(CatalogError, match="declared by two steps"):
        flow_topics(clash)


def test_two_flows_on_one_topic_are_refused(flow_spec: FlowSpec) -> None:
    renamed = FlowSpec("F00", "copy", flow_spec.measures, flow_spec.source, flow_spec.steps)
    with pytest.raises(CatalogError, match=f"declared by {flow_spec.id} and F00"):
        catalog_document([flow_spec, renamed])


# -- the catalog's own file and machinery ---------------------------------------------------


def test_dead_letter_topic(catalog: Catalog, raw: dict[str, Any]) -> None:
    assert catalog.dead_letter_topic == raw["dead_letter"]["topic"]
    assert catalog.dead_letter_topic not in catalog.topics
    assert catalog.dead_letter_partitions >= 1
    assert "dlq_reason" in catalog.dead_letter_headers


def test_the_file_declares_no_topics_of_its_own(raw: dict[str, Any]) -> None:
    """Topics come from the flows; a topic written into the file would be a second source."""
    assert "topics" not in raw
    assert raw["defaults"]["key"] == "case_id"


def test_topics_for_an_unknown_flow_are_none(catalog: Catalog) -> None:
    assert catalog.topics_for_flow("F99") == []


def test_unknown_topic_names_the_allowed_ones(catalog: Catalog) -> None:
    with pytest.raises(KeyError) as caught:
        catalog.topic("police.seal-cancel.v1")
    assert isinstance(caught.value, UnknownTopicError)
    message = str(caught.value)
    assert "police.seal-cancel.v1" in message
    assert all(name in message for name in catalog.topics)


def test_schema_json_is_a_fresh_copy(catalog: Catalog, flow_spec: FlowSpec) -> None:
    topic = flow_spec.completed_topic
    catalog.schema_json(topic)["fields"].clear()
    assert catalog.schema_json(topic)["fields"]


def test_schema_files_are_listed_once(catalog: Catalog) -> None:
    assert len(catalog.schema_files) == len(set(catalog.schema_files))
    assert set(catalog.schema_files) == {s.schema_file for s in catalog.topics.values()}


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


SCHEMA = '{"type":"record","name":"r","fields":[{"name":"case_id","type":"string"}]}'


def _raw(**topic: Any) -> dict[str, Any]:
    entry = {"flow": "F00", "schema": "r.avsc", "producer": "a", "consumers": ["b"], **topic}
    return {"topics": {"t.v1": entry}, "dead_letter": {"topic": "dlq"}}


def test_parse_catalog_applies_defaults() -> None:
    raw = _raw()
    raw["defaults"] = {"partitions": 4, "key": "case_id"}
    spec = parse_catalog(raw, lambda _path: SCHEMA).topic("t.v1")
    assert spec.partitions == 4
    assert spec.key == "case_id"


def test_scalar_and_list_producers_are_both_tuples() -> None:
    raw = _raw(producer=["a", "c"])
    raw["topics"]["u.v1"] = {**_raw()["topics"]["t.v1"], "producer": "a"}
    parsed = parse_catalog(raw, lambda _path: SCHEMA)
    assert parsed.topic("t.v1").producers == ("a", "c")
    assert parsed.topic("u.v1").producers == ("a",)


@pytest.mark.parametrize(
    "raw",
    [
        _raw(producer=None),
        _raw(consumers=[]),
        _raw(partitions=0),
        {"topics": {}},
        {"topics": {"t.v1": _raw()["topics"]["t.v1"]}, "dead_letter": {"topic": "t.v1"}},
    ],
)
def test_parse_catalog_rejects_incomplete_entries(raw: dict[str, Any]) -> None:
    with pytest.raises(CatalogError):
        parse_catalog(raw, lambda _path: SCHEMA)


def test_parse_catalog_rejects_missing_or_broken_schema() -> None:
    def missing(path: str) -> str:
        raise FileNotFoundError(path)

    with pytest.raises(CatalogError, match="not found"):
        parse_catalog(_raw(), missing)
    with pytest.raises(CatalogError, match="not a valid schema"):
        parse_catalog(_raw(), lambda _path: '{"type":"record","name":"r"}')
