"""Identifiers follow their national standards, checked against the standards' own examples
and against an independent implementation (python-stdnum), for every flow's producer."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from stdnum import luhn
from stdnum.cn import ric, uscc

from processors import FLOWS
from producers import identifiers as ids

# Codes printed on published business licences / in the standards; valid by construction.
PUBLISHED_USCCS = ("91350100M000100Y43", "914403001922038216", "91440300708461136T")
# GB 11643-1999's worked examples.
STANDARD_RESIDENT_IDS = ("11010519491231002X", "440524188001010014")
# GB 11714's worked example (printed as D2143569-X).
STANDARD_ORG_CODE = "D2143569X"

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ON = dt.date(2021, 6, 1)
TRIGGERS_PER_FLOW = 300
FLOWS_WITH_PEOPLE = ("F01", "F03", "F09", "F10", "F14")
"""Flows whose triggers name both people and companies, so the search must find both."""


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20210416)


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_published_uscc_is_valid(code: str) -> None:
    assert ids.uscc_is_valid(code)


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_any_single_character_change_invalidates_uscc(code: str) -> None:
    for position in range(18):
        for replacement in USCC_ALPHABET:
            if replacement == code[position]:
                continue
            changed = code[:position] + replacement + code[position + 1 :]
            assert not ids.uscc_is_valid(changed), changed


@pytest.mark.parametrize(
    "code",
    [
        "",
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "91350100M000100I43",  # I is not in the alphabet
        "91350100m000100y43",  # lower case
    ],
)
def test_malformed_uscc_is_invalid(code: str) -> None:
    assert not ids.uscc_is_valid(code)


def test_uscc_check_char_wraps_31_to_zero() -> None:
    # Weighted sum 0 gives 31 - 0 = 31, which the standard maps to "0".
    assert ids.uscc_check_char("0" * 17) == "0"


def test_generated_usccs_are_valid_and_structured(rng: random.Random) -> None:
    codes = [ids.uscc(rng) for _ in range(3000)]
    for code in codes:
        assert ids.uscc_is_valid(code), code
        assert code[0] == "9"  # market supervision
        assert code[1] == "1"  # enterprise
        assert code[2:8] == "500103"  # Yuzhong
        assert ids.org_code_is_valid(code[8:17]), code
    assert len(set(codes)) > 2990


def test_uscc_for_another_division(rng: random.Random) -> None:
    code = ids.uscc(rng, "500105")
    assert code[2:8] == "500105"
    assert ids.uscc_is_valid(code)
    with pytest.raises(ValueError):
        ids.uscc(rng, "5001")


def test_standard_org_code_example() -> None:
    assert ids.org_code_check_char(STANDARD_ORG_CODE[:8]) == "X"
    assert ids.org_code_is_valid(STANDARD_ORG_CODE)


def test_org_code_check_char_from_published_uscc() -> None:
    assert ids.org_code_is_valid("M000100Y4")
    assert not ids.org_code_is_valid("M000100Y5")


def test_org_code_check_11_maps_to_zero() -> None:
    # Weighted sum 0 gives 11 - 0 = 11, which GB 11714 writes as "0".
    assert ids.org_code_check_char("00000000") == "0"
    assert ids.org_code_is_valid("000000000")


@pytest.mark.parametrize("number", STANDARD_RESIDENT_IDS)
def test_standard_resident_ids_are_valid(number: str) -> None:
    assert ids.resident_id_is_valid(number)


@pytest.mark.parametrize("number", STANDARD_RESIDENT_IDS)
def test_any_single_digit_change_invalidates_resident_id(number: str) -> None:
    for position in range(18):
        for replacement in "0123456789X":
            if replacement == number[position] or (position < 17 and replacement == "X"):
                continue
            changed = number[:position] + replacement + number[position + 1 :]
            assert not ids.resident_id_is_valid(changed), changed


def test_resident_id_with_impossible_birth_date_is_invalid() -> None:
    first17 = "50010320210230001"  # 30 February
    assert not ids.resident_id_is_valid(first17 + ids.resident_id_check_char(first17))


def test_generated_resident_ids(rng: random.Random) -> None:
    born_from, born_until = dt.date(1960, 1, 1), dt.date(1999, 12, 31)
    for _ in range(2000):
        number = ids.resident_id(rng, born_from=born_from, born_until=born_until)
        assert ids.resident_id_is_valid(number), number
        birth = dt.datetime.strptime(number[6:14], "%Y%m%d").date()
        assert born_from <= birth <= born_until
        codes = {place.code_in(birth.year) for place in ids.BIRTHPLACES}
        assert number[:6] in codes, number
    assert int(ids.resident_id(rng, female=True)[16]) % 2 == 0
    assert int(ids.resident_id(rng, female=False)[16]) % 2 == 1


@pytest.mark.parametrize(
    ("year", "code"), [(1975, "510220"), (1983, "510202"), (1996, "510202"), (1997, "500103")]
)
def test_yuzhong_code_follows_the_birth_year(rng: random.Random, year: int, code: str) -> None:
    born = dt.date(year, 6, 1)
    number = ids.resident_id(rng, born_in="渝中区", born_from=born, born_until=born)
    assert number.startswith(code + f"{year}0601")


def test_every_birthplace_has_a_code_for_every_birth_year() -> None:
    for place in ids.BIRTHPLACES:
        for year in range(1920, 2022):
            assert len(place.code_in(year)) == 6
    with pytest.raises(ValueError, match="no birthplace"):
        ids.resident_id(random.Random(1), born_in="Atlantis")


def test_born_between_gives_the_ages_asked_for() -> None:
    on = dt.date(2021, 6, 1)
    earliest, latest = ids.born_between(on, 18, 59)
    assert latest == dt.date(2003, 6, 1)  # 18 today
    assert earliest == dt.date(1961, 6, 2)  # 59 until tomorrow, when 60
    assert ids.born_between(dt.date(2024, 2, 29), 1, 1)[1] == dt.date(2023, 2, 28)


def test_bank_table_codes() -> None:
    codes = {bank.short_name: bank.code for bank in ids.BANKS}
    assert codes["ICBC"] == "102"
    assert codes["ABC"] == "103"
    assert codes["BOC"] == "104"
    assert codes["CCB"] == "105"
    assert codes["BOCOM"] == "301"
    assert codes["CMB"] == "308"
    names = {bank.name for bank in ids.BANKS}
    assert {"重庆银行", "重庆农村商业银行"} <= names


def test_bank_account_numbers_fit_their_bank(rng: random.Random) -> None:
    for bank in ids.BANKS:
        for _ in range(50):
            number = ids.bank_account_number(rng, bank)
            assert number.isdigit()
            assert len(number) == bank.account_length
            assert number.startswith(bank.account_prefix)


def test_pick_bank_avoids_excluded(rng: random.Random) -> None:
    excluded = ids.BANKS[:-1]
    assert all(ids.pick_bank(rng, exclude=excluded) == ids.BANKS[-1] for _ in range(20))


def test_utility_accounts_have_distinct_formats(rng: random.Random) -> None:
    makers = (ids.water_account, ids.power_account, ids.gas_account)
    lengths = set()
    for make in makers:
        numbers = {make(rng) for _ in range(200)}
        assert all(n.isdigit() for n in numbers)
        (length,) = {len(n) for n in numbers}
        lengths.add(length)
    assert len(lengths) == len(makers)


def test_other_numbers(rng: random.Random) -> None:
    for _ in range(200):
        assert re.fullmatch(r"1[3-9]\d{9}", ids.mobile_phone(rng))
        assert re.fullmatch(r"500103\d{7}", ids.seal_number(rng))
        assert re.fullmatch(r"\d{12}", ids.housing_fund_unit_account(rng))
        assert re.fullmatch(
            r"渝\(2021\)渝中区不动产权第\d{6}号", ids.real_estate_certificate_no(rng, 2021)
        )
        assert re.fullmatch(r"3500121\d{11}", ids.tax_payment_certificate_no(rng, ON))
        assert re.fullmatch(r"YZ20210601\d{5}", ids.registration_application_no(rng, ON))
        assert re.fullmatch(r"YZWQ2021\d{7}", ids.sale_contract_no(rng, ON))
        assert re.fullmatch(r"500103\d{6}(GB|GX)\d{5}F\d{8}", ids.real_estate_unit_no(rng))


def test_card_numbers_pass_luhn(rng: random.Random) -> None:
    assert ids.luhn_check_digit("7992739871") == "3"  # the algorithm's textbook example
    for code, (bin_, length) in ids.DEBIT_CARD_BINS.items():
        bank = ids.bank_by_code(code)
        for _ in range(100):
            number = ids.debit_card_number(rng, bank)
            assert luhn.is_valid(number), number
            assert number.startswith(bin_) and len(number) == length
    with pytest.raises(ValueError, match="no debit card"):
        ids.debit_card_number(rng, ids.bank_by_code("313"))


# -- against python-stdnum --------------------------------------------------------------------


def test_stdnum_accepts_every_birthplace_code_in_every_birth_year() -> None:
    for place in ids.BIRTHPLACES:
        for year in range(1925, 2011):
            first17 = f"{place.code_in(year)}{year}0615001"
            number = first17 + ids.resident_id_check_char(first17)
            assert ric.is_valid(number), (place.name, year, number)


def test_stdnum_rejects_the_division_code_used_before_it_existed() -> None:
    # Why the code must follow the birth year: 500103 dates from 1997.
    first17 = "50010319800101001"
    assert ids.resident_id_is_valid(first17 + ids.resident_id_check_char(first17))
    assert not ric.is_valid(first17 + ids.resident_id_check_char(first17))


def test_generated_identifiers_pass_stdnum(rng: random.Random) -> None:
    for _ in range(3000):
        number = ids.resident_id(rng, born_from=dt.date(1930, 1, 1), born_until=ON)
        assert ric.is_valid(number), number
        code = ids.uscc(rng)
        assert uscc.is_valid(code), code


def identifiers_in(
    value: object, key: str = "", parent: dict | None = None
) -> list[tuple[str, str]]:
    """(kind, value) for every resident id and USCC in a trigger, found by field name.

    `id_number` is a resident id unless a sibling `id_kind` says USCC; any field whose name
    ends in `uscc` is a USCC.
    """
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for name, item in value.items():
            found += identifiers_in(item, str(name), value)
    elif isinstance(value, list):
        for item in value:
            found += identifiers_in(item, key, parent)
    elif isinstance(value, str):
        if key.endswith("uscc"):
            found.append(("uscc", value))
        elif key.endswith("id_number"):
            kind = (parent or {}).get("id_kind", "RESIDENT_ID")
            found.append(("uscc" if kind == "USCC" else "ric", value))
    return found


RESIDENT_ID_SHAPE = re.compile(r"\d{6}(18|19|20)\d{2}(0[1-9]|1[0-2])([0-2]\d|3[01])\d{3}[\dX]")


def strings_in(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_every_flows_triggers_carry_valid_identifiers(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    make = flow.source.generator(random.Random(20210601), {})
    counts = {"ric": 0, "uscc": 0}
    for n in range(TRIGGERS_PER_FLOW):
        trigger = make(f"{flow_id}-{n:07d}", ON)
        for kind, value in identifiers_in(trigger):
            counts[kind] += 1
            check = ric if kind == "ric" else uscc
            assert check.is_valid(value), (flow_id, kind, value)
        # A resident id under a field name the walk does not know must still be valid.
        for value in strings_in(trigger):
            if RESIDENT_ID_SHAPE.fullmatch(value):
                assert ric.is_valid(value), (flow_id, value)
    if flow_id in FLOWS_WITH_PEOPLE:
        assert counts["ric"] > 0 and counts["uscc"] > 0, counts
