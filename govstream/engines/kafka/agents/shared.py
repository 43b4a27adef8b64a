"""What the agents share: sending with headers, dead-lettering with the error scrubbed, the
clock they keep time by, and the case a log line is about.

Agents send through an `Outbox` rather than faust topics they look up themselves, so an agent
can be run alone with topics that only record what they are given (see the agents' tests).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import faust
import structlog

from govstream.contracts.catalog import Catalog
from govstream.contracts.codec import AvroCodec, CodecError
from govstream.contracts.personal import marked_fields, personal_values, scrub
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.arrival import Arrival
from govstream.engines.kafka.topics import entity_partition
from processors.events import Emit

log = structlog.get_logger(__name__)

PROCESSING_FAILED = "processing-failed"
"""Dead-letter reason for a well-formed message that raised while it was handled."""


class Destination(Protocol):
    """A topic an agent sends to (a faust topic; in the agents' tests, a recorder)."""

    async def send(self, *, key: Any, value: Any, headers: Any) -> Awaitable[Any]: ...


@dataclass(frozen=True)
class RawTopic:
    """A topic written as bytes through the app's producer: the one way to send a tombstone,
    whose null value no faust serializer takes."""

    app: faust.App
    name: str

    async def send(
        self, *, key: bytes, value: bytes | None, headers: Any, partition: int | None = None
    ) -> Awaitable[Any]:
        return await self.app.producer.send(
            self.name, key, value, partition=partition, timestamp=None, headers=headers
        )


@dataclass(frozen=True)
class Clock:
    """The wall clock the agents read and sleep on."""

    now: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    async def sleep_until(self, wall: float) -> None:
        delay = wall - self.now()
        if delay > 0:
            await self.sleep(delay)


def personal_fields(catalog: Catalog) -> dict[str, dict[str, str]]:
    """Each topic's fields marked personal, to keep out of dead-letter errors."""
    return {name: marked_fields(catalog.schema_json(name)) for name in catalog.topics}


@dataclass
class Outbox:
    """Where the agents' messages go: each contract topic by name, and the dead letters."""

    topics: Mapping[str, Destination]
    dead_letters: Destination
    codec: AvroCodec
    personal: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per topic, its personal fields (`personal_fields`)."""

    async def send(self, emit: Emit, marks: Mapping[str, str]) -> Awaitable[Any]:
        """Queues the message; the returned future is done once the brokers have it."""
        return await self.record(emit.topic, emit.key, emit.value, marks)

    async def record(
        self, topic: str, key: str, value: Mapping[str, Any], marks: Mapping[str, str]
    ) -> Awaitable[Any]:
        return await self.topics[topic].send(key=key.encode(), value=value, headers=h.encode(marks))

    async def publish(
        self,
        topic: str,
        key: str,
        value: Mapping[str, Any] | None,
        marks: Mapping[str, str],
        entity: str,
    ) -> Awaitable[Any]:
        """A record on a compacted topic, or with None its tombstone, in the partition of its
        `entity`, where that entity's checks are (`entity_partition`)."""
        destination = self.topics[topic]
        body = None if value is None else self.codec.encode(topic, value)
        partitions = self.codec.catalog.topic(topic).partitions
        return await destination.send(
            key=key.encode(),
            value=body,
            headers=h.encode(marks),
            partition=entity_partition(entity, partitions),
        )

    def personal_in(self, topic: str, raw: bytes) -> set[str]:
        """The personal values of a message that decodes, to keep out of its error text."""
        if not self.personal.get(topic):
            return set()
        try:
            record = self.codec.decode(raw, expected_topic=topic).value
        except CodecError:
            return set()
        return personal_values(self.personal[topic], record)

    async def dead_letter(self, event: faust.EventT, reason: str, error: Exception) -> None:
        """The message as it came, to the dead-letter topic, with why in its headers."""
        message = event.message
        raw_value = message.value if isinstance(message.value, bytes) else b""
        if isinstance(message.value, Arrival):
            raw_value = message.value.body
        marks = h.read(message.headers)
        marks.update(
            {
                h.DLQ_REASON: reason,
                # An error may quote the record it failed on: headers carry no personal data.
                h.DLQ_ERROR: scrub(str(error), self.personal_in(message.topic, raw_value))[:500],
                h.DLQ_TOPIC: message.topic,
                h.DLQ_PARTITION: str(message.partition),
                h.DLQ_OFFSET: str(message.offset),
            }
        )
        await self.dead_letters.send(key=message.key, value=raw_value, headers=h.encode(marks))
        log.warning(  # the run, flow and case are bound while the message is handled
            "dead-lettered",
            event_id=marks.get("ce_id"),
            topic=message.topic,
            offset=message.offset,
            reason=reason,
        )


def case_id_of(key: Any) -> str | None:
    """The case a message is about: its key."""
    if key is None:
        return None
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)


@contextmanager
def about_case(event: faust.EventT, flow: str | None = None) -> Iterator[dict[str, str]]:
    """While a message is handled, every line logged (in tasks started meanwhile too) carries
    its run (`gs_run`), flow (`gs_flow`, else `flow`: its topic's) and case (its key). Yields
    the message's trace headers."""
    trace = h.read(event.message.headers)
    with structlog.contextvars.bound_contextvars(
        run_id=trace.get(h.RUN), flow=trace.get(h.FLOW) or flow, case_id=case_id_of(event.key)
    ):
        yield trace


Handler = Callable[[dict[str, Any], dict[str, str]], Awaitable[None]]
"""Handles a message's decoded record, given its trace, to the end: its answer sent."""


@dataclass
class Beside:
    """Messages handled each on its own, side by side, each acknowledged only once its answer
    is sent: a worker lost meanwhile leaves it unacknowledged, and the worker that inherits its
    partition handles it again. Nobody waits for anybody else's request or wait."""

    outbox: Outbox
    codec: AvroCodec
    pending: set[asyncio.Task[None]] = field(default_factory=set)
    """What is under way."""

    async def start(
        self,
        stream: faust.StreamT,
        event: faust.EventT,
        body: bytes,
        flow: str | None,
        handle: Handler,
    ) -> None:
        """Starts one message; one that does not decode is dead-lettered and acknowledged at
        once."""
        topic = event.message.topic
        with about_case(event, flow) as trace:
            try:
                record = dict(self.codec.decode(body, expected_topic=topic).value)
            except CodecError as error:
                await self.outbox.dead_letter(event, error.reason, error)
                await stream.ack(event)
                return
            # Started within: its lines carry the case too.
            task = asyncio.ensure_future(self._finish(stream, event, record, trace, handle))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _finish(
        self,
        stream: faust.StreamT,
        event: faust.EventT,
        record: dict[str, Any],
        trace: dict[str, str],
        handle: Handler,
    ) -> None:
        try:
            await handle(record, trace)
        except Exception as error:  # one message that fails must not hold every later one
            await self.outbox.dead_letter(event, PROCESSING_FAILED, error)
        # Only now may the offset be committed.
        await stream.ack(event)
