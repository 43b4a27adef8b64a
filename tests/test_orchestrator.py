"""The orchestrator on small flows built here, one graph shape per test.

Each flow is the least that shows one behaviour: a fan-out, a chain, a join of all or any, a
step the case's data skips, a reply that a later request reads, a wait outside any agency.
Times are chosen by hand, so every due time, mark and latency below is worked out in advance.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from processors.agency import outcome_for
from processors.events import Record
from processors.flow import TRIGGER, CaseView, FlowSpec, Source, Span, Step
from processors.orchestrator import (
    ANSWERED,
    CANCELLED,
    COMPLETED,
    DUPLICATE,
    NO_OPEN_CASE,
    NOT_THE_OWNER,
    OPENED,
    REFUSED,
    REJECTED,
    SKIPPED,
    UNREQUESTED,
    Orchestrator,
    Progress,
    case_marks,
)

CASE = "T01-0000001"


@dataclass(frozen=True)
class NoMix:
    """The hand-made flows' sources are never asked for triggers; they need a mix type."""


SOURCE = Source(
    agency="registry",
    topic="registry.thing-registered.v1",
    schema="t01/ThingRegistered.avsc",
    mix_type=NoMix,
    build=lambda rng, mix: None,
)


def agency_step(
    step_id: str,
    *,
    after: tuple[str, ...] = (),
    join: Literal["all", "any"] = "all",
    applies: Any = None,
    reply: Any = None,
    reply_fields: tuple[str, ...] = (),
    request: Any = None,
    after_rejection: Literal["skip", "run"] = "skip",
) -> Step:
    """A step at an agency of the same name, whose request names the trigger's thing."""

    def default_request(case: CaseView) -> Record:
        return {"thing": case.trigger["thing"]}

    extra: dict[str, Any] = {} if applies is None else {"applies": applies}
    return Step(
        step_id,
        f"act on {step_id}",
        agency=step_id,
        topic=f"{step_id}.request.v1",
        schema="t01/Request.avsc",
        request=request or default_request,
        after=after,
        join=join,
        reply=reply,
        reply_fields=reply_fields,
        after_rejection=after_rejection,
        **extra,
    )


def make_flow(*steps: Step, spans: tuple[Span, ...] = ()) -> FlowSpec:
    return FlowSpec(
        id="T01",
        title="a hand-made flow",
        measures=("M0",),
        source=SOURCE,
        steps=steps,
        spans=spans,
    )


def trigger(**fields: Any) -> dict[str, Any]:
    return {"case_id": CASE, "thing": "X-1", **fields}


def outcome(
    step: str,
    status: str = COMPLETED,
    reply: dict[str, str] | None = None,
    *,
    agency: str | None = None,
    request_id: str | None = None,
) -> Record:
    """An answer from the step's own agency (every hand-made step's agency has its name)."""
    return {
        "case_id": CASE,
        "request_id": request_id or f"{CASE}/{step}",
        "step": step,
        "agency": agency or step,
        "status": status,
        "reply": reply,
    }


def skipped(progress: Progress) -> tuple[str, ...]:
    return progress.transition.skipped


def cancelled(progress: Progress) -> tuple[str, ...]:
    return progress.transition.cancelled


def steps_of(progress: Progress) -> list[str]:
    return [str(emit.step) for emit in progress.emits]


class Run:
    """One case through one flow; each call checks the state given to it stays unchanged."""

    def __init__(self, flow: FlowSpec, opened_at: float = 0.0, now: float = 0.0, **fields: Any):
        self.orchestrator = Orchestrator(flow)
        self.progress = self.orchestrator.open(None, trigger(**fields), opened_at, now)
        self.state = self.progress.state

    def record(
        self, value: Record, at: float, delivered_at: float | None = None, **by: str
    ) -> Progress:
        before = copy.deepcopy(self.state)
        given = self.state
        self.progress = self.orchestrator.record(given, value, at, delivered_at, **by)
        assert given == before, "the state given to a transition is never changed"
        if not (self.progress.duplicate or self.progress.refused):
            self.state = self.progress.state
        return self.progress

    @property
    def marks(self) -> dict[str, float]:
        return case_marks(self.state)


