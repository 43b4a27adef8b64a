"""Personal data is marked in the contracts, and every field that carries it is.

Two independent ways of finding personal data must agree with the marks:

- by name: a field named like a name, phone, identity number, address or account is marked,
  unless it is listed in ``NOT_PERSONAL`` here with the reason (a company's name, a bank);
- by value: every case the flows' own producers generate is walked through its steps, and any
  string that looks like a resident identity number, a mobile phone, a bank account or a
  payment card must sit in a marked field of that message; and a value marked anywhere in a
  case is personal wherever it travels, so it must be marked in every message that carries it.

Marks are custom attributes, which Avro's parsing canonical form drops: fingerprints and the
wire format are unchanged, which is checked too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flow_kit import progress_records, strings_in
from stdnum import luhn
from stdnum.cn import ric

from govstream.contracts.codec import AvroCodec, EncodeError, fingerprint
from govstream.contracts.personal import (
    ATTRIBUTE,
    KINDS,
    marked_fields,
    personal_values,
    scrub,
    values_at,
)
from govstream.contracts.samples import sample_value
from processors import FLOWS
from processors.flow import FlowSpec
from producers.identifiers import BANKS

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
SCHEMA_FILES = sorted(SCHEMAS.glob("*/*.avsc"))
PERSONAL_NAME = re.compile(
    r"(^|_)(name|phone|id_number|address|account|account_number|card_number)$"
)
NOT_PERSONAL = {
    "company_name": "a company's name",
    "employer_name": "the employer, a company",
    "supplier_name": "the supplier, a company",
    "payee_name": "the payee of a procurement payment: the supplier, a company",
    "project_name": "a procurement project",
    "bank_name": "a bank",
    "payee_bank_name": "a bank",
    "previous_region_name": "a region of China",
    "PreviousInsurance.region_name": "a region of China",
    "registered_address": "a company's registered seat",
    "Purchaser.name": "the purchasing budget unit, a public body",
    "Supplier.name": "the supplier, a company",
    "administrator_name": "a bankruptcy administrator, a law firm",
    "Item.name": "a government service item (政务服务事项)",
    "item_name": "a government service item (政务服务事项)",
    "HandlingRegion.region_name": "a region of China",
    "handling_region_name": "a region of China",
    "developer_name": "the developer, a company",
    "surveyor_name": "the surveying firm, a company",
    "Project.name": "a construction project",
    "taxpayer_name": "the taxpayer, a company named by its USCC (its taxpayer number)",
    "premises_address": "where a company operates its licensed business",
    "Premises.address": "where a company operates its licensed business",
    "bidder_name": "the bidder, a company",
    "Bidder.name": "the bidder, a company",
    "beneficiary_name": "the beneficiary of a guarantee: the purchaser, a public body",
    "Beneficiary.name": "the beneficiary of a guarantee: the purchaser, a public body",
    "Issuer.name": "the issuer of a guarantee: a bank or an insurer",
    "Enterprise.name": "an enterprise of the service platform's directory, a company",
    "AskingEnterprise.name": "the enterprise that asks, a company",
}
"""Fields named like personal data that are not: each exemption says why."""


def schema_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def fields_of(schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every field of every record defined in a schema, with its record's name."""
    if isinstance(schema, list):
        for branch in schema:
            yield from fields_of(branch)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            for field in schema["fields"]:
                yield str(schema["name"]), field
                yield from fields_of(field["type"])
        elif kind == "array":
            yield from fields_of(schema["items"])
        elif kind == "map":
            yield from fields_of(schema["values"])
        elif isinstance(kind, dict | list):
            yield from fields_of(kind)


def textual(avro_type: Any) -> bool:
    """A string, or a string that may be null: where a name or a number is written down."""
    if isinstance(avro_type, list):
        return any(textual(branch) for branch in avro_type)
    return avro_type == "string"


def exempt(record: str, field: str) -> bool:
    return field in NOT_PERSONAL or f"{record}.{field}" in NOT_PERSONAL


