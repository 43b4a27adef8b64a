"""F12 — plan measure 32: dishonesty records shared with the agencies that subscribe, and their
sharing stopped at once when the entity repairs its credit.

Plan text (渝中府办〔2021〕16号, measure 32): "开展信用修复，对符合修复条件的，及时终止相关失信
信息共享公开" and "力争年底前全区推广使用企业信用码的市场主体不低于2000户".

The public credit database (drc) lists an entity as dishonest; the platform publishes the record
to its subscribers, each of which keeps its own table of the records it holds and checks
entities against it in its own work: a bank weighing a loan applicant, the finance bureau a
bidder (`Publication`). An entity whose record meets the repair conditions applies for repair
after some time; the database then stops sharing the record, and the platform retracts it from
every subscriber.

- `bank-holds`, `finance-bureau-holds`: each subscriber takes the published record into its
  table. On Kafka the platform writes the record once, on a compacted topic keyed by entity
  and record; each subscriber reads the topic into a table of its own.
- `repair` (a wait on the entity): the entity applies for credit repair, as many days after
  the listing as its record says; only a record that meets the repair conditions is repaired.
- `retraction` (drc): the database grants the repair and stops sharing the record
  (及时终止相关失信信息共享公开). Its answer is the retraction: from then on a subscriber's
  use of the record is an **exposure**.
- `bank-drops`, `finance-bureau-drops`: each subscriber takes the record out of its table. On
  Kafka the platform writes a tombstone for the record's key.

The spans `retraction-gone-at-<subscriber>` time each subscriber from the retraction to the
record gone from its table; the books count, per subscriber, the checks that found a record
after its retraction. The plan's second number, 2000 entities using the credit code by the
year's end, is a count the platform keeps (`Tally`), not a time.
"""

from __future__ import annotations

from processors.events import Record
from processors.flow import (
    CaseView,
    FlowSpec,
    PlanTarget,
    Publication,
    Published,
    Source,
    Span,
    Step,
    Subscriber,
    Tally,
)
from producers.drc import (
    CreditCodeAdoptionGenerator,
    DishonestyMix,
    DishonestyPublishedGenerator,
    SubscriberCheckGenerator,
)

DAY = 86400.0
RECORDS = "f12.dishonesty-records.v1"
"""The platform's compacted topic of the records currently shared."""
SUBSCRIBERS = ("bank", "finance-bureau")
RETRACTION = "retraction"
REPAIR = "repair"
CHECKED_AFTER_REPAIR_DAYS = 60.0
"""For how long after its repair an entity is still among those a subscriber checks often: a
repaired entity applies for the loan or the bid its listing barred (the scenario author's
reading; the plan sets none)."""


def record_key(trigger: Record) -> str:
    """One key per record: an entity listed twice has two records, and repairing one must not
    retract the other."""
    return f"{trigger['uscc']}/{trigger['record_id']}"


def entity(trigger: Record) -> str:
    return str(trigger["uscc"])


def published(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "record_id": trigger["record_id"],
        "uscc": trigger["uscc"],
        "company_name": trigger["company_name"],
        "listed_on": trigger["listed_on"],
        "reason": trigger["reason"],
        "severity": trigger["severity"],
    }


def to_drc(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "record_id": trigger["record_id"],
        "uscc": trigger["uscc"],
        "listed_on": trigger["listed_on"],
    }


def repairable(trigger: Record) -> bool:
    return bool(trigger["repairable"])


def repair_after(trigger: Record) -> float:
    return float(trigger["repair_after_days"]) * DAY


def checked_until(trigger: Record) -> float:
    """Seconds after its listing that the entity is still checked often: for good, unless its
    record is repaired."""
    if not repairable(trigger):
        return float("inf")
    return repair_after(trigger) + CHECKED_AFTER_REPAIR_DAYS * DAY


