"""The arrival schedule of a scenario: when each case's trigger is meant to be emitted.

Both engines draw from this one schedule, so a scenario means the same load on either: the sim
engine waits in virtual time, the kafka generator waits in wall time and measures latency from
the intended time (open-loop: a slow producer cannot hide the queueing it causes).

A profile makes the process non-homogeneous (more on Monday mornings, fewer before closing). It
is drawn by thinning: candidates come at the profile's peak rate and each is kept with the
profile's weight at its moment over the peak, so the kept ones follow the profile exactly and
the same seed keeps the same ones.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterator, Sequence

from govstream.calendar.working import WorkingCalendar
from govstream.scenario.model import Arrivals, Profile, day_weight

Weight = Callable[[float], float]
"""The profile's relative intensity at a moment (business seconds), averaging 1."""


def _stream(
    rate: float, start: float, end: float, poisson: bool, rng: random.Random
) -> Iterator[float]:
    t = start
    while True:
        t += rng.expovariate(rate) if poisson else 1.0 / rate
        if t >= end:
            return
        yield t


def _office_stream(
    rate: float, window: float, poisson: bool, rng: random.Random, calendar: WorkingCalendar
) -> Iterator[float]:
    """Arrivals only while the office is open: `rate` per 24 h becomes the same number per
    working day, spread over its office hours (applicants come to a counter when it is open)."""
    per_office_second = rate * 86400 / calendar.working_day_seconds
    t = 0.0
    while True:
        gap = rng.expovariate(per_office_second) if poisson else 1.0 / per_office_second
        t = calendar.finish_time(t, gap)
        if t >= window:
            return
        yield t


def _thinned(
    candidates: Iterator[float], weight: Weight, peak: float, rng: random.Random
) -> Iterator[float]:
    for t in candidates:
        if rng.random() * peak < weight(t):
            yield t


def profile_weight(
    profile: Profile, calendar: WorkingCalendar, office: bool
) -> tuple[Weight, float]:
    """The profile's weight at a moment, normalised to average 1 over the time arrivals may
    come (the whole week, or the office hours of working days), and its peak.

    In office hours the weekly weights are averaged over Monday to Friday, and a make-up
    working day on a weekend counts as an average working day.
    """
    week = list(profile.week or [1.0] * 7)
    if office:
        mean = sum(week[:5]) / 5
        week = [w / mean for w in week[:5]] + [1.0, 1.0]
    else:
        mean = sum(week) / 7
        week = [w / mean for w in week]
    steps = profile.day_steps()
    day_scale = 1.0
    if steps:
        spans = calendar.office_hours.spans_seconds if office else ((0, 86400),)
        day_scale = _mean_day_weight(steps, spans)
        if day_scale <= 0:
            raise ValueError("the daily profile has no weight while arrivals may come")

    def weight(t: float) -> float:
        moment = calendar.to_datetime(t)
        w = week[moment.weekday()]
        if steps:
            second = moment.hour * 3600 + moment.minute * 60 + moment.second
            w *= day_weight(steps, second) / day_scale
        return w

    day_peak = max(w for _, w in steps) / day_scale if steps else 1.0
    return weight, max(week) * day_peak


def _mean_day_weight(steps: list[tuple[int, float]], spans: Sequence[tuple[int, int]]) -> float:
    """The daily profile's mean weight over the given spans of the day."""
    bounds = sorted({b for b, _ in steps} | {x for span in spans for x in span} | {0, 86400})
    total = length = 0.0
    for low, high in itertools.pairwise(bounds):
        inside = sum(max(0, min(high, b) - max(low, a)) for a, b in spans)
        if inside:
            total += inside * day_weight(steps, low)
            length += inside
    return total / length if length else 0.0


def arrival_times(
    arrivals: Arrivals,
    window: float,
    seed: int | str,
    calendar: WorkingCalendar | None = None,
    replay: Sequence[float] = (),
) -> Iterator[float]:
    """Intended emit times in business seconds from the run's start, ascending, below `window`.

    With `hours: office` the base rate arrives during the scenario's office hours only (the
    `calendar`); a profile shapes the base rate over the week and the day; `replay` gives a
    replayed flow's times. Bursts are windows of clock time either way.
    """
    streams: list[Iterator[float]] = []
    if arrivals.process == "replay":
        streams.append(iter([t for t in replay if 0.0 <= t < window]))
    elif arrivals.process != "bursts" or arrivals.base_rate > 0:
        rng = random.Random(f"{seed}:arrivals:base")
        poisson = arrivals.process != "constant"
        office = arrivals.hours == "office"
        if (office or arrivals.profile is not None) and calendar is None:
            raise ValueError("arrivals in office hours or with a profile need the calendar")
        rate = arrivals.base_rate
        peak = 1.0
        weight: Weight | None = None
        if arrivals.profile is not None:
            assert calendar is not None
            weight, peak = profile_weight(arrivals.profile, calendar, office)
        if office:
            assert calendar is not None
            base = _office_stream(rate * peak, window, poisson, rng, calendar)
        else:
            base = _stream(rate * peak, 0.0, window, poisson, rng)
        streams.append(base if weight is None else _thinned(base, weight, peak, rng))
    for index, burst in enumerate(arrivals.bursts):
        start = burst.start.clock_seconds()
        end = min(window, start + burst.duration.clock_seconds())
        rng = random.Random(f"{seed}:arrivals:burst{index}")
        streams.append(_stream(burst.rate, start, end, True, rng))
    return heapq.merge(*streams)
