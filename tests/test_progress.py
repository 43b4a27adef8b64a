"""The run's progress bar: it shows the time left and moves through the run without a jump.

A run's bar was its business time over the arrivals and the whole drain allowance; a run ends
when its last case closes, long before the drain would, so the bar jumped from about 60 % to
100 %. Here a sim run reports its progress as the CLI's bar is told it.
"""

from __future__ import annotations

import io
import itertools

import pytest
from cli_runner import ROOT
from rich.console import Console
from rich.progress import TimeRemainingColumn

from govstream import progress as progress_module
from govstream.engines.sim.engine import SimEngine
from govstream.progress import DelayedProgress, delayed_progress
from govstream.scenario.loader import load_scenario

LARGEST_STEP = 0.15
"""The most one report may move the bar: 200 reports over the arrivals, a few dozen after."""


@pytest.mark.parametrize("name", ["deregistration-bank-outage", "utility-connection"])
def test_a_runs_progress_moves_without_a_jump_to_the_end(name: str) -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    told: list[float] = []
    SimEngine(scenario, progress=told.append).run()
    assert told[-1] == 1.0
    shown = [max(told[: i + 1]) for i in range(len(told))]  # the bar never moves back
    steps = [b - a for a, b in itertools.pairwise(shown)]
    assert max(steps) <= LARGEST_STEP, f"a jump of {max(steps):.0%}"


def test_the_fraction_counts_the_drain_by_cases_closed() -> None:
    from govstream.progress import run_fraction

    day = 86_400.0
    arrivals, horizon = 10 * day, 30 * day
    halfway = run_fraction(5 * day, arrivals, horizon, started=50, still_open=10)
    at_end = run_fraction(arrivals, arrivals, horizon, started=100, still_open=20)
    draining = run_fraction(11 * day, arrivals, horizon, started=100, still_open=5)
    assert 0.3 < halfway < at_end < draining < 1.0
    assert run_fraction(11 * day, arrivals, horizon, started=100, still_open=0) == 1.0
    # cases stuck open until the drain allowance ends still move the bar with time
    stuck = [run_fraction(d * day, arrivals, horizon, 100, 50) for d in (10, 20, 30)]
    assert stuck == sorted(stuck) and stuck[-1] == 1.0


def test_the_bar_shows_the_time_left_and_never_moves_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress_module, "SHOW_AFTER_SECONDS", 0.0)
    bar = DelayedProgress("run", Console(file=io.StringIO(), force_terminal=True))
    try:
        bar(0.4)
        bar(0.3)
        assert bar.progress is not None and bar.task_id is not None
        assert any(isinstance(c, TimeRemainingColumn) for c in bar.progress.columns)
        assert bar.progress.tasks[0].completed == 0.4
    finally:
        bar.close()


def test_off_a_terminal_no_bar_is_left_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's stderr in a CI log or a pipe: a bar there could only be left behind as a blank
    line before the first line anyone reads (`--quiet --fail-on-sla`'s verdicts)."""
    monkeypatch.setattr("govstream.progress.SHOW_AFTER_SECONDS", 0.0)
    for terminal, drawn in ((False, False), (True, True)):
        out = io.StringIO()
        with delayed_progress("run", Console(file=out, force_terminal=terminal)) as bar:
            bar(0.5)
            assert (bar.progress is not None) == drawn
        assert (out.getvalue() != "") == drawn
