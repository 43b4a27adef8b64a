"""The workers' consumer keeps at-least-once across a rebalance.

It commits only below a message still in a clerk's hands: a worker killed after committing past
such a message loses it, as the worker that inherits the partition starts after it. And it
delivers what a seek back asked for again, where faust would drop it as already read. These
build the consumer the workers use (no broker is needed to ask it what it would commit or
deliver) and set up what it tracks: handled offsets, messages in hand, the read mark.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import faust
import pytest
from faust.transport import consumer as faust_consumer
from faust.types import TP, Message

from govstream.engines.kafka.app import broker_urls
from govstream.engines.kafka.transport import Consumer

REQUESTS = TP("bank.account-closure-request.v1", 0)
OTHER = TP("bank.account-closure-request.v1", 1)


@pytest.fixture
def consumer() -> Consumer:
    app = faust.App("commit-test", broker=broker_urls("127.0.0.1:1"))
    app.Table("cases")
    made = app.consumer
    assert isinstance(made, Consumer), "the app is not on the project's transport"
    return made


def in_hand(consumer: Consumer, tp: TP, offset: int) -> Message:
    """The consumer holds messages in hand weakly, as faust does: keep the one returned."""
    message = Message(tp.topic, tp.partition, offset, 0.0, 0, {}, b"case", b"", None)
    consumer._unacked_messages.add(message)
    return message


def handled(consumer: Consumer, tp: TP, *offsets: int) -> None:
    for offset in offsets:
        consumer._acked[tp].append(offset)
        consumer._acked_index[tp].add(offset)


def commits(consumer: Consumer, tp: TP = REQUESTS) -> int | None:
    return consumer._filter_committable_offsets([tp]).get(tp)


def test_the_message_at_the_committed_offset_holds_every_later_one(consumer: Consumer) -> None:
    consumer._committed_offset[REQUESTS] = 100
    slow = in_hand(consumer, REQUESTS, 100)
    handled(consumer, REQUESTS, 101, 102, 103, 104)
    assert commits(consumer) is None
    # Once the slow request is handled, everything up to 104 is.
    slow.acked = True
    handled(consumer, REQUESTS, 100)
    assert commits(consumer) == 105


def test_a_run_before_the_message_in_hand_commits_up_to_it(consumer: Consumer) -> None:
    consumer._committed_offset[REQUESTS] = 100
    held = in_hand(consumer, REQUESTS, 103)
    handled(consumer, REQUESTS, 100, 101, 102, 104, 105)
    assert commits(consumer) == 103
    held.acked = True
    handled(consumer, REQUESTS, 103)
    consumer._committed_offset[REQUESTS] = 103
    assert commits(consumer) == 106


def test_with_nothing_committed_yet_the_first_message_still_holds(consumer: Consumer) -> None:
    first = in_hand(consumer, REQUESTS, 0)
    handled(consumer, REQUESTS, 1, 2)
    assert commits(consumer) is None
    assert not first.acked


def test_a_message_in_hand_holds_only_its_own_partition(consumer: Consumer) -> None:
    consumer._committed_offset[REQUESTS] = 10
    consumer._committed_offset[OTHER] = 10
    held = in_hand(consumer, OTHER, 10)
    handled(consumer, REQUESTS, 10, 11)
    handled(consumer, OTHER, 11)
    assert commits(consumer) == 12
    assert commits(consumer, OTHER) is None
    assert not held.acked


CHANGELOG = TP("commit-test-cases-changelog", 0)


def delivered_after_seek(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch, tp: TP, mark: int, offsets: list[int]
) -> list[int]:
    """Offsets fetched after a seek back below a read mark that stale records raised to
    `mark`, and which of them faust's fetch loop would deliver (it drops any message below the
    mark at the moment it arrives)."""

    async def fetched(self: object, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        for offset in offsets:
            yield tp, Message(tp.topic, tp.partition, offset, 0.0, 0, {}, b"k", b"", None)

    monkeypatch.setattr(faust_consumer.Consumer, "getmany", fetched)
    consumer._read_offset[tp] = mark

    async def drain() -> list[int]:
        delivered = []
        async for _, message in consumer.getmany(timeout=1.0):
            read = consumer._read_offset[tp]
            if read is None or message.offset >= read:
                delivered.append(message.offset)
                consumer._read_offset[tp] = message.offset
        return delivered

    return asyncio.run(drain())


def test_what_a_seek_back_asked_for_is_delivered(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert delivered_after_seek(consumer, monkeypatch, REQUESTS, 76, [40, 41, 42]) == [40, 41, 42]


def test_under_exactly_once_only_a_changelog_is_read_again(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer.in_transaction = True
    assert delivered_after_seek(consumer, monkeypatch, REQUESTS, 76, [40, 41]) == []
    assert delivered_after_seek(consumer, monkeypatch, CHANGELOG, 76, [0, 1]) == [0, 1]
