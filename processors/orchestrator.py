"""The orchestrator: walks one case through its flow's step graph.

Given the trigger it emits the requests of the steps due at once; given a step's outcome it
records it (and any reply data), then emits the requests of the steps that are now due. A case
is complete when every step that applies to it has finished. Both engines run these pure
transitions: the sim engine keeps the state in a dict, the kafka engine in a faust Table.

State is plain data (JSON-friendly apart from the trigger, which an engine may encode) and is
never mutated in place, which keeps changelog-backed tables honest. Times are whatever clock
the engine measures on; the orchestrator only compares and subtracts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from processors.events import Emit, Record
from processors.flow import TRIGGER, CaseView, FlowSpec, Step, request_id

CaseState = dict[str, Any]

COMPLETED = "COMPLETED"
REJECTED = "REJECTED"
SKIPPED = "SKIPPED"
CANCELLED = "CANCELLED"
"""A step that did not run because a step before it was rejected (see `Step.after_rejection`)."""
NOT_RUN = (SKIPPED, CANCELLED)


@dataclass(slots=True)
class CaseCompletion:
    """What finishing a case tells the latency book: its marks, and which steps failed."""

    case_id: str
    opened_at: float
    completed_at: float
    marks: Mapping[str, float]
    rejected: tuple[str, ...]
    emit: Emit

    @property
    def latency(self) -> float:
        return self.completed_at - self.opened_at


@dataclass(slots=True)
class Progress:
    """The result of one transition: the new state and what the engine must do next.

    Made for every transition and never changed; not frozen, for the reason `Emit` gives.
    """

    state: CaseState
    emits: list[Emit] = field(default_factory=list)
    skipped: tuple[str, ...] = ()
    finished: str | None = None
    """The step whose outcome this transition recorded."""
    completion: CaseCompletion | None = None
    duplicate: bool = False
    unexpected: bool = False


class Orchestrator:
    """Pure transitions over one case's state; the engine owns storage and clocks.

    With `bodies=False` a request carries only its ids unless its step answers with data (a
    request/reply step, whose answer is drawn from the request): an engine that sends no
    message and checks no contract (the sim engine) has no use for the rest of the body, and
    building it is most of the cost of emitting a request.
    """

    def __init__(self, flow: FlowSpec, *, bodies: bool = True) -> None:
        self.flow = flow
        self.name = flow.orchestrator
        self.bodies = bodies

    def open(
        self, state: CaseState | None, trigger: Record, opened_at: float, now: float
    ) -> Progress:
        """The trigger arrived at `now`; `opened_at` is its intended emit time."""
        if state is not None:
            return Progress(state, duplicate=True)
        case_id = str(trigger["case_id"])
        current: CaseState = {
            "case_id": case_id,
            "opened_at": opened_at,
            "trigger": trigger,
            "due": {},
            "done": {},
            "replies": {},
            "delivered": {},
        }
        return self._advance(current, now)

    def record(
        self, state: CaseState | None, outcome: Record, at: float, delivered_at: float | None = None
    ) -> Progress:
        """A step's outcome was seen at `at` (its request reached the agency at `delivered_at`)."""
        step_id = str(outcome["step"])
        if state is None:
            return Progress({"case_id": str(outcome["case_id"])}, unexpected=True)
        if step_id in state["done"]:
            return Progress(state, duplicate=True)
        if step_id not in state["due"]:
            return Progress(state, unexpected=True)
        current = _copy(state)
        current["done"][step_id] = {"at": at, "status": str(outcome["status"])}
        if delivered_at is not None:
            current["delivered"][step_id] = delivered_at
        reply = outcome.get("reply")
        if reply:
            current["replies"][step_id] = dict(reply)
        progress = self._advance(current, at)
        return Progress(
            progress.state,
            progress.emits,
            progress.skipped,
            step_id,
            progress.completion,
        )

    def outstanding(self, state: CaseState) -> list[Emit]:
        """The requests of the steps due and not yet done, as they were first emitted (the
        same request ids). An engine that stores the state apart from sending the requests
        sends these again when a trigger or an outcome is replayed: the state it finds may
        have been written by a worker that died before its requests went out."""
        return [
            self._request(step, state)
            for step in self.flow.steps
            if step.id in state["due"] and step.id not in state["done"]
        ]

    # -- the graph walk -----------------------------------------------------------------------

    def _advance(self, state: CaseState, now: float) -> Progress:
        """Every step now due, in declaration order. One pass is enough: a step's dependencies
        are declared before it (the flow checks), so a step this pass skips can only make a
        later step due, which the same pass then reaches."""
        emits: list[Emit] = []
        skipped: list[str] = []
        trigger = state["trigger"]
        due, done = state["due"], state["done"]
        for step in self.flow.steps:
            if step.id in due or not self._ready(step, done):
                continue
            due[step.id] = now
            status = self._not_run(step, done, trigger)
            if status is None:
                emits.append(self._request(step, state))
            else:
                done[step.id] = {"at": now, "status": status}
                skipped.append(step.id)
        return Progress(state, emits, tuple(skipped), completion=self._completion(state))

    @staticmethod
    def _not_run(step: Step, done: Mapping[str, Any], trigger: Record) -> str | None:
        if step.after_rejection == "skip" and any(
            done[dep]["status"] in (REJECTED, CANCELLED) for dep in step.after if dep in done
        ):
            return CANCELLED
        return None if step.applies(trigger) else SKIPPED

    @staticmethod
    def _ready(step: Step, done: Mapping[str, Any]) -> bool:
        if not step.after:
            return True
        finished = [dep in done for dep in step.after]
        return any(finished) if step.join == "any" else all(finished)

    def _request(self, step: Step, state: CaseState) -> Emit:
        case_id = state["case_id"]
        head = {"request_id": request_id(case_id, step.id), "case_id": case_id}
        if step.is_wait:
            body: Record = {"flow": self.flow.id, "step": step.id, "party": step.actor}
            return Emit(self.flow.wait_topic, case_id, {**head, **body}, None, step.id)
        assert step.request is not None and step.topic is not None
        if not self.bodies and step.reply is None:
            return Emit(step.topic, case_id, head, step.agency, step.id)
        view = CaseView(case_id, state["trigger"], state["replies"])
        return Emit(step.topic, case_id, {**head, **step.request(view)}, step.agency, step.id)

    def _completion(self, state: CaseState) -> CaseCompletion | None:
        done = state["done"]
        if len(done) < len(self.flow.steps):
            return None
        opened_at = float(state["opened_at"])
        finished = [s for s in self.flow.steps if done[s.id]["status"] not in NOT_RUN]
        completed_at = max((done[s.id]["at"] for s in finished), default=opened_at)
        rejected = tuple(s.id for s in finished if done[s.id]["status"] == REJECTED)
        marks = case_marks(state)
        case_id = str(state["case_id"])
        emit = Emit(
            self.flow.completed_topic,
            case_id,
            {
                "case_id": case_id,
                "flow": self.flow.id,
                "steps": [s.id for s in finished],
                "skipped": [s.id for s in self.flow.steps if done[s.id]["status"] in NOT_RUN],
                "rejected": list(rejected),
            },
        )
        return CaseCompletion(case_id, opened_at, completed_at, marks, rejected, emit)


def case_marks(state: CaseState) -> dict[str, float]:
    """`trigger`, and `<step>.delivered` / `<step>.acted` for every step that finished."""
    marks = {TRIGGER: float(state["opened_at"])}
    for step_id, done in state["done"].items():
        if done["status"] in NOT_RUN:
            continue
        marks[f"{step_id}.acted"] = float(done["at"])
        delivered = state["delivered"].get(step_id)
        if delivered is not None:
            marks[f"{step_id}.delivered"] = float(delivered)
    return marks


def _copy(state: CaseState) -> CaseState:
    copied = dict(state)
    for key in ("due", "done", "replies", "delivered"):
        copied[key] = dict(state[key])
    return copied
