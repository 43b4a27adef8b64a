"""F08: one survey result shared with construction, real estate and drc and recognised by each;
the completion acceptance reviewed before a missing document arrives where the developer's
credit allows (容缺后补), and completed once it is filed."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from flow_kit import answer_value, by_step, field_names, generate

from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.plan.targets import targets_of
from govstream.scenario.loader import ScenarioError, load_scenario
from processors import FLOWS
from processors.orchestrator import SKIPPED, Orchestrator, Progress
from producers.construction import SurveyMix

FLOW = FLOWS["F08"]
ON = dt.date(2021, 6, 1)
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "project-approval.yaml"
RECOGNITIONS = ["recognise-construction", "recognise-real-estate", "recognise-drc"]


def filed(*, missing: bool, trusted: bool) -> dict[str, Any]:
    mix = {
        "missing_document_probability": 1.0 if missing else 0.0,
        "trusted_probability": 1.0 if trusted else 0.0,
    }
    return generate(FLOW, 1, seed=4, on=ON, **mix)[0]


def answer(orchestrator: Orchestrator, progress: Progress, step: str, at: float) -> Progress:
    emit = by_step(progress.emits).get(step)
    assert emit is not None, f"{step} was not requested now: {sorted(by_step(progress.emits))}"
    value = answer_value(FLOW, emit, random.Random(at))
    return orchestrator.record(progress.state, value, at, at)


def test_triggers_fit_their_contract_and_the_mix_its_bounds(codec: AvroCodec) -> None:
    for trigger in generate(FLOW, 200, seed=1, on=ON):
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, FLOW.source_topic).value == trigger
        assert not set(trigger["documents_pending"]) & set(trigger["documents_received"])
        assert trigger["project"]["code"].split("-")[1] == "500103"
    with pytest.raises(ValueError, match="trusted_probability"):
        SurveyMix(trusted_probability=1.2)


def test_the_survey_is_shared_with_all_three_at_once_and_each_gets_the_same_result() -> None:
    orchestrator = Orchestrator(FLOW)
    trigger = filed(missing=False, trusted=True)
    opened = orchestrator.open(None, trigger, 0.0, 0.0)
    sent = by_step(opened.emits)
    assert sorted(sent) == sorted(RECOGNITIONS)
    assert {str(sent[s].recipient) for s in RECOGNITIONS} == {"construction", "real-estate", "drc"}
    values = [dict(sent[s].value) for s in RECOGNITIONS]
    for value in values:
        value.pop("request_id")
    assert values[0] == values[1] == values[2], "one survey result, recognised by each"
    assert values[0]["result_number"] == trigger["survey"]["result_number"]


def test_rongque_reviews_before_the_document_and_completes_when_it_is_filed() -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, filed(missing=True, trusted=True), 0.0, 0.0)
    assert sorted(by_step(progress.emits)) == sorted([*RECOGNITIONS, "late-document"])
    waiting = progress
    progress = answer(orchestrator, progress, "recognise-construction", 1.0)
    assert [e.step for e in progress.emits] == ["review"], "reviewed before the document"
    progress = answer(orchestrator, progress, "review", 2.0)
    assert progress.emits == [], "the completion waits for the document"
    late = answer_value(FLOW, by_step(waiting.emits)["late-document"], random.Random(3))
    progress = orchestrator.record(progress.state, late, 3.0, 3.0)
    (completion,) = progress.emits
    assert completion.step == "completion"
    assert (
        completion.value["documents_filed_late"]
        == filed(missing=True, trusted=True)["documents_pending"]
    )
    assert progress.state["done"]["review-after-document"]["status"] == SKIPPED


def test_without_rongque_the_review_waits_for_the_document() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, filed(missing=True, trusted=False), 0.0, 0.0)
    progress = answer(orchestrator, opened, "recognise-construction", 1.0)
    assert progress.emits == [], "no review before the document for a grade-C developer"
    late = answer_value(FLOW, by_step(opened.emits)["late-document"], random.Random(2))
    progress = orchestrator.record(progress.state, late, 2.0, 2.0)
    assert [e.step for e in progress.emits] == ["review-after-document"]
    assert progress.state["done"]["review"]["status"] == SKIPPED
    reviewed = answer_value(FLOW, progress.emits[0], random.Random(3))
    reviewed["reply"] = {"review_number": "YS-BY-HAND"}
    progress = orchestrator.record(progress.state, reviewed, 3.0, 3.0)
    (completion,) = progress.emits
    assert completion.value["review_number"] == "YS-BY-HAND"


def test_a_whole_file_skips_the_wait_and_completes_after_the_review() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, filed(missing=False, trusted=False), 0.0, 0.0)
    assert "late-document" not in by_step(opened.emits)
    assert opened.state["done"]["late-document"]["status"] == SKIPPED
    progress = answer(orchestrator, opened, "recognise-construction", 1.0)
    assert [e.step for e in progress.emits] == ["review"], "nothing missing: no 容缺 needed"
    progress = answer(orchestrator, progress, "review", 2.0)
    assert [e.step for e in progress.emits] == ["completion"]


def test_every_request_fits_its_contract(codec: AvroCodec) -> None:
    for trigger in generate(FLOW, 30, seed=2, on=ON, missing_document_probability=0.5):
        orchestrator = Orchestrator(FLOW)
        progress = orchestrator.open(None, trigger, 0.0, 0.0)
        pending, now = list(progress.emits), 0.0
        while pending:
            emit = pending.pop(0)
            if not FLOW.step(str(emit.step)).is_wait:
                assert set(emit.value) == field_names(emit.topic), emit.step
                codec.decode(codec.encode(emit.topic, emit.value), emit.topic)
            now += 1.0
            value = answer_value(FLOW, emit, random.Random(now))
            progress = orchestrator.record(progress.state, value, now, now)
            pending += progress.emits
        assert progress.completion is not None


def test_the_plan_s_real_time_is_a_word_the_scenario_reads_within_a_minute() -> None:
    (entry,) = targets_of("F08", "M25")
    assert entry.word == "实时" and entry.number is None and entry.loosest == 60.0
    with pytest.raises(ScenarioError, match="looser than any reading of 实时"):
        load_scenario(SCENARIO, ["targets.0.within=2min"])


def test_scenario_runs_and_shows_what_rongque_saves() -> None:
    result = SimEngine(load_scenario(SCENARIO, ["duration=90d"])).run()
    counts = result.flow_counts["F08"]
    assert counts.cases_started > 100
    assert result.counts.cases_completed == result.counts.cases_started
    assert result.counts.lost == 0
    latency = result.latency
    for agency in ("construction", "real-estate", "drc"):
        assert latency[f"F08/span:survey-shared-{agency}"]["count"] == counts.cases_started
    reviewed = latency["F08/span:reviewed"]["count"]
    waited = latency["F08/span:document-to-reviewed"]["count"]
    assert reviewed + waited == counts.cases_started, "one review per case, before or after"
    assert latency["F08/span:document-to-approved"]["count"] >= waited > 0
    assert result.unchecked_plan_targets == [] and result.not_checkable_plan_targets == []
    verdicts = {t.id: t for t in result.targets}
    assert verdicts["survey-recognised-by-drc-in-real-time"].measure == "M25"
