"""Data minimisation as a contract: what each recipient can receive, through the real codec.

Every request a walked case produced is encoded with its topic's schema (the codec refuses
fields a schema does not name) and decoded again. For every flow, a request may carry only the
fields its contract names, and an identity number of the trigger may travel only under a field
the contract openly names as one. For F03 and F10 the decoded values and raw bytes are also
searched for the sensitive strings of the trigger each request came from, and their schemas
are checked against allow-lists written here, so widening one of those contracts is a
deliberate change to this file.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from expected_topics import REQUEST_TOPICS

from govstream.contracts.codec import AvroCodec, EncodeError
from govstream.pipeline.publication import on_the_wire
from processors import flow
from processors.events import Emit
from processors.flow import FlowSpec

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
TRIGGERS = 200
IDENTITY_FIELD = re.compile(r"(^|_)id_number$")
"""`id_number` or `<party>_id_number`: a resident identity number or a company's USCC."""

_CASE = {"request_id", "case_id"}
_COMPANY = {"uscc", "company_name", "deregistered_on"}
_UTILITY = {
    "utility",
    "account_number",
    "service_address",
    "certificate_no",
    "registered_on",
    "previous_holder_name",
    "new_holder_name",
    "new_holder_phone",
}
ALLOWED_FIELDS: dict[str, dict[str, set[str]]] = {
    "F03": {
        # Police cancel seals: they need the seals and who represents the company, nothing more.
        "police": _CASE | _COMPANY | {"legal_representative_name", "seals", "seal_no", "kind"},
        # Banks close the accounts they hold.
        "bank": _CASE
        | _COMPANY
        | {"accounts", "bank_name", "bank_code", "account_number", "account_kind"},
        # The housing fund closes the unit account.
        "housing-fund": _CASE | _COMPANY | {"unit_account_number", "employees"},
    },
    # Utilities move one account to the new holder: names and a phone, never identity numbers.
    "F10": {"water": _CASE | _UTILITY, "power": _CASE | _UTILITY, "gas": _CASE | _UTILITY},
}


def schema_of(spec: FlowSpec, emit: Emit) -> dict[str, Any]:
    """The request's contract read from the file, so these checks do not trust the loader."""
    step = spec.step(str(emit.step))
    relative = step.schema if step.schema else "common/StepWait.avsc"
    return json.loads((SCHEMAS / relative).read_text(encoding="utf-8"))


def field_names(schema: Any) -> set[str]:
    """All field names of a schema, nested records in arrays, maps and unions included."""
    names: set[str] = set()
    if isinstance(schema, list):
        for option in schema:
            names |= field_names(option)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            for field in schema["fields"]:
                names.add(field["name"])
                names |= field_names(field["type"])
        elif kind == "array":
            names |= field_names(schema["items"])
        elif kind == "map":
            names |= field_names(schema["values"])
        elif isinstance(kind, dict | list):
            names |= field_names(kind)
    return names


def keys_in(value: Any) -> Iterator[str]:
    """Every mapping key anywhere in a value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from keys_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from keys_in(item)


def identity_numbers(value: Any) -> set[str]:
    """The values of every field named like an identity number, however deeply nested."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if IDENTITY_FIELD.search(str(key)) and isinstance(item, str):
                found.add(item)
            else:
                found |= identity_numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= identity_numbers(item)
    return found


def strings_in(value: Any) -> Iterator[str]:
    """Every string anywhere in a decoded value, keys included, however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def leaks(value: Any, encoded: bytes, secrets: set[str]) -> set[str]:
    """The secrets found in the decoded value's strings or, as UTF-8, in the raw bytes."""
    found = {s for s in secrets if any(s in text for text in strings_in(value))}
    return found | {s for s in secrets if s.encode("utf-8") in encoded}


def wire(flow: FlowSpec, case: Any) -> list[Emit]:
    """The case's requests as their topics carry them."""
    return [on_the_wire(flow, emit) for emit in case.requests]


def round_trip(codec: AvroCodec, emit: Emit) -> tuple[dict[str, Any], bytes]:
    encoded = codec.encode(emit.topic, emit.value)
    decoded = codec.decode(encoded, expected_topic=emit.topic)
    assert decoded.value == dict(emit.value), "nothing added or lost on the wire"
    return decoded.value, encoded


