"""The company register (amr): companies established through the one-stop platform (F01).

A company's size decides how much the agencies downstream have to do: a founder-only firm
enrols nobody and opens no housing-fund account, a regional headquarters enrols hundreds.
Most companies set up in Yuzhong are micro firms, so the size mix is a scenario knob: a study
of a business park or of a headquarters drive changes it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from functools import partial
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted
from producers.ids import event_id
from producers.lazy import LazyRecord, case_stream

TOPIC = "amr.company-established.v1"

SIZES = ("MICRO", "SMALL", "MEDIUM", "LARGE")

# Employees on establishment by size class. The bounds follow the employee thresholds of the
# SME classification (工信部联企业〔2011〕300号) for most service trades: micro under 10,
# small under 100, medium under 300.
_EMPLOYEE_RANGES = {"SMALL": (10, 99), "MEDIUM": (100, 299), "LARGE": (300, 800)}

# Subscribed capital by size class (yuan): founders pick round amounts.
_CAPITAL = {
    "MICRO": ((100_000, 300_000, 500_000, 1_000_000, 2_000_000, 5_000_000), (3, 2, 3, 4, 1, 1)),
    "SMALL": ((1_000_000, 2_000_000, 5_000_000, 10_000_000), (3, 3, 3, 2)),
    "MEDIUM": ((10_000_000, 20_000_000, 50_000_000), (3, 2, 1)),
    "LARGE": ((50_000_000, 100_000_000, 500_000_000), (2, 2, 1)),
}

_CAPITAL_OF = {size: Weighted(*amounts) for size, amounts in _CAPITAL.items()}

# Share of new companies registering as general VAT taxpayers rather than small-scale ones.
_GENERAL_VAT = {"MICRO": 0.05, "SMALL": 0.3, "MEDIUM": 0.8, "LARGE": 1.0}


@dataclass(frozen=True)
class EstablishmentMix:
    """How big new companies are when they are established."""

    size_weights: tuple[float, ...] = (0.88, 0.10, 0.018, 0.002)
    """Relative weights of MICRO, SMALL, MEDIUM, LARGE: SMEs are 99.8 % of new companies."""
    micro_employee_weights: tuple[float, ...] = (
        0.30,
        0.18,
        0.15,
        0.11,
        0.08,
        0.06,
        0.04,
        0.03,
        0.03,
        0.02,
    )
    """Relative weights of a micro firm having 0, 1, ..., 9 employees on day one."""
    median_monthly_wage_yuan: float = 5000.0

    def __post_init__(self) -> None:
        if len(self.size_weights) != len(SIZES):
            raise ValueError(f"size_weights needs one weight for each of {', '.join(SIZES)}")
        for name in ("size_weights", "micro_employee_weights"):
            weights = getattr(self, name)
            if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
                raise ValueError(f"{name} must be non-negative, not all 0: {weights}")
        if len(self.micro_employee_weights) > 10:
            raise ValueError("micro firms have fewer than 10 employees: at most 10 weights")
        if self.median_monthly_wage_yuan <= 0:
            raise ValueError("median_monthly_wage_yuan must be positive")

    @property
    def sme_share(self) -> float:
        """The share of new companies that are micro, small or medium."""
        return 1.0 - self.size_weights[-1] / sum(self.size_weights)


class CompanyEstablishmentGenerator:
    """Draws `CompanyEstablished` values; all randomness comes from the given `rng` (a
    company's names and people from a stream its case seeds)."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: EstablishmentMix | None = None) -> None:
        self._rng = rng
        self._seed = rng.getrandbits(32)
        self.mix = mix if mix is not None else EstablishmentMix()
        self._size = Weighted(SIZES, self.mix.size_weights)
        weights = self.mix.micro_employee_weights
        self._micro_employees = Weighted(range(len(weights)), weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One company established on `on`, valid for f01/CompanyEstablished.avsc."""
        return dict(self.lazy(case_id, on))

    def lazy(self, case_id: str, on: dt.date) -> LazyRecord:
        """The same company, drawn only as far as it is read: who must act depends only on
        whether it has employees, not on who they are (`lazy.py`)."""
        size = self._size.pick(self._rng)
        employees = self._employee_count(size)
        return LazyRecord(
            {"case_id": case_id, "established_on": on, "enterprise_size": size},
            partial(self._company, case_id, on, size, employees),
            lists={"employees": employees},
        )

    def _company(self, case_id: str, on: dt.date, size: str, employees: int) -> dict[str, Any]:
        """The company's names, numbers and people, from the case's own stream."""
        rng = case_stream(self._seed, case_id)
        name = names.company_name(rng)
        bank = identifiers.pick_bank(rng)
        born_from, born_until = identifiers.born_between(on, 22, 65)
        return {
            "event_id": event_id(rng),
            "uscc": identifiers.uscc(rng),
            "company_name": name,
            "legal_form": "JOINT_STOCK" if name.endswith("股份有限公司") else "LIMITED_LIABILITY",
            "registered_address": names.yuzhong_address(rng).text,
            "registered_capital_yuan": _CAPITAL_OF[size].pick(rng),
            "vat_taxpayer_kind": "GENERAL" if rng.random() < _GENERAL_VAT[size] else "SMALL_SCALE",
            "legal_representative": {
                "name": names.person_name(rng),
                "id_number": identifiers.resident_id(
                    rng, born_from=born_from, born_until=born_until
                ),
                "phone": identifiers.mobile_phone(rng),
            },
            "account_bank": {"bank_name": bank.name, "bank_code": bank.code},
            "employees": [self._employee(rng, on) for _ in range(employees)],
        }

    def _employee_count(self, size: str) -> int:
        rng = self._rng
        if size == "MICRO":
            return self._micro_employees.pick(rng)
        low, high = _EMPLOYEE_RANGES[size]
        # Skewed to the low end of the class: few firms start near the next threshold.
        return low + min(high - low, round(rng.expovariate(3.0 / (high - low))))

    def _employee(self, rng: random.Random, on: dt.date) -> dict[str, Any]:
        born_from, born_until = identifiers.born_between(on, 18, 59)
        wage = rng.lognormvariate(0.0, 0.45) * self.mix.median_monthly_wage_yuan
        return {
            "name": names.person_name(rng),
            "id_number": identifiers.resident_id(rng, born_from=born_from, born_until=born_until),
            "employed_from": on,
            # Not below Chongqing's 2021 minimum monthly wage (1,800 yuan, first-class areas).
            "monthly_wage_yuan": int(round(min(max(wage, 1800.0), 60_000.0), -1)),
        }
