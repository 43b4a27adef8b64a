"""The arrival schedule of a scenario: when each case's trigger is meant to be emitted.

Both engines draw from this one schedule, so a scenario means the same load on either: the sim
engine waits in virtual time, the kafka generator waits in wall time and measures latency from
the intended time (open-loop: a slow producer cannot hide the queueing it causes).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator

from govstream.calendar import WorkingCalendar
from govstream.scenario.model import Arrivals


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


def arrival_times(
    arrivals: Arrivals,
    window: float,
    seed: int | str,
    calendar: WorkingCalendar | None = None,
) -> Iterator[float]:
    """Intended emit times in business seconds from the run's start, ascending, below `window`.

    With `hours: office` the base rate arrives during the scenario's office hours only (the
    `calendar`); bursts are windows of clock time either way.
    """
    streams: list[Iterator[float]] = []
    if arrivals.process != "bursts" or arrivals.rate > 0:
        rng = random.Random(f"{seed}:arrivals:base")
        poisson = arrivals.process != "constant"
        if arrivals.hours == "office":
            if calendar is None:
                raise ValueError("arrivals in office hours need the scenario's calendar")
            streams.append(_office_stream(arrivals.rate, window, poisson, rng, calendar))
        else:
            streams.append(_stream(arrivals.rate, 0.0, window, poisson, rng))
    for index, burst in enumerate(arrivals.bursts):
        start = burst.start.clock_seconds()
        end = min(window, start + burst.duration.clock_seconds())
        rng = random.Random(f"{seed}:arrivals:burst{index}")
        streams.append(_stream(burst.rate, start, end, True, rng))
    return heapq.merge(*streams)
