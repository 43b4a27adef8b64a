"""The agents of a publication alone, on faust's test context, without a broker: a subscriber
keeping its table of F12's records and checking entities against it, and the platform passing
on what checks found and counting adopters once (see `test_kafka_agents.py` for the harness).
"""

from __future__ import annotations

import asyncio
from typing import Any

from test_kafka_agents import (
    CODEC,
    FakeClock,
    Sent,
    deliver,
    message,
    new_app,
    recording_outbox,
    until,
)
from test_publication import scenario_of

from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.beside import NOT_ITS_OWN, BesideDeps, beside
from govstream.engines.kafka.agents.endpoint import EndpointDeps, served_by
from govstream.engines.kafka.agents.subscriber import SubscriberDeps, subscriber
from govstream.engines.kafka.business_clock import Clerks
from govstream.pipeline.agencies import agency_pools
from govstream.pipeline.exchange import Exchange
from govstream.scenario.calendar import scenario_calendar
from processors import FLOWS

F12 = FLOWS["F12"]
RECORDS = "f12.dishonesty-records.v1"
BANK = next(s for s in F12.publication.subscribers if s.agency == "bank")  # type: ignore[union-attr]
CASE = "F12-r1-0000001"
ENTITY = "91500103MA5U0AAA0X"
KEY = f"{ENTITY}/SX-500103-2021-000001"
TRACE = {h.RUN: "r1", h.T0: "0", h.SPEEDUP: "3600", h.INTENDED: "10", h.FLOW: "F12"}


def record() -> bytes:
    value = {
        "case_id": CASE,
        "record_id": "SX-500103-2021-000001",
        "uscc": ENTITY,
        "company_name": "重庆某某商贸有限公司",
        "listed_on": scenario_of().start.date(),
        "reason": "TAX_ARREARS",
        "severity": "GENERAL",
    }
    return CODEC.encode(RECORDS, value)


def check(check_id: str) -> bytes:
    value = {
        "event_id": f"e-{check_id}",
        "check_id": check_id,
        "subscriber": "bank",
        "uscc": ENTITY,
        "purpose": "LOAN_APPLICATION",
        "checked_at": scenario_of().start,
    }
    return CODEC.encode(BANK.checks, value)


def checked(check_id: str) -> Any:
    return message(BANK.checks, check(check_id), key=ENTITY, headers=TRACE)


def test_a_subscriber_holds_a_record_from_its_clerks_answer_until_its_tombstone() -> None:
    """The record is in the bank's table once its clerk has acted (half an hour of work, which
    the fake clock holds until the test lets it go), not before; a check then finds it, and
    after the tombstone's answer finds nothing. Each answer is the bank's own step."""
    scenario = scenario_of()
    pool = agency_pools(scenario, scenario_calendar(scenario))["bank"]
    sent: list[Sent] = []
    clock = FakeClock(10.0)
    app = new_app()
    desk = EndpointDeps(
        pool,
        served_by(pool, {"F12": F12}),
        recording_outbox(sent),
        CODEC,
        speedup=3600.0,
        exchange=Exchange(scenario),
        clerks=Clerks(1),
        clock=clock.clock(),
    )
    table: dict[str, Any] = {}
    deps = SubscriberDeps(desk, F12, BANK, table)
    topic = app.topic(*deps.topics, value_serializer="raw")
    app.agent(topic, name="f12-bank-subscriber")(subscriber(deps))
    assert served_by(pool, {"F12": F12}) == {}, "the records are the subscriber's to read"
    published = {**TRACE, h.CASE: CASE, h.ENTITY: ENTITY}
    seen: dict[str, Any] = {}

    async def run() -> None:
        clock.gate = asyncio.Event()
        async with app.agents["f12-bank-subscriber"].test_context() as tested:
            await deliver(tested, topic, message(RECORDS, record(), key=KEY, headers=published))
            await deliver(
                tested, topic, message(BANK.checks, check("c1"), key=ENTITY, headers=TRACE)
            )
            await until(lambda: len(sent) == 1, "the check told while the clerk works")
            seen["before"] = dict(table)
            clock.gate.set()
            await until(lambda: len(sent) == 2, "the bank's answer")
            await deliver(
                tested, topic, message(BANK.checks, check("c2"), key=ENTITY, headers=TRACE)
            )
            await until(lambda: len(sent) == 3, "the second check")
            tombstone = message(RECORDS, None, key=KEY, headers=published, offset=1)  # type: ignore[arg-type]
            await deliver(tested, topic, tombstone)
            await until(lambda: len(sent) == 4, "the drop's answer")
            await deliver(
                tested, topic, message(BANK.checks, check("c3"), key=ENTITY, headers=TRACE)
            )
            await until(lambda: len(sent) == 5, "the third check")

    asyncio.run(run())
    first, holds, second, drops, third = sent
    assert seen["before"] == {}
    assert (first.topic, first.value["found"]) == (BANK.uses, [])
    assert holds.topic == F12.outcome_topic("bank")
    assert holds.value["request_id"] == f"{CASE}/bank-holds"
    assert second.value["found"] == [CASE]
    assert drops.value["request_id"] == f"{CASE}/bank-drops"
    assert third.value["found"] == [] and table == {}
    assert [s.value["check_id"] for s in (first, second, third)] == ["c1", "c2", "c3"]


def test_the_platform_passes_on_a_subscribers_own_checks_and_counts_each_adopter_once() -> None:
    sent: list[Sent] = []
    app = new_app()
    deps = BesideDeps({"F12": F12}, {}, recording_outbox(sent), CODEC)
    topic = app.topic(*deps.topics, value_serializer="raw")
    app.agent(topic, name="beside")(beside(deps))
    tally = F12.tallies[0]
    use = {"check_id": "c1", "subscriber": "bank", "uscc": ENTITY, "found": [CASE]}
    use["checked_at"] = scenario_of().start
    foreign = {**use, "subscriber": "finance-bureau"}
    adopted = {
        "event_id": "e1",
        "case_id": "x",
        "uscc": ENTITY,
        "company_name": "重庆某某商贸有限公司",
        "adopted_on": scenario_of().start.date(),
        "channel": "GOV_SERVICES_APP",
    }

    async def run() -> None:
        async with app.agents["beside"].test_context() as tested:
            for offset, (name, value) in enumerate(
                [
                    (BANK.uses, CODEC.encode(BANK.uses, use)),
                    (BANK.uses, CODEC.encode(BANK.uses, foreign)),
                    (tally.topic, CODEC.encode(tally.topic, adopted)),
                    (tally.topic, CODEC.encode(tally.topic, {**adopted, "event_id": "e2"})),
                ]
            ):
                record = message(name, value, key=ENTITY, headers=TRACE, offset=offset)
                await deliver(tested, topic, record)
            await until(lambda: len(sent) == 3, "what the platform sends")

    asyncio.run(run())
    told, refused, counted = sent
    assert (told.topic, told.value["found"]) == (F12.publication.uses_told, [CASE])  # type: ignore[union-attr]
    assert refused.topic == CODEC.catalog.dead_letter_topic
    assert refused.headers[h.DLQ_REASON] == NOT_ITS_OWN
    assert (counted.topic, counted.value) == (tally.counted, {"count": tally.id, "value": ENTITY})
    assert counted.headers[h.RUN] == "r1"