# -- by name --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fields_named_like_personal_data_are_marked(path: Path) -> None:
    unmarked = [
        f"{record}.{field['name']}"
        for record, field in fields_of(schema_of(path))
        if PERSONAL_NAME.search(field["name"])
        and textual(field["type"])
        and ATTRIBUTE not in field
        and not exempt(record, field["name"])
    ]
    assert not unmarked, f'personal data not marked "{ATTRIBUTE}": {unmarked}'


def test_every_mark_names_a_known_kind_and_exemptions_are_used() -> None:
    used: set[str] = set()
    marks = 0
    for path in SCHEMA_FILES:
        for record, field in fields_of(schema_of(path)):
            if ATTRIBUTE in field:
                marks += 1
                assert field[ATTRIBUTE] in KINDS, f"{path.name} {record}.{field['name']}"
                assert not exempt(record, field["name"]), "marked and exempted at once"
            for key in (field["name"], f"{record}.{field['name']}"):
                if key in NOT_PERSONAL:
                    used.add(key)
    assert marks >= 80
    assert used == set(NOT_PERSONAL), f"exemptions for no field: {set(NOT_PERSONAL) - used}"


# -- by value -------------------------------------------------------------------------------

MOBILE = re.compile(r"1[3-9]\d{9}")


def resident_id(text: str) -> bool:
    """Shaped like a resident identity number, judged by python-stdnum.

    `ric.is_valid` turns every validation error into False, but where a number's check digit
    and birth date hold and its division code names a province and no county of it (F09's tax
    certificate numbers, 35001 and a serial, can), its county lookup raises KeyError instead
    (python-stdnum 2.2): no resident's number, whose code is always a county's. That one error
    is read as "no ID"; any other is not expected, and fails the scan rather than pass a value
    it could not judge."""
    try:
        return bool(ric.is_valid(text))
    except KeyError:
        return False


def looks_personal(text: str) -> str | None:
    """What kind of personal number ``text`` is, judged by its shape alone."""
    if len(text) == 18 and resident_id(text):
        return "identity-number"
    if MOBILE.fullmatch(text):
        return "phone"
    if text.isdigit():
        if any(text.startswith(b.account_prefix) and len(text) == b.account_length for b in BANKS):
            return "account-number"
        if 16 <= len(text) <= 19 and text.startswith("62") and luhn.is_valid(text):
            return "account-number"
    return None


def messages(case: Any, spec: FlowSpec) -> Iterator[tuple[str, dict[str, Any]]]:
    yield spec.source_topic, dict(case.trigger)
    for emit in (*case.requests, *case.outcomes):
        yield emit.topic, dict(emit.value)


def test_generated_personal_values_sit_in_marked_fields(
    codec: AvroCodec, flow_spec: FlowSpec, walked: Any
) -> None:
    marked_of = {
        topic: marked_fields(codec.catalog.schema_json(topic)) for topic in codec.catalog.topics
    }

    for case in walked:
        found = unmarked_personal(list(messages(case, flow_spec)), marked_of)
        assert not found, found


def unmarked_personal(
    sent: list[tuple[str, dict[str, Any]]], marked_of: dict[str, dict[str, str]]
) -> list[str]:
    """What one case's messages carry unmarked: a value shaped like a personal number, or a
    value marked personal in another message of the case."""

    # A marked map (an outcome's reply) may carry personal data among other things: what it
    # holds is allowed there, but does not make the same value personal elsewhere.
    def strings_marked(topic: str, value: dict[str, Any]) -> set[str]:
        return {
            item
            for path in marked_of[topic]
            for item in values_at(value, path)
            if isinstance(item, str)
        }

    found = [(t, v, personal_values(marked_of[t], v)) for t, v in sent]
    personal = set().union(*(strings_marked(t, v) for t, v, _ in found))
    problems: list[str] = []
    for topic, value, marked in found:
        for text in strings_in(value):
            if text in marked:
                continue
            if kind := looks_personal(text):
                problems.append(f"{topic}: a {kind} in an unmarked field")
            elif text in personal:
                problems.append(f"{topic}: a value marked personal elsewhere travels unmarked")
    return problems


