"""Property: whatever `validate` accepts, `run` runs to its end, without a traceback or a hang.

Hypothesis mutates the shipped scenarios: it picks fields anywhere in a scenario (a rate, a
probability, office hours, a distribution, a date, a name, a whole block) and puts odd values
there or removes them. Each mutant either is refused as bad input, or is refused as too large
(its event estimate over the confirmation limit), or runs on the sim engine to its end. A run
is bounded by its event estimate (examples over a small budget are only validated, so each
run is short) and by a timeout, so a hang fails the example instead of stalling the suite.
`GOVSTREAM_MUTANTS=1000` tries more mutants than the suite's 200.
"""

from __future__ import annotations

import copy
import math
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from govstream.engines.sim.engine import SimEngine
from govstream.scenario.estimate import estimate
from govstream.scenario.loader import ScenarioError, parse_scenario
from govstream.scenario.model import Arrivals, Scenario

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {
    path.stem: yaml.safe_load(path.read_text("utf-8")) for path in ROOT.glob("scenarios/*.yaml")
}

EVENT_BUDGET = 10_000
"""Mutants expected to make more events than this are validated but not run: a few seconds
of simulation at most, so a hundred examples stay within a couple of minutes."""
RUN_TIMEOUT_SECONDS = 60
"""Far above what EVENT_BUDGET events take (under a second when idle): only a hang reaches it."""

ODD_VALUES: list[Any] = [
    0,
    -1,
    1,
    2,
    0.5,
    1e9,
    math.nan,
    math.inf,
    -math.inf,
    True,
    None,
    "",
    "x",
    [],
    {},
    [0, 0],
    [1, 2],
    [-1, 3],
    [math.inf, 1],
    "0/d",
    "1/s",
    "1000000/s",
    "40/d",
    "0s",
    "1ms",
    "2h",
    "1000d",
    "5wd",
    "25:00-26:00",
    "12:00-09:00",
    ["09:00-09:01"],
    ["25:00-26:00"],
    ["09:00-12:00", "11:00-13:00"],
    "2035-01-01T09:00:00+08:00",
    "2003-01-01T09:00:00+08:00",
    "2021-12-31T23:59:00+08:00",
    "../x",
    "a/b",
    "x" * 300,
    "always",
    "office",
    "bursts",
    "constant",
    "poisson",
    {"dist": "constant", "value": 0},
    {"dist": "constant", "value": "1000d"},
    {"dist": "exponential", "mean": "1ms"},
    {"dist": "lognormal", "median": "1min", "p95": "300d"},
    {"dist": "empirical", "values": []},
    {"dist": "uniform", "low": "2h", "high": "1h"},
    [{"start": "1d", "duration": "1d", "rate": "100/d"}],
    [{"start": 0, "end": "1000d"}],
]
"""Values that broke runs once, or could: zeros, signs, NaN and infinities, lists where a
number belongs, rates from nothing to absurd, impossible hours, dates past the holiday data."""


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in the scenario a value sits, blocks included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from paths(value, (*prefix, index))


def mutate(data: Any, path: tuple[Any, ...], value: Any, remove: bool) -> None:
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if remove and isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = copy.deepcopy(value)  # later mutations must not edit ODD_VALUES


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


ODD_BY_KIND = {
    kind: [value for value in ODD_VALUES if _kind(value) == kind]
    for kind in {_kind(value) for value in ODD_VALUES}
}


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """Most mutations put an odd value of the same kind where one was (a number for a number,
    a list for a list), as a person editing a scenario would; some put anything anywhere, or
    remove the field."""
    name = draw(st.sampled_from(sorted(SHIPPED)))
    data = yaml.safe_load(yaml.safe_dump(SHIPPED[name]))
    data["duration"] = "2d"  # short to begin with; a mutation may lengthen it again
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(list(paths(data))))
        current = data
        for part in path:
            current = current[part]
        alike = ODD_BY_KIND.get(_kind(current), ODD_VALUES)
        value = draw(
            st.sampled_from(alike) if draw(st.integers(0, 3)) else st.sampled_from(ODD_VALUES)
        )
        mutate(data, path, value, remove=draw(st.integers(0, 9)) == 0)
    return name, data


class Hang(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise Hang(f"the run took more than {RUN_TIMEOUT_SECONDS} s")


@settings(
    max_examples=int(os.environ.get("GOVSTREAM_MUTANTS", "200")),
    deadline=None,
    derandomize=True,
    # No "explain" phase: it traces every line, which slows a run tenfold and makes the
    # timeout that catches hangs catch slow runs instead.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants())
def test_validate_implies_a_run_that_ends(mutant: tuple[str, dict[str, Any]]) -> None:
    name, data = mutant
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        scenario = parse_scenario(text, f"{name} (mutated)")
    except ScenarioError:
        event("refused as bad input")
        return  # exit 2, with the field named
    if estimate(scenario).events > EVENT_BUDGET:
        event("valid, over the event budget: validated only")
        return  # the too large ones are refused by run without --allow-large
    event("valid: run")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(RUN_TIMEOUT_SECONDS)
    try:
        result = SimEngine(scenario).run()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.counts.lost == 0
    for flow_id, counts in result.flow_counts.items():
        assert counts.cases_started == counts.cases_completed + counts.cases_open, flow_id
        arrivals = scenario.flows[flow_id].arrivals
        if arrivals is not None:
            started_as_scheduled(arrivals, scenario, flow_id, counts.cases_started)
    assert result.counts.cases_started == sum(
        counts.cases_started for counts in result.flow_counts.values()
    )


def scheduled(arrivals: Arrivals, scenario: Scenario, flow_id: str) -> float:
    """The arrivals the schedule implies over the scenario's window, read off the scenario."""
    window = scenario.duration.clock_seconds()
    if arrivals.process == "replay":
        return float(len(scenario.replay_times(flow_id)))
    expected = arrivals.base_rate * window
    for burst in arrivals.bursts:
        start = burst.start.clock_seconds()
        expected += burst.rate * max(0.0, min(burst.duration.clock_seconds(), window - start))
    return expected


def started_as_scheduled(
    arrivals: Arrivals, scenario: Scenario, flow_id: str, started: int
) -> None:
    """A flow's cases are its arrivals: a replay's times or the rate's (and bursts') expected
    number over the window, within six standard deviations of a Poisson count (a constant
    rate's is exact, but a burst on it is still Poisson). Office-hour arrivals bring at most
    the rate's number, a profile only moves arrivals within the week: neither has a floor
    over a short window, so those are bounded above only, and not at all with a profile."""
    expected = scheduled(arrivals, scenario, flow_id)
    spread = 6 * math.sqrt(expected) + 2
    if arrivals.profile is not None:
        return
    event("arrivals checked against the schedule")
    assert started <= expected + spread, (flow_id, started, expected)
    if arrivals.hours == "always":
        assert started >= expected - spread, (flow_id, started, expected)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_scenario_has_places_to_mutate(name: str) -> None:
    assert len(list(paths(SHIPPED[name]))) > 10
