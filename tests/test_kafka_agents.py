"""Each of the Kafka engine's agents alone, on faust's test context, without a broker.

An agent is registered on an app of its own with its dependency object, whose outbox records
what is sent instead of sending it, and whose clock is a fake one: time moves only when an
agent sleeps (by exactly what it asked), so nothing here depends on how busy the machine is.
`agent.test_context()` runs the agent on an in-memory channel; the messages are built as the
consumer builds them (topic, partition, offset, key, headers, raw or arrival-stamped value),
since the wrapper's own `put` names no topic for an agent that reads several.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from types import SimpleNamespace
from typing import Any
from unittest import mock

import faust
import pytest
from faust.types import Message
from test_flow_f17 import award

from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.endpoint import EndpointDeps, endpoint, served_by
from govstream.engines.kafka.agents.orchestrator import (
    TRACE_OF_CASE,
    WRITTEN_BY,
    OrchestratorDeps,
    orchestrator,
)
from govstream.engines.kafka.agents.shared import (
    PROCESSING_FAILED,
    Clock,
    Outbox,
    personal_fields,
)
from govstream.engines.kafka.agents.wait_timer import WaitTimerDeps, wait_timer
from govstream.engines.kafka.app import broker_urls
from govstream.engines.kafka.arrival import ArrivalStampedSchema
from govstream.engines.kafka.business_clock import Clerks
from govstream.engines.kafka.collector import BUSINESS_MARKS, Collector
from govstream.engines.kafka.tail import TopicTail
from govstream.pipeline.agencies import Waits, agency_pools
from govstream.pipeline.exchange import Exchange
from govstream.pipeline.ledger import Ledger
from govstream.pipeline.schedule import trigger_makers
from govstream.scenario.calendar import scenario_calendar
from govstream.scenario.loader import load_scenario
from govstream.scenario.model import Scenario
from processors import FLOWS
from processors.agency import outcome_for
from processors.flow import TIMER
from processors.orchestrator import ANSWERED, COMPLETED, Orchestrator, Transition

ROOT = Path(__file__).resolve().parents[1]
F03 = FLOWS["F03"]
F17 = FLOWS["F17"]
CASE = "F03-r1-0000003"
HANG_SECONDS = 30.0
"""A guard against a hang only: every agent here is done in milliseconds."""
CATALOG = load_catalog()
CODEC = AvroCodec(CATALOG)


@dataclass
class Sent:
    topic: str
    key: bytes
    value: Any
    headers: dict[str, str]
    delivered: asyncio.Future[None]


class Recorder:
    """A topic that records what it is given; the brokers "have" each message at once, or,
    with `hold`, when the test says (`Sent.delivered`)."""

    def __init__(self, name: str, sent: list[Sent], hold: bool = False) -> None:
        self.name, self.sent, self.hold = name, sent, hold

    async def send(self, *, key: Any, value: Any, headers: Any) -> asyncio.Future[None]:
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self.hold:
            delivered.set_result(None)
        self.sent.append(Sent(self.name, key, value, h.read(headers), delivered))
        return delivered


def recording_outbox(sent: list[Sent], hold: frozenset[str] = frozenset()) -> Outbox:
    return Outbox(
        topics={name: Recorder(name, sent, name in hold) for name in CATALOG.topics},
        dead_letters=Recorder(CATALOG.dead_letter_topic, sent),
        codec=CODEC,
        personal=personal_fields(CATALOG),
    )


class FakeClock:
    """Wall time that moves only when an agent sleeps; with `gate`, a sleep also waits for the
    test to open it."""

    def __init__(self, start: float) -> None:
        self.now_, self.slept = start, []
        self.gate: asyncio.Event | None = None

    def now(self) -> float:
        return self.now_

    async def sleep(self, seconds: float) -> None:
        """Until `seconds` after now: sleeps side by side end at their own times."""
        self.slept.append(seconds)
        until = self.now_ + seconds
        if self.gate is not None:
            await self.gate.wait()
        self.now_ = max(self.now_, until)

    def clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)


def new_app() -> faust.App:
    return faust.App(
        "agents-test",
        broker=broker_urls("127.0.0.1:1"),  # never dialled
        store="memory://",
        key_serializer="raw",
        value_serializer="raw",
    )


def message(
    topic: str,
    value: bytes,
    *,
    key: str = CASE,
    headers: dict[str, str] | None = None,
    partition: int = 0,
    offset: int = 0,
) -> Message:
    return Message(
        topic, partition, offset, 0.0, 0, h.encode(headers or {}), key.encode(), value, None
    )


async def deliver(tested: Any, channel: faust.TopicT, record: Message) -> faust.EventT:
    """Hands a consumed record to the agent as faust's conductor does: stamped with the
    consumer group's generation it was fetched in (a stream drops any other), decoded by the
    agent's own topic (its schema), then put on the agent's channel."""
    record.generation_id = tested.app.consumer_generation_id
    event = await channel.decode(record)
    await tested.channel.put(event)
    return event


def requests_in(sent: list[Sent]) -> list[Sent]:
    """What was sent apart from the orchestrator's progress records."""
    return [s for s in sent if not s.topic.endswith(".case-progress.v1")]


