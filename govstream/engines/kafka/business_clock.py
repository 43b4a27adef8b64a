"""The business clock on Kafka: a case's own, carried in its messages, and a pool's clerks on it.

The platform's work (Kafka, the orchestrator, the network) is real and counts as it was, in wall
time. The agencies' queues, clerks, office hours and waits live on the business clock: an
endpoint places each request's start and finish there, as the sim engine's stations do, and
the wall-clock sleep before its answer goes out only keeps events in order. So a clerk's wait
does not depend on how fast the run goes, and an agent's own scheduling time is platform
latency, not clerk time.

A case's business time at a moment of the wall clock is its trigger's intended business time,
plus the wall time since then that the platform took, plus the business time its stays at
agencies and waits stood for, plus the exchange's drawn delays (`pipeline.exchange`):

    business = opened + (wall − intended) − agency wall + agency business + exchange

Only the intended time is read on another machine's clock; everything else is a duration each
hop measured on its own.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from govstream.engines.kafka import headers as h


@dataclass(slots=True)
class CaseClock:
    """A case's clock as one of its messages carries it."""

    t0: float
    """Wall time at business second 0 of the run."""
    speedup: float
    intended: float
    """Wall time the trigger was meant to be emitted."""
    agency_wall: float = 0.0
    agency_business: float = 0.0
    exchange: float = 0.0

    @classmethod
    def of(cls, trace: Mapping[str, str], speedup: float, now: float) -> CaseClock:
        """The clock of a message's case; one without the marks (start-up traffic) starts
        `now`."""
        t0 = h.mark(trace, h.T0)
        intended = h.mark(trace, h.INTENDED)
        return cls(
            t0=now if t0 is None else t0,
            speedup=h.mark(trace, h.SPEEDUP) or speedup,
            intended=now if intended is None else intended,
            agency_wall=h.mark(trace, h.AGENCY_WALL) or 0.0,
            agency_business=h.mark(trace, h.AGENCY_BUSINESS) or 0.0,
            exchange=h.mark(trace, h.EXCHANGE) or 0.0,
        )

    @property
    def opened(self) -> float:
        """Business seconds since the run's start at the trigger's intended time."""
        return (self.intended - self.t0) * self.speedup

    def at(self, wall: float) -> float:
        """The case's business time at wall time `wall`."""
        return (
            self.opened
            + (wall - self.intended)
            - self.agency_wall
            + self.agency_business
            + self.exchange
        )

    def wall_of(self, business: float) -> float:
        """When the run's one business clock reaches `business`: answers go out in that order."""
        return self.t0 + business / self.speedup

    def run_at(self, wall: float) -> float:
        """The run's one business clock at wall time `wall` (`wall_of`'s inverse)."""
        return (wall - self.t0) * self.speedup

    def after_stay(self, wall: float, business: float, exchange: float = 0.0) -> dict[str, str]:
        """The clock an answer carries on: `wall` seconds spent here stood for `business`
        seconds, and the exchange drew `exchange` on the way here and back."""
        return {
            h.AGENCY_WALL: repr(self.agency_wall + wall),
            h.AGENCY_BUSINESS: repr(self.agency_business + business),
            h.EXCHANGE: repr(self.exchange + exchange),
        }


@dataclass(slots=True)
class Placed:
    """A request's place at a pool, on the business clock."""

    taken: float
    """A clerk took it up (the office may still be closed)."""
    started: float
    done: float
    work: float
    uncertain: float
    """How far its wait may be off: it came after a request that was later on the business
    clock, and waited for a clerk."""


class Clerks:
    """One pool's clerks on this worker, on the business clock.

    Each clerk keeps the stretches of business time it is busy: from taking a request up
    (the office may still be closed) until the work is done, as a station of the sim engine
    holds a clerk. A request is taken up at the first moment at or after its business arrival
    when some clerk is free for the whole of it. Requests reach the worker in business order up
    to the platform's jitter; in order, that is first come, first served. One that comes after
    a request later on the business clock still finds a clerk idle at its own arrival, if there
    was one; if it has to wait, its wait may be off by as much as it came out of order, and it
    says so.
    """

    KEEP = 30 * 86400.0
    """Business seconds of a clerk's past kept behind the latest arrival: far more than any
    request comes out of order by."""

    def __init__(self, count: int) -> None:
        self._busy: list[list[tuple[float, float]]] = [[] for _ in range(count)]
        """Per clerk, its busy stretches (taken, done), in order, never overlapping."""
        self.latest = 0.0
        """The latest business arrival seen."""

    def place(self, arrival: float, work: float, hours: OpeningHours) -> Placed:
        behind = max(0.0, self.latest - arrival)
        self.latest = max(self.latest, arrival)
        best: tuple[float, float, int] | None = None
        for index, busy in enumerate(self._busy):
            taken, done = _first_free(busy, arrival, work, hours)
            if best is None or taken < best[0]:
                best = (taken, done, index)
        assert best is not None  # a pool has at least one clerk
        taken, done, index = best
        busy = self._busy[index]
        insort(busy, (taken, done))
        while busy and busy[0][1] < self.latest - self.KEEP:
            busy.pop(0)
        uncertain = min(behind, taken - arrival) if taken > arrival else 0.0
        return Placed(taken, hours.next_available(taken), done, work, uncertain)


def _first_free(
    busy: list[tuple[float, float]], arrival: float, work: float, hours: OpeningHours
) -> tuple[float, float]:
    """The first stretch at or after `arrival` in which a clerk with these busy stretches
    could take the request up and finish it: (taken, done)."""
    taken = arrival
    # From the last stretch begun by the arrival: it may still be running then.
    for start, end in busy[max(0, bisect_right(busy, (arrival, arrival)) - 1) :]:
        if end <= taken:
            continue
        done = hours.finish_time(hours.next_available(taken), work)
        if done <= start:
            return taken, done
        taken = max(taken, end)
    return taken, hours.finish_time(hours.next_available(taken), work)


class OpeningHours(Protocol):
    """What `Clerks` needs of an agency's hours (`calendar.agency_hours.AgencyHours`)."""

    def next_available(self, t: float) -> float: ...

    def finish_time(self, start: float, work: float) -> float: ...
