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

from govstream.engines.sim import SimEngine
from govstream.result import RunResult
from govstream.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHORT = {
    # Shortened where the full run is long; every engine feature a scenario uses stays in.
    "deregistration-fanout": ["duration=20d", "drain=20d"],
    "deregistration-bank-outage": [],
    "property-transfer-utilities": [],
}


def run_in_process(name: str, *extra: str) -> str:
    path = SCENARIOS / f"{name}.yaml"
    overrides = [*SHORT[name], *extra]
    scenario = load_scenario(path, overrides)
    return SimEngine(scenario, scenario_file=str(path), overrides=overrides).run().to_json()


@pytest.mark.parametrize("name", sorted(SHORT))
def test_same_seed_same_result_in_process(name: str) -> None:
    first = run_in_process(name)
    second = run_in_process(name)
    assert first == second
    assert RunResult.model_validate_json(first).counts.cases_started > 0


@pytest.mark.parametrize("name", sorted(SHORT))
def test_other_seed_other_result_in_process(name: str) -> None:
    base = RunResult.model_validate_json(run_in_process(name))
    other = RunResult.model_validate_json(run_in_process(name, f"seed={base.seed + 1}"))
    # Not just the seed field: the simulated history differs.
    assert other.latency != base.latency


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
