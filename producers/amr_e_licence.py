"""The company register (amr): a company's e-business-licence and e-seal, due on its
establishment (F02).

F02's trigger is the company as the register established it, with what decides where it will
first use its e-licence: whether it has employees (a unit with staff deposits the housing
fund), the bank it chose for its basic account, and whether it mortgages property online.
F01 hands every establishment over (`e_licence_due`); a study of F02 alone draws its
establishments as F01's source does, so both see the same companies.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from producers.amr_establishment import CompanyEstablishmentGenerator, EstablishmentMix

TOPIC = "amr.e-licence-due.v1"

_ESTABLISHMENT = EstablishmentMix()

MORTGAGE_PROBABILITY = 0.03
"""Share of new companies that mortgage property online (企业房产在线抵押) in their first
months: few new firms own property, most that do were set up to hold it. Author's estimate."""


@dataclass(frozen=True)
class ELicenceMix:
    """How big new companies are, as F01's mix says, and how many mortgage property."""

    size_weights: tuple[float, ...] = _ESTABLISHMENT.size_weights
    """Relative weights of MICRO, SMALL, MEDIUM, LARGE (`EstablishmentMix`)."""
    micro_employee_weights: tuple[float, ...] = _ESTABLISHMENT.micro_employee_weights
    """Relative weights of a micro firm having 0, 1, ..., 9 employees on day one."""
    mortgage_probability: float = MORTGAGE_PROBABILITY

    def __post_init__(self) -> None:
        self.establishment()  # the size and employee weights are checked where they are used
        if not 0.0 <= self.mortgage_probability <= 1.0:
            raise ValueError(
                f"mortgage_probability must be from 0 to 1: {self.mortgage_probability}"
            )

    def establishment(self) -> EstablishmentMix:
        """The establishments' own mix: F01's defaults with this mix's sizes and staff."""
        return dataclasses.replace(
            _ESTABLISHMENT,
            size_weights=self.size_weights,
            micro_employee_weights=self.micro_employee_weights,
        )


def e_licence_due(
    established: Mapping[str, Any], case_id: str, event_id: str, mortgages: bool
) -> dict[str, Any]:
    """The e-licence and e-seal due to the company `established` (an F01 `CompanyEstablished`
    value), valid for f02/ELicenceDue.avsc.

    The licence shows what the register recorded, so that is carried over unchanged; of the
    employees only their number travels on, which is all that decides the housing fund's use.
    """
    legal = established["legal_representative"]
    bank = established["account_bank"]
    return {
        "event_id": event_id,
        "case_id": case_id,
        "uscc": established["uscc"],
        "company_name": established["company_name"],
        "legal_form": established["legal_form"],
        "established_on": established["established_on"],
        "registered_address": established["registered_address"],
        "registered_capital_yuan": established["registered_capital_yuan"],
        "legal_representative": {
            "name": legal["name"],
            "id_number": legal["id_number"],
            "phone": legal["phone"],
        },
        "account_bank": {"bank_name": bank["bank_name"], "bank_code": bank["bank_code"]},
        "employee_count": len(established["employees"]),
        "mortgages_property": mortgages,
    }


class ELicenceDueGenerator:
    """Draws `ELicenceDue` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: ELicenceMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else ELicenceMix()
        self._establishments = CompanyEstablishmentGenerator(rng, self.mix.establishment())

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One company established on `on`, its e-licence due."""
        established = self._establishments.generate(case_id, on)
        mortgages = self._rng.random() < self.mix.mortgage_probability
        return e_licence_due(established, case_id, str(established["event_id"]), mortgages)
