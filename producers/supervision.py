"""What the "互联网+监管" platform gathers about market entities (flow F13, measure 33).

The plan: "实时汇聚司法判决、违法失信、抽查抽检等重点监管领域数据，同步接入社会咨询投诉……依托监管
平台实现风险预警、线索推送等功能……推动实现……投诉举报处理率、协同监管响应率100%". Four agencies
report about entities, each on its own topic: the court its effective judgments, the credit
database (drc) its dishonesty listings, the market regulator (amr) its inspection results, and
the 渝快办 platform (gov-services) the complaints it takes in. The platform keys them by entity,
adds each signal's weight to the entity's score over a window, and a score that reaches the
threshold raises a risk warning (`RiskWarning`) and pushes a lead to an enforcement agency
(`EnforcementLead`); those two are the platform's, not a source's, and are not drawn here.

Every source draws its entity in proportion to its risk (`EntityPopulation.pick_risky`), so
signals gather on the few risky entities as they do in practice, and scores can cross a
threshold at all. Inspections add a second dependence on risk: a risky entity is also more
likely to fail one.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from producers import identifiers, names
from producers.draw import Weighted
from producers.drc import REASON_WEIGHTS, REASONS, record_id
from producers.ids import event_id
from producers.market_entities import (
    EntityPopulation,
    MarketEntity,
    check_population_size,
    check_probability,
    check_risk_skew,
    check_weights,
    population_for,
)

JUDGMENT_TOPIC = "court.judgment-against-entity.v1"
DISHONESTY_TOPIC = "drc.dishonesty-listed.v1"
INSPECTION_TOPIC = "amr.inspection-result.v1"
COMPLAINT_TOPIC = "gov-services.complaint-lodged.v1"

SIGNAL_TOPICS: Mapping[str, str] = MappingProxyType(
    {
        "judgment": JUDGMENT_TOPIC,
        "dishonesty": DISHONESTY_TOPIC,
        "inspection": INSPECTION_TOPIC,
        "complaint": COMPLAINT_TOPIC,
    }
)
"""Each source's signal kind and the topic it reports on."""

SIGNAL_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"judgment": 3.0, "dishonesty": 5.0, "inspection-failed": 2.0, "complaint": 1.0}
)
"""What one signal adds to an entity's risk score. These are the scenario author's reading:
the plan names the sources and asks for risk warnings (风险预警) but sets no weights. A listing
as dishonest weighs most (another authority has already judged the entity), a judgment
against it next, a failed inspection less, and a complaint, which nobody has verified yet,
least; an inspection that passed adds nothing."""

JUDGMENT_KINDS = ("CIVIL", "COMMERCIAL", "ADMINISTRATIVE")
INSPECTION_KINDS = ("RANDOM_SPOT_CHECK", "PRODUCT_SAMPLING", "SITE_INSPECTION")
"""双随机 spot checks, product sampling (抽检), and inspections on site."""
COMPLAINT_CHANNELS = ("HOTLINE_12345", "ONLINE", "WALK_IN")
COMPLAINT_CATEGORIES = ("QUALITY", "FRAUD", "SAFETY", "PRICING", "OTHER")

COURT_CODE = "渝0103"
"""The Yuzhong District People's Court's code in case numbers."""
_CASE_TYPE = {"CIVIL": "民初", "COMMERCIAL": "民初", "ADMINISTRATIVE": "行初"}
"""First-instance case types: commercial cases are numbered with civil ones (民初)."""
_FILED_THE_YEAR_BEFORE = 0.3
"""Share of judgments taking effect in a year on cases filed the year before."""
_AMOUNT_YUAN = {
    "CIVIL": (30_000.0, 1.2),
    "COMMERCIAL": (200_000.0, 1.4),
    "ADMINISTRATIVE": (5_000.0, 1.0),
}
"""Amount at stake by kind of case, in yuan: median and spread of a lognormal."""
_AMOUNT_BOUNDS_YUAN = (100, 100_000_000)


