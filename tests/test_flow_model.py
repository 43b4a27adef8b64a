"""A stage-to-stage deadline, checked against one case worked out by hand.

A small payment flow (invoice, then payment) names the span the plan would set a deadline on:
from the invoice to the payment. One case's marks are set by hand on dates whose working days
can be counted on a calendar page, and the latency book and the SLA check must give exactly
those figures. The flow is registered for the test only (`processors.FLOWS` is patched), so
the scenario model, the book and the SLA check see it as they would a real flow.

Working days, by hand (office hours 09:00-12:00 and 13:30-17:30, seven hours a day):

- Friday 4 June 2021 15:00 to Tuesday 8 June 10:30: Friday 2.5 h, the weekend nothing,
  Monday 7 h, Tuesday 1.5 h: 11 h = 11/7 working days; on the clock 3 d 19.5 h = 329 400 s.
- Friday 4 June 10:00 (the trigger) to the same Tuesday: Friday 2 h + 4 h, Monday 7 h,
  Tuesday 1.5 h: 14.5 h = 14.5/7 working days; 3 d 0.5 h = 347 400 s.
- Friday 11 June 15:00 to Tuesday 15 June 10:30, over the Dragon Boat holiday (Saturday 12 to
  Monday 14 June, no make-up day): 2.5 h + 1.5 h = 4 h = 4/7 working days, though the clock
  says the same 329 400 s as the first week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

import processors
from govstream.metrics import LatencySummary
from govstream.pipeline.book import LatencyBook, case_key, scenario_spans, span_key
from govstream.plan import targets as plan_targets
from govstream.plan.targets import PlanTimeTarget
from govstream.result import TargetVerdict
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.loader import parse_scenario
from govstream.scenario.model import CHINA_STANDARD_TIME, Scenario
from govstream.sla import evaluate_targets
from processors.flow import TRIGGER, CaseView, FlowSpec, PlanTarget, Source, Span, Step
from processors.orchestrator import Orchestrator, case_marks

START = datetime(2021, 6, 1, 9, 0, tzinfo=CHINA_STANDARD_TIME)  # a Tuesday
HOUR = 3600.0
WD = 7 * HOUR


@dataclass(frozen=True)
class NoMix:
    """The test never draws triggers; the scenario model still asks for the mix's knobs."""


def request(case: CaseView) -> dict[str, object]:
    return {"order_no": case.trigger["order_no"]}


PAYMENT_FLOW = FlowSpec(
    id="T17",
    title="invoice, then payment",
    measures=("M16",),
    source=Source("buyer", "buyer.order.v1", "t17/Order.avsc", NoMix, lambda rng, mix: None),
    steps=(
        Step(
            "invoice",
            "the supplier's invoice is registered",
            agency="buyer",
            topic="buyer.invoice.v1",
            schema="t17/Invoice.avsc",
            request=request,
        ),
        Step(
            "payment",
            "the treasury pays",
            agency="treasury",
            topic="treasury.pay.v1",
            schema="t17/Pay.avsc",
            request=request,
            after=("invoice",),
        ),
    ),
    spans=(Span("invoice-to-payment", "invoice.acted", "payment.acted", "pay after invoice"),),
    plan_targets=(PlanTarget("M16", "支付期限不超过5个工作日", "paid within 5 WD of invoice"),),
)

SCENARIO = """
name: payment-deadline
flow: T17
start: 2021-06-01T09:00:00+08:00
duration: 1d
arrivals: {process: poisson, rate: 1/d}
calendar: {holidays: cn, office_hours: ["09:00-12:00", "13:30-17:30"]}
agencies:
  buyer: {service_time: {dist: constant, value: 1min}}
  treasury: {service_time: {dist: constant, value: 1min}}
targets:
  - {id: plan-5wd, of: span, span: invoice-to-payment, stat: max, within: 5wd, source: plan,
     measure: M16}
  - {id: within-2wd, of: span, span: invoice-to-payment, stat: max, within: 2wd,
     working_days: office, source: author}
  - {id: within-1wd, of: span, span: invoice-to-payment, stat: max, within: 1wd,
     working_days: office, source: author}
  - {id: within-p90-1wd, of: span, span: invoice-to-payment, stat: p90, within: 1wd,
     working_days: office, source: author}
  - {id: within-4d, of: span, span: invoice-to-payment, stat: max, within: 4d, source: author}
  - {id: within-3d, of: span, span: invoice-to-payment, stat: max, within: 3d, source: author}
  - {id: trigger-to-payment, of: span, from: trigger, to: payment.acted, stat: max, within: 2wd,
     working_days: office, source: author}
  - {id: case-3wd, of: case, stat: max, within: 3wd, working_days: office, source: author}
  - {id: legal-1wd, of: span, span: invoice-to-payment, stat: max, within: 1wd, source: author}
  - {id: legal-trigger-2wd, of: span, from: trigger, to: payment.acted, stat: max, within: 2wd,
     source: author}
"""


