"""Conservation: every case and every request is somewhere, and `lost` is really zero.

The identities follow from what each count means along a request's path:

    emitted (fan-out sends it) → delivered (reaches the station) → acted (service ends)
    → outcome recorded (the case tracker sees it)

so the counts can only fall along the path; whatever is between two stages at the end of the
run is on the wire or at a station (queued or with a clerk). When no case is open, nothing can
be between stages. Independent checks come from the latency recorders (each records once per
request at a known stage) and from populations chosen so the number of requests per case is
known in advance.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govstream.engines.sim import SimEngine
from govstream.result import RunResult
from govstream.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHORT = {
    "deregistration-fanout": ["duration=40d"],
    "deregistration-bank-outage": [],
    "property-transfer-utilities": [],
}
RECIPIENTS = {"F03": ("police", "bank", "housing-fund"), "F10": ("water", "power", "gas")}


def run(name: str, *overrides: str) -> RunResult:
    return SimEngine(load_scenario(SCENARIOS / f"{name}.yaml", overrides)).run()


def count(result: RunResult, key: str) -> int:
    summary = result.latency.get(key)
    return int(summary["count"]) if summary else 0


def counted_per_recipient(result: RunResult, stage: str) -> int:
    return sum(count(result, f"{stage}:{r}") for r in RECIPIENTS[result.flow.id])


def check_identities(result: RunResult) -> None:
    """The identities that hold whether or not the run ended with open cases."""
    c = result.counts
    assert c.lost == 0
    assert c.cases_started == c.cases_completed + c.cases_open
    assert c.requests_emitted >= c.requests_delivered >= c.requests_acted >= c.outcomes_recorded
    assert c.requests_in_flight == c.requests_emitted - c.outcomes_recorded
    assert c.cases_rejected <= c.cases_completed
    # Each latency recorder counts one stage of the path.
    assert counted_per_recipient(result, "delivered") == c.requests_delivered
    assert counted_per_recipient(result, "wait") == c.requests_acted
    assert counted_per_recipient(result, "sojourn") == c.requests_acted
    assert counted_per_recipient(result, "acted") == c.outcomes_recorded
    assert count(result, "case") == c.cases_completed
    assert count(result, "hop:fanout-to-recipient") == c.requests_delivered
    # Requests delivered but not yet answered are at a station: queued or with a clerk.
    at_stations = c.requests_delivered - c.requests_acted
    queued = sum(a.queue_at_end for a in result.agencies.values())
    clerks = sum(a.servers for a in result.agencies.values())
    assert 0 <= at_stations - queued <= clerks
    # A case with a request in flight cannot be complete.
    if c.requests_in_flight:
        assert c.cases_open > 0


@pytest.mark.parametrize("name", sorted(SHORT))
def test_shipped_scenario_conserves_everything(name: str) -> None:
    result = run(name, *SHORT[name])
    check_identities(result)
    c = result.counts
    assert c.cases_started > 100, "the shortened run still carries load"
    assert c.cases_open == 0, "the shipped drain is long enough to finish every case"
    assert c.requests_emitted == c.requests_delivered == c.requests_acted == c.outcomes_recorded
    assert c.requests_in_flight == 0
    assert all(a.queue_at_end == 0 for a in result.agencies.values())
    assert c.duplicates == 0
    if result.flow.id == "F03":
        # Every company holds its official seal, so every case has exactly one police request.
        assert count(result, "delivered:police") == c.cases_started
        assert c.cases_started <= c.requests_emitted <= 3 * c.cases_started


@pytest.mark.parametrize(
    ("name", "population", "per_case"),
    [
        (
            "deregistration-fanout",
            ["population.bank_account_weights=[0, 1]", "population.housing_fund_probability=1"],
            3,
        ),
        (
            "deregistration-fanout",
            ["population.bank_account_weights=[1]", "population.housing_fund_probability=0"],
            1,
        ),
        (
            "property-transfer-utilities",
            [
                "population.water_probability=1",
                "population.power_probability=1",
                "population.gas_probability=0",
            ],
            2,
        ),
    ],
)
def test_requests_per_case_follow_the_population(
    name: str, population: list[str], per_case: int
) -> None:
    result = run(name, *SHORT[name], *population)
    check_identities(result)
    c = result.counts
    assert c.cases_open == 0
    assert c.requests_emitted == per_case * c.cases_started


def test_f10_case_without_any_utility_completes_at_once() -> None:
    result = run(
        "property-transfer-utilities",
        "population.water_probability=0",
        "population.power_probability=0",
        "population.gas_probability=0",
    )
    check_identities(result)
    c = result.counts
    assert c.requests_emitted == 0
    assert c.cases_completed == c.cases_started > 0
    assert result.latency["case"]["max"] == 0.0


# -- the bank outage study ------------------------------------------------------------------

NO_BURSTS = ("arrivals.process=poisson", "arrivals.bursts=[]")
"""The study's month-end rush builds the largest bank queue with or without the outage, which
would hide the outage's own backlog; both runs below leave the rush out to isolate it."""


def test_bank_outage_builds_a_backlog_that_drains() -> None:
    with_outage = run("deregistration-bank-outage", *NO_BURSTS)
    without = run("deregistration-bank-outage", *NO_BURSTS, "agencies.bank.outages=[]")
    for result in (with_outage, without):
        check_identities(result)
        assert result.counts.cases_open == 0
    assert with_outage.agencies["bank"].outages and not without.agencies["bank"].outages
    assert with_outage.agencies["bank"].max_queue > without.agencies["bank"].max_queue
    assert with_outage.agencies["bank"].queue_at_end == 0
    assert with_outage.latency["acted:bank"]["max"] > without.latency["acted:bank"]["max"]
    # Arrivals and the population have their own random streams: both runs got the same work.
    assert with_outage.counts.cases_started == without.counts.cases_started
    assert with_outage.counts.requests_emitted == without.counts.requests_emitted


def test_shipped_outage_study_drains_by_the_end() -> None:
    result = run("deregistration-bank-outage")
    check_identities(result)
    assert result.agencies["bank"].outages == ["14d–17d (core-banking migration)"]
    assert all(a.queue_at_end == 0 for a in result.agencies.values())
    assert result.counts.cases_open == 0


# -- a run cut short ------------------------------------------------------------------------


def test_short_drain_leaves_open_cases_counted_as_open_not_lost() -> None:
    result = run("deregistration-fanout", "duration=10d", "drain=0s")
    check_identities(result)
    c = result.counts
    assert c.cases_open > 0
    assert c.requests_in_flight > 0
    assert c.lost == 0
    # The run stopped at the end of the arrival window, with work still waiting.
    assert result.business_seconds == pytest.approx(10 * 86_400)
    assert sum(a.queue_at_end for a in result.agencies.values()) > 0
