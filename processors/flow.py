"""A flow of the plan as data: a trigger, and a small graph of steps that agencies act on.

A step starts when the steps it depends on have finished (all of them, or the first of them);
the case's data may skip it; an agency's answer may carry data that later steps read
(request/reply); and a step may be a wait outside any agency (a supplier delivering goods).
A fan-out is the special case where every step depends only on the trigger. A step may be done
once for each item of a list in the case's data (each bank holding the debtor's accounts), and
finish when all, the first, or k of its items are done. A flow may start another: its
trigger, its completion, or one step's answer emits the other flow's trigger (`Handover`). The
upstream flow may declare the hand-over, or the downstream flow may declare who starts it
(`StartedBy`) when the upstream's module is not its to change.

The flow's module declares this once. The engines, the topic catalog, the tests and the reports
all read that one declaration, so they cannot disagree about who receives what, and when.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from processors.events import Record

TRIGGER = "trigger"
"""The mark every case starts from: the trigger's intended emit time."""
TIMER = "timer"
"""Who answers a wait outside any agency: the platform's wait timer, for the party waited on."""


@dataclass(frozen=True, slots=True)
class CaseView:
    """What a step's request may be built from: the trigger and earlier steps' replies, and for
    a step done per item, the item this request is for."""

    case_id: str
    trigger: Record
    replies: Mapping[str, Record]
    item: Record | None = None


Projection = Callable[[CaseView], Record]
"""Builds a step's request body (without request_id and case_id, which the tracker adds)."""
Applies = Callable[[Record], bool]
"""Decides from the trigger whether a step concerns this case at all."""
Reply = Callable[[Record, random.Random], Mapping[str, str]]
"""The data an agency answers with, drawn from the request and the agency's own random stream."""
CaseCheck = Callable[[Record], bool | None]
"""A rule the plan sets on a case's data (e.g. a prepayment share): True, False, or None (n/a)."""


def always(trigger: Record) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class AtLeast:
    """A step done per item finishes once `k` of its items are done (all of them where a
    case has fewer)."""

    k: int

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"at_least must be 1 or more, not {self.k}")


ItemJoin = Literal["all", "first"] | AtLeast
"""When a step done per item has finished: every item done, the first done, or k done."""


@dataclass(frozen=True, slots=True)
class Each:
    """A step done once for each item of a list in the case's data: one request per item.

    `name` names an item within its case (a bank's code), so each item has its own request id
    and its own answer; `kind` says what an item is, for reports ("bank"). An item rejected
    counts against the join: a step that can no longer reach it is rejected. The requests of
    items still out when the step finishes are answered all the same, and the case completes
    once every one is: a freeze ordered at a fourth bank is not withdrawn because three
    answered first.
    """

    items: Callable[[CaseView], Sequence[Record]]
    name: Callable[[Record], str]
    kind: str
    join: ItemJoin = "all"

    def needed(self, count: int, join: ItemJoin | None = None) -> int:
        """How many of `count` items must be done for the step to finish."""
        join = self.join if join is None else join
        if join == "all":
            return count
        if join == "first":
            return min(1, count)
        return min(join.k, count)


@dataclass(frozen=True, slots=True)
class Step:
    """One agency acting on a request, or a wait outside any agency.

    `after` names the steps this one depends on; empty means the trigger. With `join="any"`
    the first of them to finish starts it. A step that does not apply to a case is skipped
    and counts as finished the moment it falls due, so the steps after it still run. A step
    after a rejected one is cancelled, and so are the steps after it, unless it runs anyway.
    """

    id: str
    title: str
    agency: str | None
    topic: str | None = None
    """The request topic the agency reads; None for a wait (its topic is the flow's wait topic)."""
    schema: str | None = None
    """The request's contract in the `schemas` package, e.g. f03/SealCancellationRequest.avsc."""
    request: Projection | None = None
    after: tuple[str, ...] = ()
    join: Literal["all", "any"] = "all"
    applies: Applies = always
    reply: Reply | None = None
    reply_fields: tuple[str, ...] = ()
    """The fields the agency's answer carries for later steps (request/reply)."""
    party: str = ""
    """For a wait: who is waited on (the supplier, the applicant), so reports can say so."""
    after_rejection: Literal["skip", "run"] = "skip"
    """A step after a rejected one does not run (the case ends rejected), unless it can go on
    without the rejected step's answer ("run")."""
    each: Each | None = None
    """For a step done per item: its items and when it has finished; None for one request."""

    @property
    def is_wait(self) -> bool:
        return self.agency is None

    def concerns(self, trigger: Record) -> bool:
        """Whether the case's data needs this step: it applies, and a step done per item has
        at least one item (a debtor with no bank account has no bank to freeze at)."""
        if not self.applies(trigger):
            return False
        return self.each is None or bool(self.each.items(CaseView("", trigger, {})))

    @property
    def actor(self) -> str:
        """The agency id, or for a wait the party waited on."""
        return self.agency or self.party or "wait"