def test_the_value_scan_reports_what_it_should(codec: AvroCodec, all_walked: Any) -> None:
    """The scan above passes only if it can fail: a request of an F03 case that carries, in a
    field its contract does not mark, the trigger's identity number (personal by its shape) or
    its representative's name (personal because the trigger marks it), is reported."""
    marked_of = {
        topic: marked_fields(codec.catalog.schema_json(topic)) for topic in codec.catalog.topics
    }
    sent = list(messages(all_walked["F03"][0], FLOWS["F03"]))
    assert unmarked_personal(sent, marked_of) == []
    trigger = sent[0][1]["legal_representative"]
    # a request that carries neither value: the police's carries the name, marked
    request_topic, request = next(
        (topic, value)
        for topic, value in sent[1:]
        if not {trigger["name"], trigger["id_number"]} & personal_values(marked_of[topic], value)
    )
    field = next(
        key
        for key, value in request.items()
        if isinstance(value, str) and key not in marked_of[request_topic]
    )

    def leaked(text: str) -> list[str]:
        return unmarked_personal([sent[0], (request_topic, {**request, field: text})], marked_of)

    assert looks_personal(trigger["id_number"]) == "identity-number"
    assert leaked(trigger["id_number"]) == [
        f"{request_topic}: a identity-number in an unmarked field"
    ]
    assert looks_personal(trigger["name"]) is None
    assert leaked(trigger["name"]) == [
        f"{request_topic}: a value marked personal elsewhere travels unmarked"
    ]


def test_a_resident_id_is_judged_by_its_shape_and_an_unexpected_error_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert resident_id("110101199001011237")  # Beijing Dongcheng, 1 January 1990
    assert not resident_id("110101199001011238")  # its check digit off by one
    assert not resident_id("110101199013011234")  # no 13th month, check digit right
    # Check digit and date hold, but the code names Beijing and no county of it: python-stdnum
    # trips over its county lookup (KeyError), which reads as no ID.
    assert not resident_id("110300199001011231")
    assert not resident_id("350012178109056213")  # an F09 tax certificate number

    def broken(_: str) -> bool:
        raise RuntimeError("the division table could not be read")

    monkeypatch.setattr(ric, "is_valid", broken)
    with pytest.raises(RuntimeError):
        resident_id("110101199001011237")


def test_progress_records_carry_no_personal_data(
    codec: AvroCodec, flow_spec: FlowSpec, walked: Any
) -> None:
    """The collector reads the progress records: their contract marks nothing, and no value
    of a case, personal or shaped like a personal number, reaches them."""
    assert marked_fields(codec.catalog.schema_json(flow_spec.progress_topic)) == {}
    # A scored case carries no personal data of its own; its signals may (a complainant's name
    # and phone), and none of that may reach its records either. A sample of each signal is
    # drawn once: drawing one builds its source's population of entities.
    signalled: set[str] = set()
    for topic in flow_spec.scoring.topics if flow_spec.scoring is not None else ():
        marked = marked_fields(codec.catalog.schema_json(topic))
        signalled |= personal_values(marked, sample_value(topic))
    for case in walked:
        carried = signalled | {
            text
            for topic, value in messages(case, flow_spec)
            for text in personal_values(marked_fields(codec.catalog.schema_json(topic)), value)
        }
        # A flow whose trigger marks nothing personal (F12's records are of companies) is
        # still checked for values shaped like a personal number.
        source_marks = marked_fields(codec.catalog.schema_json(flow_spec.source_topic))
        assert carried or not (source_marks or flow_spec.scoring), "the check is not vacuous"
        records, _ = progress_records(flow_spec, case.trigger, case.outcomes)
        for record in records:
            codec.encode(flow_spec.progress_topic, record)
            for text in strings_in(record):
                assert text not in carried and looks_personal(text) is None, text


