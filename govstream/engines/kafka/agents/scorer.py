"""The scorer agent: a scoring flow's signals weighed per entity in a faust windowed table.

It reads every source's signal topic, keyed by entity, so one entity's signals meet in one
partition and its windows in the table's rows there. faust decides which windows a signal
counts in (`WindowSet.apply` over the table's own `ranges`), on the signal's business time
(`relative_to`, from the time the generator stamped it with: the scores' clock the sim engine
counts on too, `schedule.signal_time`). Whether a signal took a window to the threshold is
`windows.crosses`, as on the sim engine, and of several windows crossing at one signal the
earliest-starting warns, as `ScoreBook` does: both engines warn about the same entities at the
same signals.

Each window's row holds its score and the signals that made it, so the warning can name them.
A crossing writes the flow's trigger on its source topic, timed from the signal's intended
emit time, as a hand-over writes another flow's; every signal counted is recorded on the flow's
scored topic, which a run's books read. Rows are keyed by run as well as by entity, so a run
never scores on an earlier run's windows.

Signals from different topics reach the agent in the order Kafka hands them over, which for
one entity follows business time only up to the platform's jitter: at a high speedup two of an
entity's signals minutes apart on the business clock may be counted the other way round. A
tumbling window crosses all the same (its sum does not depend on the order), at whichever of
its signals reached the threshold; a hopping window's signal that crosses two windows at once
may then warn twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import faust
import structlog

from govstream.contracts.codec import AvroCodec, CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.shared import PROCESSING_FAILED, Clock, Outbox, about_case
from govstream.pipeline.exchange import Crossing, Exchange
from govstream.pipeline.windows import crosses
from processors.events import Emit
from processors.flow import Crossed, FlowSpec, crossing_case_id

log = structlog.get_logger(__name__)

SCORE = "score"
SIGNALS = "signals"


def signal_time(event: faust.EventT | None) -> float:
    """Where a signal falls on the scores' clock: the time the generator stamped it with.
    faust's `relative_to` asks this of every signal the table counts."""
    if event is None:
        raise RuntimeError("a signal's time is read while the signal is handled")
    stamped = h.mark(h.read(event.message.headers), h.SIGNAL_AT)
    if stamped is None:
        raise ValueError(f"a signal without {h.SIGNAL_AT}: its business time is unknown")
    return stamped


def with_signal(row: Mapping[str, Any] | None, signal: Mapping[str, Any]) -> dict[str, Any]:
    """A window's row with one more signal: its weight added to the score, as `ScoreBook`
    adds it, and the signal named. A signal the row holds already is one read again (after
    a rebalance, or a stalled partition read from its committed offset): it changes nothing,
    so it neither counts twice nor moves a crossing to another signal."""
    row = row or {}
    named = [signal["kind"], signal["event_id"]]
    if any(list(held) == named for held in row.get(SIGNALS, ())):
        return dict(row)
    return {
        SCORE: float(row.get(SCORE, 0.0)) + float(signal["weight"]),
        SIGNALS: [*row.get(SIGNALS, ()), [signal["kind"], signal["event_id"]]],
    }


@dataclass
class ScorerDeps:
    """What the scorer works with: its flow, the windowed table (any object with faust's
    `WindowWrapper` surface will do), where it sends, and the threshold."""

    flow: FlowSpec
    scores: Any
    """The flow's scores: a faust windowed table, relative to `signal_time`."""
    outbox: Outbox
    codec: AvroCodec
    threshold: float
    exchange: Exchange | None = None
    clock: Clock = field(default_factory=Clock)
    kinds: dict[str, str] = field(init=False)
    """Signal topic -> kind."""

    def __post_init__(self) -> None:
        assert self.flow.scoring is not None
        self.kinds = dict(self.flow.scoring.topics)

    @property
    def topics(self) -> list[str]:
        return list(self.kinds)


