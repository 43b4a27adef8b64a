"""The sim engine: every flow's step graph on SimPy's scheduler, on the shared pipeline.

Arrivals, the exchange's transport, the platform (the orchestrators' stage), agency pools and
waits are events on SimPy's clock; what a case does next is decided by the same pure
orchestrator the kafka engine runs, and what happened is told to the same ledger.

Each case and each request moves by callbacks on timeouts rather than as a SimPy process, and
pools are FIFO servers (`Servers`) rather than SimPy resources: a process costs two scheduler
events more than its timeouts (its start and its end) and a resource one per request and per
release, and nothing in the engine waits on those. The order things happen in is the one the
processes had: a new request's first step runs as soon as the step that emitted it is done, and
a clerk freed by one request is taken up by the next in the queue once the first has finished
its own work at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy
import structlog

from govstream.durations import format_seconds
from govstream.engines import engine_problem
from govstream.engines.results import build_result, package_versions
from govstream.engines.sim.station import Servers, Station
from govstream.engines.stopped import INTERRUPTED, RunStopped, mark_incomplete
from govstream.pipeline.agencies import AgencyPool, Waits, agency_pools, pool_for, seeded
from govstream.pipeline.exchange import Crossing, Exchange
from govstream.pipeline.ledger import Hop, Ledger, Work
from govstream.pipeline.publication import CHECK, RecordTable, SideEvents, kind_of, side_id
from govstream.pipeline.schedule import (
    Arrival,
    case_id,
    schedule,
    signal_makers,
    signal_moment,
    signal_time,
    trigger_date,
    trigger_generators,
)
from govstream.pipeline.scoring import Scorer
from govstream.progress import ProgressCallback, run_fraction
from govstream.result import EngineInfo, RunResult
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.events import Emit, Record
from processors.flow import Crossed, Step, crossing_case_id, signal_id, unit_of
from processors.flow import request_id as request_id_of
from processors.orchestrator import CaseState, Orchestrator, Progress

log = structlog.get_logger(__name__)

SimProcess = Generator[simpy.Event, Any, None]
Callback = Callable[[Any], None]


class _Case:
    """A case from its trigger's emission until the platform has opened it."""

    __slots__ = ("arrived", "engine", "flow_id", "intended_at", "key", "sent_at", "trigger")

    def __init__(
        self,
        engine: SimEngine,
        flow_id: str,
        key: tuple[str, str],
        intended_at: float,
        trigger: dict[str, Any],
        sent_at: float,
    ) -> None:
        self.engine = engine
        self.flow_id = flow_id
        self.key = key
        self.intended_at = intended_at
        self.trigger = trigger
        self.sent_at = sent_at
        self.arrived = 0.0

    def at_platform(self, _: object = None) -> None:
        engine = self.engine
        self.arrived = engine.env.now
        engine.ledger.hop(Hop.TRIGGER, self.arrived - self.sent_at)
        if engine.platform.take(self):
            self.platform_slot()

    def platform_slot(self) -> None:
        engine = self.engine
        engine.after(engine._platform_time(engine._platform_rng), self.opened)

    def opened(self, _: object = None) -> None:
        engine = self.engine
        waiting = engine.platform.release()
        now = engine.env.now
        engine.ledger.hop(Hop.AT_ORCHESTRATOR, now - self.arrived)
        progress = engine.orchestrators[self.flow_id].open(
            engine.states.get(self.key), self.trigger, self.intended_at, now
        )
        engine._advance(self.flow_id, self.key, progress)
        if waiting is not None:
            waiting.platform_slot()


