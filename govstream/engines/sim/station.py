"""An agency as a queueing station: c servers, one FIFO queue, office hours and outages."""

from __future__ import annotations

import random
from collections.abc import Callable

import simpy

from govstream.calendar import WorkingCalendar
from govstream.scenario.model import Agency, Outage


class Station:
    """Serves requests FIFO with `servers` parallel clerks.

    A request that reaches a free clerk while the agency is closed (outside office hours or in
    an outage) holds the clerk and waits for the opening, which keeps FIFO order: everyone in
    the queue would wait for the same opening anyway. Work under an office calendar only
    progresses while the office is open; an outage stops new work from starting, while work
    already begun is finished.
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Agency,
        calendar: WorkingCalendar | None,
        rng: random.Random,
    ) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.resource = simpy.Resource(env, capacity=spec.servers)
        self.calendar = calendar
        self._draw_service: Callable[[random.Random], float] = spec.service_time.sampler()
        self._rng = rng
        self._outages = sorted(
            (o.start.clock_seconds(), o.end.clock_seconds()) for o in spec.outages
        )
        self.max_queue = 0

    def note_queue(self) -> None:
        queued = len(self.resource.queue)
        if queued > self.max_queue:
            self.max_queue = queued

    def queue_length(self) -> int:
        return len(self.resource.queue)

    def next_available(self, t: float) -> float:
        """The first moment at or after t when the agency is open and not in an outage."""
        while True:
            moved = t
            for start, end in self._outages:
                if start <= moved < end:
                    moved = end
            if self.calendar is not None:
                moved = self.calendar.next_open(moved)
            if moved == t:
                return t
            t = moved

    def service_time(self) -> float:
        return self._draw_service(self._rng)

    def finish_time(self, start: float, work: float) -> float:
        if self.calendar is None:
            return start + work
        return self.calendar.finish_time(start, work)

    def rejects(self) -> bool:
        p = self.spec.reject_probability
        return p > 0 and self._rng.random() < p


def describe_outage(outage: Outage) -> str:
    reason = f" ({outage.reason})" if outage.reason else ""
    return f"{outage.start}–{outage.end}{reason}"
