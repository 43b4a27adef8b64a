"""The credit flows' sources: F12's records, checks and credit-code adoptions (measure 32) and
F13's supervision signals (measure 33), all drawn from one population of market entities.

They are checked for what the engines will lean on: a seed fixes them, they fit their
contracts, their mixes hold, adverse signals gather on the risky entities as the Pareto law
says, and the platform's warnings and leads carry nothing of a complainant.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastavro.schema import parse_schema
from fastavro.validation import validate

from govstream.contracts.personal import marked_fields
from producers.drc import (
    CHANNELS,
    REASONS,
    SUBSCRIBERS,
    AdoptionMix,
    CheckMix,
    CreditCodeAdoptionGenerator,
    DishonestyMix,
    DishonestyPublishedGenerator,
    SubscriberCheckGenerator,
    distinct_adopters,
    retraction_of,
)
from producers.identifiers import uscc_is_valid
from producers.ids import case_id
from producers.market_entities import EntityPopulation, MarketEntity
from producers.supervision import (
    SIGNAL_TOPICS,
    SIGNAL_WEIGHTS,
    ComplaintSignalGenerator,
    DishonestySignalGenerator,
    InspectionSignalGenerator,
    JudgmentSignalGenerator,
    SignalMix,
    signal_weight,
)

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
CST = dt.timezone(dt.timedelta(hours=8))
ON = dt.date(2021, 6, 1)
AT = dt.datetime(2021, 6, 1, 9, 0, tzinfo=CST)
N = 2000
SIZE = 20_000
SKEW = 1.2
LISTED_COUNT = 50
TOP = 0.05
"""The riskiest twentieth of the population."""


def _within_binomial(observed: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """|observed - np| within `sigmas` binomial standard deviations."""
    return abs(observed - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def _schema(relative: str) -> Any:
    return parse_schema(json.loads((SCHEMAS / relative).read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def population() -> EntityPopulation:
    return EntityPopulation(random.Random(11), SIZE, SKEW)


@pytest.fixture(scope="module")
def listed(population: EntityPopulation) -> list[str]:
    """Codes of a few entities said to be listed now, in a fixed order."""
    return [entity.uscc for entity in population.entities[:LISTED_COUNT]]


def _riskiest(population: EntityPopulation, share: float) -> set[str]:
    ranked = sorted(population, key=lambda entity: entity.risk, reverse=True)
    return {entity.uscc for entity in ranked[: round(share * len(ranked))]}


# --- every source, drawn alike -------------------------------------------------------------

Draw = Callable[[int, list[str]], dict[str, Any]]
"""One value from a source: its number, and the codes of the entities listed now."""


def _source(
    make: Callable[[random.Random, EntityPopulation], Any], flow: str, timed: bool = False
) -> Callable[[int, EntityPopulation], Draw]:
    """A source whose generator is built for a seed and the run's population."""

    def sourced(seed: int, population: EntityPopulation) -> Draw:
        generator = make(random.Random(seed), population)

        def draw(n: int, listed: list[str]) -> dict[str, Any]:
            if timed:
                return generator.generate(case_id(flow, n), AT + dt.timedelta(minutes=n))
            return generator.generate(case_id(flow, n), ON)

        return draw

    return sourced


def _checks(subscriber: str) -> Callable[[int, EntityPopulation], Draw]:
    def sourced(seed: int, population: EntityPopulation) -> Draw:
        generator = SubscriberCheckGenerator(random.Random(seed), None, population, subscriber)

        def draw(n: int, listed: list[str]) -> dict[str, Any]:
            return generator.generate(f"CK-{n:06d}", AT + dt.timedelta(minutes=n), listed)

        return draw

    return sourced


