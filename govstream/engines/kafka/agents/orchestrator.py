"""The orchestrator agent: one for every flow of a run, walking each case's step graph.

It reads the flows' trigger topics and each answerer's outcome topic, all keyed by case id so
that a case's messages meet in one partition and its state in one row of the `cases` table, and
hands each to the same pure orchestrator the sim engine runs (`processors.orchestrator`). It
sends the requests of the steps now due and, once a case is complete, its completion; the
case's row is deleted once that completion is on the brokers. Every transition is recorded on
the flow's progress topic, which a run's books are kept from.

Who answered is the topic the answer came on: on a secure cluster only that agency may write
it. An answer the orchestrator cannot place (another agency's step, a request never sent, a
case it holds no state of) is dead-lettered with its reason and recorded as refused; the case
waits on for its own answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import faust
import structlog
from faust.streams import current_event

from govstream.contracts.codec import AvroCodec, CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.answer_clocks import (
    Clocks,
    clock_marks,
    joined_units,
    latest,
    step_units,
)
from govstream.engines.kafka.agents.shared import PROCESSING_FAILED, Clock, Outbox, about_case
from govstream.engines.kafka.business_clock import CaseClock
from govstream.pipeline.exchange import Crossing, Exchange
from govstream.pipeline.publication import on_the_record_topic
from processors import FLOWS
from processors.events import Emit
from processors.flow import FlowSpec, ItemJoin
from processors.orchestrator import ANSWERED, OPENED, CaseState, Orchestrator, Progress, Started

log = structlog.get_logger(__name__)

FORGET_ON_STOP_SECONDS = 5.0
"""How long a stopping worker waits for its last completions to reach the brokers, whose
cases' state it then deletes: a completion is acknowledged within a round trip."""

WRITTEN_BY = "written_by"
"""In a stored case state: the position (topic/partition/offset) of the message whose handling
wrote it, so that a replay of that very message can be told from any other duplicate."""

PROGRESS_OF_CASE = "progress"
"""In a stored case state: the progress record of the transition that wrote it, sent again
with the requests when that transition's message is replayed."""

CLOCKS_OF_CASE = "clocks"
"""In a stored case state: each answer's case clock, by unit (`answer_clocks.py`)."""

TRACE_OF_CASE = "trace"
"""In a stored case state: the trace marks its requests carry (run, clocks, flow), so that a
request owed (`owed.py`) can be sent again without the message that made it due."""


class RefusedAnswer(Exception):
    """An answer the orchestrator refused: its reason, step and answerer, for the dead letter."""

    def __init__(self, progress: Progress) -> None:
        seen = progress.transition
        super().__init__(
            f"{seen.reason}: an answer to step {seen.step!r} of {seen.case_id} from "
            f"{seen.answerer!r}; the case waits on for its own answer"
        )


class MissingTrace(Exception):
    """An external agency's answer without the trace its request carried: the run it belongs
    to and the case's clock cannot be told, so it is dead-lettered and the case waits on."""

    def __init__(self, answerer: str) -> None:
        super().__init__(
            f"an answer from {answerer} lacks the trace headers its request carried "
            f"({', '.join(h.ECHOED_REQUIRED)}): an answer must carry back every gs_ header of "
            "its request; the case waits on for an answer that does"
        )


def position(message: Any) -> str:
    return f"{message.topic}/{message.partition}/{message.offset}"


def partition_of(written_by: str) -> int:
    """The partition of the message whose handling wrote a stored state (see `position`)."""
    return int(written_by.rsplit("/", 2)[1])


class TableCodec:
    """Orchestrator state as JSON for the changelog: the trigger travels as its Avro bytes."""

    def __init__(self, codec: AvroCodec) -> None:
        self.codec = codec

    def dump(
        self,
        flow_id: str,
        state: CaseState,
        written_by: str = "",
        trace: dict[str, str] | None = None,
        progress: dict[str, Any] | None = None,
        clocks: Clocks | None = None,
    ) -> dict[str, Any]:
        topic = FLOWS[flow_id].source_topic
        return {
            **state,
            "flow": flow_id,
            "trigger": self.codec.encode(topic, state["trigger"]).hex(),
            WRITTEN_BY: written_by,
            TRACE_OF_CASE: trace or {},
            PROGRESS_OF_CASE: progress,
            CLOCKS_OF_CASE: clocks or {},
        }

    def load(self, stored: dict[str, Any] | None) -> CaseState | None:
        if stored is None:
            return None
        topic = FLOWS[stored["flow"]].source_topic
        trigger = self.codec.decode(bytes.fromhex(stored["trigger"]), expected_topic=topic)
        kept_apart = ("flow", WRITTEN_BY, TRACE_OF_CASE, PROGRESS_OF_CASE, CLOCKS_OF_CASE)
        state = {key: value for key, value in stored.items() if key not in kept_apart}
        state["trigger"] = trigger.value
        return state