def progress_in(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.topic.endswith(".case-progress.v1")]


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen")
        await asyncio.sleep(0.005)


# -- the orchestrator -------------------------------------------------------------------------


def f03_scenario(*overrides: str) -> Scenario:
    return load_scenario(ROOT / "scenarios" / "deregistration-fanout.yaml", overrides)


def trigger_bytes() -> tuple[dict[str, Any], bytes]:
    """The scenario's first trigger that reaches police, a bank and the housing fund."""
    scenario = f03_scenario()
    make = trigger_makers(scenario)["F03"]
    for _ in range(100):
        trigger = make(CASE, scenario.start.date())
        if len(Orchestrator(F03).open(None, trigger, 0.0, 0.0).emits) == 3:
            return trigger, CODEC.encode(F03.source_topic, trigger)
    raise AssertionError("no trigger reaches every step")


TRACE = {
    h.EXCHANGE: "0.25",
    h.RUN: "r1",
    h.T0: "1000.0",
    h.SPEEDUP: "2000.0",
    h.INTENDED: "1000.25",
    h.EMITTED: "1000.5",
    h.FLOW: "F03",
}


def orchestrator_under_test(
    sent: list[Sent], clock: FakeClock, hold: frozenset[str] = frozenset()
) -> tuple[faust.App, OrchestratorDeps, faust.TopicT]:
    app = new_app()
    deps = OrchestratorDeps(
        {"F03": F03},
        {},
        recording_outbox(sent, hold),
        CODEC,
        resends_owed=True,
        clock=clock.clock(),
    )
    topic = app.topic(*deps.topics, value_serializer="raw")
    app.agent(topic, name="orchestrator")(orchestrator(deps))
    return app, deps, topic


def test_a_trigger_sends_the_requests_due_with_their_trace_and_stores_the_case() -> None:
    sent: list[Sent] = []
    clock = FakeClock(2000.0)
    app, deps, topic = orchestrator_under_test(sent, clock)
    trigger, raw = trigger_bytes()
    due = Orchestrator(F03).open(None, trigger, 0.0, 0.0).emits
    assert len(due) == 3, "the case reaches police, a bank and the housing fund"

    async def scenario() -> None:
        async with app.agents["orchestrator"].test_context() as tested:
            record = message(F03.source_topic, raw, headers=TRACE, partition=2, offset=7)
            await deliver(tested, topic, record)
            await until(lambda: len(sent) == len(due) + 1, "the requests and the record")

    asyncio.run(scenario())
    requests = requests_in(sent)
    assert [(s.topic, s.key, s.value["request_id"]) for s in requests] == [
        (emit.topic, CASE.encode(), emit.value["request_id"]) for emit in due
    ]
    (record,) = progress_in(sent)
    assert record.topic == F03.progress_topic and record.key == CASE.encode()
    assert record.value["event"] == "OPENED"
    assert record.value["requested"] == [str(emit.step) for emit in due]
    assert record.headers[h.RECORDED] == "2000.0" and record.headers[h.RUN] == "r1"
    for request, emit in zip(requests, due, strict=True):
        marks = request.headers
        for key in (h.RUN, h.T0, h.SPEEDUP, h.INTENDED, h.EMITTED, h.FLOW):
            assert marks[key] == TRACE[key], key
        assert marks[h.ORCH_IN] == marks[h.ORCH_OUT] == "2000.0"
        assert marks[h.EXCHANGE] == "0.25", "the case's clock goes on with its requests"
        assert marks[h.STEP] == emit.step
        assert marks["ce_id"] == emit.value["request_id"]
        assert (marks["ce_subject"], marks["ce_type"]) == (CASE, emit.topic)
        assert marks["ce_source"] == "f03-orchestrator"
    stored = deps.cases[CASE]
    assert stored["flow"] == "F03"
    assert stored[WRITTEN_BY] == f"{F03.source_topic}/2/7"
    assert stored[TRACE_OF_CASE][h.RUN] == "r1"
    assert deps.table_codec.load(stored)["trigger"] == trigger


ESTABLISHED = "F01-r1-0000004"


