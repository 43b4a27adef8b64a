"""The district court's generators: reproducible for a seed, valid for their contracts, mixed
as configured, and handing their cases on (judgment → enforcement, liquidation →
deregistration) without changing what they carry.

No flow names these sources yet, so the generic source tests of test_producers.py do not
reach them; this file checks the same things directly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
import statistics
from collections import Counter
from collections.abc import Callable
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest
from fastavro.schema import parse_schema
from fastavro.validation import validate

from producers.court import (
    ADMINISTRATORS,
    BankruptcyMix,
    BankruptcyRulingGenerator,
    EnforcementFiledGenerator,
    EnforcementMix,
    JudgmentMix,
    JudgmentTookEffectGenerator,
    deregistration_from_ruling,
    enforcement_from_judgment,
)
from producers.identifiers import bank_by_code, resident_id_is_valid, uscc_is_valid
from producers.ids import case_id

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
ON = dt.date(2021, 9, 1)
N = 2000
TITLE = re.compile(r"渝\((\d{4})\)渝中区不动产权第\d{6}号")

Generated = list[dict[str, Any]]


def _schema(path: str) -> Any:
    """A contract parsed on its own, as each .avsc file stands alone."""
    return parse_schema(json.loads((SCHEMAS / path).read_text(encoding="utf-8")))


def _valid(value: dict[str, Any], schema: Any) -> bool:
    return validate(value, schema, raise_errors=True, strict=True)


def _within_binomial(observed: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """|observed - np| within `sigmas` binomial standard deviations."""
    return abs(observed - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def _judgments(seed: Any, count: int, mix: JudgmentMix | None = None) -> Generated:
    generator = JudgmentTookEffectGenerator(random.Random(seed), mix)
    return [generator.generate(case_id("F15", n), ON) for n in range(1, count + 1)]


def _enforcements(seed: Any, count: int, mix: EnforcementMix | None = None) -> Generated:
    generator = EnforcementFiledGenerator(random.Random(seed), mix)
    return [generator.generate(case_id("F19", n), ON) for n in range(1, count + 1)]


def _rulings(seed: Any, count: int, mix: BankruptcyMix | None = None) -> Generated:
    generator = BankruptcyRulingGenerator(random.Random(seed), mix)
    return [generator.generate(case_id("F16", n), ON) for n in range(1, count + 1)]


GENERATORS: dict[str, tuple[Callable[..., Generated], str, str]] = {
    "judgment": (_judgments, "f15/JudgmentTookEffect.avsc", "court.judgment-took-effect.v1"),
    "enforcement": (
        _enforcements,
        "f19/EnforcementCaseFiled.avsc",
        "court.enforcement-case-filed.v1",
    ),
    "bankruptcy": (_rulings, "f16/BankruptcyRuled.avsc", "court.bankruptcy-ruled.v1"),
}


@pytest.fixture(scope="module")
def judgments() -> Generated:
    return _judgments(7, N)


@pytest.fixture(scope="module")
def enforcements() -> Generated:
    return _enforcements(7, N)


@pytest.fixture(scope="module")
def rulings() -> Generated:
    return _rulings(7, N)


@pytest.fixture(scope="module")
def drawn(judgments: Generated, enforcements: Generated, rulings: Generated) -> dict[str, Any]:
    return {"judgment": judgments, "enforcement": enforcements, "bankruptcy": rulings}


# --- every generator ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", GENERATORS)
def test_same_seed_same_values_different_seed_different(kind: str) -> None:
    """A run is reproduced from its seed, and another seed is another run."""
    generate, _, _ = GENERATORS[kind]
    first = generate(42, 50)
    assert first == generate(42, 50)
    other = generate(43, 50)
    assert first != other
    assert {v["event_id"] for v in first}.isdisjoint(v["event_id"] for v in other)


@pytest.mark.parametrize("kind", GENERATORS)
def test_the_global_random_state_is_not_used(kind: str) -> None:
    """All randomness comes from the rng passed in, or seeds would not fix the data."""
    generate, _, _ = GENERATORS[kind]
    random.seed(1)
    first = generate(3, 20)
    random.seed(2)
    assert generate(3, 20) == first


@pytest.mark.parametrize("kind", GENERATORS)
def test_every_value_is_valid_for_its_contract_and_keeps_its_case(
    kind: str, drawn: dict[str, Any]
) -> None:
    """A value the contract refuses would be dead-lettered before any recipient sees it."""
    _, schema_file, _ = GENERATORS[kind]
    schema = _schema(schema_file)
    values = drawn[kind]
    assert len(values) == N
    for n, value in enumerate(values, start=1):
        assert _valid(value, schema)
        assert value["case_id"] == case_id(value["case_id"][:3], n)
    assert len({v["event_id"] for v in values}) == N


def test_topics_are_the_courts() -> None:
    """Topic names carry the source agency's id, as the catalog expects of every source."""
    assert JudgmentTookEffectGenerator.topic == GENERATORS["judgment"][2]
    assert EnforcementFiledGenerator.topic == GENERATORS["enforcement"][2]
    assert BankruptcyRulingGenerator.topic == GENERATORS["bankruptcy"][2]


