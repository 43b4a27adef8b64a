"""The catalog: every topic has a contract, an owner and readers; each agency reads only its own.

The topics are derived from the flows, so the generic tests rebuild what each flow's
declaration implies (its trigger, one request topic per agency step, its waits, one outcome
topic per answerer, its completions and its progress records) and compare it with the catalog
the engines load.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import avro.schema
import fastavro
import pytest
import yaml
from expected_topics import (
    OUTCOME_TOPICS,
    PROGRESS_TOPICS,
    REQUEST_TOPICS,
    RETIRED_OUTCOME_TOPICS,
    SCORED_TOPICS,
    SIGNAL_TOPICS,
)

from govstream.contracts.catalog import (
    COLLECTOR,
    COMPLETED_SCHEMA,
    OUTCOME_SCHEMA,
    PROGRESS_SCHEMA,
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


def answerers(spec: FlowSpec) -> dict[str, str]:
    """Who answers the flow's steps -> the catalog party that writes those answers: each
    agency that acts in it, and for its waits the flow's timer."""
    parties = {step.agency: step.agency for step in agency_steps(spec)}
    if spec.waits:
        parties["timer"] = f"{spec.prefix}-timer"
    return parties


def outcome_topic(spec: FlowSpec, answerer: str) -> str:
    return f"{spec.prefix}.{answerer}.step-outcome.v1"


def expected_topics(spec: FlowSpec) -> set[str]:
    """What the flow declares, spelt out from its parts rather than from `flow_topics`."""
    names = {spec.source_topic, spec.completed_topic, f"{spec.prefix}.case-progress.v1"}
    names |= {str(step.topic) for step in agency_steps(spec)}
    names |= {outcome_topic(spec, answerer) for answerer in answerers(spec)}
    if spec.waits:
        names.add(spec.wait_topic)
    if spec.publication is not None:
        for subscriber in spec.publication.subscribers:
            names |= {subscriber.checks, subscriber.uses}
        names.add(spec.publication.uses_told)
    for tally in spec.tallies:
        names |= {tally.topic, tally.counted}
    if spec.scoring is not None:
        names |= {signal.topic for signal in spec.scoring.signals}
        names.add(f"{spec.prefix}.signal-scored.v1")
    return names


# -- every flow -----------------------------------------------------------------------------


def test_catalog_holds_exactly_the_flows_topics(catalog: Catalog, flow_spec: FlowSpec) -> None:
    mine = {topic.name for topic in catalog.topics_for_flow(flow_spec.id)}
    assert mine == expected_topics(flow_spec) == set(flow_topics(flow_spec))
    # One topic per agency step: no two steps share a request topic, except a publication's
    # subscribers, who all read its one compacted topic.
    alone = [step for step in agency_steps(flow_spec) if step.published is None]
    assert len({step.topic for step in alone}) == len(alone)
    for step in agency_steps(flow_spec):
        assert catalog.topic(str(step.topic)).compacted == (step.published is not None)


def test_a_publication_is_one_compacted_topic_every_subscriber_reads() -> None:
    catalog = load_catalog()
    records = catalog.topic("f12.dishonesty-records.v1")
    assert records.compacted
    assert set(records.consumers) == {"bank", "finance-bureau"}
    assert records.producers == ("f12-orchestrator",)
    checks = catalog.topic("f12.bank.record-check.v1")
    assert (checks.producers, checks.consumers) == (("bank",), ("bank",))


def test_source_topic_is_written_by_the_source_and_read_by_the_orchestrator(
    catalog: Catalog, flow_spec: FlowSpec
) -> None:
    """The flows that hand cases over to this one write its triggers as well."""
    source = catalog.topic(flow_spec.source_topic)
    upstream = [
        f.orchestrator for f in FLOWS.values() for h in f.handovers if h.flow == flow_spec.id
    ]
    if flow_spec.scoring is not None:  # the scorer writes the triggers its crossings start
        upstream.insert(0, f"{flow_spec.prefix}-scorer")
    assert source.producers == (flow_spec.source_agency, *upstream)
    assert source.consumers == (flow_spec.orchestrator,)
    assert source.schema_file == flow_spec.source.schema


def test_each_agency_step_topic_is_read_by_that_agency_alone(
    catalog: Catalog, flow_spec: FlowSpec
) -> None:
    """A publication's compacted topic is read by its subscribers, each for its own steps."""
    publication = flow_spec.publication
    subscribers = tuple(s.agency for s in publication.subscribers) if publication else ()
    for step in agency_steps(flow_spec):
        spec = catalog.topic(str(step.topic))
        readers = subscribers if step.published else (step.agency,)
        assert spec.consumers == readers, step.id
        assert spec.producers == (flow_spec.orchestrator,), step.id
        assert spec.schema_file == step.schema
        assert spec.flow == flow_spec.id