def hand_over_establishment(marks: dict[str, str]) -> tuple[list[Sent], dict[str, Any]]:
    """An F01 trigger carrying `marks`, through an orchestrator running F01 and F02: what it
    sent, and the trigger."""
    sent: list[Sent] = []
    app = new_app()
    deps = OrchestratorDeps(
        {"F01": FLOWS["F01"], "F02": FLOWS["F02"]},
        {},
        recording_outbox(sent),
        CODEC,
        clock=FakeClock(2000.0).clock(),
    )
    topic = app.topic(*deps.topics, value_serializer="raw")
    app.agent(topic, name="orchestrator")(orchestrator(deps))
    f01 = FLOWS["F01"]
    trigger = f01.source.generator(random.Random(4), {})(ESTABLISHED, dt.date(2021, 6, 1))
    raw = CODEC.encode(f01.source_topic, trigger)

    async def scenario() -> None:
        async with app.agents["orchestrator"].test_context() as tested:
            record = message(f01.source_topic, raw, key=ESTABLISHED, headers=marks)
            await deliver(tested, topic, record)
            await until(lambda: any(s.topic == FLOWS["F02"].source_topic for s in sent), "F02")
            await until(lambda: bool(progress_in(sent)), "F01's opening record")

    asyncio.run(scenario())
    return sent, trigger


def test_an_establishment_hands_its_e_licence_over_on_the_establishments_own_clock() -> None:
    """F02 starts as F01's case opens: its trigger goes out with F01's requests, meant for
    F01's intended time and carrying the exchange's delay F01's trigger drew, so the e-licence
    case opens at the establishment; F01's opening record says when, for the books."""
    marks = {**TRACE, h.FLOW: "F01"}
    sent, trigger = hand_over_establishment(marks)
    f02 = FLOWS["F02"]
    (handed,) = [s for s in sent if s.topic == f02.source_topic]
    case = f"F02.{ESTABLISHED}"
    assert handed.key == case.encode() and handed.value["case_id"] == case
    assert handed.value["uscc"] == trigger["uscc"]
    for key in (h.T0, h.SPEEDUP, h.INTENDED, h.EXCHANGE):
        assert float(handed.headers[key]) == float(marks[key]), key
    assert handed.headers[h.RUN] == "r1" and handed.headers[h.FLOW] == "F02"
    assert float(handed.headers[h.AGENCY_WALL]) == 0.0
    assert handed.headers[h.UPSTREAM] == "F01" and handed.headers[h.EMITTED] == "2000.0"
    assert h.WARM_UP not in handed.headers
    (opened,) = progress_in(sent)
    assert opened.value["event"] == "OPENED" and opened.value["handed_over"] == [case]
    assert float(opened.headers[h.HANDED]) == float(marks[h.INTENDED])
    requested = [s for s in requests_in(sent) if s.topic != f02.source_topic]
    assert {s.headers[h.STEP] for s in requested} == {"bank-reservation", "social-insurance"}


def test_a_hand_over_of_start_up_traffic_is_start_up_traffic() -> None:
    sent, _ = hand_over_establishment({**TRACE, h.FLOW: "F01", h.WARM_UP: "1"})
    (handed,) = [s for s in sent if s.topic == FLOWS["F02"].source_topic]
    assert handed.headers[h.WARM_UP] == "1", "its agencies answer it at once"


def outcomes_for(requests: list[Sent]) -> list[tuple[str, bytes]]:
    """Each request's answer as its agency would give it, encoded for its outcome topic."""
    answers = []
    for request in requests:
        step = F03.step(request.headers[h.STEP])
        emit = outcome_for(F03, step, request.value, random.Random(1))
        answers.append((emit.topic, CODEC.encode(emit.topic, emit.value)))
    return answers


def test_the_last_outcome_sends_the_completion_and_the_case_is_forgotten_once_delivered() -> None:
    sent: list[Sent] = []
    clock = FakeClock(2000.0)
    app, deps, topic = orchestrator_under_test(sent, clock, hold=frozenset({F03.completed_topic}))
    _, raw = trigger_bytes()
    remembered: list[bool] = []

    async def scenario() -> None:
        async with app.agents["orchestrator"].test_context() as tested:
            await deliver(tested, topic, message(F03.source_topic, raw, headers=TRACE, offset=1))
            await until(lambda: len(requests_in(sent)) == 3, "the requests")
            requests = requests_in(sent)
            for offset, (answered_on, answer) in enumerate(outcomes_for(requests), start=1):
                await deliver(tested, topic, message(answered_on, answer, offset=offset))
            await until(lambda: len(requests_in(sent)) == 4, "the completion")
            # On its way, not yet on the brokers: the case's state stays.
            remembered.append(CASE in deps.cases)
            requests_in(sent)[-1].delivered.set_result(None)
            await until(lambda: CASE not in deps.cases, "the state forgotten")

    asyncio.run(scenario())
    completion = requests_in(sent)[-1]
    assert completion.topic == F03.completed_topic
    records = [s.value for s in progress_in(sent)]
    assert [r["event"] for r in records] == ["OPENED", "ANSWERED", "ANSWERED", "ANSWERED"]
    assert [r["completed"] for r in records] == [False, False, False, True]
    assert completion.key == CASE.encode()
    assert completion.value["case_id"] == CASE
    assert completion.headers[h.ACTED] == "2000.0"
    assert remembered == [True]


