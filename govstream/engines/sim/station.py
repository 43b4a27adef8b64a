"""An agency pool as a queueing station: c clerks sharing one FIFO queue (SimPy's Resource)."""

from __future__ import annotations

from collections import Counter

import simpy

from govstream.pipeline.agencies import AgencyPool


class Station:
    """Serves requests FIFO with the pool's clerks, whichever flow they come from.

    A request that reaches a free clerk while the agency is closed (outside office hours or in
    an outage) holds the clerk and waits for the opening, which keeps FIFO order: everyone in
    the queue would wait for the same opening anyway.
    """

    def __init__(self, env: simpy.Environment, pool: AgencyPool) -> None:
        self.pool = pool
        self.resource = simpy.Resource(env, capacity=pool.servers)
        self.max_queue = 0
        self.taken: Counter[str] = Counter()

    def note_queue(self) -> None:
        queued = len(self.resource.queue)
        if queued > self.max_queue:
            self.max_queue = queued

    def queue_length(self) -> int:
        return len(self.resource.queue)
