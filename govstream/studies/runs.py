"""One run of a study: a scenario with its overrides, and a seed.

Replications and sweeps are both lists of these. A run depends on nothing but its task, so any
process on any machine may do it and send back the same answer: the run's result (what its
`result.json` holds) with the histograms and latency parts the study's merge needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from dataclasses import dataclass, field
from typing import Any

from govstream.result import RunResult
from govstream.scenario.model import Scenario


@dataclass(frozen=True)
class ReplicationRun:
    """What one replication sends back from its worker process."""

    seed: int
    result: RunResult
    histograms: dict[str, dict[str, Any]]
    tails: list[dict[str, Any]] = field(default_factory=list)
    """Its latencies' parts by band (`breakdown.Tails.encode`), merged like the histograms."""


@dataclass(frozen=True)
class RunTask:
    """One (scenario, overrides, seed) run: everything a worker needs, and nothing else."""

    scenario: Scenario
    """The scenario with the study's and the point's overrides applied; its seed is replaced."""
    seed: int
    scenario_file: str
    overrides: tuple[str, ...]

    def key(self) -> str:
        """A name for the run that only its content decides, for the cluster's books and
        logs: `govstream-run-<seed>-<digest>`, the same wherever and whenever it is made."""
        content = [self.scenario.to_data(), self.seed, self.scenario_file, list(self.overrides)]
        text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
        return f"govstream-run-{self.seed}-{digest}"


def replicate(
    scenario: Scenario, seed: int, scenario_file: str, overrides: list[str]
) -> ReplicationRun:
    """One replication, in a worker process: the sim engine, then its histograms encoded."""
    from govstream.engines.sim.engine import SimEngine

    seeded = scenario.model_copy(update={"seed": seed})
    engine = SimEngine(seeded, scenario_file=scenario_file, overrides=overrides)
    result = engine.run()
    book = engine.ledger.book
    histograms = {
        "latency": book.latency.encode(),
        "working_days": book.working_days.encode(),
        "legal_working_days": book.legal_days.encode(),
    }
    return ReplicationRun(seed, result, histograms, engine.ledger.tails.encode())


def run_task(task: RunTask) -> ReplicationRun:
    """A task as every executor runs it: module-level, so a Dask worker imports it by name."""
    return replicate(task.scenario, task.seed, task.scenario_file, list(task.overrides))


def warm_workers() -> None:
    """Import the engine here, before the pool starts: where workers are forked (Linux) each
    then starts with it loaded instead of importing it again, which on a short replication
    costs as much as the run."""
    import govstream.engines.sim.engine  # noqa: F401


def default_workers(tasks: int, jobs: int | None = None) -> int:
    """Processes for `tasks` independent runs: `jobs` if given, else one per core, and never
    more than there are runs (an idle worker process only costs its start-up)."""
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be 1 or more, not {jobs}")
    return max(1, min(tasks, jobs or os.cpu_count() or 1))


def ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the process that started them, which stops them and keeps
    the runs they finished; an interrupt in a worker would lose its run instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
