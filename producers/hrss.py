"""Human resources and social security (hrss): unemployment claims that start flow F14 (M40).

Who claims decides what hrss has to do: a claimant who was insured outside Chongqing first
needs the insurance relationship moved here (关系接续) before the claim can be approved, which
is the step most exposed to delay. Its share, and the share of subsidy claims, are scenario
knobs.
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

TOPIC = "hrss.unemployment-benefit-claimed.v1"

# Where Chongqing's workers were insured before coming (back) to Yuzhong: the coastal cities
# and Chengdu they commonly work in. Division codes per GB/T 2260.
PREVIOUS_REGIONS: tuple[tuple[str, str, float], ...] = (
    ("440305", "深圳市南山区", 0.18),
    ("441900", "东莞市", 0.14),
    ("440106", "广州市天河区", 0.12),
    ("310115", "上海市浦东新区", 0.14),
    ("330106", "杭州市西湖区", 0.08),
    ("320505", "苏州市虎丘区", 0.08),
    ("510107", "成都市武侯区", 0.18),
    ("110105", "北京市朝阳区", 0.08),
)

_REASONS = ("CONTRACT_ENDED", "LAID_OFF", "EMPLOYER_CLOSED", "DISMISSED", "RESIGNED_FOR_CAUSE")
_REASON_WEIGHTS = (0.4, 0.25, 0.15, 0.1, 0.1)
_REASON = Weighted(_REASONS, _REASON_WEIGHTS)
_PREVIOUS_REGION = Weighted(PREVIOUS_REGIONS, [w for _, _, w in PREVIOUS_REGIONS])
_DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class UnemploymentClaimMix:
    """Shares of claims by kind, channel and insurance history."""

    subsidy_probability: float = 0.2
    """Share of claims for the unemployment subsidy rather than the insurance benefit."""
    transfer_probability: float = 0.15
    """Share of claimants insured elsewhere before, whose relationship must be transferred."""
    online_probability: float = 0.75
    """Share of claims lodged online (一网通办) rather than at the counter."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")


class UnemploymentClaimGenerator:
    """Draws `UnemploymentBenefitClaimed` values; all randomness comes from the given `rng` (a
    claimant's history, names and numbers from a stream the claim's case seeds)."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: UnemploymentClaimMix | None = None) -> None:
        self._rng = rng
        self._seed = rng.getrandbits(32)
        self.mix = mix if mix is not None else UnemploymentClaimMix()

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One claim lodged on `on`, valid for f14/UnemploymentBenefitClaimed.avsc."""
        return dict(self.lazy(case_id, on))

    def lazy(self, case_id: str, on: dt.date) -> LazyRecord:
        """The same claim, drawn only as far as it is read: which steps it takes depends only
        on whether the claimant was insured elsewhere before, not on where, for how long, or
        on what the claim is for (`lazy.py`)."""
        transfer = self._rng.random() < self.mix.transfer_probability
        return LazyRecord(
            {"case_id": case_id, "claimed_on": on, "previous_insurance": None},
            partial(self._claim, case_id, on, transfer),
            records=("previous_insurance",) if transfer else (),
        )

    def _claim(self, case_id: str, on: dt.date, transfer: bool) -> dict[str, Any]:
        """Who claims what, after which job, and where it is paid, from the case's own stream."""
        rng = case_stream(self._seed, case_id)
        mix = self.mix
        subsidy = rng.random() < mix.subsidy_probability
        separated_on = on - dt.timedelta(days=rng.randint(1, 60))
        local_months, previous = _insurance(rng, subsidy, separated_on, transfer)
        born_from, born_until = identifiers.born_between(on, 18, 59)
        card_bank = identifiers.pick_card_bank(rng)
        return {
            "event_id": event_id(rng),
            "channel": "ONLINE" if rng.random() < mix.online_probability else "COUNTER",
            "claim_kind": "SUBSIDY" if subsidy else "BENEFIT",
            "claimant": {
                "name": names.person_name(rng),
                "id_number": identifiers.resident_id(
                    rng, born_from=born_from, born_until=born_until
                ),
                "phone": identifiers.mobile_phone(rng),
            },
            "separation": {
                "employer_uscc": identifiers.uscc(rng),
                "employer_name": names.company_name(rng),
                "separated_on": separated_on,
                "reason": _REASON.pick(rng),
            },
            "insured_months_local": local_months,
            "previous_insurance": previous,
            "payment_account": {
                "bank_name": card_bank.name,
                "bank_code": card_bank.code,
                "card_number": identifiers.debit_card_number(rng, card_bank),
            },
        }


def _insurance(
    rng: random.Random, subsidy: bool, separated_on: dt.date, transfer: bool
) -> tuple[int, dict[str, Any] | None]:
    """The months insured locally up to `separated_on`, and the period insured elsewhere
    before them where the claimant's relationship must be transferred (`transfer`)."""
    # The benefit needs a year of contributions; the subsidy is for those short of it.
    total_months = rng.randint(1, 11) if subsidy else 12 + min(348, round(rng.expovariate(1 / 48)))
    if not transfer:
        return total_months, None
    previous_months = rng.randint(1, total_months) if total_months > 1 else 1
    local_months = max(1, total_months - previous_months)
    return local_months, _previous(rng, separated_on, local_months, previous_months)


def _previous(
    rng: random.Random, separated_on: dt.date, local_months: int, previous_months: int
) -> dict[str, Any]:
    """The period insured elsewhere, ending before the local one began."""
    division, region, _ = _PREVIOUS_REGION.pick(rng)
    local_start = separated_on - dt.timedelta(days=round(local_months * _DAYS_PER_MONTH))
    until = local_start - dt.timedelta(days=rng.randint(1, 90))
    since = until - dt.timedelta(days=round(previous_months * _DAYS_PER_MONTH))
    return {
        "division": division,
        "region_name": region,
        "insured_from": since,
        "insured_until": until,
    }


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months of contributions from `start` to `end` (at least one)."""
    return max(1, round((end - start).days / _DAYS_PER_MONTH))
