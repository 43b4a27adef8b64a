"""How much work a scenario asks for, known before it runs.

A rate of 1,000,000/s over 250 days is a valid number and an impossible run: without an
estimate it would simply never end. The expected event count comes from the arrival rates and
each flow's steps alone, so it costs nothing, and a run far beyond what a study needs is refused
unless the user confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass

from govstream.scenario.model import Arrivals, Scenario, signal_stream
from processors import FLOWS

LARGE_EVENTS = 10_000_000
"""Events a run may have without `--allow-large`: over twice the district's year on all 21
flows (about 4.5 million by this upper bound, which counts every step of every case; a minute
or two on the sim engine)."""


@dataclass(frozen=True, slots=True)
class Estimate:
    cases: float
    """Expected triggers over the scenario's duration, every flow together."""
    events: float
    """Expected messages: each case's trigger and completion, and a request and an answer
    for every step of its flow (an upper bound: conditional steps may not apply)."""

    @property
    def large(self) -> bool:
        return self.events > LARGE_EVENTS


def estimate(scenario: Scenario) -> Estimate:
    cases = events = 0.0
    for flow_id, settings in scenario.flows.items():
        # A scoring flow's signals are a message each; its cases, the crossings, are not known
        # before it runs, and are far fewer than its signals.
        for kind, signal in settings.signals.items():
            events += _expected(scenario, signal.arrivals, signal_stream(flow_id, kind))
        arrivals = settings.arrivals
        if arrivals is None:  # fed by another flow's hand-overs, whose cases count already
            continue
        expected = _expected(scenario, arrivals, flow_id)
        cases += expected
        events += expected * (2 + 2 * len(FLOWS[flow_id].steps))
    return Estimate(cases=cases, events=events)


def _expected(scenario: Scenario, arrivals: Arrivals, stream: str) -> float:
    """Arrivals a stream (a flow's, or one source of a scoring flow's signals) is expected to
    bring over the scenario's duration."""
    window = scenario.duration.clock_seconds()
    if arrivals.process == "replay":
        expected = float(len(scenario.replay_times(stream)))
    else:
        # Office-hour arrivals bring a day's rate in each working day: at most the same;
        # a profile moves arrivals within the week, keeping the rate its average.
        expected = arrivals.base_rate * window
    for burst in arrivals.bursts:
        start = burst.start.clock_seconds()
        length = min(burst.duration.clock_seconds(), max(0.0, window - start))
        expected += burst.rate * length
    return expected


def describe(found: Estimate) -> str:
    return f"about {found.cases:,.0f} cases, {found.events:,.0f} events"


def refusal(found: Estimate) -> str:
    """What to tell a user whose scenario is too large to run unconfirmed."""
    return (
        f"the scenario asks for {describe(found)}, more than the {LARGE_EVENTS:,} a run takes "
        "without confirmation (arrivals.rate × duration, and bursts): lower the rates or "
        "shorten 'duration', or pass --allow-large to run it anyway"
    )
