"""The orchestrator: walks one case through its flow's step graph.

Given the trigger it emits the requests of the steps due at once; given a step's outcome it
records it (and any reply data), then emits the requests of the steps that are now due. A case
is complete when every step has finished: acted on, skipped or cancelled. Both engines run these
pure transitions: the sim engine keeps the state in a dict, the kafka engine in a faust Table.

Every transition says what it did as a `Transition`: the record a run's books are kept from,
whichever engine ran it (the kafka engine publishes it on the flow's progress topic). An answer
the orchestrator cannot place is refused, with its reason, and changes nothing: one from an
agency that does not own the step, or one for a request it never sent.

State is plain data (JSON-friendly apart from the trigger, which an engine may encode) and is
never mutated in place, which keeps changelog-backed tables honest. Times are whatever clock
the engine measures on; the orchestrator only stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from processors.events import Emit, Record
from processors.flow import (
    COMPLETED_MARK,
    TRIGGER,
    CaseView,
    FlowSpec,
    ItemJoin,
    Step,
    handover_case_id,
    item_unit,
    request_id,
)
from producers.lazy import LazyRecord

CaseState = dict[str, Any]

COMPLETED = "COMPLETED"
REJECTED = "REJECTED"
SKIPPED = "SKIPPED"
"""A step the case's data made unnecessary (no bank account, no gas asked for)."""
CANCELLED = "CANCELLED"
"""A step that did not run because a step before it was rejected (see `Step.after_rejection`)."""
NOT_RUN = (SKIPPED, CANCELLED)

OPENED = "OPENED"
ANSWERED = "ANSWERED"
DUPLICATE = "DUPLICATE"
REFUSED = "REFUSED"
"""What a transition was: a case opened by its trigger, or an answer recorded, dropped as a
repeat of one already recorded, or refused."""

NOT_THE_OWNER = "not-the-step-owner"
"""An answer written by, or in the name of, an agency that does not act on that step."""
UNREQUESTED = "unrequested-answer"
"""An answer to a request the orchestrator never sent: a step not yet due, skipped, cancelled
or unknown, or a request id that is not the step's."""
NO_OPEN_CASE = "no-open-case"
"""An answer for a case the orchestrator holds no state of: never opened, or complete and
forgotten (a late repeat)."""
REPLY_FIELDS_MISSING = "reply-fields-missing"
"""A completed answer to a request/reply step that lacks a reply field later steps read (F01's
bank answering without the reservation number): refused, so the case waits for an answer
that carries it rather than going on without it."""
REFUSALS = (NOT_THE_OWNER, UNREQUESTED, NO_OPEN_CASE, REPLY_FIELDS_MISSING)


@dataclass(slots=True)
class Transition:
    """What one transition did to a case: the books of a run are kept from these alone.

    `requested` are the steps whose request (or wait) went out; `skipped` and `cancelled` the
    steps that fell due and will not run; `step`, `answerer`, `status` and `reason` describe
    the answer an ANSWERED, DUPLICATE or REFUSED transition handled.
    """

    case_id: str
    flow: str
    event: str
    step: str | None = None
    answerer: str | None = None
    status: str | None = None
    reason: str | None = None
    requested: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    completed: bool = False
    rejected: tuple[str, ...] = ()
    joined: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    handed_over: tuple[str, ...] = ()

    def to_record(self) -> dict[str, Any]:
        """As the `CaseProgress` contract carries it."""
        return {
            "case_id": self.case_id,
            "flow": self.flow,
            "event": self.event,
            "step": self.step,
            "answerer": self.answerer,
            "status": self.status,
            "reason": self.reason,
            "requested": list(self.requested),
            "skipped": list(self.skipped),
            "cancelled": list(self.cancelled),
            "completed": self.completed,
            "rejected": list(self.rejected),
            "joined": list(self.joined),
            "needs": list(self.needs),
            "handed_over": list(self.handed_over),
        }

    @classmethod
    def from_record(cls, record: Record) -> Transition:
        return cls(
            case_id=str(record["case_id"]),
            flow=str(record["flow"]),
            event=str(record["event"]),
            step=record.get("step"),
            answerer=record.get("answerer"),
            status=record.get("status"),
            reason=record.get("reason"),
            requested=tuple(record.get("requested") or ()),
            skipped=tuple(record.get("skipped") or ()),
            cancelled=tuple(record.get("cancelled") or ()),
            completed=bool(record.get("completed")),
            rejected=tuple(record.get("rejected") or ()),
            joined=tuple(record.get("joined") or ()),
            needs=tuple(record.get("needs") or ()),
            handed_over=tuple(record.get("handed_over") or ()),
        )


