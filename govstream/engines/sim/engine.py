"""The sim engine: every flow's step graph on SimPy's scheduler, on the shared pipeline.

Arrivals, transport, the platform (the orchestrators' stage), agency pools and waits are events
on SimPy's clock; what a case does next is decided by the same pure orchestrator the kafka
engine runs, and what is measured goes into the same latency book and tally.

Each case and each request moves by callbacks on timeouts rather than as a SimPy process, and
pools are FIFO servers (`Servers`) rather than SimPy resources: a process costs two scheduler
events more than its timeouts (its start and its end) and a resource one per request and per
release, and nothing in the engine waits on those. The order things happen in is the one the
processes had: a new request's first step runs as soon as the step that emitted it is done, and
a clerk freed by one request is taken up by the next in the queue once the first has finished
its own work at that moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from typing import Any

import simpy
import structlog

from govstream.calendar.agency_hours import describe_outage
from govstream.durations import format_seconds
from govstream.engines.results import build_result, package_versions
from govstream.engines.sim.station import Servers, Station
from govstream.engines.stopped import INTERRUPTED, RunStopped, mark_incomplete
from govstream.pipeline.agencies import AgencyPool, Waits, agency_pools, pool_for, seeded
from govstream.pipeline.book import LatencyBook, scenario_spans
from govstream.pipeline.schedule import Arrival, case_id, schedule, trigger_date, trigger_makers
from govstream.pipeline.series import (
    SeriesBook,
    arrivals_name,
    completions_name,
)
from govstream.pipeline.tally import Tally
from govstream.progress import ProgressCallback
from govstream.result import AgencyLoad, EngineInfo, RunResult
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.events import Emit, Record
from processors.flow import TRIGGER, FlowSpec, Step
from processors.flow import request_id as request_id_of
from processors.orchestrator import CaseState, Orchestrator, Progress, case_marks

log = structlog.get_logger(__name__)

SimProcess = Generator[simpy.Event, Any, None]
Callback = Callable[[Any], None]


class _Case:
    """A case from its trigger's emission until the platform has opened it."""

    __slots__ = ("arrived", "engine", "flow_id", "intended_at", "key", "trigger")

    def __init__(
        self,
        engine: SimEngine,
        flow_id: str,
        key: tuple[str, str],
        intended_at: float,
        trigger: dict[str, Any],
    ) -> None:
        self.engine = engine
        self.flow_id = flow_id
        self.key = key
        self.intended_at = intended_at
        self.trigger = trigger
        self.arrived = 0.0

    def at_platform(self, _: object = None) -> None:
        engine = self.engine
        self.arrived = engine.env.now
        engine.book.hop("trigger-to-orchestrator", self.arrived - self.intended_at)
        if engine.platform.take(self):
            self.platform_slot()

    def platform_slot(self) -> None:
        engine = self.engine
        engine.after(engine._platform_time(engine._platform_rng), self.opened)

    def opened(self, _: object = None) -> None:
        engine = self.engine
        waiting = engine.platform.release()
        now = engine.env.now
        engine.book.hop("at-orchestrator", now - self.arrived)
        engine.arriving.pop(self.key, None)
        progress = engine.orchestrators[self.flow_id].open(
            engine.states.get(self.key), self.trigger, self.intended_at, now
        )
        engine._advance(self.flow_id, self.key, progress)
        if waiting is not None:
            waiting.platform_slot()