# --- parties, numbers and identifiers -------------------------------------------------------


def _parties(values: Generated) -> list[dict[str, Any]]:
    return [v[side] for v in values for side in ("creditor", "debtor")]


@pytest.mark.parametrize("kind", ["judgment", "enforcement"])
def test_parties_carry_the_identifier_of_their_kind(kind: str, drawn: dict[str, Any]) -> None:
    """A company is found by its credit code, a person by identity number; never both."""
    kinds = Counter()
    for party in _parties(drawn[kind]):
        kinds[party["kind"]] += 1
        if party["kind"] == "COMPANY":
            assert party["id_number"] is None
            assert uscc_is_valid(party["uscc"]), party["uscc"]
            assert party["name"].startswith("重庆")
        else:
            assert party["uscc"] is None
            assert resident_id_is_valid(party["id_number"]), party["id_number"]
            birth = dt.date.fromisoformat(
                f"{party['id_number'][6:10]}-{party['id_number'][10:12]}-{party['id_number'][12:14]}"
            )
            assert (ON - birth).days >= 18 * 365, "a party to a judgment is an adult"
    assert kinds["COMPANY"] and kinds["PERSON"]


@pytest.mark.parametrize("kind", ["judgment", "enforcement"])
def test_debtor_accounts_are_the_banks_and_grouped_by_bank(
    kind: str, drawn: dict[str, Any]
) -> None:
    """One freezing request per bank covers a debtor's accounts there only if each bank's
    accounts come together: a bank appears as one run of one or two accounts."""
    runs_seen = Counter()
    for value in drawn[kind]:
        accounts = value["debtor_bank_accounts"]
        runs = [(code, list(group)) for code, group in groupby(accounts, lambda a: a["bank_code"])]
        codes = [code for code, _ in runs]
        assert len(codes) == len(set(codes)), f"a bank's accounts are split: {codes}"
        numbers = [a["account_number"] for a in accounts]
        assert len(numbers) == len(set(numbers))
        for code, group in runs:
            assert 1 <= len(group) <= 2
            runs_seen[len(group)] += 1
            bank = bank_by_code(code)
            for account in group:
                assert account["bank_name"] == bank.name
                number = account["account_number"]
                assert number.isdigit() and len(number) == bank.account_length
                assert number.startswith(bank.account_prefix)
    assert runs_seen[1] and runs_seen[2], "some banks hold one account, some two"


@pytest.mark.parametrize(
    ("kind", "mix"), [("judgment", JudgmentMix()), ("enforcement", EnforcementMix())]
)
def test_debtor_bank_counts_follow_the_weights(
    kind: str, mix: JudgmentMix | EnforcementMix, drawn: dict[str, Any]
) -> None:
    """How many banks a case reaches is the scenario's knob: each count at its share."""
    weights = mix.bank_weights
    counts = Counter(len({a["bank_code"] for a in v["debtor_bank_accounts"]}) for v in drawn[kind])
    assert set(counts) <= set(range(len(weights)))
    for banks, weight in enumerate(weights):
        assert _within_binomial(counts[banks], N, weight / sum(weights)), (banks, counts)


