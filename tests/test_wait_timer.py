"""The wait timer holds each wait's message until the wait is over.

Waits run side by side, so the timer takes the next message while earlier waits go on. Were
a message acknowledged when the timer took the next one, its offset could be committed while
its wait was still running, and a worker lost then would take the wait with it: the case would
never go on. Each message is acknowledged once its wait's outcome is sent.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import faust
import pytest
from test_flow_f17 import award

from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.app import build_app
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.agency import outcome_for
from processors.flow import TIMER
from processors.orchestrator import Orchestrator

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "procurement-lifecycle.yaml"
FLOW = FLOWS["F17"]
WAIT_SECONDS = 0.5
"""The delivery wait in wall seconds: one business day at a speedup of 86,400 ÷ 0.5."""


def delivery_request() -> bytes:
    """A delivery wait's request as the orchestrator emits it, each step before it answered."""
    orchestrator = Orchestrator(FLOW)
    progress = orchestrator.open(None, award(), 0.0, 0.0)
    pending = list(progress.emits)
    while pending:
        emit = pending.pop(0)
        if emit.step == "delivery":
            return AvroCodec(load_catalog()).encode(emit.topic, emit.value)
        step = FLOW.step(str(emit.step))
        outcome = outcome_for(FLOW, step, emit.value, random.Random(1)).value
        progress = orchestrator.record(progress.state, outcome, 1.0, 1.0)
        pending += progress.emits
    raise AssertionError("no delivery wait in the flow")


def test_a_wait_is_acknowledged_only_once_its_outcome_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[str] = []

    async def send(topic: faust.Topic, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        sent.append(topic.get_topic_name())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    monkeypatch.setattr(faust.Topic, "send", send)
    scenario = load_scenario(SCENARIO, ["steps.delivery.duration={dist: constant, value: 1d}"])
    app = build_app(scenario, "127.0.0.1:1")
    request = delivery_request()
    headers = h.encode({h.SPEEDUP: str(86_400 / WAIT_SECONDS), h.T0: "0"})

    async def wait_once() -> tuple[bool, bool]:
        async with app.agents["wait-timer"].test_context() as timer:
            event = await timer.put(value=request, key=b"F17-0000001", headers=headers)
            await asyncio.sleep(WAIT_SECONDS / 2)
            during = bool(event.message.acked)
            for _ in range(100):
                if event.message.acked:
                    break
                await asyncio.sleep(WAIT_SECONDS / 10)
            return during, bool(event.message.acked)

    during, after = asyncio.run(wait_once())
    assert not during, "acknowledged while its wait still ran"
    assert after, "never acknowledged after its wait"
    assert sent == [FLOW.outcome_topic(TIMER)], sent
