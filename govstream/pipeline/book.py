"""The latency book: the one place that names and records what a run measures.

Both engines tell it what happened, in business seconds since the scenario's start; it owns
the metric names (`F03/acted:police`, `F17/span:invoice-to-payment`, `wait:bank`), so SLA
checks, reports and comparisons read the same names whichever engine ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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


class LatencyBook:
    """Business latencies (seconds) and the same latencies in working days."""

    def __init__(self, calendar: WorkingCalendar, spans: dict[str, list[Span]]) -> None:
        self.calendar = calendar
        self.spans = spans
        self.latency = RecorderSet()
        self.working_days = RecorderSet()

    def _both(self, key: str, start: float, end: float) -> None:
        self.latency[key].record(max(0.0, end - start))
        self.working_days[key].record(self.calendar.working_days_between(start, max(start, end)))

    def delivered(self, flow_id: str, step: str, opened_at: float, at: float) -> None:
        self.latency[step_key(flow_id, "delivered", step)].record(max(0.0, at - opened_at))

    def acted(self, flow_id: str, step: str, opened_at: float, at: float) -> None:
        self._both(step_key(flow_id, "acted", step), opened_at, at)

    def agency_times(
        self, flow_id: str, pool: str, *, wait: float, service: float, sojourn: float
    ) -> None:
        for kind, value in (("wait", wait), ("service", service), ("sojourn", sojourn)):
            for key in (agency_key(kind, pool), agency_key(kind, pool, flow_id)):
                self.latency[key].record(max(0.0, value))

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

    def names(self) -> Iterable[str]:
        return self.latency.summaries().keys()
