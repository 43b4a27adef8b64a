"""Same scenario and seed, same result.json, byte for byte; another seed, another result.

A study is only reviewable if anyone can rerun it and get the file the report was made from.
The CLI runs use different PYTHONHASHSEED values, so a result that depended on set or dict
ordering of strings (hash randomisation) would show up as a difference.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from govstream.engines.sim.engine import SimEngine
from govstream.result import RunResult
from govstream.scenario.loader import load_scenario
from govstream.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(path.stem for path in SCENARIOS.glob("*.yaml"))
LONGEST = 20 * 86_400
"""Longer scenarios are cut to this; every engine feature a scenario uses stays in."""


def run_in_process(name: str, *extra: str) -> str:
    path = SCENARIOS / f"{name}.yaml"
    long = load_scenario(path).duration.clock_seconds() > LONGEST
    overrides = [*(["duration=20d"] if long else []), *extra]
    scenario = load_scenario(path, overrides)
    return SimEngine(scenario, scenario_file=str(path), overrides=overrides).run().to_json()


@pytest.mark.parametrize("name", SHIPPED)
def test_same_seed_same_result_in_process(name: str) -> None:
    first = run_in_process(name)
    second = run_in_process(name)
    assert first == second
    result = RunResult.model_validate_json(first)
    assert result.counts.cases_completed > 0


@pytest.mark.parametrize("name", SHIPPED)
def test_other_seed_other_result_in_process(name: str) -> None:
    base = RunResult.model_validate_json(run_in_process(name))
    other = RunResult.model_validate_json(run_in_process(name, f"seed={base.seed + 1}"))
    # Not just the seed field: the simulated history differs.
    assert other.latency != base.latency


def merged(names: list[str]) -> Scenario:
    """One scenario running the flows of several shipped one-flow scenarios, cut to 5 days.

    The first file's settings win where two name the same agency (a shared pool)."""
    parts = [load_scenario(SCENARIOS / f"{name}.yaml", ["duration=5d"]).to_data() for name in names]
    data = {**parts[0], "targets": [], "flows": {}, "agencies": {}}
    for part in reversed(parts):
        data["flows"].update(part["flows"])
        data["agencies"].update(part["agencies"])
    return Scenario.model_validate(data)


def one_flow_scenarios() -> list[str]:
    """The first shipped scenario of each flow that has one running it alone."""
    first: dict[str, str] = {}
    for name in SHIPPED:
        flows = list(load_scenario(SCENARIOS / f"{name}.yaml").flows)
        if len(flows) == 1:
            first.setdefault(flows[0], name)
    return list(first.values())


def test_a_scenario_of_several_flows_is_deterministic() -> None:
    names = one_flow_scenarios()[:2]
    first = SimEngine(merged(names)).run()
    assert first.to_json() == SimEngine(merged(names)).run().to_json()
    assert len(first.flow_counts) == 2
    assert all(c.cases_started > 0 for c in first.flow_counts.values())


def test_adding_a_flow_does_not_move_another_flows_arrivals_or_cases() -> None:
    """Each flow draws its arrivals and its triggers from streams of its own, so a third flow
    leaves the first two's cases as they were (their latencies may change: pools are shared)."""
    names = one_flow_scenarios()[:3]
    two, three = SimEngine(merged(names[:2])).run(), SimEngine(merged(names)).run()
    assert len(three.flow_counts) == 3
    for flow_id, counts in two.flow_counts.items():
        other = three.flow_counts[flow_id]
        assert (other.cases_started, other.requests_emitted, other.steps_skipped) == (
            counts.cases_started,
            counts.requests_emitted,
            counts.steps_skipped,
        ), flow_id


def cli_run(out: Path, *args: str, hash_seed: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "COLUMNS": "200"}
    command = [sys.executable, "-m", "govstream", "run", *args, "--out", str(out), "--quiet"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_cli_runs_are_byte_identical(tmp_path: Path) -> None:
    scenario = "scenarios/deregistration-bank-outage.yaml"
    runs = {
        "first": (tmp_path / "first", (scenario,), "1"),
        "second": (tmp_path / "second", (scenario,), "2"),
        "reseeded": (tmp_path / "reseeded", (scenario, "--seed", "7"), "1"),
    }
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {
            name: pool.submit(cli_run, out, *args, hash_seed=hash_seed)
            for name, (out, args, hash_seed) in runs.items()
        }
        results = {name: future.result() for name, future in futures.items()}
    for name, result in results.items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
    first = (tmp_path / "first" / "result.json").read_bytes()
    second = (tmp_path / "second" / "result.json").read_bytes()
    reseeded = (tmp_path / "reseeded" / "result.json").read_bytes()
    assert first == second
    summary = [(tmp_path / n / "summary.md").read_bytes() for n in ("first", "second")]
    assert summary[0] == summary[1]
    assert reseeded != first
    base = RunResult.read(tmp_path / "first" / "result.json")
    other = RunResult.read(tmp_path / "reseeded" / "result.json")
    assert other.seed == 7 != base.seed
    assert other.latency != base.latency