@dataclass(slots=True)
class CaseCompletion:
    """A case just completed: its completion message for the source agency, and which steps
    were rejected."""

    case_id: str
    rejected: tuple[str, ...]
    emit: Emit


@dataclass(slots=True)
class Started:
    """A case of another flow started by a hand-over: its flow, its trigger on that flow's
    source topic, keyed by its case id, and the time it opens at.

    `at` is the upstream case's time at the hand-over, on the engine's clock: the answer's
    that handed over, or for a hand-over as the upstream case opens, its trigger's intended
    time, so that both cases begin at the same moment (a company's establishment begins its
    e-licence too)."""

    flow: str
    emit: Emit
    at: float


@dataclass(slots=True)
class Progress:
    """The result of one transition: the new state and what the engine must do next.

    Made for every transition and never changed; not frozen, for the reason `Emit` gives.
    """

    state: CaseState
    transition: Transition
    emits: list[Emit] = field(default_factory=list)
    completion: CaseCompletion | None = None
    started: list[Started] = field(default_factory=list)
    """Cases of other flows this transition started (`Handover`)."""

    @property
    def duplicate(self) -> bool:
        return self.transition.event == DUPLICATE

    @property
    def refused(self) -> str | None:
        """Why the answer was refused, or None."""
        return self.transition.reason if self.transition.event == REFUSED else None