# -- every flow -----------------------------------------------------------------------------


def test_requests_carry_only_the_fields_their_contract_names(
    codec: AvroCodec, flow_spec: FlowSpec, walked: Any
) -> None:
    """The projection copies contract fields only: no trigger field rides along unnamed."""
    for case in walked:
        for emit in wire(flow_spec, case):
            allowed = field_names(schema_of(flow_spec, emit))
            carried = set(keys_in(dict(emit.value)))
            assert carried <= allowed, f"{emit.step}: outside the contract: {carried - allowed}"
            round_trip(codec, emit)


def test_identity_numbers_travel_only_where_a_contract_names_them(
    codec: AvroCodec, flow_spec: FlowSpec, walked: Any
) -> None:
    """A trigger's identity numbers may not reach a request under some other field's name."""
    for case in walked:
        secrets = identity_numbers(case.trigger)
        for emit in wire(flow_spec, case):
            names = field_names(schema_of(flow_spec, emit))
            if any(IDENTITY_FIELD.search(name) for name in names):
                continue  # named openly in the contract, where a review of the schema sees it
            value, encoded = round_trip(codec, emit)
            assert not leaks(value, encoded, secrets), f"{flow_spec.id}/{emit.step}"


def test_codec_refuses_a_request_with_a_field_outside_the_contract(
    codec: AvroCodec, flow_spec: FlowSpec, walked: Any
) -> None:
    """The encode-based checks mean something only if extra fields cannot slip through."""
    seen: set[str] = set()
    for case in walked:
        for emit in wire(flow_spec, case):
            if emit.step in seen:
                continue
            seen.add(str(emit.step))
            leaky = {**emit.value, "holder_id_number": "500103199001011234"}
            with pytest.raises(EncodeError):
                codec.encode(emit.topic, leaky)
    assert seen, "no request to try"


def test_generated_triggers_satisfy_their_own_schema(
    codec: AvroCodec, flow_spec: FlowSpec, make_triggers: Callable[..., Any]
) -> None:
    topic = flow_spec.source_topic
    for trigger in make_triggers(flow_spec, 50, seed="minimisation"):
        assert codec.decode(codec.encode(topic, trigger), topic).value == trigger


# -- F03 and F10: what each recipient may and may not see ----------------------------------


