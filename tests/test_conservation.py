"""Conservation: every case and every request is somewhere, and `lost` is really zero.

The identities follow from what each count means along an agency request's path:

    emitted (the orchestrator sends it) → delivered (reaches the agency's pool) → acted
    (service ends) → outcome recorded (the orchestrator sees it)

A wait outside any agency is emitted and its outcome recorded, with nothing in between. So the
counts can only fall along the path, and whatever is between two stages at the end of the run is
on the wire, at a pool (queued or with a clerk) or being waited for. When no case is open,
nothing can be between stages. Independent checks come from the latency book (each metric is
recorded once per request at a known stage), from the fact that every step of a finished case
was either requested or skipped, and from populations chosen so the number of requests per case
is known in advance.

Every shipped scenario is run, cut short where it is long, with a drain long enough for the
tail of any wait (a run ends as soon as its last case closes, so a long drain costs nothing);
every flow must have one. The drain runs to the last day the holiday data covers: a run may not
reach a day whose holidays nobody knows.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from govstream.calendar.working import cn_package_years
from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import agency_key, case_key, hop_key, step_key
from govstream.result import Counts, RunResult
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.flow import FlowSpec

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(path.stem for path in SCENARIOS.glob("*.yaml"))
LONGEST = 40 * 86_400
"""Scenarios longer than this are cut to it: every feature they use stays in."""


def drain_to_the_calendars_end(name: str, duration: str | None) -> str:
    """Heavy-tailed waits (a works delivery of median 3 weeks, p95 75 days) can outlast a
    shipped drain by months; a case still open then would say nothing about conservation. So
    the drain lasts years: up to the end of the last year the holiday package covers."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml", [duration] if duration else [])
    arrivals_end = scenario.start + timedelta(seconds=scenario.duration.clock_seconds())
    last = datetime(cn_package_years()[1], 12, 31, tzinfo=scenario.start.tzinfo)
    days = (last - arrivals_end).days
    assert days > 365, "the holiday data covers years past the shipped scenarios"
    return f"drain={days}d"


def run(name: str, *overrides: str) -> RunResult:
    """A run whose ledger's own identities all held at its end, overall and per flow."""
    engine = SimEngine(load_scenario(SCENARIOS / f"{name}.yaml", overrides))
    result = engine.run()
    for flow_id in (None, *result.flow_ids):
        broken = [i for i in engine.ledger.identities(flow_id) if not i.holds]
        assert not broken, (flow_id, broken)
    return result


def short_overrides(name: str) -> list[str]:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    cut = "duration=40d" if scenario.duration.clock_seconds() > LONGEST else None
    return [*([cut] if cut else []), drain_to_the_calendars_end(name, cut)]


@functools.cache
def short_run(name: str) -> RunResult:
    return run(name, *short_overrides(name))


def count(result: RunResult, key: str) -> int:
    summary = result.latency.get(key)
    return int(summary["count"]) if summary else 0


def still_open(result: RunResult, key: str) -> int:
    summary = result.latency.get(key)
    return int(summary.get("open", 0)) if summary else 0


def pools_of(result: RunResult, flow_id: str) -> list[str]:
    return [name for name, load in result.agencies.items() if flow_id in load.requests]


def request_keys(result: RunResult, spec: FlowSpec, mark: str) -> list[str]:
    """Each agency step's metric for one request: the step's own, or for a step done per item,
    each item's (the step's own then counts its joins)."""
    keys = []
    for step in spec.steps:
        if step.is_wait:
            continue
        key = step_key(spec.id, mark, step.id)
        keys += [k for k in result.latency if k.startswith(f"{key}@")] if step.each else [key]
    return keys


