"""Arrivals people would recognise: weekly and daily profiles, and a replayed file of times.

A profile keeps the rate as the long-run average and moves it within the week and the day
(a non-homogeneous Poisson process, drawn by thinning); a replay uses a file's timestamps as
they are. Both are deterministic for a seed.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from govstream.arrivals import arrival_times
from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import agency_key
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.loader import ScenarioError, parse_scenario
from govstream.scenario.model import Scenario

BASE = """
name: profiles
flow: F14
start: 2021-03-01T00:00:00+08:00   # a Monday, no holiday until April
duration: {duration}
drain: 1d
arrivals: {arrivals}
agencies: {{hrss: {{servers: 50, service_time: {{dist: constant, value: 1min}}}}}}
"""
WEEK = "[2.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.25]"


def scenario(arrivals: str, duration: str = "28d", base: Path | None = None) -> Scenario:
    return parse_scenario(BASE.format(arrivals=arrivals, duration=duration), base=base)


def times(s: Scenario, seed: int = 7) -> list[float]:
    flow = s.flows["F14"]
    window = s.duration.clock_seconds()
    return list(arrival_times(flow.arrivals, window, seed, scenario_calendar(s),
                              s.replay_times("F14")))  # fmt: skip


def local(s: Scenario, t: float) -> datetime:
    return s.start + timedelta(seconds=t)


def within(observed: float, expected: float, sigmas: float = 4.0) -> bool:
    """A Poisson count against its mean, `sigmas` standard deviations either way."""
    return abs(observed - expected) <= sigmas * math.sqrt(expected)


def test_a_weekly_profile_keeps_the_rate_and_follows_the_weights() -> None:
    s = scenario(f"{{rate: 200/d, profile: {{week: {WEEK}}}}}")
    arrivals = times(s)
    assert within(len(arrivals), 200 * 28)
    by_day = Counter(local(s, t).weekday() for t in arrivals)
    weights = [2.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.25]
    mean = sum(weights) / 7
    for weekday, weight in enumerate(weights):
        assert within(by_day[weekday], 200 * 4 * weight / mean), (weekday, by_day)


def test_more_on_monday_mornings_at_the_counter() -> None:
    """Office hours, a daily profile: most at opening, few before closing, none at lunch."""
    s = scenario(
        "{rate: 200/d, hours: office, profile: {week: [1.6, 1.1, 1.0, 0.8, 0.5, 1, 1], "
        "day: {'09:00': 3.0, '10:00': 1.0, '12:00': 0.0, '13:30': 1.0, '17:00': 0.2}}}"
    )
    arrivals = times(s)
    moments = [local(s, t) for t in arrivals]
    assert all(m.weekday() < 5 for m in moments)  # no make-up working day in March 2021
    assert not [m for m in moments if 12 <= m.hour < 13 or m.hour < 9 or m.hour >= 18]
    # the mean per working day holds: 20 working days in four weeks
    assert within(len(arrivals), 200 * 20)
    first_hour = Counter(m.weekday() for m in moments if m.hour == 9)
    assert first_hour[0] > 1.3 * first_hour[3]  # Monday mornings against Thursday mornings
    last_half_hour = sum(1 for m in moments if m.hour == 17)
    assert last_half_hour < sum(1 for m in moments if m.hour == 9) / 10


def test_the_same_seed_gives_the_same_arrivals() -> None:
    s = scenario(f"{{rate: 50/d, profile: {{week: {WEEK}, day: {{'08:00': 2, '20:00': 0.1}}}}}}")
    assert times(s, seed=3) == times(s, seed=3)
    assert times(s, seed=3) != times(s, seed=4)
    first = SimEngine(s).run().to_json()
    assert first == SimEngine(s).run().to_json()


def test_a_replay_uses_the_files_times(tmp_path: Path) -> None:
    rows = ["received_at,channel", "2021-03-01T09:15:00+08:00,counter",
            "2021-03-01 10:00:00,online", "2021-02-28T23:00:00+08:00,online",
            "2021-03-05T16:00:00+08:00,counter", "2021-04-30T09:00:00+08:00,online"]  # fmt: skip
    (tmp_path / "arrivals.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    s = scenario(
        "{process: replay, file: arrivals.csv, column: received_at}", duration="7d", base=tmp_path
    )
    replayed = times(s)
    # before the start and past the window are left out; a time without a zone is the start's
    assert [local(s, t).strftime("%d %H:%M") for t in replayed] == [
        "01 09:15",
        "01 10:00",
        "05 16:00",
    ]
    result = SimEngine(s).run()
    assert result.counts.cases_started == 3
    assert result.latency[agency_key("wait", "hrss")]["count"] >= 3


@pytest.mark.parametrize(
    ("arrivals", "fragment"),
    [
        ("{rate: 10/d, profile: {week: [1, 2, 3]}}", "seven weights"),
        ("{rate: 10/d, profile: {day: {'9am': 1}}}", "not a time of day"),
        ("{process: constant, rate: 10/d, profile: {week: " + WEEK + "}}", "Poisson"),
        ("{process: replay}", "needs 'file'"),
        ("{process: replay, file: nowhere.csv}", "cannot read"),
        ("{process: poisson}", "rate: required"),
        ("{rate: 10/d, hours: office, profile: {day: {'09:00': 0, '18:00': 1}}}", "zero"),
    ],
)
def test_arrival_errors_name_the_field(arrivals: str, fragment: str, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as raised:
        scenario(arrivals, base=tmp_path)
    assert fragment in str(raised.value) and "arrivals" in str(raised.value)


def test_a_replay_row_that_is_not_a_time_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("2021-03-01T09:00:00\nyesterday\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="row 2: 'yesterday' is not a timestamp"):
        scenario("{process: replay, file: bad.csv}", base=tmp_path)
