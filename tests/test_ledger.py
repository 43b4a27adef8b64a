"""The ledger on its own: what each thing an engine tells it does to the books.

Cases are walked through the real orchestrator of a shipped flow and the transitions it made are
told to a ledger by hand, with hand-chosen times, so every count and latency below is known in
advance.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from govstream.pipeline.agencies import agency_pools
from govstream.pipeline.ledger import Ledger, Work
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.agency import outcome_for
from processors.orchestrator import NOT_THE_OWNER, Orchestrator, Progress, Transition

ROOT = Path(__file__).resolve().parents[1]
F03 = FLOWS["F03"]
CASE = "F03-0000001"


def ledger_for(name: str = "deregistration-fanout") -> Ledger:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml", ["calendar.holidays=none"])
    calendar = scenario_calendar(scenario)
    return Ledger(scenario, calendar, agency_pools(scenario, calendar))


def trigger(case: str = CASE) -> dict[str, object]:
    """An F03 deregistration with seals, one bank account and a housing-fund account."""
    mix = {"bank_account_weights": [0, 1], "housing_fund_probability": 1.0}
    return F03.source.generator(random.Random(1), mix)(case, dt.date(2021, 6, 1))


def opened(ledger: Ledger, at: float = 0.0) -> tuple[Orchestrator, Progress]:
    """The case started and opened, as the engines tell the ledger."""
    case = trigger()
    ledger.started("F03", CASE, case, at)
    orchestrator = Orchestrator(F03)
    progress = orchestrator.open(None, case, at, at)
    ledger.transition("F03", progress.transition, at)
    return orchestrator, progress


def answer(orchestrator: Orchestrator, progress: Progress, step: str, at: float) -> Progress:
    emit = next(e for e in orchestrator.outstanding(progress.state) if e.step == step)
    outcome = outcome_for(F03, F03.step(step), emit.value, random.Random(2)).value
    return orchestrator.record(progress.state, outcome, at, at - 1.0)


def test_a_case_completes_at_its_slowest_answer_not_its_last_recorded() -> None:
    ledger = ledger_for()
    case = trigger()
    ledger.started("F03", CASE, case, 10.0)
    orchestrator = Orchestrator(F03)
    progress = orchestrator.open(None, case, 10.0, 10.5)
    assert progress.transition.requested == ("police", "bank", "housing-fund")
    ledger.transition("F03", progress.transition, 10.5)
    for step, at in (("housing-fund", 30.0), ("police", 40.0), ("bank", 25.0)):
        ledger.delivered("F03", CASE, step, at - 1.0)
        progress = answer(orchestrator, progress, step, at)
        ledger.transition("F03", progress.transition, at)
    assert progress.transition.completed
    case_latency = ledger.book.latency["F03/case"].summary()
    assert (case_latency.count, case_latency.max) == (1, 30.0), "police acted last, at 40"
    counts = ledger.counts()
    assert (counts.cases_completed, counts.requests_emitted, counts.outcomes_recorded) == (1, 3, 3)
    assert ledger.open_cases() == 0
    assert all(identity.holds for identity in ledger.identities())


def test_a_transition_told_twice_changes_nothing() -> None:
    """A progress record read again after a worker was replaced is the same transition."""
    ledger = ledger_for()
    orchestrator, progress = opened(ledger)
    ledger.transition("F03", progress.transition, 0.0)
    police = answer(orchestrator, progress, "police", 5.0)
    for _ in range(2):
        ledger.delivered("F03", CASE, "police", 4.0)
        ledger.transition("F03", police.transition, 5.0)
    counts = ledger.counts()
    assert (counts.requests_emitted, counts.requests_delivered, counts.outcomes_recorded) == (
        3,
        1,
        1,
    )
    assert counts.duplicates == 0
    assert ledger.book.latency["F03/acted:police"].summary().count == 1


def test_duplicates_and_refusals_are_counted_and_change_no_case() -> None:
    ledger = ledger_for()
    orchestrator, progress = opened(ledger)
    bank_request = next(e for e in progress.emits if e.step == "bank")
    forged = dict(outcome_for(F03, F03.step("bank"), bank_request.value, random.Random(3)).value)
    forged.update(step="police", request_id=f"{CASE}/police")
    refused = orchestrator.record(progress.state, forged, 3.0, answerer="bank")
    assert refused.refused == NOT_THE_OWNER
    ledger.transition("F03", refused.transition, 3.0)
    ledger.transition("F03", Transition(CASE, "F03", "DUPLICATE", step="police"), 4.0)
    counts = ledger.counts("F03")
    assert (counts.refused, counts.duplicates, counts.outcomes_recorded) == (1, 1, 0)
    assert ledger.refusals["F03"] == {NOT_THE_OWNER: 1}


def test_at_the_cut_off_a_request_held_is_in_flight_and_one_not_held_is_lost() -> None:
    ledger = ledger_for()
    orchestrator, progress = opened(ledger)
    ledger.delivered("F03", CASE, "police", 1.0)
    progress = answer(orchestrator, progress, "police", 2.0)
    ledger.transition("F03", progress.transition, 2.0)
    # The bank's request is still held (queued there); the housing fund's is nowhere.
    ledger.cut_off(100.0, lambda flow, case_id, step: step == "bank")
    counts = ledger.counts()
    assert (counts.requests_in_flight, counts.lost, counts.cases_open) == (1, 1, 1)
    assert all(identity.holds for identity in ledger.identities())
    # The open case counts at its age, and so do the steps it waits on.
    assert ledger.book.latency["F03/case"].summary().open == 1
    for step in ("bank", "housing-fund"):
        acted = ledger.book.latency[f"F03/acted:{step}"].summary()
        assert (acted.open, acted.max) == (1, 100.0), step
    loads = ledger.agency_loads({})
    assert (loads["bank"].queue_at_end, loads["housing-fund"].queue_at_end) == (1, 1)
    assert loads["police"].queue_at_end == 0


def test_a_request_worked_on_counts_at_its_pool_and_in_the_series() -> None:
    ledger = ledger_for()
    ledger.worked(
        "F03", Work("bank", delivered=10.0, taken=12.0, started=15.0, done=45.0, work=30.0)
    )
    assert ledger.book.latency["wait:bank"].summary().max == 5.0
    assert ledger.book.latency["F03/sojourn:bank"].summary().max == 35.0
    assert ledger.agency_loads({"bank": 3})["bank"].requests == {"F03": 1}
    assert ledger.agency_loads({"bank": 3})["bank"].max_queue == 3


@pytest.mark.parametrize("told", ["skipped", "cancelled"])
def test_every_step_that_fell_due_is_requested_skipped_or_cancelled(told: str) -> None:
    """The books check the orchestrator's own lists: a completed case whose record leaves a
    step out breaks an identity."""
    ledger = ledger_for()
    case = trigger()
    ledger.started("F03", CASE, case, 0.0)
    given = {told: ("housing-fund",)}
    ledger.transition(
        "F03",
        Transition(CASE, "F03", "OPENED", requested=("police", "bank"), **given),
        0.0,
    )
    ledger.delivered("F03", CASE, "police", 0.5)
    ledger.delivered("F03", CASE, "bank", 0.5)
    ledger.transition(
        "F03", Transition(CASE, "F03", "ANSWERED", step="police", status="COMPLETED"), 1.0
    )
    ledger.transition(
        "F03",
        Transition(CASE, "F03", "ANSWERED", step="bank", status="COMPLETED", completed=True),
        2.0,
    )
    assert all(identity.holds for identity in ledger.identities())
    short = ledger_for()
    short.started("F03", CASE, case, 0.0)
    short.transition(
        "F03", Transition(CASE, "F03", "OPENED", requested=("police",), completed=True), 0.0
    )
    broken = [i.name for i in short.identities() if not i.holds]
    assert "steps fallen due = steps requested + skipped + cancelled" in broken


def test_an_engine_that_learns_of_deliveries_with_answers_leaves_them_unknown_at_the_end() -> None:
    """On Kafka a request's delivery is told with its answer: one still unanswered at the end
    may or may not have reached its agency, so its delivery counts as open at no known age,
    not as undelivered for the whole run."""
    told, untold = ledger_for(), ledger_for()
    for ledger in (told, untold):
        opened(ledger)
    told.cut_off(100.0, lambda *_: True)
    untold.cut_off(100.0, lambda *_: True, deliveries_told=False)
    for step in ("police", "bank", "housing-fund"):
        known = told.book.latency[f"F03/delivered:{step}"].summary()
        unknown = untold.book.latency[f"F03/delivered:{step}"].summary()
        assert (known.open, known.open_min) == (1, 100.0), step
        assert (unknown.open, unknown.open_min) == (1, 0.0), step


def test_a_join_of_items_falls_at_the_latest_item_whichever_is_told_last() -> None:
    """On Kafka answers reach the books in wall-clock order: a bank that froze at 500 s may be
    told after one that froze at 900 s. Joined at the second answer told, the step is done at
    900 s, the later of the two on the business clock, not at the 500 s of the last told."""
    ledger = ledger_for("enforcement-search")
    case = "F19-0000001"
    ledger.started("F19", case, None, 0.0)
    opened = Transition(
        case,
        "F19",
        "OPENED",
        requested=("bank-freeze/102", "bank-freeze/103"),
        needs=("bank-freeze",),
    )
    ledger.transition("F19", opened, 0.0)
    first = Transition(case, "F19", "ANSWERED", step="bank-freeze/103", status="COMPLETED")
    ledger.transition("F19", first, 900.0)
    last = Transition(
        case,
        "F19",
        "ANSWERED",
        step="bank-freeze/102",
        status="COMPLETED",
        joined=("bank-freeze",),
        completed=True,
    )
    ledger.transition("F19", last, 500.0)
    latency = ledger.book.latency
    assert latency["F19/acted:bank-freeze"].summary().max == pytest.approx(900.0, rel=1e-3)
    assert latency["F19/acted:bank-freeze@102"].summary().max == pytest.approx(500.0, rel=1e-3)
    assert latency["F19/case"].summary().max == pytest.approx(900.0, rel=1e-3)


def test_a_hand_over_told_twice_starts_one_case() -> None:
    """The case a hand-over starts is open from the transition that handed it over until the
    engine starts it; the same transition told again (a progress record sent again) neither
    opens a second one nor keeps the run waiting for it."""
    ledger = ledger_for("bankruptcy-linkage")
    upstream, started = "F16-0000001", "F03.F16-0000001"
    ledger.started("F16", upstream, None, 0.0)
    opened = Transition(upstream, "F16", "OPENED", requested=("deregistration",))
    ledger.transition("F16", opened, 0.0)
    handing = Transition(
        upstream,
        "F16",
        "ANSWERED",
        step="deregistration",
        status="COMPLETED",
        handed_over=(started,),
    )
    ledger.transition("F16", handing, 100.0)
    assert ledger.open_cases() == 2, "the F16 case, and the F03 case it started"
    ledger.started("F03", started, None, 100.0)
    done = Transition(started, "F03", "OPENED", completed=True)
    ledger.transition("F03", done, 100.0)
    ledger.transition("F16", handing, 100.0)  # told again
    assert ledger.open_cases() == 1
    ledger.transition(
        "F16", Transition(upstream, "F16", "ANSWERED", step="x", completed=True), 200.0
    )
    assert ledger.open_cases() == 0
    assert ledger.counts("F03").cases_started == 1
