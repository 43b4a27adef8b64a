"""The catalog: every topic has a contract, an owner and readers; each agency reads only its own."""

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
    Catalog,
    CatalogError,
    TopicSpec,
    UnknownTopicError,
    load_catalog,
    parse_catalog,
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(files("schemas").joinpath("catalog.yaml").read_text("utf-8"))


def test_catalog_lists_every_topic_of_the_file(catalog: Catalog, raw: dict[str, Any]) -> None:
    assert set(catalog.topics) == set(raw["topics"])
    assert all(isinstance(spec, TopicSpec) for spec in catalog.topics.values())


def test_every_schema_file_exists_and_parses(catalog: Catalog) -> None:
    for spec in catalog.topics.values():
        resource = files("schemas").joinpath(*spec.schema_file.split("/"))
        assert resource.is_file(), spec.schema_file
        data = json.loads(resource.read_text("utf-8"))
        assert avro.schema.parse(json.dumps(data)).type == "record"
        fastavro.parse_schema(data)
        assert catalog.schema_json(spec.name) == data
        assert catalog.avro_schema(spec.name).fullname.endswith("." + data["name"])
        assert catalog.parsed_schema(spec.name)["name"] == catalog.avro_schema(spec.name).fullname


def test_every_topic_has_producers_consumers_and_partitions(catalog: Catalog) -> None:
    for spec in catalog.topics.values():
        assert spec.producers, spec.name
        assert spec.consumers, spec.name
        assert all(isinstance(p, str) and p for p in spec.producers)
        assert spec.partitions >= 1
        assert spec.key == "case_id"
        assert spec.flow in ("F03", "F10")


def test_scalar_and_list_producers_are_both_tuples(catalog: Catalog) -> None:
    assert catalog.topic("amr.company-deregistered.v1").producers == ("amr",)
    assert catalog.topic("f03.recipient-outcome.v1").producers == ("police", "bank", "housing-fund")


@pytest.mark.parametrize(("agency", "topic"), sorted(REQUEST_TOPICS.items()))
def test_recipient_reads_exactly_its_own_request_topic(
    catalog: Catalog, agency: str, topic: str
) -> None:
    assert [spec.name for spec in catalog.readable_by(agency)] == [topic]
    assert catalog.topic(topic).consumers == (agency,)


@pytest.mark.parametrize("agency", sorted(REQUEST_TOPICS))
def test_recipient_contracts_carry_no_identity_numbers(catalog: Catalog, agency: str) -> None:
    """Data minimisation: no recipient request names a personal or party identity number."""
    text = json.dumps(catalog.schema_json(REQUEST_TOPICS[agency]))
    assert "id_number" not in text


def test_recipients_write_their_flows_outcomes(catalog: Catalog) -> None:
    assert {s.name for s in catalog.writable_by("police")} == {"f03.recipient-outcome.v1"}
    assert {s.name for s in catalog.writable_by("gas")} == {"f10.recipient-outcome.v1"}


def test_dead_letter_topic(catalog: Catalog, raw: dict[str, Any]) -> None:
    assert catalog.dead_letter_topic == raw["dead_letter"]["topic"]
    assert catalog.dead_letter_topic not in catalog.topics
    assert catalog.dead_letter_partitions >= 1
    assert "dlq_reason" in catalog.dead_letter_headers


def test_topics_for_flow(catalog: Catalog) -> None:
    f03 = {spec.name for spec in catalog.topics_for_flow("F03")}
    f10 = {spec.name for spec in catalog.topics_for_flow("F10")}
    assert "amr.company-deregistered.v1" in f03
    assert "real-estate.property-transfer-registered.v1" in f10
    assert not f03 & f10
    assert f03 | f10 == set(catalog.topics)
    assert catalog.topics_for_flow("F99") == []


def test_unknown_topic_names_the_allowed_ones(catalog: Catalog) -> None:
    with pytest.raises(KeyError) as caught:
        catalog.topic("police.seal-cancel.v1")
    assert isinstance(caught.value, UnknownTopicError)
    message = str(caught.value)
    assert "police.seal-cancel.v1" in message
    assert all(name in message for name in catalog.topics)


def test_schema_json_is_a_fresh_copy(catalog: Catalog) -> None:
    topic = "f03.case-completed.v1"
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
