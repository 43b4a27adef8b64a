"""F20 (证照分离): a licensing matter abolished, turned into a filing, granted on a commitment or
approved faster, each at its own department, which takes the company's data from the register
instead of asking the company again."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flow_kit import answer_value, field_names, generate, only, strings_in

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.orchestrator import Orchestrator
from producers.amr_licensing import MATTERS, WAYS, LicensingMix
from producers.identifiers import resident_id_is_valid, uscc_is_valid

FLOW = FLOWS["F20"]
ON = dt.date(2021, 4, 6)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "licence-reform.yaml"
PATHS = {
    "ABOLISHED": ("supervision-intake",),
    "FILING": ("filing-submission", "filing-record"),
    "COMMITMENT": ("commitment-signing", "permit-on-commitment"),
    "OPTIMISED": ("application-submission", "permit-approval"),
}
"""Each way's steps: the company's own act, where it still has one, then the department's."""


def triggers(count: int, seed: int = 1, **mix: Any) -> list[dict[str, Any]]:
    return generate(FLOW, count, seed=seed, on=ON, **mix)


def matter(way: str) -> dict[str, Any]:
    weights = [1.0 if w == way else 0.0 for w in WAYS]
    return triggers(1, way_weights=weights)[0]


# -- the trigger ----------------------------------------------------------------------------


def test_triggers_round_trip_through_their_contract(codec: AvroCodec) -> None:
    for trigger in triggers(300):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger


def test_each_matter_is_its_way_s_at_its_department_with_what_it_concerns() -> None:
    sample = triggers(2000)
    for trigger in sample:
        assert uscc_is_valid(trigger["uscc"])
        assert resident_id_is_valid(trigger["legal_representative"]["id_number"])
        way = trigger["way"]
        assert (trigger["matter"], trigger["department"]) == MATTERS[way][:2]
        assert (trigger["vehicle_count"] is not None) == (way == "ABOLISHED")
        assert (trigger["premises"] is None) == (way == "ABOLISHED")
        if way == "OPTIMISED":  # 劳动合同法 art. 57: at least 2 million yuan
            assert trigger["registered_capital_yuan"] >= 2_000_000
    ways = Counter(t["way"] for t in sample)
    default = LicensingMix().way_weights
    for way, weight in zip(WAYS, default, strict=True):
        assert abs(ways[way] / len(sample) - weight / sum(default)) < 0.04, way


def test_the_mix_of_ways_is_the_knob_s() -> None:
    ways = Counter(t["way"] for t in triggers(1000, way_weights=[0, 1, 0, 1]))
    assert set(ways) == {"FILING", "OPTIMISED"} and 400 < ways["FILING"] < 600
    with pytest.raises(ValueError, match="way_weights"):
        LicensingMix(way_weights=(1.0, 1.0))


# -- the steps ------------------------------------------------------------------------------


@pytest.mark.parametrize("way", WAYS)
def test_each_way_runs_its_own_steps_and_skips_the_others(way: str, codec: AvroCodec) -> None:
    trigger = matter(way)
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, trigger, 0.0, 0.0)
    others = [s.id for s in FLOW.steps if s.id not in PATHS[way]]
    assert sorted(progress.transition.skipped) == sorted(others)
    sent = []
    now = 0.0
    while progress.emits:
        emit = only(progress.emits)
        sent.append(emit)
        now += 1.0
        answer = answer_value(FLOW, emit, random.Random(int(now)))
        progress = orchestrator.record(progress.state, answer, now)
    assert [e.step for e in sent] == list(PATHS[way])
    assert progress.completion is not None and not progress.completion.rejected
    decision = sent[-1]
    assert decision.recipient == trigger["department"]
    assert set(decision.value) == field_names(decision.topic)
    codec.decode(codec.encode(decision.topic, decision.value), decision.topic)
    assert decision.value["company_name"] == trigger["company_name"]
    assert decision.value["business_scope_item"] == trigger["business_scope_item"]
    for wait in sent[:-1]:  # the company restates nothing the register holds
        assert wait.recipient is None
        assert trigger["company_name"] not in set(strings_in(dict(wait.value)))


def test_an_abolished_permit_leaves_the_company_nothing_to_do() -> None:
    opened = Orchestrator(FLOW).open(None, matter("ABOLISHED"), 0.0, 0.0)
    intake = only(opened.emits)
    assert intake.step == "supervision-intake" and intake.recipient == "transport"
    assert not any(FLOW.step(s).is_wait for s in PATHS["ABOLISHED"])


def test_the_department_s_part_of_each_way_has_its_own_span() -> None:
    spans = {span.id: (span.start, span.end) for span in FLOW.spans}
    assert spans["notice-to-supervised"] == ("trigger", "supervision-intake.acted")
    assert spans["filing-to-recorded"] == ("filing-submission.acted", "filing-record.acted")
    assert spans["commitment-to-permit"] == (
        "commitment-signing.acted",
        "permit-on-commitment.acted",
    )
    assert spans["application-to-permit"] == (
        "application-submission.acted",
        "permit-approval.acted",
    )
    assert {end.rsplit(".", 1)[0] for _, end in spans.values()} == {p[-1] for p in PATHS.values()}


# -- the shipped scenario -------------------------------------------------------------------


def test_scenario_runs_and_times_each_way_over_its_own_cases() -> None:
    scenario = load_scenario(SCENARIO, ["duration=20d"])
    result = SimEngine(scenario).run()
    counts = result.counts
    assert counts.cases_started > 300
    assert counts.cases_completed == counts.cases_started and counts.lost == 0
    started = counts.cases_started
    ends = ("notice-to-supervised", "notice-to-filed", "notice-to-permit-on-commitment")
    per_way = [result.latency[f"F20/span:{span}"]["count"] for span in ends]
    approved = result.latency["F20/span:notice-to-permit-approved"]["count"]
    assert sum(per_way) + approved == started, "every case is on exactly one way"
    assert all(count > 0 for count in [*per_way, approved])
    supervised = result.latency["F20/span:notice-to-supervised"]["p50"]
    reviewed = result.latency["F20/span:application-to-permit"]["p50"]
    assert supervised < reviewed, "abolishing the permit saves the review"
    verdicts = {t.id: t for t in result.targets}
    assert all(v.source == "author" for v in verdicts.values()), "the plan sets no number"