def test_a_replayed_trigger_sends_what_is_outstanding_and_another_duplicate_nothing() -> None:
    """After a lost worker its messages since the last commit come again: the very message
    that wrote the stored state sends its outstanding requests again (same ids); a duplicate
    from elsewhere sends nothing."""
    sent: list[Sent] = []
    app, _deps, topic = orchestrator_under_test(sent, FakeClock(2000.0))
    _, raw = trigger_bytes()

    async def scenario() -> None:
        async with app.agents["orchestrator"].test_context() as tested:
            await deliver(tested, topic, message(F03.source_topic, raw, headers=TRACE, offset=5))
            await until(lambda: len(sent) == 4, "the requests and the record")
            await deliver(tested, topic, message(F03.source_topic, raw, headers=TRACE, offset=5))
            await until(lambda: len(sent) == 8, "the requests and the record sent again")
            await deliver(tested, topic, message(F03.source_topic, raw, headers=TRACE, offset=6))
            # A message after it that is seen to be handled: the duplicate was handled before.
            await deliver(tested, topic, message(F03.source_topic, b"junk", offset=7))
            await until(lambda: len(sent) == 10, "the dead letter after the duplicate")

    asyncio.run(scenario())
    requests = requests_in(sent)
    first, again, last = requests[:3], requests[3:6], requests[6]
    assert [s.value["request_id"] for s in again] == [s.value["request_id"] for s in first]
    assert last.topic == CATALOG.dead_letter_topic
    records = [s.value for s in progress_in(sent)]
    # The replay sends the record of the transition that wrote the state again, the same one;
    # the duplicate from elsewhere is recorded as a duplicate and sends nothing else.
    assert records[0] == records[1] and records[0]["event"] == "OPENED"
    assert records[2]["event"] == "DUPLICATE" and len(records) == 3


def test_an_undecodable_message_is_dead_lettered_with_its_reason_and_the_agent_goes_on() -> None:
    sent: list[Sent] = []
    app, _deps, topic = orchestrator_under_test(sent, FakeClock(2000.0))
    _, raw = trigger_bytes()

    async def scenario() -> None:
        async with app.agents["orchestrator"].test_context() as tested:
            junk = message(F03.source_topic, b"not avro", headers={h.RUN: "r1"}, offset=41)
            await deliver(tested, topic, junk)
            await deliver(tested, topic, message(F03.source_topic, raw, headers=TRACE, offset=42))
            await until(lambda: len(sent) == 5, "the dead letter, the requests and the record")

    asyncio.run(scenario())
    letter = sent[0]
    assert letter.topic == CATALOG.dead_letter_topic
    assert (letter.key, letter.value) == (CASE.encode(), b"not avro")
    marks = letter.headers
    assert marks[h.DLQ_REASON] == "not-single-object"
    assert marks[h.DLQ_TOPIC] == F03.source_topic
    assert (marks[h.DLQ_PARTITION], marks[h.DLQ_OFFSET]) == ("0", "41")
    assert marks[h.RUN] == "r1"
    assert {s.topic for s in requests_in(sent)[1:]} == {emit.topic for emit in due_requests()}


def test_an_agency_answering_for_another_is_dead_lettered_and_the_case_waits() -> None:
    """The bank writes, on its own outcome topic, a COMPLETED answer to the police's step:
    refused with its reason, recorded as refused, and nothing changes for the case."""
    sent: list[Sent] = []
    app, deps, topic = orchestrator_under_test(sent, FakeClock(2000.0))
    _, raw = trigger_bytes()

    async def scenario() -> None:
        async with app.agents["orchestrator"].test_context() as tested:
            await deliver(tested, topic, message(F03.source_topic, raw, headers=TRACE, offset=1))
            await until(lambda: len(sent) == 4, "the requests and the record")
            (police,) = [s for s in requests_in(sent) if s.headers[h.STEP] == "police"]
            forged = dict(
                outcome_for(F03, F03.step("police"), police.value, random.Random(1)).value
            )
            forged["agency"] = "bank"
            on_bank = message(
                F03.outcome_topic("bank"), CODEC.encode(F03.outcome_topic("bank"), forged), offset=2
            )
            await deliver(tested, topic, on_bank)
            await until(lambda: len(sent) == 6, "the dead letter and the record")

    asyncio.run(scenario())
    letter, record = sent[4], sent[5]
    assert letter.topic == CATALOG.dead_letter_topic
    assert letter.headers[h.DLQ_REASON] == "not-the-step-owner"
    assert letter.headers[h.DLQ_TOPIC] == F03.outcome_topic("bank")
    assert record.topic == F03.progress_topic
    assert (record.value["event"], record.value["step"], record.value["answerer"]) == (
        "REFUSED",
        "police",
        "bank",
    )
    assert record.value["reason"] == "not-the-step-owner"
    stored = deps.table_codec.load(deps.cases[CASE])
    assert "police" not in stored["done"], "the police's step still waits for the police"


