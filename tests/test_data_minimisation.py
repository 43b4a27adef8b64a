"""Data minimisation as a contract: what each recipient can receive, through the real codec.

Every request is encoded with its topic's schema (the codec refuses fields a schema does not
name) and decoded again; the decoded values and the raw bytes are then searched for the
sensitive strings of the trigger the request came from. The schemas themselves are checked
against allow-lists written here, so widening a contract is a deliberate change to this file.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from expected_topics import REQUEST_TOPICS

from govstream.contracts.codec import AvroCodec, EncodeError
from processors import flow
from processors.events import Emit
from processors.fanout import FanOut
from producers import SOURCES

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
TRIGGERS = 200
ON = dt.date(2021, 6, 1)

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
ALLOWED_FIELDS: dict[str, set[str]] = {
    # Police cancel seals: they need the seals and who represents the company, nothing more.
    "police": _CASE | _COMPANY | {"legal_representative_name", "seals", "seal_no", "kind"},
    # Banks close the accounts they hold.
    "bank": _CASE
    | _COMPANY
    | {"accounts", "bank_name", "bank_code", "account_number", "account_kind"},
    # The housing fund closes the unit account.
    "housing-fund": _CASE | _COMPANY | {"unit_account_number", "employees"},
    # Utilities move one account to the new holder: names and a phone, never identity numbers.
    "water": _CASE | _UTILITY,
    "power": _CASE | _UTILITY,
    "gas": _CASE | _UTILITY,
}


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec()


def triggers(flow_id: str, count: int = TRIGGERS) -> list[dict[str, Any]]:
    make = SOURCES[flow_id].generator(random.Random(f"minimisation:{flow_id}"), {})
    return [make(f"{flow_id}-{n:07d}", ON) for n in range(1, count + 1)]


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


def round_trip(codec: AvroCodec, emit: Emit) -> tuple[dict[str, Any], bytes]:
    topic = REQUEST_TOPICS[str(emit.recipient)]
    assert emit.topic == topic, "the route's topic is the recipient's own request topic"
    encoded = codec.encode(topic, emit.value)
    decoded = codec.decode(encoded, expected_topic=topic)
    assert decoded.value == dict(emit.value), "nothing added or lost on the wire"
    return decoded.value, encoded


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


def test_generated_triggers_satisfy_their_own_schema(codec: AvroCodec) -> None:
    for flow_id in ("F03", "F10"):
        topic = flow(flow_id).source_topic
        for trigger in triggers(flow_id, 50):
            assert codec.decode(codec.encode(topic, trigger), topic).value == trigger


def test_f03_requests_encode_and_carry_only_their_recipients_data(codec: AvroCodec) -> None:
    fanout = FanOut(flow("F03"))
    seen: set[str] = set()
    for trigger in triggers("F03"):
        secret = f03_secrets(trigger)
        for emit in fanout.process(trigger):
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
    codec: AvroCodec,
) -> None:
    fanout = FanOut(flow("F10"))
    seen: set[str] = set()
    for trigger in triggers("F10"):
        identity_numbers = {trigger["buyer"]["id_number"], trigger["seller"]["id_number"]}
        accounts = {k: v for k, v in trigger["utility_accounts"].items() if v is not None}
        for emit in fanout.process(trigger):
            value, encoded = round_trip(codec, emit)
            utility = str(emit.recipient)
            seen.add(utility)
            others = {number for name, number in accounts.items() if name != utility}
            assert not leaks(value, encoded, identity_numbers | others)
            assert leaks(value, encoded, {accounts[utility]}) == {accounts[utility]}
    assert seen == {"water", "power", "gas"}
    kinds = {t["buyer"]["id_kind"] for t in triggers("F10")}
    assert kinds == {"RESIDENT_ID", "USCC"}, "company buyers (USCC) are covered too"


def test_codec_refuses_a_request_with_a_field_outside_the_contract(codec: AvroCodec) -> None:
    """The encode-based checks above mean something only if extra fields cannot slip through."""
    trigger = triggers("F03", 1)[0]
    police = next(e for e in FanOut(flow("F03")).process(trigger) if e.recipient == "police")
    leaky = {
        **police.value,
        "legal_representative_id": trigger["legal_representative"]["id_number"],
    }
    with pytest.raises(EncodeError):
        codec.encode(REQUEST_TOPICS["police"], leaky)


def field_names(schema: Any) -> set[str]:
    """All field names of a schema, nested records in arrays and unions included."""
    names: set[str] = set()
    if isinstance(schema, list):
        for option in schema:
            names |= field_names(option)
    elif isinstance(schema, dict):
        if schema.get("type") == "record":
            for field in schema["fields"]:
                names.add(field["name"])
                names |= field_names(field["type"])
        elif schema.get("type") == "array":
            names |= field_names(schema["items"])
        elif isinstance(schema.get("type"), dict | list):
            names |= field_names(schema["type"])
    return names


def catalog_topics() -> dict[str, Any]:
    """The catalog file read directly, so these checks do not trust the catalog loader."""
    return yaml.safe_load((SCHEMAS / "catalog.yaml").read_text(encoding="utf-8"))["topics"]


def catalog_schema_file(topic: str) -> Path:
    return SCHEMAS / catalog_topics()[topic]["schema"]


@pytest.mark.parametrize("recipient", sorted(REQUEST_TOPICS))
def test_recipient_schema_names_only_allowed_fields(recipient: str) -> None:
    schema = json.loads(catalog_schema_file(REQUEST_TOPICS[recipient]).read_text("utf-8"))
    names = field_names(schema)
    assert names <= ALLOWED_FIELDS[recipient], f"not allowed: {names - ALLOWED_FIELDS[recipient]}"
    assert not {n for n in names if "id_number" in n}


@pytest.mark.parametrize("recipient", sorted(REQUEST_TOPICS))
def test_recipient_reads_only_its_own_request_topic(recipient: str) -> None:
    topics = catalog_topics()
    readable = {name for name, spec in topics.items() if recipient in spec["consumers"]}
    assert readable == {REQUEST_TOPICS[recipient]}
