"""The district court (court) as a source: effective judgments (F15), enforcement filings (F19)
and bankruptcy rulings (F16).

The plan's words, measures 41 and 43-46:

- M41 "全力推进电子送达，扩大电子送达适用率。落实企业送达地址承诺制，提高法律文书送达效率。"
- M43 "落实生效判决自动生成查询机制，确保当事人申请执行不再需要纸质生效证明。重点推进动产处置
  执行准备、执行立案、首次拍卖、二次拍卖等各时间节点优化……加快执行查控，提高财产保全工作效率。"
- M44 "优化破产清算和重整之间的程序转换"; M45 "推广以网络拍卖方式处置债务人财产".
- M46 "统筹推进企业破产过程中信息共享、信用修复、财产处置、企业注销、涉税办理、风险防范等
  事项……协调解决职工社会保险关系转移".

What a case holds decides who must act: a debtor with no known account involves no bank, a
debtor with no property leaves the real-estate register out, a bankrupt company without a
housing-fund account or employees involves neither the fund nor hrss. The mixes below are
therefore scenario parameters, not constants.

An effective judgment the creditor takes to enforcement becomes an enforcement filing with
`enforcement_from_judgment`; a liquidation ends in deregistration, built from the ruling with
`deregistration_from_ruling` so that F03's recipients get the same seals and accounts.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from producers import identifiers, names
from producers.amr import draw_bank_accounts, draw_seals
from producers.draw import Weighted
from producers.ids import event_id

JUDGMENT_TOPIC = "court.judgment-took-effect.v1"
ENFORCEMENT_TOPIC = "court.enforcement-case-filed.v1"
BANKRUPTCY_TOPIC = "court.bankruptcy-ruled.v1"

COURT_CODE = "渝0103"
"""The court's code in case numbers: Chongqing (渝), then Yuzhong's division without 50."""

_AMOUNT_MEDIAN_YUAN = 80_000
_AMOUNT_SIGMA = 1.2  # a long tail: most claims are small debts, a few run to millions
_AMOUNT_MIN_YUAN = 1_000
_AMOUNT_MAX_YUAN = 500_000_000
_TAX_ARREARS_MEDIAN_YUAN = 50_000
_TAX_ARREARS_SIGMA = 1.1
_SECOND_ACCOUNT_PROBABILITY = 0.25
"""Share of banks holding two of one debtor's accounts rather than one."""
_SECOND_PROPERTY_PROBABILITY = 0.2
"""Among debtors with real estate, the share with two titles rather than one."""
_FIRST_TITLE_YEAR = 2016
"""Unified real-estate titles (不动产权证书) were issued in Chongqing from 2016."""

ADMINISTRATORS: tuple[str, ...] = (
    "重庆嘉陵律师事务所",
    "重庆鸿信律师事务所",
    "重庆朝天律师事务所",
    "重庆锦程律师事务所",
    "重庆恒正律师事务所",
    "重庆山城律师事务所",
)
"""Law firms on the court's administrator roster (破产管理人名册); invented names, any match
with a real firm is chance."""


# --- mixes --------------------------------------------------------------------------------


def _check_probabilities(mix: object) -> None:
    """Every field named `*_probability` is a share: within [0, 1]."""
    for name, value in vars(mix).items():
        if name.endswith("_probability") and not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {value}")


def _check_weights(mix: object, name: str, most: int | None = None) -> None:
    """Weights of 0, 1, 2, ... of something: non-negative, finite, not all 0; at most `most`
    (so that each can be at a different bank)."""
    weights = getattr(mix, name)
    if not weights or any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"{name} must be non-negative, not all 0: {weights}")
    if most is not None and len(weights) > most + 1:
        raise ValueError(f"{name} allows at most {most}, one bank each: {weights}")


_BANK_WEIGHTS = (0.15, 0.45, 0.25, 0.1, 0.05)


