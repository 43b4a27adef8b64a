"""F11: a period filing declared once for every tax it owes, then, for a general taxpayer whose
excess credit has grown enough, its refund applied for on the pre-filled path or compiled by
the taxpayer, each path decided by its own step so its latency has a span of its own."""

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
from processors.orchestrator import SKIPPED, Orchestrator
from producers.identifiers import uscc_is_valid
from producers.tax import REFUND_THRESHOLD_YUAN, TaxFilingMix, refund_yuan, tax_period

FLOW = FLOWS["F11"]
ON = dt.date(2021, 6, 8)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "tax-filing-refund.yaml"
PREFILLED = ("refund-prefill", "prefilled-submission", "prefilled-refund-decision")
MANUAL = ("manual-application", "manual-refund-decision")


def triggers(count: int, seed: int = 1, **mix: Any) -> list[dict[str, Any]]:
    return generate(FLOW, count, seed=seed, on=ON, **mix)


def filing(path: str | None) -> dict[str, Any]:
    """A general taxpayer's filing with a refund application on `path`, or a plain filing."""
    if path is None:
        return triggers(1, refund_probability=0.0)[0]
    share = 1.0 if path == "PREFILLED" else 0.0
    mix = {"general_share": 1.0, "refund_probability": 1.0, "prefilled_share": share}
    return triggers(1, **mix)[0]


def declared(orchestrator: Orchestrator, trigger: dict[str, Any]) -> tuple[Any, str]:
    """Open the case and accept its declaration; the progress after, and the serial number."""
    opened = orchestrator.open(None, trigger, 0.0, 0.0)
    declaration = only(opened.emits)
    assert declaration.step == "declaration"
    answer = answer_value(FLOW, declaration, random.Random(4))
    number = answer["reply"]["declaration_id"]
    return orchestrator.record(opened.state, answer, 1.0, 0.5), number


# -- the trigger ----------------------------------------------------------------------------


def test_triggers_round_trip_through_their_contract(codec: AvroCodec) -> None:
    for trigger in triggers(300, refund_probability=0.3):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger


def test_filings_are_consistent_in_themselves() -> None:
    sample = triggers(3000)
    for trigger in sample:
        assert uscc_is_valid(trigger["uscc"])
        vat = trigger["vat_return"]
        application = trigger["refund_application"]
        if trigger["vat_taxpayer_kind"] == "SMALL_SCALE":
            assert application is None and vat["ending_credit_yuan"] == 0
            assert "Q" in trigger["tax_period"]
        if application is not None:
            assert vat["ending_credit_yuan"] - vat["base_credit_yuan"] >= REFUND_THRESHOLD_YUAN
        taxes = [line["tax"] for line in trigger["merged_taxes"]]
        assert len(taxes) == len(set(taxes)), "one line per tax in the one declaration"
        assert ("PROPERTY" in taxes) == ("URBAN_LAND_USE" in taxes), "the owner owes both"
    general = sum(t["vat_taxpayer_kind"] == "GENERAL" for t in sample) / len(sample)
    assert 0.32 < general < 0.38


def test_the_share_on_each_path_is_the_mix_s() -> None:
    mix = {"general_share": 1.0, "refund_probability": 1.0, "prefilled_share": 0.25}
    paths = [t["refund_application"]["path"] for t in triggers(2000, **mix)]
    assert 0.22 < paths.count("PREFILLED") / len(paths) < 0.28
    with pytest.raises(ValueError, match="prefilled_share"):
        TaxFilingMix(prefilled_share=1.2)


def test_the_period_declared_is_the_month_or_quarter_before() -> None:
    assert tax_period(dt.date(2021, 6, 8), general=True) == "2021-05"
    assert tax_period(dt.date(2021, 1, 15), general=True) == "2020-12"
    assert tax_period(dt.date(2021, 7, 8), general=False) == "2021Q2"
    assert tax_period(dt.date(2021, 1, 8), general=False) == "2020Q4"


def test_the_refund_is_sixty_per_cent_of_the_increment_times_the_ratio() -> None:
    assert refund_yuan(1_000_000, 0.9) == 540_000
    assert refund_yuan(600_000, 1.0) == 360_000


# -- the steps ------------------------------------------------------------------------------


def test_a_filing_without_a_refund_is_one_declaration_and_nothing_else(codec: AvroCodec) -> None:
    trigger = filing(None)
    progress, _ = declared(Orchestrator(FLOW), trigger)
    assert progress.emits == [] and progress.completion is not None
    skipped = progress.completion.emit.value["skipped"]
    assert sorted(skipped) == sorted(PREFILLED + MANUAL)


def test_the_declaration_carries_every_merged_tax_and_nothing_of_a_refund(
    codec: AvroCodec,
) -> None:
    trigger = filing("MANUAL")
    request = only(Orchestrator(FLOW).open(None, trigger, 0.0, 0.0).emits)
    assert set(request.value) == field_names(request.topic)
    assert request.value["merged_taxes"] == trigger["merged_taxes"]
    codec.decode(codec.encode(request.topic, request.value), request.topic)
    account = trigger["refund_application"]["refund_account_number"]
    assert account not in set(strings_in(dict(request.value)))


