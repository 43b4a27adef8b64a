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
    condition_text,
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
                condition_text(verdict),
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


# -- what a gate reads first ----------------------------------------------------------------


def verdict_changes(first: RunResult, second: RunResult) -> Table:
    """Targets whose verdict is not the same in both runs: what a reviewer must see first."""
    a = {_target_key(v): v for v in first.targets}
    b = {_target_key(v): v for v in second.targets}
    rows = []
    for key in dict.fromkeys([*a, *b]):
        before, after = a.get(key), b.get(key)
        if before is not None and after is not None and before.met == after.met:
            continue
        verdict = before or after
        assert verdict is not None
        rows.append(
            (
                verdict.flow,
                verdict.id,
                verdict_on(verdict),
                condition_text(verdict),
                _verdict_cell(before),
                _verdict_cell(after),
            )
        )
    note = "" if rows else "every target has the same verdict in both runs"
    return Table(
        "Verdict changes", ("flow", "target", "on", "limit", "first", "second"), rows, note
    )


def newly_failing(first: RunResult, second: RunResult) -> list[TargetVerdict]:
    """Targets met in the first run and missed, or without data, in the second."""
    met = {_target_key(v) for v in first.targets if v.met is True}
    return [v for v in second.targets if _target_key(v) in met and v.met is not True]


def working_days_comparison(first: RunResult, second: RunResult) -> Table | None:
    """The same latencies in working days, the plan's own unit, for what both runs have."""
    rows = []
    for flow in first.flows:
        for _, key in flow_metrics(flow, first.working_days, ("acted",)):
            if key not in second.working_days:
                continue
            a, b = first.working_days[key], second.working_days[key]
            for stat in COMPARED_STATS:
                rows.append(
                    (
                        key if stat == COMPARED_STATS[0] else "",
                        stat,
                        f"{float(a[stat]):.2f}wd",
                        f"{float(b[stat]):.2f}wd",
                        _ratio(float(a[stat]), float(b[stat])),
                    )
                )
    if not rows:
        return None
    return Table(
        "Working days (工作日)", ("latency", "stat", "first", "second", "second/first"), rows
    )


def _flatten(data: object, prefix: str = "") -> dict[str, object]:
    if isinstance(data, dict):
        flat: dict[str, object] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat or {prefix: {}}
    if isinstance(data, list) and data and any(isinstance(item, dict) for item in data):
        flat = {}
        for index, item in enumerate(data):
            flat.update(_flatten(item, f"{prefix}.{index}"))
        return flat
    return {prefix: data}


IGNORED_INPUTS = ("name", "description")


def input_differences(first: RunResult, second: RunResult) -> Table | None:
    """Every scenario field whose value differs, by its `--set` path, and the engines."""
    a, b = _flatten(first.scenario), _flatten(second.scenario)
    rows = []
    for path in dict.fromkeys([*a, *b]):
        if path in IGNORED_INPUTS:
            continue
        left, right = a.get(path, MISSING), b.get(path, MISSING)
        if left == right or {_input_text(left), _input_text(right)} <= {"-", "[]", "{}"}:
            continue  # an empty list on one side is the other side's entries, listed apart
        rows.append((path, _input_text(left, path), _input_text(right, path)))
    if first.engine.name != second.engine.name:
        rows.append(("engine", first.engine.name, second.engine.name))
    if not rows:
        return None
    return Table("Inputs that differ", ("field", "first", "second"), rows)


MISSING = "-"


def _input_text(value: object, path: str = "") -> str:
    if isinstance(value, float):
        if path.endswith("rate"):
            from govstream.report.inputs import rate_text

            return rate_text(value)
        return f"{value:.6g}"
    return str(value)


def run_warnings(first: RunResult, second: RunResult) -> list[str]:
    """What makes the two runs answer different questions, said loudly."""
    warnings = []
    if first.flow_ids != second.flow_ids:
        shared = [f for f in first.flow_ids if f in second.flow_ids]
        warnings.append(
            f"the runs simulate different flows: first {', '.join(first.flow_ids)}, second "
            f"{', '.join(second.flow_ids)}"
            + (f"; only {', '.join(shared)} is compared" if shared else "; none in common")
        )
    if first.scenario_name != second.scenario_name:
        warnings.append(
            f"the runs come from different scenarios ({first.scenario_name} and "
            f"{second.scenario_name}): every input that differs is listed, not only the change "
            "under review"
        )
    if first.engine.name != second.engine.name:
        warnings.append(
            f"the runs used different engines ({first.engine.name} and {second.engine.name})"
        )
    return warnings


def gate_tables(first: RunResult, second: RunResult) -> list[Table]:
    """Verdict changes first, then the inputs that differ, then every comparison table."""
    tables: list[Table | None] = [verdict_changes(first, second), input_differences(first, second)]
    rest = comparison_tables(first, second)
    latency_at = next(
        (i for i, t in enumerate(rest) if t.title == "Business latency"), len(rest) - 1
    )
    rest.insert(latency_at + 1, working_days_comparison(first, second))  # type: ignore[arg-type]
    tables += rest
    return [table for table in tables if table is not None]
