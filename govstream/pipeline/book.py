"""The latency book: the one place that names and records what a run measures.

Both engines tell it what happened, in business seconds since the scenario's start; it owns
the metric names (`F03/acted:police`, `F17/span:invoice-to-payment`, `wait:bank`), so SLA
checks, reports and comparisons read the same names whichever engine ran.

Every latency is kept three ways: business seconds, working days as office time (the office
hours it spans over one office day), and working days as the law counts a deadline (the
working days after the day of receipt up to the one it was done by). What is still open when
the run ends is recorded at its age (right-censored), on all three.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from govstream.calendar.working import WorkingCalendar
from govstream.metrics import LatencyRecorder, RecorderSet
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.flow import Span


def step_key(flow_id: str, kind: str, step: str) -> str:
    """`F03/delivered:police`, `F03/acted:police`: from the trigger to that step's mark."""
    return f"{flow_id}/{kind}:{step}"


def rate_key(flow_id: str, step: str) -> str:
    """`F13/rate:lead`: the share of the cases the step fell due in that it was acted on."""
    return f"{flow_id}/rate:{step}"


def case_key(flow_id: str) -> str:
    return f"{flow_id}/case"


def span_key(flow_id: str, span: str) -> str:
    return f"{flow_id}/span:{span}"


def agency_key(kind: str, pool: str, flow_id: str | None = None) -> str:
    """`wait:bank` over every flow the pool serves, `F01/wait:bank` for one flow's share."""
    return f"{flow_id}/{kind}:{pool}" if flow_id else f"{kind}:{pool}"


def hop_key(name: str) -> str:
    return f"hop:{name}"


def flow_of(key: str) -> str | None:
    head, sep, _ = key.partition("/")
    return head if sep else None


def scenario_spans(scenario: Scenario) -> dict[str, list[Span]]:
    """Each flow's named spans, plus every span a target draws between two marks."""
    spans = {flow_id: list(FLOWS[flow_id].spans) for flow_id in scenario.flows}
    for target in scenario.targets:
        if target.of == "span" and target.span is None:
            flow_spans = spans[scenario.target_flow(target)]
            if all(span.id != target.span_id for span in flow_spans):
                flow_spans.append(
                    Span(target.span_id, str(target.start_mark), str(target.end_mark))
                )
    return spans


Scales = tuple[LatencyRecorder, LatencyRecorder, LatencyRecorder]
"""One metric's recorders: business seconds, office working days, legal working days."""

AGENCY_KINDS = ("wait", "service-work", "service-elapsed", "sojourn")
"""Per pool: queued until a clerk took it up; the office time the clerk worked on it; from
taken up to done, closed hours included; and from delivered to done."""


