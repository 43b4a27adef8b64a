"""Single-object encoding: wire layout, round trips for every topic, and every failure mode."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from typing import Any

import avro.io
import avro.schema
import pytest
from fastavro.schema import fingerprint as fastavro_fingerprint
from fastavro.schema import to_parsing_canonical_form
from flow_kit import progress_records

from govstream.contracts import catalog as catalog_module
from govstream.contracts.catalog import Catalog, UnknownTopicError, load_catalog, parse_catalog
from govstream.contracts.codec import (
    AvroCodec,
    CodecError,
    EncodeError,
    MalformedBodyError,
    NotSingleObjectError,
    SchemaMismatchError,
    UnknownFingerprintError,
    canonical_form,
    fingerprint,
)
from govstream.contracts.samples import sample_value
from govstream.pipeline.publication import on_the_record_topic
from processors import FLOWS, flow
from processors.flow import FlowSpec
from processors.orchestrator import NO_OPEN_CASE, NOT_THE_OWNER, Orchestrator

ON = dt.date(2021, 7, 15)
PER_TOPIC = 40
"""Sample values kept per topic: the first cases' values, which cover every step (tested)."""

F03 = flow("F03")
F10 = flow("F10")
DEREGISTERED = F03.source_topic
TRANSFERRED = F10.source_topic
OUTCOME = F03.outcome_topic("bank")
COMPLETED = F03.completed_topic
PROGRESS = F03.progress_topic
HOUSING_FUND = str(F03.step("housing-fund").topic)
BANK = str(F03.step("bank").topic)
POLICE = str(F03.step("police").topic)

SEAL = {"seal_no": "5001030000001", "kind": "OFFICIAL"}
BANK_ACCOUNT = {
    "bank_name": "重庆银行",
    "bank_code": "313",
    "account_number": "0101000000000001",
    "account_kind": "BASIC",
}

# Hand-written values of F03's contracts, for the failure modes below.
MINIMAL_VALUES: dict[str, dict[str, Any]] = {
    POLICE: {
        "request_id": "F03-000001/police",
        "case_id": "F03-000001",
        "uscc": "91350100M000100Y43",
        "company_name": "重庆示例商贸有限公司",
        "legal_representative_name": "王五",
        "deregistered_on": ON,
        "seals": [SEAL],
    },
    BANK: {
        "request_id": "F03-000001/bank",
        "case_id": "F03-000001",
        "uscc": "91350100M000100Y43",
        "company_name": "重庆示例商贸有限公司",
        "deregistered_on": ON,
        "accounts": [BANK_ACCOUNT],
    },
    HOUSING_FUND: {
        "request_id": "F03-000001/housing-fund",
        "case_id": "F03-000001",
        "uscc": "91350100M000100Y43",
        "company_name": "重庆示例商贸有限公司",
        "deregistered_on": ON,
        "unit_account_number": "010300000001",
        "employees": 3,
    },
    OUTCOME: {
        "case_id": "F03-000001",
        "request_id": "F03-000001/bank",
        "flow": "F03",
        "step": "bank",
        "agency": "bank",
        "status": "REJECTED",
        "reason": "账户尚有余额",
        "reply": None,
    },
    COMPLETED: {
        "case_id": "F03-000001",
        "flow": "F03",
        "steps": ["bank", "police"],
        "skipped": ["housing-fund"],
        "rejected": [],
        "cancelled": [],
    },
    PROGRESS: {
        "case_id": "F03-000001",
        "flow": "F03",
        "event": "REFUSED",
        "step": "bank",
        "answerer": "police",
        "status": "COMPLETED",
        "reason": "not-the-step-owner",
        "requested": [],
        "skipped": [],
        "cancelled": [],
        "completed": False,
        "rejected": [],
        "joined": [],
        "needs": [],
        "handed_over": [],
    },
}


