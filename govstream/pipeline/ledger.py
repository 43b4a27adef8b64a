"""The ledger: one set of books for a run, kept the same way whichever engine ran it.

An engine tells the ledger what it saw, in the order it saw it: a case started; a transition of
the orchestrator (the case opened, an answer recorded, repeated or refused, with the requests it
sent and the steps it skipped or cancelled); a request delivered; a request worked on at a pool;
a hop's duration; a dead letter; a scoring flow's signal sent, and scored (with the case its
crossing started, if it crossed); and at the end, the cut-off. The sim engine tells it as its
events happen; the kafka engine's collector as it reads the orchestrators' progress records,
which carry the same transitions. No engine counts, and no engine forecasts what a case will
do: what a case was asked is what its orchestrator says it sent.

The ledger owns every counter and the identities between them, the hop names, the plan's rules
on case data, the steps rate targets are on (done, failed, open), when a case completed, what
is still open at the end, and each pool's load. It writes the latencies into the latency book
and the time series as it goes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from govstream.calendar.agency_hours import AgencyHours, describe_outage
from govstream.calendar.working import WorkingCalendar
from govstream.metrics import RecorderSet
from govstream.pipeline.agencies import AgencyPool
from govstream.pipeline.book import (
    LatencyBook,
    case_key,
    hop_key,
    rate_key,
    scenario_spans,
    span_key,
    step_key,
)
from govstream.pipeline.breakdown import (
    KEEP,
    Latency,
    Leg,
    Tails,
    Trail,
    band_add,
    from_opening,
    walk,
)
from govstream.pipeline.conformance import ConformanceBook
from govstream.pipeline.exposures import BesideBook
from govstream.pipeline.series import (
    SeriesBook,
    arrivals_name,
    busy_name,
    completions_name,
    queue_name,
)
from govstream.result import AgencyLoad, Conformance, Counts, DeadLetters
from govstream.scenario.model import LATENCY_TARGETS, Scenario
from processors import FLOWS
from processors.events import Record
from processors.flow import (
    COMPLETED_MARK,
    TRIGGER,
    Each,
    FlowSpec,
    Span,
    Step,
    unit_step,
    upstream_of,
)
from processors.orchestrator import (
    ANSWERED,
    COMPLETED,
    DUPLICATE,
    OPENED,
    REFUSED,
    REJECTED,
    Transition,
)


class Hop(StrEnum):
    """The hops a case's messages take, each measured on its own; `hop:<name>` in a result."""

    GENERATOR_LAG = "generator-lag"
    """The load generator behind its schedule (kafka)."""
    TRIGGER = "trigger-to-orchestrator"
    AT_ORCHESTRATOR = "at-orchestrator"
    TO_AGENCY = "orchestrator-to-agency"
    AT_AGENCY = "at-agency"
    """From the request's delivery to its answer being sent (kafka, wall clock)."""
    OUTCOME_RETURN = "outcome-return"
    AGENCY_OVERSHOOT = "agency-overshoot"
    """How late an agent sent an answer past the wall time its business clock set (kafka)."""


@dataclass(slots=True)
class Work:
    """One request's time at a pool on the business clock: delivered, taken up by a clerk
    (who may still wait for the office to open), work started, done; and the office time
    worked."""

    pool: str
    delivered: float
    taken: float
    started: float
    done: float
    work: float
    case_id: str = ""
    unit: str = ""
    """The request's case and unit, for where its case's time went (`breakdown`)."""


@dataclass(slots=True)
class Identity:
    """A relation between counters that must hold, and whether it did."""

    name: str
    left: int
    right: int
    at_most: bool = False
    """`left ≤ right` rather than `left = right`."""

    @property
    def holds(self) -> bool:
        return self.left <= self.right if self.at_most else self.left == self.right


@dataclass(slots=True)
class _Upstream:
    """The case of another flow that started this one by a hand-over, as it was then."""

    flow: str
    marks: dict[str, float]
    trail: Trail | None = None
    """Its legs, to walk back into (`breakdown.walk`), and the answer that handed over."""
    cause: str | None = None


@dataclass(slots=True)
class _Case:
    """What the books know of one case until it completes.

    Requests are counted by unit (`processors.flow.request_id`): a step, or one item of a step
    done per item. Steps are counted once each, however many requests they sent."""

    flow: FlowSpec
    opened_at: float
    trigger: Record | None
    marks: dict[str, float]
    trail: Trail
    """Its requests' legs and what set its marks: where its time went (`breakdown`)."""
    requested: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    delivered: set[str] = field(default_factory=set)
    steps_requested: set[str] = field(default_factory=set)
    acted: set[str] = field(default_factory=set)
    """Steps finished by their answers (for a step done per item, when its join was met)."""
    not_run: set[str] = field(default_factory=set)
    """Steps skipped or cancelled."""
    cancelled: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    """Steps whose answer was a rejection (for a step done per item, as its completion says)."""
    items_rejected: set[str] = field(default_factory=set)
    """The items of steps done per item whose agency rejected them (`push/<enterprise>`)."""
    last_answer: float | None = None
    item_done: dict[str, float] = field(default_factory=dict)
    """For a step done per item: its latest item answer so far. A join is met, on the business
    clock, when the latest of the answers it joins was given, whichever reached the platform
    last (on Kafka, answers arrive in wall-clock order)."""
    upstream: _Upstream | None = None
    handed_to: set[str] = field(default_factory=set)
    """Flows this case has started a case of."""
    needs: tuple[str, ...] | None = None
    """The steps the case's data concerns, as its opening recorded them."""
    item_last: dict[str, str] | None = None
    """For a step done per item: the item answered latest so far, whose answer a join is."""