# -- shapes ---------------------------------------------------------------------------------


def test_fan_out_emits_every_request_at_once_and_completes_at_the_last() -> None:
    flow = make_flow(agency_step("a"), agency_step("b"), agency_step("c"))
    assert flow.is_fan_out
    run = Run(flow, opened_at=10.0, now=10.5)
    assert steps_of(run.progress) == ["a", "b", "c"]
    assert run.state["due"] == {"a": 10.5, "b": 10.5, "c": 10.5}
    for emit in run.progress.emits:
        assert emit.topic == f"{emit.step}.request.v1"
        assert emit.recipient == emit.step
        assert emit.key == CASE
        assert dict(emit.value) == {
            "request_id": f"{CASE}/{emit.step}",
            "case_id": CASE,
            "thing": "X-1",
        }
    assert run.record(outcome("c"), 30.0).completion is None
    assert run.record(outcome("a"), 40.0).completion is None
    last = run.record(outcome("b"), 25.0)
    done = last.completion
    assert done is not None and last.transition.completed
    assert run.marks == {TRIGGER: 10.0, "a.acted": 40.0, "b.acted": 25.0, "c.acted": 30.0}
    assert done.emit.value == {
        "case_id": CASE,
        "flow": "T01",
        "steps": ["a", "b", "c"],
        "skipped": [],
        "rejected": [],
        "cancelled": [],
    }


def test_chain_starts_each_step_when_the_one_before_finishes() -> None:
    flow = make_flow(agency_step("a"), agency_step("b", after=("a",)))
    assert not flow.is_fan_out
    run = Run(flow)
    assert steps_of(run.progress) == ["a"]
    progress = run.record(outcome("a"), 5.0)
    assert (progress.transition.event, progress.transition.step) == (ANSWERED, "a")
    assert progress.transition.requested == ("b",)
    assert steps_of(progress) == ["b"]
    assert run.state["due"] == {"a": 0.0, "b": 5.0}
    done = run.record(outcome("b"), 12.0).completion
    assert done is not None and run.marks["b.acted"] == 12.0


def test_join_all_waits_for_every_dependency() -> None:
    flow = make_flow(agency_step("a"), agency_step("b"), agency_step("c", after=("a", "b")))
    run = Run(flow)
    assert steps_of(run.progress) == ["a", "b"]
    assert steps_of(run.record(outcome("a"), 3.0)) == []
    assert steps_of(run.record(outcome("b"), 7.0)) == ["c"]
    assert run.state["due"]["c"] == 7.0
    assert run.record(outcome("c"), 9.0).completion is not None


def test_join_any_starts_at_the_first_dependency_and_only_once() -> None:
    flow = make_flow(
        agency_step("a"), agency_step("b"), agency_step("c", after=("a", "b"), join="any")
    )
    run = Run(flow)
    assert steps_of(run.record(outcome("b"), 3.0)) == ["c"]
    assert run.state["due"]["c"] == 3.0
    # c finishing does not complete the case: a still has to act.
    assert run.record(outcome("c"), 6.0).completion is None
    late = run.record(outcome("a"), 8.0)
    assert steps_of(late) == [], "c was already started; a finishing does not start it again"
    assert late.completion is not None and late.transition.requested == ()


def test_skipped_step_counts_as_finished_so_its_dependents_run() -> None:
    flow = make_flow(
        agency_step("a"),
        agency_step("b", after=("a",), applies=lambda t: bool(t["needs_b"])),
        agency_step("c", after=("b",)),
    )
    run = Run(flow, needs_b=False)
    progress = run.record(outcome("a"), 4.0)
    assert skipped(progress) == ("b",) and cancelled(progress) == ()
    assert steps_of(progress) == ["c"], "c depends on b, which was skipped: c starts at once"
    assert run.state["done"]["b"] == {"at": 4.0, "status": SKIPPED, "blocked": False}
    assert run.state["due"]["c"] == 4.0
    done = run.record(outcome("c"), 6.0, delivered_at=5.0).completion
    assert done is not None
    assert done.emit.value["steps"] == ["a", "c"]
    assert done.emit.value["skipped"] == ["b"]
    assert "b.acted" not in run.marks and "b.delivered" not in run.marks
    # The same flow with b needed runs all three in a chain.
    needed = Run(flow, needs_b=True)
    assert steps_of(needed.record(outcome("a"), 4.0)) == ["b"]


