"""An agency endpoint agent: one pool of clerks sharing one queue, for every flow it serves.

It reads every request topic the pool serves, so a shared agency's clerks (the agent's
concurrency) serve all its flows from one queue. A clerk waits for the pool's opening hours,
then works for the service time ÷ speedup, and answers with the outcome the agency model
(`AgencyPool`) draws. Requests arrive stamped with the moment this worker received them
(`arrival.py`), so the queue they wait in is not counted as transport.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import faust

from govstream.contracts.codec import AvroCodec, CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.shared import PROCESSING_FAILED, Clock, Outbox, about_case
from govstream.engines.kafka.arrival import Arrival
from govstream.pipeline.agencies import AgencyPool
from processors.flow import FlowSpec, Step


def served_by(pool: AgencyPool, flows: Mapping[str, FlowSpec]) -> dict[str, tuple[FlowSpec, Step]]:
    """Each request topic the pool serves, with its flow and step."""
    return {
        step.topic: (flows[flow_id], step)
        for flow_id in pool.flows
        for step in flows[flow_id].steps_of(pool.agency)
        if step.topic
    }


@dataclass
class EndpointDeps:
    """What an endpoint agent works with: its pool of clerks, the request topics it serves,
    and where it sends."""

    pool: AgencyPool
    serves: Mapping[str, tuple[FlowSpec, Step]]
    """Request topic -> its flow and step (`served_by`)."""
    outbox: Outbox
    codec: AvroCodec
    speedup: float
    """The scenario's, for a request whose trace names none."""
    clock: Clock = field(default_factory=Clock)


def endpoint(deps: EndpointDeps) -> Callable[[faust.StreamT], Awaitable[None]]:
    """The agent function, for ``app.agent(requests, name=f"{pool.name}-endpoint")``."""

    async def serve(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await answer(deps, event)

    return serve


async def act(
    deps: EndpointDeps, trace: dict[str, str], flow_id: str, step_id: str
) -> tuple[float, float, float]:
    """Wait for opening hours, then work for the service time; return when work began,
    the business seconds worked, and how late (wall seconds) the work ended.

    Opening hours are read on the run's one business clock (wall time since `t0`
    times speedup), not on each case's own: every clerk closes and opens at the same
    moment, as in an office, whatever transport lag each case carries.
    """
    clock, pool = deps.clock, deps.pool
    if h.WARM_UP in trace:  # start-up traffic is answered at once, outside any calendar
        return clock.now(), 0.0, 0.0
    t0 = h.mark(trace, h.T0) or clock.now()
    speedup = h.mark(trace, h.SPEEDUP) or deps.speedup
    opens = pool.hours.next_available((clock.now() - t0) * speedup)
    await clock.sleep_until(t0 + opens / speedup)
    started = clock.now()
    work = pool.service_time(flow_id, step_id)
    done = pool.hours.finish_time(opens, work)
    due = t0 + done / speedup
    await clock.sleep_until(due)
    return started, work, max(0.0, clock.now() - due)


async def answer(deps: EndpointDeps, event: faust.EventT) -> None:
    """One request: decoded, acted on and answered; dead-lettered if it is not valid or the
    agency cannot act on it, and the clerk goes on."""
    arrival: Arrival = event.value
    delivered, taken = arrival.at, deps.clock.now()
    topic = event.message.topic
    flow, step = deps.serves[topic]
    with about_case(event, flow.id) as trace:
        try:
            request = deps.codec.decode(arrival.body, expected_topic=topic).value
        except CodecError as error:
            await deps.outbox.dead_letter(event, error.reason, error)
            return
        try:
            started, work, overshoot = await act(deps, trace, flow.id, step.id)
            outcome = deps.pool.act(flow, step, request)
        except Exception as error:  # one request the agency cannot handle must not stop it
            await deps.outbox.dead_letter(event, PROCESSING_FAILED, error)
            return
        marks = h.answered(
            trace,
            delivered=delivered,
            started=started,
            acted=deps.clock.now(),
            step=step.id,
            pool=deps.pool.name,
            **{h.TAKEN: taken, h.WORK: work, h.OVERSHOOT: overshoot},
        )
        await deps.outbox.send(outcome, marks)
