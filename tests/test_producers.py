"""Source generators: reproducible for a seed, valid for their contracts, mixed as configured.

The first tests run over every discovered flow's source; the rest check what the company
register (F03) and the real-estate register (F10) draw, against their mixes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import uuid
from collections import Counter
from typing import Any

import pytest
from fastavro.validation import validate

from govstream.contracts.catalog import load_catalog
from processors.flow import FlowSpec
from producers.amr import CompanyDeregistrationGenerator, DeregistrationMix
from producers.identifiers import BANKS, resident_id_is_valid, uscc_is_valid
from producers.ids import case_id, event_id, uuid4
from producers.names import SUB_DISTRICT_ROADS, company_name, person_name, yuzhong_address
from producers.real_estate import PropertyTransferGenerator, PropertyTransferMix

ON = dt.date(2021, 9, 1)
DEREGISTERED = "amr.company-deregistered.v1"
TRANSFERRED = "real-estate.property-transfer-registered.v1"
N = 2000


def _deregistrations(seed: int, count: int, mix: DeregistrationMix | None = None) -> list[dict]:
    generator = CompanyDeregistrationGenerator(random.Random(seed), mix)
    return [generator.generate(case_id("F03", n), ON) for n in range(1, count + 1)]


def _transfers(seed: int, count: int, mix: PropertyTransferMix | None = None) -> list[dict]:
    generator = PropertyTransferGenerator(random.Random(seed), mix)
    return [generator.generate(case_id("F10", n), ON) for n in range(1, count + 1)]


@pytest.fixture(scope="module")
def companies() -> list[dict[str, Any]]:
    return _deregistrations(7, N)


@pytest.fixture(scope="module")
def transfers() -> list[dict[str, Any]]:
    return _transfers(7, N)


def _within_binomial(observed: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """|observed - np| within `sigmas` binomial standard deviations."""
    return abs(observed - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


# --- every flow's source ------------------------------------------------------------------


def _generated(spec: FlowSpec, seed: Any, count: int, **population: Any) -> list[dict]:
    make = spec.source.generator(random.Random(seed), population)
    return [make(case_id(spec.id, n), ON) for n in range(1, count + 1)]


def test_source_is_reproducible_for_a_seed(flow_spec: FlowSpec) -> None:
    first = _generated(flow_spec, 42, 50)
    assert first == _generated(flow_spec, 42, 50)
    assert first != _generated(flow_spec, 43, 50)


def test_source_does_not_use_the_global_random_state(flow_spec: FlowSpec) -> None:
    random.seed(1)
    first = _generated(flow_spec, 3, 10)
    random.seed(2)
    assert _generated(flow_spec, 3, 10) == first


def test_source_triggers_validate_strictly_and_carry_their_case(flow_spec: FlowSpec) -> None:
    schema = load_catalog().parsed_schema(flow_spec.source_topic)
    values = _generated(flow_spec, 5, 300)
    for n, value in enumerate(values, start=1):
        assert validate(value, schema, raise_errors=True, strict=True)
        assert value["case_id"] == case_id(flow_spec.id, n)
    if "event_id" in values[0]:
        assert len({value["event_id"] for value in values}) == len(values)


def test_source_population_knobs_are_its_mix_fields(flow_spec: FlowSpec) -> None:
    """Every knob a scenario may set is a field of the mix, with a default that validates."""
    source = flow_spec.source
    defaults = source.mix_type()
    assert source.mix_fields(), "a source offers at least one population knob"
    # The defaults written out as a scenario would (lists for sequences) change nothing.
    written = {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in ((n, getattr(defaults, n)) for n in source.mix_fields())
    }
    assert _generated(flow_spec, 9, 30, **written) == _generated(flow_spec, 9, 30)
    # An unknown knob is refused (the scenario model names the allowed ones before this).
    with pytest.raises((AttributeError, TypeError)):
        source.generator(random.Random(1), {"no_such_knob": 1})


# --- reproducibility ----------------------------------------------------------------------


@pytest.mark.parametrize("generate", [_deregistrations, _transfers])
def test_same_seed_same_data(generate: Any) -> None:
    assert generate(42, 50) == generate(42, 50)


@pytest.mark.parametrize("generate", [_deregistrations, _transfers])
def test_different_seeds_differ(generate: Any) -> None:
    first, second = generate(1, 50), generate(2, 50)
    assert first != second
    assert {v["event_id"] for v in first}.isdisjoint(v["event_id"] for v in second)


def test_global_random_state_is_not_used() -> None:
    random.seed(1)
    first = _deregistrations(3, 5)
    random.seed(2)
    assert _deregistrations(3, 5) == first


def test_event_ids_are_version_4_uuids(companies: list[dict[str, Any]]) -> None:
    parsed = [uuid.UUID(v["event_id"]) for v in companies]
    assert all(u.version == 4 for u in parsed)
    assert len(set(parsed)) == len(parsed)
    assert uuid4(random.Random(5)) == uuid4(random.Random(5))
    assert event_id(random.Random(5)) == str(uuid4(random.Random(5)))


def test_case_ids() -> None:
    assert case_id("F03", 1) == "F03-000001"
    assert case_id("F10", 123456) == "F10-123456"
    with pytest.raises(ValueError):
        case_id("f3", 1)


# --- contracts ----------------------------------------------------------------------------


def test_deregistrations_validate_strictly(companies: list[dict[str, Any]]) -> None:
    schema = load_catalog().parsed_schema(DEREGISTERED)
    for value in companies:
        assert validate(value, schema, raise_errors=True, strict=True)


def test_transfers_validate_strictly(transfers: list[dict[str, Any]]) -> None:
    schema = load_catalog().parsed_schema(TRANSFERRED)
    for value in transfers:
        assert validate(value, schema, raise_errors=True, strict=True)


def test_generators_name_their_topic() -> None:
    catalog = load_catalog()
    amr = CompanyDeregistrationGenerator.topic
    real_estate = PropertyTransferGenerator.topic
    assert catalog.topic(amr).producers[0] == "amr", "the register, and F16's hand-overs"
    assert catalog.topic(real_estate).producers == ("real-estate",)


# --- company deregistrations (F03) --------------------------------------------------------


def test_identifiers_in_deregistrations_are_valid(companies: list[dict[str, Any]]) -> None:
    for value in companies:
        assert uscc_is_valid(value["uscc"]), value["uscc"]
        assert resident_id_is_valid(value["legal_representative"]["id_number"])
        assert value["registered_address"].startswith("重庆市渝中区")
        assert value["deregistered_on"] == ON


def test_housing_fund_share(companies: list[dict[str, Any]]) -> None:
    p_none = 1 - DeregistrationMix().housing_fund_probability
    without = sum(v["housing_fund_account"] is None for v in companies)
    assert _within_binomial(without, N, p_none), without
    for value in companies:
        account = value["housing_fund_account"]
        if account is not None:
            assert account["employees"] >= 1
            assert re.fullmatch(r"\d{12}", account["unit_account_number"])


def test_bank_account_counts_follow_the_mix(companies: list[dict[str, Any]]) -> None:
    weights = DeregistrationMix().bank_account_weights
    counts = Counter(len(v["bank_accounts"]) for v in companies)
    assert counts[0] > 0, "some companies must have no bank account (no bank request)"
    assert set(counts) <= set(range(len(weights)))
    for k, weight in enumerate(weights):
        assert _within_binomial(counts[k], N, weight / sum(weights)), (k, counts[k])


def test_bank_accounts_are_well_formed(companies: list[dict[str, Any]]) -> None:
    banks = {bank.code: bank for bank in BANKS}
    for value in companies:
        accounts = value["bank_accounts"]
        kinds = [a["account_kind"] for a in accounts]
        assert kinds.count("BASIC") <= 1
        assert set(kinds) <= {"BASIC", "GENERAL", "SPECIAL"}
        assert len({a["account_number"] for a in accounts}) == len(accounts)
        for account in accounts:
            bank = banks[account["bank_code"]]
            assert account["bank_name"] == bank.name
            assert len(account["account_number"]) == bank.account_length


def test_seals(companies: list[dict[str, Any]]) -> None:
    sizes = Counter()
    for value in companies:
        kinds = [seal["kind"] for seal in value["seals"]]
        assert kinds.count("OFFICIAL") == 1
        assert len(set(kinds)) == len(kinds)
        assert 1 <= len(kinds) <= 4
        assert len({seal["seal_no"] for seal in value["seals"]}) == len(kinds)
        sizes[len(kinds)] += 1
    assert set(sizes) == {1, 2, 3, 4}


def test_deregistration_types(companies: list[dict[str, Any]]) -> None:
    mix = DeregistrationMix()
    types = Counter(v["deregistration_type"] for v in companies)
    assert _within_binomial(types["SIMPLIFIED"], N, mix.simplified_probability)
    assert types["ORDINARY"] > 0


def test_mix_changes_the_recipients() -> None:
    mix = DeregistrationMix(bank_account_weights=(1.0,), housing_fund_probability=0.0)
    for value in _deregistrations(11, 200, mix):
        assert value["bank_accounts"] == []
        assert value["housing_fund_account"] is None
    everything = DeregistrationMix(bank_account_weights=(0, 0, 0, 1), housing_fund_probability=1)
    for value in _deregistrations(11, 200, everything):
        assert len(value["bank_accounts"]) == 3
        assert value["housing_fund_account"] is not None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"housing_fund_probability": 1.5},
        {"simplified_probability": -0.1},
        {"bank_account_weights": ()},
        {"bank_account_weights": (0.0, 0.0)},
        {"bank_account_weights": (1.0, -1.0)},
        {"simplified_probability": 0.9, "compulsory_probability": 0.2},
    ],
)
def test_deregistration_mix_rejects_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        DeregistrationMix(**kwargs)


# --- property transfers (F10) -------------------------------------------------------------


def test_utility_shares(transfers: list[dict[str, Any]]) -> None:
    mix = PropertyTransferMix()
    for utility, p in (("water", mix.water_probability), ("power", mix.power_probability)):
        held = sum(v["utility_accounts"][utility] is not None for v in transfers)
        assert _within_binomial(held, N, p), (utility, held)
    no_gas = sum(v["utility_accounts"]["gas"] is None for v in transfers)
    assert no_gas > 0, "some properties must have no gas account (no gas request)"
    assert _within_binomial(no_gas, N, 1 - mix.gas_probability), no_gas


def test_utility_account_formats_differ(transfers: list[dict[str, Any]]) -> None:
    lengths: dict[str, set[int]] = {}
    for utility in ("water", "power", "gas"):
        numbers = [v["utility_accounts"][utility] for v in transfers]
        lengths[utility] = {len(number) for number in numbers if number is not None}
    assert all(len(found) == 1 for found in lengths.values()), lengths
    assert len({next(iter(found)) for found in lengths.values()}) == 3


def test_parties(transfers: list[dict[str, Any]]) -> None:
    company_buyers = 0
    for value in transfers:
        assert value["seller"]["id_kind"] == "RESIDENT_ID"
        for party in (value["seller"], value["buyer"]):
            if party["id_kind"] == "RESIDENT_ID":
                assert resident_id_is_valid(party["id_number"]), party
            else:
                assert uscc_is_valid(party["id_number"]), party
                assert party["name"].endswith("公司")
        if value["buyer"]["id_kind"] == "USCC":
            company_buyers += 1
            assert value["property"]["use"] != "RESIDENTIAL"
        assert value["buyer"]["phone"] is not None
    assert company_buyers > 0


def test_property(transfers: list[dict[str, Any]]) -> None:
    mix = PropertyTransferMix()
    uses = Counter(v["property"]["use"] for v in transfers)
    assert _within_binomial(N - uses["RESIDENTIAL"], N, mix.commercial_probability)
    for value in transfers:
        assert value["property"]["address"].startswith("重庆市渝中区")
        assert 0 < value["property"]["floor_area_m2"] < 10_000
        assert re.fullmatch(r"渝\(2021\)渝中区不动产权第\d{6}号", value["certificate_no"])
        assert value["registered_on"] == ON


def test_mix_without_gas_never_asks_gas() -> None:
    for value in _transfers(3, 200, PropertyTransferMix(gas_probability=0.0)):
        assert value["utility_accounts"]["gas"] is None


def test_transfer_mix_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        PropertyTransferMix(water_probability=1.01)


# --- names --------------------------------------------------------------------------------


def test_names_and_addresses() -> None:
    rng = random.Random(9)
    for _ in range(500):
        name = company_name(rng)
        assert name.startswith("重庆") and name.endswith("公司")
        person = person_name(rng)
        assert 2 <= len(person) <= 4
        address = yuzhong_address(rng)
        assert address.road in SUB_DISTRICT_ROADS[address.sub_district]
        assert str(address) == address.text
        assert address.text.startswith(f"重庆市渝中区{address.road}{address.number}号")
    assert len(SUB_DISTRICT_ROADS) == 12
    assert yuzhong_address(rng, "解放碑街道").sub_district == "解放碑街道"
    with pytest.raises(ValueError):
        yuzhong_address(rng, "观音桥街道")