def subscriber_steps(agency: str) -> tuple[Step, Step]:
    """A subscriber's two steps: taking the record in, and dropping it once retracted."""
    holds = Step(
        f"{agency}-holds",
        f"the {agency}'s table takes the published record in",
        agency=agency,
        topic=RECORDS,
        schema="f12/PublishedRecord.avsc",
        request=published,
        published=Published(record_key, entity),
    )
    drops = Step(
        f"{agency}-drops",
        f"the {agency}'s table drops the retracted record",
        agency=agency,
        topic=RECORDS,
        schema="f12/PublishedRecord.avsc",
        request=published,
        after=(RETRACTION,),
        applies=repairable,
        published=Published(record_key, entity, tombstone=True),
    )
    return holds, drops


HOLDS = {agency: subscriber_steps(agency)[0] for agency in SUBSCRIBERS}
DROPS = {agency: subscriber_steps(agency)[1] for agency in SUBSCRIBERS}

FLOW = FlowSpec(
    id="F12",
    title="Dishonesty records shared with subscribers, and retracted at once after credit repair",
    measures=("M32",),
    source=Source(
        agency="drc",
        topic="drc.dishonesty-record.v1",
        schema="f12/DishonestyRecord.avsc",
        mix_type=DishonestyMix,
        build=DishonestyPublishedGenerator,
    ),
    steps=(
        *HOLDS.values(),
        Step(
            REPAIR,
            "the entity applies for credit repair",
            agency=None,
            party="the listed entity",
            applies=repairable,
            lasts=repair_after,
        ),
        Step(
            RETRACTION,
            "grant the repair and stop sharing the record",
            agency="drc",
            topic="drc.record-retraction-request.v1",
            schema="f12/RetractionRequest.avsc",
            request=to_drc,
            after=(REPAIR,),
            applies=repairable,
        ),
        *DROPS.values(),
    ),
    publication=Publication(
        subscribers=tuple(
            Subscriber(
                agency,
                HOLDS[agency].id,
                DROPS[agency].id,
                checks=f"f12.{agency}.record-check.v1",
                uses=f"f12.{agency}.record-use.v1",
            )
            for agency in SUBSCRIBERS
        ),
        retracted=f"{RETRACTION}.acted",
        check_schema="f12/SubscriberCheck.avsc",
        use_schema="f12/RecordUse.avsc",
        uses_told="f12.record-uses.v1",
        check=lambda rng, records, agency: SubscriberCheckGenerator(
            rng, None, records.population, agency
        ),
        checked_until=checked_until,
    ),
    tallies=(
        Tally(
            "credit-code-adopters",
            "market entities using the enterprise credit code",
            agency="amr",
            topic="amr.credit-code-adopted.v1",
            schema="f12/CreditCodeAdopted.avsc",
            build=lambda rng, records: CreditCodeAdoptionGenerator(rng, None, records.population),
            distinct=lambda event: str(event["uscc"]),
            counted="f12.credit-code-adopters-counted.v1",
            counted_schema="f12/ValueCounted.avsc",
        ),
    ),
    spans=(
        *(
            Span(
                f"published-to-{agency}",
                "trigger",
                f"{HOLDS[agency].id}.acted",
                f"from the listing to the record in the {agency}'s table",
            )
            for agency in SUBSCRIBERS
        ),
        *(
            Span(
                f"retraction-gone-at-{agency}",
                f"{RETRACTION}.acted",
                f"{DROPS[agency].id}.acted",
                f"from the retraction to the record gone from the {agency}'s table",
            )
            for agency in SUBSCRIBERS
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M32",
            quote_zh="对符合修复条件的，及时终止相关失信信息共享公开",
            meaning="once a record meets the repair conditions, its sharing stops at once: "
            "no subscriber uses it after the retraction",
        ),
        PlanTarget(
            measure="M32",
            quote_zh="力争年底前全区推广使用企业信用码的市场主体不低于2000户",
            meaning="at least 2000 market entities use the enterprise credit code by the "
            "year's end (a count, not a time)",
        ),
    ),
)
