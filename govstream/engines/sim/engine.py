"""The sim engine: every flow's step graph through SimPy, on the shared pipeline.

Arrivals, transport, the platform (the orchestrators' stage), agency pools and waits are SimPy
processes and resources; what a case does next is decided by the same pure orchestrator the
kafka engine runs, and what is measured goes into the same latency book and tally.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
import structlog

from govstream.agency_hours import describe_outage
from govstream.calendar import scenario_calendar
from govstream.durations import format_seconds
from govstream.engines.results import build_result, package_versions
from govstream.engines.sim.station import Station
from govstream.engines.stopped import INTERRUPTED, RunStopped, mark_incomplete
from govstream.pipeline.agencies import Waits, agency_pools, pool_for, seeded
from govstream.pipeline.book import LatencyBook, scenario_spans
from govstream.pipeline.schedule import case_id, schedule, trigger_date, trigger_makers
from govstream.pipeline.series import (
    SeriesBook,
    arrivals_name,
    busy_name,
    completions_name,
    queue_name,
)
from govstream.pipeline.tally import Tally
from govstream.progress import ProgressCallback
from govstream.result import AgencyLoad, EngineInfo, RunResult
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.events import Emit
from processors.flow import TRIGGER
from processors.flow import request_id as request_id_of
from processors.orchestrator import CaseState, Orchestrator, Progress, case_marks

log = structlog.get_logger(__name__)

SimProcess = Generator[simpy.Event, Any, None]


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
        self.orchestrators = {f: Orchestrator(FLOWS[f]) for f in self.flow_ids}
        self.make_trigger = trigger_makers(scenario)
        self.pools = agency_pools(scenario, self.calendar)
        self.stations = {name: Station(self.env, pool) for name, pool in self.pools.items()}
        self.waits = Waits(scenario)
        self._transport = scenario.transport.latency.sampler()
        # One stream per hop's sender, so an outage at one agency does not reshuffle the
        # transport times every other agency's requests see.
        senders = {FLOWS[f].source_agency for f in self.flow_ids} | set(self.pools)
        self._transport_rngs = {name: seeded(seed, f"transport:{name}") for name in senders}
        self._platform_time = scenario.platform.service_time.sampler()
        self._platform_rng = seeded(seed, "platform")
        self.platform = simpy.Resource(self.env, capacity=scenario.platform.servers)
        self.states: dict[tuple[str, str], CaseState] = {}
        self.book = LatencyBook(self.calendar, scenario_spans(scenario))
        self.tally = Tally(self.flow_ids)
        self.series = SeriesBook(scenario.duration.clock_seconds() + scenario.drain.clock_seconds())
        self.arrivals_done = False
        self.open_requests: dict[str, simpy.Process] = {}
        self.arriving: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        """Cases on their way to the platform, not yet opened: their intended time, trigger."""
        self.at_pools: dict[str, tuple[str, str, float, float | None]] = {}
        """Requests delivered and not yet done: flow, pool, delivered at, taken up at."""
        self.unanswered_delivered: set[str] = set()
        """Requests delivered whose outcome the orchestrator has not seen yet."""
        self.all_done = self.env.event()

    # -- processes -------------------------------------------------------------------------

    def _arrivals(self) -> SimProcess:
        for arrival in schedule(self.scenario):
            yield self.env.timeout(arrival.at - self.env.now)
            self.tally.add(arrival.flow, "cases_started")
            self.series.count(arrivals_name(arrival.flow), arrival.at)
            self.env.process(self._case(arrival.flow, arrival.number, arrival.at))
        self.arrivals_done = True
        self._check_done()

    def _case(self, flow_id: str, number: int, intended_at: float) -> SimProcess:
        flow = FLOWS[flow_id]
        trigger = self.make_trigger[flow_id](
            case_id(flow_id, number), trigger_date(self.scenario, intended_at)
        )
        for rule in flow.rules:
            self.tally.rule(flow_id, rule.id, rule.check(trigger))
        key = (flow_id, str(trigger["case_id"]))
        self.arriving[key] = (intended_at, trigger)
        yield self.env.timeout(self._transport(self._transport_rngs[flow.source_agency]))
        arrived = self.env.now
        self.book.hop("trigger-to-orchestrator", arrived - intended_at)
        with self.platform.request() as slot:
            yield slot
            yield self.env.timeout(self._platform_time(self._platform_rng))
        self.book.hop("at-orchestrator", self.env.now - arrived)
        self.arriving.pop(key, None)
        progress = self.orchestrators[flow_id].open(
            self.states.get(key), trigger, intended_at, self.env.now
        )
        self._advance(flow_id, key, progress)

    def _advance(self, flow_id: str, key: tuple[str, str], progress: Progress) -> None:
        if progress.duplicate:
            self.tally.add(flow_id, "duplicates")
            return
        if progress.unexpected:
            self.tally.add(flow_id, "unexpected")
            return
        self.tally.add(flow_id, "steps_skipped", len(progress.skipped))
        opened_at = float(progress.state["opened_at"])
        for emit in progress.emits:
            self.tally.add(flow_id, "requests_emitted")
            process = self._wait(flow_id, emit, opened_at)
            if emit.recipient is not None:
                process = self._request(flow_id, emit, opened_at)
            self.open_requests[str(emit.value["request_id"])] = self.env.process(process)
        completion = progress.completion
        if completion is None:
            self.states[key] = progress.state
            return
        self.states.pop(key, None)
        self.tally.add(flow_id, "cases_completed")
        self.series.count(completions_name(flow_id), self.env.now)
        if completion.rejected:
            self.tally.add(flow_id, "cases_rejected")
        self.book.completed(flow_id, completion)
        self._check_done()

    def _request(self, flow_id: str, emit: Emit, opened_at: float) -> SimProcess:
        env = self.env
        flow = FLOWS[flow_id]
        step = flow.step(str(emit.step))
        pool = pool_for(self.pools, self.scenario, flow_id, str(emit.recipient))
        station = self.stations[pool.name]
        transport_rng = self._transport_rngs[pool.name]
        sent_at = env.now
        yield env.timeout(self._transport(transport_rng))
        delivered_at = env.now
        request_id = str(emit.value["request_id"])
        self.at_pools[request_id] = (flow_id, pool.name, delivered_at, None)
        self.unanswered_delivered.add(request_id)
        self.tally.add(flow_id, "requests_delivered")
        self.book.delivered(flow_id, step.id, opened_at, delivered_at)
        self.book.hop("orchestrator-to-agency", delivered_at - sent_at)
        request_id = str(emit.value["request_id"])
        self.series.begin(request_id, queue_name(pool.name), delivered_at)
        with station.resource.request() as clerk:
            station.note_queue()
            yield clerk
            station.taken[flow_id] += 1
            opens = pool.hours.next_available(env.now)
            if opens > env.now:
                yield env.timeout(opens - env.now)
            started_at = env.now
            self.series.finish(request_id, started_at)
            self.series.begin(request_id, busy_name(pool.name), started_at)
            self.at_pools[request_id] = (flow_id, pool.name, delivered_at, started_at)
            work = pool.service_time(flow_id, step.id)
            done_at = pool.hours.finish_time(started_at, work)
            yield env.timeout(done_at - started_at)
            self.series.finish(request_id, done_at)
        del self.at_pools[request_id]
        self.tally.add(flow_id, "requests_acted")
        self.book.agency_times(
            flow_id,
            pool.name,
            wait=started_at - delivered_at,
            work=work,
            elapsed=done_at - started_at,
            sojourn=done_at - delivered_at,
        )
        outcome = pool.act(flow, step, emit.value)
        yield env.timeout(self._transport(transport_rng))
        self.book.hop("outcome-return", env.now - done_at)
        self._outcome(flow_id, emit, outcome.value, opened_at, delivered_at)

    def _wait(self, flow_id: str, emit: Emit, opened_at: float) -> SimProcess:
        flow = FLOWS[flow_id]
        step = flow.step(str(emit.step))
        yield self.env.timeout(self.waits.duration(flow_id, step.id))
        outcome = self.waits.act(flow, step, emit.value)
        self._outcome(flow_id, emit, outcome.value, opened_at, None)

    def _outcome(
        self,
        flow_id: str,
        emit: Emit,
        outcome: dict[str, Any],
        opened_at: float,
        delivered_at: float | None,
    ) -> None:
        now = self.env.now
        self.tally.add(flow_id, "outcomes_recorded")
        del self.open_requests[str(emit.value["request_id"])]
        self.unanswered_delivered.discard(str(emit.value["request_id"]))
        self.book.acted(flow_id, str(emit.step), opened_at, now)
        key = (flow_id, emit.key)
        progress = self.orchestrators[flow_id].record(
            self.states.get(key), outcome, now, delivered_at
        )
        self._advance(flow_id, key, progress)

    def _check_done(self) -> None:
        if (
            self.arrivals_done
            and self.tally.total("cases_completed") == self.tally.total("cases_started")
            and not self.all_done.triggered
        ):
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
        self.env.process(self._arrivals())
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
        # A request is answered (its outcome recorded) or its process is still alive somewhere
        # on the wire, in a queue or with a clerk. A process that ended without an answer, or a
        # request the books cannot place, was lost.
        in_flight: dict[str, int] = dict.fromkeys(self.flow_ids, 0)
        ended: dict[str, int] = dict.fromkeys(self.flow_ids, 0)
        for request_id, process in self.open_requests.items():
            flow_id = request_id.split("-", 1)[0]
            (in_flight if process.is_alive else ended)[flow_id] += 1

        def lost(flow_id: str) -> int:
            t = self.tally
            open_count = in_flight[flow_id] + ended[flow_id]
            unplaced = (
                t.get(flow_id, "requests_emitted")
                - t.get(flow_id, "outcomes_recorded")
                - open_count
            )
            return ended[flow_id] + unplaced

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
