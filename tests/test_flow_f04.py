"""F04: utility connections applied for on 渝快办, each utility working through its own stages.

What each case should need is worked out here from the trigger's content (what the applicant
asked for, the voltage, whether the line is dug), not by asking the flow, so a step that
applies to the wrong cases fails.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from typing import Any

import pytest
from stdnum.cn import ric, uscc

from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import span_key
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.agency import outcome_for
from processors.events import Emit
from processors.f04_m06_utility_connection import FLOW
from processors.flow import FlowSpec
from processors.orchestrator import Orchestrator, Progress, case_marks
from producers.gov_services import UtilityConnectionMix

ON = dt.date(2021, 9, 1)
GENERATED = 400
SCENARIO = "scenarios/utility-connection.yaml"
UTILITIES = ("water", "power", "gas")
CHAINS = {
    "water": ["water-acceptance", "water-design", "water-construction", "water-connection"],
    "gas": ["gas-acceptance", "gas-design", "gas-construction", "gas-connection"],
}
LV_STEPS = ["power-acceptance", "power-excavation-filing", "power-connection-lv"]
KV10_STEPS = [
    "power-acceptance",
    "power-supply-plan-10kv",
    "power-external-works-10kv",
    "power-connection-10kv",
]


def triggers(count: int = GENERATED, seed: int = 4, **mix: Any) -> list[dict[str, Any]]:
    make = FLOW.source.generator(random.Random(seed), mix)
    return [make(f"F04-{n:07d}", ON) for n in range(1, count + 1)]


def hand_trigger(
    *, water: bool = True, voltage: str | None = "V380", dig: bool = True, gas: bool = True
) -> dict[str, Any]:
    """A restaurant's application; each utility and the power path as the test needs."""
    return {
        "event_id": "00000000-0000-4000-8000-000000000004",
        "case_id": "F04-0000001",
        "application_no": "YKB20210901000001",
        "applied_on": ON,
        "applicant": {
            "kind": "COMPANY",
            "name": "重庆渝嘉餐饮管理有限公司",
            "id_kind": "USCC",
            "id_number": "91500103MA60AAAA56",
            "contact_name": "陈思雨",
            "contact_phone": "13912345678",
        },
        "site": {
            "address": "重庆市渝中区民族路100号3-2",
            "sub_district": "解放碑街道",
            "use": "CATERING",
            "floor_area_m2": 180.0,
            "property_certificate_no": "渝(2015)渝中区不动产权第000123号",
        },
        "water": (
            {"water_use": "NON_RESIDENTIAL", "pipe_diameter_mm": 40, "monthly_volume_m3": 90}
            if water
            else None
        ),
        "power": (
            {"voltage": voltage, "capacity_kva": 60, "needs_excavation": dig}
            if voltage is not None
            else None
        ),
        "gas": {"gas_use": "COMMERCIAL", "peak_flow_m3h": 18.5} if gas else None,
    }


def expected_steps(trigger: dict[str, Any]) -> set[str]:
    """The steps a case needs, read off the application."""
    steps: set[str] = set()
    for utility, chain in CHAINS.items():
        if trigger[utility] is not None:
            steps.update(chain)
    power = trigger["power"]
    if power is not None:
        if power["voltage"] == "KV10":
            steps.update(KV10_STEPS)
        else:
            steps.update(s for s in LV_STEPS if s != "power-excavation-filing")
            if power["needs_excavation"]:
                steps.add("power-excavation-filing")
    return steps


def walk(
    flow: FlowSpec, trigger: dict[str, Any], seed: int = 1
) -> tuple[list[Emit], dict[str, float]]:
    """Every request of one case, each answered in turn as the agency would."""
    rng = random.Random(seed)
    orchestrator = Orchestrator(flow)
    progress = orchestrator.open(None, trigger, 0.0, 0.0)
    emitted, pending = list(progress.emits), deque(progress.emits)
    at = 0.0
    while pending:
        emit = pending.popleft()
        at += 60.0
        outcome = outcome_for(flow, flow.step(str(emit.step)), emit.value, rng).value
        delivered = at - 30.0 if emit.recipient else None
        progress = orchestrator.record(progress.state, outcome, at, delivered)
        emitted += progress.emits
        pending += progress.emits
    assert progress.completion is not None, "the case never completed"
    return emitted, case_marks(progress.state)


def field_names(codec: AvroCodec, topic: str) -> set[str]:
    return {field["name"] for field in codec.catalog.schema_json(topic)["fields"]}


def steps_of(emits: list[Emit]) -> list[str]:
    return [str(emit.step) for emit in emits]


# -- triggers ---------------------------------------------------------------------------------


