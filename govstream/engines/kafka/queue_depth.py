"""An agency's queue on Kafka, rebuilt from the marks its answered requests carry back.

faust keeps an agent's buffer to itself, but each answer says when the agency's worker received
the request, when a clerk took it up and when the clerk acted. Replaying those moments gives the
number waiting at any instant. A request counts as queued only while every clerk is busy, as in
the sim engine: a few milliseconds between receipt and pick-up with clerks idle is the event
loop's scheduling, not a queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class RequestSpan(NamedTuple):
    """Wall-clock moments of one request at its agency."""

    delivered: float
    taken: float
    acted: float


# At one instant, clerks are freed and take up work before new arrivals join the queue.
_ACTED, _TAKEN, _DELIVERED = 0, 1, 2


def peak_queue(spans: Iterable[RequestSpan], clerks: int) -> int:
    """The most requests ever waiting while all ``clerks`` were busy."""
    moments: list[tuple[float, int]] = []
    for span in spans:
        moments += [(span.delivered, _DELIVERED), (span.taken, _TAKEN), (span.acted, _ACTED)]
    moments.sort()
    waiting = busy = peak = 0
    for _, kind in moments:
        if kind == _DELIVERED:
            waiting += 1
        elif kind == _TAKEN:
            waiting -= 1
            busy += 1
        else:
            busy -= 1
        if busy >= clerks and waiting > peak:
            peak = waiting
    return peak
