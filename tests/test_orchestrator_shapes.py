"""The orchestrator's two newer shapes on flows built here: a step done once per item, joined
when all, the first or k of its items are done; and a case that starts a case of another flow.

Times are chosen by hand, so every join time and hand-over below is worked out in advance.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from test_orchestrator import CASE, SOURCE, agency_step, steps_of, trigger

from processors.events import Record
from processors.flow import AtLeast, CaseView, Each, FlowSpec, Handover, ItemJoin, Step
from processors.orchestrator import (
    ANSWERED,
    CANCELLED,
    COMPLETED,
    DUPLICATE,
    REFUSED,
    REJECTED,
    SKIPPED,
    UNREQUESTED,
    Orchestrator,
    Progress,
    case_marks,
)

BANKS = ["ICBC", "CCB", "ABC", "BOC"]


def banks_of(case: CaseView) -> list[Record]:
    return [{"bank_code": code} for code in case.trigger["banks"]]


def freeze_request(case: CaseView) -> Record:
    assert case.item is not None
    return {"thing": case.trigger["thing"], "bank_code": case.item["bank_code"]}


def per_bank(join: ItemJoin = "all") -> Step:
    return Step(
        "freeze",
        "freeze the accounts at each bank",
        agency="bank",
        topic="bank.freeze.v1",
        schema="t01/Request.avsc",
        request=freeze_request,
        each=Each(banks_of, lambda item: str(item["bank_code"]), kind="bank", join=join),
    )


def flow_with(*steps: Step, handovers: tuple[Handover, ...] = (), flow_id: str = "T01") -> FlowSpec:
    return FlowSpec(
        id=flow_id,
        title="a hand-made flow",
        measures=("M0",),
        source=SOURCE,
        steps=steps,
        handovers=handovers,
    )


def item_outcome(bank: str, status: str = COMPLETED, *, request_id: str | None = None) -> Record:
    return {
        "case_id": CASE,
        "request_id": request_id or f"{CASE}/freeze/{bank}",
        "step": "freeze",
        "agency": "bank",
        "status": status,
        "reply": None,
    }


def answer(
    orchestrator: Orchestrator, state: dict[str, Any], outcome: Record, at: float
) -> Progress:
    before = copy.deepcopy(state)
    progress = orchestrator.record(state, outcome, at)
    assert state == before, "a transition must not change the state it was given"
    return progress


def test_a_step_per_item_sends_one_request_per_item_with_its_own_id_and_body() -> None:
    orchestrator = Orchestrator(flow_with(per_bank()))
    opened = orchestrator.open(None, trigger(banks=["ICBC", "CCB", "ICBC"]), 0.0, 0.0)
    assert [e.value["request_id"] for e in opened.emits] == [
        f"{CASE}/freeze/ICBC",
        f"{CASE}/freeze/CCB",
    ], "an item named twice is one request"
    assert [e.value["bank_code"] for e in opened.emits] == ["ICBC", "CCB"]
    assert opened.transition.requested == ("freeze/ICBC", "freeze/CCB")


@pytest.mark.parametrize(
    ("join", "joins_at"),
    [("all", 4), ("first", 1), (AtLeast(2), 2), (AtLeast(3), 3), (AtLeast(9), 4)],
)
def test_a_join_finishes_the_step_at_the_answer_it_names(join: ItemJoin, joins_at: int) -> None:
    """Four banks answer at t = 10, 20, 30, 40: the step is done (and the next step due) at the
    answer the join names; the case completes only once every bank has answered."""
    after = agency_step("report", after=("freeze",))
    orchestrator = Orchestrator(flow_with(per_bank(join), after))
    progress = orchestrator.open(None, trigger(banks=BANKS), 0.0, 0.0)
    state = progress.state
    for n, bank in enumerate(BANKS, start=1):
        progress = answer(orchestrator, state, item_outcome(bank), at=10.0 * n)
        state = progress.state
        assert progress.transition.event == ANSWERED
        assert progress.transition.step == f"freeze/{bank}"
        assert progress.transition.joined == (("freeze",) if n == joins_at else ())
        assert [e.step for e in progress.emits] == (["report"] if n == joins_at else [])
        assert progress.completion is None, "the report is still out"
    assert state["done"]["freeze"] == {"at": 10.0 * joins_at, "status": COMPLETED}
    assert case_marks(state)["freeze.acted"] == 10.0 * joins_at
    done = answer(orchestrator, state, _plain("report"), at=50.0)
    assert done.completion is not None and done.completion.rejected == ()


def test_a_case_waits_for_the_items_still_out_after_the_join() -> None:
    orchestrator = Orchestrator(flow_with(per_bank("first")))
    state = orchestrator.open(None, trigger(banks=["ICBC", "CCB"]), 0.0, 0.0).state
    first = answer(orchestrator, state, item_outcome("ICBC"), 5.0)
    assert first.transition.joined == ("freeze",) and first.completion is None
    last = answer(orchestrator, first.state, item_outcome("CCB"), 9.0)
    assert last.completion is not None
    assert last.transition.joined == (), "the step was joined once"


def test_a_join_that_can_no_longer_be_met_rejects_the_step_and_cancels_what_follows() -> None:
    """Two of three must freeze; two rejections leave one bank, so the step is rejected at
    the second rejection and the report after it is cancelled."""
    after = agency_step("report", after=("freeze",))
    orchestrator = Orchestrator(flow_with(per_bank(AtLeast(2)), after))
    state = orchestrator.open(None, trigger(banks=BANKS[:3]), 0.0, 0.0).state
    one = answer(orchestrator, state, item_outcome("ICBC", REJECTED), 1.0)
    assert one.transition.joined == ()
    two = answer(orchestrator, one.state, item_outcome("CCB", REJECTED), 2.0)
    assert two.transition.joined == ("freeze",)
    assert two.state["done"]["freeze"]["status"] == REJECTED
    assert two.transition.cancelled == ("report",)
    last = answer(orchestrator, two.state, item_outcome("ABC"), 3.0)
    assert last.completion is not None and last.completion.rejected == ("freeze",)
    assert last.state["done"]["report"]["status"] == CANCELLED


def test_no_items_skips_the_step() -> None:
    orchestrator = Orchestrator(flow_with(per_bank()))
    opened = orchestrator.open(None, trigger(banks=[]), 0.0, 0.0)
    assert opened.transition.skipped == ("freeze",)
    assert opened.state["done"]["freeze"]["status"] == SKIPPED
    assert opened.completion is not None


def test_an_item_answered_twice_is_a_duplicate_and_an_unknown_item_is_refused() -> None:
    orchestrator = Orchestrator(flow_with(per_bank()))
    state = orchestrator.open(None, trigger(banks=["ICBC", "CCB"]), 0.0, 0.0).state
    state = answer(orchestrator, state, item_outcome("ICBC"), 1.0).state
    again = answer(orchestrator, state, item_outcome("ICBC"), 2.0)
    assert again.transition.event == DUPLICATE and again.transition.step == "freeze/ICBC"
    unknown = answer(orchestrator, state, item_outcome("BOC"), 2.0)
    assert unknown.transition.event == REFUSED and unknown.refused == UNREQUESTED
    plain = answer(orchestrator, state, item_outcome("CCB", request_id=f"{CASE}/freeze"), 2.0)
    assert plain.refused == UNREQUESTED, "an item step's answer names its item"


def test_the_scenario_may_set_another_join() -> None:
    orchestrator = Orchestrator(flow_with(per_bank("all")), joins={"freeze": "first"})
    state = orchestrator.open(None, trigger(banks=BANKS), 0.0, 0.0).state
    assert answer(orchestrator, state, item_outcome("CCB"), 1.0).transition.joined == ("freeze",)


def test_owed_requests_are_the_items_not_yet_answered() -> None:
    orchestrator = Orchestrator(flow_with(per_bank()))
    state = orchestrator.open(None, trigger(banks=BANKS), 0.0, 0.0).state
    state = answer(orchestrator, state, item_outcome("CCB"), 1.0).state
    owed = [e.value["request_id"] for e in orchestrator.outstanding(state)]
    assert owed == [f"{CASE}/freeze/{bank}" for bank in ("ICBC", "ABC", "BOC")]


# -- flows that start flows ----------------------------------------------------------------


def to_next(case: CaseView, case_id: str) -> Record:
    return {"event_id": f"e-{case_id}", "thing": case.trigger["thing"], "from": case.case_id}


def handing(at: str, *, applies: Any = None) -> Orchestrator:
    extra = {} if applies is None else {"applies": applies}
    upstream = flow_with(
        agency_step("ruling"),
        agency_step("close", after=("ruling",)),
        handovers=(Handover("T02", at, to_next, **extra),),
    )
    return Orchestrator(upstream, downstream={"T02": "t02.source.v1"})


def _plain(step: str, status: str = COMPLETED) -> Record:
    return {
        "case_id": CASE,
        "request_id": f"{CASE}/{step}",
        "step": step,
        "agency": step,
        "status": status,
        "reply": None,
    }


def test_a_step_answer_hands_over_with_the_data_carried_forward() -> None:
    orchestrator = handing("ruling.acted")
    state = orchestrator.open(None, trigger(), 0.0, 0.0).state
    ruled = answer(orchestrator, state, _plain("ruling"), 3.0)
    [started] = ruled.started
    assert started.flow == "T02"
    assert started.emit.topic == "t02.source.v1" and started.emit.key == f"T02.{CASE}"
    assert started.emit.value == {
        "event_id": f"e-T02.{CASE}",
        "thing": "X-1",
        "from": CASE,
        "case_id": f"T02.{CASE}",
    }
    assert ruled.transition.handed_over == (f"T02.{CASE}",)
    closed = answer(orchestrator, ruled.state, _plain("close"), 4.0)
    assert closed.started == [] and closed.completion is not None


def test_a_completion_hands_over_unless_the_case_was_rejected() -> None:
    orchestrator = handing("completed")
    state = orchestrator.open(None, trigger(), 0.0, 0.0).state
    state = answer(orchestrator, state, _plain("ruling"), 1.0).state
    assert [s.flow for s in answer(orchestrator, state, _plain("close"), 2.0).started] == ["T02"]
    rejected = answer(orchestrator, state, _plain("close", REJECTED), 2.0)
    assert rejected.completion is not None and rejected.started == []


def test_no_hand_over_where_the_data_says_not_or_the_run_lacks_the_flow() -> None:
    no = handing("ruling.acted", applies=lambda trigger: trigger["thing"] != "X-1")
    state = no.open(None, trigger(), 0.0, 0.0).state
    assert answer(no, state, _plain("ruling"), 1.0).started == []
    rejected_step = handing("ruling.acted")
    state = rejected_step.open(None, trigger(), 0.0, 0.0).state
    assert answer(rejected_step, state, _plain("ruling", REJECTED), 1.0).started == []
    alone = Orchestrator(rejected_step.flow)
    state = alone.open(None, trigger(), 0.0, 0.0).state
    assert answer(alone, state, _plain("ruling"), 1.0).started == []


def test_a_hand_over_at_the_trigger_starts_the_other_case_as_this_one_opens() -> None:
    """The other case begins with this one: at its trigger's intended time (10), not when the
    platform opened it (12), and before any step has answered."""
    orchestrator = handing("trigger")
    opened = orchestrator.open(None, trigger(), opened_at=10.0, now=12.0)
    [started] = opened.started
    assert (started.flow, started.at) == ("T02", 10.0)
    assert started.emit.key == f"T02.{CASE}" and started.emit.value["from"] == CASE
    assert opened.transition.handed_over == (f"T02.{CASE}",)
    assert [e.step for e in opened.emits] == ["ruling"], "the case's own steps go on"
    ruled = answer(orchestrator, opened.state, _plain("ruling"), 13.0)
    closed = answer(orchestrator, ruled.state, _plain("close"), 14.0)
    assert ruled.started == [] and closed.started == [], "once, as the case opens"
    again = orchestrator.open(opened.state, trigger(), opened_at=10.0, now=15.0)
    assert again.duplicate and again.started == [], "a trigger told twice starts nothing more"


def test_no_hand_over_at_the_trigger_where_the_data_says_not_or_the_run_lacks_the_flow() -> None:
    no = handing("trigger", applies=lambda trigger: trigger["thing"] != "X-1")
    assert no.open(None, trigger(), 0.0, 0.0).started == []
    alone = Orchestrator(handing("trigger").flow)
    assert alone.open(None, trigger(), 0.0, 0.0).started == []


def test_a_hand_over_at_a_step_opens_the_other_case_at_the_answer() -> None:
    orchestrator = handing("ruling.acted")
    state = orchestrator.open(None, trigger(), opened_at=10.0, now=12.0).state
    [started] = answer(orchestrator, state, _plain("ruling"), 30.0).started
    assert started.at == 30.0


# -- a deadline: all of the steps before, unless a wait passes first ------------------------


def deadline_flow() -> FlowSpec:
    """A bank asks tax and hrss at once and decides when both have answered, or when its own
    deadline passes."""
    deadline = Step("deadline", "the bank's own deadline", agency=None, party="bank")
    decide = agency_step("decide", after=("tax", "hrss", "deadline"), after_rejection="run")
    return flow_with(
        agency_step("tax"),
        agency_step("hrss"),
        deadline,
        dataclasses.replace(decide, until="deadline"),
    )


def _timer(step: str) -> Record:
    return {**_plain(step), "agency": step if step != "deadline" else "bank"}


def test_a_step_with_a_deadline_starts_once_every_step_before_it_is_done_and_withdraws_it() -> None:
    orchestrator = Orchestrator(deadline_flow())
    opened = orchestrator.open(None, trigger(), 0.0, 0.0)
    assert steps_of(opened) == ["tax", "hrss", "deadline"]
    assert not any(e.value.get("withdrawn") for e in opened.emits)
    tax = answer(orchestrator, opened.state, _plain("tax"), 10.0)
    assert tax.emits == [], "hrss is still out and the deadline has not passed"
    both = answer(orchestrator, tax.state, _plain("hrss"), 20.0)
    assert steps_of(both) == ["decide", "deadline"]
    withdrawal = both.emits[1]
    assert withdrawal.value["withdrawn"] is True and withdrawal.recipient is None
    assert withdrawal.value["request_id"] == f"{CASE}/deadline"
    assert both.transition.requested == ("decide",), "a withdrawal is not a request"
    assert [e.step for e in orchestrator.outstanding(both.state)] == [
        "deadline",
        "deadline",
        "decide",
    ], "owed again: the wait, its withdrawal and the decision"
    timer = answer(orchestrator, both.state, _timer("deadline"), 20.0)
    assert timer.emits == [] and timer.completion is None
    done = answer(orchestrator, timer.state, _plain("decide"), 30.0)
    assert done.completion is not None
    assert case_marks(done.state)["decide.acted"] == 30.0


def test_a_deadline_that_passes_first_starts_the_step_with_what_has_come() -> None:
    orchestrator = Orchestrator(deadline_flow())
    state = orchestrator.open(None, trigger(), 0.0, 0.0).state
    tax = answer(orchestrator, state, _plain("tax"), 10.0)
    passed = answer(orchestrator, tax.state, _timer("deadline"), 50.0)
    assert steps_of(passed) == ["decide"], "no withdrawal: the deadline is over"
    decided = answer(orchestrator, passed.state, _plain("decide"), 60.0)
    assert decided.completion is None, "hrss's answer is still out"
    late = answer(orchestrator, decided.state, _plain("hrss"), 70.0)
    assert late.emits == [] and late.completion is not None


def test_a_deadline_is_a_wait_among_the_steps_before() -> None:
    deadline = Step("deadline", "the bank's own deadline", agency=None, party="bank")
    with pytest.raises(ValueError, match="'until' names a wait among its 'after'"):
        flow_with(
            agency_step("tax"),
            deadline,
            Step("decide", "d", "decide", "d.v1", until="deadline", after=("tax",)),
        )
    with pytest.raises(ValueError, match="is a wait"):
        flow_with(
            agency_step("tax"),
            agency_step("hrss"),
            Step("decide", "d", "decide", "d.v1", until="hrss", after=("tax", "hrss")),
        )