def test_each_answerer_writes_an_outcome_topic_of_its_own(
    catalog: Catalog, flow_spec: FlowSpec
) -> None:
    """One outcome topic per answerer, written by that answerer alone and read by the flow's
    orchestrator alone; the shared outcome topic is gone."""
    outcomes = {
        spec.name: spec
        for spec in catalog.topics_for_flow(flow_spec.id)
        if spec.schema_file == OUTCOME_SCHEMA
    }
    parties = answerers(flow_spec)
    assert set(outcomes) == {outcome_topic(flow_spec, answerer) for answerer in parties}
    for answerer, party in parties.items():
        outcome = outcomes[outcome_topic(flow_spec, answerer)]
        assert outcome.producers == (party,), outcome.name
        assert outcome.consumers == (flow_spec.orchestrator,), outcome.name
    assert f"{flow_spec.prefix}.step-outcome.v1" not in catalog.topics
    # The flow's own answers go where the catalog lets their answerer write.
    timer = f"{flow_spec.prefix}-timer"
    for step in flow_spec.steps:
        written = catalog.topic(flow_spec.outcome_topic(flow_spec.answerer(step)))
        assert written.producers == (step.agency or timer,), step.id


def test_wait_completion_and_progress_topics(catalog: Catalog, flow_spec: FlowSpec) -> None:
    orchestrator = flow_spec.orchestrator
    timer = f"{flow_spec.prefix}-timer"
    completed = catalog.topic(flow_spec.completed_topic)
    assert completed.producers == (orchestrator,)
    assert completed.consumers == (flow_spec.source_agency,)
    assert completed.schema_file == COMPLETED_SCHEMA
    progress = catalog.topic(f"{flow_spec.prefix}.case-progress.v1")
    assert (progress.producers, progress.consumers) == ((orchestrator,), (COLLECTOR,))
    assert progress.schema_file == PROGRESS_SCHEMA
    assert flow_spec.progress_topic == progress.name
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
    """The orchestrator puts these two first in every request; the contract must agree. A
    publication's record, one message for all its subscribers, carries its case alone."""
    published = {str(step.topic) for step in agency_steps(flow_spec) if step.published}
    for topic in published:
        fields = catalog.schema_json(topic)["fields"]
        assert (fields[0]["name"], fields[0]["type"]) == ("case_id", "string"), topic
    topics = [str(step.topic) for step in agency_steps(flow_spec) if not step.published]
    if flow_spec.waits:
        topics.append(flow_spec.wait_topic)
    for topic in topics:
        fields = catalog.schema_json(topic)["fields"]
        assert [(f["name"], f["type"]) for f in fields[:2]] == [
            ("request_id", "string"),
            ("case_id", "string"),
        ], topic


def test_topics_are_keyed_by_case(catalog: Catalog, flow_spec: FlowSpec) -> None:
    """Every topic of a case is keyed by it; a publication's records by the entity and record
    (a tombstone must name the record it deletes), and what happens beside the cases (checks,
    counted events, a scoring flow's signals) by the entity, so that one entity's events meet
    where its table or its scores are kept."""
    beside = {t.topic for t in flow_spec.tallies} | {t.counted for t in flow_spec.tallies}
    beside |= set(SIGNAL_TOPICS.get(flow_spec.id, {}))
    if flow_spec.publication is not None:
        beside.add(flow_spec.publication.uses_told)
        beside |= {s.checks for s in flow_spec.publication.subscribers}
        beside |= {s.uses for s in flow_spec.publication.subscribers}
    for spec in catalog.topics_for_flow(flow_spec.id):
        if spec.compacted:
            assert spec.key == "uscc/record_id"
        else:
            assert spec.key == ("uscc" if spec.name in beside else "case_id"), spec.name
        assert spec.partitions >= 1
        if flow_spec.partitions is not None:
            assert spec.partitions == flow_spec.partitions


# -- every agency, whatever flows reach it --------------------------------------------------