def test_skipped_root_step_is_reported_at_open() -> None:
    flow = make_flow(
        agency_step("a", applies=lambda t: False),
        agency_step("b", after=("a",)),
    )
    progress = Orchestrator(flow).open(None, trigger(), 2.0, 3.0)
    assert progress.transition.event == OPENED
    assert skipped(progress) == ("a",) and progress.transition.requested == ("b",)
    assert steps_of(progress) == ["b"]
    assert progress.state["due"] == {"a": 3.0, "b": 3.0}


def test_case_where_nothing_applies_completes_on_open_with_zero_latency() -> None:
    flow = make_flow(
        agency_step("a", applies=lambda t: False),
        agency_step("b", after=("a",), applies=lambda t: False),
    )
    progress = Orchestrator(flow).open(None, trigger(), 100.0, 100.3)
    assert progress.emits == []
    assert skipped(progress) == ("a", "b")
    assert progress.completion is not None and progress.transition.completed
    assert case_marks(progress.state) == {TRIGGER: 100.0}


def test_reply_data_reaches_the_next_steps_request() -> None:
    def reserve(request: Record, rng: random.Random) -> dict[str, str]:
        return {"reservation_no": f"R{rng.randrange(10**6):06d}", "branch": "渝中"}

    def open_account(case: CaseView) -> Record:
        reply = case.replies["reserve"]
        return {"thing": case.trigger["thing"], "reservation_no": reply["reservation_no"]}

    flow = make_flow(
        agency_step("reserve", reply=reserve, reply_fields=("reservation_no", "branch")),
        agency_step("open", after=("reserve",), request=open_account),
    )
    run = Run(flow)
    (request,) = run.progress.emits
    answer = outcome_for(flow, flow.step("reserve"), request.value, random.Random(7))
    reply = answer.value["reply"]
    assert set(reply) == {"reservation_no", "branch"}
    assert reply["reservation_no"] == f"R{random.Random(7).randrange(10**6):06d}"
    progress = run.record(answer.value, 2.0)
    (follow_up,) = progress.emits
    assert follow_up.value["reservation_no"] == reply["reservation_no"]
    assert run.state["replies"] == {"reserve": reply}


def test_rejected_request_answers_without_reply_and_is_reported() -> None:
    flow = make_flow(
        agency_step("a", reply=lambda r, rng: {"n": "1"}, reply_fields=("n",)), agency_step("b")
    )
    run = Run(flow)
    request = run.progress.emits[0]
    answer = outcome_for(
        flow, flow.step("a"), request.value, random.Random(1), rejected_reason="no such account"
    )
    assert answer.value["status"] == REJECTED
    assert answer.value["reply"] is None
    assert answer.value["reason"] == "no such account"
    run.record(answer.value, 2.0)
    done = run.record(outcome("b"), 3.0).completion
    assert done is not None
    assert done.rejected == ("a",)
    assert done.emit.value["rejected"] == ["a"]
    assert "a" not in run.state["replies"]


def test_rejection_cancels_the_steps_after_it_in_a_chain() -> None:
    flow = make_flow(
        agency_step("a"),
        agency_step("b", after=("a",)),
        agency_step("c", after=("b",)),
        agency_step("d"),
    )
    run = Run(flow)
    progress = run.record(outcome("a", status=REJECTED), 4.0, delivered_at=1.0)
    assert progress.emits == []
    assert cancelled(progress) == ("b", "c"), "b and, through it, c are cancelled at once"
    assert skipped(progress) == ()
    assert run.state["done"]["b"] == {"at": 4.0, "status": CANCELLED}
    assert run.state["done"]["c"] == {"at": 4.0, "status": CANCELLED}
    done = run.record(outcome("d"), 6.0, delivered_at=2.0).completion
    assert done is not None
    assert done.rejected == ("a",)
    assert done.emit.value == {
        "case_id": CASE,
        "flow": "T01",
        "steps": ["a", "d"],
        "skipped": [],
        "rejected": ["a"],
        "cancelled": ["b", "c"],
    }
    assert run.marks == {
        TRIGGER: 0.0,
        "a.delivered": 1.0,
        "a.acted": 4.0,
        "d.delivered": 2.0,
        "d.acted": 6.0,
    }


