"""The arrival schedule of a scenario: when each case's trigger is meant to be emitted.

Both engines draw from this one schedule, so a scenario means the same load on either: the sim
engine waits in virtual time, the kafka generator waits in wall time and measures latency from
the intended time (open-loop: a slow producer cannot hide the queueing it causes).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator

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


def arrival_times(arrivals: Arrivals, window: float, seed: int | str) -> Iterator[float]:
    """Intended emit times in business seconds from the run's start, ascending, below `window`."""
    streams: list[Iterator[float]] = []
    if arrivals.process != "bursts" or arrivals.rate > 0:
        rng = random.Random(f"{seed}:arrivals:base")
        streams.append(_stream(arrivals.rate, 0.0, window, arrivals.process != "constant", rng))
    for index, burst in enumerate(arrivals.bursts):
        start = burst.start.clock_seconds()
        end = min(window, start + burst.duration.clock_seconds())
        rng = random.Random(f"{seed}:arrivals:burst{index}")
        streams.append(_stream(burst.rate, start, end, True, rng))
    return heapq.merge(*streams)
