"""Realistic example messages for any topic, made the way a run makes them.

A developer integrating an agency wants a real message to test a decoder or a consumer with:
valid for the contract, with the data a real case carries (a unified social credit code with its
check character, an account at a real bank). The topic's flow source generates triggers, and the
flow's own orchestrator walks each case, answered as a simulated agency answers, until a message
on the topic appears; the first that does is the sample. On a flow's progress topic that is the
record of the transition that opened the first case, as the kafka engine publishes it.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any

from govstream.contracts.catalog import Catalog, load_catalog
from govstream.pipeline.publication import on_the_record_topic
from govstream.pipeline.schedule import case_id
from processors import FLOWS
from processors.agency import outcome_for
from processors.events import Emit
from processors.flow import FlowSpec, signal_id
from processors.orchestrator import Orchestrator

SAMPLE_DAY = dt.date(2021, 6, 1)
CASES_TRIED = 500
"""Cases walked at most: enough for every conditional step of every flow's default mix."""


class SampleError(ValueError):
    """No sample for this topic (the dead-letter topic has no contract)."""


def _walk(flow_id: str, trigger: dict[str, Any], topic: str, rng: random.Random) -> Any:
    flow = FLOWS[flow_id]
    orchestrator = Orchestrator(flow)
    progress = orchestrator.open(None, trigger, opened_at=0.0, now=0.0)
    pending: list[Emit] = []
    clock = 0.0
    while True:
        pending += progress.emits
        for emit in progress.emits:
            if emit.topic == topic:
                return dict(emit.value)
        if topic == flow.progress_topic:
            return progress.transition.to_record()
        if progress.completion is not None and progress.completion.emit.topic == topic:
            return dict(progress.completion.emit.value)
        if not pending:
            return None
        emit = pending.pop(0)
        outcome = outcome_for(flow, flow.step(str(emit.step)), emit.value, rng)
        if outcome.topic == topic:
            return dict(outcome.value)
        clock += 1.0
        progress = orchestrator.record(progress.state, outcome.value, clock, clock - 0.5)


def sample_value(topic: str, seed: int = 1, catalog: Catalog | None = None) -> dict[str, Any]:
    """The first message a seeded run of the topic's flow puts on the topic."""
    catalog = catalog or load_catalog()
    if topic == catalog.dead_letter_topic:
        raise SampleError(
            f"{topic} carries the raw bytes of messages that failed, under no contract"
        )
    spec = catalog.topic(topic)
    flow = FLOWS[spec.flow]
    if flow.scoring is not None and topic in (*flow.scoring.topics, flow.scored_topic):
        return _scoring_sample(flow, topic, seed)
    generator = flow.source.make(random.Random(f"sample:{seed}:{flow.id}"), {})
    rng = random.Random(f"sample:{seed}:{topic}")
    beside = _beside(flow, topic, generator, rng)
    if beside is not None:
        return beside
    for number in range(1, CASES_TRIED + 1):
        trigger = generator.generate(case_id(flow.id, number), SAMPLE_DAY)
        if topic == flow.source_topic:
            return dict(trigger)
        found = _walk(flow.id, trigger, topic, rng)
        if found is not None:
            return on_the_record_topic(found) if spec.compacted else found
    raise SampleError(f"no case of {CASES_TRIED} put a message on {topic}")


def _beside(flow: FlowSpec, topic: str, generator: Any, rng: random.Random) -> Any:
    """A subscriber's check or what it found, or a counted event or its count: none of them a
    step of a case."""
    at = dt.datetime.combine(SAMPLE_DAY, dt.time(10), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    publication = flow.publication
    for subscriber in publication.subscribers if publication else ():
        assert publication is not None
        check = publication.check(rng, generator, subscriber.agency).generate("check-1", at)
        if topic == subscriber.checks:
            return check
        if topic in (subscriber.uses, publication.uses_told):
            found = [case_id(flow.id, 1)]
            kept = ("check_id", "subscriber", "uscc", "checked_at")
            return {k: check[k] for k in kept} | {"found": found}
    for tally in flow.tallies:
        event = tally.build(rng, generator).generate(case_id(flow.id, 1), SAMPLE_DAY)
        if topic == tally.topic:
            return event
        if topic == tally.counted:
            return {"count": tally.id, "value": tally.distinct(event)}
    return None


def _scoring_sample(flow: FlowSpec, topic: str, seed: int) -> dict[str, Any]:
    """A signal as its source reports it, or the scorer's record of having counted it."""
    scoring = flow.scoring
    assert scoring is not None
    kind = scoring.topics.get(topic, scoring.signals[0].kind)
    mix = flow.source.mix({})
    population = scoring.population(random.Random(f"sample:{seed}:{flow.id}"), mix)
    draw = scoring.signal(kind).build(random.Random(f"sample:{seed}:{topic}"), mix, population)
    at = dt.datetime.combine(SAMPLE_DAY, dt.time(10), dt.timezone(dt.timedelta(hours=8)))
    signal = draw(signal_id(kind, 1), at)
    if topic != flow.scored_topic:
        return signal
    return {
        "signal_id": signal["case_id"],
        "flow": flow.id,
        "kind": kind,
        "weight": scoring.weight(kind, signal),
        "crossed": None,
        "score": None,
    }


def as_json(value: Any) -> Any:
    """A decoded record as JSON data: dates and times in ISO 8601, bytes in hex."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    return value


def json_text(value: Any) -> str:
    return json.dumps(as_json(value), ensure_ascii=False, indent=2)
