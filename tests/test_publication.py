"""Publication and retraction on the sim engine: one record, one entity, checks on the hour.

With one entity in the population every check concerns its record, so the exposures can be
worked out from the schedule: the checks made after the platform recorded the retraction and
before the bank's table dropped the record. Counts the plan sets are checked the same way. (The
same run on Kafka: `tests/kafka/test_kafka_engine.py`.)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_runner import govstream

from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.exposures import BesideBook
from govstream.pipeline.publication import Listed, RecordTable
from govstream.pipeline.schedule import schedule
from govstream.result import Exposures, RunResult, TallyCount
from govstream.scenario.loader import ScenarioError, apply_override, parse_scenario
from govstream.scenario.model import Scenario
from govstream.sla import Beside, beside_verdict

INSTANT = "{dist: constant, value: 0}"
HOUR = 3600.0
DAY = 86400.0

ONE_RECORD = f"""
name: one-record
flow: F12
seed: 7
start: 2021-03-01T00:00:00+08:00
duration: 1d
drain: 1d
arrivals: {{process: constant, rate: 2/d}}
population:
  population_size: 1
  repairable_probability: 1
  repair_after_days_median: 0.4   # repaired the day it is listed
  repair_after_days_sigma: 0
  repair_after_days_bounds: [0, 1]
checks:
  bank: {{process: constant, rate: 1/h}}
tallies:
  credit-code-adopters: {{process: constant, rate: 1/h}}
steps:
  bank-holds: {{service_time: {{dist: constant, value: 30min}}}}
  finance-bureau-holds: {{service_time: {INSTANT}}}
  retraction: {{service_time: {{dist: constant, value: 90min}}}}
  bank-drops: {{service_time: {{dist: constant, value: 4h}}}}
  finance-bureau-drops: {{service_time: {INSTANT}}}
transport: {{latency: {INSTANT}}}
platform: {{service_time: {INSTANT}}}
agencies:
  drc: {{servers: 1, calendar: always}}
  bank: {{servers: 1, calendar: always}}
  finance-bureau: {{servers: 1, calendar: always}}
targets:
  - {{id: none-exposed, of: exposures, at_most: 0, source: author}}
  - {{id: one-adopter, of: count, count: credit-code-adopters, at_least: 1, source: author}}
