"""The public credit database (drc): dishonesty records, their retraction, and who checks them
(flow F12, measure 32).

The plan: "开展信用修复，对符合修复条件的，及时终止相关失信信息共享公开" and "力争年底前全区推广
使用企业信用码的市场主体不低于2000户". The database publishes a dishonesty record (失信信息) about
an entity to the agencies that subscribe (a bank weighing a loan, the finance bureau a bidder);
once the entity repairs its credit, sharing must stop at once, so a subscriber that checks the
entity afterwards must no longer find the record. What the flow measures is how long a repaired
record stays visible, and how many checks find a record that should be gone.

Four sources feed it: the records published, the checks subscribers make in their own work at
any time, the retraction built from a record once it is repaired, and entities adopting the
enterprise credit code (企业信用码), which the plan counts. Whether a record meets the repair
conditions, and when the entity applies, is drawn with the record, so the engine need only
play the record's life out.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from producers import identifiers
from producers.draw import Weighted
from producers.ids import event_id
from producers.market_entities import (
    EntityPopulation,
    check_population_size,
    check_probability,
    check_risk_skew,
    check_weights,
    population_for,
)

TOPIC = "drc.dishonesty-record.v1"
CHECK_TOPIC = "f12.subscriber-check.v1"
ADOPTION_TOPIC = "amr.credit-code-adopted.v1"

CREDIT_CODE_TARGET = 2000
"""Measure 32: "力争年底前全区推广使用企业信用码的市场主体不低于2000户", distinct entities."""

REASONS = (
    "TAX_ARREARS",
    "COURT_ENFORCEMENT",
    "CONTRACT_DEFAULT",
    "PRODUCT_QUALITY",
    "ADMINISTRATIVE_PENALTY",
)
"""Why an entity is listed: unpaid tax (欠税), a judgment debtor in default (失信被执行人),
contract default, product quality, an administrative penalty (行政处罚)."""
REASON_WEIGHTS = (0.15, 0.3, 0.1, 0.1, 0.35)
"""Default relative weights of the `REASONS` (the scenario author's reading): defaulting
judgment debtors and administrative penalties make up most of what credit portals publish."""
SEVERITIES = ("GENERAL", "SERIOUS")

SUBSCRIBERS: Mapping[str, str] = MappingProxyType(
    {"bank": "LOAN_APPLICATION", "finance-bureau": "PROCUREMENT_BID"}
)
"""Who subscribes to the records, and the work in which each checks an entity."""

CHANNELS = ("BUSINESS_LICENCE_QR", "GOV_SERVICES_APP", "BANK_COUNTER")
"""Where an entity starts using its credit code: the QR code on its licence, the 渝快办 app,
a bank counter."""


@dataclass(frozen=True)
class DishonestyMix:
    """Who is listed, for what, and whether and when the record can be repaired.

    Every default here is the scenario author's reading; the plan sets none of these numbers.
    """

    population_size: int = 20_000
    """Entities of the district the records are drawn from (when no population is given)."""
    risk_skew: float = 1.2
    """Pareto tail index of the entities' risk; see `EntityPopulation`."""
    repairable_probability: float = 0.7
    """Share of records that meet the repair conditions (符合修复条件)."""
    serious_probability: float = 0.2
    """Share of records of serious dishonesty (严重失信); the rest are general."""
    reason_weights: tuple[float, ...] = REASON_WEIGHTS
    """Relative weights of the `REASONS`, in their order."""
    repair_after_days_median: float = 90.0
    """Median days from listing to the entity's repair application (a lognormal)."""
    repair_after_days_sigma: float = 0.7
    """Spread (σ of the log) of those days."""
    repair_after_days_bounds: tuple[int, int] = (30, 720)
    """Fewest and most days before an entity applies for repair."""

    def __post_init__(self) -> None:
        check_population_size("population_size", self.population_size)
        check_risk_skew("risk_skew", self.risk_skew)
        check_probability("repairable_probability", self.repairable_probability)
        check_probability("serious_probability", self.serious_probability)
        check_weights("reason_weights", self.reason_weights, REASONS)
        bounds = self.repair_after_days_bounds
        if (
            not isinstance(bounds, tuple)
            or len(bounds) != 2
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
            or not 0 <= bounds[0] <= bounds[1]
        ):
            raise ValueError(
                f"repair_after_days_bounds must be two whole numbers of days, "
                f"0 <= fewest <= most, got {bounds!r}"
            )
        median = self.repair_after_days_median
        in_bounds = isinstance(median, int | float) and bounds[0] <= median <= bounds[1]
        if not (in_bounds and median > 0):
            raise ValueError(
                f"repair_after_days_median must be above 0 and within repair_after_days_bounds "
                f"{bounds}, got {median!r}"
            )
        sigma = self.repair_after_days_sigma
        if not (isinstance(sigma, int | float) and math.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"repair_after_days_sigma must be a finite number >= 0, got {sigma!r}")


def record_id(year: int, serial: int, division: str = identifiers.YUZHONG_DIVISION) -> str:
    """A dishonesty record number as this simulator writes it: SX (失信), division, year,
    serial, e.g. SX-500103-2021-000123."""
    return f"SX-{division}-{year}-{serial:06d}"


class DishonestyPublishedGenerator:
    """Draws `DishonestyRecord` values about risky entities; all randomness comes from `rng`.

    Give every source of a run the same `population`; without one, the generator draws its own
    from the mix, and its records then concern entities no other source knows.
    """

    topic = TOPIC

    def __init__(
        self,
        rng: random.Random,
        mix: DishonestyMix | None = None,
        population: EntityPopulation | None = None,
    ) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else DishonestyMix()
        self.population = population_for(
            rng, population, self.mix.population_size, self.mix.risk_skew
        )
        self._reason = Weighted(REASONS, self.mix.reason_weights)
        self._serial = 0

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One record published on `on`, valid for f12/DishonestyRecord.avsc."""
        rng = self._rng
        mix = self.mix
        self._serial += 1
        entity = self.population.pick_risky(rng)
        return {
            "event_id": event_id(rng),
            "case_id": case_id,
            "record_id": record_id(on.year, self._serial),
            "uscc": entity.uscc,
            "company_name": entity.company_name,
            "listed_on": on,
            "reason": self._reason.pick(rng),
            "severity": "SERIOUS" if rng.random() < mix.serious_probability else "GENERAL",
            "repairable": rng.random() < mix.repairable_probability,
            "repair_after_days": self._repair_after_days(),
        }

    def _repair_after_days(self) -> int:
        """Drawn for every record, repairable or not, so that a record's other fields do not
        shift with the mix's repairable share."""
        mix = self.mix
        fewest, most = mix.repair_after_days_bounds
        days = self._rng.lognormvariate(
            math.log(mix.repair_after_days_median), mix.repair_after_days_sigma
        )
        return min(max(round(days), fewest), most)


def retraction_of(record: Mapping[str, Any], on: dt.date, event_id: str) -> dict[str, Any]:
    """What the platform records when a repaired record stops being shared, valid for
    f12/CreditRepaired.avsc. On Kafka the retraction itself is a tombstone for the record on
    the compacted topic; this value is the platform's account of it.

    Only a record that meets the repair conditions is retracted (对符合修复条件的), and not
    before it was listed.
    """
    if not record.get("repairable", False):
        raise ValueError(
            f"record {record.get('record_id')!r} does not meet the repair conditions "
            f"(repairable is false): it is not retracted"
        )
    listed_on = record.get("listed_on")
    if isinstance(listed_on, dt.date) and on < listed_on:
        raise ValueError(
            f"record {record.get('record_id')!r} was listed on {listed_on}: "
            f"it cannot be repaired on {on}"
        )
    return {
        "event_id": event_id,
        "case_id": record["case_id"],
        "record_id": record["record_id"],
        "uscc": record["uscc"],
        "repaired_on": on,
    }


@dataclass(frozen=True)
class CheckMix:
    """How often a subscriber's check concerns an entity currently listed.

    The default is the scenario author's reading: listed entities are few, but they are the
    ones a bank or the finance bureau looks at twice, and a check that never meets a listed
    entity could not show a retraction arriving late.
    """

    listed_share: float = 0.3
    """Share of checks about an entity drawn from the currently listed ones."""

    def __post_init__(self) -> None:
        check_probability("listed_share", self.listed_share)


class SubscriberCheckGenerator:
    """Draws `SubscriberCheck` values for one subscriber; all randomness comes from `rng`.

    Most checks concern any entity of the population (most entities are honest); a share
    concerns one of the entities the caller says are listed now, so that checks do meet
    records, and a record retracted late is seen.
    """

    topic = CHECK_TOPIC

    def __init__(
        self,
        rng: random.Random,
        mix: CheckMix | None,
        population: EntityPopulation,
        subscriber: str,
    ) -> None:
        if subscriber not in SUBSCRIBERS:
            raise ValueError(
                f"subscriber must be one of {', '.join(SUBSCRIBERS)}, got {subscriber!r}"
            )
        self._rng = rng
        self.mix = mix if mix is not None else CheckMix()
        self.population = population
        self.subscriber = subscriber
        self.purpose = SUBSCRIBERS[subscriber]

    def generate(
        self, check_id: str, at: dt.datetime, listed: Sequence[str] = ()
    ) -> dict[str, Any]:
        """One check made at `at`, valid for f12/SubscriberCheck.avsc.

        `listed` holds the codes of the entities listed now, in an order the caller keeps (a
        list, not a set: a set's order changes between processes, and the seed would no longer
        fix which entity is checked). With none listed, every check draws from the population.
        `at` must carry its time zone: a timestamp without one is read as UTC by Avro, eight
        hours off Beijing time.
        """
        _check_aware("at", at)
        rng = self._rng
        identifier = event_id(rng)
        if listed and rng.random() < self.mix.listed_share:
            uscc = listed[int(rng.random() * len(listed))]
        else:
            uscc = self.population.pick(rng).uscc
        return {
            "event_id": identifier,
            "check_id": check_id,
            "subscriber": self.subscriber,
            "uscc": uscc,
            "purpose": self.purpose,
            "checked_at": at,
        }


@dataclass(frozen=True)
class AdoptionMix:
    """Where entities start using the enterprise credit code (the scenario author's reading)."""

    channel_weights: tuple[float, ...] = (0.5, 0.35, 0.15)
    """Relative weights of the `CHANNELS`, in their order."""

    def __post_init__(self) -> None:
        check_weights("channel_weights", self.channel_weights, CHANNELS)


class CreditCodeAdoptionGenerator:
    """Draws `CreditCodeAdopted` values; all randomness comes from `rng`.

    Adopters are drawn uniformly, so an entity may be drawn again (it shows its code through a
    second channel); the plan counts entities, not adoptions: see `distinct_adopters`.
    """

    topic = ADOPTION_TOPIC

    def __init__(
        self, rng: random.Random, mix: AdoptionMix | None, population: EntityPopulation
    ) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else AdoptionMix()
        self.population = population
        self._channel = Weighted(CHANNELS, self.mix.channel_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One adoption recorded on `on`, valid for f12/CreditCodeAdopted.avsc."""
        rng = self._rng
        identifier = event_id(rng)
        entity = self.population.pick(rng)
        return {
            "event_id": identifier,
            "case_id": case_id,
            "uscc": entity.uscc,
            "company_name": entity.company_name,
            "adopted_on": on,
            "channel": self._channel.pick(rng),
        }


def distinct_adopters(values: Iterable[Mapping[str, Any]]) -> int:
    """How many entities adopted the credit code: what `CREDIT_CODE_TARGET` counts."""
    return len({value["uscc"] for value in values})


def _check_aware(name: str, at: dt.datetime) -> None:
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a datetime with its time zone, got {at!r}")
