"""F06: a financing demand published on 渝中融 and matched to several banks' products; each
matched bank offers or declines, and the company chooses once k offers are in, once every bank
has answered, or at its deadline."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from flow_kit import answer_value, field_names, generate

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import case_key, span_key, step_key
from govstream.report.tables import all_tables
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.events import Emit
from processors.flow import AtLeast
from processors.orchestrator import REJECTED, Orchestrator, Progress, case_marks
from producers.finance_office import FinancingDemandMix
from producers.identifiers import BANKS, uscc_is_valid

FLOW = FLOWS["F06"]
ON = dt.date(2021, 6, 1)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "financing-matching.yaml"


def demand(banks: int, seed: int = 1) -> dict[str, Any]:
    """A generated demand matched to exactly `banks` banks."""
    weights = tuple(1.0 if n == banks else 0.0 for n in range(1, 6))
    return generate(FLOW, 1, seed=seed, on=ON, matched_weights=weights)[0]


def answer(
    orchestrator: Orchestrator, progress: Progress, emit: Emit, at: float, **kw: Any
) -> Progress:
    value = answer_value(FLOW, emit, random.Random(at), **kw)
    return orchestrator.record(progress.state, value, at, None if emit.recipient is None else at)


def offers_and_deadline(progress: Progress) -> tuple[list[Emit], Emit]:
    offers = [e for e in progress.emits if e.step == "offer"]
    (deadline,) = [e for e in progress.emits if e.step == "deadline"]
    return offers, deadline


# -- the trigger ----------------------------------------------------------------------------


def test_demands_round_trip_and_name_distinct_real_banks(codec: AvroCodec) -> None:
    codes = {bank.code for bank in BANKS}
    counts = set()
    for trigger in generate(FLOW, 300, seed=4, on=ON):
        assert codec.decode(codec.encode(FLOW.source_topic, trigger), FLOW.source_topic).value
        assert uscc_is_valid(trigger["uscc"])
        matched = [p["bank_code"] for p in trigger["matched_products"]]
        assert len(set(matched)) == len(matched) and set(matched) <= codes
        counts.add(len(matched))
    assert counts == {1, 2, 3, 4, 5}


def test_the_mix_refuses_bad_weights() -> None:
    with pytest.raises(ValueError, match="matched_weights"):
        FinancingDemandMix(matched_weights=(1.0, 1.0))


# -- the shape ------------------------------------------------------------------------------


def test_every_matched_bank_receives_the_demand_with_its_own_product() -> None:
    trigger = demand(4)
    opened = Orchestrator(FLOW).open(None, trigger, 0.0, 0.0)
    offers, deadline = offers_and_deadline(opened)
    assert deadline.value["party"] == "company"
    assert [e.value["bank_code"] for e in offers] == [
        p["bank_code"] for p in trigger["matched_products"]
    ]
    for emit in offers:
        assert set(emit.value) == field_names(emit.topic)


def test_two_offers_start_the_choice_and_withdraw_the_deadline(codec: AvroCodec) -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, demand(4), 0.0, 0.0)
    offers, deadline = offers_and_deadline(progress)
    progress = answer(orchestrator, progress, offers[0], 1.0, rejected="declined")
    progress = answer(orchestrator, progress, offers[1], 2.0)
    assert progress.emits == [], "one offer is not two"
    progress = answer(orchestrator, progress, offers[2], 3.0)
    choose, withdrawal = progress.emits
    assert choose.step == "choose" and withdrawal.value["withdrawn"] is True
    chosen_from = choose.value["offers"]
    assert [o["bank_code"] for o in chosen_from] == [
        offers[1].value["bank_code"],
        offers[2].value["bank_code"],
    ]
    assert choose.value["matched_banks"] == 4
    assert codec.decode(codec.encode(choose.topic, choose.value), choose.topic)
    marks = case_marks(progress.state)
    assert marks["offer.first"] == 2.0, "the first offer, not the first answer"
    assert marks["offer.acted"] == 3.0, "the second offer finishes the step"
    progress = answer(orchestrator, progress, deadline, 3.0)
    progress = answer(orchestrator, progress, choose, 5.0)
    assert progress.completion is None, "the fourth bank still answers"
    progress = answer(orchestrator, progress, offers[3], 6.0)
    assert progress.completion is not None


def test_a_scenario_may_ask_for_three_offers() -> None:
    orchestrator = Orchestrator(FLOW, joins={"offer": AtLeast(3)})
    progress = orchestrator.open(None, demand(4), 0.0, 0.0)
    offers, _ = offers_and_deadline(progress)
    for at, emit in enumerate(offers[:2], start=1):
        progress = answer(orchestrator, progress, emit, float(at))
    assert progress.emits == []
    progress = answer(orchestrator, progress, offers[2], 3.0)
    assert [e.step for e in progress.emits] == ["choose", "deadline"]


def test_every_bank_declining_leaves_the_company_choosing_from_nothing() -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, demand(2), 0.0, 0.0)
    offers, _ = offers_and_deadline(progress)
    progress = answer(orchestrator, progress, offers[0], 1.0, rejected="declined")
    assert progress.state["done"]["offer"]["status"] == REJECTED, "two offers out of reach"
    (choose, _) = progress.emits
    assert choose.value["offers"] == []
    progress = answer(orchestrator, progress, offers[1], 2.0, rejected="declined")
    assert "offer.first" not in case_marks(progress.state)


def test_the_deadline_lets_the_company_choose_with_one_offer() -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, demand(3), 0.0, 0.0)
    offers, deadline = offers_and_deadline(progress)
    progress = answer(orchestrator, progress, offers[0], 1.0)
    progress = answer(orchestrator, progress, deadline, 10.0)
    (choose,) = progress.emits
    assert len(choose.value["offers"]) == 1


# -- the shipped scenario -------------------------------------------------------------------


def run(*overrides: str) -> Any:
    scenario = load_scenario(SCENARIO, ["duration=5d", "drain=30d", *overrides])
    return SimEngine(scenario).run()


def test_the_scenario_completes_and_counts_the_demands_with_no_offer() -> None:
    result = run()
    assert result.counts.cases_completed == result.counts.cases_started > 50
    assert result.counts.lost == 0
    cases = result.latency[case_key("F06")]["count"]
    offered = result.latency[span_key("F06", "demand-to-first-offer")]["count"]
    assert 0 < offered < cases, "some demands get no offer at a third declining"
    first = result.latency[span_key("F06", "demand-to-first-offer")]
    assert first["max"] <= result.latency[step_key("F06", "acted", "offer")]["max"]
    # The report counts them: every demand is matched to a bank, so the step runs in each.
    assert result.items_reached["F06/items:offer"] == {
        "cases": cases,
        "none done": cases - offered,
    }
    (table,) = [t for t in all_tables(result) if t.title.startswith("Steps done per item")]
    (row,) = [r for r in table.rows if r[:2] == ("F06", "offer")]
    assert row[4:] == (str(cases - offered), f"{(cases - offered) / cases:.1%}")


def test_every_demand_gets_an_offer_where_no_bank_declines_and_none_where_all_do() -> None:
    every = run("steps.offer.reject_probability=0")
    cases = every.latency[case_key("F06")]["count"]
    assert every.latency[span_key("F06", "demand-to-first-offer")]["count"] == cases
    never = run("steps.offer.reject_probability=1")
    assert span_key("F06", "demand-to-first-offer") not in never.latency
    assert every.items_reached["F06/items:offer"]["none done"] == 0
    none = never.items_reached["F06/items:offer"]
    assert none["none done"] == none["cases"] == never.counts.cases_completed
    assert never.counts.cases_completed == never.counts.cases_started