SOURCES: dict[str, tuple[str, Callable[[int, EntityPopulation], Draw], str]] = {
    "dishonesty-record": (
        "f12/DishonestyRecord.avsc",
        _source(lambda rng, pop: DishonestyPublishedGenerator(rng, None, pop), "F12"),
        "risky",
    ),
    "bank-check": ("f12/SubscriberCheck.avsc", _checks("bank"), "uniform"),
    "finance-bureau-check": ("f12/SubscriberCheck.avsc", _checks("finance-bureau"), "uniform"),
    "credit-code-adopted": (
        "f12/CreditCodeAdopted.avsc",
        _source(lambda rng, pop: CreditCodeAdoptionGenerator(rng, None, pop), "F12"),
        "uniform",
    ),
    "judgment": (
        "f13/JudgmentAgainstEntity.avsc",
        _source(lambda rng, pop: JudgmentSignalGenerator(rng, None, pop), "F13"),
        "risky",
    ),
    "dishonesty-listed": (
        "f13/DishonestyListed.avsc",
        _source(lambda rng, pop: DishonestySignalGenerator(rng, None, pop), "F13"),
        "risky",
    ),
    "inspection": (
        "f13/InspectionResult.avsc",
        _source(lambda rng, pop: InspectionSignalGenerator(rng, None, pop), "F13"),
        "risky",
    ),
    "complaint": (
        "f13/ComplaintLodged.avsc",
        _source(lambda rng, pop: ComplaintSignalGenerator(rng, None, pop), "F13", timed=True),
        "risky",
    ),
}


def _drawn(
    name: str, seed: int, count: int, population: EntityPopulation, listed: list[str]
) -> list[dict[str, Any]]:
    _, sourced, _ = SOURCES[name]
    draw = sourced(seed, population)
    return [draw(n, listed) for n in range(1, count + 1)]


@pytest.fixture(scope="module")
def drawn(population: EntityPopulation, listed: list[str]) -> dict[str, list[dict[str, Any]]]:
    """N values of every source, seeded, with the shared population and listed codes."""
    return {name: _drawn(name, 7, N, population, listed) for name in SOURCES}


@pytest.mark.parametrize("name", SOURCES)
def test_source_is_reproducible_for_a_seed(
    name: str, population: EntityPopulation, listed: list[str]
) -> None:
    """An engine replays a run from its seed: the same seed must give the same values."""
    first = _drawn(name, 42, 50, population, listed)
    assert first == _drawn(name, 42, 50, population, listed)
    assert first != _drawn(name, 43, 50, population, listed)


@pytest.mark.parametrize("name", SOURCES)
def test_source_does_not_use_the_global_random_state(
    name: str, population: EntityPopulation, listed: list[str]
) -> None:
    """Only the rng passed in may decide a value, or another module's draws would change it."""
    random.seed(1)
    first = _drawn(name, 3, 20, population, listed)
    random.seed(2)
    assert _drawn(name, 3, 20, population, listed) == first


@pytest.mark.parametrize("name", SOURCES)
def test_source_values_validate_strictly_against_their_contract(
    name: str, drawn: dict[str, list[dict[str, Any]]]
) -> None:
    """The codec refuses what its schema does not describe; every drawn value must pass."""
    schema = _schema(SOURCES[name][0])
    for value in drawn[name]:
        assert validate(value, schema, raise_errors=True, strict=True)


@pytest.mark.parametrize("name", SOURCES)
def test_source_values_concern_entities_of_the_population(
    name: str, drawn: dict[str, list[dict[str, Any]]], population: EntityPopulation
) -> None:
    """Records and signals must meet on the same entities, or F12 and F13 could not join."""
    for value in drawn[name]:
        entity = population.entity(value["uscc"])
        if "company_name" in value:
            assert value["company_name"] == entity.company_name


@pytest.mark.parametrize("name", SOURCES)
def test_adverse_sources_draw_risky_entities_and_the_others_any(
    name: str,
    drawn: dict[str, list[dict[str, Any]]],
    population: EntityPopulation,
    listed: list[str],
) -> None:
    """Adverse signals gather on the riskiest entities in proportion to their risk; checks
    and adoptions concern any entity (a listed one only through the listed share)."""
    riskiest = _riskiest(population, TOP)
    values = drawn[name]
    if SOURCES[name][2] == "risky":
        share = sum(e.risk for e in population if e.uscc in riskiest) / len(population)
        on_riskiest = sum(v["uscc"] in riskiest for v in values)
        assert _within_binomial(on_riskiest, len(values), share), (on_riskiest, share)
    else:
        anyone = [v for v in values if v["uscc"] not in set(listed)]
        on_riskiest = sum(v["uscc"] in riskiest for v in anyone)
        assert _within_binomial(on_riskiest, len(anyone), TOP), on_riskiest


