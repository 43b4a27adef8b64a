"""An agency as a queueing station: c servers, one FIFO queue, office hours and outages."""

from __future__ import annotations

import random
from collections.abc import Callable

import simpy

from govstream.agency_hours import AgencyHours
from govstream.calendar import WorkingCalendar
from govstream.scenario.model import Agency


class Station:
    """Serves requests FIFO with `servers` parallel clerks.

    A request that reaches a free clerk while the agency is closed (outside office hours or in
    an outage) holds the clerk and waits for the opening, which keeps FIFO order: everyone in
    the queue would wait for the same opening anyway.
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
        self.hours = AgencyHours(spec, calendar)
        self._draw_service: Callable[[random.Random], float] = spec.service_time.sampler()
        self._rng = rng
        self.max_queue = 0

    def note_queue(self) -> None:
        queued = len(self.resource.queue)
        if queued > self.max_queue:
            self.max_queue = queued

    def queue_length(self) -> int:
        return len(self.resource.queue)

    def service_time(self) -> float:
        return self._draw_service(self._rng)

    def rejects(self) -> bool:
        p = self.spec.reject_probability
        return p > 0 and self._rng.random() < p
