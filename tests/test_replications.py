"""Replications: N seeds in parallel, merged histograms, a 95 % interval per statistic.

One run's p99 is one sample; the interval across replications says how far it moves with the
seed, and a verdict taken from it is met only when the whole interval holds.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

import pytest
from cli_runner import ROOT, govstream

from govstream.cli import main
from govstream.engines.sim.engine import SimEngine
from govstream.metrics import RecorderSet
from govstream.pipeline.book import case_key
from govstream.result import Interval, RunResult
from govstream.scenario.loader import load_scenario
from govstream.sla import judge
from govstream.studies.replications import (
    confidence_interval,
    default_workers,
    run_replications,
    t_quantile,
)

OUTAGE = ROOT / "scenarios" / "deregistration-bank-outage.yaml"
SHORT = ["duration=10d", "drain=20d"]


def test_the_interval_is_students_t_over_the_replications() -> None:
    values = [10.0, 12.0, 11.0, 13.0]
    mean, low, high = confidence_interval(values)
    half = 3.182 * statistics.stdev(values) / 2
    assert mean == 11.5 and (low, high) == pytest.approx((11.5 - half, 11.5 + half))
    assert confidence_interval([4.0]) == (4.0, 4.0, 4.0)
    assert t_quantile(7) == pytest.approx(2.365) and t_quantile(1000) == pytest.approx(1.96)


@pytest.fixture(scope="module")
def replicated() -> RunResult:
    scenario = load_scenario(OUTAGE, SHORT)
    return run_replications(scenario, 3, scenario_file=str(OUTAGE), overrides=SHORT, workers=2)


def test_each_replication_is_the_run_of_its_own_seed(replicated: RunResult) -> None:
    scenario = load_scenario(OUTAGE, SHORT)
    seeds = [r.seed for r in replicated.replications]
    assert seeds == [scenario.seed, scenario.seed + 1, scenario.seed + 2]
    alone = SimEngine(scenario.model_copy(update={"seed": seeds[1]})).run()
    assert replicated.replications[1].latency == alone.latency
    assert replicated.replications[1].counts == alone.counts
    assert replicated.counts.cases_started == sum(
        r.counts.cases_started for r in replicated.replications
    )


def test_the_merged_histograms_are_the_replications_together(replicated: RunResult) -> None:
    merged = RecorderSet()
    for replication in replicated.replications:
        merged.merge_data(replication.histograms["latency"])
    pooled = merged.summaries()[case_key("F03")].to_data()
    assert replicated.latency[case_key("F03")] == pooled
    assert pooled["count"] == sum(
        r.latency[case_key("F03")]["count"] for r in replicated.replications
    )
    assert set(replicated.replications[0].histograms) == {
        "latency",
        "working_days",
        "legal_working_days",
    }


def test_verdicts_come_from_the_interval(replicated: RunResult) -> None:
    for verdict in replicated.targets:
        assert verdict.interval is not None
        low, high = verdict.interval
        assert low <= verdict.observed <= high
        if verdict.verdict == "met":
            assert high <= verdict.limit
        if verdict.verdict == "missed":
            assert low > verdict.limit
    per_run = [r.latency[case_key("F03")]["p99"] for r in replicated.replications]
    interval = replicated.intervals["latency"][case_key("F03")]["p99"]
    assert isinstance(interval, Interval)
    assert interval.mean == pytest.approx(statistics.fmean(per_run))


def test_an_interval_that_straddles_the_limit_is_undecided() -> None:
    assert judge(2.0, 4.0, 3.0) == "undecided"


def test_the_command_prints_intervals_and_is_deterministic(tmp_path: Path) -> None:
    sets = [arg for override in SHORT for arg in ("--set", override)]
    args = ["run", OUTAGE, "--replications", "2", *sets]
    first = govstream(*args, "--out", tmp_path / "a")
    assert first.returncode == 0, first.stderr
    assert "95 % confidence interval" in " ".join(first.stdout.split())
    assert "[" in first.stdout
    second = govstream(*args, "--out", tmp_path / "b")
    assert second.returncode == 0, second.stderr
    a = (tmp_path / "a" / "result.json").read_text(encoding="utf-8")
    b = (tmp_path / "b" / "result.json").read_text(encoding="utf-8")
    assert a == b
    assert len(RunResult.read(tmp_path / "a" / "result.json").replications) == 2


def test_replications_on_kafka_are_refused_with_a_reason(tmp_path: Path) -> None:
    ran = govstream("run", OUTAGE, "--replications", "3", "--engine", "kafka", "--out", tmp_path)
    assert ran.returncode == 2 and "sim engine only" in " ".join(ran.stderr.split())


def test_jobs_caps_the_processes_and_one_per_core_is_the_default(
    inline_pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert default_workers(3) == 3  # no more processes than replications
    assert default_workers(20) == 8  # one per core
    assert default_workers(20, 2) == 2 and default_workers(1, 4) == 1
    with pytest.raises(ValueError, match="jobs"):
        default_workers(3, 0)
    scenario = load_scenario(OUTAGE, SHORT)
    run_replications(scenario, 2, overrides=SHORT, workers=1)
    run_replications(scenario, 2, overrides=SHORT)
    assert inline_pool.sizes == [1, 2]


def test_the_jobs_option_reaches_the_pool_and_leaves_the_result_alone(
    inline_pool: Any, tmp_path: Path
) -> None:
    sets = [arg for override in SHORT for arg in ("--set", override)]
    args = ["run", str(OUTAGE), "--replications", "3", "--quiet", *sets]
    assert main([*args, "--jobs", "1", "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--jobs", "2", "--out", str(tmp_path / "two")]) == 0
    assert inline_pool.sizes == [1, 2]
    one = (tmp_path / "one" / "result.json").read_bytes()
    assert one == (tmp_path / "two" / "result.json").read_bytes()


def test_jobs_below_one_is_bad_input(tmp_path: Path) -> None:
    ran = govstream("run", OUTAGE, "--replications", "2", "--jobs", "0", "--out", tmp_path)
    assert ran.returncode == 2 and "--jobs 0" in ran.stderr