# --- the population -------------------------------------------------------------------------


def test_population_codes_are_valid_and_distinct(population: EntityPopulation) -> None:
    """The code is the key every flow joins on: two entities sharing one would merge."""
    codes = [entity.uscc for entity in population]
    assert len(codes) == SIZE == len(population)
    assert len(set(codes)) == SIZE
    assert all(uscc_is_valid(code) for code in codes)
    assert all(entity.company_name.startswith("重庆") for entity in population)


def test_population_is_fixed_by_its_seed() -> None:
    """Sources of one run share the population; rebuilding it from the seed must give it back,
    and another seed other entities, with the same spread of risk dealt out differently."""
    first = EntityPopulation(random.Random(5), 500, SKEW)
    again = EntityPopulation(random.Random(5), 500, SKEW)
    other = EntityPopulation(random.Random(6), 500, SKEW)
    assert first.entities == again.entities
    assert {e.uscc for e in first}.isdisjoint({e.uscc for e in other})
    assert sorted(e.risk for e in first) == sorted(e.risk for e in other)
    assert [e.risk for e in first] != [e.risk for e in other]


def test_risks_follow_the_pareto_law(population: EntityPopulation) -> None:
    """Relative to the least risky, risks are Pareto(α): P(risk ≥ x·least) = x^-α, and their
    mean is 1 (risk relative to the average entity)."""
    risks = [entity.risk for entity in population]
    least = min(risks)
    assert math.isclose(math.fsum(risks) / len(risks), 1.0)
    for x in (1.5, 2.0, 5.0, 20.0, 100.0):
        above = sum(risk >= x * least for risk in risks)
        assert _within_binomial(above, len(risks), x**-SKEW), (x, above)


def test_the_riskiest_twentieth_draws_most_adverse_signals(population: EntityPopulation) -> None:
    """A few entities draw most adverse signals, which is what lets scores cross thresholds.

    The bound comes from the law: in a Pareto(α) population whose risks run from 1 to `b`
    times the least, the riskiest share `p` holds (p^(1-1/α) - b^(1-α)) / (1 - b^(1-α)) of the
    risk, and `pick_risky` draws in proportion to risk.
    """
    risks = [entity.risk for entity in population]
    spread = max(risks) / min(risks)
    tail = spread ** (1 - SKEW)
    law_share = (TOP ** (1 - 1 / SKEW) - tail) / (1 - tail)
    assert law_share > 10 * TOP, "the law itself gathers the risk"
    riskiest = _riskiest(population, TOP)
    rng = random.Random(17)
    draws = 20_000
    on_riskiest = sum(population.pick_risky(rng).uscc in riskiest for _ in range(draws))
    sigma = math.sqrt(draws * law_share * (1 - law_share))
    assert on_riskiest >= draws * law_share - 4 * sigma, (on_riskiest / draws, law_share)


def test_pick_is_uniform(population: EntityPopulation) -> None:
    """`pick` ignores risk: the riskiest twentieth is a twentieth of the draws."""
    riskiest = _riskiest(population, TOP)
    rng = random.Random(19)
    draws = 20_000
    on_riskiest = sum(population.pick(rng).uscc in riskiest for _ in range(draws))
    assert _within_binomial(on_riskiest, draws, TOP), on_riskiest


@pytest.mark.parametrize(
    ("size", "skew", "field"),
    [(0, SKEW, "size"), (2.5, SKEW, "size"), (10, 1.0, "risk_skew"), (10, math.inf, "risk_skew")],
)
def test_a_bad_population_is_refused(size: Any, skew: float, field: str) -> None:
    """A tail index of 1 or less has no mean; the error must say which argument is wrong."""
    with pytest.raises(ValueError, match=field):
        EntityPopulation(random.Random(1), size, skew)


