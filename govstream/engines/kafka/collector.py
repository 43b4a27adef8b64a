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
from dataclasses import replace
from typing import Any

from govstream.contracts.codec import AvroCodec, CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.business_clock import CaseClock
from govstream.engines.kafka.tail import TopicTail
from govstream.pipeline.book import case_key, step_key
from govstream.pipeline.ledger import Hop, Ledger, Work, unit_metric
from processors import FLOWS
from processors.flow import unit_step, upstream_of
from processors.orchestrator import ANSWERED, DUPLICATE, NO_OPEN_CASE, OPENED, Transition

BUSINESS_MARKS = (h.B_DELIVERED, h.B_TAKEN, h.B_STARTED, h.B_DONE)


def beside_topics_told(flows: list[str]) -> dict[str, str]:
    """The platform's topics of what happens beside the cases, by flow: what subscribers'
    checks found, and the values it counted."""
    topics = {}
    for flow_id in flows:
        flow = FLOWS[flow_id]
        if flow.publication is not None:
            topics[flow.publication.uses_told] = flow_id
        for tally in flow.tallies:
            topics[tally.counted] = flow_id
    return topics


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
        self.beside_topics = beside_topics_told(flows)
        self.scored_topics = {FLOWS[f].scored_topic: f for f in flows if FLOWS[f].scoring}
        super().__init__(
            bootstrap,
            (*self.progress_topics, *self.beside_topics, *self.scored_topics, dead_letter_topic),
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
        self.waiting: dict[str, list[tuple[float, float]]] = defaultdict(list)
        """Each pool's requests from delivered to taken up, on the business clock, to rebuild
        its longest queue."""
        self.checks_told = 0
        """Subscribers' checks the platform has told of."""
        self.early: dict[str, list[tuple[object, float]]] = defaultdict(list)
        """Progress records of cases a hand-over started, read before their trigger."""

    # -- called from the generator's thread ---------------------------------------------------

    def expect(self, case_id: str, flow_id: str, intended: float, trigger: Any) -> None:
        """A case's trigger is about to be emitted, meant for wall time `intended`."""
        with self._lock:
            self.intended[case_id] = intended
            self.ledger.started(flow_id, case_id, trigger, self.business(intended))

    def expect_signal(self, signal_id: str, flow_id: str, intended: float) -> None:
        """A scoring flow's signal is about to be emitted: the run waits for it to be scored."""
        with self._lock:
            self.ledger.signal_sent(flow_id, signal_id)

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
            # An answer's dead letter counts against its external agency when it is this
            # run's, or says no run at all (an answer that dropped its request's trace).
            run = trace.get(h.RUN)
            self.ledger.dead_lettered(
                trace.get(h.DLQ_REASON) or "unknown",
                trace.get(h.DLQ_TOPIC) or "unknown",
                of_run=not run or run == self.run_id,
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
        if topic in self.beside_topics:
            self._beside(topic, value, trace)
            return
        if topic in self.scored_topics:
            self._scored(self.scored_topics[topic], value, trace)
            return
        seen_record = Transition.from_record(value)
        intended = self.intended.get(seen_record.case_id)
        if intended is None:
            if upstream_of(seen_record.case_id) is not None:
                self.early[seen_record.case_id].append((record, seen))
            return
        if seen_record.reason == NO_OPEN_CASE and not self.ledger.is_open(seen_record.case_id):
            # An answer repeated after its case closed and the orchestrator forgot it (a
            # request sent again after a worker was replaced): this run's books saw the case
            # complete, so it is a repeat, not an answer nobody asked for.
            seen_record = replace(seen_record, event=DUPLICATE, reason=None)
        flow_id = self.progress_topics[topic]
        # The case's clock as the record carries it: on an answer's record, the answer's.
        case = CaseClock.of(trace, self.speedup, intended)
        if seen_record.event == OPENED:
            self._hops(trace, (Hop.TRIGGER, h.EMITTED, h.RECORDED))
            if upstream_of(seen_record.case_id) is None:
                # A hand-over's trigger is sent after its intended time by the upstream case's
                # own time, not by a generator's lag.
                self._hops(trace, (Hop.GENERATOR_LAG, h.INTENDED, h.EMITTED))
        elif seen_record.event == ANSWERED and not self.ledger.has_answer(
            seen_record.case_id, str(seen_record.step)
        ):
            self._answered(flow_id, seen_record, trace, case, seen)
        if seen_record.completed:
            self.ledger.platform(case_key(flow_id), seen - intended)
        self.ledger.transition(flow_id, seen_record, case.at(seen))
        handed = h.mark(trace, h.HANDED)
        if handed is not None:
            for started in seen_record.handed_over:
                self._handed_over(started, handed)

    def _beside(self, topic: str, value: dict[str, Any], trace: dict[str, str]) -> None:
        """A subscriber's check as the platform passed it on, or a value it counted, at the
        business time its source meant it for."""
        flow_id = self.beside_topics[topic]
        intended = h.mark(trace, h.INTENDED)
        if intended is None:
            self.undecodable += 1
            return
        at = self.business(intended)
        if "found" in value:
            self.checks_told += 1
            subscriber, check_id = str(value["subscriber"]), str(value["check_id"])
            self.ledger.used(flow_id, subscriber, check_id, at, list(value["found"]))
        else:
            self.ledger.tallied(flow_id, str(value["count"]), str(value["value"]), at)

    def _scored(self, flow_id: str, value: dict[str, Any], trace: dict[str, str]) -> None:
        """The scorer counted a signal; a crossing's case starts at the signal's intended time,
        which the record carries from the signal, as a hand-over's case starts at the time its
        upstream record carries. Its progress records read before are taken now."""
        crossed = value.get("crossed")
        self.ledger.signal_scored(flow_id, str(value["signal_id"]), str(value["kind"]), crossed)
        intended = h.mark(trace, h.INTENDED)
        if crossed is not None and intended is not None:
            self._handed_over(str(crossed), intended)

    def _handed_over(self, case_id: str, intended: float) -> None:
        """A case this run's case started, at the intended time its progress record carries;
        the progress records of it read before are taken now. Its trigger is not read: what
        the books need of it, its opening record says."""
        if case_id in self.intended:
            return  # a progress record told again
        self.intended[case_id] = intended
        flow_id = case_id.split(".", 1)[0]
        self.ledger.started(flow_id, case_id, None, self.business(intended))
        for early, seen in self.early.pop(case_id, ()):
            self.take(early, seen)

    def _answered(
        self,
        flow_id: str,
        seen_record: Transition,
        trace: dict[str, str],
        case: CaseClock,
        seen: float,
    ) -> None:
        """An answer's marks: the platform's own time on its path, in wall time, and its
        request's moments at its pool on the business clock the pool kept.

        The answer carries its case's clock (`business_clock.CaseClock`): the platform's own
        time counts as it was, the agencies' and waits' as the business time they kept, the
        exchange as it was drawn."""
        ledger = self.ledger
        step_id, case_id = str(seen_record.step), seen_record.case_id
        step = FLOWS[flow_id].step(unit_step(step_id))
        waited = case.agency_wall
        # An item's own metric, and its step's: the step's join is one of its items' answers,
        # so the items' shares are what a verdict on the step's statistic weighs.
        metrics = dict.fromkeys((unit_metric(step_id, step.each), step.id))
        for metric in metrics:
            ledger.platform(step_key(flow_id, "acted", metric), seen - case.intended - waited)
        delivered, acted = h.mark(trace, h.DELIVERED), h.mark(trace, h.ACTED)
        business = [h.mark(trace, key) for key in BUSINESS_MARKS]
        if ledger.conformance.is_external(step.agency) and None in business:
            # A system outside govstream keeps no business clock: the time it took is real.
            self._delivered_outside(flow_id, case_id, step_id, trace, case, seen)
        if not step.is_wait and delivered is not None and acted is not None:
            if None not in business:
                self._at_pool(flow_id, case_id, step_id, trace, business)
            before = waited - (acted - delivered)  # at agencies before this one
            for metric in metrics:
                ledger.platform(
                    step_key(flow_id, "delivered", metric), delivered - case.intended - before
                )
            overshoot = h.mark(trace, h.OVERSHOOT)
            if overshoot is not None:
                ledger.platform_hop(Hop.AGENCY_OVERSHOOT, overshoot)
        self._hops(
            trace,
            (Hop.AT_ORCHESTRATOR, h.ORCH_IN, h.ORCH_OUT),
            (Hop.TO_AGENCY, h.ORCH_OUT, h.DELIVERED),
            (Hop.AT_AGENCY, h.DELIVERED, h.ACTED),
            (Hop.OUTCOME_RETURN, h.ACTED, h.RECORDED),
        )

    def _delivered_outside(
        self,
        flow_id: str,
        case_id: str,
        step_id: str,
        trace: dict[str, str],
        case: CaseClock,
        seen: float,
    ) -> None:
        """An external agency's request reached it when its answer says (`gs_delivered`, on
        its own clock), kept between the request's sending and the answer's recording, or
        else when the answer was recorded: the platform cannot see into the system."""
        recorded = h.mark(trace, h.RECORDED) or seen
        sent = h.mark(trace, h.ORCH_OUT) or recorded
        said = h.mark(trace, h.DELIVERED)
        wall = recorded if said is None else min(max(said, sent), recorded)
        self.ledger.delivered(flow_id, case_id, step_id, case.at(wall))

    def _at_pool(
        self,
        flow_id: str,
        case_id: str,
        step_id: str,
        trace: dict[str, str],
        business: list[float | None],
    ) -> None:
        delivered, taken, started, done = (mark or 0.0 for mark in business)
        pool = trace.get(h.POOL, "")
        work = h.mark(trace, h.WORK)
        self.ledger.delivered(flow_id, case_id, step_id, delivered)
        self.ledger.worked(
            flow_id,
            Work(
                pool,
                delivered,
                taken,
                started,
                done,
                done - started if work is None else work,
                case_id,
                step_id,
            ),
        )
        self.waiting[pool].append((delivered, taken))
        self.ledger.out_of_order(pool, h.mark(trace, h.UNCERTAIN) or 0.0)

    def _hops(self, trace: dict[str, str], *hops: tuple[Hop, str, str]) -> None:
        """Each hop from one wall-clock mark of the record to another, where both are there."""
        for hop, first, last in hops:
            start, end = h.mark(trace, first), h.mark(trace, last)
            if start is not None and end is not None:
                self.ledger.platform_hop(hop, end - start)