class _Request:
    """One request on its way to an agency, in its queue, with a clerk, and its answer back."""

    __slots__ = (
        "delivered_at",
        "done_at",
        "emit",
        "engine",
        "flow",
        "flow_id",
        "opened_at",
        "outcome",
        "pool",
        "request_id",
        "sent_at",
        "started_at",
        "station",
        "step",
        "tally",
        "transport_rng",
        "work",
    )

    def __init__(
        self, engine: SimEngine, flow_id: str, emit: Emit, opened_at: float, pool: AgencyPool
    ) -> None:
        self.engine = engine
        self.flow_id = flow_id
        self.flow = FLOWS[flow_id]
        self.emit = emit
        self.step: Step = engine.step_of(flow_id, str(emit.step))
        self.opened_at = opened_at
        self.pool = pool
        self.station = engine.stations[pool.name]
        self.transport_rng = engine._transport_rngs[pool.name]
        self.request_id = str(emit.value["request_id"])
        self.tally = engine.counts[flow_id]
        self.sent_at = engine.env.now
        self.delivered_at = self.started_at = self.done_at = self.work = 0.0
        self.outcome: Record = {}
        engine.after(engine._transport(self.transport_rng), self.delivered)

    def delivered(self, _: object = None) -> None:
        engine = self.engine
        flow_id, pool, request_id = self.flow_id, self.pool, self.request_id
        delivered_at = self.delivered_at = engine.env.now
        engine.at_pools[request_id] = (flow_id, pool.name, delivered_at, None)
        engine.unanswered_delivered.add(request_id)
        self.tally["requests_delivered"] += 1
        engine.book.delivered(flow_id, self.step.id, self.opened_at, delivered_at)
        engine.book.hop("orchestrator-to-agency", delivered_at - self.sent_at)
        engine.series.begin(request_id, self.station.queue_series, delivered_at)
        if self.station.clerks.take(self):
            self.clerk()

    def clerk(self) -> None:
        """A clerk has taken the request up; the work waits for the office to open."""
        engine = self.engine
        self.station.taken[self.flow_id] += 1
        now = engine.env.now
        opens = self.pool.hours.next_available(now)
        if opens > now:
            engine.after(opens - now, self.work_starts)
        else:
            self.work_starts()

    def work_starts(self, _: object = None) -> None:
        engine = self.engine
        pool, request_id = self.pool, self.request_id
        started_at = self.started_at = engine.env.now
        engine.series.finish(request_id, started_at)
        engine.series.begin(request_id, self.station.busy_series, started_at)
        engine.at_pools[request_id] = (self.flow_id, pool.name, self.delivered_at, started_at)
        self.work = pool.service_time(self.flow_id, self.step.id)
        self.done_at = pool.hours.finish_time(started_at, self.work)
        engine.after(self.done_at - started_at, self.work_done)

    def work_done(self, _: object = None) -> None:
        engine = self.engine
        flow_id, pool, request_id = self.flow_id, self.pool, self.request_id
        started_at, done_at, delivered_at = self.started_at, self.done_at, self.delivered_at
        engine.series.finish(request_id, done_at)
        waiting = self.station.clerks.release()
        del engine.at_pools[request_id]
        self.tally["requests_acted"] += 1
        engine.book.agency_times(
            flow_id,
            pool.name,
            wait=started_at - delivered_at,
            work=self.work,
            elapsed=done_at - started_at,
            sojourn=done_at - delivered_at,
        )
        self.outcome = pool.act(self.flow, self.step, self.emit.value).value
        engine.after(engine._transport(self.transport_rng), self.answered)
        if waiting is not None:
            waiting.clerk()

    def answered(self, _: object = None) -> None:
        engine = self.engine
        engine.book.hop("outcome-return", engine.env.now - self.done_at)
        engine._outcome(self.flow_id, self.emit, self.outcome, self.opened_at, self.delivered_at)


