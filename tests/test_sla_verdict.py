"""Where a latency target's verdict is made: a run's summary with cases still open at its end.

`judge` alone is checked in test_censoring, and the recorder's censored bounds there too; what
neither sees is which of a summary's numbers the verdict hands `judge` as the upper bound. A
verdict that took the statistic as its own upper bound would call a run "met" whose open cases
could still miss, which is the very report censoring exists to prevent.
"""

from __future__ import annotations

import pytest
from cli_runner import ROOT

from govstream.metrics import LatencySummary
from govstream.pipeline.book import case_key, rate_key, span_key, step_key
from govstream.result import Interval, TargetVerdict
from govstream.scenario.loader import load_scenario
from govstream.scenario.model import Scenario
from govstream.sla import (
    evaluate_targets,
    judge_rate,
    rate_verdict,
    target_metrics,
    target_scale,
)
from processors import FLOWS

UNEMPLOYMENT = ROOT / "scenarios" / "unemployment-benefit.yaml"
PROCUREMENT = ROOT / "scenarios" / "procurement-lifecycle.yaml"
"""F17: its steps include waits (the delivery, the invoice), which no step target is on."""
LIMIT = 100.0
"""The target's limit in seconds: the case's p90 within 100 s."""


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(
        UNEMPLOYMENT,
        ["targets=[{id: quick, of: case, stat: p90, within: 100s, source: author}]"],
    )


def summary(p90: float, open_: int = 0, upper: float | None = None) -> LatencySummary:
    """A case's latencies with its p90 at `p90`; `open_` cases still open at the end, with the
    p90 at `upper` if they never finished (None: unbounded)."""
    return LatencySummary(
        count=90,
        mean=p90 / 2,
        p50=p90 / 2,
        p90=p90,
        p99=p90 * 1.1,
        p999=p90 * 1.2,
        max=p90 * 1.2,
        open=open_,
        open_min=p90 / 2 if open_ else None,
        upper={"p90": upper} if open_ else None,
    )


def verdict_of(scenario: Scenario, data: LatencySummary) -> TargetVerdict:
    (verdict,) = evaluate_targets(scenario, {case_key("F14"): data.to_data()}, {})
    return verdict


def test_open_cases_that_could_still_miss_leave_the_verdict_undecided(
    scenario: Scenario,
) -> None:
    """Within the limit as observed, past it if the open cases never finish."""
    verdict = verdict_of(scenario, summary(p90=80.0, open_=10, upper=150.0))
    assert (verdict.observed, verdict.upper, verdict.limit) == (80.0, 150.0, LIMIT)
    assert (verdict.at_least, verdict.open, verdict.within, verdict.unit) == (True, 10, "100s", "s")
    assert (verdict.verdict, verdict.met) == ("undecided", None)


def test_open_cases_with_no_upper_bound_leave_the_verdict_undecided(scenario: Scenario) -> None:
    verdict = verdict_of(scenario, summary(p90=80.0, open_=10, upper=None))
    assert (verdict.upper, verdict.verdict) == (None, "undecided")


def test_open_cases_that_cannot_tip_the_statistic_leave_it_met(scenario: Scenario) -> None:
    verdict = verdict_of(scenario, summary(p90=80.0, open_=10, upper=95.0))
    assert (verdict.upper, verdict.verdict, verdict.met) == (95.0, "met", True)


def test_a_statistic_past_the_limit_at_the_open_cases_age_is_missed(scenario: Scenario) -> None:
    """Open cases only add time: counted at their age they are a floor, so past the limit
    already is a miss whatever they turn out to take."""
    verdict = verdict_of(scenario, summary(p90=120.0, open_=10, upper=None))
    assert (verdict.verdict, verdict.met) == ("missed", False)


@pytest.mark.parametrize(("p90", "expected"), [(80.0, "met"), (100.0, "met"), (120.0, "missed")])
def test_without_open_cases_the_statistic_decides(
    scenario: Scenario, p90: float, expected: str
) -> None:
    verdict = verdict_of(scenario, summary(p90=p90))
    assert (verdict.upper, verdict.at_least, verdict.verdict) == (p90, False, expected)


def test_no_cases_is_no_data(scenario: Scenario) -> None:
    empty = LatencySummary(count=0, mean=0, p50=0, p90=0, p99=0, p999=0, max=0)
    verdict = verdict_of(scenario, empty)
    assert (verdict.verdict, verdict.observed, verdict.met) == ("no data", None, None)
    assert (verdict.at_least, verdict.open, verdict.upper) == (False, 0, None)


def test_a_limit_of_nothing_is_missed_by_any_time() -> None:
    scenario = load_scenario(
        UNEMPLOYMENT, ["targets=[{id: at-once, of: case, stat: p90, within: 0s, source: author}]"]
    )
    verdict = verdict_of(scenario, summary(p90=0.5))
    assert (verdict.limit, verdict.verdict) == (0.0, "missed")


def test_a_plan_target_quotes_the_plan_and_an_authors_does_not() -> None:
    """The plan's own words go with its target (M40's, on the claim-decided span)."""
    scenario = load_scenario(UNEMPLOYMENT)
    plan, author = scenario.targets[0], scenario.targets[1]
    assert (plan.source, plan.measure, author.source) == ("plan", "M40", "author")
    verdicts = {v.id: v for v in evaluate_targets(scenario, {}, {})}
    (quote,) = [t.quote_zh for t in FLOWS["F14"].plan_targets if t.measure == "M40"]
    assert verdicts[plan.id].quote == quote
    assert verdicts[author.id].quote is None
    assert (verdicts[plan.id].verdict, verdicts[plan.id].open) == ("no data", 0)


