"""An idle worker sends again the requests its open cases still wait for.

A last resort behind the consumer's repairs (`transport.py`): before them, the rebalance that
follows a lost worker left a request nobody served, its offset committed, in a few runs in
twenty beside two CPU hogs (1 to 37 requests). Should that still happen, nothing on the brokers
says so; the orchestrator's table does, as an open case whose due step has no outcome. A
request is always somewhere a worker sees: unread on a partition it holds, or in an agent's
hands, and so is the outcome that answers it. So when a worker has had nothing in hand and
nothing left to read, check after check, every request its open cases still wait for is one
nobody will answer. It is sent again (the same request id), once per state of the case; should
the first turn up after all, its answer is a duplicate, which the orchestrator drops and
records, and the books count.

Only where the platform's worker also serves the agencies, as on a plain cluster. On a secure
cluster each agency runs as an app of its own, whose hands the platform's worker cannot see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import faust
import structlog
from faust.types import TP

from govstream.engines.kafka.resync import CHECK_SECONDS, holds_nothing

log = structlog.get_logger(__name__)

CHECKS_TO_IDLE = 3
"""Fifteen seconds with nothing in hand or left to read: a request goes from one hop to the
next in milliseconds, and a clerk holds what he works on (see `resync.CHECKS_TO_STALL`)."""

ResendOwed = Callable[[set[int]], Awaitable[int]]
"""Sends again what the open cases of the given partitions still wait for; returns how many."""


def nothing_left_to_read(consumer: faust.types.ConsumerT, changelogs: set[str]) -> bool:
    """Whether every partition the worker holds is committed up to its end."""
    for tp in consumer.assignment():
        if tp.topic in changelogs:
            continue
        highwater = consumer.highwater(tp)
        committed = consumer._committed_offset.get(tp) or 0
        if highwater is None or committed < highwater:
            return False
    return True


def partitions_held(assignment: set[TP], topics: set[str]) -> set[int]:
    """The partitions of the cases table the worker holds: the same numbers as the topics'."""
    return {tp.partition for tp in assignment if tp.topic in topics}


def resend_when_idle(app: faust.App, topics: set[str], resend: ResendOwed) -> None:
    """Adds the check to the app as a timer: `topics` are those keyed like the cases table."""
    idle_checks = [0]

    @app.timer(interval=CHECK_SECONDS, name="resend-owed-requests")
    async def resend_owed() -> None:
        consumer = app.consumer
        if not (holds_nothing(app) and nothing_left_to_read(consumer, app.tables.changelog_topics)):
            idle_checks[0] = 0
            return
        idle_checks[0] += 1
        if idle_checks[0] < CHECKS_TO_IDLE:
            return
        sent = await resend(partitions_held(consumer.assignment(), topics))
        if sent:
            log.warning("requests nobody answered sent again", requests=sent)