@dataclass(frozen=True)
class JudgmentMix:
    """Shares of effective judgments by party, holdings and what the parties do next."""

    enforcement_probability: float = 0.35
    """Share of judgments whose creditor applies for enforcement (当事人申请执行)."""
    company_debtor_probability: float = 0.6
    company_creditor_probability: float = 0.5
    bank_weights: tuple[float, ...] = _BANK_WEIGHTS
    """Relative weights of the debtor banking with 0, 1, 2, ... banks (1-2 accounts each)."""
    property_probability: float = 0.3
    """Share of debtors holding registered real estate."""
    address_committed_probability: float = 0.8
    """Share of cases where the party committed a service address (送达地址承诺制)."""

    def __post_init__(self) -> None:
        _check_probabilities(self)
        _check_weights(self, "bank_weights", most=len(identifiers.BANKS))


@dataclass(frozen=True)
class EnforcementMix:
    """Shares of enforcement filings by debtor, holdings and how disposal goes."""

    company_debtor_probability: float = 0.6
    company_creditor_probability: float = 0.5
    bank_weights: tuple[float, ...] = _BANK_WEIGHTS
    """Relative weights of the debtor banking with 0, 1, 2, ... banks (1-2 accounts each)."""
    property_probability: float = 0.3
    movables_probability: float = 0.4
    """Share of cases with movable property to dispose of (动产处置)."""
    first_auction_sells_probability: float = 0.55
    """Share of auctions that sell the first time; the rest go to a second auction."""

    def __post_init__(self) -> None:
        _check_probabilities(self)
        _check_weights(self, "bank_weights", most=len(identifiers.BANKS))


@dataclass(frozen=True)
class BankruptcyMix:
    """Shares of bankruptcy rulings by procedure and by what the company leaves behind."""

    liquidation_probability: float = 0.8
    """Share of liquidations; the rest are reorganisations."""
    bank_account_weights: tuple[float, ...] = (0.1, 0.5, 0.3, 0.1)
    """Relative weights of holding 0, 1, 2, 3, ... bank accounts, one bank each."""
    housing_fund_probability: float = 0.5
    employee_count_weights: tuple[float, ...] = (0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05)
    """Relative weights of 0, 1, 2, ... employees left whose social insurance is transferred."""
    tax_arrears_probability: float = 0.6
    dishonest_probability: float = 0.3
    """Share of companies on a dishonesty list, whose credit repair the ruling starts."""

    def __post_init__(self) -> None:
        _check_probabilities(self)
        _check_weights(self, "bank_account_weights", most=len(identifiers.BANKS))
        _check_weights(self, "employee_count_weights")


# --- shared draws -------------------------------------------------------------------------


def _case_number(rng: random.Random, year: int, kind: str, most: int) -> str:
    """A case number as the court writes it: (year)court code, kind, serial, 号."""
    return f"({year}){COURT_CODE}{kind}{rng.randint(1, most)}号"


def _lognormal_yuan(rng: random.Random, median: int, sigma: float, least: int) -> int:
    value = round(rng.lognormvariate(math.log(median), sigma))
    return max(least, min(_AMOUNT_MAX_YUAN, value))


def _party(rng: random.Random, company: bool, on: dt.date) -> dict[str, Any]:
    """A company with its credit code, or an adult person with an identity number."""
    if company:
        return {
            "kind": "COMPANY",
            "name": names.company_name(rng),
            "uscc": identifiers.uscc(rng),
            "id_number": None,
        }
    born_from, born_until = identifiers.born_between(on, 18, 75)
    return {
        "kind": "PERSON",
        "name": names.person_name(rng),
        "uscc": None,
        "id_number": identifiers.resident_id(rng, born_from=born_from, born_until=born_until),
    }


