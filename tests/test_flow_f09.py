"""F09: a transfer registration at the counter fetches tax's electronic payment certificate,
then registers with it; the applicant's wait is the measure."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from flow_kit import answer_value, field_names, generate, only, strings_in

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.orchestrator import Orchestrator, case_marks
from producers.real_estate_registration import RegistrationMix

FLOW = FLOWS["F09"]
ON = dt.date(2021, 6, 21)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "property-registration-tax.yaml"


def triggers(count: int, seed: int = 1, **mix: Any) -> list[dict[str, Any]]:
    return generate(FLOW, count, seed=seed, on=ON, **mix)


# -- the trigger ----------------------------------------------------------------------------


def test_triggers_round_trip_through_their_contract(codec: AvroCodec) -> None:
    for trigger in triggers(300):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger


def test_the_kind_of_transfer_decides_the_parties_and_papers() -> None:
    kinds = set()
    for trigger in triggers(600):
        kind = trigger["registration_kind"]
        kinds.add(kind)
        assert (trigger["contract_no"] is not None) == (kind in ("SALE", "NEW_HOUSE"))
        assert (trigger["previous_certificate_no"] is None) == (kind == "NEW_HOUSE")
        if kind == "NEW_HOUSE":
            assert trigger["transferor"]["id_kind"] == "USCC"  # the developer
        if kind == "INHERITANCE":
            assert trigger["transferor"]["phone"] is None  # the deceased
        assert trigger["transferees"] and trigger["taxable_value_yuan"] > 0
        assert len(trigger["property"]["unit_no"]) == 28
    assert kinds == {"SALE", "NEW_HOUSE", "GIFT", "INHERITANCE"}


def test_kind_weights_steer_the_mix() -> None:
    only_gifts = triggers(100, kind_weights=[0, 0, 1, 0])
    assert {t["registration_kind"] for t in only_gifts} == {"GIFT"}
    with pytest.raises(ValueError, match="kind_weights"):
        RegistrationMix(kind_weights=(1.0,))


# -- the steps ------------------------------------------------------------------------------


def test_tax_is_asked_first_and_learns_no_phones(codec: AvroCodec) -> None:
    for trigger in triggers(100):
        opened = Orchestrator(FLOW).open(None, trigger, 0.0, 0.0)
        request = only(opened.emits)
        assert request.step == "tax-certificate" and request.recipient == "tax"
        assert set(request.value) == field_names(request.topic)
        codec.decode(codec.encode(request.topic, request.value), request.topic)
        parties = [trigger["transferor"], *trigger["transferees"]]
        sent = set(strings_in(dict(request.value)))
        assert {p["id_number"] for p in parties} <= sent  # tax needs every taxpayer
        assert not {p["phone"] for p in parties if p["phone"]} & sent
        assert trigger["previous_certificate_no"] not in sent
        roles = [t["role"] for t in request.value["taxpayers"]]
        assert roles == ["TRANSFEROR"] + ["TRANSFEREE"] * len(trigger["transferees"])


def test_certificate_number_reaches_the_registration_request(codec: AvroCodec) -> None:
    trigger = triggers(1)[0]
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, trigger, 0.0, 0.1)
    outcome = answer_value(FLOW, only(opened.emits), random.Random(4))
    number = outcome["reply"]["tax_certificate_no"]
    assert number.isdigit() and len(number) == 18 and number.startswith("3500121")
    registered = orchestrator.record(opened.state, outcome, 5.0, 0.6)
    request = only(registered.emits)
    assert request.step == "registration" and request.recipient == "real-estate"
    assert request.value["tax_certificate_no"] == number
    assert request.value["application_no"] == trigger["application_no"]
    assert set(request.value) == field_names(request.topic)
    codec.decode(codec.encode(request.topic, request.value), request.topic)
    # The register already holds the parties: its step request repeats no identity number.
    ids = {trigger["transferor"]["id_number"]} | {p["id_number"] for p in trigger["transferees"]}
    assert not ids & set(strings_in(dict(request.value)))


def test_counter_wait_spans_the_application_to_the_registration() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, triggers(1)[0], 100.0, 100.2)
    taxed = orchestrator.record(
        opened.state, answer_value(FLOW, only(opened.emits), random.Random(1)), 104.0
    )
    done = orchestrator.record(
        taxed.state, answer_value(FLOW, only(taxed.emits), random.Random(1)), 1900.0, 105.0
    )
    assert done.completion is not None
    (span,) = FLOW.spans
    marks = case_marks(done.state)
    assert marks[span.end] - marks[span.start] == pytest.approx(1800.0)


def test_without_a_certificate_the_registration_request_says_so() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, triggers(1)[0], 0.0, 0.0)
    refused = answer_value(FLOW, only(opened.emits), random.Random(1), "no payment found")
    request = only(orchestrator.record(opened.state, refused, 1.0).emits)
    assert request.value["tax_certificate_no"] is None


# -- the shipped scenario -------------------------------------------------------------------


def test_scenario_runs_and_completes_every_case() -> None:
    scenario = load_scenario(SCENARIO, ["duration=3d", "drain=5d"])
    result = SimEngine(scenario).run()
    counts = result.counts
    assert counts.cases_started > 100  # Monday to Wednesday, office hours only
    assert counts.cases_completed == counts.cases_started
    assert counts.lost == 0
    verdict = {t.id: t for t in result.targets}["done-on-the-spot"]
    assert verdict.source == "plan" and verdict.quote and "即办即取" in verdict.quote
    assert verdict.observed is not None and verdict.observed > 0