class _Request:
    """One request on its way to an agency, in its queue, with a clerk, and its answer back."""

    __slots__ = (
        "case_id",
        "delivered_at",
        "done_at",
        "emit",
        "engine",
        "flow",
        "flow_id",
        "outcome",
        "pool",
        "request_id",
        "sent_at",
        "started_at",
        "station",
        "step",
        "taken_at",
        "unit",
        "work",
    )

    def __init__(self, engine: SimEngine, flow_id: str, emit: Emit, pool: AgencyPool) -> None:
        self.engine = engine
        self.flow_id = flow_id
        self.flow = FLOWS[flow_id]
        self.emit = emit
        self.step: Step = engine.step_of(flow_id, str(emit.step))
        self.case_id = emit.key
        self.pool = pool
        self.station = engine.stations[pool.name]
        self.request_id = str(emit.value["request_id"])
        self.unit = unit_of(emit.value)
        self.sent_at = engine.env.now
        self.delivered_at = self.taken_at = self.started_at = self.done_at = self.work = 0.0
        self.outcome: Record = {}
        engine.after(
            engine.exchange.delay(Crossing.REQUEST, self.case_id, self.unit), self.delivered
        )

    def delivered(self, _: object = None) -> None:
        engine = self.engine
        delivered_at = self.delivered_at = engine.env.now
        engine.at_pools[self.request_id] = (self.flow_id, self.pool.name, delivered_at, None)
        engine.ledger.delivered(self.flow_id, self.case_id, self.unit, delivered_at)
        engine.ledger.hop(Hop.TO_AGENCY, delivered_at - self.sent_at)
        if self.station.clerks.take(self):
            self.clerk()

    def clerk(self) -> None:
        """A clerk has taken the request up; the work waits for the office to open."""
        engine = self.engine
        now = self.taken_at = engine.env.now
        opens = self.pool.hours.next_available(now)
        if opens > now:
            engine.after(opens - now, self.work_starts)
        else:
            self.work_starts()

    def work_starts(self, _: object = None) -> None:
        engine = self.engine
        pool = self.pool
        started_at = self.started_at = engine.env.now
        engine.at_pools[self.request_id] = (self.flow_id, pool.name, self.delivered_at, started_at)
        self.work = pool.service_time(self.flow_id, self.step.id, self.case_id, self.unit)
        self.done_at = pool.hours.finish_time(started_at, self.work)
        engine.after(self.done_at - started_at, self.work_done)

    def work_done(self, _: object = None) -> None:
        engine = self.engine
        waiting = self.station.clerks.release()
        del engine.at_pools[self.request_id]
        engine.ledger.worked(
            self.flow_id,
            Work(
                self.pool.name,
                self.delivered_at,
                self.taken_at,
                self.started_at,
                self.done_at,
                self.work,
                self.case_id,
                self.unit,
            ),
        )
        self.outcome = self.pool.act(self.flow, self.step, self.emit.value).value
        if self.step.published is not None:
            engine.publish(self.flow_id, self.step, self.case_id)
        engine.after(
            engine.exchange.delay(Crossing.OUTCOME, self.case_id, self.unit), self.answered
        )
        if waiting is not None:
            waiting.clerk()

    def answered(self, _: object = None) -> None:
        engine = self.engine
        engine.ledger.hop(Hop.OUTCOME_RETURN, engine.env.now - self.done_at)
        engine._outcome(self.flow_id, self.emit, self.outcome, self.delivered_at)


class _Wait:
    """A step that waits outside any agency: a drawn duration, then its outcome; or, for a
    deadline withdrawn before it passed, its outcome at once."""

    __slots__ = ("answered", "emit", "engine", "flow", "flow_id", "step")

    def __init__(self, engine: SimEngine, flow_id: str, emit: Emit) -> None:
        self.engine = engine
        self.flow_id = flow_id
        self.flow = FLOWS[flow_id]
        self.emit = emit
        self.step = engine.step_of(flow_id, str(emit.step))
        self.answered = False
        lasts = engine.waits.duration(flow_id, self.step.id, emit.value)
        engine.after(lasts, self.over)

    def withdraw(self) -> None:
        """Answered next, on the same instant: the transition that withdrew it is still
        being stored."""
        self.engine.after(0.0, self.over)

    def over(self, _: object = None) -> None:
        if self.answered:
            return  # a deadline withdrawn, answered already
        self.answered = True
        outcome = self.engine.waits.act(self.flow, self.step, self.emit.value)
        self.engine._outcome(self.flow_id, self.emit, outcome.value, None)