class _Counters:
    """One flow's counters. Plain attributes: the sim engine adds to them for every event."""

    __slots__ = (
        "cases_completed",
        "cases_rejected",
        "cases_started",
        "deadlines_withdrawn",
        "duplicates",
        "outcomes_recorded",
        "refused",
        "requests_acted",
        "requests_delivered",
        "requests_emitted",
        "steps_cancelled",
        "steps_due_completed",
        "steps_requested",
        "steps_skipped",
    )

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)


Held = Callable[[str, str, str], bool]
"""Whether the engine still holds a request at the cut-off (flow, case id, step): on the wire,
queued or with a clerk. A request that is neither answered nor held was lost."""


class Ledger:
    """The books of one run."""

    def __init__(
        self, scenario: Scenario, calendar: WorkingCalendar, pools: Mapping[str, AgencyPool]
    ) -> None:
        self.flow_ids = list(scenario.flows)
        self.pools = pools
        self.book = LatencyBook(calendar, scenario_spans(scenario))
        self.series = SeriesBook(scenario.duration.clock_seconds() + scenario.drain.clock_seconds())
        self.platform_ms = RecorderSet()
        """Wall-clock milliseconds the platform itself took (kafka)."""
        self._counters = {flow_id: _Counters() for flow_id in self.flow_ids}
        self.rules: dict[str, dict[str, Counter[str]]] = {f: {} for f in self.flow_ids}
        self.refusals: dict[str, Counter[str]] = {f: Counter() for f in self.flow_ids}
        """Answers the orchestrator refused, by reason."""
        self.dead_letters_by_reason: Counter[str] = Counter()
        self.dead_letters_by_topic: Counter[str] = Counter()
        self._cases: dict[str, _Case] = {}
        self._taken: dict[str, Counter[str]] = {}
        self._cut: dict[str, tuple[int, int]] | None = None
        """Per flow, at the cut-off: requests in flight, and lost."""
        self._open_at_pools: Counter[str] = Counter()
        self._handed_over: dict[str, tuple[float, _Upstream]] = {}
        """Cases a hand-over started that the engine has not told started yet: when, by whom."""
        self._ever_handed: set[str] = set()
        """Every case a hand-over started: a transition told again must not start one twice."""
        self._uncertain: dict[str, float] = {}
        self._signals: dict[str, Counter[str]] = {f: Counter() for f in self.flow_ids}
        """A scoring flow's signals counted by its scorer, by kind."""
        self._crossed: dict[str, list[str]] = {f: [] for f in self.flow_ids}
        """The cases each scoring flow's crossings started, named after the signal that crossed."""
        self._scored: set[str] = set()
        self._unscored: dict[str, str] = {}
        """Signals sent that the scorer has not yet said it counted -> their flow."""
        self._unscored_at_cut: Counter[str] = Counter()
        self._rate_steps = {
            (scenario.target_flow(t), t.step) for t in scenario.targets if t.of == "rate"
        }
        """The steps a rate target is on: only those are counted case by case."""
        self._rates: dict[tuple[str, str], Counter[str]] = {
            pair: Counter() for pair in self._rate_steps
        }
        self._waits = {f: {step.id for step in FLOWS[f].waits} for f in self.flow_ids}
        self._per_item = {
            f: [step.id for step in FLOWS[f].steps if step.each is not None] for f in self.flow_ids
        }
        self._reached: dict[str, Counter[str]] = {
            step_key(f, "items", step): Counter()
            for f, steps in self._per_item.items()
            for step in steps
        }
        """For each step done per item: the completed cases it ran in, and those in which no
        item was done (a demand no bank made an offer on)."""
        self._deadlines = {
            f: {step.until: step.id for step in FLOWS[f].steps if step.until is not None}
            for f in self.flow_ids
        }
        """Each flow's deadlines -> the step each is for (`Step.until`)."""
        self.beside = BesideBook(scenario)
        """Subscribers' checks, retractions and counted values (`exposures.py`)."""
        self.conformance = ConformanceBook(scenario, calendar)
        """External agencies' answers, judged (`conformance.py`)."""
        self._external = bool(self.conformance)
        """Whether any agency is external: most runs have none, and every answer asks."""
        self._retraction = {
            f: publication.retracted
            for f in self.flow_ids
            if (publication := FLOWS[f].publication) is not None
        }
        self._pool_of = {(f, pool.agency): name for name, pool in pools.items() for f in pool.flows}
        self.tails = Tails(self._floor, _kept(scenario))
        """Each latency's parts, by band: where the time of its slowest cases went."""
        self._judged_in_days = _judged_in_days(scenario)
        self._tail_scales: dict[str, tuple[Latency, tuple[Latency, ...]]] = {}
        """Each latency's tails, found once (`_scales_of`)."""
        self._deliveries_judged = _deliveries_judged(scenario)
        """Deliveries a target reads: the only ones split, a delivery being transport and the
        steps before it."""
        self._span_ends = _span_ends(self.flow_ids, self.book.spans)
        """The marks spans end at, by the flow whose case sets them: what a span is split
        from (`Trail.set_by`)."""
        self._spans_into = {
            flow_id: {span.end.partition(":")[0] for span in spans if ":" in span.end}
            for flow_id, spans in self.book.spans.items()
        }
        """Each flow's spans' other flows: the hand-overs whose upstream legs a walk needs."""

    # -- what the engines tell ------------------------------------------------------------------

    def started(self, flow_id: str, case_id: str, trigger: Record | None, at: float) -> None:
        """A case's trigger was generated for business time `at` (its intended emit time).

        The plan's rules are counted on the cases a source starts, whose triggers the engine
        made; a case another case started by a hand-over is not counted again (and the kafka
        engine, which reads no trigger, tells none)."""
        flow = FLOWS[flow_id]
        self._counters[flow_id].cases_started += 1
        self.series.count(arrivals_name(flow_id), at)
        handed = self._handed_over.pop(case_id, None)
        if handed is None and upstream_of(case_id) is None and trigger is not None:
            for rule in flow.rules:
                verdict = rule.check(trigger)
                outcome = "not applicable" if verdict is None else ("met" if verdict else "not met")
                self.rules[flow_id].setdefault(rule.id, Counter())[outcome] += 1
        upstream = handed[1] if handed is not None else None
        trail = Trail(at)
        if handed is not None and upstream is not None and upstream.trail is not None:
            trail.before = (upstream.trail, upstream.cause, handed[0])
        self._cases[case_id] = _Case(flow, at, trigger, {TRIGGER: at}, trail, upstream=upstream)

    def transition(self, flow_id: str, seen: Transition, at: float) -> None:
        """The orchestrator made a transition at business time `at`. A transition told twice
        (a progress record read again after a worker was replaced) changes nothing."""
        counts = self._counters[flow_id]
        if seen.event == DUPLICATE:
            counts.duplicates += 1
            if self.conformance.is_external(seen.answerer):
                self.conformance.duplicated(str(seen.answerer))
            return
        if seen.event == REFUSED:
            counts.refused += 1
            self.refusals[flow_id][seen.reason or "unknown"] += 1
            if self.conformance.is_external(seen.answerer):
                self.conformance.refused(str(seen.answerer), seen.reason or "unknown")
            return
        case = self._cases.get(seen.case_id)
        if case is None:
            return  # complete already: a progress record told again
        if seen.event == OPENED:
            case.needs = seen.needs
        if seen.event == ANSWERED:
            unit = str(seen.step)
            if unit in case.answered:
                return
            case.answered.add(unit)
            leg = case.trail.legs.get(unit)
            if leg is not None:
                leg.answered = at
            if case.last_answer is None or at >= case.last_answer:
                case.trail.last = unit
            case.last_answer = at if case.last_answer is None else max(case.last_answer, at)
            counts.outcomes_recorded += 1
            step = unit_step(unit)
            if step not in self._waits[flow_id]:
                counts.requests_acted += 1
            if self._external:
                agency = case.flow.step(step).agency
                if self.conformance.is_external(agency):
                    self.conformance.answered(flow_id, str(agency), step, case.opened_at, at)
            joined_at = at
            if unit != step:  # one item of a step done per item: its own latency
                self.book.acted(flow_id, self._unit_metric(flow_id, unit), case.opened_at, at)
                if seen.status == REJECTED:
                    case.items_rejected.add(unit)
                if at >= case.item_done.get(step, at):
                    if case.item_last is None:
                        case.item_last = {}
                    case.item_last[step] = unit
                joined_at = case.item_done[step] = max(at, case.item_done.get(step, at))
            if unit == step and seen.status == REJECTED:
                case.rejected.add(step)
            if unit != step and seen.status == COMPLETED:
                first = f"{step}.first"
                if first not in case.marks and first in self._span_ends[flow_id]:
                    case.trail.set_by[first] = (unit, False)
                case.marks[first] = min(at, case.marks.get(first, at))
            if unit == step or step in seen.joined:
                case.acted.add(step)
                if self._withdrawn(flow_id, case, step):  # it never passed
                    counts.deadlines_withdrawn += 1
                else:
                    case.marks[f"{step}.acted"] = joined_at
                    days = self.book.acted(flow_id, step, case.opened_at, joined_at)
                    joined = case.item_last.get(step, unit) if case.item_last else unit
                    by = (joined, False)  # the answer the join is
                    if f"{step}.acted" in self._span_ends[flow_id]:
                        case.trail.set_by[f"{step}.acted"] = by
                    key = step_key(flow_id, "acted", step)
                    self._tail(key, case.trail, by, case.opened_at, joined_at, days)
                if self._retraction.get(flow_id) == f"{step}.acted":
                    self.beside.retracted(seen.case_id, joined_at)
        cause = str(seen.step) if seen.event == ANSWERED else None
        for unit in seen.requested:
            if unit not in case.requested:
                step = unit_step(unit)
                wait = step if step in self._waits[flow_id] else None
                case.trail.legs[unit] = Leg(at, cause, wait)
                case.requested.add(unit)
                case.steps_requested.add(unit_step(unit))
                counts.requests_emitted += 1
                if self._external:
                    agency = case.flow.step(step).agency
                    if self.conformance.is_external(agency):
                        self.conformance.requested(str(agency))
        for step in (*seen.skipped, *seen.cancelled):
            if step not in case.not_run:
                case.not_run.add(step)
                if step in seen.skipped:
                    counts.steps_skipped += 1
                else:
                    counts.steps_cancelled += 1
                    case.cancelled.add(step)
        for started in seen.handed_over:
            target = started.split(".", 1)[0]
            case.handed_to.add(target)
            if started not in self._ever_handed:
                self._ever_handed.add(started)
                # the upstream legs are kept only for a span that runs into the new case:
                # a case held open for weeks would keep them all otherwise
                trail = case.trail if target in self._spans_into[flow_id] else None
                self._handed_over[started] = (
                    at,
                    _Upstream(flow_id, dict(case.marks), trail, cause),
                )
        if seen.completed:
            case.rejected.update(seen.rejected)
            self._completed(flow_id, seen.case_id, case, rejected=bool(seen.rejected))

    def _withdrawn(self, flow_id: str, case: _Case, step: str) -> bool:
        """Whether `step` is a deadline withdrawn before it passed: the step it was for had
        started already (or fallen due and not run). Its timer answered at once, but nothing
        was decided at it: it sets no mark and no latency, so its `acted` count is the cases
        decided at the deadline, beside the whole case's count. The orchestrator withdraws it
        in the transition that starts that step, which the books are told first."""
        waiting = self._deadlines[flow_id].get(step)
        return waiting is not None and (waiting in case.steps_requested or waiting in case.not_run)

    def signal_sent(self, flow_id: str, signal_id: str) -> None:
        """A scoring flow's signal left its source: the run is not over until it is counted."""
        if signal_id not in self._scored:
            self._unscored[signal_id] = flow_id

    def signal_scored(self, flow_id: str, signal_id: str, kind: str, crossed: str | None) -> None:
        """The scorer counted a signal, and said which case it started by taking a score to
        the threshold, if it did (that case is told `started` as any other). Told twice, it
        counts once."""
        if signal_id in self._scored:
            return
        self._scored.add(signal_id)
        self._unscored.pop(signal_id, None)
        self._signals[flow_id][kind] += 1
        if crossed is not None:
            self._crossed[flow_id].append(crossed)

    def delivered(self, flow_id: str, case_id: str, unit: str, at: float) -> None:
        """A request reached its agency at business time `at`: a step's, or one item's of a
        step done per item, whose step counts as delivered once every item's request is."""
        case = self._cases.get(case_id)
        if case is None or unit in case.delivered:
            return
        case.delivered.add(unit)
        self._counters[flow_id].requests_delivered += 1
        trail = case.trail
        leg = trail.legs.get(unit)
        if leg is not None:
            leg.delivered = at
        step = unit_step(unit)
        if unit != step:
            self.book.delivered(flow_id, self._unit_metric(flow_id, unit), case.opened_at, at)
            if any(u not in case.delivered for u in case.requested if unit_step(u) == step):
                return
        case.marks[f"{step}.delivered"] = at
        if f"{step}.delivered" in self._span_ends[flow_id]:
            trail.set_by[f"{step}.delivered"] = (unit, True)
        key = step_key(flow_id, "delivered", step)
        if key in self._deliveries_judged:
            self._tail(key, trail, (unit, True), case.opened_at, at)
        self.book.delivered(flow_id, step, case.opened_at, at)

    def used(
        self, flow_id: str, agency: str, check_id: str, at: float, found: Sequence[str]
    ) -> None:
        """A subscriber's check `check_id` of an entity against its table at `at` found the
        records of cases `found`."""
        self.beside.used(flow_id, agency, check_id, at, found)

    def tallied(self, flow_id: str, tally: str, value: str, at: float) -> None:
        """A value of a count the plan sets was seen at `at` (counted once, when first seen)."""
        self.beside.tallied(flow_id, tally, value, at)

    def worked(self, flow_id: str, work: Work) -> None:
        """A request was done at a pool: its wait, work and stay there, and the pool's queue
        and busy clerks over time."""
        pool = work.pool
        self.book.agency_times(
            flow_id,
            pool,
            wait=work.started - work.delivered,
            work=work.work,
            elapsed=work.done - work.started,
            sojourn=work.done - work.delivered,
        )
        self.series.interval(queue_name(pool), work.delivered, work.started)
        self.series.interval(busy_name(pool), work.started, work.done)
        taken = self._taken.get(pool)
        if taken is None:
            taken = self._taken[pool] = Counter()
        taken[flow_id] += 1
        case = self._cases.get(work.case_id)
        if case is not None:
            leg = case.trail.legs.get(work.unit)
            if leg is not None:
                leg.pool, leg.started, leg.done, leg.work = pool, work.started, work.done, work.work

    def at_pool_when_cut(
        self, flow_id: str, pool: str, *, delivered: float, started: float | None, now: float
    ) -> None:
        """A request still at a pool at the cut-off, queued (`started` None) or in work: its
        wait and stay count at least as long as they have lasted."""
        self.book.agency_open(flow_id, pool, delivered_at=delivered, started_at=started, now=now)
        self.series.interval(queue_name(pool), delivered, now if started is None else started)
        if started is not None:
            self.series.interval(busy_name(pool), started, now)

    def hop(self, hop: Hop, seconds: float) -> None:
        """A hop's duration on the business clock."""
        self.book.hop(hop, seconds)

    def platform(self, name: str, seconds: float) -> None:
        """What the platform really took, in wall-clock seconds (kafka): a hop by its `Hop`,
        or a step's or case's latency by its metric name."""
        self.platform_ms[name].record(max(0.0, seconds) * 1000)

    def platform_hop(self, hop: Hop, seconds: float) -> None:
        self.platform(hop_key(hop), seconds)

    def out_of_order(self, pool: str, seconds: float) -> None:
        """A request reached `pool` after one that was later on the business clock and waited
        for a clerk: its wait may be off by up to `seconds` (kafka)."""
        if seconds > self._uncertain.get(pool, 0.0):
            self._uncertain[pool] = seconds

    def dead_lettered(self, reason: str, source_topic: str, *, of_run: bool = True) -> None:
        """A message dead-lettered, whoever wrote it; `of_run`: it may be this run's (an
        external agency's answer to start-up traffic is not)."""
        self.dead_letters_by_reason[reason] += 1
        self.dead_letters_by_topic[source_topic] += 1
        if of_run:
            self.conformance.dead_lettered(reason, source_topic)

    def cut_off(self, now: float, held: Held, *, deliveries_told: bool = True) -> None:
        """The run ends at business time `now`. Whatever is open counts at its age: cases, the
        steps they still wait on, the spans they began. A request neither answered nor held by
        the engine was lost; one the engine holds is in flight.

        An engine that tells each delivery as it happens (`deliveries_told`) leaves a request
        it did not deliver undelivered at its age. One that learns of a delivery only with its
        answer (the kafka engine) cannot say whether an unanswered request reached its agency:
        its delivery counts as open at no known age, so a target on it is undecided rather than
        missed by a bound that does not hold."""
        cut = {flow_id: [0, 0] for flow_id in self.flow_ids}
        for case_id, case in self._cases.items():
            flow = case.flow
            finished = case.acted | case.not_run
            pending = [s for s in flow.steps if s.id not in finished and _needs(case, s)]
            undelivered = [
                s.id for s in pending if not s.is_wait and f"{s.id}.delivered" not in case.marks
            ]
            self.book.open_case(
                flow.id,
                case.opened_at,
                case.marks,
                [s.id for s in pending],
                undelivered if deliveries_told else [],
                now,
            )
            if not deliveries_told:
                for step in undelivered:
                    self.book.delivery_unknown(flow.id, step)
            self._rates_open(case)
            for unit in case.requested - case.answered:
                in_flight = held(flow.id, case_id, unit)
                cut[flow.id][0 if in_flight else 1] += 1
                agency = flow.step(unit_step(unit)).agency
                if agency is not None:
                    self._open_at_pools[self._pool_of[flow.id, agency]] += 1
                if self.conformance.is_external(agency):
                    self.conformance.missing(str(agency))
            self._open_across(case, now)
            publication = flow.publication
            if publication is not None and publication.retracted in case.marks:
                for subscriber in publication.subscribers:
                    if f"{subscriber.drops}.acted" not in case.marks:
                        self.beside.held_at_end(flow.id, subscriber.agency)
        for started, (_, upstream) in self._handed_over.items():
            self._open_across_from(upstream, started.split(".", 1)[0], now)
        self._cut = {flow_id: (a, b) for flow_id, (a, b) in cut.items()}
        self._unscored_at_cut = Counter(self._unscored.values())

    # -- what the books say -----------------------------------------------------------------

    def is_open(self, case_id: str) -> bool:
        """Whether the case has started and not completed."""
        return case_id in self._cases

    def has_answer(self, case_id: str, unit: str) -> bool:
        """Whether the books hold this answer already, or its case as complete: a progress
        record of it told again (its answer read again by a worker that had not committed
        it), whose moments at the pool were counted the first time."""
        case = self._cases.get(case_id)
        return case is None or unit in case.answered

    def open_cases(self) -> int:
        """Cases started and not complete, and cases a hand-over started that the engine has
        not told started yet: a run ends when none is left."""
        return len(self._cases) + len(self._handed_over) + len(self._unscored)

    def headline(self) -> dict[str, int]:
        """The cases a run started and completed, for its last log line."""
        counts = self.counts()
        return {"cases": counts.cases_started, "completed": counts.cases_completed}

    def counts(self, flow_id: str | None = None) -> Counts:
        """One flow's counts, or with None all flows together."""
        flows = self.flow_ids if flow_id is None else [flow_id]

        def total(counter: str) -> int:
            return sum(getattr(self._counters[f], counter) for f in flows)

        cut = self._cut or {}
        started, completed = total("cases_started"), total("cases_completed")
        return Counts(
            cases_started=started,
            cases_completed=completed,
            cases_open=started - completed,
            cases_rejected=total("cases_rejected"),
            requests_emitted=total("requests_emitted"),
            requests_delivered=total("requests_delivered"),
            requests_acted=total("requests_acted"),
            requests_in_flight=sum(cut.get(f, (0, 0))[0] for f in flows),
            outcomes_recorded=total("outcomes_recorded"),
            steps_skipped=total("steps_skipped"),
            steps_cancelled=total("steps_cancelled"),
            lost=sum(cut.get(f, (0, 0))[1] for f in flows),
            duplicates=total("duplicates"),
            refused=total("refused"),
            deadlines_withdrawn=total("deadlines_withdrawn"),
            dead_lettered=sum(self.dead_letters_by_reason.values()) if flow_id is None else 0,
            signals_received=sum(sum(self._signals[f].values()) for f in flows),
            crossings=sum(len(self._crossed[f]) for f in flows),
            signals_unscored=sum(self._unscored_at_cut[f] for f in flows),
        )

    def signals(self) -> dict[str, dict[str, int]]:
        """Each scoring flow's signals counted, by kind."""
        return {
            flow_id: dict(sorted(kinds.items()))
            for flow_id, kinds in self._signals.items()
            if kinds
        }

    def crossed(self) -> dict[str, list[str]]:
        """Each scoring flow's cases started by crossings, in id order."""
        return {flow_id: sorted(cases) for flow_id, cases in self._crossed.items() if cases}

    def items_reached(self) -> dict[str, dict[str, int]]:
        """For each step done per item (`F06/items:offer`): the completed cases it ran in, and
        those in which no item was done."""
        return {key: dict(counts) for key, counts in sorted(self._reached.items()) if counts}

    def rates(self) -> dict[str, dict[str, int]]:
        """For each step a rate target is on, the cases it fell due in: `done` (acted on),
        `failed` (rejected, or cancelled after a rejection) and `open` at the cut-off."""
        return {
            rate_key(flow_id, step): {key: counts[key] for key in ("done", "failed", "open")}
            for (flow_id, step), counts in sorted(self._rates.items())
        }

    def identities(self, flow_id: str | None = None) -> list[Identity]:
        """What must hold between the counters at the cut-off, whatever the engine."""
        flows = self.flow_ids if flow_id is None else [flow_id]
        c = self.counts(flow_id)
        steps_due = sum(self._counters[f].steps_due_completed for f in flows) + sum(
            len(case.steps_requested) + len(case.not_run)
            for case in self._cases.values()
            if case.flow.id in flows
        )
        steps_requested = sum(self._counters[f].steps_requested for f in flows) + sum(
            len(case.steps_requested) for case in self._cases.values() if case.flow.id in flows
        )
        return [
            Identity(
                "cases started = completed + open",
                c.cases_started,
                c.cases_completed + c.cases_open,
            ),
            Identity(
                "requests emitted = answered + in flight + lost",
                c.requests_emitted,
                c.outcomes_recorded + c.requests_in_flight + c.lost,
            ),
            Identity(
                "steps fallen due = steps requested + skipped + cancelled",
                steps_due,
                steps_requested + c.steps_skipped + c.steps_cancelled,
            ),
            Identity(
                "steps requested ≤ requests emitted", steps_requested, c.requests_emitted, True
            ),
            Identity("requests acted ≤ delivered", c.requests_acted, c.requests_delivered, True),
            Identity("crossings ≤ signals received", c.crossings, c.signals_received, True),
            Identity("requests acted ≤ answered", c.requests_acted, c.outcomes_recorded, True),
        ]

    def agency_loads(self, peaks: Mapping[str, int]) -> dict[str, AgencyLoad]:
        """Each pool as the run left it: `peaks` is the longest queue the engine saw there;
        the queue at the end is every request for the pool still unanswered, on its way,
        queued or with a clerk."""
        return {
            name: AgencyLoad(
                agency=pool.agency,
                servers=pool.servers,
                max_queue=peaks.get(name, 0),
                queue_at_end=self._open_at_pools[name],
                outages=[describe_outage(outage) for outage in pool.spec.outages],
                requests={f: self._taken.get(name, Counter())[f] for f in pool.flows},
            )
            for name, pool in self.pools.items()
        }

    def resolution(self) -> dict[str, float]:
        """For each latency a pool's order could move: by how much, at most, in business
        seconds. A value is off by no more than the sum, over the pools its path crossed, of
        the most any request's wait there may be off; the sim engine keeps every queue in
        business order, and its resolution is exact (empty)."""
        if not any(self._uncertain.values()):
            return {}
        found: dict[str, float] = {}

        def off(steps: set[str], flow: FlowSpec) -> float:
            pools = {
                self._pool_of[flow.id, step.agency]
                for step in flow.steps
                if step.id in steps and step.agency is not None
            }
            return sum(self._uncertain.get(pool, 0.0) for pool in pools)

        def upto(flow: FlowSpec, mark: str) -> set[str]:
            """The steps a mark of the flow waits on (every step, for its completion)."""
            end = mark.rsplit(".", 1)[0]
            if end == TRIGGER:
                return set()
            if end == COMPLETED_MARK:
                return {s.id for s in flow.steps}
            return _upstream(flow, end) | {end}

        for flow_id in self.flow_ids:
            flow = FLOWS[flow_id]
            found[case_key(flow_id)] = off({s.id for s in flow.steps}, flow)
            for step in flow.steps:
                before = _upstream(flow, step.id)
                found[step_key(flow_id, "delivered", step.id)] = off(before, flow)
                found[step_key(flow_id, "acted", step.id)] = off(before | {step.id}, flow)
            for span in self.book.spans.get(flow_id, ()):
                target, across, mark = span.end.partition(":")
                if not across:  # within the flow
                    found[span_key(flow_id, span.id)] = off(upto(flow, span.end), flow)
                    continue
                # across a hand-over: this flow's path to it, then the other flow's to the mark
                handed = [h.at for h in flow.handovers if h.flow == target]
                here = set().union(*(upto(flow, at) for at in handed)) if handed else set()
                there = FLOWS[target]
                found[span_key(flow_id, span.id)] = off(here, flow) + off(upto(there, mark), there)
        return {name: seconds for name, seconds in found.items() if seconds > 0}

    def dead_letters(self) -> DeadLetters:
        return DeadLetters(
            by_reason=dict(sorted(self.dead_letters_by_reason.items())),
            by_source_topic=dict(sorted(self.dead_letters_by_topic.items())),
        )

    def conformances(self) -> dict[str, Conformance]:
        """Each external agency's answers, judged."""
        return self.conformance.report()

    def flow_rules(self) -> dict[str, dict[str, dict[str, int]]]:
        return {
            flow_id: {rule: dict(sorted(c.items())) for rule, c in rules.items()}
            for flow_id, rules in self.rules.items()
            if rules
        }

    # -- inside ---------------------------------------------------------------------------------

    def _completed(self, flow_id: str, case_id: str, case: _Case, *, rejected: bool) -> None:
        """A case takes as long as its slowest step's answer."""
        counts = self._counters[flow_id]
        counts.cases_completed += 1
        counts.steps_due_completed += len(case.flow.steps)
        counts.steps_requested += len(case.steps_requested)
        if rejected:
            counts.cases_rejected += 1
        if self._rate_steps:
            self._rates_of(case, open_case=False)
        marks = case.marks
        for step in self._per_item[flow_id]:
            if step in case.steps_requested:
                reached = self._reached[step_key(flow_id, "items", step)]
                reached["cases"] += 1
                reached["none done"] += f"{step}.first" not in marks
        completed_at = case.opened_at if case.last_answer is None else case.last_answer
        days = self.book.completed_marks(flow_id, case.opened_at, completed_at, marks)
        self._split(flow_id, case, completed_at, days)
        self._across(case)
        self.series.count(completions_name(flow_id), completed_at)
        del self._cases[case_id]

    def _across(self, case: _Case) -> None:
        """A case a hand-over started has completed: every span of the upstream flow that
        ends in it, from the upstream case's mark to this one's."""
        upstream = case.upstream
        if upstream is None:
            return
        for span in self.book.spans.get(upstream.flow, ()):
            target, _, mark = span.end.partition(":")
            start, end = upstream.marks.get(span.start), case.marks.get(mark)
            if target == case.flow.id and start is not None and end is not None:
                self.book.span(upstream.flow, span.id, start, end)
                key = span_key(upstream.flow, span.id)
                self._tail(key, case.trail, case.trail.set_by.get(mark), start, end)

    def _open_across(self, case: _Case, now: float) -> None:
        """At the cut-off: the spans into other flows an open case has begun. An upstream case
        whose hand-over is still ahead (and will come, by its data) holds them open; so does a
        downstream case that has not reached their end."""
        if case.upstream is not None:
            self._open_across_from(case.upstream, case.flow.id, now, case.marks)
        for handover in case.flow.handovers:
            if (
                handover.flow in self.flow_ids
                and handover.flow not in case.handed_to
                and case.trigger is not None
                and handover.applies(case.trigger)
            ):
                self._open_across_from(_Upstream(case.flow.id, case.marks), handover.flow, now)

    def _open_across_from(
        self,
        upstream: _Upstream,
        target_flow: str,
        now: float,
        reached: Mapping[str, float] | None = None,
    ) -> None:
        """Each span from `upstream` into `target_flow` that has begun and whose end the
        downstream case has not `reached`, open at its age."""
        for span in self.book.spans.get(upstream.flow, ()):
            target, _, mark = span.end.partition(":")
            if target != target_flow or (reached is not None and mark in reached):
                continue
            start = upstream.marks.get(span.start)
            if start is not None:
                self.book.span_open(upstream.flow, span.id, start, now)

    def _split(
        self, flow_id: str, case: _Case, completed_at: float, days: tuple[float, int]
    ) -> None:
        """Where the time of the completed case and of its spans went (a step's latency is
        split when it is recorded)."""
        trail = case.trail
        marks, set_by = case.marks, trail.set_by
        last = (trail.last, False) if trail.last is not None else None
        self._tail(case_key(flow_id), trail, last, case.opened_at, completed_at, days)
        for span in self.book.spans.get(flow_id, ()):
            start, end = marks.get(span.start), marks.get(span.end)
            if start is not None and end is not None:
                by = set_by.get(span.end) if span.end != TRIGGER else None
                self._tail(span_key(flow_id, span.id), trail, by, start, end)

    def _tail(
        self,
        key: str,
        trail: Trail,
        by: tuple[str, bool] | None,
        start: float,
        end: float,
        days: tuple[float, int] | None = None,
    ) -> None:
        """One latency's parts into its tails, on clock seconds and any working-day scale a
        target judges it on (`days`: its working days both ways, where the book has them).
        `by`: the unit whose delivery or answer ended it."""
        if end < start:
            end = start
        scales = self._tail_scales.get(key)
        if scales is None:
            scales = self._tail_scales[key] = self._scales_of(key)
        on_clock, in_days = scales
        band = on_clock.band(end - start)
        if not in_days:
            if band is None:
                return  # far from every tail read: counted, not split
            weight = band.weight()
            if not weight:
                return  # counted in its band, left out of its sample
            weights = [(band, weight)]
        else:
            if days is None:
                days = self.book.calendar.working_days_both(start, end)
            bands = [band]
            for on in in_days:
                bands.append(on.band(days[0] if on.scale == "working_days" else days[1]))
            weights = [
                (band, weight) for band in bands if band is not None and (weight := band.weight())
            ]
            if not weights:
                return  # counted in its bands, left out of their samples
        unit = by[0] if by is not None else None
        leg = trail.legs.get(unit) if unit is not None else None
        if leg is not None and by is not None and start == trail.opened_at:
            parts = from_opening(trail, str(unit), by[1], self._hours)
        else:
            parts = walk(trail, unit, end, start, self._hours)
        earlier = max(0.0, min(leg.sent, end) - start) if leg is not None else 0.0
        for band, weight in weights:
            band_add(band, parts, earlier, weight)

    def _scales_of(self, key: str) -> tuple[Latency, tuple[Latency, ...]]:
        """A latency's tails on clock seconds and on each working-day scale it is judged on."""
        in_days = self._judged_in_days.get(key, ())
        return self.tails.of(key, "latency"), tuple(self.tails.of(key, s) for s in in_days)

    def _floor(self, metric: str, scale: str, percentile: float) -> float:
        """A latency's value so far at `percentile`, on `scale`: where its tails are split."""
        recorders = {
            "latency": self.book.latency,
            "working_days": self.book.working_days,
            "legal_working_days": self.book.legal_days,
        }[scale]
        return recorders[metric].value_at(percentile)

    def _hours(self, pool: str) -> AgencyHours:
        return self.pools[pool].hours

    def _rates_open(self, case: _Case) -> None:
        if self._rate_steps:
            self._rates_of(case, open_case=True)

    def _unit_metric(self, flow_id: str, unit: str) -> str:
        return unit_metric(unit, FLOWS[flow_id].step(unit_step(unit)).each)

    def _rates_of(self, case: _Case, *, open_case: bool) -> None:
        """Where a step a rate target is on fell due in the case: done, failed, or (in a case
        open at the cut-off) open. A step the case's data skips never fell due. A step done per
        item counts each item it requested (a policy pushed to forty enterprises, one
        unreachable: 39 done, 1 failed); where it requested none (cancelled, or not yet due at
        the cut-off) it counts once, as a step of one request."""
        flow = case.flow
        for step in flow.steps:
            counts = self._rates.get((flow.id, step.id))
            if counts is None:
                continue
            items = [u for u in case.requested if u != step.id and unit_step(u) == step.id]
            if step.each is not None and items:
                for unit in items:
                    if unit in case.items_rejected:
                        counts["failed"] += 1
                    elif unit in case.answered:
                        counts["done"] += 1
                    elif open_case:
                        counts["open"] += 1
                continue
            if step.id in case.rejected or step.id in case.cancelled:
                counts["failed"] += 1
            elif step.id in case.acted:
                counts["done"] += 1
            elif open_case and step.id not in case.not_run and _needs(case, step):
                counts["open"] += 1


