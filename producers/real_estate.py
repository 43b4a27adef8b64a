"""The real-estate register: property transfers that start flow F10 (measure 27).

A utility is asked to move an account only when the property has one with it; almost every
unit has water and power, far fewer have gas, so the mix decides which utilities a case waits
for.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from producers import identifiers, names
from producers.ids import event_id
from producers.lazy import LazyRecord, case_stream

TOPIC = "real-estate.property-transfer-registered.v1"


@dataclass(frozen=True)
class PropertyTransferMix:
    """Shares of transfers by kind of unit, buyer and utility accounts held."""

    water_probability: float = 0.98
    power_probability: float = 0.99
    gas_probability: float = 0.7
    commercial_probability: float = 0.3
    """Share of non-residential units (shops and offices)."""
    company_buyer_probability: float = 0.5
    """Among non-residential units, the share bought by a company rather than a person."""
    seller_phone_probability: float = 0.8
    """Share of sellers whose phone the register holds; buyers always leave one."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")


class PropertyTransferGenerator:
    """Draws `PropertyTransferRegistered` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: PropertyTransferMix | None = None) -> None:
        self._rng = rng
        self._seed = rng.getrandbits(32)
        self.mix = mix if mix is not None else PropertyTransferMix()

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One transfer registered on `on`, valid for f10/PropertyTransferRegistered.avsc."""
        return dict(self.lazy(case_id, on))

    def lazy(self, case_id: str, on: dt.date) -> LazyRecord:
        """The same transfer, drawn only as far as it is read: which utilities are asked
        depends only on the accounts the unit has (`lazy.py`). An account number costs about
        what knowing whether there is one does, so the accounts are drawn whole at once."""
        mix = self.mix
        return LazyRecord(
            {
                "case_id": case_id,
                "registered_on": on,
                "utility_accounts": {
                    "water": self._maybe(mix.water_probability, identifiers.water_account),
                    "power": self._maybe(mix.power_probability, identifiers.power_account),
                    "gas": self._maybe(mix.gas_probability, identifiers.gas_account),
                },
            },
            partial(self._transfer, case_id, on),
        )

    def _transfer(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """The unit and who sold and bought it, from the case's own stream."""
        rng = case_stream(self._seed, case_id)
        mix = self.mix
        commercial = rng.random() < mix.commercial_probability
        company_buyer = commercial and rng.random() < mix.company_buyer_probability
        return {
            "event_id": event_id(rng),
            "certificate_no": identifiers.real_estate_certificate_no(rng, on.year),
            "property": _property(rng, commercial),
            "seller": _person(rng, with_phone=rng.random() < mix.seller_phone_probability),
            "buyer": _company(rng) if company_buyer else _person(rng, with_phone=True),
        }

    def _maybe(self, probability: float, draw: Callable[[random.Random], str]) -> str | None:
        return draw(self._rng) if self._rng.random() < probability else None


def use_and_area(rng: random.Random, commercial: bool) -> tuple[str, float]:
    """A unit's use and floor area in m², drawn alike by both of the register's sources."""
    if commercial:
        use = "COMMERCIAL" if rng.random() < 0.6 else "OFFICE"
        area = rng.lognormvariate(4.4, 0.7)  # median about 80 m², long tail of whole floors
    else:
        use = "RESIDENTIAL"
        area = rng.lognormvariate(4.45, 0.3)  # median about 85 m²
    return use, round(min(max(area, 12.0), 5000.0), 2)


def _property(rng: random.Random, commercial: bool) -> dict[str, Any]:
    use, area = use_and_area(rng, commercial)
    return {"address": names.yuzhong_address(rng).text, "use": use, "floor_area_m2": area}


def _person(rng: random.Random, *, with_phone: bool) -> dict[str, Any]:
    return {
        "name": names.person_name(rng),
        "id_kind": "RESIDENT_ID",
        "id_number": identifiers.resident_id(rng),
        "phone": identifiers.mobile_phone(rng) if with_phone else None,
    }


def _company(rng: random.Random) -> dict[str, Any]:
    return {
        "name": names.company_name(rng),
        "id_kind": "USCC",
        "id_number": identifiers.uscc(rng),
        "phone": identifiers.mobile_phone(rng),
    }