def _debtor_accounts(rng: random.Random, banks: Weighted[int]) -> list[dict[str, str]]:
    """The debtor's accounts the court knows of: a number of banks, then one or two accounts
    at each, listed bank by bank, so one freezing request per bank covers its accounts."""
    accounts: list[dict[str, str]] = []
    used: list[identifiers.Bank] = []
    for _ in range(banks.pick(rng)):
        bank = identifiers.pick_bank(rng, exclude=used)
        used.append(bank)
        count = 2 if rng.random() < _SECOND_ACCOUNT_PROBABILITY else 1
        numbers: list[str] = []
        while len(numbers) < count:
            number = identifiers.bank_account_number(rng, bank)
            if number not in numbers:
                numbers.append(number)
        accounts.extend(
            {"bank_name": bank.name, "bank_code": bank.code, "account_number": n} for n in numbers
        )
    return accounts


def _debtor_properties(rng: random.Random, probability: float, on: dt.date) -> list[dict[str, str]]:
    """Registered real estate of the debtor, found at the register: none, one or two titles."""
    if rng.random() >= probability:
        return []
    count = 2 if rng.random() < _SECOND_PROPERTY_PROBABILITY else 1
    properties: list[dict[str, str]] = []
    while len(properties) < count:
        year = rng.randint(min(_FIRST_TITLE_YEAR, on.year), on.year)
        title = {
            "certificate_number": identifiers.real_estate_certificate_no(rng, year),
            "address": names.yuzhong_address(rng).text,
        }
        if all(p["certificate_number"] != title["certificate_number"] for p in properties):
            properties.append(title)
    return properties


def _counts(weights: Sequence[float]) -> Weighted[int]:
    """0, 1, 2, ... drawn by `weights`."""
    return Weighted(range(len(weights)), weights)


# --- F15: effective judgments -------------------------------------------------------------


