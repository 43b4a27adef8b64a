"""Every flow's arrivals merged in time order, and the triggers they carry.

Both engines draw from this one schedule, so a scenario means the same load on either: the sim
engine waits in virtual time, the kafka generator in wall time.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from govstream.arrivals import arrival_times
from govstream.pipeline.agencies import seeded
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.model import Arrivals, Scenario, signal_stream
from processors import FLOWS

SIGNAL = "signal"
"""The kind of a scoring flow's signal among the arrivals (`Arrival.kind`)."""


class Arrival(NamedTuple):
    at: float
    """Intended emit time, business seconds since the scenario's start."""
    flow: str
    number: int
    kind: str = ""
    """Empty for a case's trigger; for an event beside the cases, what it is: a scoring flow's
    signal (`signal:complaint`), a subscriber's check (`check:bank`) or a counted event
    (`tally:credit-code-adopters`; see `publication.py`)."""

    @property
    def signal(self) -> str:
        """For a scoring flow's signal, its kind; empty for anything else."""
        what, _, name = self.kind.partition(":")
        return name if what == SIGNAL else ""


def case_id(flow_id: str, number: int, run: str = "") -> str:
    return f"{flow_id}-{run + '-' if run else ''}{number:07d}"


def schedule(scenario: Scenario) -> Iterator[Arrival]:
    window = scenario.duration.clock_seconds()
    calendar = scenario_calendar(scenario)

    def numbered(flow_id: str) -> Iterator[Arrival]:
        arrivals = scenario.flows[flow_id].arrivals
        assert arrivals is not None
        # A flow's own seed stream, so adding a flow does not move another flow's arrivals;
        # a scenario of one flow keeps the stream it always had.
        seed = scenario.seed if len(scenario.flows) == 1 else f"{scenario.seed}:{flow_id}"
        times = arrival_times(arrivals, window, seed, calendar, scenario.replay_times(flow_id))
        for number, at in enumerate(times, start=1):
            yield Arrival(at, flow_id, number)

    def signals(flow_id: str, kind: str) -> Iterator[Arrival]:
        stream = signal_stream(flow_id, kind)
        arrivals = scenario.flows[flow_id].signals[kind].arrivals
        seed = f"{scenario.seed}:{stream}"
        times = arrival_times(arrivals, window, seed, calendar, scenario.replay_times(stream))
        for number, at in enumerate(times, start=1):
            yield Arrival(at, flow_id, number, f"{SIGNAL}:{kind}")

    def beside(flow_id: str, kind: str, arrivals: Arrivals) -> Iterator[Arrival]:
        seed = f"{scenario.seed}:{flow_id}:{kind}"
        for number, at in enumerate(arrival_times(arrivals, window, seed, calendar), start=1):
            yield Arrival(at, flow_id, number, kind)

    own = [flow_id for flow_id, settings in scenario.flows.items() if settings.arrivals]
    streams = [numbered(flow_id) for flow_id in own]
    for flow_id in scenario.scoring_flows():
        streams += [signals(flow_id, kind) for kind in scenario.flows[flow_id].signals]
    streams += [
        beside(flow_id, f"{kind}:{name}", arrivals)
        for flow_id, settings in scenario.flows.items()
        for kind, by_name in (("check", settings.checks), ("tally", settings.tallies))
        for name, arrivals in by_name.items()
    ]
    return heapq.merge(*streams)


TriggerMaker = Callable[[str, date], dict[str, Any]]
SignalMaker = Callable[[str, datetime], dict[str, Any]]


def trigger_generators(scenario: Scenario, salt: str = "population") -> dict[str, Any]:
    """Each flow's trigger generator, whose `generate(case_id, on)` makes a trigger; the
    events drawn beside the cases read their entities (`publication.SideEvents`)."""
    return {
        flow_id: FLOWS[flow_id].source.make(
            seeded(scenario.seed, f"{salt}:{flow_id}"), settings.population
        )
        for flow_id, settings in scenario.flows.items()
    }


def trigger_makers(scenario: Scenario, salt: str = "population") -> dict[str, TriggerMaker]:
    return {flow_id: made.generate for flow_id, made in trigger_generators(scenario, salt).items()}


def trigger_date(scenario: Scenario, at: float) -> date:
    return (scenario.start + timedelta(seconds=at)).date()


def signal_makers(
    scenario: Scenario, salt: str = "population"
) -> dict[tuple[str, str], SignalMaker]:
    """Each scoring flow's sources, by (flow, kind): draws about one population of entities
    per flow, so that signals from different agencies meet on the same entities."""
    makers: dict[tuple[str, str], SignalMaker] = {}
    for flow_id in scenario.scoring_flows():
        flow, settings = FLOWS[flow_id], scenario.flows[flow_id]
        scoring = flow.scoring
        assert scoring is not None
        mix = flow.source.mix(settings.population)
        entities = scoring.population(seeded(scenario.seed, f"{salt}:{flow_id}:entities"), mix)
        for kind in settings.signals:
            rng = seeded(scenario.seed, f"{salt}:{signal_stream(flow_id, kind)}")
            makers[flow_id, kind] = scoring.signal(kind).build(rng, mix, entities)
    return makers


def signal_moment(scenario: Scenario, at: float) -> datetime:
    """The business moment of `at`, in the scenario's time zone: when a signal is reported."""
    return scenario.start + timedelta(seconds=at)


def signal_time(scenario: Scenario, at: float) -> float:
    """Where a signal at business second `at` falls on the scores' clock: Unix seconds of the
    business moment, on both engines alike, so that their windows start at the same moments
    (faust's ranges count from the Unix epoch) and a score crosses at the same signal."""
    return scenario.start.timestamp() + at
