"""The district's online enterprise-service platform (gov-services): policies pushed to the
enterprises they concern, and enterprises' requests (flow F18, M48).

The platform keeps a directory of the enterprises registered on it, each with what policies
are matched on: its industry (GB/T 4754 section), its size (大中小微, 工信部联企业〔2011〕300号)
and its sub-district. The directory is drawn once per run, so every policy and request of a run
concerns the same enterprises. A trigger is one of two events: a policy published, carrying
its matching rule and the directory it is matched against, or an enterprise's request, naming
the department responsible for it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted, digits
from producers.ids import event_id

TOPIC = "gov-services.enterprise-service-event.v1"

POLICY = "POLICY_PUBLISHED"
REQUEST = "REQUEST_SUBMITTED"

INDUSTRIES: Mapping[str, str] = {
    "F": "retail",
    "J": "finance",
    "I": "software",
    "L": "business-services",
    "H": "hospitality",
    "K": "real-estate",
    "M": "research",
    "R": "culture",
    "E": "construction",
    "Q": "health",
}
"""GB/T 4754-2017 sections of Yuzhong's enterprises, with a short name for reports."""
INDUSTRY_WEIGHTS = (0.26, 0.08, 0.10, 0.20, 0.10, 0.06, 0.07, 0.05, 0.04, 0.04)
"""A business district of trade, finance and services (author's estimate)."""
SIZES = ("MICRO", "SMALL", "MEDIUM", "LARGE")
SIZE_WEIGHTS = (0.80, 0.15, 0.04, 0.01)
SUB_DISTRICTS: tuple[str, ...] = tuple(names.SUB_DISTRICT_ROADS)

DEPARTMENTS = ("industry-department", "amr", "tax", "hrss")
"""Who answers an enterprise's request: the industry departments (各产业部门: policy benefits
and industrial support), the market regulator (licences), tax, and human resources (hiring and
employment subsidies)."""

SUBJECTS: Mapping[str, tuple[str, ...]] = {
    "industry-department": ("政策兑现", "产业扶持资金", "项目申报", "楼宇招商"),
    "amr": ("经营许可", "变更登记", "知识产权"),
    "tax": ("税收优惠", "发票", "留抵退税"),
    "hrss": ("稳岗补贴", "招聘用工", "社保缴费"),
}


@dataclass(frozen=True)
class EnterpriseServiceMix:
    """How big the platform's directory is, how often a policy is published among the
    requests, and which departments the requests go to."""

    enterprises: int = 400
    """Enterprises registered on the platform that policies are matched against (a sample of
    the district's some 60,000 market entities: the study's scale, not the district's)."""
    policy_share: float = 0.05
    """Share of the platform's events that are policies published; the rest are requests."""
    department_weights: tuple[float, ...] = (0.40, 0.20, 0.25, 0.15)
    """Relative weights of requests to the industry departments, amr, tax and hrss."""

    def __post_init__(self) -> None:
        if not 1 <= self.enterprises <= 20_000:
            raise ValueError(f"enterprises must be from 1 to 20000, got {self.enterprises}")
        if not 0.0 <= self.policy_share <= 1.0:
            raise ValueError(f"policy_share must be within [0, 1], got {self.policy_share}")
        weights = self.department_weights
        if len(weights) != len(DEPARTMENTS) or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(
                "department_weights must be four non-negative weights (industry departments, "
                f"amr, tax, hrss), not all 0: {weights}"
            )


def matches(rule: Mapping[str, Sequence[str]], enterprise: Mapping[str, Any]) -> bool:
    """Whether a policy's rule picks the enterprise: an empty list in the rule allows any."""
    return all(
        not rule[key] or enterprise[field] in rule[key]
        for key, field in (
            ("industries", "industry"),
            ("sizes", "size"),
            ("sub_districts", "sub_district"),
        )
    )


class EnterpriseServiceGenerator:
    """Draws `EnterpriseServiceEvent` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: EnterpriseServiceMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else EnterpriseServiceMix()
        self._industry = Weighted(tuple(INDUSTRIES), INDUSTRY_WEIGHTS)
        self._size = Weighted(SIZES, SIZE_WEIGHTS)
        self._department = Weighted(DEPARTMENTS, self.mix.department_weights)
        self.directory = tuple(self._enterprise() for _ in range(self.mix.enterprises))
        self._serial = 0

    def _enterprise(self) -> dict[str, Any]:
        rng = self._rng
        return {
            "uscc": identifiers.uscc(rng),
            "name": names.company_name(rng),
            "industry": self._industry.pick(rng),
            "size": self._size.pick(rng),
            "sub_district": rng.choice(SUB_DISTRICTS),
            "contact_name": names.person_name(rng),
            "contact_phone": identifiers.mobile_phone(rng),
        }

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One event of the platform on `on`, valid for f18/EnterpriseServiceEvent.avsc."""
        rng = self._rng
        self._serial += 1
        policy = rng.random() < self.mix.policy_share
        return {
            "event_id": event_id(rng),
            "case_id": case_id,
            "kind": POLICY if policy else REQUEST,
            "occurred_on": on,
            "policy": self._policy(on) if policy else None,
            "directory": [dict(e) for e in self.directory] if policy else None,
            "request": None if policy else self._request(on),
        }

    def _policy(self, on: dt.date) -> dict[str, Any]:
        """A policy and its rule: most concern one to three industries, many only small firms,
        a few one sub-district; some are for every enterprise (普惠)."""
        rng = self._rng
        industries: list[str] = []
        if rng.random() < 0.75:
            industries = sorted(rng.sample(tuple(INDUSTRIES), rng.randint(1, 3)))
        sizes = ["MICRO", "SMALL"] if rng.random() < 0.4 else []
        sub_districts = [rng.choice(SUB_DISTRICTS)] if rng.random() < 0.15 else []
        return {
            "policy_no": f"YZZC-{on.year}-{self._serial:05d}",
            "title": rng.choice(("关于支持", "关于促进", "关于加快"))
            + rng.choice(
                ("楼宇经济发展", "中小微企业纾困", "数字经济发展", "金融业集聚", "消费升级")
            )
            + "的若干政策措施",
            "issuing_department": rng.choice(
                ("区发展改革委", "区商务委", "区科技局", "区金融办", "区财政局")
            ),
            "rule": {"industries": industries, "sizes": sizes, "sub_districts": sub_districts},
        }

    def _request(self, on: dt.date) -> dict[str, Any]:
        rng = self._rng
        enterprise = rng.choice(self.directory)
        department = self._department.pick(rng)
        return {
            "request_no": f"QYSQ{on:%Y%m%d}{digits(rng, 6)}",
            "enterprise": {
                key: enterprise[key] for key in ("uscc", "name", "contact_name", "contact_phone")
            },
            "department": department,
            "subject": rng.choice(SUBJECTS[department]),
        }