@pytest.mark.parametrize("agency", ALL_AGENCIES)
def test_agency_reads_only_its_own_request_topics(catalog: Catalog, agency: str) -> None:
    """The catalog is the access-control list: an agency's steps, and its own flows' ends."""
    steps = {str(s.topic) for spec in FLOWS.values() for s in spec.steps_of(agency)}
    completions = {s.completed_topic for s in FLOWS.values() if s.source_agency == agency}
    subscribed = [s for f in FLOWS.values() if f.publication for s in f.publication.subscribers]
    checks = {s.checks for s in subscribed if s.agency == agency}
    assert {spec.name for spec in catalog.readable_by(agency)} == steps | completions | checks
    own = {outcome_topic(s, agency) for s in FLOWS.values() if agency in s.agencies}
    sources = {s.source_topic for s in FLOWS.values() if s.source_agency == agency}
    told = {s.uses for s in subscribed if s.agency == agency}
    counted = {t.topic for f in FLOWS.values() for t in f.tallies if t.agency == agency}
    sources |= {
        topic for topics in SIGNAL_TOPICS.values() for topic, by in topics.items() if by == agency
    }
    assert {spec.name for spec in catalog.writable_by(agency)} == (
        own | sources | checks | told | counted
    )


def test_every_topic_has_one_writer(catalog: Catalog) -> None:
    """Whoever reads a topic knows who wrote it: its one producer, except a flow's triggers,
    which the flows that hand cases over to it write beside its source."""
    shared = {spec.name: spec.producers for spec in catalog.topics.values()}
    handed = {
        FLOWS[h.flow].source_topic: (FLOWS[h.flow].source_agency, f.orchestrator)
        for f in FLOWS.values()
        for h in f.handovers
    }
    assert handed, "some flow hands over to another"
    handed |= {  # and a scoring flow's triggers, its scorer beside its scoring agency
        f.source_topic: (f.source_agency, f"{f.prefix}-scorer")
        for f in FLOWS.values()
        if f.scoring is not None
    }
    assert {name: p for name, p in shared.items() if len(p) != 1} == handed


def test_the_collector_reads_the_progress_records_only(catalog: Catalog) -> None:
    """The collector measures a run from the platform's records: it reads no answer, request,
    trigger or completion, and writes nothing. A case a hand-over started it knows from the
    progress record of the case that handed it over; subscribers' checks and counted values
    from what the platform passes on."""
    progress = {f"{spec.prefix}.case-progress.v1" for spec in FLOWS.values()}
    told = {f.publication.uses_told for f in FLOWS.values() if f.publication}
    told |= {t.counted for f in FLOWS.values() for t in f.tallies}
    assert all(catalog.topic(name).producers == ("f12-orchestrator",) for name in told)
    progress |= set(SCORED_TOPICS.values()) | told
    assert {spec.name for spec in catalog.readable_by(COLLECTOR)} == progress
    assert catalog.writable_by(COLLECTOR) == []


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


@pytest.mark.parametrize("flow_id", sorted(OUTCOME_TOPICS))
def test_f03_f10_and_f17_answers_and_progress_go_on_the_topics_written_out(
    catalog: Catalog, flow_id: str
) -> None:
    spec = flow(flow_id)
    orchestrator = f"{flow_id.lower()}-orchestrator"
    assert spec.outcome_topics == OUTCOME_TOPICS[flow_id]
    for answerer, topic in OUTCOME_TOPICS[flow_id].items():
        writer = f"{flow_id.lower()}-timer" if answerer == "timer" else answerer
        assert (catalog.topic(topic).producers, catalog.topic(topic).consumers) == (
            (writer,),
            (orchestrator,),
        )
    assert spec.progress_topic == PROGRESS_TOPICS[flow_id]
    assert catalog.topic(PROGRESS_TOPICS[flow_id]).consumers == (COLLECTOR,)
    assert RETIRED_OUTCOME_TOPICS[flow_id] not in catalog.topics


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


# -- F13: the signals a score is made of ----------------------------------------------------


@pytest.mark.parametrize("flow_id", sorted(SIGNAL_TOPICS))
def test_signals_are_written_by_their_sources_and_read_by_the_scorer_alone(
    catalog: Catalog, flow_id: str
) -> None:
    spec = FLOWS[flow_id]
    assert spec.scoring is not None
    scorer = f"{spec.prefix}-scorer"
    assert {s.topic: s.agency for s in spec.scoring.signals} == SIGNAL_TOPICS[flow_id]
    for topic, agency in SIGNAL_TOPICS[flow_id].items():
        signal = catalog.topic(topic)
        assert (signal.producers, signal.consumers) == ((agency,), (scorer,)), topic
        assert signal.flow == flow_id
    scored = catalog.topic(SCORED_TOPICS[flow_id])
    assert (scored.producers, scored.consumers) == ((scorer,), (COLLECTOR,))
    assert scored.schema_file == "common/SignalScored.avsc"