PLAN_NUMBER = PlanTimeTarget(
    "T17", "M16", "payment after the invoice", "支付期限不超过5个工作日", 5, "wd", "every",
    span="invoice-to-payment",
)  # fmt: skip
"""The test flow's number in the plan's table, as a flow of the plan would have it."""


@pytest.fixture
def scenario(monkeypatch: pytest.MonkeyPatch) -> Scenario:
    monkeypatch.setitem(processors.FLOWS, PAYMENT_FLOW.id, PAYMENT_FLOW)
    monkeypatch.setattr(plan_targets, "PLAN_TARGETS", (*plan_targets.PLAN_TARGETS, PLAN_NUMBER))
    return parse_scenario(SCENARIO, "<payment-deadline>")


def at(day: int, hour: int, minute: int = 0) -> float:
    """Seconds since the scenario's start at the given June 2021 local time."""
    moment = datetime(2021, 6, day, hour, minute, tzinfo=CHINA_STANDARD_TIME)
    return (moment - START).total_seconds()


Finished = tuple[float, float, dict[str, float]]
"""A finished case as the books record it: opened, completed, its marks."""


def completion(trigger: float, invoice: float | None, payment: float) -> Finished:
    """One case whose marks are set by hand; a None invoice is an invoice step that was skipped."""
    marks = {TRIGGER: trigger, "payment.delivered": payment - 60, "payment.acted": payment}
    if invoice is not None:
        marks |= {"invoice.delivered": invoice - 60, "invoice.acted": invoice}
    return trigger, payment, marks


def book_of(scenario: Scenario, *cases: Finished) -> LatencyBook:
    book = LatencyBook(scenario_calendar(scenario), scenario_spans(scenario))
    for opened, completed, marks in cases:
        book.completed_marks("T17", opened, completed, marks)
    return book


def summaries(book: LatencyBook) -> tuple[dict[str, dict], dict[str, dict]]:
    latency = {name: s.to_data() for name, s in book.latency.summaries().items()}
    working_days = {name: s.to_data() for name, s in book.working_days.summaries().items()}
    return latency, working_days


def legal_days(book: LatencyBook) -> dict[str, dict]:
    return {name: s.to_data() for name, s in book.legal_days.summaries().items()}


def verdicts(scenario: Scenario, book: LatencyBook) -> dict[str, TargetVerdict]:
    return {v.id: v for v in evaluate_targets(scenario, *summaries(book), legal_days(book))}


def test_hand_picked_times_are_the_days_described() -> None:
    assert START.strftime("%A") == "Tuesday"
    assert (START + timedelta(seconds=at(4, 15))).strftime("%A %H:%M") == "Friday 15:00"
    assert (START + timedelta(seconds=at(8, 10, 30))).strftime("%A %H:%M") == "Tuesday 10:30"
    assert at(8, 10, 30) - at(4, 15) == 329_400.0
    assert at(15, 10, 30) - at(11, 15) == 329_400.0


def test_scenario_spans_include_the_flows_and_the_targets_own(scenario: Scenario) -> None:
    spans = scenario_spans(scenario)["T17"]
    assert spans == [
        Span("invoice-to-payment", "invoice.acted", "payment.acted", "pay after invoice"),
        Span("trigger->payment.acted", TRIGGER, "payment.acted"),
    ]


def test_book_records_the_span_in_seconds_and_working_days(scenario: Scenario) -> None:
    book = book_of(scenario, completion(at(4, 10), at(4, 15), at(8, 10, 30)))
    latency, working_days = summaries(book)
    span = span_key("T17", "invoice-to-payment")
    assert span == "T17/span:invoice-to-payment"
    assert latency[span]["count"] == 1
    assert latency[span]["max"] == pytest.approx(329_400.0)
    assert working_days[span]["max"] == pytest.approx(11 / 7)
    drawn = span_key("T17", "trigger->payment.acted")
    assert latency[drawn]["max"] == pytest.approx(347_400.0)
    assert working_days[drawn]["max"] == pytest.approx(14.5 / 7)
    # The whole case runs from the trigger's intended time to its last step.
    assert latency[case_key("T17")]["max"] == pytest.approx(347_400.0)
    assert working_days[case_key("T17")]["max"] == pytest.approx(14.5 / 7)


def test_a_holiday_is_not_a_working_day(scenario: Scenario) -> None:
    book = book_of(scenario, completion(at(11, 10), at(11, 15), at(15, 10, 30)))
    latency, working_days = summaries(book)
    span = span_key("T17", "invoice-to-payment")
    assert latency[span]["max"] == pytest.approx(329_400.0)
    assert working_days[span]["max"] == pytest.approx(4 / 7)