def due_requests() -> list[Any]:
    trigger, _ = trigger_bytes()
    return Orchestrator(F03).open(None, trigger, 0.0, 0.0).emits


# -- an agency endpoint -----------------------------------------------------------------------

SPEEDUP = 2000.0
T0 = 1_000_000.0
"""Wall time at business second 0: Tuesday 1 June 2021, 09:00, a working day."""
SERVICE = 600.0
"""Ten business minutes of work."""
EXCHANGE = 2.0
"""The exchange's delay each way, in business seconds."""


def police_under_test(
    sent: list[Sent], clock: FakeClock, clerks: int = 1
) -> tuple[faust.App, EndpointDeps, faust.TopicT]:
    scenario = f03_scenario(
        "agencies.police.service_time={dist: constant, value: 10min}",
        "agencies.police.reject_probability=0",
        f"transport.latency={{dist: constant, value: {EXCHANGE}s}}",
    )
    pool = agency_pools(scenario, scenario_calendar(scenario))["police"]
    app = new_app()
    deps = EndpointDeps(
        pool,
        served_by(pool, {"F03": F03}),
        recording_outbox(sent),
        CODEC,
        speedup=scenario.kafka.speedup,
        exchange=Exchange(scenario),
        clerks=Clerks(clerks),
        clock=clock.clock(),
    )
    requests = app.topic(*deps.serves, schema=ArrivalStampedSchema())
    app.agent(requests, name="police-endpoint")(endpoint(deps))
    return app, deps, requests


def police_request(case: str = CASE) -> tuple[dict[str, Any], bytes]:
    (emit,) = [emit for emit in due_requests() if emit.step == "police"]
    value = {**emit.value, "case_id": case, "request_id": f"{case}/police"}
    return value, CODEC.encode(emit.topic, value)


def case_trace(business: float, speedup: float = SPEEDUP) -> dict[str, str]:
    """The trace of a case whose trigger was meant for business second `business`."""
    return {
        **TRACE,
        h.T0: str(T0),
        h.SPEEDUP: str(speedup),
        h.INTENDED: str(T0 + business / speedup),
        h.EXCHANGE: "0",
        h.ORCH_OUT: "999",
    }


POLICE_TOPIC = "police.seal-cancellation-request.v1"


def serve(
    arrivals: list[tuple[float, float, str]], clerks: int = 1, speedup: float = SPEEDUP
) -> tuple[list[Sent], FakeClock]:
    """Police requests, each (wall time it reaches the worker, the business second its case's
    trigger was meant for, its case), answered by `clerks` clerks at `speedup`; the answers in
    the order they went out."""
    sent: list[Sent] = []
    clock = FakeClock(arrivals[0][0])
    app, _deps, requests = police_under_test(sent, clock, clerks)

    async def scenario() -> None:
        clock.gate = asyncio.Event()  # nothing moves until every request has been received
        async with app.agents["police-endpoint"].test_context() as tested:
            for offset, (wall, business, case) in enumerate(arrivals):
                clock.now_ = wall
                _, raw = police_request(case)
                trace = case_trace(business, speedup)
                record = message(POLICE_TOPIC, raw, key=case, headers=trace, offset=offset)
                await deliver(tested, requests, record)
                for _ in range(20):  # the agent takes it and starts its answer
                    await asyncio.sleep(0)
            clock.gate.set()
            await until(lambda: len(sent) == len(arrivals), "the answers")

    # The worker stamps a request's arrival on its wall clock: here, the fake one.
    with mock.patch("govstream.engines.kafka.arrival.time.time", clock.now):
        asyncio.run(scenario())
    return sent, clock


def business(answer: Sent, key: str) -> float:
    return float(answer.headers[key])


def test_the_endpoint_places_the_work_on_the_business_clock() -> None:
    """At 10:00 on a working day the request arrives (after the exchange's 2 s), a clerk takes
    it up at once, works ten minutes and the answer goes out when the run's clock says so."""
    at = 3600.0
    (answer,), _ = serve([(T0 + at / SPEEDUP, at, CASE)])
    assert answer.topic == F03.outcome_topic("police")
    assert answer.key == CASE.encode()
    assert answer.value["request_id"] == f"{CASE}/police"
    arrived = at + EXCHANGE
    assert business(answer, h.B_DELIVERED) == pytest.approx(arrived)
    assert business(answer, h.B_TAKEN) == business(answer, h.B_STARTED) == pytest.approx(arrived)
    assert business(answer, h.B_DONE) == pytest.approx(arrived + SERVICE)
    marks = answer.headers
    assert float(marks[h.WORK]) == SERVICE and float(marks[h.UNCERTAIN]) == 0.0
    # The case's clock goes on: this stay stood for its business time; both crossings drawn.
    assert float(marks[h.AGENCY_BUSINESS]) == pytest.approx(SERVICE)
    assert float(marks[h.EXCHANGE]) == pytest.approx(2 * EXCHANGE)
    assert float(marks[h.ACTED]) == pytest.approx(T0 + (arrived + SERVICE) / SPEEDUP)
    assert float(marks[h.AGENCY_WALL]) == pytest.approx(float(marks[h.ACTED]) - T0 - at / SPEEDUP)
    assert (marks[h.STEP], marks[h.POOL], marks[h.RUN]) == ("police", "police", "r1")
    assert marks[h.ORCH_OUT] == "999"


