"""faust's Kafka transport with two fixes to at-least-once delivery across a rebalance.

Never commit past a message still being handled. An agency's clerks are one agent with
concurrency, so requests finish out of order. faust commits the longest run of handled offsets,
but its guard against a hole at the head of that run is off by one (faust-streaming issue
#606): with offset 100 still in a clerk's hands and 101–104 done, it commits 105. A worker
killed then takes request 100 with it, and the worker that inherits the partition starts after
it: the case never completes. This consumer caps every commit at the first offset of a
partition that a stream took and has not yet handled. (faust's off-by-one itself stays: it is
what lets a commit pass a transaction marker that its records of skipped offsets miss.)

Never drop what a seek asked for again. faust's fetch loop drops any message below the highest
offset it has read from that partition, to skip what it has already delivered. After a
rebalance it seeks back (streams to their committed offsets, a table's changelog to its start),
but records fetched before the seek can still arrive after it and raise that mark again; the
messages the seek asked for are then dropped as if delivered. This consumer delivers such a
message instead. Under at-least-once a message delivered twice is a duplicate the orchestrator
already tells apart; under exactly-once it does so only for a changelog, whose messages rewrite
the same table row.

The transport is registered under the ``govstream`` URL scheme (``faust.transports`` entry point
in pyproject.toml), which is how faust lets an app choose its transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from faust.transport.drivers import aiokafka
from faust.types import TP, Message

SCHEME = "govstream"


def first_in_flight(messages: Iterable[Message]) -> dict[TP, int]:
    """Per partition, the lowest offset delivered to a stream and not yet acknowledged."""
    first: dict[TP, int] = {}
    for message in list(messages):
        if message.acked:
            continue
        tp = message.tp
        if tp not in first or message.offset < first[tp]:
            first[tp] = message.offset
    return first


class Consumer(aiokafka.Consumer):
    """faust's aiokafka consumer, committing only below the first message still in hand and
    delivering every message a seek moved a partition back to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight: dict[TP, int] = {}

    def _filter_committable_offsets(self, tps: Iterable[TP]) -> dict[TP, int]:
        # One pass over the messages in hand per commit, not one per partition.
        self._in_flight = first_in_flight(self._unacked_messages)
        return super()._filter_committable_offsets(tps)

    def _new_offset(self, tp: TP) -> int | None:
        first = self._in_flight.get(tp)
        acked = self._acked[tp]
        if first is None or not acked:
            return super()._new_offset(tp)
        later = [offset for offset in acked if offset > first]
        if len(later) == len(acked):
            return None  # nothing before the message in hand has been handled
        # faust's own bookkeeping, shown only what lies before the message in hand.
        acked[:] = [offset for offset in acked if offset < first]
        try:
            return super()._new_offset(tp)
        finally:
            acked.extend(later)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        exactly_once = self.in_transaction
        changelogs = self.app.tables.changelog_topics
        fetched = super().getmany(timeout)
        async for tp, message in fetched:
            read = self._read_offset.get(tp)
            behind = read is not None and message.offset < read
            if behind and (not exactly_once or tp.topic in changelogs):
                # Behind the mark after a seek back: lower the mark so it is delivered.
                self._read_offset[tp] = message.offset
            yield tp, message


class Transport(aiokafka.Transport):
    Consumer = Consumer
