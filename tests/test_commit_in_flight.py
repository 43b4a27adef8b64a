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
from govstream.engines.kafka.transport import SEEK_AGAIN_AT_MOST, Consumer

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


def test_nothing_is_committed_until_the_message_at_the_committed_offset_is_handled(
    consumer: Consumer,
) -> None:
    """After a seek back to 40: 41 and 42 were handled by clerks who took them before the seek
    (or came from records fetched before it), and 40 has not come again yet."""
    consumer._committed_offset[REQUESTS] = 40
    handled(consumer, REQUESTS, 41, 42)
    assert commits(consumer) is None
    handled(consumer, REQUESTS, 40)
    assert commits(consumer) == 43


def test_a_message_in_hand_again_keeps_the_count_of_its_first_handling(
    consumer: Consumer,
) -> None:
    """40 and 41 were handled, then a seek delivered 40 again: while the copy is in hand
    nothing is committed, and once it is done (a duplicate, not counted twice) both are."""
    consumer._committed_offset[REQUESTS] = 40
    handled(consumer, REQUESTS, 40, 41)
    again = in_hand(consumer, REQUESTS, 40)
    assert commits(consumer) is None
    again.acked = True
    assert commits(consumer) == 42


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
    consumer: Consumer,
    monkeypatch: pytest.MonkeyPatch,
    tp: TP,
    mark: int,
    offsets: list[int],
    holes: list[tuple[int, int]] | None = None,
) -> list[int]:
    """Offsets fetched after a seek to (or back below) a read mark, and which of them faust's
    fetch loop would deliver: it drops any message below the mark at the moment it arrives, and
    takes a jump past it for a hole (appended to `holes`, first and last offset)."""

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
                if read and message.offset - read > 1 and holes is not None:
                    holes.append((read + 1, message.offset - 1))
                delivered.append(message.offset)
                consumer._read_offset[tp] = message.offset
        return delivered

    return asyncio.run(drain())


def test_what_a_seek_back_asked_for_is_delivered(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert delivered_after_seek(consumer, monkeypatch, REQUESTS, 76, [40, 41, 42]) == [40, 41, 42]


def test_a_changelog_is_read_again_after_a_seek_back(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert delivered_after_seek(consumer, monkeypatch, CHANGELOG, 76, [0, 1]) == [0, 1]


def test_records_from_before_a_seek_make_no_hole(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sought to 40, and records from 76 on, fetched before the seek, arrive first: faust would
    count 41 to 75 as a hole, handled, before any of them came."""
    holes: list[tuple[int, int]] = []
    offsets = [76, 77, 40, 41, 42]
    assert delivered_after_seek(consumer, monkeypatch, REQUESTS, 40, offsets, holes) == offsets
    assert holes == []


def test_a_batch_fetched_before_a_seek_is_set_aside_and_the_seek_made_again(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sought to 40, the first record is 41: taking it would leave 40 behind the fetch
    position for good. The batch waits and the partition is sought to 40 again."""
    sought: list[tuple[TP, int]] = []
    monkeypatch.setattr(consumer._thread, "seek", lambda tp, offset: sought.append((tp, offset)))
    consumer._expect(REQUESTS, 40)
    assert delivered_after_seek(consumer, monkeypatch, REQUESTS, 40, [41, 42, 43]) == []
    assert sought == [(REQUESTS, 40)]
    assert delivered_after_seek(consumer, monkeypatch, REQUESTS, 40, [40, 41]) == [40, 41]
    assert delivered_after_seek(consumer, monkeypatch, REQUESTS, 41, [43]) == [43]
    assert sought == [(REQUESTS, 40)]


def test_an_offset_gone_from_the_log_is_sought_a_few_times_only(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sought: list[tuple[TP, int]] = []
    monkeypatch.setattr(consumer._thread, "seek", lambda tp, offset: sought.append((tp, offset)))
    consumer._expect(OTHER, 10)
    for _ in range(SEEK_AGAIN_AT_MOST):
        assert delivered_after_seek(consumer, monkeypatch, OTHER, 10, [12]) == []
    assert delivered_after_seek(consumer, monkeypatch, OTHER, 10, [12]) == [12]
    assert sought == [(OTHER, 10)] * SEEK_AGAIN_AT_MOST


def test_a_changelog_with_no_known_offset_is_read_from_its_start(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebalance during a table's recovery adds a standby partition after its offsets were
    looked up: faust seeks it to None, which aiokafka refuses with a crash."""
    sought: list[dict[TP, int]] = []

    async def seek_wait(partitions: dict[TP, int]) -> None:
        sought.append(dict(partitions))

    monkeypatch.setattr(consumer._thread, "seek_wait", seek_wait)
    asyncio.run(consumer.seek_wait({CHANGELOG: None, OTHER: -2, REQUESTS: 40}))
    assert sought == [{CHANGELOG: 0, OTHER: 0, REQUESTS: 40}]
