"""Single-object encoding: wire layout, round trips for every topic, and every failure mode."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from typing import Any

import avro.io
import avro.schema
import pytest
from fastavro.schema import fingerprint as fastavro_fingerprint
from fastavro.schema import to_parsing_canonical_form

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
    fingerprint,
)
from producers.amr import CompanyDeregistrationGenerator
from producers.real_estate import PropertyTransferGenerator

ON = dt.date(2021, 7, 15)
DEREGISTERED = "amr.company-deregistered.v1"
TRANSFERRED = "real-estate.property-transfer-registered.v1"

SEAL = {"seal_no": "5001030000001", "kind": "OFFICIAL"}
BANK_ACCOUNT = {
    "bank_name": "重庆银行",
    "bank_code": "313",
    "account_number": "0101000000000001",
    "account_kind": "BASIC",
}


def _utility_request(utility: str) -> dict[str, Any]:
    return {
        "request_id": f"F10-000001/{utility.lower()}",
        "case_id": "F10-000001",
        "utility": utility,
        "account_number": "103000001",
        "service_address": "重庆市渝中区民族路1号1-1",
        "certificate_no": "渝(2021)渝中区不动产权第000123号",
        "registered_on": ON,
        "previous_holder_name": "张三",
        "new_holder_name": "李四",
        "new_holder_phone": None,
    }


def _outcome(flow: str, recipient: str) -> dict[str, Any]:
    return {
        "case_id": f"{flow}-000001",
        "request_id": f"{flow}-000001/{recipient}",
        "flow": flow,
        "recipient": recipient,
        "status": "REJECTED",
        "reason": "账户尚有余额",
    }


MINIMAL_VALUES: dict[str, dict[str, Any]] = {
    "police.seal-cancellation-request.v1": {
        "request_id": "F03-000001/police",
        "case_id": "F03-000001",
        "uscc": "91350100M000100Y43",
        "company_name": "重庆示例商贸有限公司",
        "legal_representative_name": "王五",
        "deregistered_on": ON,
        "seals": [SEAL],
    },
    "bank.account-closure-request.v1": {
        "request_id": "F03-000001/bank",
        "case_id": "F03-000001",
        "uscc": "91350100M000100Y43",
        "company_name": "重庆示例商贸有限公司",
        "deregistered_on": ON,
        "accounts": [BANK_ACCOUNT],
    },
    "housing-fund.account-closure-request.v1": {
        "request_id": "F03-000001/housing-fund",
        "case_id": "F03-000001",
        "uscc": "91350100M000100Y43",
        "company_name": "重庆示例商贸有限公司",
        "deregistered_on": ON,
        "unit_account_number": "010300000001",
        "employees": 3,
    },
    "f03.recipient-outcome.v1": _outcome("F03", "bank"),
    "f03.case-completed.v1": {
        "case_id": "F03-000001",
        "flow": "F03",
        "recipients": ["bank", "police"],
        "rejected": [],
    },
    "water.account-transfer-request.v1": _utility_request("WATER"),
    "power.account-transfer-request.v1": _utility_request("POWER"),
    "gas.account-transfer-request.v1": _utility_request("GAS"),
    "f10.recipient-outcome.v1": _outcome("F10", "gas"),
    "f10.case-completed.v1": {
        "case_id": "F10-000001",
        "flow": "F10",
        "recipients": ["gas", "power", "water"],
        "rejected": ["gas"],
    },
}


def _source_values(topic: str, count: int) -> list[dict[str, Any]]:
    rng = random.Random(topic)
    generator = (
        CompanyDeregistrationGenerator(rng)
        if topic == DEREGISTERED
        else PropertyTransferGenerator(rng)
    )
    return [generator.generate(f"case-{n}", ON + dt.timedelta(days=n)) for n in range(count)]


def _values(topic: str) -> list[dict[str, Any]]:
    if topic in (DEREGISTERED, TRANSFERRED):
        return _source_values(topic, 40)
    return [MINIMAL_VALUES[topic]]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def codec(catalog: Catalog) -> AvroCodec:
    return AvroCodec(catalog)


def test_every_topic_has_test_values(catalog: Catalog) -> None:
    assert set(catalog.topics) == set(MINIMAL_VALUES) | {DEREGISTERED, TRANSFERRED}


@pytest.mark.parametrize("topic", sorted(load_catalog().topics))
def test_round_trip(codec: AvroCodec, catalog: Catalog, topic: str) -> None:
    schema_name = avro.schema.parse(json.dumps(catalog.schema_json(topic))).fullname
    for value in _values(topic):
        data = codec.encode(topic, value)
        decoded = codec.decode(data, expected_topic=topic)
        assert decoded.value == value
        assert decoded.schema_name == schema_name
        assert decoded.fingerprint_hex == data[2:10].hex()


@pytest.mark.parametrize("topic", sorted(load_catalog().topics))
def test_header_is_marker_and_little_endian_fingerprint(
    codec: AvroCodec, catalog: Catalog, topic: str
) -> None:
    data = codec.encode(topic, _values(topic)[0])
    assert data[:2] == b"\xc3\x01"
    canonical = to_parsing_canonical_form(catalog.schema_json(topic))
    assert data[2:10] == bytes.fromhex(fastavro_fingerprint(canonical, "CRC-64-AVRO"))


@pytest.mark.parametrize("topic", sorted(load_catalog().topics))
def test_body_is_plain_avro_binary_for_the_reference_library(
    codec: AvroCodec, catalog: Catalog, topic: str
) -> None:
    """The body after the header must decode with the Apache library's own reader."""
    schema = avro.schema.parse(json.dumps(catalog.schema_json(topic)))
    for value in _values(topic)[:5]:
        body = codec.encode(topic, value)[10:]
        decoder = avro.io.BinaryDecoder(io.BytesIO(body))
        assert avro.io.DatumReader(schema).read(decoder) == value


