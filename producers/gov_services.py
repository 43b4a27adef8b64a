"""The 渝快办 platform (gov-services): utility connection applications that start flow F04.

Measure 8 has water, power and gas applied for on one online form (报装、查询、缴费 全程网上办理)
and the utilities acting early on the data the platform shares (提前介入、主动服务). What an
applicant asks for decides which utilities act at all, and a power application's voltage
decides which of power's paths it takes: a low-voltage small or micro user (measure 6: at most
8 working days) or a 10 kV user (30 working days on average). Those shares are therefore
scenario knobs, not constants.

The numbers an agency hands out when it accepts an application (its work order) are drawn here
too, so every identifier format the flow uses is written in one place.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from functools import partial
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted, digits
from producers.ids import event_id
from producers.lazy import LazyRecord, case_stream

TOPIC = "gov-services.utility-connection-applied.v1"

UTILITIES = ("water", "power", "gas")

_WORK_ORDER_PREFIX = {"water": "SW", "power": "DL", "gas": "RQ"}
"""Work-order prefixes as this simulator writes them: 水务, 电力, 燃气 in pinyin initials."""

_ACCOUNT = {
    "water": identifiers.water_account,
    "power": identifiers.power_account,
    "gas": identifiers.gas_account,
}

# Who applies, and for what kind of premises. Yuzhong is the city's old commercial core: most
# connections are for offices, shops and restaurants moving into existing buildings.
_COMPANY_SITE_USES = (("OFFICE", 0.45), ("RETAIL", 0.28), ("CATERING", 0.27))
_PERSON_SITE_USES = (("RESIDENTIAL", 0.6), ("RETAIL", 0.2), ("CATERING", 0.2))

_LV_SINGLE_PHASE_KVA = (4, 6, 8, 10, 12)
_TRANSFORMER_KVA = (315, 400, 500, 630, 800, 1000, 1250, 1600, 2000)
_TRANSFORMER_WEIGHTS = (0.12, 0.16, 0.14, 0.18, 0.12, 0.12, 0.07, 0.06, 0.03)
_RESIDENTIAL_PIPES_MM = ((20, 0.85), (25, 0.15))
_NON_RESIDENTIAL_PIPES_MM = ((25, 0.3), (32, 0.25), (40, 0.2), (50, 0.15), (80, 0.07), (100, 0.03))
_COMPANY_SITE_USE = Weighted([u for u, _ in _COMPANY_SITE_USES], [w for _, w in _COMPANY_SITE_USES])
_PERSON_SITE_USE = Weighted([u for u, _ in _PERSON_SITE_USES], [w for _, w in _PERSON_SITE_USES])
_TRANSFORMER = Weighted(_TRANSFORMER_KVA, _TRANSFORMER_WEIGHTS)
_RESIDENTIAL_PIPE = Weighted(
    [d for d, _ in _RESIDENTIAL_PIPES_MM], [w for _, w in _RESIDENTIAL_PIPES_MM]
)
_NON_RESIDENTIAL_PIPE = Weighted(
    [d for d, _ in _NON_RESIDENTIAL_PIPES_MM], [w for _, w in _NON_RESIDENTIAL_PIPES_MM]
)


@dataclass(frozen=True)
class UtilityConnectionMix:
    """Shares of applications by what they ask for and who asks."""

    power_probability: float = 0.85
    """Share of applications that ask for a power connection."""
    water_probability: float = 0.3
    """Share that ask for a water connection (new premises, change of use, larger pipe)."""
    catering_gas_probability: float = 0.85
    """Share of restaurants that ask for gas: Yuzhong's kitchens cook on gas."""
    gas_probability: float = 0.08
    """Share of other premises (homes, shops, offices) that ask for gas."""
    kv10_probability: float = 0.06
    """Among power applications, the share at 10 kV; the rest are low-voltage small or micro."""
    excavation_probability: float = 0.3
    """Among low-voltage power applications, the share whose line needs digging or green space
    (开挖占绿), which needs a filing with the urban-management office."""
    company_probability: float = 0.85
    """Share of applicants that are companies; the rest are persons (households, 个体户)."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")


class UtilityConnectionGenerator:
    """Draws `UtilityConnectionApplied` values; all randomness comes from the given `rng` (who
    applies, where, and how much, from a stream each case seeds)."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: UtilityConnectionMix | None = None) -> None:
        self._rng = rng
        self._seed = rng.getrandbits(32)
        self.mix = mix if mix is not None else UtilityConnectionMix()
        self._serial = 0

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One application made on `on`, valid for f04/UtilityConnectionApplied.avsc."""
        return dict(self.lazy(case_id, on))

    def lazy(self, case_id: str, on: dt.date) -> LazyRecord:
        """The same application, drawn only as far as it is read: which utilities act depends
        only on what it asks for, and power's path only on the voltage and on whether the line
        is dug, not on who applies, where, or for how much (`lazy.py`). The premises' use is
        drawn here too, as what is asked for and the voltage depend on it.

        Every application asks for at least one utility: when the draw names none, it asks for
        power, the most common request.
        """
        rng = self._rng
        mix = self.mix
        self._serial += 1
        company = rng.random() < mix.company_probability
        use = (_COMPANY_SITE_USE if company else _PERSON_SITE_USE).pick(rng)
        gas_share = mix.catering_gas_probability if use == "CATERING" else mix.gas_probability
        water = rng.random() < mix.water_probability
        power = rng.random() < mix.power_probability
        gas = rng.random() < gas_share
        path = self._power_path(use) if power or not (water or gas) else None
        asked: dict[str, dict[str, Any]] = {
            u: {} for u, wanted in (("water", water), ("gas", gas)) if wanted
        }
        if path is not None:
            asked["power"] = path  # known at once: it routes the power steps
        return LazyRecord(
            {"case_id": case_id, "applied_on": on, "water": None, "power": None, "gas": None},
            partial(self._application, case_id, on, self._serial, company, use, water, path, gas),
            records=asked,
        )

    def _application(
        self,
        case_id: str,
        on: dt.date,
        serial: int,
        company: bool,
        use: str,
        water: bool,
        path: dict[str, Any] | None,
        gas: bool,
    ) -> dict[str, Any]:
        """Who applies, for which premises, and how much of each utility, from the case's own
        stream."""
        rng = case_stream(self._seed, case_id)
        return {
            "event_id": event_id(rng),
            "application_no": application_no(on, serial),
            "applicant": _company(rng) if company else _person(rng),
            "site": _site(rng, use, on),
            "water": _water(rng, use) if water else None,
            "power": None if path is None else _power(rng, path),
            "gas": _gas(rng, use) if gas else None,
        }

    def _power_path(self, use: str) -> dict[str, Any]:
        """What routes a power application: its voltage, and whether its line is dug."""
        rng = self._rng
        if rng.random() < self.mix.kv10_probability:
            # A 10 kV cable is always laid in a trench; its road permit is part of the external
            # works, the plan's two-day filing concerns low-voltage users only.
            return {"voltage": "KV10", "needs_excavation": True}
        voltage = "V220" if use == "RESIDENTIAL" or rng.random() < 0.2 else "V380"
        return {
            "voltage": voltage,
            "needs_excavation": rng.random() < self.mix.excavation_probability,
        }


def _company(rng: random.Random) -> dict[str, Any]:
    return {
        "kind": "COMPANY",
        "name": names.company_name(rng),
        "id_kind": "USCC",
        "id_number": identifiers.uscc(rng),
        "contact_name": names.person_name(rng),
        "contact_phone": identifiers.mobile_phone(rng),
    }


def _person(rng: random.Random) -> dict[str, Any]:
    name = names.person_name(rng)
    return {
        "kind": "PERSON",
        "name": name,
        "id_kind": "RESIDENT_ID",
        "id_number": identifiers.resident_id(rng),
        "contact_name": name,
        "contact_phone": identifiers.mobile_phone(rng),
    }


def _site(rng: random.Random, use: str, on: dt.date) -> dict[str, Any]:
    address = names.yuzhong_address(rng)
    # A home's median is about 85 m²; other premises' about 120 m², with a long tail of floors.
    mu, sigma = (4.45, 0.3) if use == "RESIDENTIAL" else (4.8, 0.8)
    area = rng.lognormvariate(mu, sigma)
    # The register's certificate is shared through the platform when the premises have one on
    # record (M8: fewer documents to hand in); some leased premises do not.
    certificate = None
    if rng.random() < 0.9:
        certificate = identifiers.real_estate_certificate_no(rng, rng.randint(2010, on.year))
    return {
        "address": address.text,
        "sub_district": address.sub_district,
        "use": use,
        "floor_area_m2": round(min(max(area, 12.0), 8000.0), 2),
        "property_certificate_no": certificate,
    }


def _water(rng: random.Random, use: str) -> dict[str, Any]:
    if use == "RESIDENTIAL":
        pipes, water_use = _RESIDENTIAL_PIPE, "RESIDENTIAL"
        volume = rng.lognormvariate(2.7, 0.4)  # median about 15 m³ a month
    else:
        pipes = _NON_RESIDENTIAL_PIPE
        # Car washes, bath houses and the like are priced as special use (特种行业用水).
        water_use = "SPECIAL" if rng.random() < 0.03 else "NON_RESIDENTIAL"
        volume = rng.lognormvariate(4.1, 0.9)  # median about 60 m³ a month
    diameter = pipes.pick(rng)
    return {
        "water_use": water_use,
        "pipe_diameter_mm": diameter,
        "monthly_volume_m3": max(1, round(volume)),
    }


def _power(rng: random.Random, path: dict[str, Any]) -> dict[str, Any]:
    """A power application on its `path` (`_power_path`), with the capacity it asks for."""
    voltage = path["voltage"]
    if voltage == "KV10":
        capacity = _TRANSFORMER.pick(rng)
    elif voltage == "V220":
        capacity = rng.choice(_LV_SINGLE_PHASE_KVA)
    else:
        # Three-phase small and micro users, up to the 160 kVA low-voltage ceiling.
        capacity = round(min(max(rng.lognormvariate(3.7, 0.6), 15.0), 160.0))
    return {
        "voltage": voltage,
        "capacity_kva": capacity,
        "needs_excavation": path["needs_excavation"],
    }


def _gas(rng: random.Random, use: str) -> dict[str, Any]:
    if use == "RESIDENTIAL":
        return {"gas_use": "RESIDENTIAL", "peak_flow_m3h": round(rng.uniform(1.2, 2.5), 1)}
    # A hot-pot kitchen's burners draw about 15 m³/h; a canteen's or a shop's far less.
    mu, sigma = (2.7, 0.6) if use == "CATERING" else (1.4, 0.5)
    flow = rng.lognormvariate(mu, sigma)
    return {"gas_use": "COMMERCIAL", "peak_flow_m3h": round(min(max(flow, 2.5), 150.0), 1)}


def application_no(on: dt.date, serial: int) -> str:
    """The platform's application number as this simulator writes it: YKB, date, serial."""
    return f"YKB{on:%Y%m%d}{serial:06d}"


def work_order_no(rng: random.Random, utility: str) -> str:
    """A utility's connection work-order number: its prefix, the district, eight digits."""
    return f"{_WORK_ORDER_PREFIX[utility]}{identifiers.YUZHONG_DIVISION}{digits(rng, 8)}"


def customer_account(rng: random.Random, utility: str) -> str:
    """The customer number a utility opens when it accepts an application."""
    return _ACCOUNT[utility](rng)