def test_a_population_must_match_the_mix_it_is_used_with(population: EntityPopulation) -> None:
    """A mix naming another population than the one given is a mistake, not a setting."""
    with pytest.raises(ValueError, match="population_size"):
        DishonestyPublishedGenerator(
            random.Random(1), DishonestyMix(population_size=100), population
        )
    with pytest.raises(ValueError, match="risk_skew"):
        JudgmentSignalGenerator(random.Random(1), SignalMix(risk_skew=2.0), population)


# --- F12: records, retraction, checks, adoptions ---------------------------------------------


def test_repairable_and_serious_shares_follow_the_mix(
    drawn: dict[str, list[dict[str, Any]]],
) -> None:
    """The plan retracts only records meeting the repair conditions: their share is a knob."""
    records = drawn["dishonesty-record"]
    mix = DishonestyMix()
    repairable = sum(r["repairable"] for r in records)
    serious = sum(r["severity"] == "SERIOUS" for r in records)
    assert _within_binomial(repairable, len(records), mix.repairable_probability), repairable
    assert _within_binomial(serious, len(records), mix.serious_probability), serious
    for reason, weight in zip(REASONS, mix.reason_weights, strict=True):
        count = sum(r["reason"] == reason for r in records)
        assert _within_binomial(count, len(records), weight / sum(mix.reason_weights)), reason


def test_repair_applications_follow_their_lognormal_within_bounds(
    drawn: dict[str, list[dict[str, Any]]],
) -> None:
    """Days to the repair application: bounded, and half below the median (rounding moves
    the split by what the law puts within half a day of it)."""
    mix = DishonestyMix()
    days = [r["repair_after_days"] for r in drawn["dishonesty-record"]]
    fewest, most = mix.repair_after_days_bounds
    assert all(fewest <= d <= most for d in days)
    median = mix.repair_after_days_median
    p = 0.5 * (
        1 + math.erf(math.log((median + 0.5) / median) / (mix.repair_after_days_sigma * 2**0.5))
    )
    assert _within_binomial(sum(d <= median for d in days), len(days), p)
    assert days.count(fewest) > 0, "the lower bound is reached: it is a bound, not decoration"


def test_record_ids_are_well_formed_and_distinct(drawn: dict[str, list[dict[str, Any]]]) -> None:
    """A retraction names its record by id: two records with one id could not be told apart."""
    ids = [r["record_id"] for r in drawn["dishonesty-record"]]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"SX-500103-2021-\d{6}", i) for i in ids)


def test_a_retraction_names_the_record_and_entity(
    drawn: dict[str, list[dict[str, Any]]],
) -> None:
    """The tombstone is keyed by the entity, and the platform's record says which record went."""
    schema = _schema("f12/CreditRepaired.avsc")
    record = next(r for r in drawn["dishonesty-record"] if r["repairable"])
    repaired_on = record["listed_on"] + dt.timedelta(days=record["repair_after_days"])
    retraction = retraction_of(record, repaired_on, "e-1")
    assert retraction == {
        "event_id": "e-1",
        "case_id": record["case_id"],
        "record_id": record["record_id"],
        "uscc": record["uscc"],
        "repaired_on": repaired_on,
    }
    assert validate(retraction, schema, raise_errors=True, strict=True)


def test_only_a_repairable_record_is_retracted_and_not_before_its_listing(
    drawn: dict[str, list[dict[str, Any]]],
) -> None:
    """对符合修复条件的: a record not meeting the conditions stays; none is repaired early."""
    records = drawn["dishonesty-record"]
    unrepairable = next(r for r in records if not r["repairable"])
    with pytest.raises(ValueError, match="repairable"):
        retraction_of(unrepairable, ON + dt.timedelta(days=400), "e-2")
    repairable = next(r for r in records if r["repairable"])
    with pytest.raises(ValueError, match="listed on"):
        retraction_of(repairable, repairable["listed_on"] - dt.timedelta(days=1), "e-3")


def test_checks_meet_listed_entities_at_the_listed_share(
    drawn: dict[str, list[dict[str, Any]]], listed: list[str]
) -> None:
    """A share of checks concern a listed entity; the rest draw from everyone, and so meet a
    listed one now and then by chance."""
    share = CheckMix().listed_share
    p = share + (1 - share) * len(listed) / SIZE
    codes = set(listed)
    for name in ("bank-check", "finance-bureau-check"):
        checks = drawn[name]
        hits = sum(c["uscc"] in codes for c in checks)
        assert _within_binomial(hits, len(checks), p), (name, hits)


