"""The company register (amr): deregistrations that start flow F03 (measure 5).

What a deregistered company holds decides who must act: no bank account means no bank request,
no housing-fund unit account means no housing-fund request. The mix of holdings is therefore a
scenario parameter, not a constant, so a study can change how often each recipient is involved.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted
from producers.ids import event_id
from producers.lazy import LazyRecord, case_stream

TOPIC = "amr.company-deregistered.v1"

_EXTRA_SEAL_KINDS = ("FINANCE", "CONTRACT", "INVOICE", "LEGAL_REPRESENTATIVE")
_EXTRA_SEAL_COUNT_WEIGHTS = (0.15, 0.35, 0.35, 0.15)  # 0..3 seals besides the official one
_EXTRA_SEAL_COUNT = Weighted(range(4), _EXTRA_SEAL_COUNT_WEIGHTS)


@dataclass(frozen=True)
class DeregistrationMix:
    """What share of deregistered companies hold each kind of thing the recipients close."""

    bank_account_weights: tuple[float, ...] = (0.05, 0.55, 0.3, 0.1)
    """Relative weights of holding 0, 1, 2, 3, ... bank accounts."""
    housing_fund_probability: float = 0.6
    simplified_probability: float = 0.7
    """Share of simplified (简易注销) deregistrations."""
    compulsory_probability: float = 0.05
    """Share of compulsory deregistrations; the rest are ordinary."""

    def __post_init__(self) -> None:
        weights = self.bank_account_weights
        if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"bank_account_weights must be non-negative, not all 0: {weights}")
        for name in ("housing_fund_probability", "simplified_probability"):
            _check_probability(name, getattr(self, name))
        _check_probability("compulsory_probability", self.compulsory_probability)
        if self.simplified_probability + self.compulsory_probability > 1:
            raise ValueError("simplified_probability + compulsory_probability must not exceed 1")


class CompanyDeregistrationGenerator:
    """Draws `CompanyDeregistered` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: DeregistrationMix | None = None) -> None:
        self._rng = rng
        self._seed = rng.getrandbits(32)
        self.mix = mix if mix is not None else DeregistrationMix()
        weights = self.mix.bank_account_weights
        self._account_count = Weighted(range(len(weights)), weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One deregistration recorded on `on`, valid for f03/CompanyDeregistered.avsc."""
        return dict(self.lazy(case_id, on))

    def lazy(self, case_id: str, on: dt.date) -> LazyRecord:
        """The same deregistration, drawn only as far as it is read: who must act depends
        only on what the company holds, and on how many of each, not on which (`lazy.py`)."""
        rng = self._rng
        extra_seals = _EXTRA_SEAL_COUNT.pick(rng)
        accounts = self._account_count.pick(rng)
        housing_fund = rng.random() < self.mix.housing_fund_probability
        return LazyRecord(
            {
                "case_id": case_id,
                "deregistration_type": self._deregistration_type(),
                "deregistered_on": on,
                "housing_fund_account": None,
            },
            partial(self._company, case_id, extra_seals, accounts, housing_fund),
            lists={"seals": 1 + extra_seals, "bank_accounts": accounts},
            records=("housing_fund_account",) if housing_fund else (),
        )

    def _company(
        self, case_id: str, extra_seals: int, accounts: int, housing_fund: bool
    ) -> dict[str, Any]:
        """What the company is and holds, from the case's own stream."""
        rng = case_stream(self._seed, case_id)
        return {
            "event_id": event_id(rng),
            "uscc": identifiers.uscc(rng),
            "company_name": names.company_name(rng),
            "legal_representative": {
                "name": names.person_name(rng),
                "id_number": identifiers.resident_id(rng),
            },
            "registered_address": names.yuzhong_address(rng).text,
            "seals": draw_seals(rng, extra_seals),
            "bank_accounts": draw_bank_accounts(rng, accounts),
            "housing_fund_account": _housing_fund_account(rng) if housing_fund else None,
        }

    def _deregistration_type(self) -> str:
        draw = self._rng.random()
        if draw < self.mix.simplified_probability:
            return "SIMPLIFIED"
        if draw < self.mix.simplified_probability + self.mix.compulsory_probability:
            return "COMPULSORY"
        return "ORDINARY"


def _housing_fund_account(rng: random.Random) -> dict[str, Any]:
    # Deregistering companies are mostly small: employees skew towards a handful.
    employees = max(1, min(300, round(rng.lognormvariate(1.3, 0.9))))
    return {
        "unit_account_number": identifiers.housing_fund_unit_account(rng),
        "employees": employees,
    }


def draw_seals(rng: random.Random, extra: int | None = None) -> list[dict[str, str]]:
    """A company's registered seals, as the police cancel them: the official seal always, up
    to three others (`extra`, drawn where not given), each kind at most once. Shared by every
    source that lists a company's seals (deregistration, bankruptcy), so the seals look alike
    wherever they come from."""
    if extra is None:
        extra = _EXTRA_SEAL_COUNT.pick(rng)
    kinds = ["OFFICIAL", *rng.sample(_EXTRA_SEAL_KINDS, extra)]
    numbers = _distinct(lambda: identifiers.seal_number(rng), len(kinds))
    return [{"seal_no": n, "kind": k} for n, k in zip(numbers, kinds, strict=True)]


def draw_bank_accounts(rng: random.Random, count: int) -> list[dict[str, str]]:
    """`count` company accounts, each at a different bank: the first is the basic account (the
    law allows one), the others general or special. Shared like `draw_seals`."""
    accounts: list[dict[str, str]] = []
    used: list[identifiers.Bank] = []
    for index in range(count):
        bank = identifiers.pick_bank(rng, exclude=used)
        used.append(bank)
        kind = "BASIC" if index == 0 else _secondary_account_kind(rng)
        accounts.append(
            {
                "bank_name": bank.name,
                "bank_code": bank.code,
                "account_number": identifiers.bank_account_number(rng, bank),
                "account_kind": kind,
            }
        )
    return accounts


def _secondary_account_kind(rng: random.Random) -> str:
    return "GENERAL" if rng.random() < 0.8 else "SPECIAL"


def _distinct(draw: Callable[[], str], count: int) -> list[str]:
    """`count` different values from `draw`; collisions are rare, so redrawing is cheap."""
    values: list[str] = []
    while len(values) < count:
        value = draw()
        if value not in values:
            values.append(value)
    return values


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {value}")