def _needs(case: _Case, step: Step) -> bool:
    """Whether the case's data concerns the step: as its opening recorded, or where the
    platform has not opened it yet, as its trigger says (if the engine made it)."""
    if case.needs is not None:
        return step.id in case.needs
    return case.trigger is not None and step.concerns(case.trigger)


def unit_metric(unit: str, each: Each | None = None) -> str:
    """The name a request's latency goes by: its step's, or for one item of a step done per
    item, `bank-freeze@ICBC` (or its group's, `push@finance`, where the step groups them)."""
    step, _, item = unit.partition("/")
    if item and each is not None:
        item = each.metric(item)
    return f"{step}@{item}" if item else step


def _upstream(flow: FlowSpec, step_id: str) -> set[str]:
    """Every step `step_id` follows, directly or through others."""
    seen: set[str] = set()
    todo = list(flow.step(step_id).after)
    while todo:
        step = todo.pop()
        if step not in seen:
            seen.add(step)
            todo += flow.step(step).after
    return seen


def _kept(scenario: Scenario) -> dict[tuple[str, str], float]:
    """The percentile from which each latency a target reads is split (`breakdown.Tails`):
    for a mean every case, for a percentile from well under it."""
    from govstream.metrics import PERCENTILES
    from govstream.sla import target_metrics, target_scale

    kept: dict[tuple[str, str], float] = {}
    for target in scenario.targets:
        if target.of not in LATENCY_TARGETS:
            continue
        scale = target_scale(target)
        percentile = 0.0 if target.stat == "mean" else PERCENTILES.get(target.stat, 100.0)
        for _, key in target_metrics(scenario, target):
            kept[key, scale] = min(kept.get((key, scale), KEEP), max(0.0, percentile - 15.0))
    return kept


