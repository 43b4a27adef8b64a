"""The open-loop load generator: emits each trigger at its intended time, whatever happens.

A late emit is not skipped or re-timed: its latency still counts from the intended time, so a
producer that falls behind shows up as latency instead of hiding it (coordinated omission).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.access import settings
from govstream.engines.kafka.topics import entity_partition
from govstream.pipeline.exchange import Crossing, Exchange
from govstream.pipeline.publication import CHECK, SideEvents, kind_of, side_id, side_topic
from govstream.pipeline.schedule import (
    Arrival,
    case_id,
    schedule,
    signal_makers,
    signal_moment,
    signal_time,
    trigger_date,
    trigger_generators,
    trigger_makers,
)
from govstream.progress import ProgressCallback
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.flow import signal_id

OnEmit = Callable[[str, str, float, dict], None]
"""(case id, flow id, intended wall time, trigger): told before the trigger is sent."""
OnSignal = Callable[[str, str, float], None]
"""(signal id, flow id, intended wall time): told before a scoring flow's signal is sent."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message of the schedule, made before its intended time and sent at it."""

    topic: str
    agency: str
    """The source that writes it, as whom it is sent on a secure cluster."""
    key: str
    payload: bytes
    subject: str
    """What it is about: the case it starts, or the signal's own id."""
    event_id: str
    told: Callable[[float], None]
    """Tells the run's books, given the intended wall time, just before it is sent."""
    marks: Mapping[str, str] = field(default_factory=dict)
    partition: int | None = None
    """Where the partitioner would not put it: a check goes where its entity's records are."""


WARM_UP_TRIGGERS = 20
WARM_UP_SIGNALS = 5
FLUSH_SECONDS = 60.0
"""How long the last triggers may take to be acknowledged while the brokers still answer."""

