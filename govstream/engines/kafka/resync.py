"""A worker that stopped reading a partition reads it again from its committed offset.

After a rebalance faust-streaming 0.15 can leave a partition undelivered: the worker that
inherited it is idle, the partition's committed offset is behind its end, and the requests
between them are never served (seen after a worker was killed, on a busy machine: a few cases
stayed open until the run gave up on them). Nothing is lost, as nothing past them is committed,
so reading the partition again from its committed offset serves them. A worker is stalled on a
partition when, for several checks in a row, no message is in any agent's hands and the
partition's committed offset stays where it was, short of its end. Each stall is resynced once:
a partition whose committed offset does not move even then ends in something no consumer
reads, which a second seek would not change.

The same faust can also stop reading a table's changelog in the middle of its recovery after a
rebalance (the surviving worker then never starts again). A recovery whose remaining count has
not moved for as many checks rejoins the consumer group: the rebalance that follows starts the
recovery again from the start of the changelog.
"""

from __future__ import annotations

from collections import Counter

import faust
import structlog
from faust.types import TP

from govstream.engines.kafka.transport import first_in_flight

log = structlog.get_logger(__name__)

CHECK_SECONDS = 5.0
CHECKS_TO_STALL = 3
"""Fifteen seconds with nothing in hand: far longer than a commit interval (0.5 s), after which
an idle worker's committed offsets have reached what it handled."""


def holds_nothing(app: faust.App) -> bool:
    """Whether a worker is settled (not rebalancing, not recovering, reading) and has no
    message in any agent's hands."""
    consumer = app.consumer
    settled = not (app.rebalancing or app.tables.recovery.in_recovery)
    return settled and consumer.flow_active and not first_in_flight(consumer._unacked_messages)


def resync_stalled_partitions(app: faust.App) -> None:
    """Adds the check to the app as a timer, on every worker."""
    stalled: Counter[TP] = Counter()
    committed_at: dict[TP, int] = {}
    resynced: dict[TP, int] = {}
    recovery_left: list[int] = []

    @app.timer(interval=CHECK_SECONDS, name="resync-stalled-partitions")
    async def resync() -> None:
        consumer = app.consumer
        recovery = app.tables.recovery
        if recovery.in_recovery:
            stalled.clear()
            recovery_left.append(recovery.active_remaining_total())
            del recovery_left[: -CHECKS_TO_STALL - 1]
            if len(recovery_left) > CHECKS_TO_STALL and len(set(recovery_left)) == 1:
                recovery_left.clear()
                log.warning(
                    "table recovery stalled: rejoining the group to start it again",
                    remaining=recovery.active_remaining_total(),
                )
                # The group coordinator lives on the consumer's own thread and loop.
                thread = consumer._thread
                coordinator = thread._ensure_consumer()._coordinator
                thread.thread_loop.call_soon_threadsafe(coordinator.request_rejoin)
            return
        recovery_left.clear()
        if not holds_nothing(app):
            stalled.clear()
            return
        changelogs = app.tables.changelog_topics
        for tp in consumer.assignment():
            committed = consumer._committed_offset.get(tp)
            highwater = consumer.highwater(tp)
            behind = committed is not None and highwater is not None and committed < highwater
            if tp.topic in changelogs or not behind or committed_at.get(tp) != committed:
                stalled.pop(tp, None)
                if committed is not None:
                    committed_at[tp] = committed
                continue
            stalled[tp] += 1
            if stalled[tp] >= CHECKS_TO_STALL and resynced.get(tp) != committed:
                resynced[tp] = committed
                del stalled[tp]
                log.warning(
                    "partition stalled: reading it again from its committed offset",
                    topic=tp.topic,
                    partition=tp.partition,
                    committed=committed,
                    end=highwater,
                )
                consumer.resume_partitions({tp})
                await consumer.seek(tp, committed)