def _span_ends(flow_ids: Sequence[str], spans: Mapping[str, Sequence[Span]]) -> dict[str, set[str]]:
    ends: dict[str, set[str]] = {flow_id: set() for flow_id in flow_ids}
    for flow_id, flow_spans in spans.items():
        for span in flow_spans:
            target, across, mark = span.end.partition(":")
            if across:
                ends.setdefault(target, set()).add(mark)
            else:
                ends[flow_id].add(span.end)
    return ends


def _deliveries_judged(scenario: Scenario) -> set[str]:
    """The delivered latencies a target reads."""
    from govstream.sla import target_metrics

    return {
        key
        for target in scenario.targets
        if target.of == "delivered"
        for _, key in target_metrics(scenario, target)
    }


def _judged_in_days(scenario: Scenario) -> dict[str, tuple[str, ...]]:
    """Each latency a target judges in working days -> the scales it is judged on."""
    from govstream.sla import target_metrics, target_scale

    found: dict[str, set[str]] = {}
    for target in scenario.targets:
        if target.of not in LATENCY_TARGETS:
            continue
        scale = target_scale(target)
        if scale in ("working_days", "legal_working_days"):
            for _, key in target_metrics(scenario, target):
                found.setdefault(key, set()).add(scale)
    return {key: tuple(sorted(scales)) for key, scales in found.items()}