def test_case_numbers_are_the_courts(
    judgments: Generated, enforcements: Generated, rulings: Generated
) -> None:
    """Case numbers as the court writes them, with the year the case is numbered in."""
    for value in judgments:
        assert re.fullmatch(rf"\({ON.year}\)渝0103民初[1-9]\d*号", value["judgment_number"])
    for value in enforcements:
        assert re.fullmatch(rf"\({ON.year}\)渝0103执[1-9]\d*号", value["enforcement_number"])
        match = re.fullmatch(r"\((\d{4})\)渝0103民初[1-9]\d*号", value["judgment_number"])
        assert match and ON.year - 1 <= int(match[1]) <= ON.year
    for value in rulings:
        assert re.fullmatch(rf"\({ON.year}\)渝0103破[1-9]\d*号", value["ruling_number"])


@pytest.mark.parametrize("kind", ["judgment", "enforcement"])
def test_debtor_properties_are_titles_in_yuzhong(kind: str, drawn: dict[str, Any]) -> None:
    """The register finds a property by its title number; titles date from 2016 on."""
    sizes = Counter()
    for value in drawn[kind]:
        properties = value["debtor_properties"]
        sizes[len(properties)] += 1
        certificates = [p["certificate_number"] for p in properties]
        assert len(certificates) == len(set(certificates))
        for item in properties:
            match = re.fullmatch(
                r"渝\((\d{4})\)渝中区不动产权第\d{6}号", item["certificate_number"]
            )
            assert match and 2016 <= int(match[1]) <= ON.year
            assert item["address"].startswith("重庆市渝中区")
    assert set(sizes) == {0, 1, 2}


def test_amounts_are_bounded_with_the_median_set(judgments: Generated) -> None:
    """Amounts are at least 1,000 yuan with a median near 80,000 (lognormal, sigma 1.2): the
    sample median's log lies within 4 standard errors of log 80,000."""
    amounts = [v["amount_yuan"] for v in judgments]
    assert min(amounts) >= 1_000
    standard_error = 1.2 * math.sqrt(math.pi / 2) / math.sqrt(N)
    assert abs(math.log(statistics.median(amounts)) - math.log(80_000)) <= 4 * standard_error


def test_commercial_cases_are_between_companies(judgments: Generated) -> None:
    """A dispute between two businesses is heard as commercial, any other as civil."""
    for value in judgments:
        both = value["creditor"]["kind"] == value["debtor"]["kind"] == "COMPANY"
        assert value["case_kind"] == ("COMMERCIAL" if both else "CIVIL")
        assert value["effective_on"] == ON
    assert {v["case_kind"] for v in judgments} == {"CIVIL", "COMMERCIAL"}


def test_bankrupt_companies_identifiers_and_holdings(rulings: Generated) -> None:
    """What F03's recipients later close must be well formed: seals, accounts, fund account."""
    for value in rulings:
        assert value["ruled_on"] == ON
        assert uscc_is_valid(value["uscc"])
        assert resident_id_is_valid(value["legal_representative"]["id_number"])
        assert value["administrator_name"] in ADMINISTRATORS
        assert value["registered_address"].startswith("重庆市渝中区")
        seals = value["seals"]
        assert seals[0]["kind"] == "OFFICIAL"
        assert len({s["kind"] for s in seals}) == len(seals)
        assert all(re.fullmatch(r"500103\d{7}", s["seal_no"]) for s in seals)
        accounts = value["bank_accounts"]
        codes = [a["bank_code"] for a in accounts]
        assert len(codes) == len(set(codes)), "one bank per account"
        if accounts:
            assert [a["account_kind"] for a in accounts].count("BASIC") == 1
            assert accounts[0]["account_kind"] == "BASIC"
        for account in accounts:
            bank = bank_by_code(account["bank_code"])
            assert account["bank_name"] == bank.name
            assert account["account_number"].startswith(bank.account_prefix)
            assert len(account["account_number"]) == bank.account_length
        fund = value["housing_fund_account"]
        if fund is not None:
            assert re.fullmatch(r"0103\d{8}", fund["unit_account_number"])
            assert fund["employees"] == len(value["employees"])
        assert value["tax_arrears_yuan"] >= 0


