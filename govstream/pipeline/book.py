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

from govstream.calendar import WorkingCalendar
from govstream.metrics import RecorderSet
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.flow import Span
from processors.orchestrator import CaseCompletion


def step_key(flow_id: str, kind: str, step: str) -> str:
    """`F03/delivered:police`, `F03/acted:police`: from the trigger to that step's mark."""
    return f"{flow_id}/{kind}:{step}"


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

    def _both(self, key: str, start: float, end: float) -> None:
        end = max(start, end)
        self.latency[key].record(end - start)
        self.working_days[key].record(self.calendar.working_days_between(start, end))
        self.legal_days[key].record(self.calendar.legal_working_days(start, end))

    def _open(self, key: str, start: float, now: float) -> None:
        """Still open at `now`: at least this long, on every scale."""
        now = max(start, now)
        self.latency[key].record_open(now - start)
        self.working_days[key].record_open(self.calendar.working_days_between(start, now))
        self.legal_days[key].record_open(self.calendar.legal_working_days(start, now))

    def delivered(self, flow_id: str, step: str, opened_at: float, at: float) -> None:
        self.latency[step_key(flow_id, "delivered", step)].record(max(0.0, at - opened_at))

    def acted(self, flow_id: str, step: str, opened_at: float, at: float) -> None:
        self._both(step_key(flow_id, "acted", step), opened_at, at)

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
        """One request done at a pool. `work` is the office time the clerk worked on it;
        `elapsed` the clock time from taking it up to done (a 2-hour job taken up on a Friday
        at 16:00 works 2 h and takes 66 h)."""
        values = (wait, work, elapsed, sojourn)
        for kind, value in zip(AGENCY_KINDS, values, strict=True):
            for key in (agency_key(kind, pool), agency_key(kind, pool, flow_id)):
                self.latency[key].record(max(0.0, value))

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

    def hop(self, name: str, seconds: float) -> None:
        self.latency[hop_key(name)].record(max(0.0, seconds))

    def completed(self, flow_id: str, completion: CaseCompletion) -> None:
        self.completed_marks(
            flow_id, completion.opened_at, completion.completed_at, completion.marks
        )

    def completed_marks(
        self, flow_id: str, opened_at: float, completed_at: float, marks: Mapping[str, float]
    ) -> None:
        """The whole case, and every span whose two marks the case reached."""
        self._both(case_key(flow_id), opened_at, completed_at)
        for span in self.spans.get(flow_id, ()):
            start, end = marks.get(span.start), marks.get(span.end)
            if start is not None and end is not None:
                self._both(span_key(flow_id, span.id), start, end)

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

    def names(self) -> Iterable[str]:
        return self.latency.summaries().keys()
