"""A bank's credit-loan applications (F05, measure 10: 银税互动).

A small or micro company applies to a bank for a credit loan, secured by nothing but its
record: its tax credit grade and the taxes it paid (银税互动), its social-insurance
contributions, and what the district's public credit database holds on it. The application
carries the company's written authorisation (授权书) for the bank to ask those sources about
it, which every source checks before it answers; the legal representative signs it, and his
identity stays with the bank.

What the sources answer (the company's grade, its contributions, a record of dishonesty) is
their own data, drawn where the flow's steps answer; the application draws only what the
company and its bank know.
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

TOPIC = "bank.credit-loan-application.v1"

PRODUCTS = ("TAX_CREDIT_LOAN", "CREDIT_LOAN")
"""银税贷, priced on the company's tax record, and a plain credit loan (信用贷), priced on the
public credit data as well. Both ask all three sources."""

AMOUNTS_YUAN = (100_000, 200_000, 300_000, 500_000, 1_000_000, 2_000_000, 3_000_000)
AMOUNT_WEIGHTS = (2.0, 3.0, 3.0, 3.0, 2.0, 1.0, 0.5)
"""Round amounts a company asks for: most 银税贷 products lend up to 3 million yuan to a
small or micro firm. The weights are the scenario author's reading."""

TERMS_MONTHS = (6, 12, 24, 36)
TERM_WEIGHTS = (1.0, 6.0, 2.0, 1.0)
"""Credit loans to small firms run a year as a rule (author's reading)."""


@dataclass(frozen=True)
class CreditLoanMix:
    """What companies ask for: products, amounts and terms (every default is the scenario
    author's reading; the plan sets none)."""

    product_weights: tuple[float, ...] = (0.6, 0.4)
    """Relative weights of `PRODUCTS`."""
    amount_weights: tuple[float, ...] = AMOUNT_WEIGHTS
    """Relative weights of `AMOUNTS_YUAN`."""
    term_weights: tuple[float, ...] = TERM_WEIGHTS
    """Relative weights of `TERMS_MONTHS`."""

    def __post_init__(self) -> None:
        check_weights("product_weights", self.product_weights, PRODUCTS)
        check_weights("amount_weights", self.amount_weights, tuple(map(str, AMOUNTS_YUAN)))
        check_weights("term_weights", self.term_weights, tuple(map(str, TERMS_MONTHS)))


def application_number(rng: random.Random, bank: identifiers.Bank, on: dt.date) -> str:
    """The bank's own number for the application: its code, the day, a serial."""
    return f"{bank.code}{on:%Y%m%d}{digits(rng, 6)}"


class CreditLoanApplicationGenerator:
    """Draws `CreditLoanApplication` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: CreditLoanMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else CreditLoanMix()
        self._product = Weighted(PRODUCTS, self.mix.product_weights)
        self._amount = Weighted(AMOUNTS_YUAN, self.mix.amount_weights)
        self._term = Weighted(TERMS_MONTHS, self.mix.term_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One application made on `on`, valid for f05/CreditLoanApplication.avsc."""
        rng = self._rng
        bank = identifiers.pick_bank(rng)
        born_from, born_until = identifiers.born_between(on, 25, 65)
        number = application_number(rng, bank, on)
        return {
            "event_id": event_id(rng),
            "case_id": case_id,
            "application_no": number,
            "applied_on": on,
            "bank": {"bank_name": bank.name, "bank_code": bank.code},
            "product": self._product.pick(rng),
            "amount_yuan": self._amount.pick(rng),
            "term_months": self._term.pick(rng),
            "uscc": identifiers.uscc(rng),
            "company_name": names.company_name(rng),
            "legal_representative": {
                "name": names.person_name(rng),
                "id_number": identifiers.resident_id(
                    rng, born_from=born_from, born_until=born_until
                ),
                "phone": identifiers.mobile_phone(rng),
            },
            "authorisation_no": f"AUTH{number}",
        }
