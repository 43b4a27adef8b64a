"""The books of what happens beside the cases: subscribers' checks against their tables, the
exposures among them, and the counts the plan sets.

A check is an **exposure** when it found a record whose retraction the platform had recorded
before the check was made: the record was still in the subscriber's table though its sharing
had stopped. Checks may be told before the retraction they are measured against (on Kafka the
two reach the collector by different topics), so exposures are counted at the end, from every
check and every retraction told.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from govstream.result import Exposures, TallyCount
from govstream.scenario.model import Scenario
from processors import FLOWS


class BesideBook:
    """Checks, retractions and counted values, by flow."""

    def __init__(self, scenario: Scenario) -> None:
        self.start: datetime = scenario.start
        self._subscribers = {
            flow_id: [s.agency for s in FLOWS[flow_id].publication.subscribers]
            for flow_id in scenario.flows
            if FLOWS[flow_id].publication is not None
        }
        self._tally_ids = {
            flow_id: [t.id for t in FLOWS[flow_id].tallies if t.id in settings.tallies]
            for flow_id, settings in scenario.flows.items()
        }
        self._retracted: dict[str, float] = {}
        """Case -> when the platform recorded its record's retraction."""
        self._uses: dict[tuple[str, str], list[tuple[float, tuple[str, ...]]]] = {}
        self._checks_told: set[str] = set()
        self._held_at_end: Counter[tuple[str, str]] = Counter()
        self._counted: dict[tuple[str, str], dict[str, float]] = {}
        """(flow, count) -> each value counted, and when it was first seen."""

    def retracted(self, case_id: str, at: float) -> None:
        self._retracted.setdefault(case_id, at)

    def used(
        self, flow_id: str, agency: str, check_id: str, at: float, found: Sequence[str]
    ) -> None:
        """`agency` checked an entity at `at` and found the records of cases `found`; a check
        told twice (a message replayed after a worker was replaced) is counted once."""
        if check_id in self._checks_told:
            return
        self._checks_told.add(check_id)
        self._uses.setdefault((flow_id, agency), []).append((at, tuple(found)))

    def held_at_end(self, flow_id: str, agency: str) -> None:
        """A record retracted was still in `agency`'s table when the run ended: later checks
        could still find it."""
        self._held_at_end[flow_id, agency] += 1

    def tallied(self, flow_id: str, tally: str, value: str, at: float) -> None:
        seen = self._counted.setdefault((flow_id, tally), {})
        seen[value] = min(at, seen.get(value, at))

    def exposures(self) -> dict[str, dict[str, Exposures]]:
        """Per flow and subscriber: the checks, those that found a record, the exposures."""
        result: dict[str, dict[str, Exposures]] = {}
        for flow_id, agencies in self._subscribers.items():
            result[flow_id] = {}
            for agency in agencies:
                uses = self._uses.get((flow_id, agency), [])
                exposed = sum(
                    any(self._retracted.get(case, float("inf")) < at for case in found)
                    for at, found in uses
                )
                result[flow_id][agency] = Exposures(
                    checks=len(uses),
                    found=sum(bool(found) for _, found in uses),
                    exposures=exposed,
                    retracted_held_at_end=self._held_at_end[flow_id, agency],
                )
        return result

    def tallies(self) -> dict[str, dict[str, TallyCount]]:
        """Per flow and count: the distinct values counted, and how many were new each day."""
        result: dict[str, dict[str, TallyCount]] = {}
        for flow_id, ids in self._tally_ids.items():
            for tally in ids:
                firsts = self._counted.get((flow_id, tally), {}).values()
                days = Counter(
                    (self.start + timedelta(seconds=at)).date().isoformat() for at in firsts
                )
                result.setdefault(flow_id, {})[tally] = TallyCount(
                    counted=len(firsts), new_by_day=dict(sorted(days.items()))
                )
        return result
