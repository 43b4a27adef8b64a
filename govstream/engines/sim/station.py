"""Servers sharing one FIFO queue, and an agency pool as a queueing station built on them."""

from __future__ import annotations

from collections import Counter, deque
from typing import Generic, TypeVar

from govstream.pipeline.agencies import AgencyPool
from govstream.pipeline.series import busy_name, queue_name

Waiter = TypeVar("Waiter")


class Servers(Generic[Waiter]):
    """`count` servers and one FIFO queue, as SimPy's `Resource` serves requests.

    The engine asks for a server and is told at once whether it has one; when a server is
    freed it is handed to the first in the queue, which the engine resumes itself. A SimPy
    `Resource` does the same bookkeeping through an event per request and per release, which
    the engine does not need: nothing waits on them but the request itself.
    """

    __slots__ = ("busy", "count", "max_queue", "queue")

    def __init__(self, count: int) -> None:
        self.count = count
        self.busy = 0
        self.queue: deque[Waiter] = deque()
        self.max_queue = 0
        """The longest the queue has been: requests waiting with every server busy."""

    def take(self, waiter: Waiter) -> bool:
        """A server for `waiter` now (True), or `waiter` joins the queue (False)."""
        if self.busy < self.count:
            self.busy += 1
            return True
        self.queue.append(waiter)
        if len(self.queue) > self.max_queue:
            self.max_queue = len(self.queue)
        return False

    def release(self) -> Waiter | None:
        """A server is free: it passes to the first waiter, returned to be resumed."""
        if self.queue:
            return self.queue.popleft()
        self.busy -= 1
        return None


class Station(Generic[Waiter]):
    """Serves requests FIFO with the pool's clerks, whichever flow they come from.

    A request that reaches a free clerk while the agency is closed (outside office hours or in
    an outage) holds the clerk and waits for the opening, which keeps FIFO order: everyone in
    the queue would wait for the same opening anyway.
    """

    __slots__ = ("busy_series", "clerks", "pool", "queue_series", "taken")

    def __init__(self, pool: AgencyPool) -> None:
        self.pool = pool
        self.clerks: Servers[Waiter] = Servers(pool.servers)
        self.taken: Counter[str] = Counter()
        self.queue_series = queue_name(pool.name)
        self.busy_series = busy_name(pool.name)

    @property
    def max_queue(self) -> int:
        return self.clerks.max_queue

    def queue_length(self) -> int:
        return len(self.clerks.queue)
