"""The real-estate register: transfer registrations applied for at the counter (F09, measure 26).

Every transfer needs the transaction's taxes settled before it is registered, whatever its
kind; the kind decides who the parties are (a developer sells new homes, heirs receive from
the deceased) and whether a sale contract exists. The mix of kinds is a scenario knob, since
a district of old housing stock sees far more resales than new-house transfers.
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
from producers.real_estate import use_and_area

TOPIC = "real-estate.registration-applied.v1"

KINDS = ("SALE", "NEW_HOUSE", "GIFT", "INHERITANCE")
_HEIRS = Weighted((1, 2, 3), (0.5, 0.35, 0.15))

# Yuzhong's 2021 prices, yuan per m² (this model's reading): resales of old flats around
# 16,000, shops and offices more spread out.
_PRICE_PER_M2 = {
    "RESIDENTIAL": (16_000.0, 0.22),
    "COMMERCIAL": (20_000.0, 0.4),
    "OFFICE": (14_000.0, 0.3),
}


@dataclass(frozen=True)
class RegistrationMix:
    """Shares of transfer registrations by kind, use and who the parties are."""

    kind_weights: tuple[float, ...] = (0.62, 0.22, 0.08, 0.08)
    """Relative weights of SALE, NEW_HOUSE, GIFT, INHERITANCE."""
    commercial_probability: float = 0.2
    """Share of shops and offices among the units transferred."""
    company_buyer_probability: float = 0.4
    """Among shops and offices, the share bought by a company."""
    co_owner_probability: float = 0.55
    """Share of homes taken by two co-owners (a couple) rather than one person."""

    def __post_init__(self) -> None:
        weights = self.kind_weights
        if len(weights) != len(KINDS) or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"kind_weights needs {len(KINDS)} non-negative weights: {weights}")
        for name in ("commercial_probability", "company_buyer_probability", "co_owner_probability"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")


class RegistrationApplicationGenerator:
    """Draws `RegistrationApplied` values; all randomness comes from the given `rng` (each
    case's from a stream seeded by it)."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: RegistrationMix | None = None) -> None:
        self._seed = rng.getrandbits(32)
        self.mix = mix if mix is not None else RegistrationMix()
        self._kind = Weighted(KINDS, self.mix.kind_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One application accepted on `on`, valid for f09/RegistrationApplied.avsc."""
        return dict(self.lazy(case_id, on))

    def lazy(self, case_id: str, on: dt.date) -> LazyRecord:
        """The same application, drawn only if read: no step depends on what is transferred
        or to whom, only on the application being made (`lazy.py`)."""
        return LazyRecord(
            {"case_id": case_id, "applied_on": on}, partial(self._application, case_id, on)
        )

    def _application(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """What is transferred and between whom, from the case's own stream."""
        rng = case_stream(self._seed, case_id)
        mix = self.mix
        kind = self._kind.pick(rng)
        commercial = rng.random() < mix.commercial_probability
        prop = self._property(rng, commercial)
        company_buyer = commercial and kind in ("SALE", "NEW_HOUSE")
        company_buyer = company_buyer and rng.random() < mix.company_buyer_probability
        return {
            "event_id": event_id(rng),
            "application_no": identifiers.registration_application_no(rng, on),
            "registration_kind": kind,
            "property": prop,
            "previous_certificate_no": (
                None
                if kind == "NEW_HOUSE"
                else identifiers.real_estate_certificate_no(rng, rng.randint(2016, on.year - 1))
            ),
            "contract_no": (
                identifiers.sale_contract_no(rng, on) if kind in ("SALE", "NEW_HOUSE") else None
            ),
            "taxable_value_yuan": self._value(rng, prop),
            "transferor": self._transferor(rng, kind, on, commercial),
            "transferees": self._transferees(rng, kind, on, commercial, company_buyer),
        }

    def _property(self, rng: random.Random, commercial: bool) -> dict[str, Any]:
        use, area = use_and_area(rng, commercial)
        return {
            "unit_no": identifiers.real_estate_unit_no(rng),
            "address": names.yuzhong_address(rng).text,
            "use": use,
            "floor_area_m2": area,
        }

    def _value(self, rng: random.Random, prop: dict[str, Any]) -> int:
        median, sigma = _PRICE_PER_M2[prop["use"]]
        price = median * rng.lognormvariate(0.0, sigma)
        return int(round(price * prop["floor_area_m2"], -2))

    def _transferor(
        self, rng: random.Random, kind: str, on: dt.date, commercial: bool
    ) -> dict[str, Any]:
        if kind == "NEW_HOUSE":
            return self._company(rng, developer=True)
        if kind == "SALE" and commercial and rng.random() < 0.3:
            return self._company(rng, developer=False)
        # An estate is registered in the deceased's name, so no phone for inheritance.
        return self._person(rng, on, 25, 90, with_phone=kind != "INHERITANCE")

    def _transferees(
        self, rng: random.Random, kind: str, on: dt.date, commercial: bool, company_buyer: bool
    ) -> list[dict[str, Any]]:
        if company_buyer:
            return [self._company(rng, developer=False)]
        if kind == "INHERITANCE":
            count = _HEIRS.pick(rng)
        elif not commercial and rng.random() < self.mix.co_owner_probability:
            count = 2
        else:
            count = 1
        return [self._person(rng, on, 22, 75, with_phone=True) for _ in range(count)]

    def _person(
        self, rng: random.Random, on: dt.date, youngest: int, oldest: int, *, with_phone: bool
    ) -> dict[str, Any]:
        born_from, born_until = identifiers.born_between(on, youngest, oldest)
        return {
            "name": names.person_name(rng),
            "id_kind": "RESIDENT_ID",
            "id_number": identifiers.resident_id(rng, born_from=born_from, born_until=born_until),
            "phone": identifiers.mobile_phone(rng) if with_phone else None,
        }

    def _company(self, rng: random.Random, *, developer: bool) -> dict[str, Any]:
        name = names.company_name(rng)
        if developer:
            # company_name is 重庆 + a two-character trade name + ...: keep the trade name.
            name = f"{name[:4]}{rng.choice(('置业', '房地产开发', '地产'))}有限公司"
        return {
            "name": name,
            "id_kind": "USCC",
            "id_number": identifiers.uscc(rng),
            "phone": identifiers.mobile_phone(rng),
        }