class Orchestrator:
    """Pure transitions over one case's state; the engine owns storage and clocks.

    With `bodies=False` a request carries only its ids: an engine that sends no message and
    checks no contract (the sim engine) has no use for the rest of the body, and building it
    is most of the cost of emitting a request. A request/reply step's body is built only if
    its answer is read (`_with_body`).

    With `in_place=True` an answer changes the state it is given rather than a copy: for an
    engine that holds the only reference to a case's state and keeps what a transition
    returns (the sim engine). A changelog-backed table needs a new value each time.
    """

    def __init__(
        self,
        flow: FlowSpec,
        *,
        bodies: bool = True,
        joins: Mapping[str, ItemJoin] | None = None,
        downstream: Mapping[str, str] | None = None,
        in_place: bool = False,
    ) -> None:
        """`joins` sets when a step done per item has finished, where a scenario says other
        than its flow; `downstream` maps each flow this one may hand over to in the run to
        its source topic (a hand-over to a flow the run does not hold is not made)."""
        self.flow = flow
        self.name = flow.orchestrator
        self.bodies = bodies
        self.in_place = in_place
        self._steps = {step.id: step for step in flow.steps}
        self._joins = dict(joins or {})
        self._downstream = dict(downstream or {})
        self._per_item = {step.id for step in flow.steps if step.each is not None}
        self._fan_out = not any(step.after for step in flow.steps)
        """Every step falls due as the case opens (F03, F10): an answer can make no other
        step due, so recording one skips the walk of the graph (`_settle`)."""

    def open(
        self, state: CaseState | None, trigger: Record, opened_at: float, now: float
    ) -> Progress:
        """The trigger arrived at `now`; `opened_at` is its intended emit time."""
        case_id = str(trigger["case_id"])
        if state is not None:
            return Progress(state, Transition(case_id, self.flow.id, DUPLICATE))
        current: CaseState = {
            "case_id": case_id,
            "opened_at": opened_at,
            "trigger": trigger,
            "due": {},
            "done": {},
            "replies": {},
            "delivered": {},
            "items": {},
        }
        needs = tuple(step.id for step in self.flow.steps if step.concerns(trigger))
        opened = Transition(case_id, self.flow.id, OPENED, needs=needs)
        return self._advance(current, now, opened, opening=True)

    def record(
        self,
        state: CaseState | None,
        outcome: Record,
        at: float,
        delivered_at: float | None = None,
        *,
        answerer: str | None = None,
    ) -> Progress:
        """A step's outcome was seen at `at` (its request reached the agency at `delivered_at`).

        `answerer` is who wrote it, as the engine knows it (the kafka engine: the topic it came
        on, which on a secure cluster only that agency may write); the outcome's own `agency`
        field must name the step's actor as well.
        """
        case_id, step_id = str(outcome["case_id"]), str(outcome["step"])
        step = self._steps.get(step_id)
        by = answerer if answerer is not None else str(outcome.get("agency"))
        seen = Transition(case_id, self.flow.id, REFUSED, step_id, by, str(outcome["status"]))
        if step is None:
            return self._refused(state, seen, UNREQUESTED)
        owner = self.flow.answerer(step)
        if (answerer is not None and answerer != owner) or outcome.get("agency") != step.actor:
            return self._refused(state, seen, NOT_THE_OWNER)
        if state is None:
            return self._refused(state, seen, NO_OPEN_CASE)
        if step.each is not None:
            return self._record_item(state, step, outcome, at, delivered_at, seen)
        done = state["done"].get(step_id)
        if done is not None and done["status"] not in NOT_RUN:
            seen.event = DUPLICATE
            return Progress(state, seen)
        asked = step_id in state["due"] and done is None
        if not asked or outcome.get("request_id") != request_id(case_id, step_id):
            return self._refused(state, seen, UNREQUESTED)
        if _lacks_reply(step, outcome):
            return self._refused(state, seen, REPLY_FIELDS_MISSING)
        current = self._to_change(state)
        current["done"][step_id] = {"at": at, "status": seen.status}
        _keep(current, step_id, outcome, delivered_at)
        seen.event = ANSWERED
        return self._answered(current, at, seen, step_id)

    def _record_item(
        self,
        state: CaseState,
        step: Step,
        outcome: Record,
        at: float,
        delivered_at: float | None,
        seen: Transition,
    ) -> Progress:
        """One item's answer to a step done per item: the step finishes when its join is met,
        or is rejected once too many items are rejected to meet it."""
        case_id = seen.case_id
        head = request_id(case_id, step.id) + "/"
        rid = str(outcome.get("request_id") or "")
        item = rid[len(head) :] if rid.startswith(head) else None
        items = state.get("items", {}).get(step.id, {})
        if item is None or item not in items:
            return self._refused(state, seen, UNREQUESTED)
        unit = item_unit(step.id, item)
        seen.step = unit
        if items[item] is not None:
            seen.event = DUPLICATE
            return Progress(state, seen)
        if _lacks_reply(step, outcome):
            return self._refused(state, seen, REPLY_FIELDS_MISSING)
        current = self._to_change(state)
        answers = current["items"][step.id] = dict(items)
        answers[item] = {"at": at, "status": seen.status}
        _keep(current, unit, outcome, delivered_at)
        seen.event = ANSWERED
        finished = None
        if step.id not in current["done"]:
            status = self._joined(step, answers)
            if status is not None:
                current["done"][step.id] = {"at": at, "status": status}
                seen.joined = (step.id,)
                finished = step.id
        return self._answered(current, at, seen, finished)

    def _to_change(self, state: CaseState) -> CaseState:
        """The state an answer is written into: the one given, or a copy of it (`in_place`)."""
        return state if self.in_place else _copy(state)

    def _answered(
        self, state: CaseState, at: float, seen: Transition, finished: str | None
    ) -> Progress:
        """What follows an answer recorded: in a fan-out no step is left to fall due."""
        if self._fan_out:
            return self._settle(state, at, seen, [], finished=finished)
        return self._advance(state, at, seen, finished=finished)

    def _joined(self, step: Step, answers: Mapping[str, Any]) -> str | None:
        """COMPLETED once enough items are done, REJECTED once too many are rejected for that,
        else None (the step waits on)."""
        assert step.each is not None
        needed = step.each.needed(len(answers), self._joins.get(step.id))
        statuses = [a["status"] for a in answers.values() if a is not None]
        if statuses.count(COMPLETED) >= needed:
            return COMPLETED
        if len(answers) - statuses.count(REJECTED) < needed:
            return REJECTED
        return None

    def outstanding(self, state: CaseState) -> list[Emit]:
        """The requests of the steps due and not yet done, as they were first emitted (the
        same request ids). An engine that stores the state apart from sending the requests
        sends these again when a trigger or an outcome is replayed: the state it finds may
        have been written by a worker that died before its requests went out."""
        owed: list[Emit] = []
        for step in self.flow.steps:
            if step.id not in state["due"]:
                continue
            if step.each is None:
                if step.id not in state["done"]:
                    owed.append(self._request(step, state))
                    if any(s.until == step.id and s.id in state["due"] for s in self.flow.steps):
                        owed.append(self._withdrawal(step, state))
                continue
            answers = state.get("items", {}).get(step.id, {})
            pending = [name for name, answer in answers.items() if answer is None]
            owed += self._item_requests(step, state, pending)
        return owed

    @staticmethod
    def _refused(state: CaseState | None, seen: Transition, reason: str) -> Progress:
        seen.reason = reason
        return Progress(state if state is not None else {"case_id": seen.case_id}, seen)

    # -- the graph walk -----------------------------------------------------------------------

    def _advance(
        self,
        state: CaseState,
        now: float,
        transition: Transition,
        finished: str | None = None,
        *,
        opening: bool = False,
    ) -> Progress:
        """Every step now due, in declaration order. One pass is enough: a step's dependencies
        are declared before it (the flow checks), so a step this pass skips can only make a
        later step due, which the same pass then reaches. `finished` is the step the answer
        just finished, whose hand-overs now start; `opening`, that the trigger just opened the
        case, whose hand-overs at the trigger now start.

        The cases an opening starts open at the trigger's intended time, a completion at the
        opening included: the books count a case that completes with no answer as completed
        at its trigger, and one time per transition is what the kafka engine carries."""
        emits: list[Emit] = []
        requested: list[str] = []
        skipped: list[str] = []
        cancelled: list[str] = []
        trigger = state["trigger"]
        due, done = state["due"], state["done"]
        for step in self.flow.steps:
            if step.id in due or not self._ready(step, done):
                continue
            due[step.id] = now
            blocked = step.after_rejection == "skip" and any(
                _blocks(done[dep]) for dep in step.after if dep in done
            )
            if not step.applies(trigger):
                # Skipped by the case's data, whatever came before it; a rejection before it
                # still cancels what comes after it.
                done[step.id] = {"at": now, "status": SKIPPED, "blocked": blocked}
                skipped.append(step.id)
            elif blocked:
                done[step.id] = {"at": now, "status": CANCELLED}
                cancelled.append(step.id)
            elif step.each is None:
                emits.append(self._request(step, state))
                requested.append(step.id)
            else:
                view = CaseView(str(state["case_id"]), trigger, state["replies"])
                names = list(dict.fromkeys(step.each.name(i) for i in step.each.items(view)))
                if not names:  # nothing to do it for: no bank holds an account
                    done[step.id] = {"at": now, "status": SKIPPED, "blocked": blocked}
                    skipped.append(step.id)
                    continue
                state.setdefault("items", {})[step.id] = dict.fromkeys(names)
                emits += self._item_requests(step, state, names)
                requested += [item_unit(step.id, name) for name in names]
            if step.until is not None and step.until in due and step.until not in done:
                emits.append(self._withdrawal(self._steps[step.until], state))
        transition.requested = tuple(requested)
        transition.skipped = tuple(skipped)
        transition.cancelled = tuple(cancelled)
        return self._settle(state, now, transition, emits, finished=finished, opening=opening)

    def _settle(
        self,
        state: CaseState,
        now: float,
        transition: Transition,
        emits: list[Emit],
        *,
        finished: str | None = None,
        opening: bool = False,
    ) -> Progress:
        """What follows once the steps due are out: the case's completion, and the cases it
        hands over to (see `_advance`)."""
        done = state["done"]
        completion = self._completion(state)
        started: list[Started] = []
        at = float(state["opened_at"]) if opening else now
        if opening:
            started += self._handovers(state, TRIGGER, at)
        if finished is not None and done[finished]["status"] == COMPLETED:
            started += self._handovers(state, f"{finished}.acted", at)
        if completion is not None:
            transition.completed = True
            transition.rejected = completion.rejected
            if not completion.rejected:
                started += self._handovers(state, COMPLETED_MARK, at)
        transition.handed_over = tuple(s.emit.key for s in started)
        return Progress(state, transition, emits, completion, started)

    def _handovers(self, state: CaseState, mark: str, at: float) -> list[Started]:
        """The triggers of the cases this case starts at `mark`, in flows the run holds; they
        open at `at`."""
        started: list[Started] = []
        trigger = state["trigger"]
        for handover in self.flow.handovers:
            topic = self._downstream.get(handover.flow)
            if handover.at != mark or topic is None or not handover.applies(trigger):
                continue
            case_id = handover_case_id(handover.flow, str(state["case_id"]))
            view = CaseView(str(state["case_id"]), trigger, state["replies"])
            value = {**handover.trigger(view, case_id), "case_id": case_id}
            started.append(Started(handover.flow, Emit(topic, case_id, value), at))
        return started

    def _item_requests(self, step: Step, state: CaseState, names: list[str]) -> list[Emit]:
        """A step done per item: one request for each of the items `names`."""
        assert step.each is not None and step.topic is not None and step.request is not None
        case_id = str(state["case_id"])
        view = CaseView(case_id, state["trigger"], state["replies"])
        wanted = set(names)
        emits: list[Emit] = []
        for item in step.each.items(view):
            name = step.each.name(item)
            if name not in wanted:
                continue
            wanted.discard(name)
            unit = item_unit(step.id, name)
            head = {"request_id": request_id(case_id, unit), "case_id": case_id}
            value: Record = head
            if self.bodies or step.reply is not None:
                of_item = CaseView(case_id, view.trigger, view.replies, item)
                value = self._with_body(step, of_item, head)
            emits.append(Emit(step.topic, case_id, value, step.agency, step.id))
        return emits

    @staticmethod
    def _ready(step: Step, done: Mapping[str, Any]) -> bool:
        if not step.after:
            return True
        if step.until is not None and step.until in done:
            return True  # the deadline passed: on with what has come
        finished = [dep in done for dep in step.after if dep != step.until]
        return any(finished) if step.join == "any" else all(finished)

    def _request(self, step: Step, state: CaseState) -> Emit:
        case_id = state["case_id"]
        head = {"request_id": request_id(case_id, step.id), "case_id": case_id}
        if step.is_wait:
            body: Record = {"flow": self.flow.id, "step": step.id, "party": step.actor}
            body["lasts_seconds"] = None if step.lasts is None else step.lasts(state["trigger"])
            body["withdrawn"] = False
            return Emit(self.flow.wait_topic, case_id, {**head, **body}, None, step.id)
        assert step.request is not None and step.topic is not None
        if not self.bodies and step.reply is None:
            return Emit(step.topic, case_id, head, step.agency, step.id)
        view = CaseView(case_id, state["trigger"], state["replies"])
        return Emit(step.topic, case_id, self._with_body(step, view, head), step.agency, step.id)

    def _with_body(self, step: Step, view: CaseView, head: dict[str, Any]) -> Record:
        """A request's ids and body. Without bodies, a request/reply step's body is built
        only if its answer reads it: the answer is then drawn only if a later step reads it
        (`processors.agency`), and most never are on an engine that sends no message."""
        assert step.request is not None
        if self.bodies:
            return {**head, **step.request(view)}
        return LazyRecord(head, partial(step.request, view))

    def _withdrawal(self, deadline: Step, state: CaseState) -> Emit:
        """Tells the timer a deadline is no longer needed: the step it was for has started.
        The timer answers the wait at once, as though it were over."""
        request = self._request(deadline, state)
        return Emit(
            request.topic, request.key, {**request.value, "withdrawn": True}, None, deadline.id
        )

    def _completion(self, state: CaseState) -> CaseCompletion | None:
        done = state["done"]
        if len(done) < len(self.flow.steps):
            return None
        for answers in state.get("items", {}).values():
            if None in answers.values():
                return None  # a step finished by its join still has items out
        steps = self.flow.steps
        ran = [s.id for s in steps if done[s.id]["status"] not in NOT_RUN]
        rejected = tuple(s for s in ran if done[s]["status"] == REJECTED)
        case_id = str(state["case_id"])
        emit = Emit(
            self.flow.completed_topic,
            case_id,
            {
                "case_id": case_id,
                "flow": self.flow.id,
                "steps": ran,
                "skipped": [s.id for s in steps if done[s.id]["status"] == SKIPPED],
                "rejected": list(rejected),
                "cancelled": [s.id for s in steps if done[s.id]["status"] == CANCELLED],
            },
        )
        return CaseCompletion(case_id, rejected, emit)


