"""One way of counting, for both engines: every case and request accounted for, per flow."""

from __future__ import annotations

from collections import Counter

from govstream.result import Counts

CASE_FIELDS = ("cases_started", "cases_completed", "cases_rejected")
REQUEST_FIELDS = (
    "requests_emitted",
    "requests_delivered",
    "requests_acted",
    "outcomes_recorded",
    "steps_skipped",
    "duplicates",
    "unexpected",
)


class Tally:
    """Counters per flow; the engine adds what only it can know (in flight, lost)."""

    def __init__(self, flows: list[str]) -> None:
        self.flows = list(flows)
        self._counts: dict[str, Counter[str]] = {flow_id: Counter() for flow_id in self.flows}
        self.rules: dict[str, dict[str, Counter[str]]] = {flow_id: {} for flow_id in self.flows}

    def add(self, flow_id: str, what: str, n: int = 1) -> None:
        self._counts[flow_id][what] += n

    def of(self, flow_id: str) -> Counter[str]:
        """One flow's counters, to add to directly where an engine counts per event."""
        return self._counts[flow_id]

    def get(self, flow_id: str, what: str) -> int:
        return self._counts[flow_id][what]

    def total(self, what: str) -> int:
        return sum(counts[what] for counts in self._counts.values())

    def rule(self, flow_id: str, rule_id: str, verdict: bool | None) -> None:
        outcome = "not applicable" if verdict is None else ("met" if verdict else "not met")
        self.rules[flow_id].setdefault(rule_id, Counter())[outcome] += 1

    def counts(
        self,
        flow_id: str | None,
        *,
        in_flight: int,
        lost: int,
        dead_lettered: int = 0,
    ) -> Counts:
        """Counts for one flow (or, with None, all of them together)."""
        get = self.total if flow_id is None else (lambda what: self.get(flow_id, what))
        started, completed = get("cases_started"), get("cases_completed")
        return Counts(
            cases_started=started,
            cases_completed=completed,
            cases_open=started - completed,
            cases_rejected=get("cases_rejected"),
            requests_emitted=get("requests_emitted"),
            requests_delivered=get("requests_delivered"),
            requests_acted=get("requests_acted"),
            requests_in_flight=in_flight,
            outcomes_recorded=get("outcomes_recorded"),
            steps_skipped=get("steps_skipped"),
            lost=lost,
            duplicates=get("duplicates"),
            unexpected=get("unexpected"),
            dead_lettered=dead_lettered,
        )