def test_a_check_names_its_subscriber_and_purpose(drawn: dict[str, list[dict[str, Any]]]) -> None:
    """A bank checks a loan applicant, the finance bureau a bidder."""
    for name, subscriber in (("bank-check", "bank"), ("finance-bureau-check", "finance-bureau")):
        assert {(c["subscriber"], c["purpose"]) for c in drawn[name]} == {
            (subscriber, SUBSCRIBERS[subscriber])
        }


def test_with_none_listed_every_check_draws_from_the_population(
    population: EntityPopulation,
) -> None:
    """Before any record is published, checks still happen, about anyone."""
    generator = SubscriberCheckGenerator(
        random.Random(2), CheckMix(listed_share=1.0), population, "bank"
    )
    checks = [generator.generate(f"CK-{n}", AT, []) for n in range(100)]
    assert all(c["uscc"] in population for c in checks)
    assert len({c["uscc"] for c in checks}) > 90


def test_checks_and_complaints_refuse_a_time_without_its_zone(
    population: EntityPopulation,
) -> None:
    """Avro reads a naive time as UTC, eight hours off Beijing time: refuse it."""
    naive = dt.datetime(2021, 6, 1, 9, 0)
    checks = SubscriberCheckGenerator(random.Random(1), None, population, "bank")
    with pytest.raises(ValueError, match="time zone"):
        checks.generate("CK-1", naive)
    complaints = ComplaintSignalGenerator(random.Random(1), None, population)
    with pytest.raises(ValueError, match="time zone"):
        complaints.generate("F13-000001", naive)


def test_an_unknown_subscriber_is_refused(population: EntityPopulation) -> None:
    """Only the bank and the finance bureau subscribe; a check by anyone else is a typo."""
    with pytest.raises(ValueError, match="subscriber"):
        SubscriberCheckGenerator(random.Random(1), None, population, "tax")


def test_distinct_adopters_counts_entities_not_adoptions() -> None:
    """The plan's 2000 counts entities: one adopting twice counts once."""
    small = EntityPopulation(random.Random(3), 500, SKEW)
    generator = CreditCodeAdoptionGenerator(random.Random(4), None, small)
    adoptions = [generator.generate(case_id("F12", n), ON) for n in range(1, N + 1)]
    distinct = distinct_adopters(adoptions)
    assert distinct == len({a["uscc"] for a in adoptions})
    assert distinct < len(adoptions), "some entities adopted twice"
    assert distinct_adopters([{"uscc": "A"}, {"uscc": "A"}, {"uscc": "B"}]) == 2
    assert distinct_adopters([]) == 0


def test_adoption_channels_follow_the_mix(drawn: dict[str, list[dict[str, Any]]]) -> None:
    """Where entities adopt the code is a knob a study may turn (licence QR, app, bank)."""
    adoptions = drawn["credit-code-adopted"]
    weights = AdoptionMix().channel_weights
    for channel, weight in zip(CHANNELS, weights, strict=True):
        count = sum(a["channel"] == channel for a in adoptions)
        assert _within_binomial(count, len(adoptions), weight / sum(weights)), channel


# --- F13: supervision signals ---------------------------------------------------------------


def _within_poisson_binomial(observed: int, chances: list[float], sigmas: float = 4.0) -> bool:
    """`observed` successes of independent trials with these chances, within `sigmas` sd."""
    mean = math.fsum(chances)
    sd = math.sqrt(math.fsum(p * (1 - p) for p in chances))
    return abs(observed - mean) <= sigmas * sd