def test_an_answer_recorded_twice_counts_its_work_at_the_pool_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker that reads an answer again before it committed it records the answer again;
    the collector counts the request's moments at its pool the first time only, as the sim
    engine, which never reads anything twice, does."""
    at = 3600.0
    (answer,), _ = serve([(T0 + at / SPEEDUP, at, CASE)])
    scenario = f03_scenario()
    calendar = scenario_calendar(scenario)
    ledger = Ledger(scenario, calendar, agency_pools(scenario, calendar))
    monkeypatch.setattr(
        TopicTail, "__init__", lambda self, *args, **kwargs: setattr(self, "_lock", Lock())
    )
    collector = Collector(
        bootstrap="",
        run_id="r1",
        flows=["F03"],
        codec=CODEC,
        dead_letter_topic=CATALOG.dead_letter_topic,
        t0=T0,
        speedup=SPEEDUP,
        ledger=ledger,
    )
    collector.expect(CASE, "F03", T0 + at / SPEEDUP, None)
    answered = Transition(
        CASE, "F03", ANSWERED, step="police", answerer="police", status=COMPLETED
    ).to_record()
    headers = h.encode(h.progress(answer.headers, float(answer.headers[h.ACTED]) + 0.01))
    record = SimpleNamespace(
        topic=F03.progress_topic,
        value=CODEC.encode(F03.progress_topic, answered),
        headers=headers,
    )
    for seen in (1.0, 2.0):
        collector.take(record, float(answer.headers[h.ACTED]) + seen)
    assert ledger.agency_loads({})["police"].requests == {"F03": 1}
    assert ledger.counts("F03").outcomes_recorded == 1


def test_the_endpoint_waits_for_opening_hours() -> None:
    """At 18:00 the office is closed: the clerk takes it up, and starts at 09:00 next day."""
    at = 9 * 3600.0
    (answer,), _ = serve([(T0 + at / SPEEDUP, at, CASE)])
    assert business(answer, h.B_TAKEN) == pytest.approx(at + EXCHANGE)
    assert business(answer, h.B_STARTED) == pytest.approx(24 * 3600.0)
    assert business(answer, h.B_DONE) == pytest.approx(24 * 3600.0 + SERVICE)


def test_a_clerks_wait_is_business_time_whatever_the_speedup() -> None:
    """Two requests a business minute apart for one clerk, each reaching the worker 10 ms of
    real platform time after its trigger: the second waits for the first's ten minutes on the
    business clock, at 2,000x as at 20,000x, where a wall-clock queue would have scaled the
    agent's own milliseconds into clerk time."""
    first, second = "F03-r1-0000003", "F03-r1-0000004"
    marks = []
    for speedup in (2000.0, 20000.0):
        walls = [T0 + 3600 / speedup + 0.01, T0 + 3660 / speedup + 0.01]
        answers, _ = serve([(walls[0], 3600.0, first), (walls[1], 3660.0, second)], speedup=speedup)
        by_case = {a.key.decode(): a for a in answers}
        marks.append([business(by_case[c], k) for c in (first, second) for k in BUSINESS_MARKS])
        assert business(by_case[second], h.B_DELIVERED) == pytest.approx(3660.01 + EXCHANGE)
        assert business(by_case[second], h.B_TAKEN) == pytest.approx(3600.01 + EXCHANGE + SERVICE)
        assert float(by_case[second].headers[h.UNCERTAIN]) == 0.0
    assert marks[0] == pytest.approx(marks[1])


def test_a_request_reaching_a_busy_pool_out_of_business_order_says_how_far_off_it_may_be() -> None:
    """The later case reaches the worker first (10 ms after its trigger) and takes the only
    clerk; the earlier one comes 50 ms after its own and waits behind it, which in business
    order it would not have: its wait may be off by the 59.96 s it came out of order."""
    first, second = "F03-r1-0000003", "F03-r1-0000004"
    walls = (T0 + 3660 / SPEEDUP + 0.01, T0 + 3600 / SPEEDUP + 0.05)
    answers, _ = serve([(walls[0], 3660.0, second), (walls[1], 3600.0, first)])
    by_case = {a.key.decode(): a for a in answers}
    assert business(by_case[first], h.B_TAKEN) == pytest.approx(3660.01 + EXCHANGE + SERVICE)
    assert float(by_case[first].headers[h.UNCERTAIN]) == pytest.approx(59.96)
    assert float(by_case[second].headers[h.UNCERTAIN]) == 0.0


