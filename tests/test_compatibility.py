"""Schema evolution rules, exercised on variants of the real contracts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from govstream.contracts.catalog import load_catalog
from govstream.contracts.compatibility import (
    check,
    check_backward,
    check_forward,
    check_full,
)
from processors import flow

SEALS = str(flow("F03").step("police").topic)
OUTCOME = flow("F03").outcome_topic("bank")
COMPLETED = flow("F03").completed_topic


def _schema(topic: str = SEALS) -> dict[str, Any]:
    return load_catalog().schema_json(topic)


def _with_field(schema: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(schema)
    changed["fields"].append(field)
    return changed


def _without_field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    changed = copy.deepcopy(schema)
    changed["fields"] = [f for f in changed["fields"] if f["name"] != name]
    assert len(changed["fields"]) == len(schema["fields"]) - 1
    return changed


def _retyped(schema: dict[str, Any], name: str, new_type: Any) -> dict[str, Any]:
    changed = copy.deepcopy(schema)
    (field,) = [f for f in changed["fields"] if f["name"] == name]
    field["type"] = new_type
    return changed


def test_schema_is_compatible_with_itself() -> None:
    old = _schema()
    assert check(old, old).compatible
    assert check_full(old, old).compatible
    assert check_full(old, old).messages == []


def test_added_field_with_default_is_backward_and_forward_compatible() -> None:
    old = _schema()
    new = _with_field(old, {"name": "note", "type": ["null", "string"], "default": None})
    assert check_backward(new, old).compatible
    assert check_forward(new, old).compatible
    assert check_full(new, old).compatible


def test_added_field_without_default_is_not_backward_compatible() -> None:
    old = _schema()
    new = _with_field(old, {"name": "seal_office", "type": "string"})
    backward = check_backward(new, old)
    assert not backward.compatible
    assert any("seal_office" in message for message in backward.messages)
    # Old readers simply skip the new field.
    assert check_forward(new, old).compatible
    assert not check_full(new, old).compatible


def test_removed_field_without_default_breaks_forward_compatibility() -> None:
    old = _schema()
    new = _without_field(old, "legal_representative_name")
    forward = check_forward(new, old)
    assert not forward.compatible
    assert any("legal_representative_name" in message for message in forward.messages)
    assert check_backward(new, old).compatible


def test_removed_field_with_default_stays_forward_compatible() -> None:
    old = _schema(OUTCOME)
    new = _without_field(old, "reason")
    assert check_forward(new, old).compatible
    assert check_backward(new, old).compatible


@pytest.mark.parametrize("field", ["uscc", "company_name"])
def test_string_to_int_is_incompatible_both_ways(field: str) -> None:
    old = _schema()
    new = _retyped(old, field, "int")
    assert not check_backward(new, old).compatible
    assert not check_forward(new, old).compatible
    full = check_full(new, old)
    assert not full.compatible
    assert any(m.startswith("backward:") for m in full.messages)
    assert any(m.startswith("forward:") for m in full.messages)


def test_int_to_long_is_a_promotion_for_new_readers_only() -> None:
    old = _schema("housing-fund.account-closure-request.v1")
    new = _retyped(old, "employees", "long")
    assert check_backward(new, old).compatible
    assert not check_forward(new, old).compatible


def test_removing_an_enum_symbol_breaks_new_readers() -> None:
    old = _schema(OUTCOME)
    new = copy.deepcopy(old)
    (status,) = [f for f in new["fields"] if f["name"] == "status"]
    status["type"]["symbols"] = ["COMPLETED"]
    assert not check_backward(new, old).compatible
    assert check_forward(new, old).compatible


def test_every_contract_is_fully_compatible_with_itself() -> None:
    catalog = load_catalog()
    for name in catalog.topics:
        result = check_full(catalog.schema_json(name), catalog.avro_schema(name))
        assert result.compatible, (name, result.messages)


def test_removing_the_reply_breaks_no_reader_that_has_a_default() -> None:
    """Old outcome readers (no reply field) read new outcomes; new readers default the reply."""
    new = _schema(OUTCOME)
    old = _without_field(new, "reply")
    assert check_full(new, old).compatible


def test_cancelled_steps_listed_apart_is_a_fully_compatible_change() -> None:
    """CaseCompleted gained `cancelled`, with a default: a source agency's system built on the
    schema before it reads new completions, and one built on the new schema reads old ones."""
    new = _schema(COMPLETED)
    old = _without_field(new, "cancelled")
    assert check_full(new, old).compatible
    assert not check_backward(_without_default(new, "cancelled"), old).compatible, (
        "the default is what makes it so"
    )


def _without_default(schema: dict[str, Any], name: str) -> dict[str, Any]:
    changed = copy.deepcopy(schema)
    (field,) = [f for f in changed["fields"] if f["name"] == name]
    del field["default"]
    return changed


def test_accepts_json_text() -> None:
    old = _schema()
    assert check(json.dumps(old), json.dumps(old))
