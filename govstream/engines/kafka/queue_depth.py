"""An agency's longest queue on Kafka, rebuilt from the marks its answered requests carry back.

Each answer says, on the business clock its pool kept, when the request reached the pool and
when a clerk took it up; between the two it waited with every clerk busy, as in the sim
engine's stations. Replaying those moments gives the number waiting at any instant.
"""

from __future__ import annotations

from collections.abc import Iterable

# At one instant, a clerk takes up the next request before a new arrival joins the queue.
_TAKEN, _DELIVERED = 0, 1


def peak_queue(waits: Iterable[tuple[float, float]]) -> int:
    """The most requests ever waiting at once, from each request's (delivered, taken up)."""
    moments: list[tuple[float, int]] = []
    for delivered, taken in waits:
        if taken > delivered:
            moments += [(delivered, _DELIVERED), (taken, _TAKEN)]
    moments.sort()
    waiting = peak = 0
    for _, kind in moments:
        waiting += 1 if kind == _DELIVERED else -1
        peak = max(peak, waiting)
    return peak
