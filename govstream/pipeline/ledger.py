"""The ledger: one set of books for a run, kept the same way whichever engine ran it.

An engine tells the ledger what it saw, in the order it saw it: a case started; a transition of
the orchestrator (the case opened, an answer recorded, repeated or refused, with the requests it
sent and the steps it skipped or cancelled); a request delivered; a request worked on at a pool;
a hop's duration; a dead letter; and at the end, the cut-off. The sim engine tells it as its
events happen; the kafka engine's collector as it reads the orchestrators' progress records,
which carry the same transitions. No engine counts, and no engine forecasts what a case will
do: what a case was asked is what its orchestrator says it sent.

The ledger owns every counter and the identities between them, the hop names, the plan's rules
on case data, when a case completed, what is still open at the end, and each pool's load. It
writes the latencies into the latency book and the time series as it goes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from govstream.calendar.agency_hours import describe_outage
from govstream.calendar.working import WorkingCalendar
from govstream.metrics import RecorderSet
from govstream.pipeline.agencies import AgencyPool
from govstream.pipeline.book import (
    LatencyBook,
    case_key,
    hop_key,
    scenario_spans,
    span_key,
    step_key,
)
from govstream.pipeline.series import (
    SeriesBook,
    arrivals_name,
    busy_name,
    completions_name,
    queue_name,
)
from govstream.result import AgencyLoad, Counts, DeadLetters
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.events import Record
from processors.flow import TRIGGER, FlowSpec
from processors.orchestrator import ANSWERED, DUPLICATE, REFUSED, Transition


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
class _Case:
    """What the books know of one case until it completes."""

    flow: FlowSpec
    opened_at: float
    trigger: Record
    marks: dict[str, float]
    requested: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    """Answered, skipped or cancelled."""
    delivered: set[str] = field(default_factory=set)


class _Counters:
    """One flow's counters. Plain attributes: the sim engine adds to them for every event."""

    __slots__ = (
        "cases_completed",
        "cases_rejected",
        "cases_started",
        "duplicates",
        "outcomes_recorded",
        "refused",
        "requests_acted",
        "requests_delivered",
        "requests_emitted",
        "steps_cancelled",
        "steps_due_completed",
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
        self._uncertain: dict[str, float] = {}
        self._waits = {f: {step.id for step in FLOWS[f].waits} for f in self.flow_ids}
        self._pool_of = {(f, pool.agency): name for name, pool in pools.items() for f in pool.flows}

    # -- what the engines tell ------------------------------------------------------------------

    def started(self, flow_id: str, case_id: str, trigger: Record, at: float) -> None:
        """A case's trigger was generated for business time `at` (its intended emit time)."""
        flow = FLOWS[flow_id]
        self._counters[flow_id].cases_started += 1
        self.series.count(arrivals_name(flow_id), at)
        for rule in flow.rules:
            verdict = rule.check(trigger)
            outcome = "not applicable" if verdict is None else ("met" if verdict else "not met")
            self.rules[flow_id].setdefault(rule.id, Counter())[outcome] += 1
        self._cases[case_id] = _Case(flow, at, trigger, {TRIGGER: at})

    def transition(self, flow_id: str, seen: Transition, at: float) -> None:
        """The orchestrator made a transition at business time `at`. A transition told twice
        (a progress record read again after a worker was replaced) changes nothing."""
        counts = self._counters[flow_id]
        if seen.event == DUPLICATE:
            counts.duplicates += 1
            return
        if seen.event == REFUSED:
            counts.refused += 1
            self.refusals[flow_id][seen.reason or "unknown"] += 1
            return
        case = self._cases.get(seen.case_id)
        if case is None:
            return  # complete already: a progress record told again
        if seen.event == ANSWERED:
            step = str(seen.step)
            if step in case.answered:
                return
            case.answered.add(step)
            case.finished.add(step)
            counts.outcomes_recorded += 1
            if step not in self._waits[flow_id]:
                counts.requests_acted += 1
            case.marks[f"{step}.acted"] = at
            self.book.acted(flow_id, step, case.opened_at, at)
        for step in seen.requested:
            if step not in case.requested:
                case.requested.add(step)
                counts.requests_emitted += 1
        for step in seen.skipped:
            if step not in case.finished:
                case.finished.add(step)
                counts.steps_skipped += 1
        for step in seen.cancelled:
            if step not in case.finished:
                case.finished.add(step)
                counts.steps_cancelled += 1
        if seen.completed:
            self._completed(flow_id, seen.case_id, case, rejected=bool(seen.rejected))

    def delivered(self, flow_id: str, case_id: str, step: str, at: float) -> None:
        """A step's request reached its agency at business time `at`."""
        case = self._cases.get(case_id)
        if case is None or step in case.delivered:
            return
        case.delivered.add(step)
        self._counters[flow_id].requests_delivered += 1
        case.marks[f"{step}.delivered"] = at
        self.book.delivered(flow_id, step, case.opened_at, at)

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

    def dead_lettered(self, reason: str, source_topic: str) -> None:
        self.dead_letters_by_reason[reason] += 1
        self.dead_letters_by_topic[source_topic] += 1

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
            pending = [
                s for s in flow.steps if s.id not in case.finished and s.applies(case.trigger)
            ]
            undelivered = [s.id for s in pending if not s.is_wait and s.id not in case.delivered]
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
            for step in case.requested - case.answered:
                in_flight = held(flow.id, case_id, step)
                cut[flow.id][0 if in_flight else 1] += 1
                agency = flow.step(step).agency
                if agency is not None:
                    self._open_at_pools[self._pool_of[flow.id, agency]] += 1
        self._cut = {flow_id: (a, b) for flow_id, (a, b) in cut.items()}

    # -- what the books say -----------------------------------------------------------------

    def is_open(self, case_id: str) -> bool:
        """Whether the case has started and not completed."""
        return case_id in self._cases

    def open_cases(self) -> int:
        """Cases started and not complete: a run ends when none is left."""
        return len(self._cases)

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
            dead_lettered=sum(self.dead_letters_by_reason.values()) if flow_id is None else 0,
        )

    def identities(self, flow_id: str | None = None) -> list[Identity]:
        """What must hold between the counters at the cut-off, whatever the engine."""
        flows = self.flow_ids if flow_id is None else [flow_id]
        c = self.counts(flow_id)
        steps_due = sum(self._counters[f].steps_due_completed for f in flows) + sum(
            len(case.requested) + len(case.finished - case.answered)
            for case in self._cases.values()
            if case.flow.id in flows
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
                "steps fallen due = requests emitted + skipped + cancelled",
                steps_due,
                c.requests_emitted + c.steps_skipped + c.steps_cancelled,
            ),
            Identity("requests acted ≤ delivered", c.requests_acted, c.requests_delivered, True),
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
        for flow_id in self.flow_ids:
            flow = FLOWS[flow_id]

            def off(steps: set[str], flow: FlowSpec = flow) -> float:
                pools = {
                    self._pool_of[flow.id, step.agency]
                    for step in flow.steps
                    if step.id in steps and step.agency is not None
                }
                return sum(self._uncertain.get(pool, 0.0) for pool in pools)

            found[case_key(flow_id)] = off({s.id for s in flow.steps})
            for step in flow.steps:
                before = _upstream(flow, step.id)
                found[step_key(flow_id, "delivered", step.id)] = off(before)
                found[step_key(flow_id, "acted", step.id)] = off(before | {step.id})
            for span in self.book.spans.get(flow_id, ()):
                end = span.end.rsplit(".", 1)[0]
                upto = set() if end == TRIGGER else _upstream(flow, end) | {end}
                found[span_key(flow_id, span.id)] = off(upto)
        return {name: seconds for name, seconds in found.items() if seconds > 0}

    def dead_letters(self) -> DeadLetters:
        return DeadLetters(
            by_reason=dict(sorted(self.dead_letters_by_reason.items())),
            by_source_topic=dict(sorted(self.dead_letters_by_topic.items())),
        )

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
        if rejected:
            counts.cases_rejected += 1
        marks = case.marks
        acted = [marks[f"{step}.acted"] for step in case.answered]
        completed_at = max(acted, default=case.opened_at)
        self.book.completed_marks(flow_id, case.opened_at, completed_at, marks)
        self.series.count(completions_name(flow_id), completed_at)
        del self._cases[case_id]


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