@dataclass
class OrchestratorDeps:
    """What the orchestrator agent works with: the run's flows, the `cases` table (a faust
    Table, changelog-backed; any mapping will do), and where it sends."""

    flows: Mapping[str, FlowSpec]
    cases: MutableMapping[str, Any]
    outbox: Outbox
    codec: AvroCodec
    resends_owed: bool = False
    """Whether an idle worker sends owed requests again (`owed.py`), for which a stored case
    keeps the trace its requests carry."""
    clock: Clock = field(default_factory=Clock)
    joins: Mapping[str, Mapping[str, ItemJoin]] = field(default_factory=dict)
    """Per flow, the joins the scenario sets on its steps done per item."""
    exchange: Exchange | None = None
    """The exchange's drawn delays, for the triggers a hand-over writes (none: no delay)."""
    external: frozenset[str] = frozenset()
    """Agencies a system outside govstream answers for: their answers must carry back the
    trace their requests carried (`headers.ECHOED`)."""
    orchestrators: dict[str, Orchestrator] = field(init=False)
    by_source: dict[str, str] = field(init=False)
    """Trigger topic -> flow."""
    by_outcome: dict[str, tuple[str, str]] = field(init=False)
    """Outcome topic -> flow, and who answers on it (an agency, or the wait timer)."""
    table_codec: TableCodec = field(init=False)
    forgetting: set[asyncio.Task[None]] = field(init=False, default_factory=set)
    """Cases whose state is deleted once their completion is on the brokers."""
    resent: dict[str, str] = field(init=False, default_factory=dict)
    """Case -> the stored state whose owed requests were sent again (its `WRITTEN_BY`)."""

    def __post_init__(self) -> None:
        self.orchestrators = {
            flow_id: Orchestrator(
                flow,
                joins=self.joins.get(flow_id),
                downstream={
                    h.flow: self.flows[h.flow].source_topic
                    for h in flow.handovers
                    if h.flow in self.flows
                },
            )
            for flow_id, flow in self.flows.items()
        }
        self.by_source = {flow.source_topic: flow_id for flow_id, flow in self.flows.items()}
        self.by_outcome = {
            topic: (flow_id, answerer)
            for flow_id, flow in self.flows.items()
            for answerer, topic in flow.outcome_topics.items()
        }
        self.table_codec = TableCodec(self.codec)

    @property
    def topics(self) -> list[str]:
        """What the agent reads: every flow's triggers and outcomes, keyed like the table."""
        return [*self.by_source, *self.by_outcome]