def test_flow_is_discovered_with_its_own_topics() -> None:
    assert FLOWS["F04"] is FLOW
    catalog = load_catalog()
    for step in FLOW.steps:
        if step.is_wait:
            continue
        assert step.topic is not None
        agency, _, what = step.topic.partition(".")
        assert agency == step.agency and what.endswith("-request.v1")
        assert catalog.topic(step.topic).consumers == (step.agency,)
    topics = [step.topic for step in FLOW.steps if step.topic]
    assert len(set(topics)) == len(topics)


def test_generated_triggers_round_trip_through_their_schema(codec: AvroCodec) -> None:
    for trigger in triggers():
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, expected_topic=FLOW.source_topic).value == trigger


def test_generated_identity_numbers_are_valid() -> None:
    for trigger in triggers():
        applicant = trigger["applicant"]
        check = uscc if applicant["id_kind"] == "USCC" else ric
        assert check.is_valid(applicant["id_number"]), applicant


def test_every_application_asks_for_something_and_10kv_is_rarer() -> None:
    generated = triggers(2000)
    assert all(any(t[u] is not None for u in UTILITIES) for t in generated)
    voltages = [t["power"]["voltage"] for t in generated if t["power"] is not None]
    kv10 = voltages.count("KV10")
    assert 0 < kv10 < len(voltages) - kv10
    assert kv10 / len(voltages) == pytest.approx(UtilityConnectionMix().kv10_probability, abs=0.02)


def test_population_knobs_steer_the_power_path() -> None:
    all_10kv = triggers(200, kv10_probability=1.0)
    assert {t["power"]["voltage"] for t in all_10kv if t["power"]} == {"KV10"}
    no_digging = triggers(200, kv10_probability=0.0, excavation_probability=0.0)
    lv = [t["power"] for t in no_digging if t["power"]]
    assert lv and not any(p["needs_excavation"] or p["voltage"] == "KV10" for p in lv)


# -- requests ---------------------------------------------------------------------------------


def test_each_request_satisfies_its_contract_and_carries_only_its_fields(
    codec: AvroCodec,
) -> None:
    seen: set[str] = set()
    for trigger in triggers(150):
        emits, _ = walk(FLOW, trigger)
        for emit in emits:
            step = FLOW.step(str(emit.step))
            topic = FLOW.wait_topic if step.is_wait else step.topic
            assert emit.topic == topic
            assert set(emit.value) == field_names(codec, emit.topic), step.id
            data = codec.encode(emit.topic, emit.value)
            assert codec.decode(data, expected_topic=emit.topic).value == dict(emit.value)
            seen.add(step.id)
    assert seen == {step.id for step in FLOW.steps}


def test_only_acceptances_see_the_applicants_identity_number() -> None:
    for trigger in triggers(150):
        secret = trigger["applicant"]["id_number"]
        for emit in walk(FLOW, trigger)[0]:
            carries = secret in emit.value.values()
            assert carries == str(emit.step).endswith("-acceptance"), emit.step


def test_each_utility_learns_only_its_own_service() -> None:
    own = {
        "water": {"water_use", "pipe_diameter_mm", "monthly_volume_m3"},
        "power": {"voltage", "capacity_kva", "needs_excavation"},
        "gas": {"gas_use", "peak_flow_m3h"},
    }
    emits, _ = walk(FLOW, hand_trigger())
    for emit in emits:
        if emit.recipient is None:
            continue
        others = set().union(*(fields for u, fields in own.items() if u != emit.recipient))
        assert not others & set(emit.value), (emit.step, others & set(emit.value))


def test_applies_matches_what_the_applicant_asked_for() -> None:
    for trigger in triggers(300):
        _, marks = walk(FLOW, trigger)
        acted = {mark.removesuffix(".acted") for mark in marks if ".acted" in mark}
        assert acted == expected_steps(trigger), trigger["case_id"]


# -- the step graph, by hand ------------------------------------------------------------------


def answer(
    orchestrator: Orchestrator, progress: Progress, step: str, at: float, seed: int = 2
) -> Progress:
    """The agency (or the filing office) answers the request the case sent for `step`."""
    emit = next(e for e in progress.emits if e.step == step)
    outcome = outcome_for(FLOW, FLOW.step(step), emit.value, random.Random(seed)).value
    return orchestrator.record(progress.state, outcome, at, at - 1.0)


