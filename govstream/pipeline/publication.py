"""A published record's life outside its case: the subscribers' tables, the checks they make in
their own work, and the events a flow's counts are kept from.

Both engines draw the checks and the counted events here, in the one merged schedule's order,
so a scenario means the same checks on either. Which entities a subscriber checks often is
read from the triggers drawn so far (`Listed`), never from how far the run has got: the kafka
generator emits ahead of the platform, and the sim engine must draw what it draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from govstream.pipeline.agencies import seeded
from govstream.pipeline.schedule import Arrival, trigger_date
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.events import Emit, Record
from processors.flow import FlowSpec

CHECK = "check"
"""The kind of a subscriber's check among the arrivals (`check:bank`); a counted event's is
`tally:<count>` (`schedule.py` names both)."""


def kind_of(arrival: Arrival) -> tuple[str, str]:
    """(check or tally, the subscriber or the count) of a side arrival."""
    kind, _, name = arrival.kind.partition(":")
    return kind, name


class Listed:
    """The entities listed so far that subscribers still check often, in the order listed: a
    list, so the seed alone fixes which one a check draws."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, float]] = []

    def add(self, entity: str, until: float) -> None:
        self._entries.append((entity, until))

    def at(self, at: float) -> list[str]:
        """Those still checked often at `at`; the ones past it are forgotten, as time only
        moves forward in a schedule."""
        self._entries = [(entity, until) for entity, until in self._entries if until > at]
        return [entity for entity, _ in self._entries]


class RecordTable:
    """One subscriber's table of the records it holds: entity -> record key -> case."""

    def __init__(self) -> None:
        self._by_entity: dict[str, dict[str, str]] = {}

    def take(self, entity: str, key: str, case_id: str) -> None:
        self._by_entity.setdefault(entity, {})[key] = case_id

    def drop(self, entity: str, key: str) -> None:
        held = self._by_entity.get(entity)
        if held is not None:
            held.pop(key, None)
            if not held:
                del self._by_entity[entity]

    def find(self, entity: str) -> list[str]:
        """The cases of the records held about `entity`, in the order taken in."""
        return list(self._by_entity.get(entity, {}).values())


class SideEvents:
    """The checks and the counted events of a run, drawn in schedule order.

    `generators` are the run's trigger generators by flow: checks and counted events concern
    their entities. Each subscriber's checks and each count draw from a seeded stream of their
    own."""

    def __init__(self, scenario: Scenario, generators: Mapping[str, Any]) -> None:
        self.scenario = scenario
        self.listed = {f: Listed() for f in scenario.flows if FLOWS[f].publication is not None}
        self._checks: dict[tuple[str, str], Any] = {}
        self._tallies: dict[tuple[str, str], Any] = {}
        for flow_id, settings in scenario.flows.items():
            flow = FLOWS[flow_id]
            if flow.publication is not None:
                for agency in settings.checks:
                    rng = seeded(scenario.seed, f"check:{flow_id}:{agency}")
                    self._checks[flow_id, agency] = flow.publication.check(
                        rng, generators[flow_id], agency
                    )
            for tally in flow.tallies:
                if tally.id in settings.tallies:
                    rng = seeded(scenario.seed, f"tally:{flow_id}:{tally.id}")
                    self._tallies[flow_id, tally.id] = tally.build(rng, generators[flow_id])

    def listing(self, flow_id: str, trigger: Record, at: float) -> None:
        """A record was published at `at`: its entity is checked often from now on."""
        publication = FLOWS[flow_id].publication
        if publication is not None:
            self.listed[flow_id].add(str(trigger["uscc"]), at + publication.checked_until(trigger))

    def make(self, arrival: Arrival, event_id: str) -> dict[str, Any]:
        """The value of a side arrival, valid for its topic's contract."""
        kind, name = kind_of(arrival)
        if kind == CHECK:
            at = self.scenario.start + timedelta(seconds=arrival.at)
            check = self._checks[arrival.flow, name]
            return check.generate(event_id, at, self.listed[arrival.flow].at(arrival.at))
        return self._tallies[arrival.flow, name].generate(
            event_id, trigger_date(self.scenario, arrival.at)
        )


def side_topic(arrival: Arrival) -> tuple[str, str, str]:
    """(topic, its contract, the agency that writes it) of a side arrival."""
    kind, name = kind_of(arrival)
    flow = FLOWS[arrival.flow]
    if kind == CHECK:
        assert flow.publication is not None
        subscriber = flow.publication.subscriber(name)
        return subscriber.checks, flow.publication.check_schema, subscriber.agency
    tally = next(t for t in flow.tallies if t.id == name)
    return tally.topic, tally.schema, tally.agency


def side_id(arrival: Arrival, run: str = "") -> str:
    """A side event's id, unlike any case's: `F12-check-bank-0000007`."""
    kind, name = kind_of(arrival)
    return f"{arrival.flow}-{kind}-{name}-{run + '-' if run else ''}{arrival.number:07d}"


def on_the_record_topic(request: Record) -> dict[str, Any]:
    """A published step's request as the compacted topic carries it: one message for every
    subscriber, so without any one subscriber's request id."""
    return {key: value for key, value in request.items() if key != "request_id"}


def on_the_wire(flow: FlowSpec, emit: Emit) -> Emit:
    """A request as its topic carries it: a publication's, without the subscriber's id."""
    step = flow.step(str(emit.step)) if emit.step else None
    if step is None or step.published is None:
        return emit
    return Emit(emit.topic, emit.key, on_the_record_topic(emit.value), emit.recipient, emit.step)
