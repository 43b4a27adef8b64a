"""The wait timer agent: waits outside any agency (a supplier delivering), each answered once
the run's business clock reaches its end.

Every wait runs at once, however many there are: nobody queues for a supplier. Its message is
acknowledged by hand once its outcome is sent, not when the timer takes the next one: a worker
lost mid-wait leaves the wait unacknowledged, and the worker that inherits the partition starts
it again. A deadline no longer needed is withdrawn by a second message for the same request,
on the same partition and so after it: the timer answers that wait at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import faust

from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.shared import Beside, Clock, Outbox
from govstream.engines.kafka.business_clock import CaseClock
from govstream.pipeline.agencies import Waits
from processors.flow import FlowSpec


@dataclass
class WaitTimerDeps:
    """What the wait timer works with: the waits' durations and outcomes, the flows whose wait
    topics it reads, and where it sends."""

    waits: Waits
    flows: Mapping[str, FlowSpec]
    """Wait topic -> its flow."""
    outbox: Outbox
    codec: AvroCodec
    speedup: float
    """The scenario's, for a wait whose trace names none."""
    clock: Clock = field(default_factory=Clock)
    beside: Beside = field(init=False)
    """The waits under way."""
    withdrawals: dict[str, asyncio.Event] = field(default_factory=dict)
    """By request id, the waits under way that a withdrawal would end."""

    def __post_init__(self) -> None:
        self.beside = Beside(self.outbox, self.codec)


def wait_timer(deps: WaitTimerDeps) -> Callable[[faust.StreamT], Awaitable[None]]:
    """The agent function, for ``app.agent(waits, name="wait-timer")``."""

    async def time_waits(stream: faust.StreamT) -> None:
        """Every wait runs at once, however many there are: nobody queues for a supplier.
        Acknowledged by hand, each when its wait is over, not when the next one starts."""
        waiting = stream.noack()
        async for event in waiting.events():
            await start(deps, waiting, event)

    return time_waits


async def start(deps: WaitTimerDeps, waiting: faust.StreamT, event: faust.EventT) -> None:
    """Starts one wait beside the others."""
    flow = deps.flows.get(event.message.topic)

    async def handle(request: dict[str, Any], trace: dict[str, str]) -> None:
        assert flow is not None  # the timer reads only the flows' wait topics
        if request.get("withdrawn"):
            # Its wait, earlier on the partition, registered as its task began; none
            # registered means it was over already.
            withdrawn = deps.withdrawals.get(str(request["request_id"]))
            if withdrawn is not None:
                withdrawn.set()
            return
        await finish(deps, flow, request, trace)

    await deps.beside.start(waiting, event, event.value, flow.id if flow else None, handle)


async def finish(
    deps: WaitTimerDeps, flow: FlowSpec, request: dict[str, Any], trace: dict[str, str]
) -> None:
    """Waits until the wait is over on the business clock, then answers. Nobody queues for a
    supplier: the wait begins when it is asked for and lasts its drawn duration, whatever the
    speedup."""
    step = flow.step(str(request["step"]))
    clock = deps.clock
    received = clock.now()
    case = CaseClock.of(trace, deps.speedup, received)
    begun = case.at(received)
    lasts = 0.0
    if h.WARM_UP not in trace:  # start-up traffic is answered at once
        lasts = deps.waits.duration(flow.id, step.id, request)
        withdrawn = deps.withdrawals[str(request["request_id"])] = asyncio.Event()
        over = asyncio.ensure_future(clock.sleep_until(case.wall_of(begun + lasts)))
        told = asyncio.ensure_future(withdrawn.wait())
        try:
            await asyncio.wait({over, told}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            over.cancel()
            told.cancel()
            deps.withdrawals.pop(str(request["request_id"]), None)
        if withdrawn.is_set():
            lasts = max(0.0, min(lasts, case.run_at(clock.now()) - begun))
    sent = clock.now()
    marks = h.answered(
        trace,
        case.after_stay(sent - received, lasts),
        delivered=received,
        acted=sent,
        step=step.id,
        pool=step.actor,
        **{h.B_DELIVERED: begun, h.B_DONE: begun + lasts},
    )
    await deps.outbox.send(deps.waits.act(flow, step, request), marks)