def test_employees_are_distinct_working_age_people(rulings: Generated) -> None:
    """hrss transfers each employee's insurance once: ids valid, distinct, months positive."""
    for value in rulings:
        ids = [e["id_number"] for e in value["employees"]]
        assert len(ids) == len(set(ids))
        for employee in value["employees"]:
            assert resident_id_is_valid(employee["id_number"])
            assert 1 <= employee["insured_months"] <= 360


# --- the mixes hold -----------------------------------------------------------------------


def _share_holds(values: Generated, test: Callable[[dict[str, Any]], bool], p: float) -> bool:
    observed = sum(1 for v in values if test(v))
    return _within_binomial(observed, len(values), p)


def test_judgment_mix_shares(judgments: Generated) -> None:
    """Each share the scenario sets is the share drawn."""
    mix = JudgmentMix()
    assert _share_holds(judgments, lambda v: v["enforcement_applied"], mix.enforcement_probability)
    assert _share_holds(
        judgments, lambda v: v["debtor"]["kind"] == "COMPANY", mix.company_debtor_probability
    )
    assert _share_holds(
        judgments, lambda v: v["creditor"]["kind"] == "COMPANY", mix.company_creditor_probability
    )
    assert _share_holds(judgments, lambda v: bool(v["debtor_properties"]), mix.property_probability)
    assert _share_holds(
        judgments, lambda v: v["address_committed"], mix.address_committed_probability
    )


def test_enforcement_mix_shares(enforcements: Generated) -> None:
    mix = EnforcementMix()
    assert _share_holds(
        enforcements, lambda v: v["first_auction_sells"], mix.first_auction_sells_probability
    )
    assert _share_holds(enforcements, lambda v: v["movables"], mix.movables_probability)
    assert _share_holds(
        enforcements, lambda v: v["debtor"]["kind"] == "COMPANY", mix.company_debtor_probability
    )
    assert _share_holds(
        enforcements, lambda v: bool(v["debtor_properties"]), mix.property_probability
    )


def test_bankruptcy_mix_shares(rulings: Generated) -> None:
    mix = BankruptcyMix()
    assert _share_holds(
        rulings, lambda v: v["procedure"] == "LIQUIDATION", mix.liquidation_probability
    )
    assert _share_holds(
        rulings, lambda v: v["housing_fund_account"] is not None, mix.housing_fund_probability
    )
    assert _share_holds(rulings, lambda v: v["tax_arrears_yuan"] > 0, mix.tax_arrears_probability)
    assert _share_holds(rulings, lambda v: v["dishonest"], mix.dishonest_probability)


def test_bankruptcy_counts_follow_the_weights(rulings: Generated) -> None:
    """Accounts decide which banks act, employees whether hrss acts: each count at its share."""
    mix = BankruptcyMix()
    for field, weights in (
        ("bank_accounts", mix.bank_account_weights),
        ("employees", mix.employee_count_weights),
    ):
        counts = Counter(len(v[field]) for v in rulings)
        assert set(counts) <= set(range(len(weights))), field
        for count, weight in enumerate(weights):
            assert _within_binomial(counts[count], N, weight / sum(weights)), (field, counts)