def test_a_request_the_agency_cannot_act_on_is_dead_lettered_without_its_personal_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[Sent] = []
    app, deps, requests = police_under_test(sent, FakeClock(T0 + 3600.0 / SPEEDUP))
    value, raw = police_request()
    name = value["legal_representative_name"]

    def refuse(*args: Any) -> None:
        raise ValueError(f"no seal on file for {name}")

    monkeypatch.setattr(deps.pool, "act", refuse)
    monkeypatch.setattr("govstream.engines.kafka.arrival.time.time", lambda: T0 + 1.8)
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with app.agents["police-endpoint"].test_context() as tested:
            record = message(POLICE_TOPIC, raw, headers=case_trace(3600.0), offset=9)
            event = await deliver(tested, requests, record)
            await until(lambda: len(sent) == 1, "the dead letter")
            await until(lambda: event.message.acked, "the acknowledgement")
            seen["acked"] = event.message.acked

    asyncio.run(scenario())
    (letter,) = sent
    assert letter.topic == CATALOG.dead_letter_topic
    assert letter.value == raw
    assert letter.headers[h.DLQ_REASON] == PROCESSING_FAILED
    assert letter.headers[h.DLQ_ERROR] == "no seal on file for ***"
    assert letter.headers[h.DLQ_OFFSET] == "9"
    assert seen["acked"]


# -- the wait timer ---------------------------------------------------------------------------


def delivery_request() -> bytes:
    """A delivery wait's request as the orchestrator emits it, each step before it answered."""
    orchestrator = Orchestrator(F17)
    progress = orchestrator.open(None, award(), 0.0, 0.0)
    pending = list(progress.emits)
    while pending:
        emit = pending.pop(0)
        if emit.step == "delivery":
            return CODEC.encode(emit.topic, emit.value)
        step = F17.step(str(emit.step))
        outcome = outcome_for(F17, step, emit.value, random.Random(1)).value
        progress = orchestrator.record(progress.state, outcome, 1.0, 1.0)
        pending += progress.emits
    raise AssertionError("no delivery wait in the flow")


def wait_timer_under_test(
    sent: list[Sent], clock: FakeClock
) -> tuple[faust.App, WaitTimerDeps, faust.TopicT]:
    """F17's wait timer, its delivery a day long, sending into `sent` on `clock`."""
    scenario = load_scenario(
        ROOT / "scenarios" / "procurement-lifecycle.yaml",
        ["steps.delivery.duration={dist: constant, value: 1d}"],
    )
    app = new_app()
    deps = WaitTimerDeps(
        Waits(scenario),
        {F17.wait_topic: F17},
        recording_outbox(sent),
        CODEC,
        speedup=scenario.kafka.speedup,
        clock=clock.clock(),
    )
    waits = app.topic(F17.wait_topic, value_serializer="raw")
    app.agent(waits, name="wait-timer")(wait_timer(deps))
    return app, deps, waits


def test_the_wait_timer_answers_after_the_wait_and_acknowledges_only_then() -> None:
    sent: list[Sent] = []
    clock = FakeClock(5000.0)
    app, _, waits = wait_timer_under_test(sent, clock)
    # A case whose business clock reads 400,000 s (wall 5000 at a speedup of 80) on arrival.
    trace = {h.RUN: "r1", h.SPEEDUP: "80", h.T0: "0", h.INTENDED: "5000", h.FLOW: "F17"}
    seen: dict[str, Any] = {}

    async def scenario_run() -> None:
        clock.gate = asyncio.Event()
        async with app.agents["wait-timer"].test_context() as tested:
            record = message(F17.wait_topic, delivery_request(), key="F17-0000001", headers=trace)
            event = await deliver(tested, waits, record)
            await until(lambda: clock.slept == [86_400 / 80], "the wait begun")
            seen["during"] = (event.message.acked, list(sent))
            clock.gate.set()
            await until(lambda: event.message.acked, "the acknowledgement")
            seen["after"] = list(sent)

    asyncio.run(scenario_run())
    assert seen["during"] == (False, []), "answered or acknowledged while the wait still ran"
    (answer,) = seen["after"]
    assert answer.topic == F17.outcome_topic(TIMER)
    assert answer.value["request_id"].endswith("/delivery")
    marks = answer.headers
    assert (marks[h.STEP], marks[h.RUN]) == ("delivery", "r1")
    assert float(marks[h.B_DELIVERED]) == 400_000.0
    assert float(marks[h.B_DONE]) == 400_000.0 + 86_400
    assert float(marks[h.AGENCY_BUSINESS]) == 86_400
    assert float(marks[h.DELIVERED]) == 5000.0
    assert float(marks[h.ACTED]) == 5000.0 + 86_400 / 80


