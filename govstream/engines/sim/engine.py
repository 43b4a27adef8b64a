"""The sim engine: arrivals, transport, fan-out, agency stations and case tracking in SimPy.

Every random stream is seeded from the scenario seed and the stream's name, so adding a burst
or an agency does not shift the draws of the others, and the same seed gives the same run.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import simpy
import structlog

from govstream.agency_hours import describe_outage
from govstream.arrivals import arrival_times
from govstream.calendar import OfficeHours, WorkingCalendar
from govstream.engines.results import build_result, package_versions
from govstream.engines.sim.station import Station
from govstream.metrics import RecorderSet
from govstream.progress import ProgressCallback
from govstream.result import AgencyLoad, Counts, EngineInfo, RunResult
from govstream.scenario.model import Scenario
from processors import flow as flow_by_id
from processors.agency import outcome_for
from processors.case_tracker import CaseCompletion, CaseState, CaseTracker, TrackResult
from processors.events import Emit
from processors.fanout import FanOut
from producers import SOURCES

log = structlog.get_logger(__name__)

SimProcess = Generator[simpy.Event, Any, None]


def stream(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}:{name}")


def scenario_calendar(scenario: Scenario) -> WorkingCalendar:
    return WorkingCalendar(
        start=scenario.start,
        office_hours=OfficeHours.from_strings(scenario.calendar.office_hours),
        holidays=scenario.calendar.holidays,
    )


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
        self.flow = flow_by_id(scenario.flow)
        self.env = simpy.Environment()
        seed = scenario.seed
        self.reference_calendar = scenario_calendar(scenario)
        self.make_trigger = SOURCES[self.flow.id].generator(
            stream(seed, "population"), scenario.population
        )
        self.fanout = FanOut(self.flow)
        self.tracker = CaseTracker(self.flow)
        self._transport = scenario.transport.latency.sampler()
        # One stream per hop's sender, so an outage at one agency does not reshuffle the
        # transport times every other agency's requests see.
        self._transport_rngs = {
            name: stream(seed, f"transport:{name}")
            for name in (self.flow.source_agency, *self.flow.recipients)
        }
        self._platform_time = scenario.platform.service_time.sampler()
        self._platform_rng = stream(seed, "platform")
        self.platform = simpy.Resource(self.env, capacity=scenario.platform.servers)
        self.stations = {
            name: Station(
                self.env,
                name,
                spec,
                self.reference_calendar if spec.calendar == "office" else None,
                stream(seed, f"agency:{name}"),
            )
            for name, spec in scenario.agencies.items()
        }
        self.states: dict[str, CaseState] = {}
        self.latency = RecorderSet()
        self.working_days = RecorderSet()
        self.arrivals_done = False
        self.cases_started = 0
        self.cases_completed = 0
        self.cases_rejected = 0
        self.requests_emitted = 0
        self.requests_delivered = 0
        self.requests_acted = 0
        self.outcomes_recorded = 0
        self.duplicates = 0
        self.unexpected = 0
        self.open_requests: dict[str, simpy.Process] = {}
        self.all_done = self.env.event()

    # -- processes -------------------------------------------------------------------------

    def _arrivals(self) -> SimProcess:
        window = self.scenario.duration.clock_seconds()
        for intended_at in arrival_times(self.scenario.arrivals, window, self.scenario.seed):
            yield self.env.timeout(intended_at - self.env.now)
            self.cases_started += 1
            self.env.process(self._case(self.cases_started, intended_at))
        self.arrivals_done = True
        self._check_done()

    def _case(self, number: int, intended_at: float) -> SimProcess:
        case_id = f"{self.flow.id}-{number:07d}"
        on = (self.scenario.start + timedelta(seconds=intended_at)).date()
        trigger = self.make_trigger(case_id, on)
        yield self.env.timeout(self._transport(self._transport_rngs[self.flow.source_agency]))
        arrived = self.env.now
        self.latency["hop:trigger-to-fanout"].record(arrived - intended_at)
        with self.platform.request() as slot:
            yield slot
            yield self.env.timeout(self._platform_time(self._platform_rng))
        emits = self.fanout.process(trigger)
        fanned_at = self.env.now
        self.latency["hop:at-fanout"].record(fanned_at - arrived)
        expected = [emit.recipient for emit in emits if emit.recipient]
        self._track(
            case_id, self.tracker.open(self.states.get(case_id), case_id, expected, intended_at)
        )
        for emit in emits:
            self.requests_emitted += 1
            request_id = str(emit.value["request_id"])
            self.open_requests[request_id] = self.env.process(
                self._request(emit, intended_at, fanned_at)
            )

    def _request(self, emit: Emit, intended_at: float, sent_at: float) -> SimProcess:
        env = self.env
        recipient = str(emit.recipient)
        station = self.stations[recipient]
        transport_rng = self._transport_rngs[recipient]
        yield env.timeout(self._transport(transport_rng))
        delivered_at = env.now
        self.requests_delivered += 1
        self.latency[f"delivered:{recipient}"].record(delivered_at - intended_at)
        self.latency["hop:fanout-to-recipient"].record(delivered_at - sent_at)
        with station.resource.request() as clerk:
            station.note_queue()
            yield clerk
            opens = station.hours.next_available(env.now)
            if opens > env.now:
                yield env.timeout(opens - env.now)
            started_at = env.now
            done_at = station.hours.finish_time(started_at, station.service_time())
            yield env.timeout(done_at - started_at)
        self.requests_acted += 1
        self.latency[f"wait:{recipient}"].record(started_at - delivered_at)
        self.latency[f"service:{recipient}"].record(done_at - started_at)
        self.latency[f"sojourn:{recipient}"].record(done_at - delivered_at)
        reason = "request rejected by the recipient" if station.rejects() else None
        outcome = outcome_for(self.flow, recipient, emit.value, rejected_reason=reason)
        yield env.timeout(self._transport(transport_rng))
        seen_at = env.now
        self.outcomes_recorded += 1
        del self.open_requests[str(emit.value["request_id"])]
        self.latency["hop:outcome-return"].record(seen_at - done_at)
        self.latency[f"acted:{recipient}"].record(seen_at - intended_at)
        self.working_days[f"acted:{recipient}"].record(
            self.reference_calendar.working_days_between(intended_at, seen_at)
        )
        state = self.states.get(emit.key)
        self._track(emit.key, self.tracker.record(state, outcome.value, seen_at))

    def _track(self, case_id: str, result: TrackResult) -> None:
        if result.duplicate:
            self.duplicates += 1
            return
        if result.unexpected:
            self.unexpected += 1
        if result.completion is None:
            self.states[case_id] = result.state
            return
        self.states.pop(case_id, None)
        self._complete(result.completion)

    def _complete(self, completion: CaseCompletion) -> None:
        self.cases_completed += 1
        if completion.rejected:
            self.cases_rejected += 1
        self.latency["case"].record(completion.latency)
        self.working_days["case"].record(
            self.reference_calendar.working_days_between(
                completion.opened_at, completion.completed_at
            )
        )
        self._check_done()

    def _check_done(self) -> None:
        if (
            self.arrivals_done
            and self.cases_completed == self.cases_started
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
        self.env.run(until=self.env.any_of([self.all_done, self.env.timeout(horizon)]))
        if self.progress is not None:
            self.progress(1.0)
        log.info(
            "sim run finished",
            flow=self.flow.id,
            scenario=scenario.name,
            cases=self.cases_started,
            completed=self.cases_completed,
            business_seconds=self.env.now,
        )
        return self._result()

    def _result(self) -> RunResult:
        # A request is answered (its outcome recorded) or its process is still alive somewhere
        # on the wire, in a queue or with a clerk. A process that ended without an answer, or a
        # request the books cannot place, was lost.
        alive = sum(1 for process in self.open_requests.values() if process.is_alive)
        ended_unanswered = len(self.open_requests) - alive
        unplaced = self.requests_emitted - self.outcomes_recorded - len(self.open_requests)
        counts = Counts(
            cases_started=self.cases_started,
            cases_completed=self.cases_completed,
            cases_open=self.cases_started - self.cases_completed,
            cases_rejected=self.cases_rejected,
            requests_emitted=self.requests_emitted,
            requests_delivered=self.requests_delivered,
            requests_acted=self.requests_acted,
            requests_in_flight=alive,
            outcomes_recorded=self.outcomes_recorded,
            lost=ended_unanswered + unplaced,
            duplicates=self.duplicates,
            unexpected=self.unexpected,
        )
        agencies = {
            name: AgencyLoad(
                servers=station.spec.servers,
                max_queue=station.max_queue,
                queue_at_end=station.queue_length(),
                outages=[describe_outage(o) for o in station.spec.outages],
            )
            for name, station in self.stations.items()
        }
        return build_result(
            scenario=self.scenario,
            scenario_file=self.scenario_file,
            overrides=self.overrides,
            flow=self.flow,
            engine=EngineInfo(name="sim", versions=package_versions("simpy")),
            business_seconds=self.env.now,
            counts=counts,
            latency=self.latency,
            working_days=self.working_days,
            agencies=agencies,
        )
