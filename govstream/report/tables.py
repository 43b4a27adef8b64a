"""The report's tables as plain strings, so every rendering shows the same figures."""

from __future__ import annotations

from dataclasses import dataclass

from govstream.durations import format_seconds
from govstream.result import RunResult, Summary, TargetVerdict

STAT_COLUMNS = ("count", "mean", "p50", "p90", "p99", "p99.9", "max")


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""


def heading(result: RunResult) -> list[tuple[str, str]]:
    engine = result.engine
    options = ", ".join(f"{k}={v}" for k, v in engine.options.items())
    return [
        ("scenario", f"{result.scenario_name} ({result.scenario_file})"),
        (
            "flow",
            f"{result.flow.id} — {result.flow.title} (plan {', '.join(result.flow.measures)})",
        ),
        ("engine", engine.name + (f" ({options})" if options else "")),
        ("seed", str(result.seed)),
        ("business time simulated", format_seconds(result.business_seconds)),
        ("overrides", " ".join(result.overrides) or "none"),
    ]


def counts_table(result: RunResult) -> Table:
    c = result.counts
    rows = [
        ("cases started", str(c.cases_started)),
        ("cases completed", str(c.cases_completed)),
        ("cases still open at the end", str(c.cases_open)),
        ("cases with a rejection", str(c.cases_rejected)),
        (
            "requests emitted / delivered / acted",
            f"{c.requests_emitted} / {c.requests_delivered} / {c.requests_acted}",
        ),
        ("requests in flight at the end", str(c.requests_in_flight)),
        ("events lost", str(c.lost)),
        ("duplicates", str(c.duplicates)),
        ("outcomes from agencies the case does not concern", str(c.unexpected)),
        ("dead-lettered", str(c.dead_lettered)),
    ]
    return Table("Counts", ("what", "number"), rows)


def _stat_row(label: str, summary: Summary, fmt: str) -> tuple[str, ...]:
    cells = [label, str(summary["count"])]
    for column in STAT_COLUMNS[1:]:
        value = float(summary[column])
        cells.append(format_seconds(value) if fmt == "s" else f"{value:.2f}")
    return tuple(cells)


def _latency_rows(result: RunResult, data: dict[str, Summary], fmt: str) -> list[tuple[str, ...]]:
    rows = []
    if "case" in data:
        rows.append(_stat_row("whole case", data["case"], fmt))
    for recipient in result.flow.recipients:
        for stage in ("delivered", "acted"):
            key = f"{stage}:{recipient}"
            if key in data:
                rows.append(_stat_row(f"{recipient} {stage}", data[key], fmt))
    return rows


def latency_table(result: RunResult) -> Table:
    return Table(
        "Business latency from the intended emit time (clock time)",
        ("latency", *STAT_COLUMNS),
        _latency_rows(result, result.latency, "s"),
        "delivered = request reached the recipient; acted = the recipient's outcome was recorded",
    )


def working_days_table(result: RunResult) -> Table | None:
    rows = _latency_rows(result, result.working_days, "wd")
    if not rows:
        return None
    return Table("The same latencies in working days (工作日)", ("latency", *STAT_COLUMNS), rows)


def hops_table(result: RunResult) -> Table:
    rows = []
    for source, unit in ((result.latency, "s"), (result.platform_ms, "ms")):
        for key, summary in source.items():
            if key.startswith("hop:"):
                label = key.removeprefix("hop:") + (" (platform, ms)" if unit == "ms" else "")
                rows.append(_stat_row(label, summary, "wd" if unit == "ms" else "s"))
    return Table("Per-hop split", ("hop", *STAT_COLUMNS), rows)


def platform_table(result: RunResult) -> Table | None:
    rows = [
        _stat_row(key, summary, "wd")
        for key, summary in result.platform_ms.items()
        if not key.startswith("hop:")
    ]
    if not rows:
        return None
    return Table("Platform latency in milliseconds (wall clock)", ("latency", *STAT_COLUMNS), rows)


def agencies_table(result: RunResult) -> Table:
    rows = []
    for name, load in result.agencies.items():
        wait = result.latency.get(f"wait:{name}")
        rows.append(
            (
                name,
                str(load.servers),
                str(load.max_queue),
                str(load.queue_at_end),
                format_seconds(float(wait["p90"])) if wait and wait["count"] else "-",
                "; ".join(load.outages) or "-",
            )
        )
    return Table(
        "Agencies", ("agency", "servers", "max queue", "queue at end", "wait p90", "outages"), rows
    )


def _source(verdict: TargetVerdict) -> str:
    return f"plan {verdict.measure}" if verdict.source == "plan" else "author"


def target_sources(result: RunResult) -> str:
    """The plan's own words behind each plan target, quoted once under the table."""
    quoted = {v.measure: v.quote for v in result.targets if v.source == "plan" and v.quote}
    notes = {v.id: v.note for v in result.targets if v.note}
    lines = [f"plan {measure}: «{quote}»" for measure, quote in quoted.items()]
    lines += [f"{target}: {note}" for target, note in notes.items()]
    return "; ".join(lines)


def _observed(verdict: TargetVerdict) -> str:
    if verdict.observed is None:
        return "no data"
    if verdict.unit == "wd":
        return f"{verdict.observed:.2f}wd"
    return format_seconds(verdict.observed)


def sla_summary(result: RunResult) -> str:
    """One line on all targets; a target nothing was measured for is never counted as met."""
    total = len(result.targets)
    missed = sum(verdict.met is False for verdict in result.targets)
    no_data = sum(verdict.met is None for verdict in result.targets)
    parts = []
    if missed:
        parts.append(f"{missed} of {total} targets MISSED")
    if no_data:
        parts.append(f"{no_data} of {total} targets without data (nothing measured)")
    return "; ".join(parts) or "all targets met"


def verdict_word(verdict: TargetVerdict) -> str:
    return {True: "met", False: "MISSED", None: "no data"}[verdict.met]


def targets_table(result: RunResult) -> Table:
    rows = [
        (
            verdict.id,
            f"{verdict.of} {verdict.recipient}" if verdict.of != "case" else "case",
            f"{verdict.stat} ≤ {verdict.within}",
            _observed(verdict),
            verdict_word(verdict),
            _source(verdict),
        )
        for verdict in result.targets
    ]
    return Table(
        "SLA targets",
        ("target", "of", "limit", "observed", "verdict", "source"),
        rows,
        target_sources(result),
    )


def all_tables(result: RunResult) -> list[Table]:
    tables = [counts_table(result), latency_table(result)]
    optional = (working_days_table(result), platform_table(result))
    tables.extend(table for table in optional if table is not None)
    tables.extend((hops_table(result), agencies_table(result)))
    if result.targets:
        tables.append(targets_table(result))
    return tables