def test_risky_entities_fail_inspections_more_often(population: EntityPopulation) -> None:
    """Failures are rarer for low-risk entities: in each decile the failures match the mix's
    chance for the entities inspected, and the riskiest decile fails far more than the safest."""
    mix = SignalMix()
    ranked = sorted(population, key=lambda entity: entity.risk)
    tenth = len(ranked) // 10
    safest = {e.uscc for e in ranked[:tenth]}
    riskiest = {e.uscc for e in ranked[-tenth:]}
    generator = InspectionSignalGenerator(random.Random(23), mix, population)
    inspections = [generator.generate(case_id("F13", n), ON) for n in range(1, 20_001)]
    rates = {}
    for label, decile in (("safest", safest), ("riskiest", riskiest)):
        inspected = [i for i in inspections if i["uscc"] in decile]
        failed = sum(not i["passed"] for i in inspected)
        chances = [mix.failure_probability(population.entity(i["uscc"])) for i in inspected]
        assert inspected, label
        assert _within_poisson_binomial(failed, chances), (label, failed, math.fsum(chances))
        rates[label] = (failed / len(inspected), len(inspected))
    (safe_rate, safe_n), (risky_rate, risky_n) = rates["safest"], rates["riskiest"]
    spread = math.sqrt(
        risky_rate * (1 - risky_rate) / risky_n + max(safe_rate, 1 / safe_n) / safe_n
    )
    assert risky_rate - safe_rate > 4 * spread, rates


def test_no_entity_fails_beyond_the_cap(population: EntityPopulation) -> None:
    """Even the riskiest entity passes some checks; the safest fail less than the average."""
    mix = SignalMix(inspection_failure_cap=0.5)
    assert max(mix.failure_probability(e) for e in population) == 0.5
    assert min(mix.failure_probability(e) for e in population) < mix.inspection_failure_probability


def test_signal_identifiers_are_well_formed_and_distinct(
    drawn: dict[str, list[dict[str, Any]]],
) -> None:
    """Each agency numbers what it issues; a repeated number would merge two signals."""
    patterns = {
        ("judgment", "judgment_number"): r"\((2020|2021)\)渝0103(民初|行初)\d+号",
        ("dishonesty-listed", "record_id"): r"SX-500103-2021-\d{6}",
        ("inspection", "inspection_id"): r"CJ-500103-2021-\d{6}",
        ("complaint", "complaint_id"): r"TS-2021-\d{7}",
    }
    for (name, field), pattern in patterns.items():
        ids = [value[field] for value in drawn[name]]
        assert len(set(ids)) == len(ids), name
        assert all(re.fullmatch(pattern, i) for i in ids), name
    for judgment in drawn["judgment"]:
        administrative = judgment["kind"] == "ADMINISTRATIVE"
        assert ("行初" in judgment["judgment_number"]) == administrative
        assert 100 <= judgment["amount_yuan"] <= 100_000_000


def test_signal_weights_follow_the_scenario_reading() -> None:
    """An inspection that passed adds nothing; every other signal its kind's weight."""
    assert signal_weight("inspection", {"passed": True}) == 0.0
    assert signal_weight("inspection", {"passed": False}) == SIGNAL_WEIGHTS["inspection-failed"]
    for kind in ("judgment", "dishonesty", "complaint"):
        assert signal_weight(kind, {}) == SIGNAL_WEIGHTS[kind]
    assert signal_weight("complaint", {}, {**SIGNAL_WEIGHTS, "complaint": 0.5}) == 0.5
    with pytest.raises(ValueError, match="kind"):
        signal_weight("rumour", {})
    kinds = {
        cls.kind
        for cls in (
            JudgmentSignalGenerator,
            DishonestySignalGenerator,
            InspectionSignalGenerator,
            ComplaintSignalGenerator,
        )
    }
    assert kinds == set(SIGNAL_TOPICS)


# --- data minimisation of the platform's outputs --------------------------------------------


def _field_names(schema: Any) -> Iterator[str]:
    """Every field name of every record a schema defines, nested ones included."""
    if isinstance(schema, list):
        for branch in schema:
            yield from _field_names(branch)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            for field in schema["fields"]:
                yield field["name"]
                yield from _field_names(field["type"])
        elif kind == "array":
            yield from _field_names(schema["items"])
        elif isinstance(kind, dict | list):
            yield from _field_names(kind)


def _json(relative: str) -> Any:
    return json.loads((SCHEMAS / relative).read_text(encoding="utf-8"))


