"""The faust app for a scenario: orchestrators, agency endpoints and wait timers as agents.

The agents only move bytes and time; what they decide comes from the same pure orchestrator
and agency model the sim engine runs (`Orchestrator`, `AgencyPool`, `Waits`). One orchestrator
agent reads every flow's triggers and outcomes (all keyed by case id, so a case's messages meet
in one partition and its state in one table row) and emits the requests of the steps now due.
One endpoint agent per agency pool reads every request topic that pool serves, so a shared
agency's clerks (agent concurrency) serve all its flows from one queue. Inbound topics are read
raw and decoded in the agent: anything that is not valid single-object Avro goes to the
dead-letter topic with its reason instead of stopping a stream.

On a secure cluster a faust app has one client identity, so each role runs as an app of its own
(``build_app(..., role=...)``): the platform's orchestrator and wait timer as ``platform``, and
each agency's endpoints as that agency, in a consumer group only that agency may join.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import faust
import structlog
from faust.streams import current_event

from govstream.contracts.access import PLATFORM, agency_group_prefix
from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec, CodecError
from govstream.contracts.personal import marked_fields, personal_values, scrub
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.access import role_principal, settings
from govstream.engines.kafka.arrival import Arrival, ArrivalStampedSchema
from govstream.engines.kafka.faust_codec import register_topic_codecs
from govstream.engines.kafka.owed import resend_when_idle
from govstream.engines.kafka.resync import resync_stalled_partitions
from govstream.engines.kafka.transport import SCHEME
from govstream.pipeline.agencies import AgencyPool, Waits, agency_pools
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.events import Emit
from processors.orchestrator import CaseState, Orchestrator, Progress

log = structlog.get_logger(__name__)

APP_ID = "govstream"
PROCESSING_FAILED = "processing-failed"
"""Dead-letter reason for a well-formed message that raised while it was handled."""

STREAM_BUFFER_MAXSIZE = 32768
"""faust pauses fetching a partition at 80 % of this (26,214 requests in one agent's buffer)."""

SESSION_TIMEOUT_SECONDS = 6.0
"""How long the group waits for a silent worker before its partitions move to the others.
faust's default of 60 s stalled a run for over a minute after a worker was killed; 6 s is the
smallest a broker accepts by default (`group.min.session.timeout.ms`)."""
HEARTBEAT_SECONDS = 1.0
"""A third of the session timeout or less, as Kafka advises, so one late heartbeat is no loss."""
REBALANCE_TIMEOUT_SECONDS = 20.0
"""How long the surviving workers have to rejoin the group once a rebalance starts."""
FORGET_ON_STOP_SECONDS = 5.0
"""How long a stopping worker waits for its last completions to reach the brokers, whose
cases' state it then deletes: a completion is acknowledged within a round trip."""


def app_id(scenario: Scenario) -> str:
    """One consumer group per set of flows, so runs of different flows do not share offsets."""
    return f"{APP_ID}-{'-'.join(flow_id.lower() for flow_id in scenario.flows)}"


def role_app_id(scenario: Scenario, role: str | None) -> str:
    """The platform's app id is the plain one; an agency's is in a group prefix only it may
    use (``govstream.<agency>.<flows>``)."""
    if role is None or role == PLATFORM:
        return app_id(scenario)
    return f"{agency_group_prefix(role)}{'-'.join(flow_id.lower() for flow_id in scenario.flows)}"


def roles(scenario: Scenario) -> list[str]:
    """The apps a secure run starts: the platform, then every agency with a pool in it."""
    pools = agency_pools(scenario, scenario_calendar(scenario))
    agencies = {pool.agency for pool in pools.values()}
    return [PLATFORM, *sorted(agencies)]


def consumer_groups(scenario: Scenario, *, by_role: bool) -> dict[str, list[str]]:
    """Each consumer group of a run and the topics it reads: one group for everything, or, when
    every role runs as an app of its own, the platform's and each agency's."""
    if not by_role:
        return {app_id(scenario): group_topics(scenario)}
    platform: list[str] = []
    for flow_id in scenario.flows:
        flow = FLOWS[flow_id]
        platform += [flow.source_topic, *([flow.wait_topic] if flow.waits else [])]
        platform.append(flow.outcome_topic)
    groups = {app_id(scenario): platform}
    for role in roles(scenario)[1:]:
        groups[role_app_id(scenario, role)] = [
            step.topic
            for flow_id in scenario.flows
            for step in FLOWS[flow_id].steps_of(role)
            if step.topic
        ]
    return groups


def broker_urls(bootstrap: str) -> list[str]:
    """The brokers on the project's transport (`transport.py`), faust's own with a safer commit."""
    return [f"{SCHEME}://{address.strip()}" for address in bootstrap.split(",") if address.strip()]


def clerks_per_worker(servers: int, workers: int) -> int:
    """Each of ``workers`` processes runs its share of a pool's clerks, rounded up."""
    return max(1, math.ceil(servers / workers))


def group_topics(scenario: Scenario) -> list[str]:
    """Every topic the workers consume: triggers, requests, waits and outcomes."""
    topics: list[str] = []
    for flow_id in scenario.flows:
        flow = FLOWS[flow_id]
        topics.append(flow.source_topic)
        topics += [step.topic for step in flow.steps if step.topic]
        if flow.waits:
            topics.append(flow.wait_topic)
        topics.append(flow.outcome_topic)
    return topics


def scenario_topics(scenario: Scenario) -> list[str]:
    """Every topic a run of the scenario uses, the dead-letter topic included."""
    catalog = load_catalog()
    names = [spec.name for f in scenario.flows for spec in catalog.topics_for_flow(f)]
    return [*names, catalog.dead_letter_topic]


async def sleep_until(wall: float) -> None:
    delay = wall - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


WRITTEN_BY = "written_by"
"""In a stored case state: the position (topic/partition/offset) of the message whose handling
wrote it, so that a replay of that very message can be told from any other duplicate."""


TRACE_OF_CASE = "trace"
"""In a stored case state: the trace marks its requests carry (run, clocks, flow), so that a
request owed (`owed.py`) can be sent again without the message that made it due."""


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
    ) -> dict[str, Any]:
        topic = FLOWS[flow_id].source_topic
        return {
            **state,
            "flow": flow_id,
            "trigger": self.codec.encode(topic, state["trigger"]).hex(),
            WRITTEN_BY: written_by,
            TRACE_OF_CASE: trace or {},
        }

    def load(self, stored: dict[str, Any] | None) -> CaseState | None:
        if stored is None:
            return None
        topic = FLOWS[stored["flow"]].source_topic
        trigger = self.codec.decode(bytes.fromhex(stored["trigger"]), expected_topic=topic)
        kept_apart = ("flow", WRITTEN_BY, TRACE_OF_CASE)
        state = {key: value for key, value in stored.items() if key not in kept_apart}
        state["trigger"] = trigger.value
        return state