def test_low_voltage_with_digging_waits_for_the_filing_then_connects() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, hand_trigger(water=False, gas=False), 0.0, 0.0)
    assert steps_of(opened.emits) == ["power-acceptance"]
    assert set(opened.transition.skipped) == set(CHAINS["water"] + CHAINS["gas"])

    accepted = answer(orchestrator, opened, "power-acceptance", 100.0)
    assert steps_of(accepted.emits) == ["power-excavation-filing"]
    filing = accepted.emits[0]
    assert filing.recipient is None and filing.topic == FLOW.wait_topic
    assert filing.value["party"] == "urban-management"
    assert set(accepted.transition.skipped) == set(KV10_STEPS[1:])
    reply = accepted.state["replies"]["power-acceptance"]

    filed = answer(orchestrator, accepted, "power-excavation-filing", 200.0)
    assert steps_of(filed.emits) == ["power-connection-lv"]
    request = filed.emits[0].value
    assert request["work_order_no"] == reply["work_order_no"]
    assert request["account_number"] == reply["account_number"]
    assert filed.completion is None

    connected = answer(orchestrator, filed, "power-connection-lv", 300.0)
    assert connected.completion is not None
    assert case_marks(connected.state)["power-connection-lv.acted"] == 300.0


def test_low_voltage_without_digging_connects_straight_after_acceptance() -> None:
    orchestrator = Orchestrator(FLOW)
    opened = orchestrator.open(None, hand_trigger(water=False, gas=False, dig=False), 0.0, 0.0)
    accepted = answer(orchestrator, opened, "power-acceptance", 100.0)
    assert steps_of(accepted.emits) == ["power-connection-lv"]
    assert "power-excavation-filing" in accepted.transition.skipped


def test_10kv_takes_the_supply_plan_path_and_never_the_filing() -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, hand_trigger(water=False, gas=False, voltage="KV10"), 0, 0)
    at = 0.0
    for step, following in zip(KV10_STEPS, [*KV10_STEPS[1:], None], strict=True):
        at += 100.0
        progress = answer(orchestrator, progress, step, at)
        assert steps_of(progress.emits) == ([following] if following else [])
        if step == "power-acceptance":
            skipped = set(progress.transition.skipped)
            assert skipped == {"power-excavation-filing", "power-connection-lv"}
    assert progress.completion is not None
    assert "power-connection-lv.acted" not in case_marks(progress.state)


def test_utilities_run_side_by_side_and_the_case_waits_for_the_last() -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, hand_trigger(dig=False), 0.0, 0.0)
    assert sorted(steps_of(progress.emits)) == [
        "gas-acceptance",
        "power-acceptance",
        "water-acceptance",
    ]
    pending = {e.step: e for e in progress.emits}
    order = ["water-acceptance", "gas-acceptance", "power-acceptance", "water-design"]
    at = 0.0
    for step in order:
        at += 10.0
        outcome = outcome_for(FLOW, FLOW.step(step), pending.pop(step).value, random.Random(3))
        progress = orchestrator.record(progress.state, outcome.value, at, at - 1)
        pending.update({e.step: e for e in progress.emits})
    # Each chain moved on only once its own previous stage was done.
    assert set(pending) == {"water-construction", "gas-design", "power-connection-lv"}
    assert progress.completion is None


def test_spans_run_from_the_application_to_each_connection() -> None:
    spans = {span.id: (span.start, span.end) for span in FLOW.spans}
    assert spans == {
        "water-connection": ("trigger", "water-connection.acted"),
        "power-lv-connection": ("trigger", "power-connection-lv.acted"),
        "power-lv-excavation-filing": ("power-acceptance.acted", "power-excavation-filing.acted"),
        "power-10kv-connection": ("trigger", "power-connection-10kv.acted"),
        "gas-connection": ("trigger", "gas-connection.acted"),
    }


# -- the shipped scenario ---------------------------------------------------------------------


def test_shipped_scenario_checks_the_plans_targets() -> None:
    scenario = load_scenario(SCENARIO)
    plan = {t.span: (t.stat, str(t.within)) for t in scenario.targets if t.source == "plan"}
    assert plan == {
        "water-connection": ("p99", "9wd"),
        "power-lv-connection": ("p99", "8wd"),
        "power-lv-excavation-filing": ("p99", "2d"),
        "power-10kv-connection": ("mean", "30wd"),
        "gas-connection": ("p99", "13wd"),
    }
    assert all(t.measure == "M6" for t in scenario.targets if t.source == "plan")


def test_short_run_completes_every_case_and_reports_the_spans() -> None:
    # More 10 kV cases than the shipped mix, so a week of arrivals reaches every span.
    scenario = load_scenario(SCENARIO, ["duration=7d", "population.kv10_probability=0.3"])
    result = SimEngine(scenario).run()
    counts = result.flow_counts["F04"]
    assert counts.cases_started > 30
    assert counts.cases_completed == counts.cases_started
    assert counts.lost == 0 and counts.requests_in_flight == 0
    assert counts.outcomes_recorded == counts.requests_emitted
    for span in FLOW.spans:
        key = span_key("F04", span.id)
        assert result.working_days[key]["count"] > 0, key
        assert result.latency[key]["max"] > 0, key
    plan_verdicts = [v for v in result.targets if v.source == "plan"]
    assert len(plan_verdicts) == 5
    assert all(v.observed is not None for v in plan_verdicts)
