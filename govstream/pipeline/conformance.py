"""Conformance of external agencies: every answer a system outside govstream gave, judged.

An external agency (`agencies.<id>.external`) is a real system that answers the requests
govstream sends it. The books already count what its answers did: answers recorded,
duplicates dropped, answers the orchestrator refused by reason, dead letters by reason and
topic, and requests unanswered at the cut-off. This is the same count seen per external
agency, so that its developer reads one line: answers valid; invalid, by reason; missing at
the end; late against the scenario's targets; duplicated.

An answer is late when its own latency (from its case's trigger to the answer recorded) is
beyond the limit of a target on that step's `acted` latency, on the target's own scale: a
target is a statistic over answers, and each answer beyond the limit is one the statistic
has to absorb. Invalid answers come from two places, counted once each: refusals by the
orchestrator (`processors.orchestrator.REFUSALS`), as its transitions say, and answers that
never reached it (not valid Avro, an unknown fingerprint, another schema, no trace headers),
as their dead letters on the agency's outcome topics say.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from govstream.calendar.working import WorkingCalendar
from govstream.pipeline.book import step_key
from govstream.result import Conformance
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.orchestrator import REFUSALS


@dataclass(frozen=True, slots=True)
class Limit:
    """A target's limit on one step's acted latency: its id, scale and value."""

    target: str
    scale: str
    """`latency` (clock seconds), `working_days` (office) or `legal_working_days`."""
    value: float


def external_agencies(scenario: Scenario) -> list[str]:
    """The scenario's agencies a system outside govstream answers for, in its order."""
    return [name for name, agency in scenario.agencies.items() if agency.external]


@dataclass
class _Tally:
    requests: int = 0
    valid: int = 0
    invalid: Counter[str] = field(default_factory=Counter)
    missing: int = 0
    late: int = 0
    duplicated: int = 0
    late_by_target: Counter[str] = field(default_factory=Counter)


class ConformanceBook:
    """The ledger's per-agency view of the answers of external agencies."""

    def __init__(self, scenario: Scenario, calendar: WorkingCalendar) -> None:
        from govstream.sla import target_metrics, target_scale

        self.calendar = calendar
        self.agencies = external_agencies(scenario)
        self._tallies = {agency: _Tally() for agency in self.agencies}
        self.outcome_topics = {
            FLOWS[flow_id].outcome_topic(agency): agency
            for flow_id in scenario.flows
            for agency in self.agencies
            if agency in FLOWS[flow_id].agencies
        }
        """An external agency's outcome topic in each flow -> the agency: a dead letter from
        one is an answer of that agency that never reached the orchestrator."""
        self.limits: dict[str, list[Limit]] = {}
        """`F01/acted:bank-reservation` -> the limits targets set on it."""
        for target in scenario.targets:
            if target.of != "acted":
                continue
            scale = target_scale(target)
            limit = target.limit
            value = limit.working_days if limit.is_working_days else limit.seconds
            for _, key in target_metrics(scenario, target):
                self.limits.setdefault(key, []).append(Limit(target.id, scale, float(value)))

    def __bool__(self) -> bool:
        return bool(self.agencies)

    def is_external(self, agency: str | None) -> bool:
        return agency in self._tallies

    def requested(self, agency: str) -> None:
        self._tallies[agency].requests += 1

    def answered(self, flow_id: str, agency: str, step: str, opened: float, at: float) -> None:
        """A valid answer to `step`, recorded at business time `at` in a case opened at
        `opened`: late against every target on the step whose limit it is beyond."""
        tally = self._tallies[agency]
        tally.valid += 1
        late = False
        for limit in self.limits.get(step_key(flow_id, "acted", step), ()):
            if self._beyond(limit, opened, at):
                tally.late_by_target[limit.target] += 1
                late = True
        tally.late += late

    def duplicated(self, agency: str) -> None:
        self._tallies[agency].duplicated += 1

    def refused(self, agency: str, reason: str) -> None:
        self._tallies[agency].invalid[reason] += 1

    def dead_lettered(self, reason: str, source_topic: str) -> None:
        """A dead letter from an external agency's outcome topic is an invalid answer, unless
        the orchestrator refused it: its refusal is counted from its transition."""
        agency = self.outcome_topics.get(source_topic)
        if agency is not None and reason not in REFUSALS:
            self._tallies[agency].invalid[reason] += 1

    def missing(self, agency: str) -> None:
        """A request of the agency's still unanswered at the cut-off."""
        self._tallies[agency].missing += 1

    def report(self) -> dict[str, Conformance]:
        return {
            agency: Conformance(
                requests=tally.requests,
                valid=tally.valid,
                invalid=dict(sorted(tally.invalid.items())),
                missing=tally.missing,
                late=tally.late,
                late_by_target=dict(sorted(tally.late_by_target.items())),
                duplicated=tally.duplicated,
            )
            for agency, tally in self._tallies.items()
        }

    def _beyond(self, limit: Limit, opened: float, at: float) -> bool:
        if limit.scale == "latency":
            return at - opened > limit.value
        office, legal = self.calendar.working_days_both(opened, max(opened, at))
        days = office if limit.scale == "working_days" else legal
        return days > limit.value