def progress_values(spec: FlowSpec, case: Any) -> list[dict[str, Any]]:
    """The progress records of a walked case, then those of two answers the orchestrator does
    not take: its last answer again (a duplicate), and the same answer from another answerer
    of the flow (refused: not the step's owner), or, in a flow with one answerer, for a case it
    never opened."""
    records, state = progress_records(spec, case.trigger, case.outcomes)
    if not case.outcomes:  # every step skipped: the opening completed it
        return records
    last = case.outcomes[-1]
    run = Orchestrator(spec)
    records.append(run.record(state, last.value, 99.0).transition.to_record())
    owner = spec.answerer(spec.step(str(last.step)))
    other = next((a for a in spec.outcome_topics if a != owner), None)
    refused = (
        run.record(state, last.value, 99.0, answerer=other)
        if other is not None
        else run.record(None, last.value, 99.0)
    )
    assert refused.refused == (NOT_THE_OWNER if other is not None else NO_OPEN_CASE)
    records.append(refused.transition.to_record())
    return records


def sample_values(walked: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every value a walked case put on any topic: triggers, requests, outcomes, completions,
    progress records."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for flow_id, cases in walked.items():
        spec = FLOWS[flow_id]
        for case in cases:
            emits = [*case.requests, *case.outcomes, case.completion.emit]
            values = [(spec.source_topic, case.trigger)]
            values += [(emit.topic, dict(emit.value)) for emit in emits]
            values += [(spec.progress_topic, value) for value in progress_values(spec, case)]
            for topic, value in values:
                if load_catalog().topic(topic).compacted:
                    value = on_the_record_topic(value)
                if len(found[topic]) < PER_TOPIC:
                    found[topic].append(value)
        if spec.scoring is not None:  # its sources' signals, and the scorer's record of them
            for topic in (*spec.scoring.topics, spec.scored_topic):
                found[topic] += [sample_value(topic, seed) for seed in range(1, PER_TOPIC + 1)]
    for topic in load_catalog().topics:
        if topic not in found:  # a check, what it found, a counted event: beside the cases
            found[topic].append(sample_value(topic))
    return found


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def codec(catalog: Catalog) -> AvroCodec:
    return AvroCodec(catalog)


@pytest.fixture(scope="module")
def samples(all_walked: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return sample_values(all_walked)


def test_every_topic_has_sample_values(
    catalog: Catalog, samples: dict[str, list[dict[str, Any]]]
) -> None:
    assert set(samples) == set(catalog.topics)
    assert set(MINIMAL_VALUES) <= set(catalog.topics)
    # Every kind of transition reaches the wire, and every answerer's topic its own answers.
    symbols = catalog.schema_json(PROGRESS)["fields"][2]["type"]["symbols"]
    for spec in FLOWS.values():
        assert {value["event"] for value in samples[spec.progress_topic]} == set(symbols)
        for answerer, topic in spec.outcome_topics.items():
            steps = {s.id for s in spec.steps if spec.answerer(s) == answerer}
            assert {value["step"] for value in samples[topic]} <= steps, topic


@pytest.mark.parametrize("topic", sorted(load_catalog().topics))
def test_round_trip(
    codec: AvroCodec, catalog: Catalog, samples: dict[str, list[Any]], topic: str
) -> None:
    schema_name = avro.schema.parse(json.dumps(catalog.schema_json(topic))).fullname
    for value in [*samples[topic], *([MINIMAL_VALUES[topic]] if topic in MINIMAL_VALUES else [])]:
        data = codec.encode(topic, value)
        decoded = codec.decode(data, expected_topic=topic)
        assert decoded.value == value
        assert decoded.schema_name == schema_name
        assert decoded.fingerprint_hex == data[2:10].hex()


@pytest.mark.parametrize("topic", sorted(load_catalog().topics))
def test_header_is_marker_and_little_endian_fingerprint(
    codec: AvroCodec, catalog: Catalog, samples: dict[str, list[Any]], topic: str
) -> None:
    data = codec.encode(topic, samples[topic][0])
    assert data[:2] == b"\xc3\x01"
    canonical = to_parsing_canonical_form(catalog.schema_json(topic))
    assert data[2:10] == bytes.fromhex(fastavro_fingerprint(canonical, "CRC-64-AVRO"))


@pytest.mark.parametrize("topic", sorted(load_catalog().topics))
def test_body_is_plain_avro_binary_for_the_reference_library(
    codec: AvroCodec, catalog: Catalog, samples: dict[str, list[Any]], topic: str
) -> None:
    """The body after the header must decode with the Apache library's own reader."""
    schema = avro.schema.parse(json.dumps(catalog.schema_json(topic)))
    for value in samples[topic][:5]:
        body = codec.encode(topic, value)[10:]
        decoder = avro.io.BinaryDecoder(io.BytesIO(body))
        assert avro.io.DatumReader(schema).read(decoder) == value


PRIMITIVES = frozenset(("null", "boolean", "int", "long", "float", "double", "bytes", "string"))


def reduced_primitives(schema: Any) -> Any:
    """Schema JSON with every primitive written as its bare name (spec rule [PRIMITIVES]), which
    the reference library's own canonical form leaves undone for primitives with attributes."""
    if isinstance(schema, list):
        return [reduced_primitives(branch) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if isinstance(kind, str) and kind in PRIMITIVES:
        return kind
    reduced = dict(schema)
    if kind in ("record", "error"):
        reduced["fields"] = [
            {**field, "type": reduced_primitives(field["type"])} for field in schema["fields"]
        ]
    elif kind == "array":
        reduced["items"] = reduced_primitives(schema["items"])
    elif kind == "map":
        reduced["values"] = reduced_primitives(schema["values"])
    return reduced


@pytest.mark.parametrize("schema_file", load_catalog().schema_files)
def test_fastavro_and_reference_library_fingerprints_agree(
    catalog: Catalog, schema_file: str
) -> None:
    """The codec fingerprints with fastavro; the Apache library, once primitives are reduced
    as the specification says, computes the same bytes for every shipped schema."""
    schema_data = json.loads(catalog.schema_sources[schema_file])
    ours = fingerprint(schema_data)
    reference = avro.schema.parse(json.dumps(reduced_primitives(schema_data)))
    assert len(ours) == 8
    assert ours == reference.fingerprint("CRC-64-AVRO")
    assert ours.hex() == fastavro_fingerprint(to_parsing_canonical_form(schema_data), "CRC-64-AVRO")
    assert fingerprint(avro.schema.parse(json.dumps(schema_data))) == ours
    assert fingerprint(json.dumps(schema_data)) == ours
    assert canonical_form(schema_data) == to_parsing_canonical_form(schema_data)


def test_logical_type_does_not_change_the_fingerprint() -> None:
    """Spec [PRIMITIVES]/[STRIP]: {"type": "int", "logicalType": "date"} canonicalises to "int"."""
    published_int = (8247732601305521295).to_bytes(8, "little", signed=True)
    date = {"type": "int", "logicalType": "date"}
    assert fingerprint(date) == published_int
    assert (
        fastavro_fingerprint(to_parsing_canonical_form(date), "CRC-64-AVRO") == published_int.hex()
    )
    in_record = {"type": "record", "name": "r", "fields": [{"name": "d", "type": date}]}
    plain = {"type": "record", "name": "r", "fields": [{"name": "d", "type": "int"}]}
    assert fingerprint(in_record) == fingerprint(plain)
    for container, bare in [
        ({"type": "array", "items": date}, {"type": "array", "items": "int"}),
        ({"type": "map", "values": date}, {"type": "map", "values": "int"}),
        (["null", date], ["null", "int"]),
    ]:
        assert fingerprint(container) == fingerprint(bare)
        canonical = to_parsing_canonical_form(container)
        assert fingerprint(container).hex() == fastavro_fingerprint(canonical, "CRC-64-AVRO")


# Published CRC-64-AVRO test vectors (Avro's share/test/data/schema-tests.txt), as signed longs.
PUBLISHED_FINGERPRINTS = [
    ('"null"', 7195948357588979594),
    ('"boolean"', -6970731678124411036),
    ('"int"', 8247732601305521295),
    (
        '{"type":"record","name":"foo","fields":[{"name":"f1","type":"boolean"}]}',
        7843277075252814651,
    ),
]


@pytest.mark.parametrize(("schema", "expected"), PUBLISHED_FINGERPRINTS)
def test_fingerprint_matches_published_vectors(schema: str, expected: int) -> None:
    assert fingerprint(schema) == expected.to_bytes(8, "little", signed=True)


def test_wire_header_of_a_schema_with_a_published_fingerprint() -> None:
    """Independent check of byte order: the spec's record "foo" has a published fingerprint."""
    foo = '{"type":"record","name":"foo","fields":[{"name":"f1","type":"boolean"}]}'
    raw = {
        "topics": {
            "t.foo.v1": {"flow": "F00", "schema": "foo.avsc", "producer": "a", "consumers": ["b"]}
        },
        "dead_letter": {"topic": "dlq"},
    }
    codec = AvroCodec(parse_catalog(raw, lambda _path: foo))
    data = codec.encode("t.foo.v1", {"f1": True})
    assert data == b"\xc3\x01" + (7843277075252814651).to_bytes(8, "little", signed=True) + b"\x01"


def test_shared_schema_decodes_on_every_topic_that_carries_it(
    codec: AvroCodec, catalog: Catalog, samples: dict[str, list[Any]]
) -> None:
    """Topics that share a contract (F10's three utilities, every flow's outcomes) are
    interchangeable on the wire: the schema, not the topic, decides the bytes."""
    by_schema: dict[str, list[str]] = defaultdict(list)
    for spec in catalog.topics.values():
        by_schema[spec.schema_file].append(spec.name)
    shared = {schema: topics for schema, topics in by_schema.items() if len(topics) > 1}
    assert shared, "some contract is carried by several topics"
    for topics in shared.values():
        first, *others = topics
        value = samples[first][0]
        data = codec.encode(first, value)
        for topic in others:
            assert codec.decode(data, expected_topic=topic).value == value


def test_unknown_fingerprint(codec: AvroCodec) -> None:
    data = codec.encode(COMPLETED, MINIMAL_VALUES[COMPLETED])
    foreign = bytes(8 * [0xAB])
    with pytest.raises(UnknownFingerprintError) as caught:
        codec.decode(data[:2] + foreign + data[10:])
    assert caught.value.reason == "unknown-schema"
    assert foreign.hex() in str(caught.value)
    assert caught.value.fingerprint_hex == foreign.hex()


@pytest.mark.parametrize("topic", [DEREGISTERED, TRANSFERRED, OUTCOME, COMPLETED, PROGRESS])
def test_truncated_body(codec: AvroCodec, samples: dict[str, list[Any]], topic: str) -> None:
    data = codec.encode(topic, samples[topic][0])
    for cut in (11, len(data) // 2, len(data) - 1):
        with pytest.raises(MalformedBodyError) as caught:
            codec.decode(data[:cut])
        assert caught.value.reason == "malformed-body"


def test_empty_body_is_malformed(codec: AvroCodec, samples: dict[str, list[Any]]) -> None:
    data = codec.encode(TRANSFERRED, samples[TRANSFERRED][0])
    with pytest.raises(MalformedBodyError):
        codec.decode(data[:10])


def test_trailing_bytes(codec: AvroCodec, samples: dict[str, list[Any]]) -> None:
    data = codec.encode(DEREGISTERED, samples[DEREGISTERED][0])
    with pytest.raises(MalformedBodyError) as caught:
        codec.decode(data + b"\x00")
    assert "trailing" in str(caught.value)


def test_bad_enum_index_is_malformed(codec: AvroCodec) -> None:
    value = {**MINIMAL_VALUES[OUTCOME], "reason": None, "reply": None}
    data = bytearray(codec.encode(OUTCOME, value))
    # The body ends status, reason (null branch: 0x00), reply (null branch: 0x00), so status is
    # the third byte from the end; zig-zag 0x7e is index 63, out of the enum's range.
    assert data[-3:] == bytes([2, 0, 0]), "REJECTED is symbol 1, zig-zag 0x02"
    data[-3] = 0x7E
    with pytest.raises(MalformedBodyError):
        codec.decode(bytes(data))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc3",
        b"\xc3\x01",
        b"\xc3\x01\x00\x00",
        b"hello, world: not avro",
        b"\x01\xc3" + b"\0" * 20,
    ],
)
def test_not_single_object(codec: AvroCodec, data: bytes) -> None:
    with pytest.raises(NotSingleObjectError) as caught:
        codec.decode(data)
    assert caught.value.reason == "not-single-object"


def test_expected_topic_mismatch(codec: AvroCodec) -> None:
    data = codec.encode(COMPLETED, MINIMAL_VALUES[COMPLETED])
    with pytest.raises(SchemaMismatchError) as caught:
        codec.decode(data, expected_topic=POLICE)
    assert caught.value.reason == "unexpected-schema"
    assert "SealCancellationRequest" in str(caught.value)
    assert "CaseCompleted" in str(caught.value)
    # Without an expectation the same bytes are fine.
    assert codec.decode(data).schema_name == "govstream.common.CaseCompleted"


def test_unknown_topic(codec: AvroCodec) -> None:
    with pytest.raises(UnknownTopicError) as caught:
        codec.encode("no.such-topic.v1", {})
    assert isinstance(caught.value, KeyError)
    assert DEREGISTERED in str(caught.value)


def _without(value: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != field}


def _changed(topic: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    return topic, {**MINIMAL_VALUES[topic], **changes}


@pytest.mark.parametrize(
    ("topic", "value", "mentions"),
    [
        (COMPLETED, _without(MINIMAL_VALUES[COMPLETED], "flow"), "flow"),
        (*_changed(OUTCOME, status="LOST"), "status"),
        (*_changed(OUTCOME, reply={"reservation_no": 12}), "reply"),
        (*_changed(HOUSING_FUND, employees="3"), "employees"),
        (*_changed(BANK, id_number="11010519491231002X"), "id_number"),
        (F10.completed_topic, None, F10.completed_topic),
        (*_changed(PROGRESS, event="LOST"), "event"),
        (*_changed(PROGRESS, status="LOST"), "status"),
    ],
)
def test_invalid_value_is_refused(
    codec: AvroCodec, topic: str, value: dict[str, Any] | None, mentions: str
) -> None:
    with pytest.raises(EncodeError) as caught:
        codec.encode(topic, value)  # type: ignore[arg-type]
    assert caught.value.reason == "invalid-value"
    assert topic in str(caught.value)
    assert mentions in str(caught.value)


def test_missing_fields_with_defaults_are_accepted(codec: AvroCodec) -> None:
    value = _without(_without(MINIMAL_VALUES[OUTCOME], "reason"), "reply")
    decoded = codec.decode(codec.encode(OUTCOME, value)).value
    assert decoded["reason"] is None and decoded["reply"] is None
    completed = {
        k: v for k, v in MINIMAL_VALUES[COMPLETED].items() if k in ("case_id", "flow", "steps")
    }
    decoded = codec.decode(codec.encode(COMPLETED, completed)).value
    assert decoded["skipped"] == decoded["rejected"] == decoded["cancelled"] == []
    opened = {"case_id": "F03-000001", "flow": "F03", "event": "OPENED"}
    decoded = codec.decode(codec.encode(PROGRESS, opened)).value
    assert decoded == {
        **opened,
        **dict.fromkeys(("step", "answerer", "status", "reason")),
        **{
            key: []
            for key in (
                "requested",
                "skipped",
                "cancelled",
                "rejected",
                "joined",
                "needs",
                "handed_over",
            )
        },
        "completed": False,
    }


def test_reply_data_survives_the_wire(codec: AvroCodec) -> None:
    value = {
        **MINIMAL_VALUES[OUTCOME],
        "status": "COMPLETED",
        "reason": None,
        "reply": {"reservation_no": "R000123", "branch": "渝中"},
    }
    assert codec.decode(codec.encode(OUTCOME, value), OUTCOME).value == value


def test_every_error_is_a_codec_error_with_a_distinct_reason() -> None:
    kinds = [
        EncodeError,
        NotSingleObjectError,
        UnknownFingerprintError,
        MalformedBodyError,
        SchemaMismatchError,
    ]
    assert all(issubclass(kind, CodecError) for kind in kinds)
    assert len({kind.reason for kind in kinds}) == len(kinds)


def test_codec_uses_the_shipped_catalog_by_default() -> None:
    assert AvroCodec().catalog is catalog_module.load_catalog()
