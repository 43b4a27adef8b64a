"""The collector: reads outcomes, completions and dead letters of one run, on the run's clock.

It runs in the originating process, so every end-to-end latency is this machine's `now` minus
the intended emit time this machine set. It starts reading at the topics' current ends before
the first trigger is emitted, and keeps only messages carrying this run's id.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import structlog

from govstream.calendar import WorkingCalendar
from govstream.contracts.codec import AvroCodec, CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.queue_depth import RequestSpan
from govstream.engines.kafka.tail import TopicTail
from govstream.metrics import RecorderSet
from processors.flow import FlowSpec

log = structlog.get_logger(__name__)


@dataclass
class CaseWatch:
    expected: frozenset[str]
    intended: float
    answered: set[str] = field(default_factory=set)
    completed: bool = False
    trigger_hops_recorded: bool = False
    business_acted: dict[str, float] = field(default_factory=dict)


class Collector(TopicTail):
    def __init__(
        self,
        *,
        bootstrap: str,
        run_id: str,
        flow: FlowSpec,
        codec: AvroCodec,
        dead_letter_topic: str,
        t0: float,
        speedup: float,
        calendar: WorkingCalendar,
    ) -> None:
        topics = (flow.outcome_topic, flow.completed_topic, dead_letter_topic)
        super().__init__(bootstrap, topics, name=f"govstream-collector-{run_id}")
        self.run_id = run_id
        self.flow = flow
        self.codec = codec
        self.dead_letter_topic = dead_letter_topic
        self.t0 = t0
        self.speedup = speedup
        self.calendar = calendar
        self.latency = RecorderSet()
        self.working_days = RecorderSet()
        self.platform_ms = RecorderSet()
        self.cases: dict[str, CaseWatch] = {}
        self.completed = 0
        self.answered = 0
        self.duplicates = 0
        self.unexpected = 0
        self.dead_lettered = 0
        self.dead_letter_reasons: Counter[str] = Counter()
        self.undecodable = 0
        self.spans: dict[str, list[RequestSpan]] = {recipient: [] for recipient in flow.recipients}

    # -- called from the generator's thread ---------------------------------------------------

    def expect(self, case_id: str, recipients: frozenset[str], intended: float) -> None:
        with self._lock:
            self.cases[case_id] = CaseWatch(recipients, intended)
            if not recipients:
                self.cases[case_id].completed = True
                self.completed += 1

    def all_complete(self, started: int) -> bool:
        with self._lock:
            return self.completed >= started

    # -- the thread -----------------------------------------------------------------------

    def take(self, record: object, seen: float) -> None:
        trace = h.read(getattr(record, "headers", None))
        if trace.get(h.RUN) != self.run_id:
            return
        topic = getattr(record, "topic", "")
        if topic == self.dead_letter_topic:
            self.dead_lettered += 1
            self.dead_letter_reasons[trace.get(h.DLQ_REASON, "unknown")] += 1
            return
        key = getattr(record, "key", b"") or b""
        watch = self.cases.get(key.decode())
        if watch is None:
            return
        try:
            self.codec.decode(getattr(record, "value", b""), expected_topic=topic)
        except CodecError:
            self.undecodable += 1
            return
        if topic == self.flow.completed_topic:
            self._completed(watch, seen)
        else:
            self._answered(watch, trace, seen)

    def _completed(self, watch: CaseWatch, seen: float) -> None:
        if watch.completed:
            self.duplicates += 1
            return
        watch.completed = True
        self.completed += 1
        # As in the sim engine, a case takes as long as its slowest recipient's answer.
        business = max(watch.business_acted.values(), default=0.0)
        self._record("case", watch, business, seen - watch.intended)

    def _answered(self, watch: CaseWatch, trace: dict[str, str], seen: float) -> None:
        recipient = trace.get(h.RECIPIENT, "")
        if recipient not in watch.expected:
            self.unexpected += 1
            return
        if recipient in watch.answered:
            self.duplicates += 1
            return
        watch.answered.add(recipient)
        self.answered += 1
        marks = {key: h.mark(trace, key) for key in h.TRACE_MARKS}
        delivered, started, acted = marks[h.DELIVERED], marks[h.STARTED], marks[h.ACTED]
        if delivered is None or started is None or acted is None:
            business = (seen - watch.intended) * self.speedup
        else:
            # Transport is real and counts as it was; the agency's queue and service are
            # simulated at `speedup` and are scaled back to business time.
            business = (delivered - watch.intended) + (acted - delivered) * self.speedup
            business += seen - acted
            self._record(f"delivered:{recipient}", watch, delivered - watch.intended, None)
            self.latency[f"wait:{recipient}"].record(max(0.0, started - delivered) * self.speedup)
            self.latency[f"service:{recipient}"].record(max(0.0, acted - started) * self.speedup)
            self.latency[f"sojourn:{recipient}"].record(max(0.0, acted - delivered) * self.speedup)
            taken = marks[h.TAKEN]
            if taken is not None:
                self.spans[recipient].append(RequestSpan(delivered, taken, acted))
        watch.business_acted[recipient] = max(0.0, business)
        self._record(f"acted:{recipient}", watch, business, seen - watch.intended)
        hops = [
            ("hop:fanout-to-recipient", marks[h.FANOUT_OUT], delivered),
            ("hop:at-recipient", delivered, acted),
            ("hop:outcome-return", acted, seen),
        ]
        if not watch.trigger_hops_recorded:
            watch.trigger_hops_recorded = True
            hops += [
                ("hop:generator-lag", watch.intended, marks[h.EMITTED]),
                ("hop:trigger-to-fanout", marks[h.EMITTED], marks[h.FANOUT_IN]),
                ("hop:at-fanout", marks[h.FANOUT_IN], marks[h.FANOUT_OUT]),
            ]
        for name, start, end in hops:
            if start is not None and end is not None:
                self.platform_ms[name].record(max(0.0, end - start) * 1000)

    def _record(self, name: str, watch: CaseWatch, business: float, wall: float | None) -> None:
        """Business seconds, and (for end-to-end latencies) wall ms and working days."""
        business = max(0.0, business)
        self.latency[name].record(business)
        if wall is None:
            self.platform_ms[name].record(business * 1000)  # real time: both clocks agree
            return
        self.platform_ms[name].record(max(0.0, wall) * 1000)
        start = (watch.intended - self.t0) * self.speedup
        self.working_days[name].record(self.calendar.working_days_between(start, start + business))
