"""The faust app for one flow: fan-out, agency endpoints and the case tracker as agents.

The agents only move bytes and time; what they decide comes from the same pure processors the
sim engine runs (FanOut, CaseTracker, outcome_for) and the same opening rules (AgencyHours).
Inbound topics are read raw and decoded in the agent, so a message that is not valid
single-object Avro goes to the dead-letter topic with its reason instead of stopping a stream.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from typing import Any

import faust
import structlog

from govstream.agency_hours import AgencyHours
from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec, CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.arrival import Arrival, ArrivalStampedSchema
from govstream.engines.kafka.faust_codec import register_topic_codecs
from govstream.engines.sim.engine import scenario_calendar
from govstream.scenario.model import Scenario
from processors import flow as flow_by_id
from processors.agency import outcome_for
from processors.case_tracker import CaseTracker
from processors.fanout import FanOut
from processors.flow import FlowSpec, Route

log = structlog.get_logger(__name__)


def app_id(flow: FlowSpec) -> str:
    return f"govstream-{flow.id.lower()}"


def broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{address.strip()}" for address in bootstrap.split(",") if address.strip()]


class BusinessClock:
    """Maps wall time to business seconds with the run's start and speedup from the headers."""

    def __init__(self, trace: dict[str, str], default_speedup: float) -> None:
        self.t0 = h.mark(trace, h.T0) or time.time()
        self.speedup = h.mark(trace, h.SPEEDUP) or default_speedup

    def business(self, wall: float) -> float:
        return (wall - self.t0) * self.speedup

    def wall(self, business: float) -> float:
        return self.t0 + business / self.speedup


PROCESSING_FAILED = "processing-failed"
"""Dead-letter reason for a well-formed request that raised while an agency handled it."""

STREAM_BUFFER_MAXSIZE = 32768
"""faust pauses fetching a partition at 80 % of this (26,214 requests in one agent's buffer)."""


def clerks_per_worker(servers: int, workers: int) -> int:
    """Each of ``workers`` processes runs its share of an agency's clerks, rounded up."""
    return max(1, math.ceil(servers / workers))


async def sleep_until(wall: float) -> None:
    delay = wall - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


