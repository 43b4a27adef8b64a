"""An agency endpoint agent: one pool of clerks sharing one queue, for every flow it serves.

It reads every request topic the pool serves, so a shared agency's clerks serve all its flows
from one queue. The clerks live on the business clock (`business_clock.Clerks`): a request is
taken up at the later of its business arrival and a clerk's free time, waits for the pool's
opening hours and works for the service time the agency model (`AgencyPool`) draws for it; the
answer goes out once the run's business clock reaches the moment the work is done. That wall
sleep only keeps answers in order, so a request's business wait does not depend on the
speedup. Every request is placed and answered on its own, beside the others, and acknowledged
only once its answer is sent: a worker lost meanwhile leaves it to the worker that inherits its
partition. Requests arrive stamped with the moment this worker received them (`arrival.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import faust

from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.shared import Beside, Clock, Outbox
from govstream.engines.kafka.arrival import Arrival
from govstream.engines.kafka.business_clock import CaseClock, Clerks
from govstream.pipeline.agencies import AgencyPool
from govstream.pipeline.exchange import Crossing, Exchange
from processors.flow import FlowSpec, Step, unit_of


def served_by(pool: AgencyPool, flows: Mapping[str, FlowSpec]) -> dict[str, tuple[FlowSpec, Step]]:
    """Each request topic the pool serves, with its flow and step; a publication's compacted
    topic, which carries two steps of each subscriber, is read by the subscriber's own agent
    (`subscriber.py`)."""
    return {
        step.topic: (flows[flow_id], step)
        for flow_id in pool.flows
        for step in flows[flow_id].steps_of(pool.agency)
        if step.topic and step.published is None
    }


@dataclass
class EndpointDeps:
    """What an endpoint agent works with: its pool, this worker's share of the pool's clerks,
    the request topics it serves, the exchange, and where it sends."""

    pool: AgencyPool
    serves: Mapping[str, tuple[FlowSpec, Step]]
    """Request topic -> its flow and step (`served_by`)."""
    outbox: Outbox
    codec: AvroCodec
    speedup: float
    """The scenario's, for a request whose trace names none."""
    exchange: Exchange
    clerks: Clerks
    clock: Clock = field(default_factory=Clock)
    beside: Beside = field(init=False)
    """The requests under way."""

    def __post_init__(self) -> None:
        self.beside = Beside(self.outbox, self.codec)


def endpoint(deps: EndpointDeps) -> Callable[[faust.StreamT], Awaitable[None]]:
    """The agent function, for ``app.agent(requests, name=f"{pool.name}-endpoint")``."""

    async def serve(stream: faust.StreamT) -> None:
        answering = stream.noack()
        async for event in answering.events():
            await take(deps, answering, event)

    return serve


async def take(deps: EndpointDeps, stream: faust.StreamT, event: faust.EventT) -> None:
    """Starts one request beside the others."""
    arrival: Arrival = event.value
    flow, step = deps.serves[event.message.topic]

    async def handle(request: dict[str, Any], trace: dict[str, str]) -> None:
        await answer(deps, flow, step, request, trace, arrival.at)

    await deps.beside.start(stream, event, arrival.body, flow.id, handle)


async def answer(
    deps: EndpointDeps,
    flow: FlowSpec,
    step: Step,
    request: dict[str, Any],
    trace: dict[str, str],
    received: float,
    done: Callable[[], None] = lambda: None,
) -> None:
    """Places the request on the business clock once the run reaches its arrival there, and
    answers once the run reaches its end of work; `done` is what the agency's own system does
    then, before the answer goes out (a subscriber's table taking a record in)."""
    clock, pool = deps.clock, deps.pool
    case = CaseClock.of(trace, deps.speedup, received)
    if h.WARM_UP in trace:  # start-up traffic is answered at once, outside any calendar
        now = clock.now()
        stay = case.after_stay(now - received, 0.0)
        marks = h.answered(trace, stay, delivered=received, acted=now, step=step.id, pool=pool.name)
        done()
        await deps.outbox.send(pool.act(flow, step, request), marks)
        return
    case_id, unit = str(request["case_id"]), unit_of(request)
    there = deps.exchange.delay(Crossing.REQUEST, case_id, unit)
    back = deps.exchange.delay(Crossing.OUTCOME, case_id, unit)
    arrived = case.at(received) + there
    await clock.sleep_until(case.wall_of(arrived))
    work = pool.service_time(flow.id, step.id, case_id, unit)
    placed = deps.clerks.place(arrived, work, pool.hours)
    outcome = pool.act(flow, step, request)
    due = case.wall_of(placed.done)
    await clock.sleep_until(due)
    sent = clock.now()
    marks = h.answered(
        trace,
        case.after_stay(sent - received, placed.done - arrived, there + back),
        delivered=received,
        acted=sent,
        step=step.id,
        pool=pool.name,
        **{
            h.B_DELIVERED: arrived,
            h.B_TAKEN: placed.taken,
            h.B_STARTED: placed.started,
            h.B_DONE: placed.done,
            h.WORK: work,
            h.UNCERTAIN: placed.uncertain,
            h.OVERSHOOT: max(0.0, sent - due),
        },
    )
    done()
    await deps.outbox.send(outcome, marks)