def check_flow(result: RunResult, spec: FlowSpec) -> None:
    """The identities of one flow's counts, whether or not the run ended with open cases."""
    f = spec.id
    c = result.flow_counts[f]
    assert c.lost == 0
    assert c.cases_started == c.cases_completed + c.cases_open
    assert c.cases_rejected <= c.cases_completed
    assert c.requests_emitted >= c.outcomes_recorded
    assert c.requests_in_flight == c.requests_emitted - c.outcomes_recorded
    assert c.requests_delivered >= c.requests_acted
    # Every step of a case is requested, skipped or cancelled once; a finished case has done all.
    # A step done per item sends a request per item, each with its own latencies.
    not_run = c.steps_skipped + c.steps_cancelled
    if all(step.each is None for step in spec.steps):
        assert c.requests_emitted + not_run <= c.cases_started * len(spec.steps)
        if c.cases_open == 0:
            assert c.requests_emitted + not_run == c.cases_completed * len(spec.steps)
    # Each latency metric counts one stage of the path.
    delivered = sum(count(result, key) for key in request_keys(result, spec, "delivered"))
    assert delivered == c.requests_delivered
    agency_outcomes = sum(count(result, key) for key in request_keys(result, spec, "acted"))
    wait_outcomes = sum(count(result, step_key(f, "acted", s.id)) for s in spec.waits)
    # A deadline withdrawn is answered at once and sets no latency (`Step.until`).
    assert agency_outcomes + wait_outcomes + c.deadlines_withdrawn == c.outcomes_recorded
    if not any(step.until for step in spec.steps):
        assert c.deadlines_withdrawn == 0
    assert agency_outcomes <= c.requests_acted
    for kind in ("service-work", "service-elapsed", "sojourn"):
        at_pools = sum(count(result, agency_key(kind, pool, f)) for pool in pools_of(result, f))
        assert at_pools == c.requests_acted, kind
    # A request still at a pool when the run ended counts there too, as open: every delivered
    # request has a wait and a sojourn, finished or open at its age.
    for kind in ("wait", "sojourn"):
        at_pools = sum(
            count(result, agency_key(kind, pool, f)) + still_open(result, agency_key(kind, pool, f))
            for pool in pools_of(result, f)
        )
        assert at_pools == c.requests_delivered, kind
    assert count(result, case_key(f)) == c.cases_completed
    assert count(result, case_key(f)) + still_open(result, case_key(f)) == c.cases_started
    # A pool counts a request once its clerk is done with it.
    taken = sum(result.agencies[pool].requests[f] for pool in pools_of(result, f))
    assert c.requests_acted <= taken <= c.requests_delivered
    if c.cases_open == 0:
        assert c.requests_in_flight == 0
        assert c.requests_emitted == c.outcomes_recorded
        assert c.requests_delivered == c.requests_acted == agency_outcomes == taken
        assert c.duplicates == 0 and c.refused == 0


def check_identities(result: RunResult) -> None:
    """Every flow's identities, and what they add up to across flows and pools."""
    c = result.counts
    assert c.lost == 0
    assert set(result.flow_counts) == set(result.flow_ids)
    for flow_id in result.flow_ids:
        check_flow(result, FLOWS[flow_id])
    for name in Counts.model_fields:
        total = sum(getattr(fc, name) for fc in result.flow_counts.values())
        assert getattr(c, name) == total, name
    # A pool's own metrics cover every flow it serves.
    for pool, load in result.agencies.items():
        per_flow = sum(count(result, agency_key("wait", pool, f)) for f in load.requests)
        assert count(result, agency_key("wait", pool)) == per_flow
    assert count(result, hop_key("orchestrator-to-agency")) == c.requests_delivered
    # Requests delivered but not yet acted on are at a pool, queued or with a clerk; a pool's
    # queue at the end also holds its requests still on their way there or their answer back.
    at_pools = c.requests_delivered - c.requests_acted
    unanswered = sum(a.queue_at_end for a in result.agencies.values())
    assert 0 <= at_pools <= unanswered
    # A case with a request in flight cannot be complete.
    if c.requests_in_flight:
        assert c.cases_open > 0


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_conserves_everything(name: str) -> None:
    result = short_run(name)
    check_identities(result)
    c = result.counts
    assert c.cases_started > 20, "the shortened run still carries load"
    assert c.cases_open == 0, "every case closes"
    assert all(a.queue_at_end == 0 for a in result.agencies.values())


def test_every_flow_has_a_shipped_scenario_that_completes_it(
    flow_spec: FlowSpec, shipped: dict[str, tuple[str, ...]]
) -> None:
    names = [name for name, flows in shipped.items() if flow_spec.id in flows]
    assert names, f"no scenario in scenarios/ runs {flow_spec.id}"
    for name in names:
        c = short_run(name).flow_counts[flow_spec.id]
        assert c.cases_started > 0, name
        assert c.cases_completed == c.cases_started, name
        assert (c.lost, c.duplicates, c.refused) == (0, 0, 0), name


# -- F03 and F10: requests per case follow the population -----------------------------------


def test_every_f03_case_has_exactly_one_police_request() -> None:
    """Every company holds its official seal."""
    result = short_run("deregistration-fanout")
    c = result.counts
    assert count(result, step_key("F03", "delivered", "police")) == c.cases_started
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
    result = run(name, *short_overrides(name), *population)
    check_identities(result)
    c = result.counts
    assert c.cases_open == 0
    assert c.requests_emitted == per_case * c.cases_started
    assert c.steps_skipped == (3 - per_case) * c.cases_started


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
    assert result.latency[case_key("F10")]["max"] == 0.0


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
    bank = step_key("F03", "acted", "bank")
    assert with_outage.agencies["bank"].outages and not without.agencies["bank"].outages
    assert with_outage.agencies["bank"].max_queue > without.agencies["bank"].max_queue
    assert with_outage.agencies["bank"].queue_at_end == 0
    assert with_outage.latency[bank]["max"] > without.latency[bank]["max"]
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


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_cut_short_loses_nothing(name: str) -> None:
    """Stopped mid-way, with waits and chains half done: open, in flight, never lost."""
    result = run(name, "duration=5d", "drain=0s")
    check_identities(result)
    assert result.counts.lost == 0