@dataclass(frozen=True)
class SignalMix:
    """Who signals are about and what they say. Every default is the scenario author's
    reading; the plan sets none of these numbers."""

    population_size: int = 20_000
    """Entities of the district the signals are drawn from (when no population is given)."""
    risk_skew: float = 1.2
    """Pareto tail index of the entities' risk; see `EntityPopulation`."""
    judgment_kind_weights: tuple[float, ...] = (0.45, 0.45, 0.1)
    """Relative weights of the `JUDGMENT_KINDS`, in their order."""
    dishonesty_reason_weights: tuple[float, ...] = REASON_WEIGHTS
    """Relative weights of the dishonesty `REASONS`, as F12's records use them."""
    inspection_kind_weights: tuple[float, ...] = (0.5, 0.25, 0.25)
    """Relative weights of the `INSPECTION_KINDS`, in their order."""
    inspection_failure_probability: float = 0.05
    """Chance that an entity of average risk (risk 1) fails an inspection; an entity's own
    chance is this times its risk, up to `inspection_failure_cap`."""
    inspection_failure_cap: float = 0.9
    """Highest chance of failing, however risky: even the worst entity passes some checks."""
    complaint_channel_weights: tuple[float, ...] = (0.6, 0.3, 0.1)
    """Relative weights of the `COMPLAINT_CHANNELS`: the 12345 hotline takes most."""
    complaint_category_weights: tuple[float, ...] = (0.3, 0.15, 0.1, 0.2, 0.25)
    """Relative weights of the `COMPLAINT_CATEGORIES`, in their order."""

    def __post_init__(self) -> None:
        check_population_size("population_size", self.population_size)
        check_risk_skew("risk_skew", self.risk_skew)
        check_weights("judgment_kind_weights", self.judgment_kind_weights, JUDGMENT_KINDS)
        check_weights("dishonesty_reason_weights", self.dishonesty_reason_weights, REASONS)
        check_weights("inspection_kind_weights", self.inspection_kind_weights, INSPECTION_KINDS)
        check_probability("inspection_failure_probability", self.inspection_failure_probability)
        check_probability("inspection_failure_cap", self.inspection_failure_cap)
        check_weights(
            "complaint_channel_weights", self.complaint_channel_weights, COMPLAINT_CHANNELS
        )
        check_weights(
            "complaint_category_weights", self.complaint_category_weights, COMPLAINT_CATEGORIES
        )

    def failure_probability(self, entity: MarketEntity) -> float:
        """The chance that `entity` fails an inspection: rarer the less risky it is."""
        return min(self.inspection_failure_cap, self.inspection_failure_probability * entity.risk)


class _SignalGenerator:
    """What the four sources share: the run's population and the risk-weighted entity draw.

    Give every source of a run the same `population`, so that signals from different agencies
    meet on the same entities; without one, a generator draws its own from the mix.
    """

    kind: ClassVar[str]
    topic: ClassVar[str]

    def __init__(
        self,
        rng: random.Random,
        mix: SignalMix | None = None,
        population: EntityPopulation | None = None,
    ) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else SignalMix()
        self.population = population_for(
            rng, population, self.mix.population_size, self.mix.risk_skew
        )
        self._serials: dict[tuple[str, int], int] = {}

    def _about(self, case_id: str) -> tuple[MarketEntity, dict[str, Any]]:
        """A signal's event id and the entity it is about, drawn in that order, and the fields
        every signal starts with."""
        identifier = event_id(self._rng)
        entity = self.population.pick_risky(self._rng)
        head = {
            "event_id": identifier,
            "case_id": case_id,
            "uscc": entity.uscc,
            "company_name": entity.company_name,
        }
        return entity, head

    def _next_serial(self, series: str, year: int) -> int:
        """The next number of a yearly series: numbers an agency issues never repeat."""
        serial = self._serials.get((series, year), 0) + 1
        self._serials[(series, year)] = serial
        return serial


