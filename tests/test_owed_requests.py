"""An idle worker sends again what its open cases still wait for (`owed.py`).

The orchestrator runs in faust's test context with sends recorded, not made: a trigger opens a
case and sends its first requests, which (as if lost) are never answered. Asked for what it
owes, the worker sends the same requests again, with the case's trace; once, however often it
is asked, and only for the partitions it holds.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.types import TP

import govstream.engines.kafka.app as kafka_app
from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.owed import nothing_left_to_read, partitions_held
from govstream.pipeline.schedule import trigger_makers
from govstream.scenario.loader import load_scenario
from processors import FLOWS

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "deregistration-fanout.yaml"
SOURCE = FLOWS["F03"].source_topic
PARTITION = 2
CASE = "F03-0000001-r"


def test_requests_owed_are_sent_again_once_with_the_case_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[str, str, dict[str, str]]] = []
    resends = []

    async def send(topic: faust.Topic, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        value, headers = kwargs["value"], h.read(kwargs["headers"])
        if "request_id" in value:  # a request, not the orchestrator's progress record
            sent.append((topic.get_topic_name(), str(value["request_id"]), headers))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    monkeypatch.setattr(faust.Topic, "send", send)
    monkeypatch.setattr(
        kafka_app, "resend_when_idle", lambda app, topics, resend: resends.append(resend)
    )
    scenario = load_scenario(BASE)
    app = kafka_app.build_app(scenario, "127.0.0.1:1")
    (resend,) = resends
    trigger = trigger_makers(scenario)["F03"](CASE, scenario.start.date())
    raw = AvroCodec(load_catalog()).encode(SOURCE, trigger)

    async def open_then_resend() -> tuple[int, int, int]:
        async with app.agents["orchestrator"].test_context() as orchestrator:
            made = orchestrator.to_message

            def from_the_source_topic(*args: Any, **kwargs: Any) -> faust.types.Message:
                message = made(*args, **kwargs)
                message.topic, message.partition = SOURCE, PARTITION
                message.tp = TP(SOURCE, PARTITION)
                return message

            orchestrator.to_message = from_the_source_topic
            headers = h.encode({h.RUN: "r", h.T0: "1000", h.SPEEDUP: "2000"})
            await orchestrator.put(value=raw, key=CASE.encode(), headers=headers)
            elsewhere = await resend({PARTITION + 1})
            owed = await resend({PARTITION})
            again = await resend({PARTITION})
            return elsewhere, owed, again

    elsewhere, owed, again = asyncio.run(open_then_resend())
    first = sent[: len(sent) // 2]
    assert first, "opening the case sent no request"
    assert (elsewhere, owed, again) == (0, len(first), 0)
    resent = sent[len(first) :]
    assert [(t, r) for t, r, _ in resent] == [(t, r) for t, r, _ in first]
    for _, _, marks in resent:
        assert (marks[h.RUN], marks[h.T0], marks[h.SPEEDUP]) == ("r", "1000", "2000")


class Consumer:
    def __init__(self, ends: dict[TP, int], committed: dict[TP, int]) -> None:
        self.ends, self._committed_offset = ends, committed

    def assignment(self) -> set[TP]:
        return set(self.ends)

    def highwater(self, tp: TP) -> int:
        return self.ends[tp]


def test_a_worker_has_nothing_left_to_read_only_when_every_partition_is_committed() -> None:
    requests, changelog = TP("police.seal-cancellation-request.v1", 4), TP("cases-changelog", 4)
    ends = {requests: 10, changelog: 50}
    assert nothing_left_to_read(Consumer(ends, {requests: 10}), {changelog.topic})
    assert not nothing_left_to_read(Consumer(ends, {requests: 9}), {changelog.topic})
    assert not nothing_left_to_read(Consumer(ends, {}), {changelog.topic})
    assert partitions_held({requests, changelog, TP(SOURCE, 1)}, {SOURCE}) == {1}
