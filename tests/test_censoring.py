"""Unfinished cases count: at their age, as a lower bound, and in the verdict.

A run that ends with cases still open used to drop them, so half a run's cases stuck behind an
outage left the quick half to report "all targets met". Every case and request that started
must count, the open ones right-censored at their age.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import ROOT, govstream

from govstream.engines.sim.engine import SimEngine
from govstream.metrics import LatencyRecorder, RecorderSet
from govstream.pipeline.book import agency_key, case_key, span_key, step_key
from govstream.result import RunResult
from govstream.scenario.loader import load_scenario
from govstream.sla import judge

EXIT_SLA_MISSED = 3
FANOUT = ROOT / "scenarios" / "deregistration-fanout.yaml"
STUCK = [
    "duration=20d",
    "drain=10d",
    "agencies.bank.outages=[{start: 10d, end: 400d}]",
]
"""The issue's reproduction: the bank closes on day 10 and never reopens within the run."""


# -- the recorder -----------------------------------------------------------------------------


def test_an_open_value_counts_at_its_age_and_makes_the_statistics_lower_bounds() -> None:
    recorder = LatencyRecorder()
    for value in range(1, 91):  # 90 finished, 1 s to 90 s
        recorder.record(float(value))
    for _ in range(10):  # 10 still open, each 50 s old
        recorder.record_open(50.0)
    summary = recorder.summary()
    assert (summary.count, summary.open, summary.total) == (90, 10, 100)
    assert summary.open_share == pytest.approx(0.1)
    # Counted at 50 s, the open ones sit in the middle: the median moves up from 45.5 s.
    assert summary.p50 == pytest.approx(50.0, rel=0.01)
    assert summary.at_least("p50")  # an open value (50 s) reaches it: it may still grow
    assert summary.at_least("mean") and summary.at_least("max")
    # If none of the open ones ever finished, the p99 would be beyond every finished value,
    # and the p90 the 90th (the last) finished one.
    assert summary.upper_of("p99") is None
    assert summary.upper_of("p90") == pytest.approx(90.0, rel=0.01)
    # The p50 cannot pass the 50th finished value whatever the open ones do.
    assert summary.upper_of("p50") == pytest.approx(50.0, rel=0.01)


def test_a_percentile_below_every_open_value_is_exact() -> None:
    recorder = LatencyRecorder()
    for value in range(1, 100):
        recorder.record(float(value))
    recorder.record_open(500.0)
    summary = recorder.summary()
    assert not summary.at_least("p50") and not summary.at_least("p90")
    assert summary.upper_of("p50") == pytest.approx(summary.p50)
    assert summary.at_least("p99.9")  # the open value is the top one
    assert summary.max == 500.0


def test_open_values_survive_the_result_data_and_merging() -> None:
    first, second = RecorderSet(), RecorderSet()
    for value in (1.0, 2.0, 3.0):
        first["x"].record(value)
    first["x"].record_open(10.0)
    second["x"].record(4.0)
    second["x"].record_open(20.0)
    merged = RecorderSet()
    merged.merge_data(json.loads(json.dumps(first.encode())))
    merged.merge_data(json.loads(json.dumps(second.encode())))
    summary = merged.summaries()["x"]
    assert (summary.count, summary.open) == (4, 2)
    assert summary.open_min == 10.0 and summary.max == 20.0
    assert summary.mean == pytest.approx((1 + 2 + 3 + 4 + 10 + 20) / 6)


@pytest.mark.parametrize(
    ("lower", "upper", "verdict"),
    [(1.0, 2.0, "met"), (4.0, None, "missed"), (2.0, None, "undecided"), (2.0, 4.0, "undecided")],
)
def test_a_verdict_is_met_only_if_the_open_ones_cannot_tip_it(
    lower: float, upper: float | None, verdict: str
) -> None:
    assert judge(lower, upper, limit=3.0) == verdict


# -- the reproduction -----------------------------------------------------------------


def test_cases_stuck_behind_an_outage_are_counted_and_the_run_fails(tmp_path: Path) -> None:
    sets = [arg for override in STUCK for arg in ("--set", override)]
    ran = govstream("run", FANOUT, *sets, "--fail-on-sla", "--out", tmp_path)
    assert ran.returncode == EXIT_SLA_MISSED, ran.stdout + ran.stderr
    result = RunResult.read(tmp_path / "result.json")
    counts = result.flow_counts["F03"]
    assert counts.cases_open > 400
    case = result.latency[case_key("F03")]
    assert case["count"] == counts.cases_completed
    assert case["count"] + case["open"] == counts.cases_started
    bank = {v.step: v for v in result.targets if v.of == "acted"}["bank"]
    assert bank.open > 0 and bank.verdict in ("missed", "undecided") and not bank.met
    assert not result.targets_met
    assert "all targets met" not in ran.stdout
    assert "≥" in ran.stdout and "open" in ran.stdout
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "MISSED" in summary and " %)" in summary


def test_open_cases_steps_spans_and_queued_requests_are_all_censored() -> None:
    """A chain stopped half-way: the case, the steps after the stop, the spans begun and the
    requests queued at the closed agency all count as open, each at its own age."""
    scenario = load_scenario(
        ROOT / "scenarios" / "procurement-lifecycle.yaml",
        ["duration=10d", "drain=20d", "agencies.finance-bureau.outages=[{start: 0d, end: 400d}]"],
    )
    result = SimEngine(scenario).run()
    counts = result.flow_counts["F17"]
    assert counts.cases_completed == 0 and counts.cases_open == counts.cases_started > 0
    latency = result.latency
    assert latency[case_key("F17")]["open"] == counts.cases_started
    # contract filing is finance-bureau's: every case waits there, never answered
    filing = latency[step_key("F17", "acted", "contract-filing")]
    assert filing["count"] == 0 and filing["open"] > 0
    # the payment is further down the chain, not yet requested, and still counts as open
    assert latency[step_key("F17", "acted", "payment")]["open"] > 0
    # award-to-contract ends with the purchaser's signing, which is done: finished, not open
    award = latency[span_key("F17", "award-to-contract")]
    assert award["count"] > 0 and award["open"] == 0
    # the queue at the closed finance bureau waits, with every request counted
    wait = latency[agency_key("wait", "finance-bureau")]
    assert wait["open"] >= result.agencies["finance-bureau"].queue_at_end > 0
    assert result.legal_working_days[case_key("F17")]["open"] == counts.cases_started


def test_a_run_with_nothing_open_reports_no_open_share(tmp_path: Path) -> None:
    ran = govstream("run", ROOT / "scenarios" / "property-transfer-utilities.yaml",
                    "--out", tmp_path)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    result = RunResult.read(tmp_path / "result.json")
    assert result.counts.cases_open == 0
    assert all(summary["open"] == 0 for summary in result.latency.values())
    assert "≥" not in ran.stdout
