"""The benchmark harness's arithmetic: the ratios the goals are judged on, and the projections.

The timings themselves are never asserted (a test cannot know how busy its machine is); what
is tested is that a measured pair turns into the right ratio, verdict and projection.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from harness import (
    Measurement,
    Ratio,
    amdahl,
    best,
    growth,
    markdown_table,
    parallel_fraction,
    spread,
    throughput_ratio,
)


def run(name: str, cases: int, seconds: float) -> Measurement:
    return Measurement(workload=name, cases=cases, wall_seconds=seconds)


def test_a_throughput_ratio_is_cases_per_second_over_cases_per_second() -> None:
    ours, theirs = run("govstream", 1_000, 2.0), run("Ciw", 3_000, 2.0)
    ratio = throughput_ratio("queue", ours, theirs, 0.5)
    assert ratio.value == pytest.approx(500 / 1_500)
    assert ratio.met is False
    # Different amounts of work compare by rate, not by wall time.
    assert throughput_ratio("queue", run("a", 2_000, 1.0), run("b", 1_000, 1.0), 0.5).met


def test_goals_hold_in_their_direction_and_a_missing_goal_judges_nothing() -> None:
    assert Ratio("memory", 0.19, 0.20, "at most").met
    assert not Ratio("memory", 0.21, 0.20, "at most").met
    assert Ratio("peer", 0.5, 0.5).met and not Ratio("peer", 0.49, 0.5).met
    assert Ratio("floor", 0.03, None).met is None
    assert Ratio("peer", 0.6, 0.5).to_data()["met"] is True


def test_the_fastest_repeat_is_kept_and_the_spread_says_how_far_the_others_fell() -> None:
    repeats = [run("x", 100, 2.0), run("x", 100, 1.0), run("x", 100, 4.0)]
    assert best(repeats).wall_seconds == 1.0
    assert spread(repeats) == pytest.approx(0.75)
    assert spread(repeats[:1]) == 0.0
    with pytest.raises(ValueError):
        best([])


def test_memory_growth_is_relative_to_the_short_run() -> None:
    assert growth(100.0, 112.0) == pytest.approx(0.12)
    assert growth(100.0, 90.0) == pytest.approx(-0.10)


def test_amdahl_reads_the_parallel_share_from_one_speedup_and_projects_it() -> None:
    assert parallel_fraction(2.0, 2) == pytest.approx(1.0)
    assert parallel_fraction(1.0, 2) == 0.0
    assert parallel_fraction(1.5, 2) == pytest.approx(2 / 3)
    assert parallel_fraction(0.8, 2) == 0.0  # slower on two: nothing parallel to project
    share = parallel_fraction(1.6, 2)
    assert amdahl(share, 2) == pytest.approx(1.6)  # the projection reproduces the measurement
    assert amdahl(1.0, 8) == pytest.approx(8.0)
    assert amdahl(1.0, 8, tasks=4) == pytest.approx(4.0)  # no more busy processes than runs
    assert amdahl(0.5, 16) == pytest.approx(1 / (0.5 + 0.5 / 16))
    with pytest.raises(ValueError):
        parallel_fraction(1.5, 1)


def test_the_table_shows_every_ratio_with_its_goal_and_verdict() -> None:
    table = markdown_table(
        [
            Ratio("peer", 0.62, 0.5, numerator="govstream", denominator="Ciw"),
            Ratio("memory", 0.31, 0.2, "at most"),
            Ratio("floor", 0.031, None),
        ]
    )
    rows = table.splitlines()
    assert rows[2] == "| peer | 0.620 | ≥ 0.500 | yes | govstream | Ciw |"
    assert rows[3].startswith("| memory | 0.310 | ≤ 0.200 | **no** |")
    assert rows[4].startswith("| floor | 0.031 | - | - |")
