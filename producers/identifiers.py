"""Synthetic identifiers that pass the same checks real systems apply to them.

Recipient agencies validate check characters before they act, so synthetic codes with wrong
check characters would be rejected by any realistic endpoint; every code here follows its
national standard. All randomness comes from the `random.Random` passed in, so a seed fixes
the data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

YUZHONG_DIVISION = "500103"
"""Administrative division code of Yuzhong District, Chongqing (GB/T 2260)."""

# --- Unified social credit code (GB 32100-2015) -------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters GB 32100 allows: digits and capitals without I, O, Z, S, V."""
_USCC_VALUE = {char: value for value, char in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

MARKET_SUPERVISION = "9"
"""Registration department code of market supervision (the company register)."""
ENTERPRISE = "1"
"""Entity type code of an enterprise under the market-supervision department."""

# --- Organisation code (GB 11714-1997) ----------------------------------------------------

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Organisation-code bodies embedded in a USCC must use the USCC alphabet; "MA" opens the codes
# issued to enterprises registered after the 2015 reform.
_ORG_BODY_CHARS = USCC_ALPHABET


def _org_value(char: str) -> int:
    """GB 11714 values letters A..Z as 10..35, unlike GB 32100's alphabet positions."""
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def org_code_check_char(body: str) -> str:
    """The ninth character of an organisation code, from its first eight."""
    if len(body) != 8 or not all(c.isdigit() or "A" <= c <= "Z" for c in body):
        raise ValueError(f"organisation code body must be 8 digits/capitals, got {body!r}")
    remainder = 11 - sum(_org_value(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def org_code_is_valid(code: str) -> bool:
    """True when a 9-character organisation code carries its correct check character."""
    if len(code) != 9:
        return False
    try:
        return org_code_check_char(code[:8]) == code[8]
    except ValueError:
        return False


def org_code(rng: random.Random) -> str:
    """A post-2015 style organisation code: "MA", seven body characters, check character."""
    body = "MA" + rng.choice("0123456789") + "".join(rng.choices(_ORG_BODY_CHARS, k=5))
    return body + org_code_check_char(body)


def uscc_check_char(first17: str) -> str:
    """The eighteenth character of a unified social credit code, from its first seventeen."""
    if len(first17) != 17 or any(c not in _USCC_VALUE for c in first17):
        raise ValueError(f"USCC body must be 17 characters of {USCC_ALPHABET}, got {first17!r}")
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    """True when an 18-character code uses the GB 32100 alphabet and its check character."""
    if len(code) != 18 or any(c not in _USCC_VALUE for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def uscc(
    rng: random.Random,
    division: str = YUZHONG_DIVISION,
    *,
    department: str = MARKET_SUPERVISION,
    entity_type: str = ENTERPRISE,
) -> str:
    """A unified social credit code for an entity registered in `division`.

    Layout: department, entity type, 6-digit division, 9-character organisation code (with its
    own GB 11714 check character), GB 32100 check character.
    """
    if len(division) != 6 or not division.isdigit():
        raise ValueError(f"division must be a 6-digit code, got {division!r}")
    first17 = department + entity_type + division + org_code(rng)
    return first17 + uscc_check_char(first17)


# --- Resident identity number (GB 11643-1999) ---------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # ISO 7064 MOD 11-2, indexed by the weighted sum mod 11


def resident_id_check_char(first17: str) -> str:
    """The eighteenth character of a resident identity number (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"resident ID body must be 17 digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def resident_id_is_valid(number: str) -> bool:
    """True for 18 characters with a real birth date and the right check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return resident_id_check_char(number[:17]) == number[17]


def resident_id(
    rng: random.Random,
    *,
    division: str = YUZHONG_DIVISION,
    born_from: dt.date = dt.date(1955, 1, 1),
    born_until: dt.date = dt.date(2001, 12, 31),
    female: bool | None = None,
) -> str:
    """A resident identity number: division, birth date, sequence (odd = male), check."""
    span = (born_until - born_from).days
    if span < 0:
        raise ValueError("born_from must not be after born_until")
    birth = born_from + dt.timedelta(days=rng.randint(0, span))
    if female is None:
        female = rng.random() < 0.5
    sequence = rng.randrange(0, 999, 2) + (0 if female else 1)
    first17 = f"{division}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


# --- Banks and accounts -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bank:
    """A bank as the account-closure contract names it; `code` is the CNAPS bank category."""

    name: str
    short_name: str
    code: str
    account_prefix: str
    account_length: int
    weight: float
    """Relative share of Yuzhong companies' accounts, for sampling."""


BANKS: tuple[Bank, ...] = (
    Bank("中国工商银行", "ICBC", "102", "3100", 19, 0.20),
    Bank("中国农业银行", "ABC", "103", "3110", 17, 0.10),
    Bank("中国银行", "BOC", "104", "1110", 12, 0.10),
    Bank("中国建设银行", "CCB", "105", "50001", 20, 0.18),
    Bank("交通银行", "BOCOM", "301", "5000", 21, 0.07),
    Bank("招商银行", "CMB", "308", "1239", 15, 0.10),
    Bank("重庆银行", "BCQ", "313", "0101", 16, 0.12),
    Bank("重庆农村商业银行", "CRCB", "314", "0103", 17, 0.13),
)


def pick_bank(rng: random.Random, exclude: Sequence[Bank] = ()) -> Bank:
    """A bank weighted by market share, skipping banks the company already uses."""
    candidates = [bank for bank in BANKS if bank not in exclude] or list(BANKS)
    return rng.choices(candidates, weights=[bank.weight for bank in candidates])[0]


def bank_account_number(rng: random.Random, bank: Bank) -> str:
    """A corporate account number with the bank's own prefix and length."""
    return bank.account_prefix + _digits(rng, bank.account_length - len(bank.account_prefix))


# --- Other agencies' numbers --------------------------------------------------------------


def housing_fund_unit_account(rng: random.Random) -> str:
    """A 12-digit housing-fund unit account of the Yuzhong branch (division-prefixed)."""
    return "0103" + _digits(rng, 8)


def real_estate_certificate_no(rng: random.Random, year: int) -> str:
    """A title certificate number in the form the register prints on the certificate."""
    return f"渝({year})渝中区不动产权第{rng.randint(1, 999_999):06d}号"


def water_account(rng: random.Random) -> str:
    """Waterworks customer number: 9 digits, the district's "103" first."""
    return "103" + _digits(rng, 6)


def power_account(rng: random.Random) -> str:
    """Power-supply customer number: 10 digits starting with the province's "50"."""
    return "50" + _digits(rng, 8)


def gas_account(rng: random.Random) -> str:
    """Gas customer number: 12 digits, the branch series "0103" first."""
    return "0103" + rng.choice("123456789") + _digits(rng, 7)


_MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    "147",
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    "166",
    *("173", "175", "176", "177", "178"),
    *(f"18{d}" for d in range(10)),
    *("191", "193", "195", "198", "199"),
)


def mobile_phone(rng: random.Random) -> str:
    """An 11-digit mainland mobile number with a real operator prefix."""
    return rng.choice(_MOBILE_PREFIXES) + _digits(rng, 8)


def seal_number(rng: random.Random, division: str = YUZHONG_DIVISION) -> str:
    """A 13-digit seal registration number: issuing division then a 7-digit sequence."""
    return division + _digits(rng, 7)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choices("0123456789", k=count))