def build_app(
    scenario: Scenario,
    bootstrap: str,
    *,
    workers: int = 1,
    replication_factor: int = 1,
    on_ready: Callable[[], None] | None = None,
    role: str | None = None,
) -> faust.App:
    """The scenario's agents as one faust app; with ``role``, only that role's agents (the
    platform's, or one agency's endpoints), connected as that role's principal."""
    catalog = load_catalog()
    runs_platform = role is None or role == PLATFORM
    codec = AvroCodec(catalog)
    flows = {flow_id: FLOWS[flow_id] for flow_id in scenario.flows}
    partitions = catalog.topic(next(iter(flows.values())).source_topic).partitions
    app = faust.App(
        role_app_id(scenario, role),
        broker=broker_urls(bootstrap),
        broker_credentials=settings(bootstrap, role_principal(role)).faust_credentials(),
        # The leader topic serves only leader-elected timers, which no agent here uses; an
        # agency's app leaves it out, having no right to create topics on a secure cluster.
        topic_disable_leader=not runs_platform,
        store="memory://",
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        topic_replication_factor=replication_factor,
        topic_partitions=partitions,
        topic_allow_declare=True,
        broker_commit_every=100,
        broker_commit_interval=0.5,
        # A rebalance does not wait for the work in hand (faust's default would): what is not
        # finished is not committed either, and the worker given its partition does it again.
        stream_wait_empty=False,
        # An agency's backlog waits in its agent's buffer, where its arrival is stamped
        # (see arrival.py); only what overflows the buffer waits in Kafka unstamped.
        stream_buffer_maxsize=STREAM_BUFFER_MAXSIZE,
        broker_session_timeout=SESSION_TIMEOUT_SECONDS,
        broker_heartbeat_interval=HEARTBEAT_SECONDS,
        broker_rebalance_timeout=REBALANCE_TIMEOUT_SECONDS,
        # faust's exactly_once is refused when a scenario is validated (see README, Reliability).
        processing_guarantee="at_least_once",
    )
    outbound = [spec.name for spec in catalog.topics.values() if spec.flow in flows]
    codec_names = register_topic_codecs(codec, outbound)
    send_topics = {
        name: app.topic(name, value_serializer=codec_names[name], internal=False)
        for name in outbound
    }

    def raw_topic(*names: str) -> faust.TopicT:
        return app.topic(*names, value_serializer="raw", internal=False)

    dead_letters = raw_topic(catalog.dead_letter_topic)
    personal = {name: marked_fields(catalog.schema_json(name)) for name in catalog.topics}

    def personal_in(topic: str, raw: bytes) -> set[str]:
        """The personal values of a message that decodes, to keep out of its error text."""
        if not personal.get(topic):
            return set()
        try:
            return personal_values(personal[topic], codec.decode(raw, expected_topic=topic).value)
        except CodecError:
            return set()

    async def dead_letter(event: faust.EventT, reason: str, error: Exception) -> None:
        message = event.message
        raw_value = message.value if isinstance(message.value, bytes) else b""
        if isinstance(message.value, Arrival):
            raw_value = message.value.body
        marks = h.read(message.headers)
        marks.update(
            {
                h.DLQ_REASON: reason,
                # An error may quote the record it failed on: headers carry no personal data.
                h.DLQ_ERROR: scrub(str(error), personal_in(message.topic, raw_value))[:500],
                h.DLQ_TOPIC: message.topic,
                h.DLQ_PARTITION: str(message.partition),
                h.DLQ_OFFSET: str(message.offset),
            }
        )
        await dead_letters.send(key=message.key, value=raw_value, headers=h.encode(marks))
        log.warning(
            "dead-lettered",
            case_id=message.key.decode("utf-8", "replace") if message.key else None,
            event_id=marks.get("ce_id"),
            flow=marks.get(h.FLOW),
            topic=message.topic,
            offset=message.offset,
            reason=reason,
        )

    async def send(emit: Emit, marks: dict[str, str]) -> Awaitable[Any]:
        """Queues the message; the returned future is done once the brokers have it."""
        return await send_topics[emit.topic].send(
            key=emit.key.encode(), value=emit.value, headers=h.encode(marks)
        )

    # -- the orchestrator ---------------------------------------------------------------------

    orchestrators = {flow_id: Orchestrator(flow) for flow_id, flow in flows.items()}
    by_source = {flow.source_topic: flow_id for flow_id, flow in flows.items()}
    by_outcome = {flow.outcome_topic: flow_id for flow_id, flow in flows.items()}
    table_codec = TableCodec(codec)
    cases: Any = (
        app.Table(
            "cases",
            default=None,
            partitions=partitions,
            schema=faust.Schema(key_serializer="json", value_serializer="json"),
        )
        if runs_platform
        else {}
    )

    forgetting: set[asyncio.Task[None]] = set()

    def forget_once_delivered(case_id: str, delivered: Awaitable[Any]) -> None:
        """Drops a complete case's state once its completion is on the brokers: a worker lost
        in between leaves the state, and the replayed outcome completes the case again. The
        orchestrator goes on meanwhile; waiting for each completion's round trip in its loop
        held a worker to one completion per round trip (trigger hops of 0.3 s p50 at 200/s)."""

        async def forget(handled: faust.EventT | None) -> None:
            # `handled` keeps the event alive: the table finds the partition it writes to
            # through a weak reference to the event being handled (copied into this task).
            try:
                await delivered
            except Exception as error:  # as a lost worker: the state stays, nothing is lost
                log.warning("completion not delivered", case_id=case_id, error=str(error))
                return
            cases.pop(case_id, None)

        task = asyncio.ensure_future(forget(current_event()))
        forgetting.add(task)
        task.add_done_callback(forgetting.discard)

    if runs_platform:

        @app.on_before_shutdown.connect
        async def _forget_the_last(sender: Any, **kwargs: Any) -> None:
            """A stopping worker first drops the state of the cases it has just completed."""
            if forgetting:
                await asyncio.wait(set(forgetting), timeout=FORGET_ON_STOP_SECONDS)

    resends_owed = role is None
    """Whether an idle worker sends owed requests again (`owed.py`), for which a stored case
    keeps the trace its requests carry."""

    async def request(
        flow_id: str, emit: Emit, trace: dict[str, str], arrived: float, sent: float
    ) -> None:
        marks = h.carry(trace, **{h.ORCH_IN: arrived, h.ORCH_OUT: sent})
        marks[h.AGENCY_WALL] = trace.get(h.AGENCY_WALL, "0")
        marks[h.STEP] = str(emit.step)
        marks.update(
            h.cloud_event(
                event_id=str(emit.value["request_id"]),
                source=orchestrators[flow_id].name,
                event_type=emit.topic,
                subject=emit.key,
                at=sent,
            )
        )
        await send(emit, marks)

    async def advance(
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
        if progress.unexpected or (progress.duplicate and not replayed):
            return  # the collector counts these from the outcomes it sees
        emits = progress.emits
        if progress.duplicate:
            # The message whose handling wrote the state, seen again: a worker was lost and its
            # messages since its last commit are replayed. The state reached the changelog,
            # but the requests that went with it may have died in the lost worker's buffer, so
            # whatever is still outstanding is requested again (the same request ids; a second
            # answer is a duplicate, dropped here and counted by the collector).
            emits = orchestrators[flow_id].outstanding(progress.state)
        elif progress.completion is None:
            carried = None
            if resends_owed:
                carried = {**h.carry(trace), h.AGENCY_WALL: trace.get(h.AGENCY_WALL, "0")}
            cases[case_id] = table_codec.dump(flow_id, progress.state, at, carried)
        sent = time.time()
        for emit in emits:
            await request(flow_id, emit, trace, arrived, sent)
        if progress.completion is not None and not progress.duplicate:
            marks = h.carry(trace, **{h.ACTED: sent})
            delivered = await send(progress.completion.emit, marks)
            forget_once_delivered(case_id, delivered)

    async def orchestrate(stream: faust.StreamT) -> None:
        async for event in stream.events():
            arrived = time.time()
            topic = event.message.topic
            trace = h.read(event.message.headers)
            case_id = event.key.decode() if isinstance(event.key, bytes) else str(event.key)
            try:
                record = codec.decode(event.value, expected_topic=topic).value
            except CodecError as error:
                await dead_letter(event, error.reason, error)
                continue
            try:
                at = position(event.message)
                raw = cases.get(case_id)
                stored = table_codec.load(raw)
                replayed = raw is not None and raw.get(WRITTEN_BY) == at
                if topic in by_source:
                    flow_id = by_source[topic]
                    trace[h.FLOW] = flow_id
                    trace[h.AGENCY_WALL] = "0"
                    intended = h.mark(trace, h.INTENDED) or arrived
                    progress = orchestrators[flow_id].open(stored, record, intended, arrived)
                else:
                    flow_id = by_outcome[topic]
                    progress = orchestrators[flow_id].record(stored, record, arrived)
                await advance(flow_id, case_id, progress, trace, arrived, at=at, replayed=replayed)
            except Exception as error:  # one bad case must not stop every other case
                await dead_letter(event, PROCESSING_FAILED, error)

    if runs_platform:
        app.agent(raw_topic(*by_source, *by_outcome), name="orchestrator")(orchestrate)

    if resends_owed:
        resent: dict[str, str] = {}

        async def resend_owed(partitions: set[int]) -> int:
            """Sends again what the open cases of `partitions` wait for, once per state."""
            count = 0
            for case_id, raw in list(cases.items()):
                written_by = raw.get(WRITTEN_BY, "") if raw else ""
                if not written_by or partition_of(written_by) not in partitions:
                    continue  # a standby's copy of another worker's case
                if resent.get(case_id) == written_by:
                    continue
                resent[case_id] = written_by
                flow_id, state = raw["flow"], table_codec.load(raw)
                owed = orchestrators[flow_id].outstanding(state)
                now = time.time()
                for emit in owed:
                    await request(flow_id, emit, raw.get(TRACE_OF_CASE, {}), now, now)
                if owed:
                    log.warning(
                        "case waits on requests nobody has", case_id=case_id, steps=len(owed)
                    )
                count += len(owed)
            return count

        resend_when_idle(app, {*by_source, *by_outcome}, resend_owed)

    # -- agency endpoints ---------------------------------------------------------------------

    calendar = scenario_calendar(scenario)
    pools = agency_pools(scenario, calendar)

    def endpoint(pool: AgencyPool) -> None:
        """One pool of clerks sharing one queue, acting for the service time ÷ speedup."""
        pool.rng = random.Random()  # each worker its own stream
        serves = {
            step.topic: (flows[flow_id], step)
            for flow_id in pool.flows
            for step in flows[flow_id].steps_of(pool.agency)
            if step.topic
        }

        async def act(
            trace: dict[str, str], flow_id: str, step_id: str
        ) -> tuple[float, float, float]:
            """Wait for opening hours, then work for the service time; return when work began,
            the business seconds worked, and how late (wall seconds) the work ended.

            Opening hours are read on the run's one business clock (wall time since `t0`
            times speedup), not on each case's own: every clerk closes and opens at the same
            moment, as in an office, whatever transport lag each case carries.
            """
            if h.WARM_UP in trace:  # start-up traffic is answered at once, outside any calendar
                return time.time(), 0.0, 0.0
            t0 = h.mark(trace, h.T0) or time.time()
            speedup = h.mark(trace, h.SPEEDUP) or scenario.kafka.speedup
            opens = pool.hours.next_available((time.time() - t0) * speedup)
            await sleep_until(t0 + opens / speedup)
            started = time.time()
            work = pool.service_time(flow_id, step_id)
            done = pool.hours.finish_time(opens, work)
            due = t0 + done / speedup
            await sleep_until(due)
            return started, work, max(0.0, time.time() - due)

        async def serve(stream: faust.StreamT) -> None:
            async for event in stream.events():
                arrival: Arrival = event.value
                delivered, taken = arrival.at, time.time()
                topic = event.message.topic
                flow, step = serves[topic]
                try:
                    request = codec.decode(arrival.body, expected_topic=topic).value
                except CodecError as error:
                    await dead_letter(event, error.reason, error)
                    continue
                trace = h.read(event.message.headers)
                try:
                    started, work, overshoot = await act(trace, flow.id, step.id)
                    outcome = pool.act(flow, step, request)
                except Exception as error:  # one request the agency cannot handle must not stop it
                    await dead_letter(event, PROCESSING_FAILED, error)
                    continue
                marks = h.answered(
                    trace,
                    delivered=delivered,
                    started=started,
                    acted=time.time(),
                    step=step.id,
                    pool=pool.name,
                    **{h.TAKEN: taken, h.WORK: work, h.OVERSHOOT: overshoot},
                )
                await send(outcome, marks)

        concurrency = clerks_per_worker(pool.servers, workers)
        inbox = app.topic(*serves, schema=ArrivalStampedSchema(), internal=False)
        app.agent(inbox, name=f"{pool.name}-endpoint", concurrency=concurrency)(serve)

    for pool in pools.values():
        if role is None or pool.agency == role:
            endpoint(pool)

    # -- waits outside any agency -------------------------------------------------------------

    waits = Waits(scenario)
    wait_flows = {flow.wait_topic: flow for flow in flows.values() if flow.waits}
    if wait_flows and runs_platform:
        pending: set[asyncio.Task[None]] = set()

        async def finish_wait(
            stream: faust.StreamT,
            event: faust.EventT,
            request: dict[str, Any],
            trace: dict[str, str],
        ) -> None:
            flow = wait_flows[event.message.topic]
            step = flow.step(str(request["step"]))
            delivered = time.time()
            try:
                if h.WARM_UP not in trace:
                    speedup = h.mark(trace, h.SPEEDUP) or scenario.kafka.speedup
                    await asyncio.sleep(waits.duration(flow.id, step.id) / speedup)
                marks = h.answered(
                    trace,
                    delivered=delivered,
                    started=delivered,
                    acted=time.time(),
                    step=step.id,
                    pool=step.actor,
                )
                await send(waits.act(flow, step, request), marks)
            except Exception as error:  # one wait that fails must not hold every later one
                await dead_letter(event, PROCESSING_FAILED, error)
            # Only now may the offset be committed: a worker lost mid-wait leaves the wait
            # unacknowledged, and the worker that inherits the partition starts it again.
            await stream.ack(event)

        @app.agent(raw_topic(*wait_flows), name="wait-timer")
        async def time_waits(stream: faust.StreamT) -> None:
            """Every wait runs at once, however many there are: nobody queues for a supplier.
            Acknowledged by hand, each when its wait is over, not when the next one starts."""
            waiting = stream.noack()
            async for event in waiting.events():
                topic = event.message.topic
                try:
                    request = codec.decode(event.value, expected_topic=topic).value
                except CodecError as error:
                    await dead_letter(event, error.reason, error)
                    await waiting.ack(event)
                    continue
                trace = h.read(event.message.headers)
                task = asyncio.ensure_future(finish_wait(waiting, event, dict(request), trace))
                pending.add(task)
                task.add_done_callback(pending.discard)

    resync_stalled_partitions(app)

    if on_ready is not None:

        @app.on_rebalance_complete.connect
        async def _ready(sender: Any, **kwargs: Any) -> None:
            on_ready()

    return app
