"""The company register (amr): a company's business-scope entry that needs an operating
licence, told to the company and to the licensing department at once (证照分离, F20, M4).

Under 证照分离 the register records the company (its establishment, or a change of its business
scope) and tells both sides which licensing matter the new scope needs (双告知, 一单告知): the
company what it must still do, the department the company's data, so the department does not
ask for it again. Each matter is reformed one of four ways, and the way decides what is left to
do. This model has one matter for each way, each handled by its own department:

- ABOLISHED (直接取消审批): small-vehicle road freight (道路货物运输经营许可, vehicles of 4.5 t
  or less, abolished by the 2019 amendment of 道路运输条例); the transport bureau only takes
  the company into its supervision.
- FILING (审批改为备案): selling only prepackaged food (仅销售预包装食品, a filing since the
  2021 amendment of 食品安全法, art. 35); amr's food-safety desk records the filing.
- COMMITMENT (实行告知承诺): the hygiene permit of a public place (公共场所卫生许可: hotels,
  hairdressers and beauty salons, baths); the health commission issues it on the company's
  signed commitment and checks later.
- OPTIMISED (优化审批服务): the labour-dispatch permit (劳务派遣经营许可), still reviewed by
  hrss, with fewer materials and shorter limits; the law asks at least 2 million yuan of
  registered capital (劳动合同法 art. 57).

The mix of the four ways among the matters companies need is the scenario knob `way_weights`;
its default is the author's estimate for a district of shops, hotels and offices.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted
from producers.ids import event_id

TOPIC = "amr.licensing-matter-notified.v1"

WAYS = ("ABOLISHED", "FILING", "COMMITMENT", "OPTIMISED")

MATTERS: dict[str, tuple[str, str, str]] = {
    "ABOLISHED": (
        "ROAD_FREIGHT_SMALL_VEHICLES",
        "transport",
        "道路货物运输（不含危险货物，使用总质量4.5吨及以下普通货运车辆）",
    ),
    "FILING": ("PREPACKAGED_FOOD_SALES", "amr", "食品销售（仅销售预包装食品）"),
    "COMMITMENT": ("PUBLIC_PLACE_HYGIENE", "health", "公共场所经营"),
    "OPTIMISED": ("LABOUR_DISPATCH", "hrss", "劳务派遣服务"),
}
"""Each way's matter, the department that handles it, and the business-scope entry that
needs it (经营范围规范表述)."""

PUBLIC_PLACES = ("HOTEL", "HAIRDRESSING_BEAUTY", "BATHING")
_PUBLIC_PLACE = Weighted(PUBLIC_PLACES, (0.35, 0.5, 0.15))
_PLACE_SCOPE = {"HOTEL": "住宿服务", "HAIRDRESSING_BEAUTY": "生活美容服务", "BATHING": "洗浴服务"}
_CAPITAL = Weighted((100_000, 500_000, 1_000_000, 3_000_000, 5_000_000), (3, 3, 3, 1, 1))
_DISPATCH_CAPITAL = Weighted((2_000_000, 3_000_000, 5_000_000, 10_000_000), (5, 2, 2, 1))
_AREA = {
    "FILING": (10, 120),
    "HOTEL": (200, 3000),
    "HAIRDRESSING_BEAUTY": (30, 300),
    "BATHING": (150, 1500),
    "OPTIMISED": (50, 400),
}
"""Premises' floor area in square metres by kind: a convenience shop, a hotel, a salon, a
bath house, a dispatch agency's office. Author's estimates."""


@dataclass(frozen=True)
class LicensingMix:
    """How the licensing matters companies need divide among the four ways of the reform."""

    way_weights: tuple[float, ...] = (0.2, 0.4, 0.3, 0.1)
    """Relative weights of ABOLISHED, FILING, COMMITMENT, OPTIMISED. Author's estimate."""

    def __post_init__(self) -> None:
        weights = self.way_weights
        if len(weights) != len(WAYS):
            raise ValueError(f"way_weights needs one weight for each of {', '.join(WAYS)}")
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"way_weights must be non-negative, not all 0: {weights}")


class LicensingMatterGenerator:
    """Draws `LicensingMatterNotified` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: LicensingMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else LicensingMix()
        self._way = Weighted(WAYS, self.mix.way_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One company registered (or its scope changed) on `on` with a scope entry needing a
        licensing matter, valid for f20/LicensingMatterNotified.avsc."""
        rng = self._rng
        way = self._way.pick(rng)
        matter, department, scope = MATTERS[way]
        born_from, born_until = identifiers.born_between(on, 22, 65)
        premises = self._premises(way)
        if premises is not None and way == "COMMITMENT":
            scope = f"{scope}（{_PLACE_SCOPE[premises['kind']]}）"
        capital = (_DISPATCH_CAPITAL if way == "OPTIMISED" else _CAPITAL).pick(rng)
        return {
            "event_id": event_id(rng),
            "case_id": case_id,
            "uscc": identifiers.uscc(rng),
            "company_name": names.company_name(rng),
            "registered_on": on,
            "registered_address": names.yuzhong_address(rng).text,
            "registered_capital_yuan": capital,
            "legal_representative": {
                "name": names.person_name(rng),
                "id_number": identifiers.resident_id(
                    rng, born_from=born_from, born_until=born_until
                ),
                "phone": identifiers.mobile_phone(rng),
            },
            "business_scope_item": scope,
            "matter": matter,
            "way": way,
            "department": department,
            "premises": premises,
            "vehicle_count": rng.choice((1, 1, 1, 2, 2, 3, 5)) if way == "ABOLISHED" else None,
        }

    def _premises(self, way: str) -> dict[str, Any] | None:
        """Where the company operates: a shop, a public place or an office; none for freight."""
        rng = self._rng
        if way == "ABOLISHED":
            return None
        kind = {"FILING": "SHOP", "OPTIMISED": "OFFICE"}.get(way) or _PUBLIC_PLACE.pick(rng)
        low, high = _AREA[way if way != "COMMITMENT" else kind]
        return {
            "address": names.yuzhong_address(rng).text,
            "kind": kind,
            "area_m2": rng.randint(low, high),
        }
