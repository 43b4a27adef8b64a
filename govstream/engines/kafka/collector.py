"""The collector: reads outcomes, completions and dead letters of one run, on the run's clock.

It runs in the originating process, so every end-to-end latency is this machine's `now` minus
the intended emit time this machine set. It starts reading at the topics' current ends before
the first trigger is emitted, and keeps only messages carrying this run's id. What it measures
goes into the same latency book and tally the sim engine fills.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import structlog

from govstream.contracts.codec import AvroCodec, CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.queue_depth import RequestSpan
from govstream.engines.kafka.tail import TopicTail
from govstream.metrics import RecorderSet
from govstream.pipeline.book import LatencyBook, hop_key, step_key
from govstream.pipeline.series import (
    SeriesBook,
    arrivals_name,
    busy_name,
    completions_name,
    queue_name,
)
from govstream.pipeline.tally import Tally
from processors import FLOWS
from processors.flow import TRIGGER

log = structlog.get_logger(__name__)


@dataclass
class CaseWatch:
    flow: str
    expected: frozenset[str]
    intended: float
    opened: float
    """Business seconds since the scenario's start at the intended emit time."""
    answered: set[str] = field(default_factory=set)
    completed: bool = False
    marks: dict[str, float] = field(default_factory=dict)


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
        book: LatencyBook,
        tally: Tally,
        series: SeriesBook | None = None,
        read_committed: bool = False,
    ) -> None:
        self.outcome_topics = {FLOWS[f].outcome_topic for f in flows}
        self.completed_topics = {FLOWS[f].completed_topic for f in flows}
        topics = (*self.outcome_topics, *self.completed_topics, dead_letter_topic)
        super().__init__(
            bootstrap,
            topics,
            name=f"govstream-collector-{run_id}",
            isolation_level="read_committed" if read_committed else "read_uncommitted",
        )
        self.run_id = run_id
        self.codec = codec
        self.dead_letter_topic = dead_letter_topic
        self.t0 = t0
        self.speedup = speedup
        self.book = book
        self.tally = tally
        self.series = series or SeriesBook(0.0)
        self.platform_ms = RecorderSet()
        self.cases: dict[str, CaseWatch] = {}
        self.dead_lettered = 0
        """Every message that reached the dead-letter topic since the run started."""
        self.dead_letter_reasons: Counter[str] = Counter()
        self.dead_letter_topics: Counter[str] = Counter()
        self.dead_lettered_of_run = 0
        """Those carrying this run's id: its own corrupted triggers."""
        self.undecodable = 0
        self.spans: dict[str, list[RequestSpan]] = {}
        self.taken: dict[str, Counter[str]] = {}

    # -- called from the generator's thread ---------------------------------------------------

    def expect(
        self, case_id: str, flow_id: str, steps: frozenset[str], intended: float, trigger: Any
    ) -> None:
        flow = FLOWS[flow_id]
        with self._lock:
            watch = CaseWatch(flow_id, steps, intended, (intended - self.t0) * self.speedup)
            watch.marks[TRIGGER] = watch.opened
            self.cases[case_id] = watch
            self.tally.add(flow_id, "cases_started")
            self.series.count(arrivals_name(flow_id), watch.opened)
            self.tally.add(flow_id, "requests_emitted", len(steps))
            self.tally.add(flow_id, "steps_skipped", len(flow.steps) - len(steps))
            for rule in flow.rules:
                self.tally.rule(flow_id, rule.id, rule.check(trigger))

    def censor_open(self, now: float) -> None:
        """Cases still open at business second `now` count at their age, with the steps they
        still wait on and the spans they began (the same book the sim engine fills)."""
        with self._lock:
            for watch in self.cases.values():
                if watch.completed:
                    continue
                pending = watch.expected - watch.answered
                flow = FLOWS[watch.flow]
                self.book.open_case(
                    watch.flow,
                    watch.opened,
                    watch.marks,
                    sorted(pending),
                    sorted(s for s in pending if not flow.step(s).is_wait),
                    now,
                )

    def all_complete(self) -> bool:
        with self._lock:
            return self.tally.total("cases_completed") >= self.tally.total("cases_started")

    # -- the thread -----------------------------------------------------------------------

    def take(self, record: object, seen: float) -> None:
        trace = h.read(getattr(record, "headers", None))
        topic = getattr(record, "topic", "")
        if topic == self.dead_letter_topic:
            # Counted whoever wrote the message that was dead-lettered: junk from another
            # producer on a source topic is as much the run's business as its own.
            self.dead_lettered += 1
            self.dead_letter_reasons[trace.get(h.DLQ_REASON) or "unknown"] += 1
            self.dead_letter_topics[trace.get(h.DLQ_TOPIC) or "unknown"] += 1
            if trace.get(h.RUN) == self.run_id:
                self.dead_lettered_of_run += 1
            return
        if trace.get(h.RUN) != self.run_id:
            return
        key = getattr(record, "key", b"") or b""
        watch = self.cases.get(key.decode())
        if watch is None:
            return
        try:
            value = self.codec.decode(getattr(record, "value", b""), expected_topic=topic).value
        except CodecError:
            self.undecodable += 1
            return
        if topic in self.completed_topics:
            self._completed(watch, value, seen)
        else:
            self._answered(watch, value, trace, seen)

    def _completed(self, watch: CaseWatch, value: Any, seen: float) -> None:
        if watch.completed:
            self.tally.add(watch.flow, "duplicates")
            return
        watch.completed = True
        self.tally.add(watch.flow, "cases_completed")
        if value.get("rejected"):
            self.tally.add(watch.flow, "cases_rejected")
        # As in the sim engine, a case takes as long as its slowest step's answer.
        acted = [watch.marks[f"{step}.acted"] for step in watch.answered]
        completed_at = max(acted, default=watch.opened)
        self.book.completed_marks(watch.flow, watch.opened, completed_at, watch.marks)
        self.series.count(completions_name(watch.flow), completed_at)
        self.platform_ms[f"{watch.flow}/case"].record(max(0.0, seen - watch.intended) * 1000)

    def _answered(self, watch: CaseWatch, value: Any, trace: dict[str, str], seen: float) -> None:
        step, flow_id = str(value["step"]), watch.flow
        if step not in watch.expected:
            self.tally.add(flow_id, "unexpected")
            return
        if step in watch.answered:
            self.tally.add(flow_id, "duplicates")
            return
        watch.answered.add(step)
        is_wait = FLOWS[flow_id].step(step).is_wait
        # As on the sim engine, a wait outside any agency is requested and answered, never
        # delivered to or acted on by an agency.
        for what in (
            ("outcomes_recorded",)
            if is_wait
            else (
                "requests_delivered",
                "requests_acted",
                "outcomes_recorded",
            )
        ):
            self.tally.add(flow_id, what)
        marks = {key: h.mark(trace, key) for key in h.TRACE_MARKS}
        delivered, started, acted = marks[h.DELIVERED], marks[h.STARTED], marks[h.ACTED]
        after = marks[h.AGENCY_WALL] or 0.0
        speedup = self.speedup
        # A case's business time: transport and the platform are real and count as they were;
        # time at agencies and waits was acted out `speedup` times faster and counts scaled
        # back up. The outcome carries that agency time along the case's path so far.
        acted_at = watch.opened + (seen - watch.intended) + (speedup - 1) * after
        watch.marks[f"{step}.acted"] = acted_at
        self.book.acted(flow_id, step, watch.opened, acted_at)
        self.platform_ms[step_key(flow_id, "acted", step)].record(
            max(0.0, seen - watch.intended) * 1000
        )
        if delivered is None or started is None or acted is None:
            return
        before = max(0.0, after - (acted - delivered))
        delivered_at = watch.opened + (delivered - watch.intended) + (speedup - 1) * before
        watch.marks[f"{step}.delivered"] = delivered_at
        pool = trace.get(h.POOL, "")
        if not is_wait:
            self.book.delivered(flow_id, step, watch.opened, delivered_at)
            platform = max(0.0, delivered - watch.intended - before)
            self.platform_ms[step_key(flow_id, "delivered", step)].record(platform * 1000)
            elapsed = max(0.0, acted - started) * speedup
            work = h.mark(trace, h.WORK)
            self.book.agency_times(
                flow_id,
                pool,
                wait=max(0.0, started - delivered) * speedup,
                work=elapsed if work is None else work,
                elapsed=elapsed,
                sojourn=max(0.0, acted - delivered) * speedup,
            )
            overshoot = h.mark(trace, h.OVERSHOOT)
            if overshoot is not None:
                self.platform_ms[hop_key("agency-overshoot")].record(overshoot * 1000)
            taken = marks[h.TAKEN]
            if taken is not None:
                self.spans.setdefault(pool, []).append(RequestSpan(delivered, taken, acted))
            # On the business clock the agency itself kept: its wall time scaled back up.
            started_at = delivered_at + max(0.0, started - delivered) * speedup
            done_at = delivered_at + max(0.0, acted - delivered) * speedup
            self.series.interval(queue_name(pool), delivered_at, started_at)
            self.series.interval(busy_name(pool), started_at, done_at)
            self.taken.setdefault(pool, Counter())[flow_id] += 1
        hops = [
            ("orchestrator-to-agency", marks[h.ORCH_OUT], delivered),
            ("at-agency", delivered, acted),
            ("outcome-return", acted, seen),
            ("at-orchestrator", marks[h.ORCH_IN], marks[h.ORCH_OUT]),
        ]
        if not FLOWS[flow_id].step(step).after and len(watch.answered) == 1:
            hops += [
                ("generator-lag", watch.intended, marks[h.EMITTED]),
                ("trigger-to-orchestrator", marks[h.EMITTED], marks[h.ORCH_IN]),
            ]
        for name, start, end in hops:
            if start is not None and end is not None:
                self.platform_ms[hop_key(name)].record(max(0.0, end - start) * 1000)
