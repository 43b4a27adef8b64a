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
from functools import cache
from operator import mul

from producers.draw import DIGITS, Weighted, chars, digits

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


_ORG_VALUE = {char: _org_value(char) for char in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _org_check(body: str) -> str:
    """`org_code_check_char` for a body already known to be well formed."""
    remainder = 11 - sum(map(mul, map(_ORG_VALUE.__getitem__, body), _ORG_WEIGHTS)) % 11
    return _ORG_CHECK.get(remainder) or str(remainder)


_ORG_CHECK = {10: "X", 11: "0"}


def org_code_check_char(body: str) -> str:
    """The ninth character of an organisation code, from its first eight."""
    if len(body) != 8 or not all(c.isdigit() or "A" <= c <= "Z" for c in body):
        raise ValueError(f"organisation code body must be 8 digits/capitals, got {body!r}")
    return _org_check(body)


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
    body = "MA" + rng.choice(DIGITS) + chars(rng, _ORG_BODY_CHARS, 5)
    return body + _org_check(body)


def uscc_check_char(first17: str) -> str:
    """The eighteenth character of a unified social credit code, from its first seventeen."""
    if len(first17) != 17 or any(c not in _USCC_VALUE for c in first17):
        raise ValueError(f"USCC body must be 17 characters of {USCC_ALPHABET}, got {first17!r}")
    return _uscc_check(first17)


def _uscc_check(first17: str) -> str:
    """`uscc_check_char` for seventeen characters already known to be well formed."""
    total = sum(map(mul, map(_USCC_VALUE.__getitem__, first17), _USCC_WEIGHTS))
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
    if len(first17) != 17 or any(c not in _USCC_VALUE for c in department + entity_type):
        raise ValueError(f"USCC body must be 17 characters of {USCC_ALPHABET}, got {first17!r}")
    return first17 + _uscc_check(first17)


# --- Resident identity number (GB 11643-1999) ---------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # ISO 7064 MOD 11-2, indexed by the weighted sum mod 11


@dataclass(frozen=True, slots=True)
class DivisionPeriod:
    """A division code (GB/T 2260) and the years it was in force, both ends included."""

    code: str
    first_year: int | None
    last_year: int | None

    def covers(self, year: int) -> bool:
        return (self.first_year is None or self.first_year <= year) and (
            self.last_year is None or year <= self.last_year
        )


@dataclass(frozen=True, slots=True)
class Birthplace:
    """A place people who live or work in Yuzhong come from, with its codes over time.

    A resident identity number keeps for life the division code in force where it was first
    issued. Chongqing's districts carried Sichuan codes (5102xx) until the municipality was
    created in 1997, and several were renamed or merged, so the code depends on the year.
    Validators (python-stdnum's `cn.ric` among them) accept a code only for the years it
    existed, judged by the birth year; the code is therefore chosen for the birth year.
    """

    name: str
    weight: float
    periods: tuple[DivisionPeriod, ...]

    def code_in(self, year: int) -> str:
        for period in self.periods:
            if period.covers(year):
                return period.code
        raise ValueError(f"{self.name} has no division code for {year}")


def _periods(*spans: tuple[str, int | None, int | None]) -> tuple[DivisionPeriod, ...]:
    return tuple(DivisionPeriod(code, first, last) for code, first, last in spans)


# Before 1983 Chongqing's urban districts shared the code of the city area (510220).
_URBAN_BEFORE_1983 = ("510220", None, 1982)

BIRTHPLACES: tuple[Birthplace, ...] = (
    Birthplace(
        "渝中区", 0.34, _periods(_URBAN_BEFORE_1983, ("510202", 1983, 1996), ("500103", 1997, None))
    ),
    Birthplace(
        "沙坪坝区",
        0.08,
        _periods(_URBAN_BEFORE_1983, ("510212", 1983, 1996), ("500106", 1997, None)),
    ),
    Birthplace(
        "九龙坡区",
        0.08,
        _periods(_URBAN_BEFORE_1983, ("510213", 1983, 1996), ("500107", 1997, None)),
    ),
    Birthplace(
        "南岸区", 0.07, _periods(_URBAN_BEFORE_1983, ("510214", 1983, 1996), ("500108", 1997, None))
    ),
    Birthplace(
        "江北区", 0.07, _periods(_URBAN_BEFORE_1983, ("510211", 1983, 1996), ("500105", 1997, None))
    ),
    Birthplace(
        "渝北区",  # 江北县 until 1994
        0.06,
        _periods(("510224", None, 1993), ("510218", 1994, 1996), ("500112", 1997, None)),
    ),
    Birthplace(
        "万州区",  # 万县市 of 万县地区, then of the prefecture-level 万县市 (1992-1997)
        0.06,
        _periods(("512201", None, 1991), ("511202", 1992, 1996), ("500101", 1997, None)),
    ),
    Birthplace(
        "开州区",  # 开县 until 2016
        0.06,
        _periods(
            ("512222", None, 1991),
            ("511221", 1992, 1996),
            ("500234", 1997, 2015),
            ("500154", 2016, None),
        ),
    ),
    Birthplace(
        "涪陵区",
        0.05,
        _periods(
            ("512321", None, 1982),
            ("512301", 1983, 1994),
            ("511402", 1995, 1996),
            ("500102", 1997, None),
        ),
    ),
    Birthplace("南充市顺庆区", 0.04, _periods(("512901", None, 1992), ("511302", 1993, None))),
    Birthplace(
        "成都市锦江区",
        0.03,
        _periods(("510100", None, 1982), ("510102", 1983, 1989), ("510104", 1990, None)),
    ),
)
"""Where Yuzhong's residents and workers were born: mostly Chongqing, some from Sichuan."""


_BIRTHPLACE = Weighted(BIRTHPLACES, [p.weight for p in BIRTHPLACES])


def birthplace(name: str) -> Birthplace:
    for place in BIRTHPLACES:
        if place.name == name:
            return place
    raise ValueError(f"no birthplace {name!r}; known: {', '.join(p.name for p in BIRTHPLACES)}")


def resident_id_check_char(first17: str) -> str:
    """The eighteenth character of a resident identity number (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"resident ID body must be 17 digits, got {first17!r}")
    return _resident_check(first17)


_DIGIT_VALUE = {digit: value for value, digit in enumerate(DIGITS)}


def _resident_check(first17: str) -> str:
    """`resident_id_check_char` for seventeen digits already known to be digits."""
    return _ID_CHECK[sum(map(mul, map(_DIGIT_VALUE.__getitem__, first17), _ID_WEIGHTS)) % 11]


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
    born_in: str | None = None,
    born_from: dt.date = dt.date(1955, 1, 1),
    born_until: dt.date = dt.date(2001, 12, 31),
    female: bool | None = None,
) -> str:
    """A resident identity number: division, birth date, sequence (odd = male), check.

    `born_in` names one of `BIRTHPLACES`; by default the place is drawn by their weights.
    """
    span = (born_until - born_from).days
    if span < 0:
        raise ValueError("born_from must not be after born_until")
    place = _BIRTHPLACE.pick(rng) if born_in is None else birthplace(born_in)
    birth = born_from + dt.timedelta(days=rng.randint(0, span))
    if female is None:
        female = rng.random() < 0.5
    sequence = rng.randrange(0, 999, 2) + (0 if female else 1)
    code = _DIVISION_CODES.get((place.name, birth.year))
    if code is None:
        code = _DIVISION_CODES[place.name, birth.year] = place.code_in(birth.year)
    first17 = f"{code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return first17 + _resident_check(first17)


_DIVISION_CODES: dict[tuple[str, int], str] = {}
"""A birthplace's division code by birth year, looked up once per place and year."""


@cache
def born_between(on: dt.date, youngest: int, oldest: int) -> tuple[dt.date, dt.date]:
    """The birth dates of people aged `youngest` to `oldest` (inclusive) on `on`."""
    latest = _years_before(on, youngest)
    earliest = _years_before(on, oldest + 1) + dt.timedelta(days=1)
    return earliest, latest


def _years_before(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


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
    return _banks_but(frozenset(exclude)).pick(rng)


@cache
def _banks_but(exclude: frozenset[Bank]) -> Weighted[Bank]:
    candidates = [bank for bank in BANKS if bank not in exclude] or list(BANKS)
    return Weighted(candidates, [bank.weight for bank in candidates])


def bank_account_number(rng: random.Random, bank: Bank) -> str:
    """A corporate account number with the bank's own prefix and length."""
    return bank.account_prefix + digits(rng, bank.account_length - len(bank.account_prefix))


def bank_by_code(code: str) -> Bank:
    """The bank a contract names by its CNAPS category code."""
    for bank in BANKS:
        if bank.code == code:
            return bank
    raise ValueError(f"no bank with code {code!r}; known: {', '.join(b.code for b in BANKS)}")


# Issuer prefixes (BIN) of personal debit cards, with the card length, for the banks whose
# cards carry the social security card's financial account in this model.
DEBIT_CARD_BINS: dict[str, tuple[str, int]] = {
    "102": ("622202", 19),  # ICBC 牡丹灵通卡
    "103": ("622848", 19),  # ABC 金穗借记卡
    "105": ("621700", 19),  # CCB 龙卡储蓄卡
    "301": ("622262", 19),  # BOCOM 太平洋借记卡
    "308": ("622588", 16),  # CMB 一卡通
}


def luhn_check_digit(body: str) -> str:
    """The last digit of a payment card number (ISO/IEC 7812, Luhn), from the digits before it."""
    if not body.isdigit():
        raise ValueError(f"card number body must be digits, got {body!r}")
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:  # doubled: these become every second digit once the check is added
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str(-total % 10)


def debit_card_number(rng: random.Random, bank: Bank) -> str:
    """A personal debit card number of `bank`: its BIN, an account part, a Luhn check digit."""
    try:
        bin_, length = DEBIT_CARD_BINS[bank.code]
    except KeyError:
        raise ValueError(f"no debit card BIN known for {bank.name}") from None
    body = bin_ + digits(rng, length - len(bin_) - 1)
    return body + luhn_check_digit(body)


def pick_card_bank(rng: random.Random) -> Bank:
    """A bank among those whose debit cards this module can number, weighted by share."""
    return _CARD_BANKS.pick(rng)


_CARD_BANKS = Weighted(
    [bank for bank in BANKS if bank.code in DEBIT_CARD_BINS],
    [bank.weight for bank in BANKS if bank.code in DEBIT_CARD_BINS],
)


# --- Other agencies' numbers --------------------------------------------------------------


def housing_fund_unit_account(rng: random.Random) -> str:
    """A 12-digit housing-fund unit account of the Yuzhong branch (division-prefixed)."""
    return "0103" + digits(rng, 8)


def real_estate_certificate_no(rng: random.Random, year: int) -> str:
    """A title certificate number in the form the register prints on the certificate."""
    return f"渝({year})渝中区不动产权第{rng.randint(1, 999_999):06d}号"


def water_account(rng: random.Random) -> str:
    """Waterworks customer number: 9 digits, the district's "103" first."""
    return "103" + digits(rng, 6)


def power_account(rng: random.Random) -> str:
    """Power-supply customer number: 10 digits starting with the province's "50"."""
    return "50" + digits(rng, 8)


def gas_account(rng: random.Random) -> str:
    """Gas customer number: 12 digits, the branch series "0103" first."""
    return "0103" + rng.choice("123456789") + digits(rng, 7)


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
    return rng.choice(_MOBILE_PREFIXES) + digits(rng, 8)


def seal_number(rng: random.Random, division: str = YUZHONG_DIVISION) -> str:
    """A 13-digit seal registration number: issuing division then a 7-digit sequence."""
    return division + digits(rng, 7)


def tax_payment_certificate_no(rng: random.Random, on: dt.date) -> str:
    """An electronic tax-payment certificate (电子完税证明) number, 18 digits.

    Shaped like the tax system's voucher numbers: "3" (a payment voucher), the issuing office's
    region "5001", the two-digit year, then an 11-digit serial. The layout is this model's.
    """
    return f"35001{on:%y}{rng.randint(1, 10**11 - 1):011d}"


_PARCEL_KINDS = ("GB", "GB", "GB", "GX")
"""宗地特征码: state-owned construction land (GB) mostly, some collective (GX)."""


def real_estate_unit_no(rng: random.Random, division: str = YUZHONG_DIVISION) -> str:
    """A 28-character real-estate unit number (不动产单元号, GB/T 37346-2019).

    Division (6), cadastral district and sub-district (3 + 3), parcel kind (2) and parcel
    number (5), "F" for a building on it, building number (4) and unit number (4).
    """
    return (
        f"{division}{rng.randint(1, 12):03d}{rng.randint(1, 30):03d}"
        f"{rng.choice(_PARCEL_KINDS)}{rng.randint(1, 99_999):05d}"
        f"F{rng.randint(1, 60):04d}{rng.randint(1, 3000):04d}"
    )


def registration_application_no(rng: random.Random, on: dt.date) -> str:
    """The register's acceptance number: "YZ", the date, a five-digit daily serial."""
    return f"YZ{on:%Y%m%d}{rng.randint(1, 99_999):05d}"


def sale_contract_no(rng: random.Random, on: dt.date) -> str:
    """A filed sale contract number (网签备案号): "YZWQ", the year, a seven-digit serial."""
    return f"YZWQ{on:%Y}{rng.randint(1, 9_999_999):07d}"