@pytest.mark.parametrize("schema_file", load_catalog().schema_files)
def test_avro_and_fastavro_fingerprints_agree(catalog: Catalog, schema_file: str) -> None:
    schema_data = json.loads(catalog.schema_sources[schema_file])
    from_avro = fingerprint(schema_data)
    from_fastavro = fastavro_fingerprint(to_parsing_canonical_form(schema_data), "CRC-64-AVRO")
    assert len(from_avro) == 8
    assert from_avro.hex() == from_fastavro
    assert fingerprint(avro.schema.parse(json.dumps(schema_data))) == from_avro
    assert fingerprint(json.dumps(schema_data)) == from_avro


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


def test_shared_schema_decodes_on_every_topic_that_carries_it(codec: AvroCodec) -> None:
    data = codec.encode("water.account-transfer-request.v1", _utility_request("WATER"))
    for topic in ("power.account-transfer-request.v1", "gas.account-transfer-request.v1"):
        assert codec.decode(data, expected_topic=topic).value["utility"] == "WATER"


def test_unknown_fingerprint(codec: AvroCodec) -> None:
    data = codec.encode("f03.case-completed.v1", MINIMAL_VALUES["f03.case-completed.v1"])
    foreign = bytes(8 * [0xAB])
    with pytest.raises(UnknownFingerprintError) as caught:
        codec.decode(data[:2] + foreign + data[10:])
    assert caught.value.reason == "unknown-schema"
    assert foreign.hex() in str(caught.value)
    assert caught.value.fingerprint_hex == foreign.hex()


@pytest.mark.parametrize("topic", [DEREGISTERED, TRANSFERRED, "f10.recipient-outcome.v1"])
def test_truncated_body(codec: AvroCodec, topic: str) -> None:
    data = codec.encode(topic, _values(topic)[0])
    for cut in (11, len(data) // 2, len(data) - 1):
        with pytest.raises(MalformedBodyError) as caught:
            codec.decode(data[:cut])
        assert caught.value.reason == "malformed-body"


def test_empty_body_is_malformed(codec: AvroCodec) -> None:
    data = codec.encode(TRANSFERRED, _values(TRANSFERRED)[0])
    with pytest.raises(MalformedBodyError):
        codec.decode(data[:10])


def test_trailing_bytes(codec: AvroCodec) -> None:
    data = codec.encode(DEREGISTERED, _values(DEREGISTERED)[0])
    with pytest.raises(MalformedBodyError) as caught:
        codec.decode(data + b"\x00")
    assert "trailing" in str(caught.value)


def test_bad_enum_index_is_malformed(codec: AvroCodec) -> None:
    topic = "f03.recipient-outcome.v1"
    value = {**MINIMAL_VALUES[topic], "reason": None}
    data = bytearray(codec.encode(topic, value))
    # status is the byte before the final union branch; zig-zag 0x7e is index 63, out of range.
    data[-2] = 0x7E
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
    data = codec.encode("f03.case-completed.v1", MINIMAL_VALUES["f03.case-completed.v1"])
    with pytest.raises(SchemaMismatchError) as caught:
        codec.decode(data, expected_topic="police.seal-cancellation-request.v1")
    assert caught.value.reason == "unexpected-schema"
    assert "SealCancellationRequest" in str(caught.value)
    assert "CaseCompleted" in str(caught.value)
    # Without an expectation the same bytes are fine.
    assert codec.decode(data).schema_name == "govstream.common.CaseCompleted"


def test_unknown_topic(codec: AvroCodec) -> None:
    with pytest.raises(UnknownTopicError) as caught:
        codec.encode("no.such-topic.v1", {})
    assert isinstance(caught.value, KeyError)
    assert "amr.company-deregistered.v1" in str(caught.value)


def _without(value: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != field}


def _changed(topic: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    return topic, {**MINIMAL_VALUES[topic], **changes}


@pytest.mark.parametrize(
    ("topic", "value", "mentions"),
    [
        (
            "f03.case-completed.v1",
            _without(MINIMAL_VALUES["f03.case-completed.v1"], "flow"),
            "flow",
        ),
        (*_changed("f03.recipient-outcome.v1", status="LOST"), "status"),
        (*_changed("housing-fund.account-closure-request.v1", employees="3"), "employees"),
        (*_changed("bank.account-closure-request.v1", id_number="11010519491231002X"), "id_number"),
        ("f10.case-completed.v1", None, "f10.case-completed.v1"),
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


def test_missing_field_with_default_is_accepted(codec: AvroCodec) -> None:
    topic = "f03.recipient-outcome.v1"
    value = _without(MINIMAL_VALUES[topic], "reason")
    assert codec.decode(codec.encode(topic, value)).value["reason"] is None


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