class SimEngine:
    """One run of one scenario; build it, call `run()`, read the RunResult."""

    name = "sim"

    def __init__(
        self,
        scenario: Scenario,
        *,
        scenario_file: str = "<scenario>",
        overrides: list[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        unfit = engine_problem(scenario, "sim")
        if unfit:
            raise ValueError(unfit)
        self.scenario = scenario
        self.scenario_file = scenario_file
        self.overrides = overrides or []
        self.progress = progress
        self.env = simpy.Environment()
        self.calendar = scenario_calendar(scenario)
        self.flow_ids = list(scenario.flows)
        # No message leaves the sim engine: requests carry a body only where an answer reads
        # it. A case's state lives only in `states`, so an answer changes it in place.
        self.orchestrators = {
            f: Orchestrator(
                FLOWS[f],
                bodies=False,
                joins=scenario.joins(f),
                downstream=scenario.downstream(f),
                in_place=True,
            )
            for f in self.flow_ids
        }
        self.make_signal = signal_makers(scenario)
        self.scorers = {
            flow_id: Scorer(scoring, scenario.window(flow_id), scenario.threshold(flow_id))
            for flow_id in scenario.scoring_flows()
            if (scoring := FLOWS[flow_id].scoring) is not None
        }
        self.pools = agency_pools(scenario, self.calendar)
        self.stations: dict[str, Station[_Request]] = {
            name: Station(pool) for name, pool in self.pools.items()
        }
        self.waits = Waits(scenario)
        self.exchange = Exchange(scenario)
        self._platform_time = scenario.platform.service_time.sampler()
        self._platform_rng = seeded(scenario.seed, "platform")
        self.platform: Servers[_Case] = Servers(scenario.platform.servers)
        self.states: dict[tuple[str, str], CaseState] = {}
        self.ledger = Ledger(scenario, self.calendar, self.pools)
        self.arrivals_done = False
        self.open_requests: dict[str, _Request | _Wait] = {}
        """Requests emitted whose outcome the orchestrator has not recorded yet."""
        self.at_pools: dict[str, tuple[str, str, float, float | None]] = {}
        """Requests delivered and not yet done: flow, pool, delivered at, started at."""
        self.all_done = self.env.event()
        self._schedule = schedule(scenario)
        generators = trigger_generators(scenario)
        # A trigger is drawn as far as the sim engine reads it, where its generator can.
        self.make_trigger = {
            f: getattr(made, "lazy", made.generate) for f, made in generators.items()
        }
        self.side = SideEvents(scenario, generators)
        self.tables: dict[tuple[str, str], RecordTable] = {}
        """Each subscriber's table of the records it holds, by flow and agency."""
        self._steps: dict[tuple[str, str], Step] = {}
        self._pools_for: dict[tuple[str, str], AgencyPool] = {}

    # -- events ------------------------------------------------------------------------------

    def after(self, delay: float, callback: Callback) -> None:
        """Call `callback` once `delay` business seconds have passed: a SimPy timeout whose
        only callback is the engine's, where a process would cost two scheduler events more."""
        self.env.timeout(delay).callbacks.append(callback)

    def step_of(self, flow_id: str, step_id: str) -> Step:
        step = self._steps.get((flow_id, step_id))
        if step is None:
            step = self._steps[flow_id, step_id] = FLOWS[flow_id].step(step_id)
        return step

    def _pool_for(self, flow_id: str, agency: str) -> AgencyPool:
        pool = self._pools_for.get((flow_id, agency))
        if pool is None:
            pool = self._pools_for[flow_id, agency] = pool_for(
                self.pools, self.scenario, flow_id, agency
            )
        return pool

    def _next_arrival(self) -> None:
        arrival = next(self._schedule, None)
        if arrival is None:
            self.arrivals_done = True
            self._check_done()
            return
        self.after(arrival.at - self.env.now, lambda _: self._arrive(arrival))

    def _arrive(self, arrival: Arrival) -> None:
        if arrival.signal:
            self._signal(arrival)
            self._next_arrival()
            return
        flow_id, intended_at = arrival.flow, arrival.at
        if arrival.kind:
            self._beside(arrival)
        else:
            trigger = self.make_trigger[flow_id](
                case_id(flow_id, arrival.number), trigger_date(self.scenario, intended_at)
            )
            self.side.listing(flow_id, trigger, intended_at)
            self._start(flow_id, trigger, intended_at, intended_at)
        self._next_arrival()

    def _beside(self, arrival: Arrival) -> None:
        """A subscriber checks an entity against its own table, or an event is counted."""
        flow = FLOWS[arrival.flow]
        kind, name = kind_of(arrival)
        check_id = side_id(arrival)
        value = self.side.make(arrival, check_id)
        if kind == CHECK:
            found = self._table(arrival.flow, name).find(str(value["uscc"]))
            self.ledger.used(arrival.flow, name, check_id, arrival.at, found)
        else:
            tally = next(t for t in flow.tallies if t.id == name)
            self.ledger.tallied(arrival.flow, name, tally.distinct(value), arrival.at)

    def _table(self, flow_id: str, agency: str) -> RecordTable:
        table = self.tables.get((flow_id, agency))
        if table is None:
            table = self.tables[flow_id, agency] = RecordTable()
        return table

    def publish(self, flow_id: str, step: Step, case: str) -> None:
        """A subscriber has acted on a published record or its retraction: its table changes
        now, when its own system has taken the change in."""
        assert step.published is not None and step.agency is not None
        trigger = self.states[flow_id, case]["trigger"]
        entity, key = step.published.entity(trigger), step.published.key(trigger)
        table = self._table(flow_id, step.agency)
        if step.published.tombstone:
            table.drop(entity, key)
        else:
            table.take(entity, key, case)

    def _signal(self, arrival: Arrival) -> None:
        """A scoring flow's signal is reported. The book counts it at its intended time, in the
        order the signals were reported, as the windows are on business time; the scorer says
        so (and a crossing starts its case) once the signal has crossed the exchange."""
        flow_id, kind, at = arrival.flow, arrival.signal, arrival.at
        signal = signal_id(kind, arrival.number)
        value = self.make_signal[flow_id, kind](signal, signal_moment(self.scenario, at))
        self.ledger.signal_sent(flow_id, signal)
        crossed = self.scorers[flow_id].take(kind, value, signal_time(self.scenario, at))
        delay = self.exchange.delay(Crossing.TRIGGER, signal)
        self.after(delay, lambda _: self._scored(flow_id, signal, kind, crossed, at))

    def _scored(
        self, flow_id: str, signal: str, kind: str, crossed: Crossed | None, intended_at: float
    ) -> None:
        """The scorer has counted a signal; a crossing starts a case, timed from the signal."""
        case = crossing_case_id(flow_id, signal) if crossed is not None else None
        self.ledger.signal_scored(flow_id, signal, kind, case)
        if crossed is not None and case is not None:
            scoring = FLOWS[flow_id].scoring
            assert scoring is not None
            trigger = dict(scoring.trigger(crossed, case, signal))
            self._start(flow_id, trigger, intended_at, self.env.now)
        self._check_done()

    def _start(
        self, flow_id: str, trigger: dict[str, Any], intended_at: float, sent_at: float
    ) -> None:
        """A case's trigger sets out for the platform at `sent_at`: from its source, from the
        flow whose case handed over to it, or from the scorer. The case opens at
        `intended_at`: its source's intended emit time, the hand-over's (`Started.at`), which
        for a hand-over as the upstream case opens is before the trigger is sent, or the
        intended time of the signal that crossed the threshold."""
        case = str(trigger["case_id"])
        self.ledger.started(flow_id, case, trigger, intended_at)
        opening = _Case(self, flow_id, (flow_id, case), intended_at, trigger, sent_at)
        self.after(self.exchange.delay(Crossing.TRIGGER, case), opening.at_platform)

    def _advance(self, flow_id: str, key: tuple[str, str], progress: Progress) -> None:
        self.ledger.transition(flow_id, progress.transition, self.env.now)
        if progress.duplicate or progress.refused:
            return
        for started in progress.started:
            self._start(started.flow, dict(started.emit.value), started.at, self.env.now)
        for emit in progress.emits:
            request_id = str(emit.value["request_id"])
            if emit.recipient is None and emit.value.get("withdrawn"):  # only waits withdraw
                withdrawn = self.open_requests.get(request_id)
                if isinstance(withdrawn, _Wait):
                    withdrawn.withdraw()
                continue
            if emit.recipient is None:
                self.open_requests[request_id] = _Wait(self, flow_id, emit)
            else:
                pool = self._pool_for(flow_id, str(emit.recipient))
                self.open_requests[request_id] = _Request(self, flow_id, emit, pool)
        if progress.completion is None:
            self.states[key] = progress.state
            return
        self.states.pop(key, None)
        self._check_done()

    def _outcome(
        self, flow_id: str, emit: Emit, outcome: Record, delivered_at: float | None
    ) -> None:
        del self.open_requests[str(emit.value["request_id"])]
        key = (flow_id, emit.key)
        progress = self.orchestrators[flow_id].record(
            self.states.get(key), outcome, self.env.now, delivered_at
        )
        self._advance(flow_id, key, progress)

    def _check_done(self) -> None:
        if self.arrivals_done and self.ledger.open_cases() == 0 and not self.all_done.triggered:
            self.all_done.succeed()

    def _ticker(self, horizon: float) -> SimProcess:
        assert self.progress is not None
        arrivals_end = self.scenario.duration.clock_seconds()
        step = min(arrivals_end, horizon) / 200
        while True:
            started = self.ledger.counts().cases_started
            now, still_open = self.env.now, self.ledger.open_cases()
            self.progress(run_fraction(now, arrivals_end, horizon, started, still_open))
            yield self.env.timeout(step)

    # -- run -------------------------------------------------------------------------------

    def run(self) -> RunResult:
        scenario = self.scenario
        horizon = scenario.duration.clock_seconds() + scenario.drain.clock_seconds()
        self._next_arrival()
        if self.progress is not None:
            self.env.process(self._ticker(horizon))
        try:
            self.env.run(until=self.env.any_of([self.all_done, self.env.timeout(horizon)]))
        except KeyboardInterrupt:
            partial = mark_incomplete(
                self._result(), f"{INTERRUPTED} at business time {format_seconds(self.env.now)}"
            )
            raise RunStopped(INTERRUPTED, partial, interrupted=True) from None
        if self.progress is not None:
            self.progress(1.0)
        log.info(
            "sim run finished",
            flows=self.flow_ids,
            scenario=scenario.name,
            **self.ledger.headline(),
            business_seconds=self.env.now,
        )
        return self._result()

    def _result(self) -> RunResult:
        """The books cut off now: a request is answered, or still on the wire, in a queue or
        with a clerk; one the engine no longer holds was lost."""
        now, ledger = self.env.now, self.ledger
        held = self.open_requests
        ledger.cut_off(now, lambda _flow, case, step: request_id_of(case, step) in held)
        for flow_id, pool, delivered_at, started_at in self.at_pools.values():
            ledger.at_pool_when_cut(
                flow_id, pool, delivered=delivered_at, started=started_at, now=now
            )
        peaks = {name: station.max_queue for name, station in self.stations.items()}
        return build_result(
            scenario=self.scenario,
            scenario_file=self.scenario_file,
            overrides=self.overrides,
            engine=EngineInfo(name="sim", versions=package_versions("simpy")),
            business_seconds=now,
            ledger=ledger,
            agencies=ledger.agency_loads(peaks),
        )