def walked_triggers(
    flow_id: str, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> Iterator[tuple[dict[str, Any], list[Emit]]]:
    spec = flow(flow_id)
    rng = random.Random(f"minimisation:{flow_id}")
    for trigger in make_triggers(spec, TRIGGERS, seed="minimisation"):
        yield trigger, walk_case(spec, trigger, rng).requests


def f03_secrets(trigger: dict[str, Any]) -> dict[str, set[str]]:
    return {
        "bank_accounts": {a["account_number"] for a in trigger["bank_accounts"]},
        "housing_fund": (
            {trigger["housing_fund_account"]["unit_account_number"]}
            if trigger["housing_fund_account"]
            else set()
        ),
        "legal_rep_id": {trigger["legal_representative"]["id_number"]},
        "seals": {s["seal_no"] for s in trigger["seals"]},
    }


def test_f03_requests_carry_only_their_recipients_data(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    seen: set[str] = set()
    for trigger, requests in walked_triggers("F03", make_triggers, walk_case):
        secret = f03_secrets(trigger)
        for emit in requests:
            assert emit.topic == REQUEST_TOPICS["F03"][str(emit.step)]
            value, encoded = round_trip(codec, emit)
            recipient = str(emit.recipient)
            seen.add(recipient)
            if recipient == "police":
                forbidden = secret["bank_accounts"] | secret["housing_fund"]
                forbidden |= secret["legal_rep_id"]
                assert not leaks(value, encoded, forbidden)
                # The search does find what is meant to be there.
                assert leaks(value, encoded, secret["seals"]) == secret["seals"]
            elif recipient == "bank":
                forbidden = secret["seals"] | secret["legal_rep_id"] | secret["housing_fund"]
                assert not leaks(value, encoded, forbidden)
                assert leaks(value, encoded, secret["bank_accounts"]) == secret["bank_accounts"]
            else:
                forbidden = secret["seals"] | secret["legal_rep_id"] | secret["bank_accounts"]
                assert not leaks(value, encoded, forbidden)
                assert leaks(value, encoded, secret["housing_fund"]) == secret["housing_fund"]
    assert seen == {"police", "bank", "housing-fund"}


def test_f10_requests_carry_no_identity_numbers_and_only_their_own_account(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    seen: set[str] = set()
    kinds: set[str] = set()
    for trigger, requests in walked_triggers("F10", make_triggers, walk_case):
        kinds.add(trigger["buyer"]["id_kind"])
        identity = {trigger["buyer"]["id_number"], trigger["seller"]["id_number"]}
        accounts = {k: v for k, v in trigger["utility_accounts"].items() if v is not None}
        for emit in requests:
            assert emit.topic == REQUEST_TOPICS["F10"][str(emit.step)]
            value, encoded = round_trip(codec, emit)
            utility = str(emit.recipient)
            seen.add(utility)
            others = {number for name, number in accounts.items() if name != utility}
            assert not leaks(value, encoded, identity | others)
            assert leaks(value, encoded, {accounts[utility]}) == {accounts[utility]}
    assert seen == {"water", "power", "gas"}
    assert kinds == {"RESIDENT_ID", "USCC"}, "company buyers (USCC) are covered too"


@pytest.mark.parametrize(
    ("flow_id", "step"),
    [(flow_id, step) for flow_id, steps in ALLOWED_FIELDS.items() for step in steps],
)
def test_recipient_schema_names_only_allowed_fields(flow_id: str, step: str) -> None:
    schema_file = SCHEMAS / str(flow(flow_id).step(step).schema)
    names = field_names(json.loads(schema_file.read_text("utf-8")))
    allowed = ALLOWED_FIELDS[flow_id][step]
    assert names <= allowed, f"not allowed: {names - allowed}"
    assert not {n for n in names if "id_number" in n}


def test_allow_lists_cover_every_f03_and_f10_step() -> None:
    for flow_id, steps in ALLOWED_FIELDS.items():
        assert set(steps) == {step.id for step in flow(flow_id).steps}


def test_f02_places_learn_the_company_and_its_licence_never_the_holders_identity(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """The register issues to the holder it identifies; the fund, the bank and the register of
    real estate check the licence and seal it issued, and learn nobody's identity number or
    phone."""
    seen: set[str] = set()
    for trigger, requests in walked_triggers("F02", make_triggers, walk_case):
        holder = trigger["legal_representative"]
        private = {holder["id_number"], holder["phone"]}
        for emit in requests:
            if emit.recipient is None:
                continue  # a wait for the company: its request names the step only
            value, encoded = round_trip(codec, emit)
            recipient = str(emit.recipient)
            seen.add(recipient)
            if recipient == "amr":
                assert leaks(value, encoded, private) == private
                continue
            assert not leaks(value, encoded, private), recipient
            assert value["uscc"] == trigger["uscc"]
            assert value["licence_id"].startswith(f"EL{trigger['uscc']}")
    assert seen == {"amr", "housing-fund", "bank", "real-estate"}


def test_f07_links_carry_no_person_the_region_no_phone_the_counter_no_identity_number(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """The links route an envelope and never learn who applied; the handling region handles
    the item on the applicant's name and identity number, and the Yuzhong counter that tells
    the applicant learns the phone, not the identity number (the card is shown in person)."""
    regions = {"cq-district", "sichuan", "other-province"}
    links = {"yukuaiban", "chuanyu-zone", "national-platform"}
    seen: set[str] = set()
    for trigger, requests in walked_triggers("F07", make_triggers, walk_case):
        person = trigger["applicant"]
        identity, phone = {person["id_number"]}, {person["phone"]}
        for emit in requests:
            if emit.recipient is None:
                continue  # the applicant's journey: its request names the step only
            value, encoded = round_trip(codec, emit)
            recipient = str(emit.recipient)
            seen.add(recipient)
            found = leaks(value, encoded, identity | phone | {person["name"]})
            if recipient in links:
                assert not found, (recipient, found)
                assert value["application_number"] == trigger["application_number"]
            elif recipient in regions:
                assert found == identity | {person["name"]}, (recipient, found)
            else:
                assert recipient == "gov-services"
                assert found == phone | {person["name"]}, found
    assert seen == regions | links | {"gov-services"}


def test_f08_systems_share_the_survey_and_only_the_reviewing_clerk_learns_the_contact(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """Each system recognises the survey result and learns no one's contact; construction's
    review learns whom to chase for a missing document, its completion does not."""
    seen: set[str] = set()
    for trigger, requests in walked_triggers("F08", make_triggers, walk_case):
        developer = trigger["developer"]
        contact = {developer["contact_name"], developer["contact_phone"]}
        for emit in requests:
            if emit.recipient is None:
                continue  # the developer's late document: its request names the step only
            value, encoded = round_trip(codec, emit)
            step = str(emit.step)
            seen.add(step)
            found = leaks(value, encoded, contact)
            if step.startswith("review"):
                assert found == contact, step
            else:
                assert not found, step
            if step.startswith("recognise-"):
                assert value["result_number"] == trigger["survey"]["result_number"]
    assert {"recognise-construction", "recognise-real-estate", "recognise-drc"} <= seen
    assert {"review", "review-after-document", "completion"} <= seen


def test_f11_only_the_refund_decision_learns_the_refund_account(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """The declaration is the taxes, the pre-fill the credit figures; only the decision, which
    pays the refund, learns the account it is paid into."""
    seen: set[str] = set()
    spec = flow("F11")
    rng = random.Random("minimisation:F11")
    refunds = {"general_share": 0.5, "refund_probability": 0.5, "prefilled_share": 0.5}
    for trigger in make_triggers(spec, TRIGGERS, seed="minimisation", population=refunds):
        requests = walk_case(spec, trigger, rng).requests
        application = trigger["refund_application"]
        private = {application["refund_account_number"]} if application else set()
        for emit in requests:
            if emit.recipient is None:
                continue  # a wait for the taxpayer: its request names the step only
            value, encoded = round_trip(codec, emit)
            step = str(emit.step)
            seen.add(step)
            assert value["uscc"] == trigger["uscc"]
            if step.endswith("refund-decision"):
                assert leaks(value, encoded, private) == private
                assert "merged_taxes" not in value, "the refund desk needs none of the other taxes"
                continue
            assert not leaks(value, encoded, private), step
    assert seen == {s.id for s in spec.steps if not s.is_wait}


def test_f20_each_department_learns_the_company_from_the_register_and_only_what_it_needs(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """The transport bureau licenses nobody and learns no identity number; the food desk only
    the representative's name; the health commission and hrss the representative who signs or
    is licensed. Nobody but the transport bureau, which supervises, has the phone, and nobody
    learns another way's premises or vehicles."""
    seen: set[str] = set()
    for trigger, requests in walked_triggers("F20", make_triggers, walk_case):
        holder = trigger["legal_representative"]
        for emit in requests:
            if emit.recipient is None:
                continue  # the company's own filing, commitment or application: nothing restated
            value, encoded = round_trip(codec, emit)
            recipient = str(emit.recipient)
            seen.add(recipient)
            assert recipient == trigger["department"]
            assert value["uscc"] == trigger["uscc"]
            identity = leaks(value, encoded, {holder["id_number"]})
            assert bool(identity) == (recipient in {"health", "hrss"}), recipient
            assert bool(leaks(value, encoded, {holder["phone"]})) == (recipient == "transport")
    assert seen == {"transport", "amr", "health", "hrss"}


def test_f05_sources_learn_the_company_and_who_asks_never_the_loan_or_its_signatory(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """Tax, hrss and drc answer a bank's query on the company's authorisation: they learn the
    company, the bank and the authorisation, not what the company asked for nor who signed;
    the bank's decision carries the sources' answers, and nobody's identity number."""
    seen: set[str] = set()
    for trigger, requests in walked_triggers("F05", make_triggers, walk_case):
        signatory = trigger["legal_representative"]
        private = {signatory["id_number"], signatory["phone"], signatory["name"]}
        for emit in requests:
            if emit.recipient is None:
                continue  # the bank's deadline: its request names the step only
            value, encoded = round_trip(codec, emit)
            recipient = str(emit.recipient)
            seen.add(recipient)
            assert not leaks(value, encoded, private), recipient
            assert value["uscc"] == trigger["uscc"]
            if recipient == "bank":
                assert value["amount_yuan"] == trigger["amount_yuan"]
                continue
            assert "amount_yuan" not in value and "term_months" not in value, recipient
            assert value["authorisation_no"] == trigger["authorisation_no"]
            assert value["bank_code"] == trigger["bank"]["bank_code"]
    assert seen == {"tax", "hrss", "drc", "bank"}


def test_f06_a_matched_bank_learns_the_demand_and_its_own_product_never_the_contact(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """Each bank the platform matched sees the company's demand and its own product: not the
    contact person, whom the platform keeps until the company chooses, nor the other banks
    matched; the platform's record of the choice carries the offers, and no contact either."""
    seen: set[str] = set()
    for trigger, requests in walked_triggers("F06", make_triggers, walk_case):
        contact = {trigger["contact"]["name"], trigger["contact"]["phone"]}
        products = {p["bank_code"]: p["product_code"] for p in trigger["matched_products"]}
        for emit in requests:
            if emit.recipient is None:
                continue  # the company's deadline: its request names the step only
            value, encoded = round_trip(codec, emit)
            recipient = str(emit.recipient)
            seen.add(recipient)
            assert not leaks(value, encoded, contact), recipient
            if recipient == "bank":
                others = set(products.values()) - {products[value["bank_code"]]}
                assert value["product_code"] == products[value["bank_code"]]
                assert not leaks(value, encoded, others), "another bank's product"
    assert seen == {"bank", "finance-office"}


def test_f21_only_the_issuing_bank_learns_the_bidders_account(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """A bank reviews the applicant's account and charges its fee to it; an insurer underwrites
    the applicant and reaches its contact, the premium paid on the platform; the platform
    verifies the guarantee's number with its issuer and learns neither the account nor the
    contact."""
    seen: set[str] = set()
    for trigger, requests in walked_triggers("F21", make_triggers, walk_case):
        bidder = trigger["bidder"]
        account, contact = {bidder["account_number"]}, {bidder["contact_phone"]}
        for emit in requests:
            if emit.recipient is None:
                continue  # the bid's close: its request names the step only
            value, encoded = round_trip(codec, emit)
            recipient = str(emit.recipient)
            seen.add(recipient)
            assert bool(leaks(value, encoded, account)) == (recipient == "bank"), recipient
            assert bool(leaks(value, encoded, contact)) == (recipient != "finance-bureau")
            assert value["project_no"] == trigger["project_no"]
    assert seen == {"bank", "insurer", "finance-bureau"}


def test_f18_a_push_names_its_one_enterprise_and_departments_no_contact(
    codec: AvroCodec, make_triggers: Callable[..., Any], walk_case: Callable[..., Any]
) -> None:
    """The platform's push to an enterprise carries that enterprise alone, never the directory
    it was matched in; a department settles a request knowing the enterprise, not its contact,
    which only the platform's feedback carries."""
    seen: set[str] = set()
    for trigger, requests in walked_triggers("F18", make_triggers, walk_case):
        directory = {e["uscc"] for e in trigger["directory"] or ()}
        phones = {e["contact_phone"] for e in trigger["directory"] or ()}
        if trigger["request"] is not None:
            phones = {trigger["request"]["enterprise"]["contact_phone"]}
        for emit in requests:
            value, encoded = round_trip(codec, emit)
            recipient = str(emit.recipient)
            seen.add(recipient)
            if emit.step == "push":
                assert leaks(value, encoded, directory) == {value["uscc"]}
                assert leaks(value, encoded, phones) == {value["contact_phone"]}
            elif emit.step == "feedback":
                assert leaks(value, encoded, phones) == phones
            else:
                assert not leaks(value, encoded, phones), recipient
    assert seen == {"gov-services", "industry-department", "amr", "tax", "hrss"}