def test_the_value_checks_find_every_kind_of_number(all_walked: dict[str, Any]) -> None:
    """The shape checks above mean something only if the generators' numbers match them."""
    kinds: set[str] = set()
    for cases in all_walked.values():
        for case in cases:
            kinds.update(filter(None, map(looks_personal, strings_in(dict(case.trigger)))))
    assert kinds == {"identity-number", "phone", "account-number"}


# -- marks change nothing on the wire --------------------------------------------------------


def without_marks(schema: Any) -> Any:
    if isinstance(schema, list):
        return [without_marks(item) for item in schema]
    if isinstance(schema, dict):
        return {k: without_marks(v) for k, v in schema.items() if k != ATTRIBUTE}
    return schema


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_marks_leave_the_fingerprint_unchanged(path: Path) -> None:
    schema = schema_of(path)
    assert fingerprint(schema) == fingerprint(without_marks(schema))


def test_marked_paths_reach_nested_records_arrays_and_maps() -> None:
    fields = marked_fields(schema_of(SCHEMAS / "f01" / "CompanyEstablished.avsc"))
    assert fields["legal_representative.id_number"] == "identity-number"
    assert fields["employees[].name"] == "name"
    outcome = marked_fields(schema_of(SCHEMAS / "common" / "StepOutcome.avsc"))
    assert outcome == {"reply": "account-number"}
    buyer = marked_fields(schema_of(SCHEMAS / "f10" / "PropertyTransferRegistered.avsc"))
    assert buyer["buyer.id_number"] == "identity-number", "a named type used again is followed"


# -- keeping it out of text -----------------------------------------------------------------


def test_scrub_masks_marked_values_and_long_numbers() -> None:
    text = "cannot act for 王小明 (500103199001011234, phone 13812345678) at 民族路1号"
    cleaned = scrub(text, {"王小明", "民族路1号"})
    for secret in ("王小明", "500103199001011234", "13812345678", "民族路1号"):
        assert secret not in cleaned
    assert "cannot act for" in cleaned


def test_an_encode_error_quoting_a_record_is_scrubbed(codec: AvroCodec, make_triggers: Any) -> None:
    """fastavro's error text quotes the bad record's values; what reaches a dead-letter header
    is scrubbed of the record's personal values first."""
    spec = FLOWS["F03"]
    trigger = make_triggers(spec, 1, seed="scrub")[0]
    person = trigger["legal_representative"]
    broken = {**trigger, "legal_representative": {**person, "name": [person["name"]]}}
    with pytest.raises(EncodeError) as raised:
        codec.encode(spec.source_topic, broken)
    secrets = personal_values(marked_fields(codec.catalog.schema_json(spec.source_topic)), trigger)
    assert any(secret in str(raised.value) for secret in secrets), "the check is not vacuous"
    cleaned = scrub(str(raised.value), secrets)
    assert not any(secret in cleaned for secret in secrets)


# -- what a user is shown -------------------------------------------------------------------


def test_schemas_personal_lists_the_topics_holding_personal_data_and_their_readers() -> None:
    from cli_runner import govstream

    result = govstream("schemas", "--personal")
    assert result.returncode == 0, result.stderr
    rows = {
        cells[0]: cells[1:]
        for line in result.stdout.splitlines()
        if line.startswith("│")
        for cells in [[cell.strip() for cell in line.strip("│").split("│")]]
    }
    assert rows["police.seal-cancellation-request.v1"] == ["name", "police"]
    assert rows["amr.company-deregistered.v1"][1] == "platform"
    assert "identity-number" in rows["amr.company-deregistered.v1"][0]
    assert rows["f03.bank.step-outcome.v1"] == ["account-number", "platform"]
    assert "f03.step-outcome.v1" not in rows, "retired"
    assert "f03.case-completed.v1" not in rows, "a topic without personal data is not listed"
    assert "f03.case-progress.v1" not in rows
    assert not [topic for topic, (_, readers) in rows.items() if "collector" in readers]
    assert all(kinds for kinds, _ in rows.values())