def test_span_whose_mark_the_case_never_reached_is_not_recorded(scenario: Scenario) -> None:
    book = book_of(scenario, completion(at(4, 10), None, at(8, 10, 30)))
    latency, _ = summaries(book)
    assert span_key("T17", "invoice-to-payment") not in latency
    assert latency[span_key("T17", "trigger->payment.acted")]["count"] == 1
    assert latency[case_key("T17")]["count"] == 1


def test_marks_made_by_the_orchestrator_give_the_same_figures(scenario: Scenario) -> None:
    orchestrator = Orchestrator(PAYMENT_FLOW)
    trigger = {"case_id": "T17-1", "order_no": "PO-1"}
    progress = orchestrator.open(None, trigger, opened_at=at(4, 10), now=at(4, 10) + 0.2)
    agencies = {"invoice": "buyer", "payment": "treasury"}
    for step, acted in (("invoice", at(4, 15)), ("payment", at(8, 10, 30))):
        outcome = {
            "case_id": "T17-1",
            "request_id": f"T17-1/{step}",
            "step": step,
            "agency": agencies[step],
            "status": "COMPLETED",
        }
        progress = orchestrator.record(progress.state, outcome, acted, acted - 60)
    assert progress.completion is not None
    by_hand = summaries(book_of(scenario, completion(at(4, 10), at(4, 15), at(8, 10, 30))))
    marks = case_marks(progress.state)
    walked = summaries(book_of(scenario, (at(4, 10), marks["payment.acted"], marks)))
    assert walked == by_hand


def test_span_targets_are_met_or_missed_as_counted_by_hand(scenario: Scenario) -> None:
    found = verdicts(scenario, book_of(scenario, completion(at(4, 10), at(4, 15), at(8, 10, 30))))
    met = {name: verdict.met for name, verdict in found.items()}
    assert met == {
        "plan-5wd": True,  # as the law counts: Monday and Tuesday after Friday, 2 ≤ 5
        "within-2wd": True,  # office time 11/7 ≤ 2
        "within-1wd": False,  # 11/7 > 1
        "within-p90-1wd": False,
        "within-4d": True,  # 329 400 s ≤ 345 600 s
        "within-3d": False,  # 329 400 s > 259 200 s
        "trigger-to-payment": False,  # office time 14.5/7 > 2
        "case-3wd": True,  # 14.5/7 ≤ 3
        "legal-1wd": False,  # paid on the second working day after the invoice's
        "legal-trigger-2wd": True,  # by the close of the second working day: in time
    }
    assert found["legal-trigger-2wd"].observed == 2.0
    assert found["legal-trigger-2wd"].working_days == "legal"
    assert found["trigger-to-payment"].working_days == "office"
    two = found["within-2wd"]
    assert (two.flow, two.of, two.step, two.unit, two.limit) == (
        "T17",
        "span",
        "invoice-to-payment",
        "wd",
        2.0,
    )
    assert two.observed == pytest.approx(11 / 7)
    assert found["within-p90-1wd"].observed == pytest.approx(11 / 7, rel=1e-3)
    four = found["within-4d"]
    assert (four.unit, four.limit, four.observed) == ("s", 345_600.0, pytest.approx(329_400.0))
    assert found["trigger-to-payment"].step == "trigger->payment.acted"
    assert found["plan-5wd"].quote == "支付期限不超过5个工作日"
    assert found["within-2wd"].quote is None


def test_the_holiday_turns_a_miss_into_a_hit(scenario: Scenario) -> None:
    """Same clock time as the first week, but under one working day across the holiday."""
    found = verdicts(
        scenario, book_of(scenario, completion(at(11, 10), at(11, 15), at(15, 10, 30)))
    )
    assert found["within-1wd"].met is True
    assert found["within-1wd"].observed == pytest.approx(4 / 7)
    assert found["legal-1wd"].met is True, "Tuesday is the first working day after Friday"
    assert found["within-3d"].met is False, "on the clock it is as late as ever"


def test_span_target_without_data_is_not_met(scenario: Scenario) -> None:
    found = verdicts(scenario, book_of(scenario, completion(at(4, 10), None, at(8, 10, 30))))
    assert found["within-2wd"].observed is None
    assert found["within-2wd"].met is None
    assert found["trigger-to-payment"].observed is not None


def test_a_target_reads_the_stat_it_names(scenario: Scenario) -> None:
    """Two cases: the max target sees the slower, so one slow case is enough to miss."""
    quick = completion(at(11, 10), at(11, 15), at(15, 10, 30))  # 4/7 wd
    slow = completion(at(4, 10), at(4, 15), at(8, 10, 30))  # 11/7 wd
    book = book_of(scenario, quick, slow)
    _, working_days = summaries(book)
    data = LatencySummary.from_data(working_days[span_key("T17", "invoice-to-payment")])
    assert data.count == 2
    assert data.mean == pytest.approx((4 / 7 + 11 / 7) / 2)
    assert verdicts(scenario, book)["within-1wd"].met is False