class _Wait:
    """A step that waits outside any agency: a drawn duration, then its outcome."""

    __slots__ = ("emit", "engine", "flow", "flow_id", "opened_at", "step")

    def __init__(self, engine: SimEngine, flow_id: str, emit: Emit, opened_at: float) -> None:
        self.engine = engine
        self.flow_id = flow_id
        self.flow = FLOWS[flow_id]
        self.emit = emit
        self.step = engine.step_of(flow_id, str(emit.step))
        self.opened_at = opened_at
        engine.after(engine.waits.duration(flow_id, self.step.id), self.over)

    def over(self, _: object = None) -> None:
        outcome = self.engine.waits.act(self.flow, self.step, self.emit.value)
        self.engine._outcome(self.flow_id, self.emit, outcome.value, self.opened_at, None)


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
        self.scenario = scenario
        self.scenario_file = scenario_file
        self.overrides = overrides or []
        self.progress = progress
        self.env = simpy.Environment()
        seed = scenario.seed
        self.calendar = scenario_calendar(scenario)
        self.flow_ids = list(scenario.flows)
        # No message leaves the sim engine: requests carry a body only where an answer reads it.
        self.orchestrators = {f: Orchestrator(FLOWS[f], bodies=False) for f in self.flow_ids}
        self.make_trigger = trigger_makers(scenario)
        self.pools = agency_pools(scenario, self.calendar)
        self.stations: dict[str, Station[_Request]] = {
            name: Station(pool) for name, pool in self.pools.items()
        }
        self.waits = Waits(scenario)
        self._transport = scenario.transport.latency.sampler()
        # One stream per hop's sender, so an outage at one agency does not reshuffle the
        # transport times every other agency's requests see.
        senders = {FLOWS[f].source_agency for f in self.flow_ids} | set(self.pools)
        self._transport_rngs = {name: seeded(seed, f"transport:{name}") for name in senders}
        self._platform_time = scenario.platform.service_time.sampler()
        self._platform_rng = seeded(seed, "platform")
        self.platform: Servers[_Case] = Servers(scenario.platform.servers)
        self.states: dict[tuple[str, str], CaseState] = {}
        self.book = LatencyBook(self.calendar, scenario_spans(scenario))
        self.tally = Tally(self.flow_ids)
        self.counts: dict[str, Counter[str]] = {f: self.tally.of(f) for f in self.flow_ids}
        self.cases_open = 0
        """Cases started and not yet complete: the run ends when none is left."""
        self.series = SeriesBook(scenario.duration.clock_seconds() + scenario.drain.clock_seconds())
        self.arrivals_done = False
        self.open_requests: dict[str, _Request | _Wait] = {}
        """Requests emitted whose outcome the orchestrator has not recorded yet."""
        self.arriving: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        """Cases on their way to the platform, not yet opened: their intended time, trigger."""
        self.at_pools: dict[str, tuple[str, str, float, float | None]] = {}
        """Requests delivered and not yet done: flow, pool, delivered at, taken up at."""
        self.unanswered_delivered: set[str] = set()
        """Requests delivered whose outcome the orchestrator has not seen yet."""
        self.all_done = self.env.event()
        self._schedule = schedule(scenario)
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
        self.counts[arrival.flow]["cases_started"] += 1
        self.cases_open += 1
        self.series.count(arrivals_name(arrival.flow), arrival.at)
        self._case(arrival.flow, arrival.number, arrival.at)
        self._next_arrival()

    def _case(self, flow_id: str, number: int, intended_at: float) -> None:
        flow: FlowSpec = FLOWS[flow_id]
        trigger = self.make_trigger[flow_id](
            case_id(flow_id, number), trigger_date(self.scenario, intended_at)
        )
        for rule in flow.rules:
            self.tally.rule(flow_id, rule.id, rule.check(trigger))
        key = (flow_id, str(trigger["case_id"]))
        self.arriving[key] = (intended_at, trigger)
        case = _Case(self, flow_id, key, intended_at, trigger)
        self.after(self._transport(self._transport_rngs[flow.source_agency]), case.at_platform)

    def _advance(self, flow_id: str, key: tuple[str, str], progress: Progress) -> None:
        if progress.duplicate:
            self.tally.add(flow_id, "duplicates")
            return
        if progress.unexpected:
            self.tally.add(flow_id, "unexpected")
            return
        counts = self.counts[flow_id]
        counts["steps_skipped"] += len(progress.skipped)
        opened_at = float(progress.state["opened_at"])
        for emit in progress.emits:
            counts["requests_emitted"] += 1
            request_id = str(emit.value["request_id"])
            if emit.recipient is None:
                self.open_requests[request_id] = _Wait(self, flow_id, emit, opened_at)
            else:
                pool = self._pool_for(flow_id, str(emit.recipient))
                self.open_requests[request_id] = _Request(self, flow_id, emit, opened_at, pool)
        completion = progress.completion
        if completion is None:
            self.states[key] = progress.state
            return
        self.states.pop(key, None)
        counts["cases_completed"] += 1
        self.cases_open -= 1
        self.series.count(completions_name(flow_id), self.env.now)
        if completion.rejected:
            counts["cases_rejected"] += 1
        self.book.completed(flow_id, completion)
        self._check_done()

    def _outcome(
        self,
        flow_id: str,
        emit: Emit,
        outcome: Record,
        opened_at: float,
        delivered_at: float | None,
    ) -> None:
        now = self.env.now
        self.counts[flow_id]["outcomes_recorded"] += 1
        del self.open_requests[str(emit.value["request_id"])]
        self.unanswered_delivered.discard(str(emit.value["request_id"]))
        self.book.acted(flow_id, str(emit.step), opened_at, now)
        key = (flow_id, emit.key)
        progress = self.orchestrators[flow_id].record(
            self.states.get(key), outcome, now, delivered_at
        )
        self._advance(flow_id, key, progress)

    def _check_done(self) -> None:
        if self.arrivals_done and self.cases_open == 0 and not self.all_done.triggered:
            self.all_done.succeed()

    def _ticker(self, horizon: float) -> SimProcess:
        assert self.progress is not None
        step = horizon / 200
        while True:
            self.progress(min(self.env.now / horizon, 1.0))
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
            self.series.close_open(self.env.now)
            partial = mark_incomplete(
                self._result(), f"{INTERRUPTED} at business time {format_seconds(self.env.now)}"
            )
            raise RunStopped(INTERRUPTED, partial, interrupted=True) from None
        if self.progress is not None:
            self.progress(1.0)
        self.series.close_open(self.env.now)
        log.info(
            "sim run finished",
            flows=self.flow_ids,
            scenario=scenario.name,
            cases=self.tally.total("cases_started"),
            completed=self.tally.total("cases_completed"),
            business_seconds=self.env.now,
        )
        return self._result()

    def _censor(self) -> None:
        """Whatever is still open counts at its age: cases, the steps they wait on, the spans
        they began, and the requests queued or in work at the pools."""
        now = self.env.now
        for (flow_id, _), state in self.states.items():
            flow = FLOWS[flow_id]
            trigger, done = state["trigger"], state["done"]
            pending = [s for s in flow.steps if s.id not in done and s.applies(trigger)]
            case = str(state["case_id"])
            undelivered = [
                s.id
                for s in pending
                if not s.is_wait and request_id_of(case, s.id) not in self.unanswered_delivered
            ]
            self.book.open_case(
                flow_id,
                float(state["opened_at"]),
                case_marks(state),
                [s.id for s in pending],
                undelivered,
                now,
            )
        for (flow_id, _), (intended_at, trigger) in self.arriving.items():
            pending = [s for s in FLOWS[flow_id].steps if s.applies(trigger)]
            self.book.open_case(
                flow_id,
                intended_at,
                {TRIGGER: intended_at},
                [s.id for s in pending],
                [s.id for s in pending if not s.is_wait],
                now,
            )
        for flow_id, pool, delivered_at, started_at in self.at_pools.values():
            self.book.agency_open(
                flow_id, pool, delivered_at=delivered_at, started_at=started_at, now=now
            )

    def _result(self) -> RunResult:
        self._censor()
        # A request is answered (its outcome recorded) or still somewhere on the wire, in a
        # queue or with a clerk. A request the books cannot place was lost.
        in_flight: dict[str, int] = dict.fromkeys(self.flow_ids, 0)
        for open_request in self.open_requests.values():
            in_flight[open_request.flow_id] += 1

        def lost(flow_id: str) -> int:
            t = self.tally
            return (
                t.get(flow_id, "requests_emitted")
                - t.get(flow_id, "outcomes_recorded")
                - in_flight[flow_id]
            )

        flow_counts = {
            f: self.tally.counts(f, in_flight=in_flight[f], lost=lost(f)) for f in self.flow_ids
        }
        counts = self.tally.counts(
            None,
            in_flight=sum(in_flight.values()),
            lost=sum(lost(f) for f in self.flow_ids),
        )
        agencies = {
            name: AgencyLoad(
                agency=station.pool.agency,
                servers=station.pool.servers,
                max_queue=station.max_queue,
                queue_at_end=station.queue_length(),
                outages=[describe_outage(o) for o in station.pool.spec.outages],
                requests={f: station.taken[f] for f in station.pool.flows},
            )
            for name, station in self.stations.items()
        }
        return build_result(
            scenario=self.scenario,
            scenario_file=self.scenario_file,
            overrides=self.overrides,
            engine=EngineInfo(name="sim", versions=package_versions("simpy")),
            business_seconds=self.env.now,
            counts=counts,
            flow_counts=flow_counts,
            tally=self.tally,
            book=self.book,
            agencies=agencies,
            series=self.series,
        )
