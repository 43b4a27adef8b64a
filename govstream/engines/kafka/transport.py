"""faust's Kafka transport with four fixes to at-least-once delivery across a rebalance, and
one to a table's recovery (`from_start_if_unknown`).

Never commit past a message still being handled. An agency's clerks are one agent with
concurrency, so requests finish out of order. faust commits the longest run of handled offsets,
but its guard against a hole at the head of that run is off by one (faust-streaming issue
#606): with offset 100 still in a clerk's hands and 101–104 done, it commits 105. A worker
killed then takes request 100 with it, and the worker that inherits the partition starts after
it: the case never completes. This consumer caps every commit at the first offset of a
partition that a stream took and has not yet handled (a message handled once and delivered
again by a seek keeps its count while its copy is in hand).

Never count a hole that is not there. After a seek (a rebalance's, to the committed offset)
records fetched before it can still arrive, from further on; faust takes the jump from the
seek's offset to theirs for a hole in the partition (offsets a transaction marker or compaction
removed) and counts every offset in between as handled. And a message a clerk held across the
rebalance, finished after it, is counted past the seek's offset while the message at that offset
has yet to come again, which the off-by-one above then lets a commit pass. Either way a commit
could pass triggers and requests the seek was about to deliver, and a worker lost then lost
them (seen after a worker was killed). The workers write no transactions (at-least-once), so
there are no markers to skip: a group reads only what was written since its run began (earlier
runs' leftovers are skipped), and changelogs, which compaction thins, are not committed this
way. So this consumer records no hole, and commits nothing until the message at the committed
offset is handled.

Never drop what a seek asked for again. faust's fetch loop drops any message below the highest
offset it has read from that partition, to skip what it has already delivered. After a
rebalance it seeks back (streams to their committed offsets, a table's changelog to its start),
but records fetched before the seek can still arrive after it and raise that mark again; the
messages the seek asked for are then dropped as if delivered. This consumer delivers such a
message instead: a trigger or outcome delivered twice is a duplicate the orchestrator tells
apart, and a changelog record delivered twice rewrites the same table row.

Start where a seek said. Records fetched before a seek can arrive after it, from further on.
If the first record after a seek to offset 7 is 8, faust delivers 8 on, and 7, the message the
seek was for, never comes (the fetch position is past it): seen as a partition whose committed
offset stayed at 7 with 8 onwards handled, after the rebalance that followed a lost worker.
This consumer sets aside the records of such a batch and seeks again to the seek's offset, so
that the partition is read from there (a few times at most, should that offset be gone). Not on
a table's changelog, whose compaction removes offsets.

The transport is registered under the ``govstream`` URL scheme (``faust.transports`` entry point
in pyproject.toml), which is how faust lets an app choose its transport.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from faust.transport.drivers import aiokafka
from faust.types import TP, Message

SCHEME = "govstream"
SEEK_AGAIN_AT_MOST = 3
"""Seeks again to one offset before taking what comes instead (an offset gone from the log)."""


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


def from_start_if_unknown(offset: int | None) -> int:
    """faust's table recovery seeks every changelog partition the worker stands by for, and a
    rebalance during a recovery can add one after the recovery looked their offsets up: it
    comes with no offset, which aiokafka refuses, and the worker crashed while starting (seen
    with 2 workers). No known offset means the changelog from its start, as faust reads -1."""
    return offset if offset is not None and offset >= 0 else 0


class Consumer(aiokafka.Consumer):
    """faust's aiokafka consumer, committing only below the first message still in hand and
    delivering every message a seek moved a partition back to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight: dict[TP, int] = {}
        self._sought: dict[TP, int] = {}
        """Per partition, the offset of a seek whose first record has not come yet."""
        self._sought_again: Counter[TP] = Counter()

    def _filter_committable_offsets(self, tps: Iterable[TP]) -> dict[TP, int]:
        # One pass over the messages in hand per commit, not one per partition.
        self._in_flight = first_in_flight(self._unacked_messages)
        return super()._filter_committable_offsets(tps)

    def _new_offset(self, tp: TP) -> int | None:
        first = self._in_flight.get(tp)
        acked = self._acked[tp]
        committed = self._committed_offset.get(tp)
        if acked and committed is not None and min(acked) > committed:
            return None  # the message at the committed offset is not handled yet
        if first is None or not acked:
            return super()._new_offset(tp)
        later = [offset for offset in acked if offset >= first]
        if len(later) == len(acked):
            return None  # nothing before the message in hand has been handled
        # faust's own bookkeeping, shown only what lies before the message in hand.
        acked[:] = [offset for offset in acked if offset < first]
        try:
            return super()._new_offset(tp)
        finally:
            acked.extend(later)

    async def perform_seek(self) -> None:
        await super().perform_seek()
        for tp in self.assignment():
            self._expect(tp, self._read_offset.get(tp))

    async def seek(self, partition: TP, offset: int) -> None:
        await super().seek(partition, offset)
        self._expect(partition, offset)

    async def seek_wait(self, partitions: Mapping[TP, int | None]) -> None:
        known = {tp: from_start_if_unknown(offset) for tp, offset in partitions.items()}
        await super().seek_wait(known)
        for tp, offset in known.items():
            self._expect(tp, offset)

    def _expect(self, tp: TP, offset: int | None) -> None:
        """A changelog is left out: compaction removes offsets from it."""
        changelog = tp.topic in self.app.tables.changelog_topics
        if offset and not changelog:
            self._sought[tp] = offset
            self._sought_again.pop(tp, None)

    def _fetched_before_seek(self, tp: TP, offset: int) -> bool:
        """Whether a record is past the offset its partition was just sought to; if so, the
        partition is sought there again."""
        sought = self._sought.get(tp)
        if sought is None or offset < sought:
            return False
        if offset == sought or self._sought_again[tp] >= SEEK_AGAIN_AT_MOST:
            del self._sought[tp]
            self._sought_again.pop(tp, None)
            return False
        self._sought_again[tp] += 1
        self._thread.seek(tp, sought)
        return True

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        fetched = super().getmany(timeout)
        set_aside: set[TP] = set()
        async for tp, message in fetched:
            if tp in set_aside or self._fetched_before_seek(tp, message.offset):
                set_aside.add(tp)  # the rest of this batch too: the new seek reads it again
                continue
            read = self._read_offset.get(tp)
            behind = read is not None and message.offset < read
            if behind:
                # Behind the mark after a seek back: lower the mark so it is delivered.
                self._read_offset[tp] = message.offset
            elif read and message.offset > read + 1:
                # A jump, not a hole: no mark, so faust's fetch loop records none.
                self._read_offset[tp] = None
            yield tp, message


class Transport(aiokafka.Transport):
    Consumer = Consumer
