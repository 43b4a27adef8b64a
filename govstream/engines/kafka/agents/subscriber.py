"""A subscriber agent: one agency's table of a flow's published records, and its own checks.

It reads the publication's compacted topic and the agency's own checks, both partitioned by the
entity, so an entity's records and the checks of it meet in one partition and its row of the
table. A record, or its tombstone, is a request for the agency's own step (`holds`, `drops`),
served by the agency's clerks as any request is (`endpoint.answer`); the table changes when the
clerk is done, just before the answer goes out. A check looks the entity up in the table as it
is then and tells the platform which records it found, on the agency's own topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import faust

from govstream.contracts.codec import CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.endpoint import EndpointDeps, answer
from govstream.engines.kafka.agents.shared import PROCESSING_FAILED, about_case
from processors.flow import FlowSpec, Subscriber, request_id

Table = MutableMapping[str, Any]
"""`<run>/<entity>` -> record key -> the record's case (a faust Table; any mapping will do).
Rows are the run's own: a table outlives a run in its changelog, and a record another run left
in it is not this run's to find."""


def row(trace: dict[str, str], entity: str) -> str:
    return f"{trace.get(h.RUN, '')}/{entity}"


@dataclass
class SubscriberDeps:
    """What a subscriber agent works with: the agency's desk (its clerks serve the publication
    with its other requests), the flow and the subscriber it is, and its table."""

    desk: EndpointDeps
    flow: FlowSpec
    subscriber: Subscriber
    records: Table
    pending: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def topics(self) -> list[str]:
        """The publication's compacted topic and the agency's own checks."""
        holds = self.flow.step(self.subscriber.holds)
        assert holds.topic is not None
        return [holds.topic, self.subscriber.checks]


def subscriber(deps: SubscriberDeps) -> Callable[[faust.StreamT], Awaitable[None]]:
    """The agent function, for ``app.agent(topics, name=f"{flow}-{agency}-subscriber")``."""

    async def keep(stream: faust.StreamT) -> None:
        taking = stream.noack()
        async for event in taking.events():
            if event.message.topic == deps.subscriber.checks:
                await check(deps, event)
                await taking.ack(event)
            else:
                await take(deps, taking, event)

    return keep


async def take(deps: SubscriberDeps, stream: faust.StreamT, event: faust.EventT) -> None:
    """A published record or its tombstone: the agency's step, served beside the others."""
    received = deps.desk.clock.now()
    message, flow = event.message, deps.flow
    outbox = deps.desk.outbox
    with about_case(event, flow.id) as trace:
        case_id, entity = trace.get(h.CASE), trace.get(h.ENTITY)
        tombstone = message.value is None
        try:
            if not case_id or not entity:
                raise CodecError("a published record names its case and entity in its headers")
            decoded = None if tombstone else outbox.codec.decode(message.value, message.topic)
            body = {} if decoded is None else dict(decoded.value)
        except CodecError as error:
            await outbox.dead_letter(event, error.reason, error)
            await stream.ack(event)
            return
        step = flow.step(deps.subscriber.drops if tombstone else deps.subscriber.holds)
        key = message.key.decode() if isinstance(message.key, bytes) else str(message.key)
        request = {**body, "request_id": request_id(case_id, step.id), "case_id": case_id}

        mine = row(trace, entity)

        def change() -> None:
            held = dict(deps.records.get(mine) or {})
            if tombstone:
                held.pop(key, None)
            else:
                held[key] = case_id
            if held:
                deps.records[mine] = held
            else:
                deps.records.pop(mine, None)

        async def serve() -> None:
            try:
                await answer(deps.desk, flow, step, request, trace, received, change)
            except Exception as error:  # one record that fails must not hold every later one
                await outbox.dead_letter(event, PROCESSING_FAILED, error)
            await stream.ack(event)

        task = asyncio.ensure_future(serve())
    deps.pending.add(task)
    task.add_done_callback(deps.pending.discard)


async def check(deps: SubscriberDeps, event: faust.EventT) -> None:
    """The agency checks an entity in its own work: what its table holds of it, now."""
    outbox = deps.desk.outbox
    with about_case(event, deps.flow.id) as trace:
        try:
            value = outbox.codec.decode(
                event.message.value, expected_topic=deps.subscriber.checks
            ).value
        except CodecError as error:
            await outbox.dead_letter(event, error.reason, error)
            return
        entity = str(value["uscc"])
        found = list((deps.records.get(row(trace, entity)) or {}).values())
        use = {
            "check_id": value["check_id"],
            "subscriber": deps.subscriber.agency,
            "uscc": entity,
            "found": found,
            "checked_at": value["checked_at"],
        }
        await outbox.record(deps.subscriber.uses, entity, use, h.carry(trace))