def test_a_changed_mix_changes_the_draws() -> None:
    """The knobs reach the draws: certainties give every case the same answer."""
    assert all(
        v["enforcement_applied"]
        for v in _judgments(1, 100, JudgmentMix(enforcement_probability=1.0))
    )
    assert not any(
        v["debtor_bank_accounts"] for v in _judgments(1, 100, JudgmentMix(bank_weights=(1.0,)))
    )
    sold = _enforcements(1, 100, EnforcementMix(first_auction_sells_probability=0.0))
    assert not any(v["first_auction_sells"] for v in sold)
    rulings = _rulings(
        1, 100, BankruptcyMix(liquidation_probability=0.0, housing_fund_probability=1)
    )
    assert {v["procedure"] for v in rulings} == {"REORGANISATION"}
    assert all(v["housing_fund_account"] is not None for v in rulings)


# --- hand-overs ---------------------------------------------------------------------------

CARRIED_FROM_JUDGMENT = (
    "judgment_number",
    "creditor",
    "debtor",
    "amount_yuan",
    "debtor_bank_accounts",
    "debtor_properties",
)


def test_an_enforcement_filed_on_a_judgment_carries_it_unchanged(judgments: Generated) -> None:
    """M43: the filing rests on the judgment's generated status, not on retyped paper."""
    schema = _schema("f19/EnforcementCaseFiled.avsc")
    applied = [j for j in judgments if j["enforcement_applied"]]
    assert applied
    rng = random.Random(11)
    filed_on = ON + dt.timedelta(days=10)
    for n, judgment in enumerate(applied, start=1):
        before = json.dumps(judgment, default=str, sort_keys=True)
        filed = enforcement_from_judgment(
            judgment, case_id("F19", n), filed_on, rng, EnforcementMix()
        )
        assert _valid(filed, schema)
        assert {name: filed[name] for name in CARRIED_FROM_JUDGMENT} == {
            name: judgment[name] for name in CARRIED_FROM_JUDGMENT
        }
        assert filed["case_id"] == case_id("F19", n)
        assert filed["filed_on"] == filed_on
        assert filed["event_id"] != judgment["event_id"]
        assert re.fullmatch(rf"\({filed_on.year}\)渝0103执[1-9]\d*号", filed["enforcement_number"])
        # The filing owns its copies: changing it leaves the judgment as it was.
        filed["debtor"]["name"] = "changed"
        filed["debtor_bank_accounts"].append({})
        assert json.dumps(judgment, default=str, sort_keys=True) == before


def test_an_enforcement_from_a_judgment_is_reproducible_and_mixed() -> None:
    """Only the filing's own draws come from the rng, so a seed fixes them too."""
    judgment = next(j for j in _judgments(5, 50) if j["enforcement_applied"])

    def filings(seed: int, mix: EnforcementMix) -> Generated:
        rng = random.Random(seed)
        return [enforcement_from_judgment(judgment, "F19-000001", ON, rng, mix) for _ in range(N)]

    assert filings(1, EnforcementMix()) == filings(1, EnforcementMix())
    drawn = filings(2, EnforcementMix())
    mix = EnforcementMix()
    assert _share_holds(drawn, lambda v: v["movables"], mix.movables_probability)
    assert _share_holds(
        drawn, lambda v: v["first_auction_sells"], mix.first_auction_sells_probability
    )


def test_no_enforcement_without_an_application_or_before_the_judgment(
    judgments: Generated,
) -> None:
    """No one applied, or the judgment was not yet effective: there is nothing to file."""
    unapplied = next(j for j in judgments if not j["enforcement_applied"])
    with pytest.raises(ValueError, match="no application"):
        enforcement_from_judgment(unapplied, "F19-1", ON, random.Random(1), EnforcementMix())
    applied = next(j for j in judgments if j["enforcement_applied"])
    with pytest.raises(ValueError, match="before the judgment"):
        enforcement_from_judgment(
            applied, "F19-1", ON - dt.timedelta(days=1), random.Random(1), EnforcementMix()
        )