class JudgmentTookEffectGenerator:
    """Draws `JudgmentTookEffect` values; all randomness comes from the given `rng`."""

    topic = JUDGMENT_TOPIC

    def __init__(self, rng: random.Random, mix: JudgmentMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else JudgmentMix()
        self._banks = _counts(self.mix.bank_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One judgment that took effect on `on`, valid for f15/JudgmentTookEffect.avsc."""
        rng = self._rng
        mix = self.mix
        event = event_id(rng)
        creditor = _party(rng, rng.random() < mix.company_creditor_probability, on)
        debtor = _party(rng, rng.random() < mix.company_debtor_probability, on)
        # Disputes between two businesses are heard as commercial cases; the rest as civil.
        both_companies = creditor["kind"] == debtor["kind"] == "COMPANY"
        return {
            "event_id": event,
            "case_id": case_id,
            "judgment_number": _case_number(rng, on.year, "民初", 20_000),
            "effective_on": on,
            "case_kind": "COMMERCIAL" if both_companies else "CIVIL",
            "creditor": creditor,
            "debtor": debtor,
            "amount_yuan": _lognormal_yuan(
                rng, _AMOUNT_MEDIAN_YUAN, _AMOUNT_SIGMA, _AMOUNT_MIN_YUAN
            ),
            "enforcement_applied": rng.random() < mix.enforcement_probability,
            "debtor_bank_accounts": _debtor_accounts(rng, self._banks),
            "debtor_properties": _debtor_properties(rng, mix.property_probability, on),
            "address_committed": rng.random() < mix.address_committed_probability,
        }


# --- F19: enforcement filings -------------------------------------------------------------


class EnforcementFiledGenerator:
    """Draws `EnforcementCaseFiled` values on their own (a judgment drawn for the purpose and
    not published); all randomness comes from the given `rng`."""

    topic = ENFORCEMENT_TOPIC

    def __init__(self, rng: random.Random, mix: EnforcementMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else EnforcementMix()
        self._banks = _counts(self.mix.bank_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One enforcement case filed on `on`, valid for f19/EnforcementCaseFiled.avsc."""
        rng = self._rng
        mix = self.mix
        event = event_id(rng)
        # The judgment took effect some weeks or months before the creditor applied.
        effective_on = on - dt.timedelta(days=rng.randint(1, 365))
        return {
            "event_id": event,
            "case_id": case_id,
            "enforcement_number": _case_number(rng, on.year, "执", 20_000),
            "judgment_number": _case_number(rng, effective_on.year, "民初", 20_000),
            "filed_on": on,
            "creditor": _party(rng, rng.random() < mix.company_creditor_probability, on),
            "debtor": _party(rng, rng.random() < mix.company_debtor_probability, on),
            "amount_yuan": _lognormal_yuan(
                rng, _AMOUNT_MEDIAN_YUAN, _AMOUNT_SIGMA, _AMOUNT_MIN_YUAN
            ),
            "debtor_bank_accounts": _debtor_accounts(rng, self._banks),
            "debtor_properties": _debtor_properties(rng, mix.property_probability, on),
            "movables": rng.random() < mix.movables_probability,
            "first_auction_sells": rng.random() < mix.first_auction_sells_probability,
        }


_CARRIED_FROM_JUDGMENT = (
    "judgment_number",
    "creditor",
    "debtor",
    "amount_yuan",
    "debtor_bank_accounts",
    "debtor_properties",
)
"""What an enforcement filing takes from the judgment unchanged: no paper proof, no retyping."""


def enforcement_from_judgment(
    judgment: Mapping[str, Any],
    case_id: str,
    filed_on: dt.date,
    rng: random.Random,
    mix: EnforcementMix,
) -> dict[str, Any]:
    """The enforcement case filed on `judgment` (a `JudgmentTookEffect` value), valid for
    f19/EnforcementCaseFiled.avsc.

    M43 has the filing rest on the judgment's automatically generated status, so everything
    the judgment already says is carried forward as it is; only the filing's own number, the
    new event id and how disposal goes (movables, first auction) are drawn.
    """
    if not judgment["enforcement_applied"]:
        raise ValueError(
            f"judgment {judgment['judgment_number']}: no application for enforcement, "
            "so no enforcement case is filed"
        )
    if filed_on < judgment["effective_on"]:
        raise ValueError(
            f"filed_on {filed_on} is before the judgment took effect ({judgment['effective_on']})"
        )
    carried = {name: copy.deepcopy(judgment[name]) for name in _CARRIED_FROM_JUDGMENT}
    return {
        "event_id": event_id(rng),
        "case_id": case_id,
        "enforcement_number": _case_number(rng, filed_on.year, "执", 20_000),
        "judgment_number": carried["judgment_number"],
        "filed_on": filed_on,
        "creditor": carried["creditor"],
        "debtor": carried["debtor"],
        "amount_yuan": carried["amount_yuan"],
        "debtor_bank_accounts": carried["debtor_bank_accounts"],
        "debtor_properties": carried["debtor_properties"],
        "movables": rng.random() < mix.movables_probability,
        "first_auction_sells": rng.random() < mix.first_auction_sells_probability,
    }


# --- F16: bankruptcy rulings --------------------------------------------------------------

_ADMINISTRATOR = Weighted(ADMINISTRATORS, [1.0] * len(ADMINISTRATORS))


class BankruptcyRulingGenerator:
    """Draws `BankruptcyRuled` values; all randomness comes from the given `rng`."""

    topic = BANKRUPTCY_TOPIC

    def __init__(self, rng: random.Random, mix: BankruptcyMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else BankruptcyMix()
        self._account_count = _counts(self.mix.bank_account_weights)
        self._employee_count = _counts(self.mix.employee_count_weights)

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One bankruptcy ruled on `on`, valid for f16/BankruptcyRuled.avsc."""
        rng = self._rng
        mix = self.mix
        event = event_id(rng)
        ruling_number = _case_number(rng, on.year, "破", 80)
        liquidation = rng.random() < mix.liquidation_probability
        born_from, born_until = identifiers.born_between(on, 25, 70)
        uscc = identifiers.uscc(rng)
        company_name = names.company_name(rng)
        legal_representative = {
            "name": names.person_name(rng),
            "id_number": identifiers.resident_id(rng, born_from=born_from, born_until=born_until),
        }
        registered_address = names.yuzhong_address(rng).text
        administrator = _ADMINISTRATOR.pick(rng)
        seals = draw_seals(rng)
        bank_accounts = draw_bank_accounts(rng, self._account_count.pick(rng))
        employees = self._employees(on)
        housing_fund_account = self._housing_fund_account(len(employees))
        tax_arrears = (
            _lognormal_yuan(rng, _TAX_ARREARS_MEDIAN_YUAN, _TAX_ARREARS_SIGMA, 1)
            if rng.random() < mix.tax_arrears_probability
            else 0
        )
        return {
            "event_id": event,
            "case_id": case_id,
            "ruling_number": ruling_number,
            "ruled_on": on,
            "procedure": "LIQUIDATION" if liquidation else "REORGANISATION",
            "uscc": uscc,
            "company_name": company_name,
            "legal_representative": legal_representative,
            "registered_address": registered_address,
            "administrator_name": administrator,
            "seals": seals,
            "bank_accounts": bank_accounts,
            "housing_fund_account": housing_fund_account,
            "employees": employees,
            "tax_arrears_yuan": tax_arrears,
            "dishonest": rng.random() < mix.dishonest_probability,
        }

    def _employees(self, on: dt.date) -> list[dict[str, Any]]:
        """Employees still on the books, each with the months insured here that hrss moves."""
        rng = self._rng
        born_from, born_until = identifiers.born_between(on, 18, 59)
        count = self._employee_count.pick(rng)
        employees: list[dict[str, Any]] = []
        ids: set[str] = set()
        while len(employees) < count:
            id_number = identifiers.resident_id(rng, born_from=born_from, born_until=born_until)
            if id_number in ids:  # one person cannot be employed twice
                continue
            ids.add(id_number)
            employees.append(
                {
                    "name": names.person_name(rng),
                    "id_number": id_number,
                    # Small firms' staff: a median of about four years, at most thirty.
                    "insured_months": max(1, min(360, round(rng.lognormvariate(3.85, 0.8)))),
                }
            )
        return employees

    def _housing_fund_account(self, employees: int) -> dict[str, Any] | None:
        rng = self._rng
        if rng.random() >= self.mix.housing_fund_probability:
            return None
        return {
            "unit_account_number": identifiers.housing_fund_unit_account(rng),
            "employees": employees,
        }


def deregistration_from_ruling(
    ruling: Mapping[str, Any], case_id: str, on: dt.date, event_id: str
) -> dict[str, Any]:
    """The deregistration that ends a liquidation, valid for f03/CompanyDeregistered.avsc.

    M46 names 企业注销 among the matters the court and government settle together: the ruling
    already lists the seals, accounts and housing-fund account F03's recipients close, so they
    are carried over unchanged. A bankrupt company is deregistered the ordinary way, and only
    after liquidation: a reorganised company goes on trading.
    """
    if ruling["procedure"] != "LIQUIDATION":
        raise ValueError(
            f"ruling {ruling['ruling_number']} is a {ruling['procedure']}: "
            "only a liquidation ends in deregistration"
        )
    if on < ruling["ruled_on"]:
        raise ValueError(f"on {on} is before the ruling ({ruling['ruled_on']})")
    return {
        "event_id": event_id,
        "case_id": case_id,
        "uscc": ruling["uscc"],
        "company_name": ruling["company_name"],
        "legal_representative": copy.deepcopy(ruling["legal_representative"]),
        "registered_address": ruling["registered_address"],
        "deregistration_type": "ORDINARY",
        "deregistered_on": on,
        "seals": copy.deepcopy(ruling["seals"]),
        "bank_accounts": copy.deepcopy(ruling["bank_accounts"]),
        "housing_fund_account": copy.deepcopy(ruling["housing_fund_account"]),
    }