COMPLETED_MARK = "completed"
"""A hand-over's moment when it follows the whole case rather than one step."""


@dataclass(frozen=True, slots=True)
class Handover:
    """This flow's case starts a case of another flow, carrying its data forward.

    `at` is when: as soon as the case opens (`trigger`: the other case begins with this one,
    at its trigger's time), once the case has completed (`completed`) or once a step was done
    (`<step>.acted`), the last two only if nothing they needed was rejected. `trigger` builds
    the other flow's trigger from this case, for the case id the platform gives it; `applies`
    decides from this case's trigger whether it hands over at all (only a liquidation ends in
    a deregistration).
    """

    flow: str
    at: str
    trigger: Callable[[CaseView, str], Record]
    applies: Applies = always
    title: str = ""

    @property
    def step(self) -> str | None:
        """The step whose answer hands over, or None when the trigger or the completion does."""
        return None if self.at in (TRIGGER, COMPLETED_MARK) else self.at.rsplit(".", 1)[0]


@dataclass(frozen=True, slots=True)
class StartedBy:
    """This flow's cases are started by another flow's: a `Handover` as the downstream flow
    declares it, naming the upstream flow instead of the flow handed over to.

    A flow added to the plan may be started by a flow already there without changing that
    flow's module (F02's e-licence is issued on every F01 establishment). Discovery folds the
    declaration into the upstream flow's `handovers` (`processors.FLOWS`), so the engines, the
    catalog, the books and the graph read one list of hand-overs, whichever side declared each.
    """

    flow: str
    at: str
    trigger: Callable[[CaseView, str], Record]
    applies: Applies = always
    title: str = ""

    def handover(self, downstream: str) -> Handover:
        """The hand-over it declares, as the upstream flow holds it."""
        return Handover(downstream, self.at, self.trigger, self.applies, self.title)


def handover_case_id(flow_id: str, upstream_case_id: str) -> str:
    """The downstream case a hand-over starts: `F03.F16-0000012` from `F16-0000012`. Made from
    the upstream case's id, so a hand-over sent twice starts one case, and unlike any case id
    the downstream flow's own arrivals get."""
    return f"{flow_id}.{upstream_case_id}"


def upstream_of(case_id: str) -> str | None:
    """The upstream case a hand-over case was started by, or None for a case of arrivals."""
    _, dot, rest = case_id.partition(".")
    return rest if dot else None


@dataclass(frozen=True, slots=True)
class Span:
    """A named interval between two marks of a case, on which the plan sets a deadline.

    A mark is `trigger` or `<step>.delivered` / `<step>.acted`. A span's end may lie in a flow
    this one hands over to, `<flow>:<mark>` (from the bankruptcy ruling to the bank accounts
    closed in the deregistration it started).
    """

    id: str
    start: str
    end: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class PlanTarget:
    """A time target as the plan states it, kept verbatim so reports can quote the source."""

    measure: str
    quote_zh: str
    meaning: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A condition the plan sets on a case's data, counted in the report (met / not met / n/a)."""

    id: str
    title: str
    measure: str
    check: CaseCheck


