"""The procurement platform (finance-bureau): a bidder's request for an electronic guarantee
(电子保函), which starts flow F21 (M18).

A bidder asks, through the platform's guarantee service, a bank or an insurer for the
guarantee a procurement asks of it: for its bid (投标担保), against the risk of an abnormally
low price (低价风险担保), for the contract's performance (履约担保) or for the purchaser's
payment (支付担保). The issuer it chooses is its own: a bank issues a letter of guarantee
(银行保函), an insurer a guarantee-insurance policy (保证保险保单). Which share goes to
insurers is a scenario knob. A bid guarantee must be verified before the bid closes; the
request carries how long before the close the bidder asked.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted, digits
from producers.finance_bureau import PURCHASING_DEPARTMENTS, government_uscc, project_no
from producers.ids import event_id

TOPIC = "finance-bureau.e-guarantee-requested.v1"

BANK = "BANK"
INSURER = "INSURER"

KINDS = ("BID", "LOW_PRICE_RISK", "PERFORMANCE", "PAYMENT")
"""The guarantees measure 18 names: 投标担保、低价风险担保、履约担保、支付担保."""

BID_SHARE = 0.02
"""招标投标法实施条例 art. 26: a bid guarantee is at most 2 % of the project's estimate."""
PERFORMANCE_SHARE = 0.10
"""招标投标法实施条例 art. 58: a performance guarantee is at most 10 % of the contract."""

INSURERS: tuple[tuple[str, str, float], ...] = (
    ("中国人民财产保险股份有限公司", "PICC", 0.30),
    ("中国平安财产保险股份有限公司", "PINGAN", 0.22),
    ("中国太平洋财产保险股份有限公司", "CPIC", 0.18),
    ("中华联合财产保险股份有限公司", "CIC", 0.12),
    ("阳光财产保险股份有限公司", "SUNSHINE", 0.10),
    ("安诚财产保险股份有限公司", "ANCHENG", 0.08),
)
"""Property insurers writing guarantee insurance in Chongqing, with relative shares of the
district's bids (author's estimate); the code is the insurer's short name."""
_INSURER = Weighted(list(INSURERS), [weight for _, _, weight in INSURERS])

_SUBJECTS = ("道路修缮工程", "老旧小区改造工程", "信息化设备采购", "物业管理服务", "办公设备采购")
_PROJECT_ESTIMATE_YUAN = (1_200_000, 1.0)
"""Median and spread of a lognormal: the estimate of a project that asks for a guarantee."""


@dataclass(frozen=True)
class GuaranteeMix:
    """Shares of guarantee requests by kind and issuer, and how early bidders ask."""

    kind_weights: tuple[float, ...] = (0.70, 0.05, 0.20, 0.05)
    """Relative weights of bid, low-price-risk, performance and payment guarantees: most are
    bid guarantees, one per bidder per tender (author's estimate)."""
    insurer_share: float = 0.35
    """Share of guarantees issued by insurers rather than banks (author's estimate)."""
    median_hours_before_close: float = 48.0
    """How long before the bid closes a bidder asks for its bid guarantee, median (hours);
    bidders ask late, a tender's last two days holding most requests (author's estimate)."""

    def __post_init__(self) -> None:
        weights = self.kind_weights
        if len(weights) != len(KINDS) or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(
                "kind_weights must be four non-negative weights (bid, low-price risk, "
                f"performance, payment), not all 0: {weights}"
            )
        if not 0.0 <= self.insurer_share <= 1.0:
            raise ValueError(f"insurer_share must be within [0, 1], got {self.insurer_share}")
        if self.median_hours_before_close <= 0:
            raise ValueError(
                f"median_hours_before_close must be positive: {self.median_hours_before_close}"
            )


class GuaranteeRequestGenerator:
    """Draws `EGuaranteeRequested` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: GuaranteeMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else GuaranteeMix()
        self._kind = Weighted(KINDS, self.mix.kind_weights)
        self._serial = 0
        # A purchaser keeps its code across its tenders, so draw each one's once.
        self._purchasers = tuple(
            {"name": name, "uscc": government_uscc(rng)} for name in PURCHASING_DEPARTMENTS
        )

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One request for an electronic guarantee on `on`, valid for
        f21/EGuaranteeRequested.avsc."""
        rng = self._rng
        self._serial += 1
        kind = self._kind.pick(rng)
        median, sigma = _PROJECT_ESTIMATE_YUAN
        estimate = min(max(rng.lognormvariate(math.log(median), sigma), 50_000.0), 200_000_000.0)
        return {
            "event_id": event_id(rng),
            "case_id": case_id,
            "guarantee_kind": kind,
            "project_no": project_no(on.year, self._serial),
            "project_name": f"渝中区{rng.choice(_SUBJECTS)}项目",
            "beneficiary": dict(rng.choice(self._purchasers)),
            "bidder": self._bidder(),
            "amount_yuan": guarantee_amount(kind, estimate, rng),
            "issuer": self._issuer(),
            "requested_on": on,
            "minutes_to_bid_close": self._minutes_to_close() if kind == "BID" else None,
        }

    def _bidder(self) -> dict[str, Any]:
        rng = self._rng
        bank = identifiers.pick_bank(rng)
        return {
            "name": names.company_name(rng),
            "uscc": identifiers.uscc(rng),
            "contact_name": names.person_name(rng),
            "contact_phone": identifiers.mobile_phone(rng),
            "account_bank_code": bank.code,
            "account_number": identifiers.bank_account_number(rng, bank),
        }

    def _issuer(self) -> dict[str, str]:
        rng = self._rng
        if rng.random() < self.mix.insurer_share:
            name, code, _ = _INSURER.pick(rng)
            return {"kind": INSURER, "name": name, "code": code}
        bank = identifiers.pick_bank(rng)
        return {"kind": BANK, "name": bank.name, "code": bank.code}

    def _minutes_to_close(self) -> int:
        """How long before the close the bidder asks: at least an hour, at most the 20 days a
        tender is open (政府采购法 art. 35)."""
        hours = self._rng.lognormvariate(math.log(self.mix.median_hours_before_close), 0.9)
        return round(min(max(hours, 1.0), 20 * 24.0) * 60)


def guarantee_amount(kind: str, estimate: float, rng: random.Random) -> int:
    """The guarantee's amount in yuan: a bid guarantee at most 2 % of the estimate, a
    performance guarantee at most 10 % of the contract, the others a share between."""
    if kind == "BID":
        share = rng.choice((0.005, 0.01, BID_SHARE))
    elif kind == "PERFORMANCE":
        share = rng.choice((0.05, PERFORMANCE_SHARE))
    else:
        share = rng.choice((0.03, 0.05))
    return max(1_000, int(round(estimate * share, -2)))


def guarantee_number(rng: random.Random, issuer_kind: str) -> str:
    """The number an issuer gives its guarantee: a bank's letter `BH` and 16 digits, an
    insurer's policy `BZ` and 16 digits."""
    prefix = "BH" if issuer_kind == BANK else "BZ"
    return f"{prefix}{digits(rng, 16)}"