def test_each_kind_of_target_reads_its_own_table() -> None:
    targets = (
        "targets=[{id: clock, of: case, within: 100s, source: author},"
        " {id: legal, of: case, within: 1wd, source: author},"
        " {id: office, of: case, within: 1wd, working_days: office, source: author},"
        " {id: share, of: rate, step: benefit-approval, at_least: 100%, source: author}]"
    )
    scenario = load_scenario(UNEMPLOYMENT, [targets])
    assert [target_scale(t) for t in scenario.targets] == [
        "latency",
        "legal_working_days",
        "working_days",
        "rates",
    ]


def test_each_target_names_the_metrics_its_verdicts_read() -> None:
    targets = (
        "targets=[{id: case, of: case, within: 1d, source: author},"
        " {id: every-acted, of: acted, step: all, within: 1d, source: author},"
        " {id: one-delivered, of: delivered, step: payment, within: 1d, source: author},"
        " {id: span, of: span, span: invoice-to-payment, within: 5wd, source: author},"
        " {id: share, of: rate, step: payment, at_least: 90%, source: author}]"
    )
    scenario = load_scenario(PROCUREMENT, [targets])
    case, every, one, span, share = (target_metrics(scenario, t) for t in scenario.targets)
    assert case == [("case", case_key("F17"))]
    acting = [step.id for step in FLOWS["F17"].steps if not step.is_wait]
    assert len(acting) < len(FLOWS["F17"].steps)
    assert every == [(step, step_key("F17", "acted", step)) for step in acting]
    assert one == [("payment", "F17/delivered:payment")]
    assert span == [("invoice-to-payment", span_key("F17", "invoice-to-payment"))]
    assert share == [("payment", rate_key("F17", "payment"))]


# -- a rate target: counts, not latencies -----------------------------------------------------


@pytest.mark.parametrize(
    ("done", "failed", "open_", "limit", "expected"),
    [
        (0, 0, 0, 0.9, "no data"),
        (9, 1, 0, 0.9, "met"),  # exactly the share
        (8, 2, 0, 0.9, "missed"),
        (9, 0, 1, 0.9, "met"),  # the open one counted as failed still leaves 90 %
        (8, 1, 1, 0.9, "undecided"),  # 80 % done, 90 % if the open one is
        (7, 1, 2, 0.9, "undecided"),
        (7, 2, 1, 0.9, "missed"),  # 80 % even if the open one is done
        (10, 0, 0, 1.0, "met"),
        (9, 0, 1, 1.0, "undecided"),
    ],
)
def test_a_share_is_met_only_with_the_open_cases_failed(
    done: int, failed: int, open_: int, limit: float, expected: str
) -> None:
    assert judge_rate(done, failed, open_, limit) == expected


def test_a_rate_verdict_reports_the_share_and_its_bound() -> None:
    target = load_scenario(
        UNEMPLOYMENT,
        ["targets=[{id: all, of: rate, step: benefit-approval, at_least: 90%, source: author}]"],
    ).targets[0]
    verdict = rate_verdict(target, "F14", "benefit-approval", {"done": 8, "failed": 1, "open": 1})
    assert (verdict.verdict, verdict.met, verdict.step, verdict.stat) == (
        "undecided",
        None,
        "benefit-approval",
        "rate",
    )
    assert (verdict.observed, verdict.upper, verdict.limit) == (0.8, 0.9, 0.9)
    assert (verdict.due, verdict.open, verdict.at_least, verdict.within) == (10, 1, True, "≥ 90%")
    assert (verdict.unit, verdict.flow, verdict.id) == ("share", "F14", "all")
    settled = rate_verdict(target, "F14", "benefit-approval", {"done": 9, "failed": 1})
    assert (settled.verdict, settled.open, settled.at_least) == ("met", 0, False)
    empty = rate_verdict(target, "F14", "benefit-approval", None)
    assert (empty.verdict, empty.observed, empty.upper, empty.due) == ("no data", None, None, 0)


# -- over replications: the interval's ends -------------------------------------------------


def interval_verdict(scenario: Scenario, interval: Interval) -> TargetVerdict:
    intervals = {"latency": {case_key("F14"): {"p90": interval}}}
    data = {case_key("F14"): summary(p90=interval.mean).to_data()}
    (verdict,) = evaluate_targets(scenario, data, {}, intervals=intervals)
    return verdict


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        # the whole interval within the limit
        (Interval(mean=80.0, low=70.0, high=90.0), "met"),
        # its high end past it: the limit may or may not hold
        (Interval(mean=90.0, low=80.0, high=110.0), "undecided"),
        # its low end past it
        (Interval(mean=120.0, low=110.0, high=130.0), "missed"),
        # within as observed, but open values could carry the high end past the limit
        (Interval(mean=80.0, low=70.0, high=90.0, at_least=True, upper_high=150.0), "undecided"),
        (Interval(mean=80.0, low=70.0, high=90.0, at_least=True, upper_high=None), "undecided"),
        (Interval(mean=80.0, low=70.0, high=90.0, at_least=True, upper_high=95.0), "met"),
    ],
)
def test_over_replications_the_interval_decides(
    scenario: Scenario, interval: Interval, expected: str
) -> None:
    verdict = interval_verdict(scenario, interval)
    assert verdict.verdict == expected
    assert verdict.interval == [interval.low, interval.high]