@dataclass(frozen=True, slots=True)
class Source:
    """How the source agency makes this flow's triggers, and which population knobs it has."""

    agency: str
    topic: str
    schema: str
    mix_type: type
    build: Callable[[random.Random, Any], Any]
    """Builds a generator from a seeded rng and a mix; its `generate(case_id, on)` is a trigger."""

    def mix_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self.mix_type))

    def generator(
        self, rng: random.Random, population: Mapping[str, Any]
    ) -> Callable[[str, date], dict[str, Any]]:
        defaults = self.mix_type()
        # Sequence-valued knobs arrive from YAML as lists; the frozen mixes hold tuples.
        values = {
            name: tuple(value) if isinstance(getattr(defaults, name), tuple) else value
            for name, value in population.items()
        }
        return self.build(rng, dataclasses.replace(defaults, **values)).generate


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """One information-sharing flow: its source, its steps, and where outcomes land."""

    id: str
    title: str
    measures: tuple[str, ...]
    source: Source
    steps: tuple[Step, ...]
    plan_targets: tuple[PlanTarget, ...] = field(default=())
    spans: tuple[Span, ...] = field(default=())
    rules: tuple[Rule, ...] = field(default=())
    handovers: tuple[Handover, ...] = field(default=())
    started_by: tuple[StartedBy, ...] = field(default=())
    """The flows whose cases start this flow's, declared here (folded into theirs on discovery)."""
    partitions: int | None = None

    def __post_init__(self) -> None:
        ids = [step.id for step in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.id}: step ids must be unique: {ids}")
        seen: set[str] = set()
        for step in self.steps:
            unknown = [dep for dep in step.after if dep not in seen]
            if unknown:
                raise ValueError(
                    f"{self.id}: step {step.id!r} depends on {unknown}, which are not declared "
                    "before it (steps are listed in an order that respects their dependencies)"
                )
            if step.is_wait == (step.topic is not None):
                raise ValueError(f"{self.id}: step {step.id!r}: an agency step needs a topic")
            seen.add(step.id)
        for span in self.spans:
            check_mark(self, span.start)
            if ":" not in span.end:
                check_mark(self, span.end)
            elif span.end.split(":", 1)[0] not in {h.flow for h in self.handovers}:
                raise ValueError(
                    f"{self.id}: span {span.id!r} ends in {span.end.split(':', 1)[0]}, "
                    "which this flow does not hand over to"
                )
        for handover in self.handovers:
            if handover.at != COMPLETED_MARK:
                check_mark(self, handover.at)
        upstream = [declared.flow for declared in self.started_by]
        if self.id in upstream or len(set(upstream)) != len(upstream):
            raise ValueError(
                f"{self.id}: started_by names each other flow once, never the flow itself: "
                f"{upstream}"
            )

    @property
    def prefix(self) -> str:
        return self.id.lower()

    @property
    def source_agency(self) -> str:
        return self.source.agency

    @property
    def source_topic(self) -> str:
        return self.source.topic

    def answerer(self, step: Step) -> str:
        """Who may answer the step: its agency, or for a wait the platform's timer."""
        return step.agency or TIMER

    def outcome_topic(self, answerer: str) -> str:
        """Where `answerer` writes its answers in this flow: a topic of its own, so on a secure
        cluster the broker lets an agency answer only as itself."""
        return f"{self.prefix}.{answerer}.step-outcome.v1"

    @property
    def outcome_topics(self) -> dict[str, str]:
        """Each answerer of the flow (its agencies, then the timer if it has waits) -> its topic."""
        answerers = [*self.agencies, *([TIMER] if self.waits else [])]
        return {answerer: self.outcome_topic(answerer) for answerer in answerers}

    @property
    def progress_topic(self) -> str:
        """The orchestrator's record of every transition of a case, which a run's books read."""
        return f"{self.prefix}.case-progress.v1"

    @property
    def completed_topic(self) -> str:
        return f"{self.prefix}.case-completed.v1"

    @property
    def wait_topic(self) -> str:
        return f"{self.prefix}.step-wait.v1"

    @property
    def orchestrator(self) -> str:
        """The platform's name for this flow's case tracker, which also emits every request."""
        return f"{self.prefix}-orchestrator"

    @property
    def agencies(self) -> tuple[str, ...]:
        """Every agency that acts in this flow, once, in step order."""
        return tuple(dict.fromkeys(step.agency for step in self.steps if step.agency))

    @property
    def waits(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.is_wait)

    @property
    def is_fan_out(self) -> bool:
        return all(not step.after for step in self.steps)

    def step(self, step_id: str) -> Step:
        for candidate in self.steps:
            if candidate.id == step_id:
                return candidate
        raise KeyError(
            f"{self.id} has no step {step_id!r}; it has {', '.join(s.id for s in self.steps)}"
        )

    def steps_of(self, agency: str) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.agency == agency)

    def marks(self) -> tuple[str, ...]:
        """Every mark a span or target may start or end at."""
        names = [TRIGGER]
        for step in self.steps:
            names += [f"{step.id}.delivered", f"{step.id}.acted"]
        return tuple(names)


def check_mark(flow: FlowSpec, mark: str) -> None:
    if mark not in flow.marks():
        raise ValueError(f"{flow.id}: no mark {mark!r}; marks are {', '.join(flow.marks())}")


def request_id(case_id: str, unit: str) -> str:
    """Deterministic, so a redelivered request yields the same id and duplicates show. `unit`
    is the step, or for a step done per item `<step>/<item>` (`item_unit`)."""
    return f"{case_id}/{unit}"


def item_unit(step: str, item: str) -> str:
    """One item's request of a step done per item: `bank-freeze/ICBC`."""
    return f"{step}/{item}"


def unit_step(unit: str) -> str:
    """The step a request is for, from its unit."""
    return unit.split("/", 1)[0]


def unit_of(request: Record) -> str:
    """What a request is for within its case, from its id: the step, or the step and item.
    Draws keyed by it give each item's request a value of its own, and a step of one request
    the value it always had."""
    return str(request["request_id"])[len(str(request["case_id"])) + 1 :]
