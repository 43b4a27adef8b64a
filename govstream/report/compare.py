"""Comparing two runs: the same latencies side by side, with the ratio of the second to the first.

A reviewer's question is usually "what did this change do": another seed, more clerks, an
outage, or the kafka engine against the sim engine. Both runs are read from their result.json.
"""

from __future__ import annotations

from pathlib import Path

from govstream.durations import format_seconds
from govstream.report.tables import Table, verdict_word
from govstream.result import RunResult

COMPARED_STATS = ("p50", "p90", "p99", "max")


def read_run(path: Path) -> RunResult:
    """A run directory or its result.json."""
    return RunResult.read(path / "result.json" if path.is_dir() else path)


def _ratio(first: float, second: float) -> str:
    return f"{second / first:.2f}×" if first > 0 else "-"


def latency_comparison(first: RunResult, second: RunResult) -> Table:
    rows = []
    names = [name for name in first.latency if name in second.latency]
    shown = [n for n in names if n == "case" or n.split(":")[0] in ("delivered", "acted")]
    for name in shown:
        a, b = first.latency[name], second.latency[name]
        for stat in COMPARED_STATS:
            rows.append(
                (
                    name if stat == COMPARED_STATS[0] else "",
                    stat,
                    format_seconds(float(a[stat])),
                    format_seconds(float(b[stat])),
                    _ratio(float(a[stat]), float(b[stat])),
                )
            )
    return Table("Business latency", ("latency", "stat", "first", "second", "second/first"), rows)


def counts_comparison(first: RunResult, second: RunResult) -> Table:
    a, b = first.counts.model_dump(), second.counts.model_dump()
    rows = [(name.replace("_", " "), str(a[name]), str(b[name])) for name in a]
    return Table("Counts", ("what", "first", "second"), rows)


def targets_comparison(first: RunResult, second: RunResult) -> Table:
    second_by_key = {(v.id, v.recipient): v for v in second.targets}
    rows = []
    for verdict in first.targets:
        other = second_by_key.get((verdict.id, verdict.recipient))
        rows.append(
            (
                f"{verdict.id} ({verdict.recipient})",
                verdict_word(verdict),
                verdict_word(other) if other else "not in second run",
            )
        )
    return Table("SLA targets", ("target", "first", "second"), rows)


def describe(run: RunResult) -> str:
    overrides = " ".join(run.overrides) or "no overrides"
    return f"{run.scenario_name} on {run.engine.name}, seed {run.seed}, {overrides}"


def comparison_tables(first: RunResult, second: RunResult) -> list[Table]:
    tables = [counts_comparison(first, second), latency_comparison(first, second)]
    if first.targets:
        tables.append(targets_comparison(first, second))
    return tables
