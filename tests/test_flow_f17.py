"""F17: the procurement life cycle, a chain of stages each with its own deadline.

The stage-to-stage spans are checked against a case whose times are written out here and whose
working days are counted by hand (holidays and a make-up working day included), and the
prepayment rule against awards written by hand.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from typing import Any

import pytest
from stdnum.cn import uscc

from govstream.calendar.working import WorkingCalendar
from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import LatencyBook, span_key
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.agency import outcome_for
from processors.events import Emit
from processors.f17_m12_procurement_lifecycle import FLOW, prepayment_meets_floor
from processors.orchestrator import CaseCompletion, Orchestrator, Progress, case_marks

CST = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2021, 6, 1, 9, 0, tzinfo=CST)
ON = START.date()
SCENARIO = "scenarios/procurement-lifecycle.yaml"
HOUR = 3600.0
DAY = 86400.0


def triggers(count: int = 300, seed: int = 17, **mix: Any) -> list[dict[str, Any]]:
    make = FLOW.source.generator(random.Random(seed), mix)
    return [make(f"F17-{n:07d}", ON) for n in range(1, count + 1)]


def award(*, sme: bool = True, percent: int = 50, waived: bool = False) -> dict[str, Any]:
    """An award of 1,234,567.89 yuan to a supplier, with the prepayment the test needs."""
    return {
        "event_id": "00000000-0000-4000-8000-000000000017",
        "case_id": "F17-0000001",
        "project_no": "CQYZ-2021-00001",
        "project_name": "重庆市渝中区城市管理局道路修缮工程项目",
        "category": "WORKS",
        "procurement_method": "PUBLIC_TENDER",
        "notice_published_on": ON,
        "purchaser": {"name": "重庆市渝中区城市管理局", "uscc": "11500103000000019T"},
        "supplier": {
            "name": "重庆鸿达建筑工程有限公司",
            "uscc": "91500103MA60AAAA56",
            "sme": sme,
            "bank_name": "重庆银行",
            "bank_code": "313",
            "account_number": "0101123456789012",
        },
        "award_amount_fen": 123_456_789,
        "prepayment": {"percent": percent, "waived": waived},
    }


def walk(trigger: dict[str, Any], seed: int = 1) -> tuple[list[Emit], CaseCompletion]:
    """Every request of one case, each answered in turn as the agency or supplier would."""
    rng = random.Random(seed)
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, trigger, 0.0, 0.0)
    emitted, pending = list(progress.emits), deque(progress.emits)
    at = 0.0
    while pending:
        emit = pending.popleft()
        at += HOUR
        outcome = outcome_for(FLOW, FLOW.step(str(emit.step)), emit.value, rng).value
        progress = orchestrator.record(progress.state, outcome, at, at if emit.recipient else None)
        emitted += progress.emits
        pending += progress.emits
    assert progress.completion is not None, "the case never completed"
    return emitted, progress.completion


def steps_of(emits: list[Emit]) -> list[str]:
    return sorted(str(emit.step) for emit in emits)


def answer(
    orchestrator: Orchestrator, progress: Progress, step: str, at: float, seed: int = 5
) -> Progress:
    """The agency or the supplier answers the request the case sent for `step`, at `at`."""
    emit = next(e for e in progress.emits if e.step == step)
    outcome = outcome_for(FLOW, FLOW.step(step), emit.value, random.Random(seed)).value
    delivered = at if emit.recipient is not None else None
    return orchestrator.record(progress.state, outcome, at, delivered)


# -- triggers ---------------------------------------------------------------------------------


def test_flow_is_discovered_with_its_own_topics() -> None:
    assert FLOWS["F17"] is FLOW
    catalog = load_catalog()
    assert catalog.topic(FLOW.source_topic).producers == ("finance-bureau",)
    for step in FLOW.steps:
        if step.topic is not None:
            agency, _, what = step.topic.partition(".")
            assert agency == step.agency and what.endswith("-request.v1")
    assert [step.id for step in FLOW.waits] == ["delivery", "invoice"]
    assert {step.party for step in FLOW.waits} == {"supplier"}


def test_generated_triggers_round_trip_through_their_schema(codec: AvroCodec) -> None:
    for trigger in triggers():
        data = codec.encode(FLOW.source_topic, trigger)
        assert codec.decode(data, expected_topic=FLOW.source_topic).value == trigger


def test_generated_credit_codes_are_valid_and_name_the_right_kind_of_body() -> None:
    for trigger in triggers():
        purchaser, supplier = trigger["purchaser"]["uscc"], trigger["supplier"]["uscc"]
        assert uscc.is_valid(purchaser) and uscc.is_valid(supplier)
        assert purchaser.startswith("11500103")  # a government organ of Yuzhong
        assert supplier.startswith("91")  # an enterprise


def test_a_purchaser_keeps_its_code_across_its_contracts() -> None:
    codes: dict[str, set[str]] = {}
    for trigger in triggers():
        codes.setdefault(trigger["purchaser"]["name"], set()).add(trigger["purchaser"]["uscc"])
    assert len(codes) > 10
    assert all(len(found) == 1 for found in codes.values())


# -- the prepayment rule ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sme", "percent", "waived", "verdict"),
    [
        (True, 40, False, False),  # a small firm is owed at least half
        (False, 40, False, True),  # others at least 30 %
        (True, 50, False, True),
        (False, 30, False, True),
        (False, 20, False, False),
        (True, 0, False, False),
        (True, 0, True, None),  # declined in writing: the floor does not apply
    ],
)
def test_prepayment_rule_on_hand_made_awards(
    sme: bool, percent: int, waived: bool, verdict: bool | None
) -> None:
    trigger = award(sme=sme, percent=percent, waived=waived)
    assert prepayment_meets_floor(trigger) is verdict
    (rule,) = FLOW.rules
    assert rule.measure == "M15" and rule.check(trigger) is verdict


def test_compliance_knob_decides_how_many_awards_break_the_rule() -> None:
    complying = [prepayment_meets_floor(t) for t in triggers(300, prepayment_compliance=1.0)]
    assert set(complying) <= {True, None} and complying.count(True) > 250
    breaking = [prepayment_meets_floor(t) for t in triggers(300, prepayment_compliance=0.0)]
    assert set(breaking) <= {False, None} and breaking.count(False) > 250


# -- requests ---------------------------------------------------------------------------------


def test_each_request_satisfies_its_contract_and_carries_only_its_fields(
    codec: AvroCodec,
) -> None:
    seen: set[str] = set()
    for trigger in triggers(100):
        for emit in walk(trigger)[0]:
            step = FLOW.step(str(emit.step))
            assert emit.topic == (FLOW.wait_topic if step.is_wait else step.topic)
            names = {f["name"] for f in codec.catalog.schema_json(emit.topic)["fields"]}
            assert set(emit.value) == names, step.id
            data = codec.encode(emit.topic, emit.value)
            assert codec.decode(data, expected_topic=emit.topic).value == dict(emit.value)
            seen.add(step.id)
    assert seen == {step.id for step in FLOW.steps}


def test_only_the_treasury_learns_the_suppliers_account() -> None:
    trigger = award()
    account = trigger["supplier"]["account_number"]
    for emit in walk(trigger)[0]:
        carries = account in emit.value.values()
        assert carries == (emit.step in ("prepayment", "payment")), emit.step


def test_prepayment_and_final_payment_add_up_to_the_award() -> None:
    trigger = award(percent=60)
    paid = {
        e.step: e.value["amount_fen"]
        for e in walk(trigger)[0]
        if e.step in ("prepayment", "payment")
    }
    assert paid["prepayment"] == 123_456_789 * 60 // 100
    assert paid["prepayment"] + paid["payment"] == trigger["award_amount_fen"]


# -- the chain, by hand -----------------------------------------------------------------------


def test_the_chain_runs_stage_by_stage() -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, award(), 0.0, 0.0)
    assert steps_of(progress.emits) == ["contract-signing"]

    progress = answer(orchestrator, progress, "contract-signing", 10.0)
    assert steps_of(progress.emits) == ["contract-filing", "delivery", "prepayment"]
    contract = progress.state["replies"]["contract-signing"]["contract_no"]
    assert all(e.value.get("contract_no", contract) == contract for e in progress.emits)
    side = {e.step: e for e in progress.emits}
    delivery = side["delivery"]
    assert delivery.recipient is None and delivery.value["party"] == "supplier"

    progress = answer(orchestrator, progress, "delivery", 20.0)
    assert steps_of(progress.emits) == ["acceptance"]
    progress = answer(orchestrator, progress, "acceptance", 30.0)
    assert steps_of(progress.emits) == ["invoice"]
    progress = answer(orchestrator, progress, "invoice", 40.0)
    assert steps_of(progress.emits) == ["payment-application"]
    invoice = progress.state["replies"]["invoice"]
    application = progress.emits[0].value
    assert application["invoice_no"] == invoice["invoice_no"]
    assert application["acceptance_no"] == progress.state["replies"]["acceptance"]["acceptance_no"]
    progress = answer(orchestrator, progress, "payment-application", 50.0)
    assert steps_of(progress.emits) == ["payment"]
    progress = answer(orchestrator, progress, "payment", 60.0)
    # Filing and prepayment are still out: the case is not done until they are.
    assert progress.completion is None
    for step, at in (("contract-filing", 70.0), ("prepayment", 80.0)):
        emit = side[step]
        outcome = outcome_for(FLOW, FLOW.step(step), emit.value, random.Random(6)).value
        progress = orchestrator.record(progress.state, outcome, at, at)
    assert progress.completion is not None and progress.transition.completed
    assert case_marks(progress.state)["prepayment.acted"] == 80.0


def test_no_prepayment_step_when_the_supplier_declined_it() -> None:
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, award(percent=0, waived=True), 0.0, 0.0)
    progress = answer(orchestrator, progress, "contract-signing", 10.0)
    assert steps_of(progress.emits) == ["contract-filing", "delivery"]
    assert progress.transition.skipped == ("prepayment",)


# -- spans against a case computed by hand -------------------------------------------------------


def test_spans_match_a_hand_computed_case() -> None:
    calendar = WorkingCalendar(START)
    # 2021 Mid-Autumn: 19–21 September off, Saturday 18 September a make-up working day.
    assert calendar.is_workday(dt.date(2021, 9, 18))
    assert not calendar.is_workday(dt.date(2021, 9, 20))

    def at(month: int, day: int, hour: int, minute: int = 0) -> float:
        return calendar.from_datetime(dt.datetime(2021, month, day, hour, minute, tzinfo=CST))

    times = {
        "contract-signing": at(6, 18, 10),  # 17 days and 1 hour after the notice
        "contract-filing": at(6, 18, 15),
        "prepayment": at(6, 21, 11),
        "delivery": at(9, 3, 16),  # Friday
        "acceptance": at(9, 8, 11),  # Wednesday
        "invoice": at(9, 17, 16),  # Friday before the holiday
        "payment-application": at(9, 18, 15),  # the make-up Saturday
        "payment": at(9, 22, 10, 30),  # Wednesday after it
    }
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, award(), 0.0, 0.0)
    pending = {e.step: e for e in progress.emits}
    while pending:
        step = min(pending, key=lambda s: times[str(s)])
        emit = pending.pop(step)
        outcome = outcome_for(FLOW, FLOW.step(str(step)), emit.value, random.Random(7)).value
        when = times[str(step)]
        progress = orchestrator.record(progress.state, outcome, when, when)
        pending.update({e.step: e for e in progress.emits})
    assert progress.completion is not None
    marks = case_marks(progress.state)

    # By hand, on 09:00–12:00 and 13:30–17:30 (7 h a working day):
    # completion → acceptance: Fri 16:00–17:30, Mon, Tue, Wed 09:00–11:00 = 17.5 h = 2.5 wd;
    # invoice → payment: Fri 16:00–17:30, Sat 18th (make-up) 7 h, Wed 09:00–10:30 = 10 h.
    expected_wd = {"completion-to-acceptance": 17.5 / 7, "invoice-to-payment": 10 / 7}
    for span_id, hand in expected_wd.items():
        span = next(s for s in FLOW.spans if s.id == span_id)
        start, end = marks[span.start], marks[span.end]
        assert calendar.working_days_between(start, end) == pytest.approx(hand)

    book = LatencyBook(calendar, {"F17": list(FLOW.spans)})
    book.completed_marks("F17", 0.0, times["payment"], marks)
    for span_id, hand in expected_wd.items():
        recorded = book.working_days[span_key("F17", span_id)].summary()
        assert recorded.count == 1
        assert recorded.mean == pytest.approx(hand)
    award_to_contract = book.latency[span_key("F17", "award-to-contract")].summary()
    assert award_to_contract.mean == pytest.approx(17 * DAY + HOUR)


# -- the shipped scenario ---------------------------------------------------------------------


def test_shipped_scenario_checks_the_plans_deadlines() -> None:
    scenario = load_scenario(SCENARIO)
    plan = {t.span: (str(t.within), t.measure) for t in scenario.targets if t.source == "plan"}
    assert plan == {
        "award-to-contract": ("20d", "M13"),
        "completion-to-acceptance": ("7wd", "M14"),
        "invoice-to-payment": ("5wd", "M15"),
    }


def test_short_run_completes_every_case_counts_the_rule_and_reports_the_spans() -> None:
    result = SimEngine(load_scenario(SCENARIO, ["duration=7d"])).run()
    counts = result.flow_counts["F17"]
    assert counts.cases_started > 20
    assert counts.cases_completed == counts.cases_started
    assert counts.lost == 0 and counts.requests_in_flight == 0
    rule = result.rules["F17"]["prepayment-share"]
    assert sum(rule.values()) == counts.cases_started
    assert rule.get("met", 0) > rule.get("not met", 0)
    for span in FLOW.spans:
        key = span_key("F17", span.id)
        assert result.working_days[key]["count"] == counts.cases_started, key
    verdicts = {v.step: v for v in result.targets if v.source == "plan"}
    assert set(verdicts) == {span.id for span in FLOW.spans}
    assert all(v.observed is not None for v in verdicts.values())
