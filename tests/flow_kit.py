"""What the tests of one flow share: its generated triggers, the field names of its contracts,
every string a message holds, an agency's answer to a request, a case walked to its end, and
the progress records of a walked case, as plain values."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from typing import Any

from govstream.contracts.catalog import load_catalog
from processors.agency import outcome_for
from processors.events import Emit, Record
from processors.flow import FlowSpec
from processors.orchestrator import CaseState, Orchestrator, Progress


def generate(
    flow: FlowSpec, count: int, *, seed: int, on: dt.date, first: int = 0, **mix: Any
) -> list[dict[str, Any]]:
    """`count` triggers from the flow's own producer, numbered from `first`, all on one day."""
    make = flow.source.generator(random.Random(seed), mix)
    return [make(f"{flow.id}-{n:07d}", on) for n in range(first, first + count)]


def field_names(topic: str) -> set[str]:
    """The top-level fields of a topic's schema."""
    return {field["name"] for field in load_catalog().schema_json(topic)["fields"]}


def strings_in(value: Any) -> Iterator[str]:
    """Every string value anywhere in a decoded message, however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def answer_value(
    flow: FlowSpec, emit: Emit, rng: random.Random, rejected: str | None = None
) -> dict[str, Any]:
    """The outcome a simulated agency sends for the request, or its rejection."""
    step = flow.step(str(emit.step))
    return dict(outcome_for(flow, step, emit.value, rng, rejected_reason=rejected).value)


def by_step(emits: list[Emit]) -> dict[str, Emit]:
    return {str(emit.step): emit for emit in emits}


def walk_case(flow: FlowSpec, trigger: dict[str, Any]) -> tuple[list[list[Emit]], Progress]:
    """Walk a case to completion, answering each request as it comes: the requests sent at
    its opening, then at each answer that sent any, and the last progress."""
    orchestrator = Orchestrator(flow)
    progress = orchestrator.open(None, trigger, 0.0, 0.0)
    turns = [list(progress.emits)]
    pending = list(progress.emits)
    rng = random.Random(3)
    now = 0.0
    while pending:
        now += 1.0
        answer = answer_value(flow, pending.pop(0), rng)
        progress = orchestrator.record(progress.state, answer, now, now)
        if progress.emits:
            turns.append(list(progress.emits))
        pending += progress.emits
    assert progress.completion is not None
    return turns, progress


def run_case(flow: FlowSpec, trigger: dict[str, Any]) -> tuple[dict[str, Emit], Progress]:
    """Walk a case to completion, answering every request; returns every request by step."""
    turns, progress = walk_case(flow, trigger)
    return by_step([emit for turn in turns for emit in turn]), progress


def only(emits: list[Emit]) -> Emit:
    assert len(emits) == 1, [e.step for e in emits]
    return emits[0]


def progress_records(
    flow: FlowSpec, trigger: Record, outcomes: Iterable[Emit]
) -> tuple[list[dict[str, Any]], CaseState]:
    """The `CaseProgress` record of every transition of a walked case, as the kafka engine
    publishes them: its trigger, then its outcomes in the order they were answered. Also the
    state the last transition left, to try more answers on."""
    orchestrator = Orchestrator(flow)
    progress = orchestrator.open(None, trigger, opened_at=0.0, now=0.0)
    records = [progress.transition.to_record()]
    for at, outcome in enumerate(outcomes, start=1):
        progress = orchestrator.record(progress.state, outcome.value, float(at))
        records.append(progress.transition.to_record())
    return records, progress.state