def test_a_step_declared_to_run_anyway_runs_without_the_refused_reply() -> None:
    def register(case: CaseView) -> Record:
        reply = case.replies.get("certify") or {}
        return {"thing": case.trigger["thing"], "certificate": reply.get("no", "none")}

    flow = make_flow(
        agency_step("certify", reply=lambda r, rng: {"no": "C1"}, reply_fields=("no",)),
        agency_step("register", after=("certify",), request=register, after_rejection="run"),
        agency_step("archive", after=("register",)),
    )
    run = Run(flow)
    request = run.progress.emits[0]
    answer = outcome_for(
        flow, flow.step("certify"), request.value, random.Random(1), rejected_reason="unpaid"
    )
    (follow_up,) = run.record(answer.value, 2.0).emits
    assert follow_up.step == "register"
    assert follow_up.value["certificate"] == "none"
    # The step that ran anyway completed, so the one after it runs as usual.
    assert steps_of(run.record(outcome("register"), 3.0)) == ["archive"]
    done = run.record(outcome("archive"), 4.0).completion
    assert done is not None and done.rejected == ("certify",)


def test_join_any_is_cancelled_only_by_the_dependency_that_started_it() -> None:
    flow = make_flow(
        agency_step("a"), agency_step("b"), agency_step("c", after=("a", "b"), join="any")
    )
    first_fine = Run(flow)
    assert steps_of(first_fine.record(outcome("a"), 1.0)) == ["c"]
    first_fine.record(outcome("b", status=REJECTED), 2.0)
    assert first_fine.state["done"].get("c") is None, "c is running; b's refusal is too late"
    first_refused = Run(flow)
    first_refused.record(outcome("a", status=REJECTED), 1.0)
    assert first_refused.state["done"]["c"]["status"] == CANCELLED


def test_wait_step_is_emitted_on_the_wait_topic_and_has_no_delivery() -> None:
    flow = make_flow(
        agency_step("order"),
        Step("deliver", "the supplier delivers", agency=None, party="supplier", after=("order",)),
        agency_step("accept", after=("deliver",)),
    )
    assert flow.waits == (flow.step("deliver"),)
    assert flow.agencies == ("order", "accept")
    run = Run(flow)
    progress = run.record(outcome("order"), 2.0, delivered_at=1.0)
    (wait,) = progress.emits
    assert wait.topic == flow.wait_topic == "t01.step-wait.v1"
    assert wait.recipient is None
    assert dict(wait.value) == {
        "request_id": f"{CASE}/deliver",
        "case_id": CASE,
        "flow": "T01",
        "step": "deliver",
        "party": "supplier",
        "lasts_seconds": None,  # the scenario draws how long
        "withdrawn": False,  # a deadline no longer needed says so in a second message
    }
    answer = outcome_for(flow, flow.step("deliver"), wait.value, random.Random(1))
    assert answer.value["agency"] == "supplier"
    assert answer.recipient is None
    assert steps_of(run.record(answer.value, 30.0)) == ["accept"]
    done = run.record(outcome("accept"), 33.0, delivered_at=31.0).completion
    assert done is not None
    assert run.marks == {
        TRIGGER: 0.0,
        "order.delivered": 1.0,
        "order.acted": 2.0,
        "deliver.acted": 30.0,
        "accept.delivered": 31.0,
        "accept.acted": 33.0,
    }


# -- marks and latency ----------------------------------------------------------------------