CORRUPTIONS: tuple[Callable[[bytes], bytes], ...] = (
    lambda payload: payload[: len(payload) // 2],  # truncated body
    lambda payload: payload[:2] + bytes(8) + payload[10:],  # a fingerprint nobody knows
    lambda payload: b"{" + payload[2:],  # not single-object encoded at all
)
"""Ways a trigger can arrive broken; each must reach the dead-letter topic with its reason."""


def make_producer(bootstrap: str, principal: str = "generator") -> KafkaProducer:
    """An idempotent producer; on a secure cluster, connected as ``principal``."""
    return KafkaProducer(
        **settings(bootstrap, principal).kafka_python(),
        client_id="govstream-generator",
        acks="all",
        enable_idempotence=True,
        linger_ms=1,
        # Metadata is fetched before the schedule starts; a send that still blocks means the
        # cluster is gone, which the run's watch reports better than a minute-long timeout.
        max_block_ms=10_000,
    )


def close_producer(producer: KafkaProducer, timeout: float) -> None:
    """Closes even when the broker is gone: kafka-python's `close` flushes first and raises
    on timeout, leaving its sender thread running and its finaliser printing a traceback."""
    try:
        producer.close(timeout=timeout)
    except KafkaError:
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()
        producer._closed = True  # type: ignore[attr-defined]


class SourceProducers:
    """One producer per identity: each source agency its own on a secure cluster, where only
    it may write its triggers; one shared by every flow on a plaintext one."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._by_identity: dict[str | None, KafkaProducer] = {}

    def of(self, agency: str) -> KafkaProducer:
        identity = settings(self.bootstrap, agency).principal
        producer = self._by_identity.get(identity)
        if producer is None:
            producer = self._by_identity[identity] = make_producer(self.bootstrap, agency)
        return producer

    def flush(self, timeout: float) -> None:
        for producer in self._by_identity.values():
            producer.flush(timeout=timeout)

    def close(self, timeout: float) -> None:
        for producer in self._by_identity.values():
            close_producer(producer, timeout)


class OpenLoopGenerator:
    """Every flow's triggers on the scenario's merged schedule, each at its intended time."""

    def __init__(
        self,
        scenario: Scenario,
        codec: AvroCodec,
        *,
        bootstrap: str,
        run_id: str,
        t0: float,
        speedup: float,
    ) -> None:
        self.scenario = scenario
        self.codec = codec
        self.bootstrap = bootstrap
        self.run_id = run_id
        self.t0 = t0
        self.speedup = speedup
        self.emitted = 0
        self.corrupted = 0
        self.behind_max = 0.0
        self.stopped = False
        self._faults = random.Random(f"{scenario.seed}:faults")
        generators = trigger_generators(scenario)
        self._make_trigger = {f: made.generate for f, made in generators.items()}
        self._make_signal = signal_makers(scenario)
        self._side = SideEvents(scenario, generators)
        self.checks_sent = 0
        """Subscribers' checks sent: the run waits until the platform has told of each."""
        self._exchange = Exchange(scenario)

    def run(
        self,
        on_emit: OnEmit,
        progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
        on_signal: OnSignal | None = None,
    ) -> int:
        """Emits the schedule; returns early, with `stopped` set, once `stop` is set."""
        stop = stop or threading.Event()
        producers = SourceProducers(self.bootstrap)
        window = self.scenario.duration.clock_seconds()
        try:
            self._warm_up(producers)
            for arrival in schedule(self.scenario):
                if stop.is_set():
                    self.stopped = True
                    return self.emitted
                self.emitted += 1
                if arrival.signal:
                    message = self._signal(arrival, on_signal)
                elif arrival.kind:
                    message = self._beside(arrival)
                else:
                    message = self._trigger(arrival, on_emit)
                intended = self.t0 + arrival.at / self.speedup
                delay = intended - time.time()
                if delay > 0:
                    if stop.wait(delay):
                        self.stopped = True
                        return self.emitted
                else:
                    self.behind_max = max(self.behind_max, -delay)
                emitted = time.time()
                marks = {
                    h.RUN: self.run_id,
                    h.T0: repr(self.t0),
                    h.SPEEDUP: repr(self.speedup),
                    h.INTENDED: repr(intended),
                    h.EMITTED: repr(emitted),
                    h.FLOW: arrival.flow,
                    # The exchange's drawn delay to the platform, added to the measured hop.
                    h.EXCHANGE: repr(self._exchange.delay(Crossing.TRIGGER, message.subject)),
                    **message.marks,
                }
                marks.update(
                    h.cloud_event(
                        event_id=message.event_id,
                        source=message.agency,
                        event_type=message.topic,
                        subject=message.subject,
                        at=emitted,
                    )
                )
                message.told(intended)
                producers.of(message.agency).send(
                    message.topic,
                    key=message.key.encode(),
                    value=message.payload,
                    headers=h.encode(marks),
                    partition=message.partition,
                )
                if progress is not None:
                    progress(min(arrival.at / window, 1.0))
            self._flush(producers, stop)
        finally:
            producers.close(timeout=1 if stop.is_set() else 10)
        return self.emitted

    def _trigger(self, arrival: Arrival, on_emit: OnEmit) -> Outgoing:
        """A flow's trigger, broken on purpose for a share of them (`kafka.corrupt_fraction`),
        told to the run's books unless broken."""
        flow = FLOWS[arrival.flow]
        case = case_id(flow.id, arrival.number, self.run_id)
        trigger = self._make_trigger[flow.id](case, trigger_date(self.scenario, arrival.at))
        self._side.listing(flow.id, trigger, arrival.at)
        payload = self.codec.encode(flow.source_topic, trigger)
        corrupt = self._faults.random() < self.scenario.kafka.corrupt_fraction
        if corrupt:
            payload = CORRUPTIONS[self.corrupted % len(CORRUPTIONS)](payload)
            self.corrupted += 1

        def told(intended: float) -> None:
            if not corrupt:
                on_emit(case, flow.id, intended, trigger)

        return Outgoing(
            flow.source_topic,
            flow.source_agency,
            case,
            payload,
            case,
            str(trigger["event_id"]),
            told,
        )

    def _beside(self, arrival: Arrival) -> Outgoing:
        """A subscriber's check or a counted event, sent by its agency, keyed by its entity."""
        topic, _, agency = side_topic(arrival)
        event = side_id(arrival, self.run_id)
        value = self._side.make(arrival, event)
        entity = str(value["uscc"])
        check = kind_of(arrival)[0] == CHECK

        def told(intended: float) -> None:
            self.checks_sent += check

        partitions = self.codec.catalog.topic(topic).partitions
        return Outgoing(
            topic,
            agency,
            entity,
            self.codec.encode(topic, value),
            event,
            str(value["event_id"]),
            told,
            partition=entity_partition(entity, partitions),
        )

    def _signal(self, arrival: Arrival, on_signal: OnSignal | None) -> Outgoing:
        """A scoring flow's signal on its source's topic, keyed by the entity it is about and
        stamped with its time on the scores' clock."""
        scoring = FLOWS[arrival.flow].scoring
        assert scoring is not None
        source = scoring.signal(arrival.signal)
        signal = signal_id(arrival.signal, arrival.number, self.run_id)
        moment = signal_moment(self.scenario, arrival.at)
        value = self._make_signal[arrival.flow, arrival.signal](signal, moment)
        payload = self.codec.encode(source.topic, value)

        def told(intended: float) -> None:
            if on_signal is not None:
                on_signal(signal, arrival.flow, intended)

        return Outgoing(
            source.topic,
            source.agency,
            scoring.key(value),
            payload,
            signal,
            str(value["event_id"]),
            told,
            {h.SIGNAL_AT: repr(signal_time(self.scenario, arrival.at))},
        )

    def _flush(self, producers: SourceProducers, stop: threading.Event) -> None:
        """Waits for the last acknowledgements a second at a time, so a lost broker is noticed
        by the run's watch instead of ending in a minute-long timeout."""
        deadline = time.monotonic() + FLUSH_SECONDS
        while True:
            try:
                producers.flush(timeout=1)
                return
            except KafkaTimeoutError:
                if stop.is_set():
                    self.stopped = True
                    return
                if time.monotonic() > deadline:
                    raise

    def _warm_up_marks(
        self, flow_id: str, now: float, extra: dict[str, str] | None = None
    ) -> list[tuple[str, bytes]]:
        """The trace of start-up traffic: a run id nobody collects, answered at once."""
        marks = {
            h.RUN: f"{self.run_id}-warm-up",
            h.T0: repr(now),
            h.SPEEDUP: repr(self.speedup),
            h.INTENDED: repr(now),
            h.WARM_UP: "1",
            h.FLOW: flow_id,
        }
        return h.encode({**marks, **(extra or {})})

    def _warm_up(self, producers: SourceProducers) -> None:
        """A few triggers of each flow under a run id nobody collects, sent before the schedule.

        The first messages through fresh workers pay for connections, metadata and buffers;
        that cost belongs to start-up, not to the first cases measured. Agencies answer them
        at once, so their clerks are free again long before the first real request.
        """
        makers = trigger_makers(self.scenario, salt="warm-up")
        now = time.time()
        for flow_id, make in makers.items():
            flow = FLOWS[flow_id]
            marks = self._warm_up_marks(flow_id, now)
            for n in range(WARM_UP_TRIGGERS):
                case = case_id(flow_id, n, f"{self.run_id}-warm-up")
                trigger = make(case, self.scenario.start.date())
                payload = self.codec.encode(flow.source_topic, trigger)
                producers.of(flow.source_agency).send(
                    flow.source_topic, key=case.encode(), value=payload, headers=marks
                )
        # A scoring flow's scorer too: its rows are the warm-up run's, apart from the run's.
        stamp = {h.SIGNAL_AT: repr(signal_time(self.scenario, 0.0))}
        for (flow_id, kind), draw in signal_makers(self.scenario, salt="warm-up").items():
            scoring = FLOWS[flow_id].scoring
            assert scoring is not None
            source = scoring.signal(kind)
            marks = self._warm_up_marks(flow_id, now, stamp)
            for n in range(WARM_UP_SIGNALS):
                signal = signal_id(kind, n, f"{self.run_id}-warm-up")
                value = draw(signal, signal_moment(self.scenario, 0.0))
                producers.of(source.agency).send(
                    source.topic,
                    key=scoring.key(value).encode(),
                    value=self.codec.encode(source.topic, value),
                    headers=marks,
                )
        producers.flush(timeout=30)
