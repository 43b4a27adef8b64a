"""Comparing two runs: the same latencies side by side, with the ratio of the second to the first.

A reviewer's question is usually "what did this change do": another seed, more clerks, an
outage, another flow sharing an agency, or the kafka engine against the sim engine. Both runs
are read from their result.json; only what both measured is compared, and what one run has and
the other lacks is named, so a missing flow or step cannot pass unnoticed.
"""

from __future__ import annotations

from pathlib import Path

from govstream.durations import format_seconds
from govstream.pipeline.book import agency_key
from govstream.report.tables import (
    COUNT_ROWS,
    Table,
    flow_metrics,
    observed_text,
    unchecked_text,
    verdict_on,
    verdict_word,
)
from govstream.result import Counts, RunResult, TargetVerdict

COMPARED_STATS = ("p50", "p90", "p99", "max")


def read_run(path: Path) -> RunResult:
    """A run directory or its result.json."""
    return RunResult.read(path / "result.json" if path.is_dir() else path)


def _ratio(first: float, second: float) -> str:
    return f"{second / first:.2f}×" if first > 0 else "-"


def compared_metrics(run: RunResult) -> list[str]:
    """A run's business latencies in report order: each flow's case, steps and spans, then
    the wait at each agency pool (all flows together)."""
    keys = [
        key
        for flow in run.flows
        for _, key in flow_metrics(flow, run.latency, ("delivered", "acted"))
    ]
    keys += [agency_key("wait", pool) for pool in run.agencies]
    return [key for key in keys if key in run.latency]


def _only_in(names: list[str], which: str) -> str:
    return f"only in the {which} run: {', '.join(names)}" if names else ""


def latency_comparison(first: RunResult, second: RunResult) -> Table:
    ours, theirs = compared_metrics(first), compared_metrics(second)
    rows = []
    for name in (key for key in ours if key in theirs):
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
    note = "; ".join(
        part
        for part in (
            _only_in([k for k in ours if k not in theirs], "first"),
            _only_in([k for k in theirs if k not in ours], "second"),
        )
        if part
    )
    return Table(
        "Business latency", ("latency", "stat", "first", "second", "second/first"), rows, note
    )


def _counts_rows(a: Counts, b: Counts) -> list[tuple[str, ...]]:
    rows = []
    for label, fields in COUNT_ROWS:
        first = " / ".join(str(getattr(a, name)) for name in fields)
        second = " / ".join(str(getattr(b, name)) for name in fields)
        rows.append((label, first, second))
    return rows


def counts_comparison(first: RunResult, second: RunResult) -> list[Table]:
    """The totals, and when either run has several flows, each flow both runs have."""
    tables = [
        Table("Counts", ("what", "first", "second"), _counts_rows(first.counts, second.counts))
    ]
    if len(first.flows) == 1 and len(second.flows) == 1:
        return tables
    for flow_id in first.flow_ids:
        a, b = first.flow_counts.get(flow_id), second.flow_counts.get(flow_id)
        if a is not None and b is not None:
            tables.append(
                Table(f"Counts {flow_id}", ("what", "first", "second"), _counts_rows(a, b))
            )
    return tables


def flows_comparison(first: RunResult, second: RunResult) -> Table | None:
    """Which flows each run simulated, shown only when they differ."""
    if first.flow_ids == second.flow_ids:
        return None
    ids = list(dict.fromkeys([*first.flow_ids, *second.flow_ids]))
    rows = [
        (
            flow_id,
            "yes" if flow_id in first.flow_ids else "-",
            "yes" if flow_id in second.flow_ids else "-",
        )
        for flow_id in ids
    ]
    return Table("Flows", ("flow", "first", "second"), rows)


def agencies_comparison(first: RunResult, second: RunResult) -> Table | None:
    """Each pool both runs have: its clerks, its requests by flow, how far its queue grew."""
    rows = []
    for pool, a in first.agencies.items():
        b = second.agencies.get(pool)
        if b is None:
            continue
        rows.append((pool, "servers", str(a.servers), str(b.servers)))
        for flow_id in dict.fromkeys([*a.requests, *b.requests]):
            taken = (str(load.requests.get(flow_id, "-")) for load in (a, b))
            rows.append((pool, f"requests {flow_id}", *taken))
        rows.append((pool, "max queue", str(a.max_queue), str(b.max_queue)))
        rows.append((pool, "queue at end", str(a.queue_at_end), str(b.queue_at_end)))
    if not rows:
        return None
    return Table("Agencies", ("pool", "what", "first", "second"), rows)


def _verdict_cell(verdict: TargetVerdict | None) -> str:
    if verdict is None:
        return "not in this run"
    if verdict.observed is None:
        return verdict_word(verdict)
    return f"{verdict_word(verdict)} ({observed_text(verdict)})"


def _target_key(verdict: TargetVerdict) -> tuple[str, str, str, str]:
    return (verdict.flow, verdict.id, verdict.of, verdict.step)


def targets_comparison(first: RunResult, second: RunResult) -> Table:
    a = {_target_key(v): v for v in first.targets}
    b = {_target_key(v): v for v in second.targets}
    rows = []
    for key in dict.fromkeys([*a, *b]):
        verdict = a.get(key) or b[key]
        rows.append(
            (
                verdict.flow,
                verdict.id,
                verdict_on(verdict),
                f"{verdict.stat} ≤ {verdict.within}",
                _verdict_cell(a.get(key)),
                _verdict_cell(b.get(key)),
            )
        )
    return Table("SLA targets", ("flow", "target", "on", "limit", "first", "second"), rows)


def describe(run: RunResult) -> str:
    overrides = " ".join(run.overrides) or "no overrides"
    flows = ", ".join(run.flow_ids)
    text = f"{run.scenario_name} ({flows}) on {run.engine.name}, seed {run.seed}, {overrides}"
    if run.unchecked_plan_targets:
        text += f"; plan target not checked: {unchecked_text(run)}"
    return text


def comparison_tables(first: RunResult, second: RunResult) -> list[Table]:
    tables: list[Table | None] = [flows_comparison(first, second)]
    tables += counts_comparison(first, second)
    tables += [latency_comparison(first, second), agencies_comparison(first, second)]
    if first.targets or second.targets:
        tables.append(targets_comparison(first, second))
    return [table for table in tables if table is not None]