def test_a_wait_as_long_as_the_case_says_carries_its_length() -> None:
    flow = make_flow(
        Step("repair", "the entity applies", agency=None, party="entity", lasts=lambda t: 7.5),
    )
    (wait,) = Run(flow).progress.emits
    assert wait.value["lasts_seconds"] == 7.5


def test_marks_are_the_times_given() -> None:
    flow = make_flow(agency_step("a"), agency_step("b", after=("a",)), agency_step("c"))
    run = Run(flow, opened_at=1000.0, now=1000.4)
    run.record(outcome("a"), 1100.0, delivered_at=1000.9)
    run.record(outcome("c"), 1500.0, delivered_at=1001.2)
    done = run.record(outcome("b"), 1300.0, delivered_at=1100.6).completion
    assert done is not None
    assert done.case_id == CASE
    # `trigger` is the trigger's intended time, not when it arrived.
    assert run.marks == {
        TRIGGER: 1000.0,
        "a.delivered": 1000.9,
        "a.acted": 1100.0,
        "b.delivered": 1100.6,
        "b.acted": 1300.0,
        "c.delivered": 1001.2,
        "c.acted": 1500.0,
    }


# -- what must not count --------------------------------------------------------------------


def test_opening_twice_is_a_duplicate_and_keeps_the_first() -> None:
    flow = make_flow(agency_step("a"))
    orchestrator = Orchestrator(flow)
    state = orchestrator.open(None, trigger(), 0.0, 0.0).state
    snapshot = copy.deepcopy(state)
    again = orchestrator.open(state, trigger(thing="other"), 50.0, 50.0)
    assert again.duplicate and again.emits == [] and again.completion is None
    assert again.state == snapshot


def test_duplicate_outcome_is_flagged_and_the_first_stands() -> None:
    flow = make_flow(agency_step("a"), agency_step("b"))
    run = Run(flow)
    run.record(outcome("a"), 5.0)
    again = run.record(outcome("a", status=REJECTED), 9.0)
    assert again.duplicate and again.completion is None and again.emits == []
    assert run.state["done"]["a"] == {"at": 5.0, "status": COMPLETED}


def test_a_repeated_trigger_or_answer_is_a_duplicate_transition() -> None:
    flow = make_flow(agency_step("a"), agency_step("b"))
    run = Run(flow)
    run.record(outcome("a"), 5.0)
    again = run.record(outcome("a"), 6.0)
    assert again.transition.event == DUPLICATE and again.transition.step == "a"
    assert again.transition.requested == () and not again.transition.completed


def test_outcome_after_completion_is_a_duplicate() -> None:
    run = Run(make_flow(agency_step("a")))
    assert run.record(outcome("a"), 3.0).completion is not None
    late = run.record(outcome("a"), 4.0)
    assert late.duplicate and late.completion is None


def test_outstanding_requests_are_the_due_ones_not_yet_done_as_first_emitted() -> None:
    """What a replayed trigger or outcome sends again on Kafka: the requests the state says
    are out, identical to the first ones (the same request ids), and nothing already done."""
    flow = make_flow(
        agency_step("a"), agency_step("b"), agency_step("c", after=("a",)), agency_step("d")
    )
    run = Run(flow, thing="X-9")
    first = run.progress.emits
    assert steps_of(run.progress) == ["a", "b", "d"]
    assert run.orchestrator.outstanding(run.state) == first
    after_a = run.record(outcome("a"), 5.0).emits
    assert [str(e.step) for e in after_a] == ["c"]
    assert [str(e.step) for e in run.orchestrator.outstanding(run.state)] == ["b", "c", "d"]
    assert run.orchestrator.outstanding(run.state)[1] == after_a[0]
    for step in ("b", "c", "d"):
        run.record(outcome(step), 6.0)
    assert run.orchestrator.outstanding(run.state) == []