def test_a_liquidation_ends_in_a_deregistration_that_carries_its_holdings(
    rulings: Generated,
) -> None:
    """M46 企业注销: F03's recipients close the very seals and accounts the ruling lists."""
    schema = _schema("f03/CompanyDeregistered.avsc")
    liquidations = [r for r in rulings if r["procedure"] == "LIQUIDATION"]
    assert liquidations
    on = ON + dt.timedelta(days=180)
    carried = (
        "uscc",
        "company_name",
        "legal_representative",
        "registered_address",
        "seals",
        "bank_accounts",
        "housing_fund_account",
    )
    for n, ruling in enumerate(liquidations, start=1):
        value = deregistration_from_ruling(ruling, case_id("F03", n), on, f"event-{n}")
        assert _valid(value, schema)
        assert {k: value[k] for k in carried} == {k: ruling[k] for k in carried}
        assert value["deregistration_type"] == "ORDINARY"
        assert value["deregistered_on"] == on
        assert (value["case_id"], value["event_id"]) == (case_id("F03", n), f"event-{n}")
        assert value["seals"] is not ruling["seals"], "the deregistration owns its copies"


def test_no_deregistration_for_a_reorganisation_or_before_the_ruling(rulings: Generated) -> None:
    """A reorganised company goes on trading; a liquidation cannot end before it began."""
    reorganisation = next(r for r in rulings if r["procedure"] == "REORGANISATION")
    with pytest.raises(ValueError, match="only a liquidation"):
        deregistration_from_ruling(reorganisation, "F03-1", ON, "e")
    liquidation = next(r for r in rulings if r["procedure"] == "LIQUIDATION")
    with pytest.raises(ValueError, match="before the ruling"):
        deregistration_from_ruling(liquidation, "F03-1", ON - dt.timedelta(days=1), "e")


# --- bad mixes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mix_type", "field", "bad"),
    [
        (JudgmentMix, "enforcement_probability", 1.5),
        (JudgmentMix, "company_debtor_probability", -0.1),
        (JudgmentMix, "company_creditor_probability", 2.0),
        (JudgmentMix, "property_probability", -1.0),
        (JudgmentMix, "address_committed_probability", 1.01),
        (JudgmentMix, "bank_weights", (0.0, 0.0)),
        (JudgmentMix, "bank_weights", (1.0, -0.5)),
        (JudgmentMix, "bank_weights", ()),
        (JudgmentMix, "bank_weights", (1.0,) * 10),
        (EnforcementMix, "company_debtor_probability", 1.2),
        (EnforcementMix, "company_creditor_probability", -0.2),
        (EnforcementMix, "property_probability", 3.0),
        (EnforcementMix, "movables_probability", -0.01),
        (EnforcementMix, "first_auction_sells_probability", 1.1),
        (EnforcementMix, "bank_weights", (0.0,)),
        (EnforcementMix, "bank_weights", (1.0, float("nan"))),
        (BankruptcyMix, "liquidation_probability", 1.5),
        (BankruptcyMix, "housing_fund_probability", -0.5),
        (BankruptcyMix, "tax_arrears_probability", 2.0),
        (BankruptcyMix, "dishonest_probability", -1.0),
        (BankruptcyMix, "bank_account_weights", (0.0, 0.0, 0.0)),
        (BankruptcyMix, "bank_account_weights", (1.0,) * 10),
        (BankruptcyMix, "employee_count_weights", (-1.0, 2.0)),
        (BankruptcyMix, "employee_count_weights", ()),
    ],
)
def test_a_bad_mix_is_refused_naming_its_field(mix_type: type, field: str, bad: Any) -> None:
    """A scenario author learns which knob is wrong before any case is drawn."""
    with pytest.raises(ValueError, match=field):
        mix_type(**{field: bad})


@pytest.mark.parametrize("mix_type", [JudgmentMix, EnforcementMix, BankruptcyMix])
def test_the_default_mixes_are_valid_and_frozen(mix_type: type) -> None:
    """Generators share one mix object; it must not change under them."""
    mix = mix_type()
    field = next(iter(vars(mix)))
    with pytest.raises(AttributeError):
        setattr(mix, field, 0.5)