class JudgmentSignalGenerator(_SignalGenerator):
    """Draws `JudgmentAgainstEntity` values: effective judgments the court reports."""

    kind = "judgment"
    topic = JUDGMENT_TOPIC

    def __init__(
        self,
        rng: random.Random,
        mix: SignalMix | None = None,
        population: EntityPopulation | None = None,
    ) -> None:
        super().__init__(rng, mix, population)
        self._kind = Weighted(JUDGMENT_KINDS, self.mix.judgment_kind_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One judgment against an entity taking effect on `on`, valid for
        f13/JudgmentAgainstEntity.avsc."""
        rng = self._rng
        _, head = self._about(case_id)
        kind = self._kind.pick(rng)
        filed = on.year - 1 if rng.random() < _FILED_THE_YEAR_BEFORE else on.year
        case_type = _CASE_TYPE[kind]
        median, sigma = _AMOUNT_YUAN[kind]
        fewest, most = _AMOUNT_BOUNDS_YUAN
        amount = min(max(round(rng.lognormvariate(math.log(median), sigma)), fewest), most)
        return {
            **head,
            "judgment_number": judgment_number(
                filed, case_type, self._next_serial(case_type, filed)
            ),
            "effective_on": on,
            "amount_yuan": amount,
            "kind": kind,
        }


class DishonestySignalGenerator(_SignalGenerator):
    """Draws `DishonestyListed` values: listings the credit database reports to the platform."""

    kind = "dishonesty"
    topic = DISHONESTY_TOPIC

    def __init__(
        self,
        rng: random.Random,
        mix: SignalMix | None = None,
        population: EntityPopulation | None = None,
    ) -> None:
        super().__init__(rng, mix, population)
        self._reason = Weighted(REASONS, self.mix.dishonesty_reason_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One listing made on `on`, valid for f13/DishonestyListed.avsc."""
        rng = self._rng
        _, head = self._about(case_id)
        return {
            **head,
            "record_id": record_id(on.year, self._next_serial("SX", on.year)),
            "listed_on": on,
            "reason": self._reason.pick(rng),
        }


class InspectionSignalGenerator(_SignalGenerator):
    """Draws `InspectionResult` values: spot checks and sampling the regulator reports, passed
    or failed; the riskier the entity, the likelier it fails (`SignalMix.failure_probability`).
    """

    kind = "inspection"
    topic = INSPECTION_TOPIC

    def __init__(
        self,
        rng: random.Random,
        mix: SignalMix | None = None,
        population: EntityPopulation | None = None,
    ) -> None:
        super().__init__(rng, mix, population)
        self._kind = Weighted(INSPECTION_KINDS, self.mix.inspection_kind_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One inspection done on `on`, valid for f13/InspectionResult.avsc."""
        rng = self._rng
        entity, head = self._about(case_id)
        return {
            **head,
            "inspection_id": inspection_id(on.year, self._next_serial("CJ", on.year)),
            "inspected_on": on,
            "kind": self._kind.pick(rng),
            "passed": rng.random() >= self.mix.failure_probability(entity),
        }


class ComplaintSignalGenerator(_SignalGenerator):
    """Draws `ComplaintLodged` values: complaints about an entity taken in by the 渝快办
    platform. The complainant's name and phone are personal data: they stay with the
    complaint and never reach a warning or a lead."""

    kind = "complaint"
    topic = COMPLAINT_TOPIC

    def __init__(
        self,
        rng: random.Random,
        mix: SignalMix | None = None,
        population: EntityPopulation | None = None,
    ) -> None:
        super().__init__(rng, mix, population)
        self._channel = Weighted(COMPLAINT_CHANNELS, self.mix.complaint_channel_weights)
        self._category = Weighted(COMPLAINT_CATEGORIES, self.mix.complaint_category_weights)

    def generate(self, case_id: str, at: dt.datetime) -> dict[str, Any]:
        """One complaint lodged at `at`, valid for f13/ComplaintLodged.avsc. `at` must carry
        its time zone: a timestamp without one is read as UTC by Avro, eight hours off Beijing
        time."""
        if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"at must be a datetime with its time zone, got {at!r}")
        rng = self._rng
        _, head = self._about(case_id)
        return {
            **head,
            "complaint_id": complaint_id(at.year, self._next_serial("TS", at.year)),
            "lodged_at": at,
            "channel": self._channel.pick(rng),
            "category": self._category.pick(rng),
            "complainant_name": names.person_name(rng),
            "complainant_phone": identifiers.mobile_phone(rng),
        }


def signal_weight(
    kind: str, value: Mapping[str, Any], weights: Mapping[str, float] = SIGNAL_WEIGHTS
) -> float:
    """What a signal of a source's `kind` adds to its entity's score; an inspection weighs
    only when it failed."""
    if kind == "inspection":
        return 0.0 if value["passed"] else weights["inspection-failed"]
    if kind not in SIGNAL_TOPICS:
        raise ValueError(f"kind must be one of {', '.join(SIGNAL_TOPICS)}, got {kind!r}")
    return weights[kind]


def judgment_number(year: int, case_type: str, serial: int) -> str:
    """A case number as the courts write it: (year), court code, case type, serial, 号,
    e.g. (2021)渝0103民初1234号."""
    return f"({year}){COURT_CODE}{case_type}{serial}号"


def inspection_id(year: int, serial: int, division: str = identifiers.YUZHONG_DIVISION) -> str:
    """An inspection number as this simulator writes it: CJ (抽检), division, year, serial."""
    return f"CJ-{division}-{year}-{serial:06d}"


def complaint_id(year: int, serial: int) -> str:
    """A complaint's work-order number as this simulator writes it: TS (投诉), year, serial."""
    return f"TS-{year}-{serial:07d}"