def scorer(deps: ScorerDeps) -> Callable[[faust.StreamT], Awaitable[None]]:
    """The agent function, for ``app.agent(topics, name="f13-scorer")``."""

    async def score_all(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await score(deps, event)

    return score_all


async def score(deps: ScorerDeps, event: faust.EventT) -> None:
    """One signal: decoded and counted; dead-lettered if it is not valid or its handling
    fails, and the agent goes on."""
    topic = event.message.topic
    with about_case(event, deps.flow.id) as trace:
        try:
            signal = deps.codec.decode(event.value, expected_topic=topic).value
        except CodecError as error:
            await deps.outbox.dead_letter(event, error.reason, error)
            return
        try:
            await counted(deps, deps.kinds[topic], signal, trace, event)
        except Exception as error:  # one bad signal must not stop the others
            await deps.outbox.dead_letter(event, PROCESSING_FAILED, error)


def crossing_of(
    deps: ScorerDeps, kind: str, signal: Mapping[str, Any], run: str, event: faust.EventT
) -> tuple[float, Crossed | None]:
    """The signal added to every window faust counts it in: its weight, and the crossing it
    made (the earliest-starting window that reached the threshold), if any."""
    scoring = deps.flow.scoring
    assert scoring is not None
    weight = scoring.weight(kind, signal)
    if weight <= 0:  # an inspection passed moves no score
        return weight, None
    entity = scoring.key(signal)
    windows = deps.scores[f"{run}/{entity}"][event]
    at = deps.scores.get_timestamp(event)
    ranges = deps.scores.table.window.ranges(at)
    before = {window: dict(windows[window] or {}) for window in ranges}
    added = {"weight": weight, "kind": kind, "event_id": str(signal["event_id"])}
    windows.apply(with_signal, added, event)
    for window in ranges:
        row = windows[window] or {}
        if crosses(float(before[window].get(SCORE, 0.0)), float(row[SCORE]), deps.threshold):
            held = tuple((str(k), str(e)) for k, e in row[SIGNALS])
            start, end = window
            return weight, Crossed(
                entity,
                str(signal["company_name"]),
                (float(start), float(end)),
                float(row[SCORE]),
                deps.threshold,
                held,
            )
    return weight, None


async def counted(
    deps: ScorerDeps,
    kind: str,
    signal: Mapping[str, Any],
    trace: dict[str, str],
    event: faust.EventT,
) -> None:
    """Counts a signal, starts the case a crossing makes, and records both."""
    flow = deps.flow
    scoring = flow.scoring
    assert scoring is not None
    arrived = deps.clock.now()
    weight, crossed = crossing_of(deps, kind, signal, trace.get(h.RUN, ""), event)
    signal_id = str(signal["case_id"])
    case = crossing_case_id(flow.id, signal_id) if crossed is not None else None
    if crossed is not None and case is not None:
        trigger = scoring.trigger(crossed, case, signal_id)
        await start_case(deps, Emit(flow.source_topic, case, trigger), trace)
        log.info("score reached the threshold", case_id=case, score=crossed.score)
    record = {
        "signal_id": signal_id,
        "flow": flow.id,
        "kind": kind,
        "weight": weight,
        "crossed": case,
        "score": crossed.score if crossed is not None else None,
    }
    await deps.outbox.record(flow.scored_topic, signal_id, record, h.progress(trace, arrived))


async def start_case(deps: ScorerDeps, emit: Emit, trace: Mapping[str, str]) -> None:
    """The trigger of the case a crossing starts, on the flow's source topic: timed from the
    signal's intended emit time, its clock carrying the signal's crossing of the exchange and
    the trigger's own."""
    sent = deps.clock.now()
    case = emit.key
    exchange = deps.exchange.delay(Crossing.TRIGGER, case) if deps.exchange else 0.0
    before = h.mark(trace, h.EXCHANGE) or 0.0
    marks = {
        h.RUN: trace.get(h.RUN, ""),
        h.T0: trace.get(h.T0, ""),
        h.SPEEDUP: trace.get(h.SPEEDUP, ""),
        h.INTENDED: trace.get(h.INTENDED, ""),
        h.EMITTED: repr(sent),
        h.FLOW: deps.flow.id,
        h.EXCHANGE: repr(before + exchange),
    }
    marks.update(
        h.cloud_event(
            event_id=str(emit.value["event_id"]),
            source=deps.flow.scorer,
            event_type=emit.topic,
            subject=case,
            at=sent,
        )
    )
    await deps.outbox.send(emit, marks)