def test_outcome_for_a_step_not_yet_due_is_refused() -> None:
    flow = make_flow(agency_step("a"), agency_step("b", after=("a",)))
    run = Run(flow)
    early = run.record(outcome("b"), 2.0)
    assert early.refused == UNREQUESTED and early.completion is None
    assert early.transition.event == REFUSED and early.transition.step == "b"
    assert "b" not in run.state["done"]
    # The case goes on as if the stray outcome had never come.
    assert steps_of(run.record(outcome("a"), 3.0)) == ["b"]
    assert run.record(outcome("b"), 4.0).completion is not None


def test_outcome_for_an_unknown_step_or_case_is_refused() -> None:
    flow = make_flow(agency_step("a"))
    run = Run(flow)
    assert run.record(outcome("zzz"), 1.0).refused == UNREQUESTED
    orphan = Orchestrator(flow).record(None, outcome("a"), 1.0)
    assert orphan.refused == NO_OPEN_CASE and orphan.completion is None
    assert orphan.state == {"case_id": CASE}


def test_an_agency_answering_another_agencys_step_is_refused_and_the_case_waits() -> None:
    """The bank forging the police's answer: on the bank's own topic (the engine says who
    wrote it), or naming the police in the answer while writing as the bank."""
    flow = make_flow(agency_step("police"), agency_step("bank"))
    run = Run(flow)
    forged = run.record(outcome("police"), 1.0, answerer="bank")
    assert forged.refused == NOT_THE_OWNER and forged.transition.answerer == "bank"
    assert forged.emits == [] and forged.completion is None
    posing = run.record(outcome("police", agency="bank"), 1.5, answerer="police")
    assert posing.refused == NOT_THE_OWNER
    assert "police" not in run.state["done"], "the police's step still waits"
    run.record(outcome("bank"), 2.0, answerer="bank")
    done = run.record(outcome("police"), 9.0, answerer="police")
    assert done.completion is not None and run.marks["police.acted"] == 9.0


def test_an_answer_to_a_request_never_sent_is_refused() -> None:
    flow = make_flow(agency_step("a"), agency_step("b", after=("a",), applies=lambda t: False))
    run = Run(flow)
    wrong_id = run.record(outcome("a", request_id=f"{CASE}/b"), 1.0)
    assert wrong_id.refused == UNREQUESTED
    run.record(outcome("a"), 2.0)
    assert run.state["done"]["b"]["status"] == SKIPPED
    late = Run(flow)
    late.record(outcome("a"), 2.0)
    assert late.progress.completion is not None
    assert late.orchestrator.record(late.state, outcome("b"), 3.0).refused == UNREQUESTED


def test_a_step_skipped_by_the_data_after_a_rejection_is_skipped_and_still_blocks() -> None:
    """Skipped by the case's data whatever came before it, so both engines count it the same
    however the rejections fell; the step after it is still cancelled."""
    flow = make_flow(
        agency_step("a"),
        agency_step("b", after=("a",), applies=lambda t: False),
        agency_step("c", after=("b",)),
    )
    run = Run(flow)
    progress = run.record(outcome("a", status=REJECTED), 1.0)
    assert skipped(progress) == ("b",) and cancelled(progress) == ("c",)
    assert progress.completion is not None
    assert progress.completion.emit.value["skipped"] == ["b"]
    assert progress.completion.emit.value["cancelled"] == ["c"]


# -- the declaration itself -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "spans", "complaint"),
    [
        ((agency_step("a"), agency_step("a")), (), "unique"),
        ((agency_step("b", after=("a",)), agency_step("a")), (), "not declared before"),
        ((agency_step("a", after=("zzz",)),), (), "zzz"),
        ((Step("a", "no topic", agency="a"),), (), "needs a topic"),
        ((Step("w", "a wait", agency=None, topic="w.v1"),), (), "needs a topic"),
        ((agency_step("a"),), (Span("s", TRIGGER, "b.acted"),), "b.acted"),
    ],
)
def test_flow_declarations_that_cannot_run_are_refused(
    steps: tuple[Step, ...], spans: tuple[Span, ...], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        make_flow(*steps, spans=spans)


def test_unknown_step_names_the_steps_there_are() -> None:
    flow = make_flow(agency_step("a"), agency_step("b"))
    with pytest.raises(KeyError, match="it has a, b"):
        flow.step("c")