def orchestrator(deps: OrchestratorDeps) -> Callable[[faust.StreamT], Awaitable[None]]:
    """The agent function, for ``app.agent(topic, name="orchestrator")``."""

    async def orchestrate(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await handle(deps, event)

    return orchestrate


async def handle(deps: OrchestratorDeps, event: faust.EventT) -> None:
    """One trigger or outcome: decoded, its case advanced; dead-lettered if it is not valid or
    its handling fails, and the agent goes on."""
    arrived = deps.clock.now()
    topic = event.message.topic
    flow_of_topic = deps.by_source.get(topic) or deps.by_outcome.get(topic, (None,))[0]
    with about_case(event, flow_of_topic) as trace:
        case_id = event.key.decode() if isinstance(event.key, bytes) else str(event.key)
        try:
            record = deps.codec.decode(event.value, expected_topic=topic).value
        except CodecError as error:
            await deps.outbox.dead_letter(event, error.reason, error)
            return
        try:
            at = position(event.message)
            raw = deps.cases.get(case_id)
            stored = deps.table_codec.load(raw)
            replayed = raw is not None and raw.get(WRITTEN_BY) == at
            if topic in deps.by_source:
                flow_id = deps.by_source[topic]
                trace[h.FLOW] = flow_id
                intended = h.mark(trace, h.INTENDED) or arrived
                progress = deps.orchestrators[flow_id].open(stored, record, intended, arrived)
            else:
                flow_id, answerer = deps.by_outcome[topic]
                if answerer in deps.external and not h.echoes_trace(trace):
                    await deps.outbox.dead_letter(event, h.MISSING_TRACE, MissingTrace(answerer))
                    return
                progress = deps.orchestrators[flow_id].record(
                    stored, record, arrived, answerer=answerer
                )
                if progress.refused:
                    await deps.outbox.dead_letter(event, progress.refused, RefusedAnswer(progress))
            await advance(
                deps, flow_id, case_id, progress, trace, arrived, at=at, replayed=replayed
            )
        except Exception as error:  # one bad case must not stop every other case
            await deps.outbox.dead_letter(event, PROCESSING_FAILED, error)


async def request(
    deps: OrchestratorDeps,
    flow_id: str,
    emit: Emit,
    trace: dict[str, str],
    arrived: float,
    sent: float,
) -> None:
    """A step's request, with the trace it passes on and its CloudEvents headers."""
    marks = h.carry(trace, **{h.ORCH_IN: arrived, h.ORCH_OUT: sent})
    marks[h.STEP] = str(emit.step)
    marks.update(
        h.cloud_event(
            event_id=str(emit.value["request_id"]),
            source=deps.orchestrators[flow_id].name,
            event_type=emit.topic,
            subject=emit.key,
            at=sent,
        )
    )
    await deps.outbox.send(emit, marks)


async def advance(
    deps: OrchestratorDeps,
    flow_id: str,
    case_id: str,
    progress: Progress,
    trace: dict[str, str],
    arrived: float,
    *,
    at: str,
    replayed: bool,
) -> None:
    """`at` is the handled message's position; `replayed`, whether the stored state was
    written by handling that very message before."""
    flow = deps.flows[flow_id]
    record = progress.transition.to_record()
    seen = progress.transition
    clocks: Clocks = dict((deps.cases.get(case_id) or {}).get(CLOCKS_OF_CASE) or {})
    if seen.event == ANSWERED and seen.step:
        clocks[seen.step] = clock_marks(trace)
    if progress.refused or (progress.duplicate and not replayed):
        # Changes nothing; the platform's record of it is what a run's books count.
        await deps.outbox.record(flow.progress_topic, case_id, record, h.progress(trace, arrived))
        return
    emits = progress.emits
    if progress.duplicate:
        # The message whose handling wrote the state, seen again: a worker was lost and its
        # messages since its last commit are replayed. The state reached the changelog,
        # but the requests and the progress record that went with it may have died in the
        # lost worker's buffer, so whatever is still outstanding is requested again (the
        # same request ids; a second answer is a duplicate, dropped here and recorded), and
        # the record of the transition that wrote the state is sent again (the books take a
        # transition told twice once).
        emits = deps.orchestrators[flow_id].outstanding(progress.state)
        stored = deps.cases.get(case_id) or {}
        record = stored.get(PROGRESS_OF_CASE) or None
    elif progress.completion is None:
        carried = None
        if deps.resends_owed:
            carried = h.carry(trace)
        deps.cases[case_id] = deps.table_codec.dump(
            flow_id, progress.state, at, carried, record, clocks
        )
    sent = deps.clock.now()

    def joined(emit: Emit) -> dict[str, str]:
        return latest(trace, clocks, joined_units(flow, str(emit.step), clocks))

    await send_due(deps, flow, progress.state, emits, joined, arrived, sent)
    handed = None
    if progress.started and seen.event == OPENED:
        # as the case opens: the cases it starts begin with it, at its trigger
        handed = opening_clock(trace, sent)
    elif progress.started:
        # on from the step whose answer hands over, or at a completion, from the latest answer
        started_flows = {started.flow for started in progress.started}
        marks = [ho.step for ho in flow.handovers if ho.flow in started_flows and ho.step]
        units = [unit for step in marks for unit in step_units(step, clocks)] or list(clocks)
        handed = handover_clock(latest(trace, clocks, units), sent)
    for started in progress.started:
        assert handed is not None
        await hand_over(deps, flow_id, started, trace, sent, handed)
    recorded = None
    if record is not None:
        marks = h.progress(trace, arrived)
        if handed is not None:
            marks[h.HANDED] = repr(handed.intended)
        recorded = await deps.outbox.record(flow.progress_topic, case_id, record, marks)
    if progress.completion is not None and not progress.duplicate:
        marks = h.carry(trace, **{h.ACTED: sent})
        delivered = await deps.outbox.send(progress.completion.emit, marks)
        forget_once_delivered(deps, case_id, delivered, recorded)


async def send_due(
    deps: OrchestratorDeps,
    flow: FlowSpec,
    state: CaseState,
    emits: list[Emit],
    trace_of: Callable[[Emit], dict[str, str]],
    arrived: float,
    sent: float,
) -> None:
    """The requests now due, each with the trace `trace_of` gives it; a publication's that fell
    due together go out as one message."""
    published: dict[tuple[str | None, bool], list[Emit]] = {}
    for emit in emits:
        step = flow.step(str(emit.step))
        if step.published is None:
            await request(deps, flow.id, emit, trace_of(emit), arrived, sent)
        else:
            published.setdefault((step.topic, step.published.tombstone), []).append(emit)
    for together in published.values():
        await publish(deps, flow, state, together, trace_of(together[0]), arrived, sent)


async def publish(
    deps: OrchestratorDeps,
    flow: FlowSpec,
    state: CaseState,
    emits: list[Emit],
    trace: dict[str, str],
    arrived: float,
    sent: float,
) -> None:
    """The requests of a publication's subscribers that fell due together, as one message on
    its compacted topic: the record, keyed by it and partitioned by its entity with the
    subscribers' checks, or its tombstone. Each subscriber answers for its own step."""
    step = flow.step(str(emits[0].step))
    assert step.published is not None and step.topic is not None
    trigger = state["trigger"]
    value = None if step.published.tombstone else on_the_record_topic(emits[0].value)
    marks = h.carry(trace, **{h.ORCH_IN: arrived, h.ORCH_OUT: sent})
    marks[h.STEP] = ",".join(str(emit.step) for emit in emits)
    marks[h.CASE] = emits[0].key
    marks[h.ENTITY] = step.published.entity(trigger)
    marks.update(
        h.cloud_event(
            event_id=f"{emits[0].key}/{'retract' if value is None else 'publish'}",
            source=deps.orchestrators[flow.id].name,
            event_type=step.topic,
            subject=emits[0].key,
            at=sent,
        )
    )
    await deps.outbox.publish(
        step.topic, step.published.key(trigger), value, marks, step.published.entity(trigger)
    )


def _same(trace: dict[str, str], _: Emit) -> dict[str, str]:
    return trace


def handover_clock(trace: dict[str, str], sent: float) -> CaseClock:
    """The clock of the cases a transition hands over, sent at wall time `sent`.

    A new case opens at the business time its upstream case has reached: its intended time is
    where the run's one clock reads that, and the wall time since (the platform's own, in the
    upstream case) counts as time spent outside the platform, so the new case's clock goes on
    from the upstream case's rather than from the wall clock's."""
    upstream = CaseClock.of(trace, h.mark(trace, h.SPEEDUP) or 1.0, sent)
    intended = upstream.wall_of(upstream.at(sent))
    return CaseClock(upstream.t0, upstream.speedup, intended, agency_wall=sent - intended)


def opening_clock(trace: dict[str, str], sent: float) -> CaseClock:
    """The clock of the cases a case hands over as it opens (`Handover` at its trigger): the
    upstream case's own, as its trigger carried it. The new case opens at the same intended
    time, and the time since, the upstream's trigger hop and orchestrator, is the new case's
    as well: the platform's own wall time, counted as it was."""
    return CaseClock.of(trace, h.mark(trace, h.SPEEDUP) or 1.0, sent)


async def hand_over(
    deps: OrchestratorDeps,
    flow_id: str,
    started: Started,
    trace: dict[str, str],
    sent: float,
    clock: CaseClock,
) -> None:
    """The trigger of a case another flow starts, on that flow's source topic, on `clock`,
    with the exchange's delay on its own way to the platform added. A hand-over of start-up
    traffic is start-up traffic too, which agencies answer at once."""
    case_id = started.emit.key
    exchange = deps.exchange.delay(Crossing.TRIGGER, case_id) if deps.exchange else 0.0
    marks = {
        h.RUN: trace.get(h.RUN, ""),
        h.T0: repr(clock.t0),
        h.SPEEDUP: repr(clock.speedup),
        h.INTENDED: repr(clock.intended),
        h.EMITTED: repr(sent),
        h.FLOW: started.flow,
        h.AGENCY_WALL: repr(clock.agency_wall),
        h.AGENCY_BUSINESS: repr(clock.agency_business),
        h.EXCHANGE: repr(clock.exchange + exchange),
        h.UPSTREAM: str(trace.get(h.FLOW, flow_id)),
    }
    if h.WARM_UP in trace:
        marks[h.WARM_UP] = trace[h.WARM_UP]
    marks.update(
        h.cloud_event(
            event_id=str(started.emit.value.get("event_id") or case_id),
            source=deps.orchestrators[flow_id].name,
            event_type=started.emit.topic,
            subject=case_id,
            at=sent,
        )
    )
    await deps.outbox.send(started.emit, marks)


def forget_once_delivered(
    deps: OrchestratorDeps,
    case_id: str,
    delivered: Awaitable[Any],
    recorded: Awaitable[Any] | None = None,
) -> None:
    """Drops a complete case's state once its completion and the progress record that says
    so are on the brokers: a worker lost in between leaves the state, and the replayed
    outcome completes the case again. The orchestrator goes on meanwhile; waiting for each
    completion's round trip in its loop held a worker to one completion per round trip
    (trigger hops of 0.3 s p50 at 200/s)."""

    async def forget(handled: faust.EventT | None) -> None:
        # `handled` keeps the event alive: the table finds the partition it writes to
        # through a weak reference to the event being handled (copied into this task).
        try:
            await delivered
            if recorded is not None:
                await recorded
        except Exception as error:  # as a lost worker: the state stays, nothing is lost
            log.warning("completion not delivered", case_id=case_id, error=str(error))
            return
        deps.cases.pop(case_id, None)

    task = asyncio.ensure_future(forget(current_event()))
    deps.forgetting.add(task)
    task.add_done_callback(deps.forgetting.discard)


async def forget_the_last(deps: OrchestratorDeps) -> None:
    """A stopping worker first drops the state of the cases it has just completed."""
    if deps.forgetting:
        await asyncio.wait(set(deps.forgetting), timeout=FORGET_ON_STOP_SECONDS)


async def resend_owed(deps: OrchestratorDeps, partitions: set[int]) -> int:
    """Sends again what the open cases of `partitions` wait for, once per state (`owed.py`)."""
    count = 0
    for case_id, raw in list(deps.cases.items()):
        written_by = raw.get(WRITTEN_BY, "") if raw else ""
        if not written_by or partition_of(written_by) not in partitions:
            continue  # a standby's copy of another worker's case
        if deps.resent.get(case_id) == written_by:
            continue
        deps.resent[case_id] = written_by
        flow_id, state = raw["flow"], deps.table_codec.load(raw)
        trace = raw.get(TRACE_OF_CASE, {})
        with structlog.contextvars.bound_contextvars(
            run_id=trace.get(h.RUN), flow=flow_id, case_id=case_id
        ):
            # An external agency's requests are not sent again: its system, not a worker of
            # govstream's, holds what it was sent, and an answer still owed is its to give.
            owed = [
                emit
                for emit in deps.orchestrators[flow_id].outstanding(state)
                if emit.recipient not in deps.external
            ]
            now = deps.clock.now()
            await send_due(deps, deps.flows[flow_id], state, owed, partial(_same, trace), now, now)
            record = raw.get(PROGRESS_OF_CASE)
            if owed and record:  # it may have died with the requests
                progress_topic = deps.flows[flow_id].progress_topic
                await deps.outbox.record(progress_topic, case_id, record, h.progress(trace, now))
            if owed:
                log.warning("case waits on requests nobody has", steps=len(owed))
        count += len(owed)
    return count
