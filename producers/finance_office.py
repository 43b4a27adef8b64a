"""The district financial office's 渝中融 platform: companies' financing demands, matched to the
banks' loan products (F06, measure 11).

A company publishes its financing demand on the platform (融资需求发布): how much, for how long,
for what, and whether it can offer collateral. The platform matches it to the products of the
banks on the platform (精准智能对接), and the demand is sent to each matched bank. Which banks
match is drawn here, with the demand: the matching is the platform's, done as the demand is
published, and a demand no product matches is returned to the company and never published.
The contact person stays on the platform until the company has chosen a bank.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted, digits
from producers.ids import event_id
from producers.market_entities import check_weights

TOPIC = "finance-office.financing-demand-published.v1"

INDUSTRIES = ("WHOLESALE_RETAIL", "CATERING_HOTELS", "IT_SERVICES", "BUSINESS_SERVICES", "CULTURE")
"""Yuzhong's small firms are mostly trade, catering, software and business services."""
INDUSTRY_WEIGHTS = (0.35, 0.15, 0.2, 0.2, 0.1)
PURPOSES = ("WORKING_CAPITAL", "EQUIPMENT", "EXPANSION")
PURPOSE_WEIGHTS = (0.7, 0.15, 0.15)
AMOUNTS_YUAN = (200_000, 500_000, 1_000_000, 3_000_000, 5_000_000, 10_000_000)
AMOUNT_WEIGHTS = (2.0, 3.0, 3.0, 2.0, 1.0, 0.5)
TERMS_MONTHS = (6, 12, 24, 36)
TERM_WEIGHTS = (1.0, 5.0, 2.0, 1.0)
PRODUCT_NAMES = ("经营快贷", "税易贷", "科技型企业知识价值信用贷", "商业价值信用贷", "抵押经营贷")
"""Kinds of loan product banks put on the platform (measure 10 names the two credit loans)."""


@dataclass(frozen=True)
class FinancingDemandMix:
    """What companies ask for and how many banks' products match (every default is the
    scenario author's reading; the plan sets none)."""

    matched_weights: tuple[float, ...] = (0.2, 0.3, 0.25, 0.15, 0.1)
    """Relative weights of 1, 2, 3, 4, 5 banks whose products match a demand."""
    collateral_probability: float = 0.3
    industry_weights: tuple[float, ...] = INDUSTRY_WEIGHTS
    amount_weights: tuple[float, ...] = AMOUNT_WEIGHTS

    def __post_init__(self) -> None:
        check_weights("matched_weights", self.matched_weights, ("1", "2", "3", "4", "5"))
        check_weights("industry_weights", self.industry_weights, INDUSTRIES)
        check_weights("amount_weights", self.amount_weights, tuple(map(str, AMOUNTS_YUAN)))
        if not 0.0 <= self.collateral_probability <= 1.0:
            raise ValueError(
                f"collateral_probability must be within [0, 1]: {self.collateral_probability}"
            )


class FinancingDemandGenerator:
    """Draws `FinancingDemandPublished` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: FinancingDemandMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else FinancingDemandMix()
        self._matched = Weighted(range(1, 6), self.mix.matched_weights)
        self._industry = Weighted(INDUSTRIES, self.mix.industry_weights)
        self._purpose = Weighted(PURPOSES, PURPOSE_WEIGHTS)
        self._amount = Weighted(AMOUNTS_YUAN, self.mix.amount_weights)
        self._term = Weighted(TERMS_MONTHS, TERM_WEIGHTS)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One demand published on `on`, valid for f06/FinancingDemandPublished.avsc."""
        rng = self._rng
        return {
            "event_id": event_id(rng),
            "case_id": case_id,
            "demand_no": f"YZR{on:%Y%m%d}{digits(rng, 5)}",
            "published_on": on,
            "uscc": identifiers.uscc(rng),
            "company_name": names.company_name(rng),
            "industry": self._industry.pick(rng),
            "amount_yuan": self._amount.pick(rng),
            "term_months": self._term.pick(rng),
            "purpose": self._purpose.pick(rng),
            "collateral": rng.random() < self.mix.collateral_probability,
            "contact": {"name": names.person_name(rng), "phone": identifiers.mobile_phone(rng)},
            "matched_products": self._products(),
        }

    def _products(self) -> list[dict[str, str]]:
        """One product of each matched bank, banks drawn by their share of the district."""
        rng = self._rng
        banks: list[identifiers.Bank] = []
        for _ in range(self._matched.pick(rng)):
            banks.append(identifiers.pick_bank(rng, exclude=banks))
        return [
            {
                "bank_code": bank.code,
                "bank_name": bank.name,
                "product_code": f"{bank.short_name}-{digits(rng, 4)}",
                "product_title": rng.choice(PRODUCT_NAMES),
            }
            for bank in banks
        ]
