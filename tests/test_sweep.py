"""Capacity sweeps: a grid of settings, each target's verdict per point, and the least setting
that meets them all; an interrupted sweep keeps the points it did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import ROOT, govstream

from govstream.cli import main
from govstream.scenario.loader import load_scenario
from govstream.studies.sweep import (
    Interrupted,
    SweepError,
    SweepState,
    Vary,
    answer_text,
    grid,
    parse_vary,
    run_sweep,
    sweep_settings,
)

OUTAGE = ROOT / "scenarios" / "deregistration-bank-outage.yaml"
SHORT = ["duration=10d", "drain=20d", "agencies.bank.outages=[{start: 2d, end: 4d}]"]


def test_vary_reads_ranges_steps_and_lists() -> None:
    assert parse_vary("agencies.bank.servers=2..5").values == ("2", "3", "4", "5")
    assert parse_vary("x=0.5..1.5:0.5").values == ("0.5", "1", "1.5")
    assert parse_vary("calendar.holidays=cn,none").values == ("cn", "none")
    for bad in ("servers", "x=5..2", "x=1..3:0", "=1..2"):
        with pytest.raises(SweepError):
            parse_vary(bad)
    points = grid([parse_vary("a=1..2"), parse_vary("b=x,y")])
    assert points == [("a=1", "b=x"), ("a=1", "b=y"), ("a=2", "b=x"), ("a=2", "b=y")]


def record(values: dict[str, str], met: bool, verdicts: list[str] | None = None) -> dict[str, Any]:
    return {
        "overrides": [f"{k}={v}" for k, v in values.items()],
        "all_met": met,
        "verdicts": [
            {"target": t, "on": "case", "stat": "p99", "within": "5wd", "verdict": w}
            for t, w in zip(["t"], verdicts or ["met" if met else "missed"], strict=False)
        ],
    }


def test_the_answer_is_the_least_value_meeting_every_target() -> None:
    vary = [Vary("s", ("2", "3", "4", "5"))]
    records = [record({"s": n}, met=n in ("4", "5")) for n in ("2", "3", "4", "5")]
    assert answer_text(vary, records, 4) == "the least s at which every target is met: 4"
    noisy = [record({"s": n}, met=n in ("3", "5")) for n in ("2", "3", "4", "5")]
    assert "3 (but not at 4" in answer_text(vary, noisy, 4)
    none = [record({"s": n}, met=False) for n in ("2", "3")]
    said = answer_text(vary, none, 4)
    assert "no point of the grid meets every target" in said and "2 of 4 points done" in said
    assert "missed at every point: t" in said


def test_several_settings_give_the_least_combinations() -> None:
    vary = [Vary("a", ("1", "2")), Vary("b", ("1", "2"))]
    met = {("1", "2"), ("2", "1"), ("2", "2")}
    records = [record({"a": a, "b": b}, (a, b) in met) for a in "12" for b in "12"]
    assert answer_text(vary, records, 4) == (
        "the least settings at which every target is met: a=1 b=2; a=2 b=1"
    )


def test_the_sweep_names_the_least_bank_staffing(tmp_path: Path) -> None:
    args = ["sweep", OUTAGE, "--vary", "agencies.bank.servers=2..5", "--out", tmp_path]
    sets = [arg for override in SHORT for arg in ("--set", override)]
    ran = govstream(*args, *sets, timeout=600)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    said = " ".join(ran.stdout.split())
    state = json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))
    assert state["complete"] and state["points_done"] == 4
    met = [p for p in state["points"] if p["all_met"]]
    least = min(int(p["overrides"][0].split("=")[1]) for p in met)
    assert f"the least agencies.bank.servers at which every target is met: {least}" in said
    assert (tmp_path / "sweep.md").exists() and (tmp_path / "sweep.csv").exists()
    for point in state["points"]:
        assert (tmp_path / point["result"]).exists()
    assert "every target met" in (tmp_path / "sweep.md").read_text(encoding="utf-8")


def test_an_interrupted_sweep_keeps_its_points_and_resumes(tmp_path: Path) -> None:
    varies = [parse_vary("agencies.bank.servers=3..5")]
    points = grid(varies)
    scenarios = {p: load_scenario(OUTAGE, [*SHORT, *p]) for p in points}
    settings = sweep_settings(str(OUTAGE), SHORT, varies, 1)
    state = SweepState(tmp_path, settings, fresh=False)

    def stop_after_first(point: Any, result: Any) -> None:
        raise KeyboardInterrupt

    common = {"replications": 1, "scenario_file": str(OUTAGE), "overrides": SHORT, "name": "x"}
    with pytest.raises(Interrupted):
        run_sweep(points, scenarios, state, varies, on_point=stop_after_first, **common)
    kept = json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))
    assert kept["points_done"] == 1 and not kept["complete"]
    done_first = kept["points"][0]["overrides"]
    # Resuming runs only the points not yet done.
    resumed = SweepState(tmp_path, settings, fresh=False)
    ran: list[Any] = []
    run_sweep(points, scenarios, resumed, varies, on_point=lambda p, r: ran.append(p), **common)
    assert len(ran) == 2 and tuple(done_first) not in ran
    assert json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))["complete"]
    # A different sweep in the same folder is refused rather than mixed in.
    other = sweep_settings(str(OUTAGE), SHORT, varies, 2)
    with pytest.raises(SweepError, match="different sweep"):
        SweepState(tmp_path, other, fresh=False)


def test_a_bad_vary_or_a_bad_point_is_bad_input(tmp_path: Path) -> None:
    bad = govstream("sweep", OUTAGE, "--vary", "agencies.bank.servers=5..2", "--out", tmp_path)
    assert bad.returncode == 2 and "--vary" in bad.stderr
    field = govstream("sweep", OUTAGE, "--vary", "agencies.bank.clerks=2..3", "--out", tmp_path)
    assert field.returncode == 2 and "clerks" in field.stderr and "servers" in field.stderr


def test_the_sweep_runs_on_as_many_processes_as_jobs_says(inline_pool: Any, tmp_path: Path) -> None:
    sets = [arg for override in SHORT for arg in ("--set", override)]
    args = ["sweep", str(OUTAGE), "--vary", "agencies.bank.servers=3,4", *sets]
    assert main([*args, "--replications", "2", "--jobs", "1", "--out", str(tmp_path)]) == 0
    assert inline_pool.sizes == [1]
    assert json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))["complete"]
    bad = govstream("sweep", OUTAGE, "--vary", "agencies.bank.servers=3,4", "--jobs", "0")
    assert bad.returncode == 2 and "--jobs 0" in bad.stderr
