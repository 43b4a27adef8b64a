"""The tax bureau (tax): taxpayers' period filings in the e-tax bureau, which start flow F11
(M28-M30).

A filing is the period's VAT return with the other taxes the taxpayer owes merged into the
same declaration (十一税合一): stamp duty for most, property tax and urban land-use tax for
owners of premises, corporate income tax prepayments, and rarely the others. A general VAT
taxpayer whose input tax has run ahead of its output tax carries the excess credit forward
(留抵); one whose credit has grown enough since March 2019 may apply for its refund
(增量留抵退税, 财政部 税务总局 海关总署公告2019年第39号: six months of growth, the sixth at least
500,000 yuan; 60 % of the increment times the input-composition ratio is refunded).

What the scenario knobs change: the share of general taxpayers among filers, the share of
those applying for a refund, and the share of applications made on the pre-filled path
(报退合一) rather than compiled by the taxpayer. Every default is the author's estimate.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from producers import identifiers, names
from producers.ids import event_id

TOPIC = "tax.tax-filing-submitted.v1"

MERGED_TAXES: tuple[tuple[str, float], ...] = (
    ("STAMP", 0.6),
    ("PROPERTY", 0.15),
    ("URBAN_LAND_USE", 0.15),
    ("CORPORATE_INCOME", 0.35),
    ("ENVIRONMENTAL_PROTECTION", 0.01),
    ("DEED", 0.01),
    ("LAND_VALUE_ADDED", 0.005),
    ("VEHICLE_VESSEL", 0.002),
    ("RESOURCE", 0.0),
    ("FARMLAND_OCCUPATION", 0.0),
    ("TOBACCO_LEAF", 0.0),
)
"""The eleven taxes declared together with the VAT return (十一税合一): the eight property and
behaviour taxes, the two resource and environment taxes, and corporate income tax, each with
the share of a Yuzhong filing that declares it. A district of offices and shops: no farmland,
no tobacco leaf, no mines. Property tax and land-use tax go together (the owner of premises
owes both). Author's estimates."""

REFUND_THRESHOLD_YUAN = 500_000
"""The sixth month's incremental credit must reach this to apply (公告2019年第39号)."""
REFUND_SHARE = 0.6
"""The share of the increment refunded, before the input-composition ratio (公告2019年第39号)."""

PATHS = ("PREFILLED", "MANUAL")


@dataclass(frozen=True)
class TaxFilingMix:
    """Who files, who applies for a credit refund, and on which path."""

    general_share: float = 0.35
    """Share of filings by general VAT taxpayers: they file monthly, small-scale ones
    quarterly, so their share of filings exceeds their share of taxpayers. Author's estimate."""
    refund_probability: float = 0.25
    """Share of general taxpayers' filings followed by a credit-refund application. The
    default over-represents refunds, so that both paths show in a short run or a few hundred
    cases: in a real month about one such filing in fifty or a hundred is followed by one
    (author's estimate), as scenarios/tax-filing-refund.yaml sets it."""
    prefilled_share: float = 0.7
    """Share of refund applications made on the pre-filled path (报退合一) rather than compiled
    by the taxpayer. Author's estimate."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")


def tax_period(on: dt.date, general: bool) -> str:
    """The period a filing made on `on` declares: the previous month for a general taxpayer
    (2021-05), the previous quarter for a small-scale one (2021Q2)."""
    first = on.replace(day=1)
    last_month = first - dt.timedelta(days=1)
    if general:
        return f"{last_month.year}-{last_month.month:02d}"
    quarter_end = dt.date(first.year, 3 * ((first.month - 1) // 3) + 1, 1) - dt.timedelta(days=1)
    return f"{quarter_end.year}Q{(quarter_end.month - 1) // 3 + 1}"


def refund_yuan(incremental_credit_yuan: int, composition_ratio: float) -> int:
    """The refund the rule allows: 60 % of the increment times the input-composition ratio."""
    return int(incremental_credit_yuan * composition_ratio * REFUND_SHARE)


class TaxFilingGenerator:
    """Draws `TaxFilingSubmitted` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: TaxFilingMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else TaxFilingMix()

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One filing made on `on`, valid for f11/TaxFilingSubmitted.avsc."""
        rng = self._rng
        general = rng.random() < self.mix.general_share
        refund = general and rng.random() < self.mix.refund_probability
        return {
            "event_id": event_id(rng),
            "case_id": case_id,
            "uscc": identifiers.uscc(rng),
            "taxpayer_name": names.company_name(rng),
            "vat_taxpayer_kind": "GENERAL" if general else "SMALL_SCALE",
            "tax_period": tax_period(on, general),
            "filed_on": on,
            "merged_taxes": self._merged_taxes(),
            "vat_return": self._vat_return(general, refund),
            "refund_application": self._refund_application() if refund else None,
        }

    def _merged_taxes(self) -> list[dict[str, Any]]:
        rng = self._rng
        owns_premises = rng.random() < 0.15
        lines = []
        for tax, share in MERGED_TAXES:
            if tax in ("PROPERTY", "URBAN_LAND_USE"):
                declared = owns_premises
            else:
                declared = rng.random() < share
            if declared:
                lines.append({"tax": tax, "tax_due_yuan": round(rng.lognormvariate(7.5, 1.3))})
        return lines

    def _vat_return(self, general: bool, refund: bool) -> dict[str, Any]:
        """The VAT return's totals; a refund applicant's credit has grown past the threshold."""
        rng = self._rng
        if not general:
            sales = round(rng.lognormvariate(11.5, 1.0))  # a quarter's sales, about 100,000
            # 3 %, none on a quarter's sales of 450,000 or less (公告2021年第11号).
            return {
                "sales_yuan": sales,
                "output_tax_yuan": 0 if sales <= 450_000 else round(sales * 0.03),
                "input_tax_yuan": 0,
                "base_credit_yuan": 0,
                "ending_credit_yuan": 0,
            }
        sales = round(rng.lognormvariate(14.0, 1.2))  # a month's sales, about 1.2 million
        output = round(sales * rng.choice((0.06, 0.09, 0.13)))
        base = round(rng.lognormvariate(12.5, 1.0)) if rng.random() < 0.3 else 0
        if refund:
            increment = REFUND_THRESHOLD_YUAN + round(rng.lognormvariate(13.5, 1.0))
            ending = base + increment
            input_tax = output + round(increment * rng.uniform(0.1, 0.3))
        else:
            input_tax = round(output * rng.uniform(0.5, 1.05))
            ending = max(0, input_tax - output) + (base if rng.random() < 0.5 else 0)
        return {
            "sales_yuan": sales,
            "output_tax_yuan": output,
            "input_tax_yuan": input_tax,
            "base_credit_yuan": base,
            "ending_credit_yuan": ending,
        }

    def _refund_application(self) -> dict[str, Any]:
        """What the taxpayer applies with: the path, its own ledger's input-composition ratio
        (used where it compiles the application itself), and the account for the refund."""
        rng = self._rng
        bank = identifiers.pick_bank(rng)
        prefilled = rng.random() < self.mix.prefilled_share
        return {
            "path": PATHS[0] if prefilled else PATHS[1],
            "ledger_composition_ratio": round(rng.uniform(0.7, 1.0), 4),
            "refund_bank_code": bank.code,
            "refund_account_number": identifiers.bank_account_number(rng, bank),
        }