@pytest.mark.parametrize("output", ["f13/RiskWarning.avsc", "f13/EnforcementLead.avsc"])
def test_warnings_and_leads_carry_no_complainant_data(output: str) -> None:
    """The enforcement agency learns which entity and why, never who complained."""
    complaint = marked_fields(_json("f13/ComplaintLodged.avsc"))
    assert complaint == {"complainant_name": "name", "complainant_phone": "phone"}
    schema = _json(output)
    assert marked_fields(schema) == {}
    names = set(_field_names(schema))
    assert "uscc" in names, "the walk reads the fields"
    assert names.isdisjoint(path.rsplit(".", 1)[-1] for path in complaint)


def test_a_warning_and_its_lead_fit_their_contracts(
    drawn: dict[str, list[dict[str, Any]]],
) -> None:
    """The platform's outputs can be written from the signals as the contracts stand."""
    complaints = drawn["complaint"][:3]
    entity = complaints[0]
    warning = {
        "event_id": "w-e-1",
        "case_id": "F13-000001",
        "warning_id": "W-1",
        "uscc": entity["uscc"],
        "company_name": entity["company_name"],
        "score": 3.0,
        "threshold": 3.0,
        "window_start": AT,
        "window_end": AT + dt.timedelta(days=30),
        "signals": [{"kind": "complaint", "event_id": c["event_id"]} for c in complaints],
    }
    lead = {
        "request_id": "r-1",
        "case_id": "F13-000001",
        "warning_id": "W-1",
        "uscc": entity["uscc"],
        "company_name": entity["company_name"],
        "score": 3.0,
        "reasons": ["3 complaints"],
    }
    assert validate(warning, _schema("f13/RiskWarning.avsc"), raise_errors=True, strict=True)
    assert validate(lead, _schema("f13/EnforcementLead.avsc"), raise_errors=True, strict=True)


# --- mixes refuse what they cannot mean ----------------------------------------------------

BAD_MIXES: list[tuple[type, str, Any]] = [
    (DishonestyMix, "population_size", 0),
    (DishonestyMix, "risk_skew", 0.8),
    (DishonestyMix, "repairable_probability", 1.5),
    (DishonestyMix, "serious_probability", -0.1),
    (DishonestyMix, "reason_weights", (1.0, 2.0)),
    (DishonestyMix, "reason_weights", (0.0, 0.0, 0.0, 0.0, 0.0)),
    (DishonestyMix, "repair_after_days_median", 1000.0),
    (DishonestyMix, "repair_after_days_sigma", -1.0),
    (DishonestyMix, "repair_after_days_bounds", (720, 30)),
    (CheckMix, "listed_share", 2.0),
    (AdoptionMix, "channel_weights", (1.0, -1.0, 1.0)),
    (SignalMix, "population_size", -5),
    (SignalMix, "risk_skew", math.nan),
    (SignalMix, "judgment_kind_weights", (1.0,)),
    (SignalMix, "dishonesty_reason_weights", (1.0, 1.0, 1.0, 1.0, math.inf)),
    (SignalMix, "inspection_kind_weights", (0.0, 0.0, 0.0)),
    (SignalMix, "inspection_failure_probability", 1.1),
    (SignalMix, "inspection_failure_cap", -0.5),
    (SignalMix, "complaint_channel_weights", (1.0, 1.0)),
    (SignalMix, "complaint_category_weights", (1.0, 1.0, 1.0, 1.0, -1.0)),
]


@pytest.mark.parametrize(
    ("mix", "field", "value"), BAD_MIXES, ids=[f"{m.__name__}.{f}" for m, f, _ in BAD_MIXES]
)
def test_a_bad_mix_is_refused_naming_its_field(mix: type, field: str, value: Any) -> None:
    """A scenario file sets these; the error must point at the line to fix."""
    assert field in {f.name for f in dataclasses.fields(mix)}
    with pytest.raises(ValueError, match=field):
        mix(**{field: value})


def test_default_mixes_are_accepted() -> None:
    """The refusals above are not refusals of everything."""
    for mix in (DishonestyMix, CheckMix, AdoptionMix, SignalMix):
        mix()
    assert isinstance(EntityPopulation(random.Random(1), 1, SKEW).entities[0], MarketEntity)
