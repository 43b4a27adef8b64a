"""A flow of the plan as data: a trigger, and a small graph of steps that agencies act on.

A step starts when the steps it depends on have finished (all of them, or the first of them,
or all of them unless a deadline passes first);
the case's data may skip it; an agency's answer may carry data that later steps read
(request/reply); and a step may be a wait outside any agency (a supplier delivering goods).
A fan-out is the special case where every step depends only on the trigger. A step may be done
once for each item of a list in the case's data (each bank holding the debtor's accounts), and
finish when all, the first, or k of its items are done. A flow may start another: its
trigger, its completion, or one step's answer emits the other flow's trigger (`Handover`). The
upstream flow may declare the hand-over, or the downstream flow may declare who starts it
(`StartedBy`) when the upstream's module is not its to change. A flow may publish its case's
record to subscribing agencies, each keeping a table of the records it holds and using it in
its own work, and retract it later (`Publication`); it may count the entities of a stream of
its source's events (`Tally`); and it may start its cases from a score instead of a source's
events (`Scoring`): signals from several sources, weighed per entity over a window, and a case
for each score that reaches the threshold.

The flow's module declares this once. The engines, the topic catalog, the tests and the reports
all read that one declaration, so they cannot disagree about who receives what, and when.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from govstream.pipeline.windows import WindowSpec
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
    group: Callable[[str], str] | None = None
    """Where items are many (every enterprise a policy matches), the group an item's own
    latency is kept under, from its name (the enterprise's industry); None keeps each item's
    own, as for the few banks of a debtor."""

    def metric(self, item: str) -> str:
        """The name an item's own latency goes by: its group's, or its own."""
        return item if self.group is None else self.group(item)

    def needed(self, count: int, join: ItemJoin | None = None) -> int:
        """How many of `count` items must be done for the step to finish."""
        join = self.join if join is None else join
        if join == "all":
            return count
        if join == "first":
            return min(1, count)
        return min(join.k, count)


@dataclass(frozen=True, slots=True)
class Published:
    """A step whose request is the case's record published to a subscriber, or its retraction.

    The subscribers' steps of one publication share their request topic: on Kafka it is one
    compacted topic, keyed by `key` (the record) and partitioned by `entity`, and the
    platform writes one message to it for all of them, the record or, to retract it, its
    tombstone. Each subscriber reads the topic into its own table of the records it holds,
    and answers for its own step once its table has taken the change in.
    """

    key: Callable[[Record], str]
    """The record's key on the compacted topic, from the trigger (the entity and the record)."""
    entity: Callable[[Record], str]
    """The entity the record is about, from the trigger: what a subscriber looks records up by,
    and what the record is partitioned by, with the subscriber's own checks."""
    tombstone: bool = False


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
    published: Published | None = None
    """For a subscriber's step of a publication: the record it takes in, or drops."""
    lasts: Callable[[Record], float] | None = None
    """For a wait whose length the case's data gives, in seconds from the trigger (the wait's
    request carries it); None for a wait whose length the scenario draws. A scenario that gives
    the step a duration draws it all the same (a study of quicker repairs, a short test)."""
    until: str | None = None
    """A deadline: a wait among `after` whose end lets this step start even where the other
    steps it depends on are not all done (a bank decides on what it has once its own deadline
    for the credit data passes). If they are all done first, the deadline is withdrawn: its
    timer answers at once, and the case does not wait out a deadline nobody needs any more."""

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
class Subscriber:
    """An agency that keeps its own table of a flow's published records and uses it in its own
    work (a bank checking a loan applicant): `holds` is its step that takes a record in,
    `drops` its step that takes a retracted one out. Its checks come on `checks`, and it tells
    the platform what each found on `uses`."""

    agency: str
    holds: str
    drops: str
    checks: str
    uses: str


@dataclass(frozen=True, slots=True)
class Publication:
    """A flow whose case is a record published to subscribers and, later, retracted.

    `retracted` is the mark at which the source retracts the record: a subscriber's check that
    finds the record after it is an exposure. `checked_until` says, from the trigger, how long
    after its publication an entity is still among those subscribers check often (an entity
    listed, and for a while after its repair, applies for loans and bids); `check` builds a
    subscriber's check generator from a seeded rng, the trigger generator's entities and the
    subscriber's agency. The platform takes each subscriber's account of its checks on the
    subscriber's own topic and writes it on `uses_told`, which the run's books read."""

    subscribers: tuple[Subscriber, ...]
    retracted: str
    check_schema: str
    use_schema: str
    uses_told: str
    check: Callable[[random.Random, Any, str], Any]
    checked_until: Callable[[Record], float]

    def subscriber(self, agency: str) -> Subscriber:
        for candidate in self.subscribers:
            if candidate.agency == agency:
                return candidate
        raise KeyError(
            f"{agency!r} does not subscribe; subscribers are "
            f"{', '.join(s.agency for s in self.subscribers)}"
        )


@dataclass(frozen=True, slots=True)
class Tally:
    """A count the plan sets on a flow (F12: 2000 entities using the credit code): the distinct
    `distinct(event)` values among the events `agency` reports on `topic`, counted by the
    platform as they arrive; it writes each value it counts, once, on `counted`, which the
    run's books read. `build` makes the events' generator from a seeded rng and the flow's
    trigger generator, so the events concern the same entities as the flow's cases."""

    id: str
    title: str
    agency: str
    topic: str
    schema: str
    build: Callable[[random.Random, Any], Any]
    distinct: Callable[[Record], str]
    counted: str
    counted_schema: str


@dataclass(frozen=True, slots=True)
class Span:
    """A named interval between two marks of a case, on which the plan sets a deadline.

    A mark is `trigger` or `<step>.delivered` / `<step>.acted`, and for a step done per item
    `<step>.first`, its first item done (a company's first offer among its banks' answers),
    which a case whose every item was rejected never reaches. A span's end may lie in a flow
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


def _knob(default: Any, value: Any) -> Any:
    """A scenario's knob as the mix holds it: sequences arrive from YAML as lists, and whole
    numbers as floats, where the frozen mixes hold tuples and ints."""
    if isinstance(default, tuple):
        return tuple(value)
    if isinstance(default, int) and not isinstance(default, bool) and float(value).is_integer():
        return int(value)
    return value


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

    def mix(self, population: Mapping[str, Any]) -> Any:
        """The mix a scenario's population knobs make of the defaults."""
        defaults = self.mix_type()
        # Sequence-valued knobs arrive from YAML as lists; the frozen mixes hold tuples.
        values = {name: _knob(getattr(defaults, name), value) for name, value in population.items()}
        return dataclasses.replace(defaults, **values)

    def generator(
        self, rng: random.Random, population: Mapping[str, Any]
    ) -> Callable[[str, date], dict[str, Any]]:
        return self.make(rng, population).generate

    def make(self, rng: random.Random, population: Mapping[str, Any]) -> Any:
        """The generator itself, for sources that draw from its entities as well (`Tally`)."""
        return self.build(rng, self.mix(population))


SignalDraw = Callable[[str, datetime], dict[str, Any]]
"""Draws one signal: its id, and the business moment it is reported at (time-zone aware)."""


@dataclass(frozen=True, slots=True)
class Signal:
    """One source of a scoring flow: an agency reporting one kind of event about entities."""

    kind: str
    agency: str
    topic: str
    schema: str
    build: Callable[[random.Random, Any, Any], SignalDraw]
    """Builds the source's draw from a seeded rng, the flow's mix and the run's population of
    entities, which every source of a run shares so that their signals meet on the same
    entities."""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Crossed:
    """What a score that reached the threshold tells the flow's trigger: the entity, the
    window, the score, and the signals the window held, oldest first."""

    key: str
    company_name: str
    window: tuple[float, float]
    """Start and end of the window in Unix seconds, as `windows.WindowSpec` names it."""
    score: float
    threshold: float
    signals: tuple[tuple[str, str], ...]
    """(kind, event id) of each signal the window held that weighed anything."""


@dataclass(frozen=True, slots=True)
class Scoring:
    """A flow whose cases start at a score, not at a source's event: the windowed-aggregation
    shape.

    Events from the `signals` sources reach the scoring `agency` (a platform of the district),
    keyed by entity (`key`); each adds its `weight` to the entity's score over a window, and
    an event that takes a window's score to the threshold (`windows.crosses`) starts a case,
    whose trigger `trigger` builds from the crossing. The case starts at that event's intended
    time, so the flow's latencies run from the event that crossed the threshold. `window` and
    `threshold` are the defaults a scenario may change.
    """

    agency: str
    signals: tuple[Signal, ...]
    weight: Callable[[str, Record], float]
    key: Callable[[Record], str]
    window: WindowSpec
    threshold: float
    trigger: Callable[[Crossed, str, str], Record]
    """Builds the trigger from the crossing, the case id and the crossing signal's id."""
    population: Callable[[random.Random, Any], Any]
    """Draws the run's entities from the flow's mix, shared by every source."""

    def signal(self, kind: str) -> Signal:
        for signal in self.signals:
            if signal.kind == kind:
                return signal
        raise KeyError(f"no signal {kind!r}; signals are {', '.join(s.kind for s in self.signals)}")

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(signal.kind for signal in self.signals)

    @property
    def topics(self) -> dict[str, str]:
        """Each signal's topic -> its kind."""
        return {signal.topic: signal.kind for signal in self.signals}


def crossing_case_id(flow_id: str, signal_id: str) -> str:
    """The case a crossing starts, named after the signal that crossed: `F13.complaint-0000012`.
    Made from the signal's id, so a signal scored twice starts one case."""
    return handover_case_id(flow_id, signal_id)


def signal_id(kind: str, number: int, run: str = "") -> str:
    """A signal's id: its kind and its number in the kind's schedule, `complaint-0000012`."""
    return f"{kind}-{run + '-' if run else ''}{number:07d}"


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
    publication: Publication | None = None
    tallies: tuple[Tally, ...] = field(default=())
    started_by: tuple[StartedBy, ...] = field(default=())
    """The flows whose cases start this flow's, declared here (folded into theirs on discovery)."""
    partitions: int | None = None
    scoring: Scoring | None = None
    """For a flow whose cases start at a score over several sources' signals; its `source`
    is then the scoring agency writing the triggers."""

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
        for step in self.steps:
            if step.lasts is not None and not step.is_wait:
                raise ValueError(f"{self.id}: step {step.id!r}: only a wait lasts by its data")
            if step.until is not None:
                self._check_deadline(step)
        if self.publication is not None:
            self._check_publication(self.publication)

    def _check_deadline(self, step: Step) -> None:
        deadline = step.until
        others = [dep for dep in step.after if dep != deadline]
        if deadline not in step.after or not others or step.join != "all":
            raise ValueError(
                f"{self.id}: step {step.id!r}: 'until' names a wait among its 'after', beside "
                "the steps it otherwise waits for all of"
            )
        if not self.step(str(deadline)).is_wait:
            raise ValueError(f"{self.id}: step {step.id!r}: its deadline {deadline!r} is a wait")
        waiting = [other.id for other in self.steps if other.until == deadline]
        if waiting != [step.id]:
            raise ValueError(f"{self.id}: the deadline {deadline!r} is one step's: {waiting}")

    def _check_publication(self, publication: Publication) -> None:
        check_mark(self, publication.retracted)
        for subscriber in publication.subscribers:
            for step_id, tombstone in ((subscriber.holds, False), (subscriber.drops, True)):
                step = self.step(step_id)
                if step.agency != subscriber.agency or step.published is None:
                    raise ValueError(
                        f"{self.id}: {subscriber.agency}'s step {step_id!r} must be its own "
                        "published step"
                    )
                if step.published.tombstone != tombstone:
                    raise ValueError(
                        f"{self.id}: step {step_id!r} must "
                        f"{'drop the record (a tombstone)' if tombstone else 'take it in'}"
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
    def scored_topic(self) -> str:
        """A scoring flow's record of every signal its scorer counted, which a run's books read."""
        return f"{self.prefix}.signal-scored.v1"

    @property
    def wait_topic(self) -> str:
        return f"{self.prefix}.step-wait.v1"

    @property
    def orchestrator(self) -> str:
        """The platform's name for this flow's case tracker, which also emits every request."""
        return f"{self.prefix}-orchestrator"

    @property
    def scorer(self) -> str:
        """The platform's name for a scoring flow's scorer, which reads the signals and writes
        the triggers of the cases its crossings start."""
        return f"{self.prefix}-scorer"

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
            if step.each is not None:
                names.append(f"{step.id}.first")
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
