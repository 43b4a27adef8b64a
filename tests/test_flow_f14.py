"""F14: an unemployment claim, with the insurance relationship transferred first when the
claimant was insured elsewhere; the transferred months reach the approval."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from flow_kit import answer_value, field_names, generate, only, strings_in

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.orchestrator import SKIPPED, Orchestrator
from producers.hrss import months_between

FLOW = FLOWS["F14"]
ON = dt.date(2021, 6, 1)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "unemployment-benefit.yaml"


def triggers(count: int, seed: int = 1, **mix: Any) -> list[dict[str, Any]]:
    return generate(FLOW, count, seed=seed, on=ON, **mix)


def claim(*, transferred: bool) -> dict[str, Any]:
    probability = 1.0 if transferred else 0.0
    return triggers(1, transfer_probability=probability)[0]


# -- the trigger ----------------------------------------------------------------------------


def test_triggers_round_trip_through_their_contract(codec: AvroCodec) -> None:
    for trigger in triggers(300):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger


def test_claims_are_consistent_in_themselves() -> None:
    sample = triggers(1000)
    for trigger in sample:
        assert trigger["separation"]["separated_on"] < trigger["claimed_on"]
        assert trigger["insured_months_local"] >= 1
        previous = trigger["previous_insurance"]
        if previous is not None:
            assert previous["insured_from"] < previous["insured_until"]
            assert previous["insured_until"] < trigger["separation"]["separated_on"]
        if trigger["claim_kind"] == "SUBSIDY" and previous is None:
            assert trigger["insured_months_local"] < 12  # short of the benefit's year
    transfers = sum(t["previous_insurance"] is not None for t in sample) / len(sample)
    subsidies = sum(t["claim_kind"] == "SUBSIDY" for t in sample) / len(sample)
    assert 0.11 < transfers < 0.19 and 0.16 < subsidies < 0.24


# -- the steps ------------------------------------------------------------------------------


def test_a_local_claimant_goes_straight_to_approval(codec: AvroCodec) -> None:
    trigger = claim(transferred=False)
    opened = Orchestrator(FLOW).open(None, trigger, 0.0, 0.0)
    assert opened.transition.skipped == ("relationship-transfer",)
    assert opened.state["done"]["relationship-transfer"]["status"] == SKIPPED
    request = only(opened.emits)
    assert request.step == "benefit-approval"
    assert request.value["transferred_months"] == 0
    assert request.value["contribution_months"] == trigger["insured_months_local"]
    assert set(request.value) == field_names(request.topic)
    codec.decode(codec.encode(request.topic, request.value), request.topic)


def test_transferred_months_reach_the_approval(codec: AvroCodec) -> None:
    trigger = claim(transferred=True)
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, trigger, 0.0, 0.0)
    transfer = only(opened.emits)
    assert transfer.step == "relationship-transfer" and transfer.recipient == "hrss"
    assert set(transfer.value) == field_names(transfer.topic)
    codec.decode(codec.encode(transfer.topic, transfer.value), transfer.topic)
    # What the transfer desk learns: who and from where, not where benefits are paid.
    sent = set(strings_in(dict(transfer.value)))
    assert trigger["payment_account"]["card_number"] not in sent
    assert trigger["separation"]["employer_uscc"] not in sent

    outcome = answer_value(FLOW, transfer, random.Random(2))
    outcome["reply"] = {"transferred_months": "37"}
    approval = only(orchestrator.record(opened.state, outcome, 10.0, 1.0).emits)
    assert approval.step == "benefit-approval"
    assert approval.value["transferred_months"] == 37
    assert approval.value["contribution_months"] == trigger["insured_months_local"] + 37
    assert approval.value["payment_card_number"] == trigger["payment_account"]["card_number"]
    assert set(approval.value) == field_names(approval.topic)
    codec.decode(codec.encode(approval.topic, approval.value), approval.topic)


def test_the_previous_office_answers_with_the_months_it_holds() -> None:
    previous_months = []
    answered = []
    for seed in range(200):
        trigger = triggers(1, seed=seed, transfer_probability=1.0)[0]
        transfer = only(Orchestrator(FLOW).open(None, trigger, 0.0, 0.0).emits)
        previous = trigger["previous_insurance"]
        previous_months.append(months_between(previous["insured_from"], previous["insured_until"]))
        reply = answer_value(FLOW, transfer, random.Random(seed))["reply"]
        answered.append(int(reply["transferred_months"]))
    assert all(0 <= got <= held for got, held in zip(answered, previous_months, strict=True))
    gaps = sum(got < held for got, held in zip(answered, previous_months, strict=True))
    assert 0 < gaps < 50  # most records transfer whole; some have unpaid months


def test_approval_waits_for_the_transfer() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, claim(transferred=True), 0.0, 0.0)
    assert [e.step for e in opened.emits] == ["relationship-transfer"]
    assert "benefit-approval" not in opened.state["due"]


# -- the shipped scenario -------------------------------------------------------------------


def test_scenario_runs_and_completes_every_case() -> None:
    scenario = load_scenario(SCENARIO, ["duration=5d", "drain=10d"])
    result = SimEngine(scenario).run()
    counts = result.counts
    assert counts.cases_started > 60
    assert counts.cases_completed == counts.cases_started
    assert counts.lost == 0
    assert counts.steps_skipped > 0  # most claimants were insured here all along
    verdict = {t.id: t for t in result.targets}["claim-within-1wd"]
    assert verdict.source == "plan" and verdict.unit == "wd"
    assert verdict.quote and "不超过1个工作日" in verdict.quote
    assert verdict.observed is not None
