"""Clerks on the business clock, as a Kafka endpoint keeps them, against the sim engine's."""

from __future__ import annotations

import random

import pytest

from govstream.engines.kafka import headers as h
from govstream.engines.kafka.business_clock import CaseClock, Clerks


class Always:
    """An agency open around the clock."""

    def next_available(self, t: float) -> float:
        return t

    def finish_time(self, start: float, work: float) -> float:
        return start + work


class NineToFive:
    """Open from 09:00 to 17:00 every day; work runs only while open."""

    OPEN, CLOSE, DAY = 9 * 3600.0, 17 * 3600.0, 86400.0

    def next_available(self, t: float) -> float:
        day, at = divmod(t, self.DAY)
        if at < self.OPEN:
            return day * self.DAY + self.OPEN
        if at >= self.CLOSE:
            return (day + 1) * self.DAY + self.OPEN
        return t

    def finish_time(self, start: float, work: float) -> float:
        t = self.next_available(start)
        while True:
            day_close = (t // self.DAY) * self.DAY + self.CLOSE
            if t + work <= day_close:
                return t + work
            work -= day_close - t
            t = self.next_available(day_close)


def fifo_waits(arrivals: list[tuple[float, float]], count: int) -> list[float]:
    """First come, first served on `count` servers, as the sim engine's stations serve."""
    free = [0.0] * count
    waits = []
    for arrival, work in arrivals:
        clerk = min(range(count), key=lambda i: free[i])
        start = max(arrival, free[clerk])
        waits.append(start - arrival)
        free[clerk] = start + work
    return waits


def test_in_business_order_the_clerks_serve_first_come_first_served() -> None:
    rng = random.Random(5)
    t, arrivals = 0.0, []
    for _ in range(3000):
        t += rng.expovariate(1.7)
        arrivals.append((t, rng.expovariate(1.0)))
    clerks = Clerks(2)
    waits = [clerks.place(a, w, Always()).taken - a for a, w in arrivals]
    assert waits == pytest.approx(fifo_waits(arrivals, 2))
    assert max(waits) > 5, "a queue built up"


def test_a_request_that_comes_late_takes_a_clerk_idle_at_its_own_arrival() -> None:
    """One clerk busy 100-200 for a later request; an earlier one (arrival 10, work 50) that
    reaches the worker after it is taken up at 10, in the gap, and is not uncertain."""
    clerks = Clerks(1)
    clerks.place(100.0, 100.0, Always())
    late = clerks.place(10.0, 50.0, Always())
    assert (late.taken, late.done, late.uncertain) == (10.0, 60.0, 0.0)


def test_a_request_that_comes_late_and_must_wait_says_how_far_off_its_wait_may_be() -> None:
    clerks = Clerks(1)
    clerks.place(100.0, 100.0, Always())
    late = clerks.place(90.0, 50.0, Always())
    assert (late.taken, late.done) == (200.0, 250.0)
    assert late.uncertain == 10.0, "it came 10 s out of order and waited 110 s"


def test_a_clerk_taking_a_request_while_closed_holds_it_until_the_work_is_done() -> None:
    clerks = Clerks(1)
    evening = clerks.place(18 * 3600.0, 3600.0, NineToFive())
    assert evening.taken == 18 * 3600.0
    assert evening.started == 86400.0 + 9 * 3600.0
    assert evening.done == 86400.0 + 10 * 3600.0
    night = clerks.place(20 * 3600.0, 600.0, NineToFive())
    assert night.taken == evening.done, "the one clerk holds the first until it is done"


def test_a_case_clock_counts_the_platform_as_it_was_and_agencies_as_they_stood() -> None:
    trace = {
        h.T0: "1000",
        h.SPEEDUP: "100",
        h.INTENDED: "1010",  # business second 1000
        h.AGENCY_WALL: "3",  # three wall seconds at agencies...
        h.AGENCY_BUSINESS: "7200",  # ...stood for two business hours
        h.EXCHANGE: "1.5",
    }
    clock = CaseClock.of(trace, 1.0, 0.0)
    assert clock.opened == 1000.0
    # 5 wall seconds later: 2 of them the platform's own, 3 at agencies.
    assert clock.at(1015.0) == pytest.approx(1000 + 2 + 7200 + 1.5)
    assert clock.wall_of(2000.0) == 1020.0
