"""The procurement platform (finance-bureau): award notices that start flow F17 (M12–M16).

An award notice (中标/成交通知书) opens a contract's life cycle: signing, delivery, acceptance,
invoice and payment, each with its own deadline in the plan. The notice already fixes what the
later stages depend on: the award amount, whether the winning supplier is a small or medium
firm (中小企业, which M15's prepayment floor and M16's set-asides turn on) and the prepayment
share the procurement documents offer. How often that share falls short of the plan's floor is
a scenario knob, so a study can count the breaches the plan wants to end.

The numbers the life cycle hands out later (contract, acceptance report, invoice) are drawn
here too, so every identifier format the flow uses is written in one place.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from functools import partial
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted, digits
from producers.ids import event_id
from producers.lazy import LazyRecord, case_stream

TOPIC = "finance-bureau.award-notice-published.v1"

GOVERNMENT_BODY = "1"
"""Registration department code of the staffing authority (机构编制), which registers organs."""
ORGAN = "1"
"""Entity type code of a government organ (机关) under that department."""

SME_PREPAYMENT_FLOOR = 50
OTHER_PREPAYMENT_FLOOR = 30
"""Measure 15: "预付款支付比例不低于30%（中小企业不低于50%）", in percent of the contract."""

CATEGORIES = ("GOODS", "SERVICES", "WORKS")
METHODS = (
    ("PUBLIC_TENDER", 0.3),
    ("COMPETITIVE_CONSULTATION", 0.25),
    ("COMPETITIVE_NEGOTIATION", 0.1),
    ("INQUIRY", 0.25),
    ("SINGLE_SOURCE", 0.1),
)
_METHOD = Weighted([m for m, _ in METHODS], [w for _, w in METHODS])

# District budget units that buy (采购人): departments and the twelve sub-district offices.
_DEPARTMENTS = (
    "重庆市渝中区教育委员会",
    "重庆市渝中区卫生健康委员会",
    "重庆市渝中区城市管理局",
    "重庆市渝中区住房和城乡建设委员会",
    "重庆市渝中区民政局",
    "重庆市渝中区文化和旅游发展委员会",
    "重庆市渝中区人力资源和社会保障局",
    "重庆市渝中区市场监督管理局",
    "重庆市渝中区生态环境局",
    "重庆市渝中区政务服务管理办公室",
    "重庆市渝中区财政局",
    "重庆市渝中区应急管理局",
)
PURCHASING_DEPARTMENTS = _DEPARTMENTS
"""The district departments that buy, for the procurement's other sources (F21's guarantees)."""

# What each category buys, and its award amount in yuan: median and spread of a lognormal.
_SUBJECTS = {
    "GOODS": (
        "办公设备采购",
        "信息化设备采购",
        "会议室设备采购",
        "安防监控设备采购",
        "办公家具采购",
    ),
    "SERVICES": ("物业管理服务", "法律顾问服务", "审计服务", "保洁服务", "信息系统运维服务"),
    "WORKS": ("道路修缮工程", "老旧小区改造工程", "办公用房维修工程", "排水管网改造工程"),
}
_AMOUNT_YUAN = {"GOODS": (150_000, 0.9), "SERVICES": (300_000, 0.9), "WORKS": (800_000, 1.0)}

_SUPPLIER_DIVISIONS = (
    ("500103", 0.4),  # Yuzhong
    ("500105", 0.12),  # Jiangbei
    ("500106", 0.1),  # Shapingba
    ("500107", 0.1),  # Jiulongpo
    ("500108", 0.1),  # Nan'an
    ("500112", 0.18),  # Yubei
)
_SUPPLIER_DIVISION = Weighted(
    [d for d, _ in _SUPPLIER_DIVISIONS], [w for _, w in _SUPPLIER_DIVISIONS]
)
# Prepayment shares in percent offered to SMEs (True) and to other suppliers: short of M15's
# floor, or meeting it.
_SHORT_OF_FLOOR = {True: (0, 10, 20, 30, 40), False: (0, 10, 20)}
_AT_OR_ABOVE_FLOOR = {
    True: ((50, 0.7), (60, 0.2), (70, 0.1)),
    False: ((30, 0.6), (40, 0.2), (50, 0.2)),
}
_AT_OR_ABOVE_FLOOR_PICK = {
    sme: Weighted([p for p, _ in shares], [w for _, w in shares])
    for sme, shares in _AT_OR_ABOVE_FLOOR.items()
}


@dataclass(frozen=True)
class ProcurementMix:
    """Shares of award notices by what is bought, who wins and what prepayment is offered."""

    category_weights: tuple[float, ...] = (0.5, 0.35, 0.15)
    """Relative weights of goods, services and works."""
    sme_probability: float = 0.75
    """Share of awards won by small and medium firms (中小企业)."""
    prepayment_compliance: float = 0.85
    """Share of contracts whose prepayment share meets the plan's floor for their supplier."""
    waived_probability: float = 0.05
    """Share of suppliers that decline prepayment in writing (the floor then does not apply)."""

    def __post_init__(self) -> None:
        weights = self.category_weights
        if len(weights) != len(CATEGORIES) or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(
                f"category_weights must be three non-negative weights (goods, services, works), "
                f"not all 0: {weights}"
            )
        for name in ("sme_probability", "prepayment_compliance", "waived_probability"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")


class AwardNoticeGenerator:
    """Draws `AwardNoticePublished` values; all randomness comes from the given `rng` (a
    notice's project, purchaser and supplier from a stream its case seeds)."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: ProcurementMix | None = None) -> None:
        self._rng = rng
        self._seed = rng.getrandbits(32)
        self.mix = mix if mix is not None else ProcurementMix()
        self._category = Weighted(CATEGORIES, self.mix.category_weights)
        self._serial = 0
        # A budget unit keeps its code across its contracts, so draw each unit's once.
        units = (
            *_DEPARTMENTS,
            *(f"重庆市渝中区人民政府{sub}办事处" for sub in names.SUB_DISTRICT_ROADS),
        )
        self._purchasers = tuple({"name": n, "uscc": government_uscc(rng)} for n in units)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One award notice published on `on`, valid for f17/AwardNoticePublished.avsc."""
        return dict(self.lazy(case_id, on))

    def lazy(self, case_id: str, on: dt.date) -> LazyRecord:
        """The same notice, drawn only as far as it is read: whether the case has a
        prepayment to pay, and whether that meets measure 15's floor, depend only on the
        prepayment offered and on whether the supplier is a small or medium firm, not on who
        buys what from whom for how much (`lazy.py`)."""
        self._serial += 1
        sme = self._rng.random() < self.mix.sme_probability
        prepayment = self._prepayment(sme)
        return LazyRecord(
            {"case_id": case_id, "notice_published_on": on, "prepayment": prepayment},
            partial(self._notice, case_id, on, self._serial, sme),
            records={"supplier": {"sme": sme}},
        )

    def _notice(self, case_id: str, on: dt.date, serial: int, sme: bool) -> dict[str, Any]:
        """What is bought, by whom, from whom and for how much, from the case's own stream.
        The project number counts the notices in the order they were made, drawn or not."""
        rng = case_stream(self._seed, case_id)
        category = self._category.pick(rng)
        purchaser = rng.choice(self._purchasers)
        median, sigma = _AMOUNT_YUAN[category]
        yuan = min(max(rng.lognormvariate(math.log(median), sigma), 5_000.0), 50_000_000.0)
        return {
            "event_id": event_id(rng),
            "project_no": project_no(on.year, serial),
            "project_name": f"{purchaser['name']}{rng.choice(_SUBJECTS[category])}项目",
            "category": category,
            "procurement_method": _METHOD.pick(rng),
            "purchaser": dict(purchaser),
            "supplier": _supplier(rng, sme),
            "award_amount_fen": round(yuan * 100),
        }

    def _prepayment(self, sme: bool) -> dict[str, Any]:
        """The prepayment the procurement documents offer: a routing fact (`lazy`), so from
        the generator's own stream."""
        rng = self._rng
        if rng.random() < self.mix.waived_probability:
            return {"percent": 0, "waived": True}
        if rng.random() < self.mix.prepayment_compliance:
            percent = _AT_OR_ABOVE_FLOOR_PICK[sme].pick(rng)
        else:
            percent = rng.choice(_SHORT_OF_FLOOR[sme])
        return {"percent": percent, "waived": False}


def _supplier(rng: random.Random, sme: bool) -> dict[str, Any]:
    """The winning supplier as the treasury pays it: a firm near Yuzhong, with the account
    the payments go to. `sme` is drawn apart, with the routing facts (`lazy`)."""
    division = _SUPPLIER_DIVISION.pick(rng)
    bank = identifiers.pick_bank(rng)
    return {
        "name": names.company_name(rng),
        "uscc": identifiers.uscc(rng, division),
        "sme": sme,
        "bank_name": bank.name,
        "bank_code": bank.code,
        "account_number": identifiers.bank_account_number(rng, bank),
    }


def prepayment_floor(sme: bool) -> int:
    """The least prepayment, in percent of the contract, measure 15 asks for."""
    return SME_PREPAYMENT_FLOOR if sme else OTHER_PREPAYMENT_FLOOR


def government_uscc(rng: random.Random, division: str = identifiers.YUZHONG_DIVISION) -> str:
    """A unified social credit code of a government organ: department 1, type 1, the division,
    an eight-digit organisation code body with its GB 11714 check, then the GB 32100 check."""
    body = digits(rng, 8)
    first17 = GOVERNMENT_BODY + ORGAN + division + body + identifiers.org_code_check_char(body)
    return first17 + identifiers.uscc_check_char(first17)


def project_no(year: int, serial: int) -> str:
    """A procurement project number as this simulator writes it: CQYZ, year, serial."""
    return f"CQYZ-{year}-{serial:05d}"


def contract_no(project: str) -> str:
    """The contract signed on a project: one award, one contract."""
    return f"{project}-HT01"


def acceptance_no(contract: str) -> str:
    """The acceptance report (验收报告) on a contract."""
    return f"{contract}-YS01"


def invoice(rng: random.Random) -> dict[str, str]:
    """A VAT invoice's code and number: 12 digits (opening with Chongqing's 05000) and 8."""
    code = "05000" + digits(rng, 7)
    return {"invoice_code": code, "invoice_no": digits(rng, 8)}
