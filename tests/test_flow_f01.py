"""F01: a company established on the one-stop platform, set up at the bank, social insurance,
tax and the housing fund; the bank's reserved account number reaches tax and the fund."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from flow_kit import answer_value, by_step, field_names, generate, run_case, strings_in

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.orchestrator import SKIPPED, Orchestrator
from producers import identifiers
from producers.amr_establishment import CompanyEstablishmentGenerator, EstablishmentMix

FLOW = FLOWS["F01"]
ON = dt.date(2021, 6, 1)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "company-establishment.yaml"


def triggers(count: int, seed: int = 1, **mix: Any) -> list[dict[str, Any]]:
    return generate(FLOW, count, seed=seed, on=ON, **mix)


def with_employees(count: int) -> dict[str, Any]:
    """A generated trigger whose company has exactly `count` employees."""
    for trigger in triggers(400, seed=count + 7):
        if len(trigger["employees"]) == count:
            return trigger
    raise AssertionError(f"no company with {count} employees in 400 draws")


# -- the trigger ----------------------------------------------------------------------------


def test_triggers_round_trip_through_their_contract(codec: AvroCodec) -> None:
    for trigger in triggers(200):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger


def test_company_size_decides_the_number_of_employees() -> None:
    bounds = {"MICRO": (0, 9), "SMALL": (10, 99), "MEDIUM": (100, 299), "LARGE": (300, 800)}
    seen = set()
    mix = {"size_weights": [0.25, 0.25, 0.25, 0.25]}
    for trigger in triggers(400, **mix):
        low, high = bounds[trigger["enterprise_size"]]
        assert low <= len(trigger["employees"]) <= high, trigger["enterprise_size"]
        seen.add(trigger["enterprise_size"])
    assert seen == set(bounds)


def test_default_mix_is_mostly_micro_firms_with_few_employees() -> None:
    sample = triggers(2000)
    micro = [t for t in sample if t["enterprise_size"] == "MICRO"]
    assert 0.84 < len(micro) / len(sample) < 0.92
    assert sum(len(t["employees"]) <= 5 for t in micro) / len(micro) > 0.8
    assert sum(not t["employees"] for t in sample) / len(sample) > 0.2
    assert EstablishmentMix().sme_share == pytest.approx(0.998)
    assert sum(t["enterprise_size"] != "LARGE" for t in sample) / len(sample) > 0.99


def test_generator_is_reproducible_from_its_seed() -> None:
    assert triggers(20, seed=5) == triggers(20, seed=5)
    assert triggers(20, seed=5) != triggers(20, seed=6)


def test_mix_refuses_a_wrong_number_of_size_weights() -> None:
    with pytest.raises(ValueError, match="size_weights"):
        CompanyEstablishmentGenerator(random.Random(1), EstablishmentMix(size_weights=(1.0, 1.0)))


# -- the steps' requests --------------------------------------------------------------------


def test_every_request_fits_its_contract_and_carries_only_its_fields(codec: AvroCodec) -> None:
    for trigger in triggers(60):
        sent, _ = run_case(FLOW, trigger)
        for emit in sent.values():
            assert set(emit.value) == field_names(emit.topic), emit.step
            decoded = codec.decode(codec.encode(emit.topic, emit.value), emit.topic).value
            assert decoded == emit.value


def test_identity_numbers_reach_only_the_steps_that_need_them() -> None:
    trigger = with_employees(3)
    legal_id = trigger["legal_representative"]["id_number"]
    employee_ids = {e["id_number"] for e in trigger["employees"]}
    sent, _ = run_case(FLOW, trigger)
    seen = {step: set(strings_in(dict(emit.value))) for step, emit in sent.items()}
    assert not seen["bank-reservation"] & (employee_ids | {legal_id})
    assert seen["social-insurance"] >= employee_ids and legal_id not in seen["social-insurance"]
    assert legal_id in seen["tax-registration"]
    assert not seen["tax-registration"] & employee_ids
    assert seen["housing-fund"] >= employee_ids and legal_id not in seen["housing-fund"]
    assert sent["tax-registration"].value["employee_count"] == 3


# -- the graph: request/reply and skipping ----------------------------------------------------


def test_bank_reply_reaches_the_tax_and_housing_fund_requests() -> None:
    trigger = with_employees(2)
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, trigger, 0.0, 0.1)
    assert sorted(by_step(opened.emits)) == ["bank-reservation", "social-insurance"]
    bank_request = by_step(opened.emits)["bank-reservation"]
    outcome = answer_value(FLOW, bank_request, random.Random(9))
    number = outcome["reply"]["reservation_number"]
    bank = identifiers.bank_by_code(trigger["account_bank"]["bank_code"])
    assert number.startswith(bank.account_prefix) and len(number) == bank.account_length
    after_bank = by_step(orchestrator.record(opened.state, outcome, 1.2, 0.6).emits)
    assert sorted(after_bank) == ["housing-fund", "tax-registration"]
    for step in ("tax-registration", "housing-fund"):
        assert after_bank[step].value["account_number"] == number
        assert after_bank[step].value["bank_code"] == bank.code


def test_a_reply_written_by_hand_is_the_one_tax_receives() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, with_employees(0), 0.0, 0.0)
    outcome = answer_value(FLOW, by_step(opened.emits)["bank-reservation"], random.Random(1))
    outcome["reply"] = {"reservation_number": "3100000000000000042"}
    emits = by_step(orchestrator.record(opened.state, outcome, 1.0).emits)
    assert emits["tax-registration"].value["account_number"] == "3100000000000000042"


def test_housing_fund_is_skipped_for_a_company_without_employees() -> None:
    trigger = with_employees(0)
    sent, last = run_case(FLOW, trigger)
    assert "housing-fund" not in sent
    assert last.state["done"]["housing-fund"]["status"] == SKIPPED
    completion = last.completion
    assert completion is not None
    assert completion.emit.value["skipped"] == ["housing-fund"]
    assert "housing-fund" not in completion.emit.value["steps"]
    assert sent["social-insurance"].value["employees"] == []


def test_housing_fund_applies_to_a_company_with_employees() -> None:
    sent, last = run_case(FLOW, with_employees(1))
    assert "housing-fund" in sent
    assert last.completion is not None and last.completion.emit.value["skipped"] == []


def test_a_refused_reservation_still_lets_tax_register_the_company() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, with_employees(2), 0.0, 0.0)
    refused = answer_value(FLOW, by_step(opened.emits)["bank-reservation"], random.Random(1), "no")
    assert refused["reply"] is None
    emits = by_step(orchestrator.record(opened.state, refused, 1.0).emits)
    assert emits["tax-registration"].value["account_number"] is None
    assert emits["housing-fund"].value["account_number"] is None


# -- the shipped scenario -------------------------------------------------------------------


def test_scenario_runs_and_completes_every_case() -> None:
    scenario = load_scenario(SCENARIO, ["duration=5d", "drain=20d"])
    result = SimEngine(scenario).run()
    counts = result.counts
    assert counts.cases_started > 50
    assert counts.cases_completed == counts.cases_started
    assert counts.lost == 0
    assert counts.steps_skipped > 0  # founder-only firms open no housing-fund account
    assert {t.id for t in result.targets} >= {"reservation-number-in-real-time"}
    assert all(t.observed is not None for t in result.targets)