"""


def scenario_of(*overrides: str) -> Scenario:
    scenario = parse_scenario(ONE_RECORD)
    data: dict[str, Any] = scenario.to_data()
    for override in overrides:
        apply_override(data, override, "test")
    return Scenario.model_validate(data)


def run(scenario: Scenario) -> RunResult:
    return SimEngine(scenario).run()


def expected_checks(scenario: Scenario, drop: float = 4 * HOUR) -> tuple[int, int, int]:
    """(checks, checks that find a record, exposures) the bank's hourly checks must show: a
    record is in its table from half an hour after its publication until `drop` after its
    retraction, which the platform records 90 minutes (drc) after the publication, the entity
    repairing at once. No check falls on either edge: they are on the hour, the edges on the
    half hour."""
    arrivals = list(schedule(scenario))
    published = [a.at for a in arrivals if not a.kind]
    checks = [a.at for a in arrivals if a.kind == "check:bank"]
    retracted = [p + 1.5 * HOUR for p in published]
    held = [(p + 0.5 * HOUR, r + drop) for p, r in zip(published, retracted, strict=True)]
    exposed = [(r, r + drop) for r in retracted]
    found = sum(any(a < t < b for a, b in held) for t in checks)
    exposures = sum(any(a < t < b for a, b in exposed) for t in checks)
    return len(checks), found, exposures


def published_at(scenario: Scenario) -> list[float]:
    return [a.at for a in schedule(scenario) if not a.kind]


def test_checks_between_the_retraction_and_the_drop_are_exposures() -> None:
    scenario = scenario_of()
    checks, found, exposures = expected_checks(scenario)
    assert published_at(scenario) == [12 * HOUR]  # one record, at noon
    assert exposures == 4  # the 4 h a drop takes, checks on the hour between

    result = run(scenario)

    bank = result.exposures["F12"]["bank"]
    assert (bank.checks, bank.found, bank.exposures) == (checks, found, exposures)
    assert result.exposures["F12"]["finance-bureau"].checks == 0
    assert result.latency["F12/span:retraction-gone-at-bank"]["max"] == pytest.approx(4 * HOUR)
    verdict = next(v for v in result.targets if v.id == "none-exposed")
    assert (verdict.verdict, verdict.observed) == ("missed", exposures)


def test_a_record_dropped_at_once_is_found_before_its_retraction_and_never_after() -> None:
    result = run(scenario_of(f"flows.F12.steps.bank-drops.service_time={INSTANT}"))
    bank = result.exposures["F12"]["bank"]
    assert bank.found == expected_checks(scenario_of(), drop=0.0)[1] == 1  # at 13:00
    assert bank.exposures == 0
    verdict = next(v for v in result.targets if v.id == "none-exposed")
    assert verdict.verdict == "met"


def test_a_record_retracted_and_still_held_at_the_end_leaves_the_limit_undecided() -> None:
    # The bank drops it a week after the retraction, long after the run ends.
    result = run(scenario_of("flows.F12.steps.bank-drops.service_time={dist: constant, value: 7d}"))
    bank = result.exposures["F12"]["bank"]
    assert bank.retracted_held_at_end == 1
    exposures = next(v for v in result.targets if v.id == "none-exposed")
    assert exposures.verdict == "missed"  # already over the limit: the run said enough
    zero_checks = run(
        scenario_of(
            "flows.F12.steps.bank-drops.service_time={dist: constant, value: 7d}",
            "flows.F12.checks.bank.rate=0.2/d",  # one check, at 5 days
        )
    )
    assert zero_checks.exposures["F12"]["bank"].exposures == 0
    verdict = next(v for v in zero_checks.targets if v.id == "none-exposed")
    assert verdict.verdict == "undecided"


def test_a_scenario_may_draw_the_repair_in_place_of_the_records_own_days() -> None:
    drawn = run(scenario_of("flows.F12.steps.repair.duration={dist: constant, value: 2h}"))
    repaired = drawn.latency["F12/acted:retraction"]["max"]
    own = run(scenario_of()).latency["F12/acted:retraction"]["max"]
    assert repaired - own == pytest.approx(2 * HOUR)


def test_the_count_is_of_distinct_entities() -> None:
    result = run(scenario_of())
    count = result.tallies["F12"]["credit-code-adopters"]
    assert count.counted == 1  # one entity adopting every hour
    assert sum(count.new_by_day.values()) == 1
    assert next(v for v in result.targets if v.id == "one-adopter").verdict == "met"


# -- the pieces ------------------------------------------------------------------------------


def test_a_table_holds_each_record_of_an_entity_until_its_own_tombstone() -> None:
    table = RecordTable()
    table.take("E1", "E1/SX-1", "F12-1")
    table.take("E1", "E1/SX-2", "F12-2")
    table.drop("E1", "E1/SX-1")
    assert table.find("E1") == ["F12-2"]
    table.drop("E1", "E1/SX-2")
    table.drop("E1", "E1/SX-2")  # a tombstone told twice
    assert table.find("E1") == []


def test_listed_entities_are_forgotten_once_past_their_time() -> None:
    listed = Listed()
    listed.add("A", until=10.0)
    listed.add("B", until=float("inf"))
    listed.add("C", until=20.0)
    assert listed.at(5.0) == ["A", "B", "C"]
    assert listed.at(10.0) == ["B", "C"]
    assert listed.at(25.0) == ["B"]


def test_exposures_are_counted_against_retractions_told_after_the_check() -> None:
    book = BesideBook(scenario_of())
    book.used("F12", "bank", "c1", 100.0, ["F12-1"])
    book.used("F12", "bank", "c2", 300.0, ["F12-1", "F12-2"])
    book.used("F12", "bank", "c2", 300.0, ["F12-1", "F12-2"])  # told twice
    book.used("F12", "bank", "c3", 400.0, [])
    book.retracted("F12-1", 200.0)  # told later than the checks, as on Kafka
    bank = book.exposures()["F12"]["bank"]
    assert (bank.checks, bank.found, bank.exposures) == (3, 2, 1)


@pytest.mark.parametrize(
    ("counted", "by", "ended_on", "verdict"),
    [
        ({"2021-12-30": 2000}, date(2021, 12, 31), "2022-01-10", "met"),
        ({"2021-12-30": 1999, "2022-01-02": 5}, date(2021, 12, 31), "2022-01-10", "missed"),
        ({"2021-06-30": 1500}, date(2021, 12, 31), "2021-06-30", "undecided"),
        ({"2021-06-30": 1500}, None, "2021-06-30", "missed"),
    ],
)
def test_a_count_is_met_missed_or_undecided_by_its_day(
    counted: dict[str, int], by: date | None, ended_on: str, verdict: str
) -> None:
    scenario = scenario_of()
    target = scenario.targets[1].model_copy(update={"at_least": 2000, "by": by})
    tally = TallyCount(counted=sum(counted.values()), new_by_day=counted)
    beside = Beside({}, {"F12": {"credit-code-adopters": tally}}, ended_on)
    assert beside_verdict(target, "F12", beside, {}).verdict == verdict


@pytest.mark.parametrize(
    ("exposures", "held", "verdict"), [(0, 0, "met"), (0, 2, "undecided"), (1, 0, "missed")]
)
def test_an_exposure_limit_is_undecided_while_retracted_records_are_held(
    exposures: int, held: int, verdict: str
) -> None:
    target = scenario_of().targets[0]
    found = Exposures(checks=5, found=3, exposures=exposures, retracted_held_at_end=held)
    beside = Beside({"F12": {"bank": found}}, {}, "2021-03-07")
    assert beside_verdict(target, "F12", beside, {}).verdict == verdict


EXPOSED = "{id: none-exposed, of: exposures, at_most: 0, source: author}"
COUNTED = "count: credit-code-adopters, at_least: 1"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  bank: {process", "  police: {process", "checks.police: not a subscriber of F12's"),
        ("  credit-code-adopters: {", "  adopters: {", "allowed: credit-code-adopters"),
        ("at_most: 0,", "at_most: 0, subscriber: police,", "allowed: all, bank, finance-bureau"),
        (COUNTED, "count: adopters, at_least: 1", "allowed: credit-code-adopters"),
        (
            "at_most: 0,",
            "at_most: 0, within: 5s,",
            "'exposures' targets take 'at_most', not 'within'",
        ),
        ("at_most: 0,", "", "'exposures' targets need 'at_most'"),
    ],
)
def test_bad_settings_name_the_field_and_what_is_allowed(old: str, new: str, message: str) -> None:
    assert old in ONE_RECORD
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(ONE_RECORD.replace(old, new, 1))


def test_replications_add_up_exposures_and_keep_each_day_the_fewest_counted(
    tmp_path: Path,
) -> None:
    """Three replications of the one record: an exposure in any is the study's, and the plan's
    number is reached only where every replication reached it."""
    out = tmp_path / "runs"
    path = tmp_path / "one-record.yaml"
    path.write_text(ONE_RECORD, encoding="utf-8")
    ran = govstream("run", path, "--replications", "3", "--out", out, "--quiet")
    assert ran.returncode in (0, 1), ran.stderr  # 1: a target missed
    result = RunResult.read(out / "result.json")
    assert len(result.replications) == 3
    single = [run(scenario_of(f"seed={r.seed}")) for r in result.replications]
    bank = result.exposures["F12"]["bank"]
    assert bank.exposures == sum(s.exposures["F12"]["bank"].exposures for s in single)
    assert bank.checks == sum(s.exposures["F12"]["bank"].checks for s in single)
    counted = result.tallies["F12"]["credit-code-adopters"].counted
    assert counted == min(s.tallies["F12"]["credit-code-adopters"].counted for s in single)
    verdicts = {v.id: v.verdict for v in result.targets}
    assert verdicts == {"none-exposed": "missed", "one-adopter": "met"}