def test_a_withdrawn_wait_is_answered_at_once_and_both_messages_acknowledged() -> None:
    """A deadline no longer needed: the withdrawal, after the wait on its partition, ends the
    wait where it stands; the answer says it lasted until then."""
    sent: list[Sent] = []
    clock = FakeClock(5000.0)
    app, deps, waits = wait_timer_under_test(sent, clock)
    trace = {h.RUN: "r1", h.SPEEDUP: "80", h.T0: "0", h.INTENDED: "5000", h.FLOW: "F17"}
    request = CODEC.decode(delivery_request(), expected_topic=F17.wait_topic).value
    withdrawal = CODEC.encode(F17.wait_topic, {**request, "withdrawn": True})
    seen: dict[str, Any] = {}

    async def scenario_run() -> None:
        clock.gate = asyncio.Event()  # never opened: only the withdrawal can end the wait
        async with app.agents["wait-timer"].test_context() as tested:
            first = message(F17.wait_topic, delivery_request(), key="F17-0000001", headers=trace)
            wait = await deliver(tested, waits, first)
            await until(lambda: clock.slept == [86_400 / 80], "the wait begun")
            clock.now_ += 3600 / 80  # an hour of business time later
            second = message(F17.wait_topic, withdrawal, key="F17-0000001", headers=trace, offset=1)
            withdrawn = await deliver(tested, waits, second)
            await until(lambda: wait.message.acked and withdrawn.message.acked, "both acked")
            seen["sent"] = list(sent)
            seen["left"] = dict(deps.withdrawals)

    asyncio.run(scenario_run())
    (answer,) = seen["sent"]
    assert answer.value["request_id"].endswith("/delivery")
    assert float(answer.headers[h.B_DONE]) == pytest.approx(400_000.0 + 3600)
    assert seen["left"] == {}, "nothing is kept of a wait once answered"


def test_a_signal_read_again_neither_counts_twice_nor_crosses_again() -> None:
    """At-least-once: a signal the scorer reads again (a rebalance, a stalled partition read
    from its committed offset) finds itself in its window's row, which it leaves as it is:
    the window's score is the one the sim engine counts, and the crossing it made stays the
    one crossing, at the signal that made it."""
    from govstream.engines.kafka.agents.scorer import SCORE, SIGNALS, with_signal
    from govstream.pipeline.windows import crosses

    first = {"weight": 3.0, "kind": "judgment", "event_id": "e-1"}
    second = {"weight": 2.0, "kind": "complaint", "event_id": "e-2"}
    row = with_signal(with_signal(None, first), second)
    assert (row[SCORE], row[SIGNALS]) == (5.0, [["judgment", "e-1"], ["complaint", "e-2"]])
    for again in (first, second):
        assert with_signal(row, again) == row
        assert not crosses(row[SCORE], with_signal(row, again)[SCORE], 5.0)
    # The same event id of another kind is another signal.
    other = {**first, "kind": "complaint"}
    assert with_signal(row, other)[SCORE] == 8.0


def test_an_external_agency_s_answer_without_its_request_s_trace_is_dead_lettered() -> None:
    """The bank is external: its answer that drops the request's `gs_` headers cannot be told
    to a run or placed on its case's clock, and is dead-lettered (`missing-trace-headers`);
    the same answer carrying them back is recorded, and no request goes to the bank again."""
    sent: list[Sent] = []
    app, deps, topic = orchestrator_under_test(sent, FakeClock(2000.0))
    deps.external = frozenset({"bank"})
    _, raw = trigger_bytes()

    async def scenario() -> None:
        async with app.agents["orchestrator"].test_context() as tested:
            await deliver(tested, topic, message(F03.source_topic, raw, headers=TRACE, offset=1))
            await until(lambda: len(sent) == 4, "the requests and the record")
            (bank,) = [s for s in requests_in(sent) if s.headers[h.STEP] == "bank"]
            ((outcome_topic, answer),) = outcomes_for([bank])
            await deliver(tested, topic, message(outcome_topic, answer, offset=2))
            await until(lambda: len(sent) == 5, "the dead letter")
            echoed = {k: v for k, v in bank.headers.items() if k.startswith(h.PREFIX)}
            await deliver(tested, topic, message(outcome_topic, answer, headers=echoed, offset=3))
            await until(lambda: len(sent) == 6, "the record of the answer")

    asyncio.run(scenario())
    letter, record = sent[4], sent[5]
    assert letter.topic == CATALOG.dead_letter_topic
    assert letter.headers[h.DLQ_REASON] == h.MISSING_TRACE
    assert "gs_run" in letter.headers[h.DLQ_ERROR]
    assert (record.value["event"], record.value["step"]) == ("ANSWERED", "bank")
    assert deps.external == frozenset({"bank"})
