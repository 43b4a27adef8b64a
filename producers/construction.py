"""Housing and urban-rural construction (construction): a project's survey result (测绘成果)
filed on the project approval system at completion, which starts flow F08 (M25).

One joint survey at completion (多测合一) serves every approval that needs it: the planning
check and first registration at the real-estate register, the joint completion acceptance at
construction, and the investment project's record at drc. The developer files it with the
application for the completion acceptance; a document may be missing (容缺), and a developer of
good credit may have the acceptance reviewed before it arrives (容缺后补, 依托信用体系). The
shares are scenario knobs; the trusted share at 0 is the approval without 容缺.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted
from producers.ids import event_id

TOPIC = "construction.survey-result-filed.v1"

SURVEY_KINDS = ("JOINT_COMPLETION", "PLANNING_CHECK", "BUILDING_AREA")
"""竣工联合测绘, 规划核实测量, 房产面积测绘."""
_SURVEY_KIND = Weighted(SURVEY_KINDS, (0.6, 0.25, 0.15))
LATE_DOCUMENTS = ("工程质量保修书", "城建档案验收意见", "住宅使用说明书", "施工合同备案表")
"""Documents of a completion acceptance that may follow the application (容缺后补)."""
_DOCUMENTS = ("竣工验收申请表", "竣工验收报告", "质量监督报告", *LATE_DOCUMENTS)
_USE = Weighted(("住宅", "商业", "办公", "住宅及商业"), (0.4, 0.25, 0.15, 0.2))
_INDUSTRY = {"住宅": "70", "商业": "72", "办公": "72", "住宅及商业": "70"}
"""The investment project code's industry (GB/T 4754: 70 real estate, 72 business services)."""


@dataclass(frozen=True)
class SurveyMix:
    missing_document_probability: float = 0.3
    """Share of applications filed with a document still to come. Author's estimate."""
    trusted_probability: float = 0.8
    """Share of developers whose credit allows 容缺后补 (grade A or B). Author's estimate; 0
    is the approval without 容缺."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")


def project_code(rng: random.Random, year: int, industry: str) -> str:
    """The investment project code (投资项目统一代码): year, division, industry, type, serial."""
    return f"{year}-{identifiers.YUZHONG_DIVISION}-{industry}-03-{rng.randrange(10**6):06d}"


def _project_name(rng: random.Random, use: str) -> str:
    """A project named by its road and plot, as Yuzhong's projects are (解放碑某路地块住宅项目)."""
    address = names.yuzhong_address(rng)
    return f"{address.road}{address.number}号地块{use}项目"


class SurveyResultGenerator:
    """Draws `SurveyResultFiled` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: SurveyMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else SurveyMix()

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One survey result filed on `on`, valid for f08/SurveyResultFiled.avsc."""
        rng = self._rng
        use = _USE.pick(rng)
        trusted = rng.random() < self.mix.trusted_probability
        missing = (
            [rng.choice(LATE_DOCUMENTS)]
            if rng.random() < self.mix.missing_document_probability
            else []
        )
        return {
            "event_id": event_id(rng),
            "case_id": case_id,
            "filed_on": on,
            "project": {
                "code": project_code(rng, on.year - rng.randint(1, 3), _INDUSTRY[use]),
                "name": _project_name(rng, use),
                "use": use,
                "floor_area_m2": round(rng.lognormvariate(9.5, 0.8), 1),
            },
            "developer": {
                "uscc": identifiers.uscc(rng),
                "company_name": names.company_name(rng),
                "credit_grade": rng.choice("AB") if trusted else "C",
                "contact_name": names.person_name(rng),
                "contact_phone": identifiers.mobile_phone(rng),
            },
            "survey": {
                "result_number": f"CH{on:%Y%m%d}{rng.randrange(10**5):05d}",
                "kind": _SURVEY_KIND.pick(rng),
                "surveyor_uscc": identifiers.uscc(rng),
                "surveyor_name": names.company_name(rng),
                "completed_on": on - dt.timedelta(days=rng.randint(1, 20)),
            },
            "documents_received": [d for d in _DOCUMENTS if d not in missing],
            "documents_pending": missing,
        }