class LatencyBook:
    """Business latencies (seconds) and the same latencies in working days, both ways."""

    def __init__(self, calendar: WorkingCalendar, spans: dict[str, list[Span]]) -> None:
        self.calendar = calendar
        self.spans = spans
        self.latency = RecorderSet()
        self.working_days = RecorderSet()
        """Office time spent, in office days: the stricter, fractional measure."""
        self.legal_days = RecorderSet(integers=True)
        """Working days as the law counts a deadline: whole days after the day of receipt."""
        # The recorders each kind of event writes to, found once: an engine tells the book
        # tens of things per case, and a metric's name is the same every time.
        self._scales_of: dict[str, Scales] = {}
        self._acted: dict[tuple[str, str], Scales] = {}
        self._delivered: dict[tuple[str, str], LatencyRecorder] = {}
        self._hops: dict[str, LatencyRecorder] = {}
        self._agency: dict[tuple[str, str], tuple[LatencyRecorder, ...]] = {}
        self._case: dict[str, Scales] = {}
        self._spans: dict[str, tuple[tuple[Span, str], ...]] = {}

    def _scales(self, key: str) -> Scales:
        scales = self._scales_of.get(key)
        if scales is None:
            scales = (self.latency[key], self.working_days[key], self.legal_days[key])
            self._scales_of[key] = scales
        return scales

    def _both(self, key: str, start: float, end: float) -> None:
        self._record(self._scales(key), start, end)

    def _record(self, scales: Scales, start: float, end: float) -> tuple[float, int]:
        """Record on every scale; the working days both ways, for what else is kept by them."""
        if end < start:
            end = start
        latency, working_days, legal_days = scales
        latency.record(end - start)
        working, legal = self.calendar.working_days_both(start, end)
        working_days.record(working)
        legal_days.record(legal)
        return working, legal

    def _open(self, key: str, start: float, now: float) -> None:
        """Still open at `now`: at least this long, on every scale."""
        now = max(start, now)
        self.latency[key].record_open(now - start)
        self.working_days[key].record_open(self.calendar.working_days_between(start, now))
        self.legal_days[key].record_open(self.calendar.legal_working_days(start, now))

    def delivered(self, flow_id: str, step: str, opened_at: float, at: float) -> None:
        recorder = self._delivered.get((flow_id, step))
        if recorder is None:
            recorder = self.latency[step_key(flow_id, "delivered", step)]
            self._delivered[flow_id, step] = recorder
        value = at - opened_at
        recorder.record(value if value > 0.0 else 0.0)

    def acted(self, flow_id: str, step: str, opened_at: float, at: float) -> tuple[float, int]:
        scales = self._acted.get((flow_id, step))
        if scales is None:
            scales = self._acted[flow_id, step] = self._scales(step_key(flow_id, "acted", step))
        return self._record(scales, opened_at, at)

    def agency_times(
        self,
        flow_id: str,
        pool: str,
        *,
        wait: float,
        work: float,
        elapsed: float,
        sojourn: float,
    ) -> None:
        """One request done at a pool. `wait` is from delivered to taken up by a clerk (the
        office's opening included); `work` is the office time the clerk worked on it;
        `elapsed` the clock time from taking it up to done (a 2-hour job taken up on a Friday
        at 16:00 works 2 h and takes 66 h)."""
        recorders = self._agency.get((pool, flow_id))
        if recorders is None:
            recorders = tuple(
                self.latency[key]
                for kind in AGENCY_KINDS
                for key in (agency_key(kind, pool), agency_key(kind, pool, flow_id))
            )
            self._agency[pool, flow_id] = recorders
        pool_wait, flow_wait, pool_work, flow_work, pool_elapsed, flow_elapsed, *sojourns = (
            recorders
        )
        wait = wait if wait > 0.0 else 0.0
        pool_wait.record(wait)
        flow_wait.record(wait)
        work = work if work > 0.0 else 0.0
        pool_work.record(work)
        flow_work.record(work)
        elapsed = elapsed if elapsed > 0.0 else 0.0
        pool_elapsed.record(elapsed)
        flow_elapsed.record(elapsed)
        sojourn = sojourn if sojourn > 0.0 else 0.0
        for recorder in sojourns:
            recorder.record(sojourn)

    def agency_open(
        self, flow_id: str, pool: str, *, delivered_at: float, started_at: float | None, now: float
    ) -> None:
        """A request still at a pool when the run ends: queued (`started_at` None) or with a
        clerk. Its wait is known once taken up; the rest is at least its age."""

        def keys(kind: str) -> tuple[str, str]:
            return agency_key(kind, pool), agency_key(kind, pool, flow_id)

        for key in keys("sojourn"):
            self.latency[key].record_open(max(0.0, now - delivered_at))
        if started_at is None:
            for key in keys("wait"):
                self.latency[key].record_open(max(0.0, now - delivered_at))
            return
        for key in keys("wait"):
            self.latency[key].record(max(0.0, started_at - delivered_at))
        for key in keys("service-elapsed"):
            self.latency[key].record_open(max(0.0, now - started_at))

    def delivery_unknown(self, flow_id: str, step: str) -> None:
        """A request still unanswered at the end whose delivery nobody has told: at least
        nothing, on the delivered latency."""
        self.latency[step_key(flow_id, "delivered", step)].record_open(0.0)

    def hop(self, name: str, seconds: float) -> None:
        recorder = self._hops.get(name)
        if recorder is None:
            recorder = self._hops[name] = self.latency[hop_key(name)]
        recorder.record(seconds if seconds > 0.0 else 0.0)

    def completed_marks(
        self, flow_id: str, opened_at: float, completed_at: float, marks: Mapping[str, float]
    ) -> tuple[float, int]:
        """The whole case, and every span whose two marks the case reached; the case's working
        days both ways."""
        case = self._case.get(flow_id)
        if case is None:
            case = self._case[flow_id] = self._scales(case_key(flow_id))
        days = self._record(case, opened_at, completed_at)
        spans = self._spans.get(flow_id)
        if spans is None:
            spans = self._spans[flow_id] = tuple(
                (span, span_key(flow_id, span.id)) for span in self.spans.get(flow_id, ())
            )
        for span, key in spans:
            start, end = marks.get(span.start), marks.get(span.end)
            if start is not None and end is not None:
                self._record(self._scales(key), start, end)
        return days

    def open_case(
        self,
        flow_id: str,
        opened_at: float,
        marks: Mapping[str, float],
        pending: Collection[str],
        undelivered: Collection[str],
        now: float,
    ) -> None:
        """A case still open at `now`: the case, each step it still waits on (`pending`: no
        answer yet; `undelivered`: agency steps whose request has not reached the agency), and
        each span it has begun but not ended, all at least as long as they have lasted."""
        self._open(case_key(flow_id), opened_at, now)
        for step in pending:
            self._open(step_key(flow_id, "acted", step), opened_at, now)
        for step in undelivered:
            self.latency[step_key(flow_id, "delivered", step)].record_open(
                max(0.0, now - opened_at)
            )
        for span in self.spans.get(flow_id, ()):
            start, end = marks.get(span.start), marks.get(span.end)
            if start is None:
                continue
            if end is not None:  # a span the open case has already run through
                self._both(span_key(flow_id, span.id), start, end)
            elif span.end.rsplit(".", 1)[0] in pending:
                self._open(span_key(flow_id, span.id), start, now)

    def span(self, flow_id: str, span_id: str, start: float, end: float) -> None:
        """A span measured apart from its case's completion: one that ends in a case of
        another flow, which that case's completion closes."""
        self._both(span_key(flow_id, span_id), start, end)

    def span_open(self, flow_id: str, span_id: str, start: float, now: float) -> None:
        self._open(span_key(flow_id, span_id), start, now)

    def names(self) -> Iterable[str]:
        return self.latency.summaries().keys()
