"""The open-loop load generator: emits each trigger at its intended time, whatever happens.

A late emit is not skipped or re-timed: its latency still counts from the intended time, so a
producer that falls behind shows up as latency instead of hiding it (coordinated omission).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta

from kafka import KafkaProducer

from govstream.arrivals import arrival_times
from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka import headers as h
from govstream.progress import ProgressCallback
from govstream.scenario.model import Scenario
from processors.fanout import FanOut
from processors.flow import FlowSpec
from producers import SOURCES

OnEmit = Callable[[str, frozenset[str], float], None]

WARM_UP_TRIGGERS = 20

CORRUPTIONS: tuple[Callable[[bytes], bytes], ...] = (
    lambda payload: payload[: len(payload) // 2],  # truncated body
    lambda payload: payload[:2] + bytes(8) + payload[10:],  # a fingerprint nobody knows
    lambda payload: b"{" + payload[2:],  # not single-object encoded at all
)
"""Ways a trigger can arrive broken; each must reach the dead-letter topic with its reason."""


def make_producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        client_id="govstream-generator",
        acks="all",
        enable_idempotence=True,
        linger_ms=1,
    )


class OpenLoopGenerator:
    def __init__(
        self,
        scenario: Scenario,
        flow: FlowSpec,
        codec: AvroCodec,
        *,
        bootstrap: str,
        run_id: str,
        t0: float,
        speedup: float,
    ) -> None:
        self.scenario = scenario
        self.flow = flow
        self.codec = codec
        self.bootstrap = bootstrap
        self.run_id = run_id
        self.t0 = t0
        self.speedup = speedup
        self.emitted = 0
        self.corrupted = 0
        self.behind_max = 0.0
        self._faults = random.Random(f"{scenario.seed}:faults")
        self._make_trigger = SOURCES[flow.id].generator(
            random.Random(f"{scenario.seed}:population"), scenario.population
        )
        self._fanout = FanOut(flow)

    def run(self, on_emit: OnEmit, progress: ProgressCallback | None = None) -> int:
        producer = make_producer(self.bootstrap)
        window = self.scenario.duration.clock_seconds()
        source = SOURCES[self.flow.id].agency
        try:
            self._warm_up(producer)
            for business_at in arrival_times(self.scenario.arrivals, window, self.scenario.seed):
                self.emitted += 1
                case_id = f"{self.flow.id}-{self.run_id}-{self.emitted:07d}"
                on = (self.scenario.start + timedelta(seconds=business_at)).date()
                trigger = self._make_trigger(case_id, on)
                payload = self.codec.encode(self.flow.source_topic, trigger)
                corrupt = self._faults.random() < self.scenario.kafka.corrupt_fraction
                if corrupt:
                    payload = CORRUPTIONS[self.corrupted % len(CORRUPTIONS)](payload)
                    self.corrupted += 1
                intended = self.t0 + business_at / self.speedup
                delay = intended - time.time()
                if delay > 0:
                    time.sleep(delay)
                else:
                    self.behind_max = max(self.behind_max, -delay)
                emitted = time.time()
                marks = {
                    h.RUN: self.run_id,
                    h.T0: repr(self.t0),
                    h.SPEEDUP: repr(self.speedup),
                    h.INTENDED: repr(intended),
                    h.EMITTED: repr(emitted),
                }
                marks.update(
                    h.cloud_event(
                        event_id=str(trigger["event_id"]),
                        source=source,
                        event_type=self.flow.source_topic,
                        subject=case_id,
                        at=emitted,
                    )
                )
                if not corrupt:
                    on_emit(case_id, self._fanout.expected_recipients(trigger), intended)
                producer.send(
                    self.flow.source_topic,
                    key=case_id.encode(),
                    value=payload,
                    headers=h.encode(marks),
                )
                if progress is not None:
                    progress(min(business_at / window, 1.0))
            producer.flush(timeout=60)
        finally:
            producer.close(timeout=10)
        return self.emitted

    def _warm_up(self, producer: KafkaProducer) -> None:
        """A few triggers under a run id nobody collects, sent before the schedule starts.

        The first messages through fresh workers pay for connections, metadata and buffers;
        that cost belongs to start-up, not to the first cases measured. Agencies answer them
        at once, so their clerks are free again long before the first real request.
        """
        make = SOURCES[self.flow.id].generator(random.Random("warm-up"), {})
        now = time.time()
        marks = h.encode(
            {
                h.RUN: f"{self.run_id}-warm-up",
                h.T0: repr(now),
                h.SPEEDUP: repr(self.speedup),
                h.INTENDED: repr(now),
                h.WARM_UP: "1",
            }
        )
        for n in range(WARM_UP_TRIGGERS):
            case_id = f"{self.flow.id}-{self.run_id}-warm-up-{n:03d}"
            trigger = make(case_id, self.scenario.start.date())
            payload = self.codec.encode(self.flow.source_topic, trigger)
            producer.send(
                self.flow.source_topic, key=case_id.encode(), value=payload, headers=marks
            )
        producer.flush(timeout=30)
