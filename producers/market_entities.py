"""The district's market entities (市场主体), shared by the credit flows F12 and F13.

Measure 32 publishes dishonesty records (失信信息) about entities and withdraws them after credit
repair (信用修复); measure 33 gathers court judgments, dishonesty, inspections and complaints
about the same entities at the supervision platform (实时汇聚司法判决、违法失信、抽查抽检等重点
监管领域数据，同步接入社会咨询投诉). Drawing every source's entity from one population lets a record
published in F12 and a signal gathered in F13 be about the same company, keyed by its unified
social credit code.

Adverse signals are not spread evenly: a few entities attract most of the judgments, listings,
failed inspections and complaints, and that concentration is what lets a windowed score cross a
warning threshold (风险预警) at all. Each entity therefore carries a risk weight from a
heavy-tailed (Pareto) law, and sources that report trouble draw their entity in proportion to
it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from producers import identifiers, names
from producers.draw import Weighted


@dataclass(frozen=True, slots=True)
class MarketEntity:
    """One company of the district, as every credit source names it."""

    uscc: str
    """18-character unified social credit code (GB 32100-2015): the key every flow joins on."""
    company_name: str
    risk: float
    """Relative risk: the population's mean is 1, so an entity of risk 3 draws three times an
    average entity's share of adverse signals."""


class EntityPopulation:
    """`size` distinct entities of Yuzhong with Pareto-distributed risk; all randomness comes
    from the `rng` passed in, so a seed fixes who the entities are and which are risky.

    `risk_skew` is the Pareto law's tail index α: the closer to 1, the more the risk gathers on
    a few entities. In an unbounded population the riskiest share `p` holds `p ** (1 - 1/α)` of
    the risk: at 1.2 the riskiest 5 % hold about 60 % and the riskiest 20 % about 75 %. At 1 or
    below the law has no mean and a single entity would draw nearly every signal, so the index
    must exceed 1.

    The risks are the law's quantiles at the midpoints of `size` equal strata, dealt out to the
    entities at random. A law this heavy-tailed has no finite variance: risks drawn
    independently would let one seed's riskiest entity outweigh another's many times over, and
    studies would compare the luck of the draw rather than the scenarios. With quantiles every
    population of a size and skew has the same spread of risk, and seeds differ in which entity
    holds which risk.

    Company names are drawn and may repeat; the code is the key, and codes are distinct.
    """

    def __init__(self, rng: random.Random, size: int, risk_skew: float) -> None:
        check_population_size("size", size)
        check_risk_skew("risk_skew", risk_skew)
        self.size = size
        self.risk_skew = float(risk_skew)
        risks = pareto_risks(size, risk_skew)
        rng.shuffle(risks)
        codes: set[str] = set()
        entities: list[MarketEntity] = []
        for risk in risks:
            code = identifiers.uscc(rng)
            while code in codes:  # rare: under one expected among 20 000 codes
                code = identifiers.uscc(rng)
            codes.add(code)
            entities.append(MarketEntity(code, names.company_name(rng), risk))
        self.entities: tuple[MarketEntity, ...] = tuple(entities)
        self._by_uscc = {entity.uscc: entity for entity in entities}
        self._by_risk = Weighted(self.entities, risks)
        self._size = float(size)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[MarketEntity]:
        return iter(self.entities)

    def __contains__(self, uscc: object) -> bool:
        return uscc in self._by_uscc

    def entity(self, uscc: str) -> MarketEntity:
        """The entity a code names, for a consumer that holds only the code (a subscriber)."""
        try:
            return self._by_uscc[uscc]
        except KeyError:
            raise KeyError(f"no market entity with code {uscc!r} in this population") from None

    def pick(self, rng: random.Random) -> MarketEntity:
        """Any entity, each equally likely: who applies for a loan, bids or adopts a code."""
        return self.entities[int(rng.random() * self._size)]

    def pick_risky(self, rng: random.Random) -> MarketEntity:
        """An entity in proportion to its risk: who an adverse signal is about. A bisection on
        the cumulative risks, since a year of signals is some 10^5 draws."""
        return self._by_risk.pick(rng)


def population_for(
    rng: random.Random, population: EntityPopulation | None, size: int, risk_skew: float
) -> EntityPopulation:
    """The population given, which must be the one the mix describes, or one drawn from it.

    Sources of one run share a population so that their records concern the same entities; a
    mix naming another size or skew than the population it is used with is a mistake to report,
    not a setting to ignore.
    """
    if population is None:
        return EntityPopulation(rng, size, risk_skew)
    if len(population) != size:
        raise ValueError(
            f"population_size is {size} but the population given has {len(population)} entities"
        )
    if population.risk_skew != float(risk_skew):
        raise ValueError(
            f"risk_skew is {risk_skew} but the population given was drawn with "
            f"{population.risk_skew}"
        )
    return population


def pareto_risks(size: int, tail_index: float) -> list[float]:
    """`size` Pareto(`tail_index`) quantiles at the strata midpoints, riskiest first, scaled so
    that their mean is 1 (risk relative to the average entity)."""
    check_population_size("size", size)
    check_risk_skew("tail_index", tail_index)
    exponent = -1.0 / tail_index
    quantiles = [((rank - 0.5) / size) ** exponent for rank in range(1, size + 1)]
    mean = math.fsum(quantiles) / size
    return [q / mean for q in quantiles]


def check_population_size(name: str, value: int) -> None:
    """A population is a positive whole number of entities; `name` is the caller's field."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of entities, at least 1, got {value!r}")


def check_risk_skew(name: str, value: float) -> None:
    """A Pareto tail index above 1, so that the law has a mean; `name` is the caller's field."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number above 1, got {value!r}")
    if value <= 1.0:
        raise ValueError(
            f"{name} must be above 1 (a Pareto tail index of 1 or less has no mean and puts "
            f"nearly all risk on one entity), got {value}"
        )


# --- Checks the two credit flows' mixes share ------------------------------------------------


def check_probability(name: str, value: float) -> None:
    """A probability within [0, 1]; `name` is the mix field, so the error says which."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {value!r}")


def check_weights(name: str, weights: tuple[float, ...], labels: tuple[str, ...]) -> None:
    """One non-negative finite weight per label, not all 0; `name` is the mix field."""
    if (
        not isinstance(weights, tuple)
        or len(weights) != len(labels)
        or any(isinstance(w, bool) or not isinstance(w, int | float) for w in weights)
        or any(not math.isfinite(w) or w < 0 for w in weights)
        or sum(weights) <= 0
    ):
        raise ValueError(
            f"{name} must be {len(labels)} non-negative weights ({', '.join(labels)}), "
            f"not all 0: {weights!r}"
        )
