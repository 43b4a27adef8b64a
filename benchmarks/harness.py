"""The benchmark harness's arithmetic: measurements, best-of repeats, ratios against goals,
Amdahl projections, and the Markdown table, kept apart from the workloads so it can be tested.

Every goal is a ratio of two workloads measured in the same run on the same machine, so a
result says something on any machine and a busy machine slows both sides alike (mostly: each
repeat keeps its fastest run, since other processes can only ever slow a run down).
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class Measurement:
    """One run of one workload in a fresh interpreter."""

    workload: str
    cases: int
    """Cases (or customers) carried through to completion."""
    wall_seconds: float
    """Wall-clock seconds of the simulation itself: imports and set-up not counted."""
    cpu_seconds: float = 0.0
    """CPU seconds the process spent in the same stretch: what a busy machine's other
    processes take from the wall clock does not count here."""
    simpy_events: int = 0
    peak_rss_mib: float = 0.0
    rss_after_imports_mib: float = 0.0
    mean_latency: float = 0.0
    """Mean end-to-end time of a case, business seconds: two models of the same system should
    agree on it within sampling noise, which is the check that they are the same model."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.wall_seconds if self.wall_seconds > 0 else math.inf

    @property
    def cases_per_cpu_second(self) -> float:
        return self.cases / self.cpu_seconds if self.cpu_seconds > 0 else math.inf


class Stopwatch:
    """Wall-clock and CPU seconds of a `with` block."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def best(measurements: Sequence[Measurement]) -> Measurement:
    """The fastest repeat: noise from other processes only ever slows a run down."""
    if not measurements:
        raise ValueError("no measurements to choose from")
    return max(measurements, key=lambda m: m.cases_per_second)


def spread(measurements: Sequence[Measurement]) -> float:
    """How far the slowest repeat's rate is below the fastest's, as a share of the fastest:
    0.05 means the repeats agreed within 5 %. A large spread marks a busy machine."""
    rates = [m.cases_per_second for m in measurements]
    if not rates or max(rates) <= 0:
        return 0.0
    return 1.0 - min(rates) / max(rates)


Direction = Literal["at least", "at most"]


@dataclass(frozen=True)
class Ratio:
    """A measured ratio and the goal it is held against."""

    name: str
    value: float
    goal: float | None
    """None: shown for information, held against nothing (a floor, a speed-up)."""
    direction: Direction = "at least"
    numerator: str = ""
    denominator: str = ""
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        if self.direction == "at least":
            return self.value >= self.goal
        return self.value <= self.goal

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


def throughput_ratio(
    name: str, ours: Measurement, theirs: Measurement, goal: float | None
) -> Ratio:
    """govstream's cases per wall second over a baseline's, with the goal it must reach; the
    same ratio per CPU second goes in the note (a busy machine moves it less)."""
    if theirs.cases_per_second <= 0:
        raise ValueError(f"{theirs.workload} carried no cases")
    note = ""
    if ours.cpu_seconds > 0 and theirs.cpu_seconds > 0:
        note = f"per CPU second {ours.cases_per_cpu_second / theirs.cases_per_cpu_second:.3f}"
    return Ratio(
        name,
        ours.cases_per_second / theirs.cases_per_second,
        goal,
        "at least",
        ours.workload,
        theirs.workload,
        note,
    )


def growth(small: float, large: float) -> float:
    """Relative growth from `small` to `large`: 0.12 is 12 % more."""
    if small <= 0:
        raise ValueError("growth from nothing is undefined")
    return large / small - 1.0


def parallel_fraction(speedup: float, processes: int) -> float:
    """The share of the work that runs in parallel, from Amdahl's law and one measured speed-up
    on `processes` processes: S = 1 / ((1 - p) + p / n), so p = (1 - 1/S) / (1 - 1/n).

    Clamped to [0, 1]: a speed-up below 1 (slower with more processes, e.g. on a busy machine)
    reads as nothing parallel, one above n as everything."""
    if processes < 2:
        raise ValueError("a parallel fraction needs a run on 2 or more processes")
    if speedup <= 0:
        raise ValueError("a speed-up is positive")
    p = (1.0 - 1.0 / speedup) / (1.0 - 1.0 / processes)
    return min(1.0, max(0.0, p))


def amdahl(parallel: float, processes: int, tasks: int | None = None) -> float:
    """The speed-up Amdahl's law projects on `processes` processes for a parallel fraction;
    with `tasks` independent runs, no more processes than tasks can be busy."""
    if processes < 1:
        raise ValueError("at least one process")
    used = min(processes, tasks) if tasks else processes
    return 1.0 / ((1.0 - parallel) + parallel / used)


# -- child processes ---------------------------------------------------------------------------


def run_child(command: list[str], cwd: Path, timeout: float | None = None) -> dict[str, Any]:
    """Run a worker in a fresh interpreter; its last stdout line is its JSON answer."""
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=cwd, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"{' '.join(command)} printed nothing")
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def repeated(run: Callable[[], Measurement], repeats: int) -> list[Measurement]:
    return [run() for _ in range(max(1, repeats))]


# -- the table ---------------------------------------------------------------------------------


def markdown_table(ratios: Sequence[Ratio]) -> str:
    """Every ratio with its goal and whether it is met, as a Markdown table."""
    lines = [
        "| ratio | measured | goal | met | of | over |",
        "|---|---:|---:|---|---|---|",
    ]
    for r in ratios:
        sign = "≥" if r.direction == "at least" else "≤"
        goal = "-" if r.goal is None else f"{sign} {_figure(r.goal)}"
        met = {True: "yes", False: "**no**", None: "-"}[r.met]
        lines.append(
            f"| {r.name} | {_figure(r.value)} | {goal} | {met} | {r.numerator} | {r.denominator} |"
        )
    return "\n".join(lines)


def _figure(value: float) -> str:
    if math.isinf(value):
        return "∞"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