def _keep(state: CaseState, unit: str, outcome: Record, delivered_at: float | None) -> None:
    """An answer's delivery time and reply data, kept under what it answered."""
    if delivered_at is not None:
        state["delivered"][unit] = delivered_at
    reply = outcome.get("reply")
    if reply:
        state["replies"][unit] = reply if isinstance(reply, LazyRecord) else dict(reply)


def _lacks_reply(step: Step, outcome: Record) -> bool:
    """Whether a completed answer misses a reply field of its step (a rejection carries none):
    later steps read them, so an answer without them cannot stand for the step."""
    if not step.reply_fields or outcome.get("status") != COMPLETED:
        return False
    reply = outcome.get("reply") or {}
    return any(name not in reply for name in step.reply_fields)


def _blocks(done: Mapping[str, Any]) -> bool:
    """Whether a finished step stops the steps after it: rejected, cancelled, or skipped
    where a rejection before it would have cancelled it."""
    return done["status"] in (REJECTED, CANCELLED) or bool(done.get("blocked"))


def case_marks(state: CaseState) -> dict[str, float]:
    """`trigger`, and `<step>.delivered` / `<step>.acted` for every step that finished. A step
    done per item is delivered once every item's request is, and reached `<step>.first` at
    its first item done."""
    marks = {TRIGGER: float(state["opened_at"])}
    items = state.get("items", {})
    for step_id, done in state["done"].items():
        if done["status"] in NOT_RUN:
            continue
        marks[f"{step_id}.acted"] = float(done["at"])
        if step_id in items:
            done_at = [a["at"] for a in items[step_id].values() if a and a["status"] == COMPLETED]
            if done_at:
                marks[f"{step_id}.first"] = float(min(done_at))
            delivered = [state["delivered"].get(item_unit(step_id, i)) for i in items[step_id]]
            if delivered and None not in delivered:
                marks[f"{step_id}.delivered"] = float(max(delivered))  # type: ignore[type-var]
            continue
        delivered = state["delivered"].get(step_id)
        if delivered is not None:
            marks[f"{step_id}.delivered"] = float(delivered)
    return marks


def _copy(state: CaseState) -> CaseState:
    copied = dict(state)
    for key in ("due", "done", "replies", "delivered"):
        copied[key] = dict(state[key])
    copied["items"] = dict(state.get("items", {}))
    return copied