def test_the_prefilled_path_takes_its_figures_from_tax_s_answer(codec: AvroCodec) -> None:
    trigger = filing("PREFILLED")
    orchestrator = Orchestrator(FLOW)
    progress, number = declared(orchestrator, trigger)
    assert sorted(progress.transition.skipped) == sorted(MANUAL)
    prefill = only(progress.emits)
    assert prefill.step == "refund-prefill" and prefill.value["declaration_id"] == number
    assert set(prefill.value) == field_names(prefill.topic)
    answer = answer_value(FLOW, prefill, random.Random(5))
    vat = trigger["vat_return"]
    increment = vat["ending_credit_yuan"] - vat["base_credit_yuan"]
    assert int(answer["reply"]["incremental_credit_yuan"]) == increment
    answer["reply"] = {
        "incremental_credit_yuan": "1000000",
        "composition_ratio": "0.9",
        "refund_claimed_yuan": "540000",
    }
    progress = orchestrator.record(progress.state, answer, 2.0, 1.5)
    submission = only(progress.emits)
    assert submission.step == "prefilled-submission" and submission.recipient is None
    progress = orchestrator.record(
        progress.state, answer_value(FLOW, submission, random.Random(6)), 3.0
    )
    decision = only(progress.emits)
    assert decision.step == "prefilled-refund-decision"
    assert decision.value["incremental_credit_yuan"] == 1_000_000
    assert decision.value["composition_ratio"] == 0.9
    assert decision.value["refund_claimed_yuan"] == 540_000
    assert decision.value["declaration_id"] == number
    assert set(decision.value) == field_names(decision.topic)
    codec.decode(codec.encode(decision.topic, decision.value), decision.topic)


def test_the_manual_path_claims_what_the_taxpayer_compiled(codec: AvroCodec) -> None:
    trigger = filing("MANUAL")
    orchestrator = Orchestrator(FLOW)
    progress, number = declared(orchestrator, trigger)
    assert sorted(progress.transition.skipped) == sorted(PREFILLED)
    assert all(progress.state["done"][s]["status"] == SKIPPED for s in PREFILLED)
    compiling = only(progress.emits)
    assert compiling.step == "manual-application" and compiling.recipient is None
    progress = orchestrator.record(
        progress.state, answer_value(FLOW, compiling, random.Random(7)), 5.0
    )
    decision = only(progress.emits)
    assert decision.step == "manual-refund-decision"
    vat = trigger["vat_return"]
    ratio = trigger["refund_application"]["ledger_composition_ratio"]
    increment = vat["ending_credit_yuan"] - vat["base_credit_yuan"]
    assert decision.value["incremental_credit_yuan"] == increment
    assert decision.value["composition_ratio"] == ratio
    assert decision.value["refund_claimed_yuan"] == int(increment * ratio * 0.6)
    assert decision.value["declaration_id"] == number
    assert (
        decision.value["refund_account_number"]
        == (trigger["refund_application"]["refund_account_number"])
    )
    codec.decode(codec.encode(decision.topic, decision.value), decision.topic)


def test_a_refused_declaration_leaves_no_refund_to_decide() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, filing("PREFILLED"), 0.0, 0.0)
    refused = answer_value(FLOW, only(opened.emits), random.Random(1), "figures do not add up")
    done = orchestrator.record(opened.state, refused, 1.0)
    assert done.emits == [] and done.completion is not None
    assert done.completion.rejected == ("declaration",)


def test_each_path_has_its_own_span_from_the_filing_to_the_decision() -> None:
    spans = {span.id: (span.start, span.end) for span in FLOW.spans}
    assert spans["filing-to-refund-prefilled"] == ("trigger", "prefilled-refund-decision.acted")
    assert spans["filing-to-refund-manual"] == ("trigger", "manual-refund-decision.acted")
    assert spans["filing-to-declared"] == ("trigger", "declaration.acted")


# -- the shipped scenario -------------------------------------------------------------------


def test_scenario_runs_and_times_each_path_over_its_own_cases() -> None:
    scenario = load_scenario(SCENARIO, ["duration=5d", "drain=40d"])
    result = SimEngine(scenario).run()
    counts = result.counts
    assert counts.cases_started > 2000
    assert counts.cases_completed == counts.cases_started and counts.lost == 0
    prefilled = result.latency["F11/span:filing-to-refund-prefilled"]
    manual = result.latency["F11/span:filing-to-refund-manual"]
    declared = result.latency["F11/span:filing-to-declared"]
    assert declared["count"] == counts.cases_started
    assert prefilled["count"] > 0 and manual["count"] > 0
    # every refund is on one path or the other, none on both
    assert prefilled["count"] == result.latency["F11/acted:refund-prefill"]["count"]
    assert manual["count"] == result.latency["F11/acted:manual-application"]["count"]
    assert prefilled["p50"] < manual["p50"], "the pre-fill saves the compiling"
    verdicts = {t.id: t for t in result.targets}
    assert all(v.source == "author" for v in verdicts.values()), "the plan sets no number"
    assert verdicts["prefilled-refund-within-5wd"].observed is not None