def build_app(
    scenario: Scenario,
    bootstrap: str,
    *,
    workers: int = 1,
    replication_factor: int = 1,
    on_ready: Callable[[], None] | None = None,
) -> faust.App:
    flow = flow_by_id(scenario.flow)
    catalog = load_catalog()
    codec = AvroCodec(catalog)
    source_partitions = catalog.topic(flow.source_topic).partitions
    app = faust.App(
        app_id(flow),
        broker=broker_urls(bootstrap),
        store="memory://",
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        topic_replication_factor=replication_factor,
        topic_partitions=source_partitions,
        topic_allow_declare=True,
        broker_commit_every=100,
        broker_commit_interval=0.5,
        stream_wait_empty=False,
        # An agency's backlog waits in its agent's buffer, where its arrival is stamped
        # (see arrival.py); only what overflows the buffer waits in Kafka unstamped.
        stream_buffer_maxsize=STREAM_BUFFER_MAXSIZE,
    )
    outbound = [route.topic for route in flow.routes]
    outbound += [flow.outcome_topic, flow.completed_topic]
    codec_names = register_topic_codecs(codec, outbound)

    def send_topic(name: str) -> faust.TopicT:
        return app.topic(name, value_serializer=codec_names[name], internal=False)

    def raw_topic(*names: str) -> faust.TopicT:
        return app.topic(*names, value_serializer="raw", internal=False)

    dead_letters = raw_topic(catalog.dead_letter_topic)
    request_topics = {route.topic: send_topic(route.topic) for route in flow.routes}
    outcomes = send_topic(flow.outcome_topic)
    completed = send_topic(flow.completed_topic)
    cases = app.Table(
        f"{flow.id.lower()}-cases",
        default=None,
        partitions=source_partitions,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )

    async def dead_letter(event: faust.EventT, reason: str, error: Exception) -> None:
        message = event.message
        marks = h.read(message.headers)
        marks.update(
            {
                h.DLQ_REASON: reason,
                h.DLQ_ERROR: str(error)[:500],
                h.DLQ_TOPIC: message.topic,
                h.DLQ_PARTITION: str(message.partition),
                h.DLQ_OFFSET: str(message.offset),
            }
        )
        raw_value = message.value if isinstance(message.value, bytes) else b""
        await dead_letters.send(key=message.key, value=raw_value, headers=h.encode(marks))
        log.warning(
            "dead-lettered",
            case_id=message.key.decode("utf-8", "replace") if message.key else None,
            event_id=marks.get("ce_id"),
            flow=flow.id,
            topic=message.topic,
            offset=message.offset,
            reason=reason,
        )

    fanout = FanOut(flow)

    @app.agent(raw_topic(flow.source_topic), name=fanout.name)
    async def fan_out(stream: faust.StreamT) -> None:
        async for event in stream.events():
            arrived = time.time()
            try:
                trigger = codec.decode(event.value, expected_topic=flow.source_topic).value
            except CodecError as error:
                await dead_letter(event, error.reason, error)
                continue
            trace = h.read(event.message.headers)
            emits = fanout.process(trigger)
            sent = time.time()
            for emit in emits:
                marks = h.carry(trace, **{h.FANOUT_IN: arrived, h.FANOUT_OUT: sent})
                marks.update(
                    h.cloud_event(
                        event_id=str(emit.value["request_id"]),
                        source=fanout.name,
                        event_type=emit.topic,
                        subject=emit.key,
                        at=sent,
                    )
                )
                await request_topics[emit.topic].send(
                    key=emit.key.encode(), value=emit.value, headers=h.encode(marks)
                )

    calendar = scenario_calendar(scenario)

    def endpoint(route: Route) -> None:
        """A simulated agency: clerks sharing one queue, acting for the service time."""
        recipient, topic = route.recipient, route.topic
        spec = scenario.agencies[recipient]
        hours = AgencyHours(spec, calendar if spec.calendar == "office" else None)
        draw = spec.service_time.sampler()
        rng = random.Random()

        async def act(trace: dict[str, str]) -> float:
            """Wait for opening hours, then work for the service time; return when work began."""
            if h.WARM_UP in trace:  # start-up traffic is answered at once, outside any calendar
                return time.time()
            clock = BusinessClock(trace, scenario.kafka.speedup)
            await sleep_until(clock.wall(hours.next_available(clock.business(time.time()))))
            started = time.time()
            await sleep_until(clock.wall(hours.finish_time(clock.business(started), draw(rng))))
            return started

        async def serve(stream: faust.StreamT) -> None:
            async for event in stream.events():
                arrival: Arrival = event.value
                delivered, taken = arrival.at, time.time()
                try:
                    request = codec.decode(arrival.body, expected_topic=topic).value
                except CodecError as error:
                    await dead_letter(event, error.reason, error)
                    continue
                trace = h.read(event.message.headers)
                try:
                    started = await act(trace)
                    rejected = (
                        spec.reject_probability > 0 and rng.random() < spec.reject_probability
                    )
                    reason = "request rejected by the recipient" if rejected else None
                    outcome = outcome_for(flow, recipient, request, rejected_reason=reason)
                except Exception as error:  # one request the agency cannot handle must not stop it
                    await dead_letter(event, PROCESSING_FAILED, error)
                    continue
                marks = h.carry(
                    trace,
                    **{
                        h.DELIVERED: delivered,
                        h.TAKEN: taken,
                        h.STARTED: started,
                        h.ACTED: time.time(),
                        h.RECIPIENT: recipient,
                    },
                )
                await outcomes.send(
                    key=outcome.key.encode(), value=outcome.value, headers=h.encode(marks)
                )

        concurrency = clerks_per_worker(spec.servers, workers)
        inbox = app.topic(topic, schema=ArrivalStampedSchema(), internal=False)
        app.agent(inbox, name=f"{recipient}-endpoint", concurrency=concurrency)(serve)

    for route in flow.routes:
        endpoint(route)

    tracker = CaseTracker(flow)

    @app.agent(raw_topic(flow.source_topic, flow.outcome_topic), name=tracker.name)
    async def track(stream: faust.StreamT) -> None:
        async for event in stream.events():
            topic = event.message.topic
            trace = h.read(event.message.headers)
            case_id = event.key.decode() if isinstance(event.key, bytes) else str(event.key)
            if topic == flow.source_topic:
                try:
                    trigger = codec.decode(event.value, expected_topic=topic).value
                except CodecError:
                    continue  # the fan-out agent dead-letters this topic's bad messages
                expected = fanout.expected_recipients(trigger)
                intended = h.mark(trace, h.INTENDED) or time.time()
                result = tracker.open(cases.get(case_id), case_id, expected, intended)
                result.state["trace"] = h.carry(trace)
            else:
                try:
                    outcome = codec.decode(event.value, expected_topic=topic).value
                except CodecError as error:
                    await dead_letter(event, error.reason, error)
                    continue
                result = tracker.record(cases.get(case_id), outcome, time.time())
            cases[case_id] = result.state
            if result.completion is not None:
                marks = dict(result.state.get("trace") or {})
                marks[h.ACTED] = str(result.completion.completed_at)
                await completed.send(
                    key=case_id.encode(),
                    value=result.completion.emit.value,
                    headers=h.encode(marks),
                )

    if on_ready is not None:

        @app.on_rebalance_complete.connect
        async def _ready(sender: Any, **kwargs: Any) -> None:
            on_ready()

    return app
