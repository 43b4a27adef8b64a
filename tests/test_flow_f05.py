"""F05: a bank asks tax, hrss and drc about a company applying for a credit loan, and decides
when all three have answered or when its own deadline passes, on what has come (银税互动)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from flow_kit import answer_value, by_step, field_names, generate

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import case_key, span_key, step_key
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.events import Emit
from processors.orchestrator import Orchestrator, Progress, case_marks
from producers.bank_credit import CreditLoanMix
from producers.identifiers import resident_id_is_valid, uscc_is_valid

FLOW = FLOWS["F05"]
ON = dt.date(2021, 6, 1)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "tax-bank-credit.yaml"
SOURCES = ("tax-credit", "social-insurance", "public-credit")


def triggers(count: int, seed: int = 1, **mix: Any) -> list[dict[str, Any]]:
    return generate(FLOW, count, seed=seed, on=ON, **mix)


def answer(
    orchestrator: Orchestrator, progress: Progress, emit: Emit, at: float, **kw: Any
) -> Progress:
    value = answer_value(FLOW, emit, random.Random(at), **kw)
    return orchestrator.record(progress.state, value, at, None if emit.recipient is None else at)


# -- the trigger ----------------------------------------------------------------------------


def test_applications_round_trip_and_carry_valid_identifiers(codec: AvroCodec) -> None:
    for trigger in triggers(200):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger
        assert uscc_is_valid(trigger["uscc"])
        assert resident_id_is_valid(trigger["legal_representative"]["id_number"])
        assert trigger["application_no"].startswith(trigger["bank"]["bank_code"] + "20210601")
        assert trigger["authorisation_no"] == "AUTH" + trigger["application_no"]


def test_the_mix_decides_the_products_and_refuses_bad_weights() -> None:
    only_tax = triggers(50, product_weights=(1.0, 0.0))
    assert {t["product"] for t in only_tax} == {"TAX_CREDIT_LOAN"}
    with pytest.raises(ValueError, match="product_weights"):
        CreditLoanMix(product_weights=(1.0,))


# -- the shape ------------------------------------------------------------------------------


def test_the_bank_asks_the_three_sources_at_once_and_starts_its_deadline() -> None:
    opened = Orchestrator(FLOW).open(None, triggers(1)[0], 0.0, 0.0)
    assert sorted(by_step(opened.emits)) == sorted([*SOURCES, "deadline"])
    deadline = by_step(opened.emits)["deadline"]
    assert deadline.recipient is None and deadline.value["party"] == "bank"
    assert deadline.value["withdrawn"] is False


def test_all_three_answers_start_the_decision_on_all_their_data_and_withdraw_the_deadline(
    codec: AvroCodec,
) -> None:
    orchestrator = Orchestrator(FLOW)
    trigger = triggers(1)[0]
    progress = orchestrator.open(None, trigger, 0.0, 0.0)
    sent = by_step(progress.emits)
    for at, source in enumerate(SOURCES, start=1):
        progress = answer(orchestrator, progress, sent[source], float(at))
    emitted = by_step(progress.emits)
    assert sorted(emitted) == ["deadline", "decide"]
    assert emitted["deadline"].value["withdrawn"] is True
    decide = emitted["decide"].value
    assert decide["missing_sources"] == []
    assert decide["tax_credit_grade"] in ("A", "B", "M", "C", "D")
    assert int(decide["months_contributed"]) in range(13)
    assert decide["dishonesty_records"] is not None
    assert decide["amount_yuan"] == trigger["amount_yuan"]
    assert set(decide) == field_names(emitted["decide"].topic)
    assert codec.decode(codec.encode(emitted["decide"].topic, decide), emitted["decide"].topic)
    timer = answer(orchestrator, progress, sent["deadline"], 3.0)
    assert timer.emits == [] and timer.completion is None
    done = answer(orchestrator, timer, emitted["decide"], 7.0)
    assert done.completion is not None and done.completion.rejected == ()
    assert case_marks(done.state)["decide.acted"] == 7.0


def test_a_deadline_that_passes_first_decides_on_what_has_come() -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, triggers(1, seed=2)[0], 0.0, 0.0)
    sent = by_step(progress.emits)
    progress = answer(orchestrator, progress, sent["tax-credit"], 1.0)
    assert progress.emits == []
    passed = answer(orchestrator, progress, sent["deadline"], 4.0)
    (decide,) = passed.emits
    assert decide.step == "decide" and not decide.value.get("withdrawn")
    assert decide.value["missing_sources"] == ["social-insurance", "public-credit"]
    assert decide.value["tax_credit_grade"] is not None
    assert decide.value["insured_employees"] is None
    assert decide.value["public_credit_rating"] is None
    decided = answer(orchestrator, passed, decide, 5.0)
    assert decided.completion is None, "two answers still out"
    late = answer(orchestrator, decided, sent["social-insurance"], 6.0)
    assert late.emits == [], "a late answer changes no decision taken"
    done = answer(orchestrator, late, sent["public-credit"], 8.0)
    assert done.completion is not None


def test_a_source_that_refuses_is_missing_and_the_bank_decides_all_the_same() -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, triggers(1, seed=3)[0], 0.0, 0.0)
    sent = by_step(progress.emits)
    progress = answer(orchestrator, progress, sent["tax-credit"], 1.0)
    progress = answer(orchestrator, progress, sent["social-insurance"], 2.0, rejected="refused")
    progress = answer(orchestrator, progress, sent["public-credit"], 3.0)
    emitted = by_step(progress.emits)
    assert emitted["decide"].value["missing_sources"] == ["social-insurance"]
    assert emitted["deadline"].value["withdrawn"] is True


# -- the shipped scenario -------------------------------------------------------------------


def run(deadline: str) -> Any:
    lasts = f"steps.deadline.duration={{dist: constant, value: {deadline}}}"
    scenario = load_scenario(SCENARIO, ["duration=5d", "drain=10d", lasts])
    return SimEngine(scenario).run()


def test_the_scenario_completes_every_case_and_counts_the_decisions_at_the_deadline() -> None:
    result = run("4h")
    counts = result.counts
    assert counts.cases_started > 100
    assert counts.cases_completed == counts.cases_started and counts.lost == 0
    cases = result.latency[case_key("F05")]["count"]
    at_deadline = result.latency[step_key("F05", "acted", "deadline")]
    span = result.latency[span_key("F05", "application-to-deadline")]
    assert span["count"] == at_deadline["count"]
    assert 0 < at_deadline["count"] < cases, "some decisions at the deadline, not all"
    # only deadlines that passed, four hours after the application reached the platform
    assert at_deadline["mean"] >= 4 * 3600 and at_deadline["max"] < 4 * 3600 + 60
    assert result.latency[span_key("F05", "application-to-decision")]["count"] == cases


def test_a_deadline_no_source_can_beat_decides_every_case_and_one_none() -> None:
    """One second: hrss and drc take minutes at least, so every decision is the deadline's.
    Sixty days: every source answers first, every deadline is withdrawn, none decides."""
    quick = run("1s")
    cases = quick.latency[case_key("F05")]["count"]
    assert quick.latency[step_key("F05", "acted", "deadline")]["count"] == cases
    patient = run("60d")
    assert step_key("F05", "acted", "deadline") not in patient.latency
    assert patient.counts.cases_completed == patient.counts.cases_started
    assert patient.latency[span_key("F05", "application-to-decision")]["max"] < 60 * 86400
