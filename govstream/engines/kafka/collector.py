"""The collector: reads the orchestrators' progress records and the dead letters of one run.

It runs in the originating process, so every end-to-end latency is this machine's `now` minus
the intended emit time this machine set. It starts reading at the topics' current ends before
the first trigger is emitted, and keeps only records carrying this run's id. It reads nothing an
agency wrote: what a case was asked, what was answered and by whom is what its orchestrator
recorded, and the answer's marks travel on that record. It tells the run's ledger, as the sim
engine does.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import structlog

from govstream.contracts.codec import AvroCodec, CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.queue_depth import RequestSpan
from govstream.engines.kafka.tail import TopicTail
from govstream.pipeline.book import case_key, step_key
from govstream.pipeline.ledger import Hop, Ledger, Work
from processors import FLOWS
from processors.orchestrator import ANSWERED, OPENED, Transition

log = structlog.get_logger(__name__)


class Collector(TopicTail):
    def __init__(
        self,
        *,
        bootstrap: str,
        run_id: str,
        flows: list[str],
        codec: AvroCodec,
        dead_letter_topic: str,
        t0: float,
        speedup: float,
        ledger: Ledger,
    ) -> None:
        self.progress_topics = {FLOWS[f].progress_topic: f for f in flows}
        super().__init__(
            bootstrap,
            (*self.progress_topics, dead_letter_topic),
            name=f"govstream-collector-{run_id}",
        )
        self.run_id = run_id
        self.codec = codec
        self.dead_letter_topic = dead_letter_topic
        self.t0 = t0
        self.speedup = speedup
        self.ledger = ledger
        self.intended: dict[str, float] = {}
        """Each case's intended emit time on this machine's clock."""
        self.dead_lettered_of_run = 0
        """Dead letters carrying this run's id: its own corrupted triggers."""
        self.undecodable = 0
        self.spans: dict[str, list[RequestSpan]] = defaultdict(list)
        """Each pool's requests as its workers held them, to rebuild its longest queue."""

    # -- called from the generator's thread ---------------------------------------------------

    def expect(self, case_id: str, flow_id: str, intended: float, trigger: Any) -> None:
        """A case's trigger is about to be emitted, meant for wall time `intended`."""
        with self._lock:
            self.intended[case_id] = intended
            self.ledger.started(flow_id, case_id, trigger, self.business(intended))

    def business(self, wall: float) -> float:
        """Business seconds since the scenario's start on the run's one clock."""
        return (wall - self.t0) * self.speedup

    def all_complete(self) -> bool:
        with self._lock:
            return self.ledger.open_cases() == 0

    # -- the thread -----------------------------------------------------------------------

    def take(self, record: object, seen: float) -> None:
        trace = h.read(getattr(record, "headers", None))
        topic = getattr(record, "topic", "")
        if topic == self.dead_letter_topic:
            # Counted whoever wrote the message that was dead-lettered: junk from another
            # producer on a source topic is as much the run's business as its own.
            self.ledger.dead_lettered(
                trace.get(h.DLQ_REASON) or "unknown", trace.get(h.DLQ_TOPIC) or "unknown"
            )
            if trace.get(h.RUN) == self.run_id:
                self.dead_lettered_of_run += 1
            return
        if trace.get(h.RUN) != self.run_id:
            return
        try:
            value = self.codec.decode(getattr(record, "value", b""), expected_topic=topic).value
        except CodecError:
            self.undecodable += 1
            return
        seen_record = Transition.from_record(value)
        intended = self.intended.get(seen_record.case_id)
        if intended is None:
            return
        flow_id = self.progress_topics[topic]
        at = self.business(intended) + (seen - intended)
        if seen_record.event == OPENED:
            self._hops(
                trace,
                (Hop.GENERATOR_LAG, h.INTENDED, h.EMITTED),
                (Hop.TRIGGER, h.EMITTED, h.RECORDED),
            )
        elif seen_record.event == ANSWERED:
            at = self._answered(flow_id, seen_record, trace, intended, seen)
        if seen_record.completed:
            self.ledger.platform(case_key(flow_id), seen - intended)
        self.ledger.transition(flow_id, seen_record, at)

    def _answered(
        self,
        flow_id: str,
        seen_record: Transition,
        trace: dict[str, str],
        intended: float,
        seen: float,
    ) -> float:
        """Places an answer's marks on the business clock; returns when it was recorded.

        Transport and the platform are real and count as they were; time at agencies and
        waits was acted out `speedup` times faster and counts scaled back up. The answer
        carries that agency time along the case's path so far."""
        ledger, speedup = self.ledger, self.speedup
        step_id, case_id = str(seen_record.step), seen_record.case_id
        step = FLOWS[flow_id].step(step_id)
        opened = self.business(intended)
        marks = {key: h.mark(trace, key) for key in h.TRACE_MARKS}
        delivered, started, acted = marks[h.DELIVERED], marks[h.STARTED], marks[h.ACTED]
        after = marks[h.AGENCY_WALL] or 0.0
        acted_at = opened + (seen - intended) + (speedup - 1) * after
        ledger.platform(step_key(flow_id, "acted", step_id), seen - intended)
        if delivered is None or started is None or acted is None:
            return acted_at
        before = max(0.0, after - (acted - delivered))
        delivered_at = opened + (delivered - intended) + (speedup - 1) * before
        pool = trace.get(h.POOL, "")
        if not step.is_wait:
            ledger.delivered(flow_id, case_id, step_id, delivered_at)
            ledger.platform(step_key(flow_id, "delivered", step_id), delivered - intended - before)
            elapsed = max(0.0, acted - started) * speedup
            work = h.mark(trace, h.WORK)
            taken = marks[h.TAKEN]
            # On the business clock the agency itself kept: its wall time scaled back up.
            started_at = delivered_at + max(0.0, started - delivered) * speedup
            ledger.worked(
                flow_id,
                Work(
                    pool,
                    delivered_at,
                    started_at,
                    started_at,
                    delivered_at + max(0.0, acted - delivered) * speedup,
                    elapsed if work is None else work,
                ),
            )
            overshoot = h.mark(trace, h.OVERSHOOT)
            if overshoot is not None:
                ledger.platform_hop(Hop.AGENCY_OVERSHOOT, overshoot)
            if taken is not None:
                self.spans[pool].append(RequestSpan(delivered, taken, acted))
        self._hops(
            trace,
            (Hop.AT_ORCHESTRATOR, h.ORCH_IN, h.ORCH_OUT),
            (Hop.TO_AGENCY, h.ORCH_OUT, h.DELIVERED),
            (Hop.AT_AGENCY, h.DELIVERED, h.ACTED),
            (Hop.OUTCOME_RETURN, h.ACTED, h.RECORDED),
        )
        return acted_at

    def _hops(self, trace: dict[str, str], *hops: tuple[Hop, str, str]) -> None:
        """Each hop from one wall-clock mark of the record to another, where both are there."""
        for hop, first, last in hops:
            start, end = h.mark(trace, first), h.mark(trace, last)
            if start is not None and end is not None:
                self.ledger.platform_hop(hop, end - start)
