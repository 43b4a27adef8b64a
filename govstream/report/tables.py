"""The report's tables as plain strings, so every rendering shows the same figures.

Every figure is broken down by flow and by agency pool: an architect's question is how one
agency's clerks hold up under all the flows that reach it, and which flow's deadline slips first.
Tables read only the RunResult, never the live flow modules, so an old result.json still renders.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from govstream.durations import format_seconds
from govstream.metrics import LatencySummary
from govstream.pipeline.book import agency_key, case_key, span_key, step_key
from govstream.result import Counts, FlowInfo, RunResult, StepInfo, Summary, TargetVerdict

STAT_COLUMNS = ("count", "mean", "p50", "p90", "p99", "p99.9", "max")


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""
    points: tuple[str, ...] = ()
    """The note's points one by one, where it lists many (how each target was read): the
    HTML report shows them as a list, while text renderings keep `note`, their join."""

    def numeric(self, column: int) -> bool:
        """Whether a column holds figures (counts, durations, ratios), to align them right."""
        cells = [row[column] for row in self.rows if row[column] not in ("", "-")]
        return bool(cells) and all(NUMERIC.fullmatch(cell) for cell in cells)


NUMERIC = re.compile(r"(?:≥ )?[-+]?\d[\d.,/ ]*(?:[a-zµ]{0,3}|[×%]| %)(?: \([\d.]+ %\))?")
"""`1416`, `3 / 3 / 3`, `4.2h`, `1.11wd`, `250ms`, `1.53×`, `12.5 %`, `≥ 3.2d`, `42 (5.1 %)`."""


# -- heading and counts ---------------------------------------------------------------------


def heading(result: RunResult) -> list[tuple[str, str]]:
    engine = result.engine
    options = ", ".join(f"{k}={v}" for k, v in engine.options.items())
    lines = [("scenario", f"{result.scenario_name} ({result.scenario_file})")]
    if result.incomplete:
        lines.insert(0, ("INCOMPLETE", f"{result.incomplete}; figures up to then"))
    lines.append(("flows" if len(result.flows) > 1 else "flow", ", ".join(result.flow_ids)))
    lines += [(flow.id, f"{flow.title} (plan {', '.join(flow.measures)})") for flow in result.flows]
    lines += [
        ("engine", engine.name + (f" ({options})" if options else "")),
        ("seed", str(result.seed)),
        ("business time simulated", format_seconds(result.business_seconds)),
        ("overrides", " ".join(result.overrides) or "none"),
    ]
    if result.replications:
        seeds = [r.seed for r in result.replications]
        lines.append(
            (
                "replications",
                f"{len(seeds)} (seeds {seeds[0]}–{seeds[-1]}): counts and statistics pool "
                "them all; verdicts come from each statistic's 95 % interval across them",
            )
        )
    return lines


COUNT_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cases started", ("cases_started",)),
    ("cases completed", ("cases_completed",)),
    ("cases still open at the end", ("cases_open",)),
    ("cases with a rejection", ("cases_rejected",)),
    ("requests emitted", ("requests_emitted",)),
    ("requests delivered", ("requests_delivered",)),
    ("requests acted on", ("requests_acted",)),
    ("answers recorded", ("outcomes_recorded",)),
    ("deadlines withdrawn (the step they were for started first)", ("deadlines_withdrawn",)),
    ("steps skipped (the case's data did not call for them)", ("steps_skipped",)),
    ("steps cancelled (a step before them was rejected)", ("steps_cancelled",)),
    ("requests in flight at the end", ("requests_in_flight",)),
    ("requests lost", ("lost",)),
    ("answers repeated (dropped)", ("duplicates",)),
    ("answers refused (not the step's agency, or never asked for)", ("refused",)),
    ("dead-lettered", ("dead_lettered",)),
)
SIGNAL_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("signals received and scored", ("signals_received",)),
    ("signals not scored at the end", ("signals_unscored",)),
    ("crossings (a score reached its threshold and started a case)", ("crossings",)),
)
"""Shown where a run scored signals (F13)."""


def _count_cell(counts: Counts, fields: tuple[str, ...]) -> str:
    return " / ".join(str(getattr(counts, name)) for name in fields)


def counts_columns(result: RunResult) -> list[tuple[str, Counts]]:
    """Each flow's counts, then the total when there are several (or only the total)."""
    columns = [(f, result.flow_counts[f]) for f in result.flow_ids if f in result.flow_counts]
    if len(columns) != 1:
        columns.append(("total", result.counts))
    return columns


def counts_table(result: RunResult) -> Table:
    columns = counts_columns(result)
    scored = any(c.signals_received or c.signals_unscored for _, c in columns)
    rows = [
        (label, *(_count_cell(counts, fields) for _, counts in columns))
        for label, fields in (*COUNT_ROWS, *(SIGNAL_ROWS if scored else ()))
    ]
    waits = any(step.wait for flow in result.flows for step in flow.steps)
    notes = (
        ["emitted includes waits outside any agency, which are never delivered"] if waits else []
    )
    broken = [check for check in result.books if not check.holds]
    if broken:
        notes += [f"BOOKS DO NOT BALANCE: {c.identity} ({c.left} vs {c.right})" for c in broken]
    elif result.books:
        notes.append(f"the books balance: {'; '.join(c.identity for c in result.books)}")
    return Table("Counts", ("what", *(name for name, _ in columns)), rows, "; ".join(notes))


# -- latency --------------------------------------------------------------------------------


def value_text(value: float, unit: str) -> str:
    """Clock time for `s`, a whole number for legal working days `d`, two decimals else."""
    if unit == "s":
        return format_seconds(value)
    if unit == "d":
        return f"{value:.0f}"
    return f"{value:.2f}"


def open_cell(summary: Summary) -> str:
    """How many were still open at the end, and their share of all that started."""
    opened = int(summary.get("open", 0))
    if not opened:
        return "-"
    return f"{opened} ({100 * opened / (opened + int(summary['count'])):.1f} %)"


def stat_cells(summary: Summary, unit: str, with_open: bool = False) -> tuple[str, ...]:
    """count (and the open ones), then each statistic; `≥` where open values reach it."""
    cells = [str(summary["count"])]
    if with_open:
        cells.append(open_cell(summary))
    data = LatencySummary.from_data(dict(summary))
    for column in STAT_COLUMNS[1:]:
        shown = "wd" if unit == "d" and column == "mean" else unit
        text = value_text(float(summary[column]), shown)
        cells.append(f"≥ {text}" if data.at_least(column) else text)
    return tuple(cells)


def any_open(summaries: Iterable[Summary]) -> bool:
    return any(int(summary.get("open", 0)) for summary in summaries)


def stat_headers(with_open: bool) -> tuple[str, ...]:
    return ("count", "open", *STAT_COLUMNS[1:]) if with_open else STAT_COLUMNS


OPEN_NOTE = (
    "open = still open when the run ended, counted at its age (share of all that started); "
    "≥ = at least this: open values reach it"
)


def span_ids(flow: FlowInfo, data: Mapping[str, Summary]) -> list[str]:
    """The flow's named spans, then those a target drew between two marks (`a.acted->b.acted`)."""
    prefix = span_key(flow.id, "")
    drawn = [key.removeprefix(prefix) for key in data if key.startswith(prefix)]
    return list(dict.fromkeys([*flow.spans, *drawn]))


def step_label(step: StepInfo, mark: str) -> str:
    """`police delivered`; `contract acted (finance-bureau)`; `delivery acted (waits on ...)`."""
    if step.wait:
        return f"{step.id} {mark} (waits on {step.agency})"
    return f"{step.id} {mark}" + ("" if step.agency == step.id else f" ({step.agency})")


def flow_metrics(
    flow: FlowInfo, data: Mapping[str, Summary], marks: Iterable[str]
) -> list[tuple[str, str]]:
    """(label, metric key) for a flow's case, steps and spans, in the flow's own order."""
    wanted = tuple(marks)
    rows = [("whole case", case_key(flow.id))]
    for step in flow.steps:
        for mark in wanted:
            if mark == "delivered" and step.wait:
                continue  # nothing is delivered to a party outside the agencies
            key = step_key(flow.id, mark, step.id)
            rows.append((step_label(step, mark), key))
            if step.per_item:  # then each item's own, by the item's name
                items = sorted(k for k in data if k.startswith(f"{key}@"))
                rows += [(f"  ↳ {step.per_item} {k.split('@', 1)[1]}", k) for k in items]
    rows += [(f"span {span}", span_key(flow.id, span)) for span in span_ids(flow, data)]
    return [(label, key) for label, key in rows if key in data]


LATENCY_NOTE = "delivered = the request reached the agency; acted = its outcome was recorded"
SPAN_NOTE = "; span = between two marks of a case, e.g. invoice.acted->payment.acted"


def _has_spans(flow: FlowInfo, metrics: list[tuple[str, str]]) -> bool:
    return any(key.startswith(span_key(flow.id, "")) for _, key in metrics)


def _stat_table(
    title: str, data: Mapping[str, Summary], metrics: list[tuple[str, str]], unit: str, note: str
) -> Table:
    with_open = any_open(data[key] for _, key in metrics)
    return Table(
        title,
        ("latency", *stat_headers(with_open)),
        [(label, *stat_cells(data[key], unit, with_open)) for label, key in metrics],
        "; ".join(part for part in (note, OPEN_NOTE if with_open else "") if part),
    )


def latency_table(result: RunResult, flow: FlowInfo) -> Table | None:
    metrics = flow_metrics(flow, result.latency, ("delivered", "acted"))
    if not metrics:
        return None
    return _stat_table(
        f"{flow.id} business latency from the intended emit time (clock time)",
        result.latency,
        metrics,
        "s",
        LATENCY_NOTE + (SPAN_NOTE if _has_spans(flow, metrics) else ""),
    )


def working_days_table(result: RunResult, flow: FlowInfo) -> Table | None:
    metrics = flow_metrics(flow, result.working_days, ("acted",))
    if not metrics:
        return None
    return _stat_table(
        f"{flow.id} the same latencies in working days (工作日)",
        result.working_days,
        metrics,
        "wd",
        "as office time: office hours spent ÷ one office day; a target in working days counts "
        "this way with working_days: office",
    )


def legal_days_table(result: RunResult, flow: FlowInfo) -> Table | None:
    metrics = flow_metrics(flow, result.legal_working_days, ("acted",))
    if not metrics:
        return None
    return _stat_table(
        f"{flow.id} the same latencies in working days as the law counts a deadline (期限)",
        result.legal_working_days,
        metrics,
        "d",
        "working days after the day of receipt, up to the one by whose close it was done "
        "(received Monday, done Tuesday by 17:30: 1); targets in working days count this way",
    )


def hops_table(result: RunResult) -> Table:
    rows = []
    for source, unit in ((result.latency, "s"), (result.platform_ms, "ms")):
        for key, summary in source.items():
            if key.startswith("hop:"):
                label = key.removeprefix("hop:") + (" (platform, ms)" if unit == "ms" else "")
                rows.append((label, *stat_cells(summary, unit)))
    return Table("Per-hop split", ("hop", *STAT_COLUMNS), rows)


AGENCY_TIMES = (
    ("wait", "wait"),
    ("service-work", "work"),
    ("service-elapsed", "service elapsed"),
    ("sojourn", "sojourn"),
)
AGENCY_TIMES_NOTE = (
    "wait = queued until a clerk took it up; work = office time the clerk worked on it; "
    "service elapsed = taken up to done, closed hours included; sojourn = delivered to done"
)


def agency_times_table(result: RunResult) -> Table | None:
    """Each pool's wait, work and elapsed times: on an office calendar a 2-hour job taken up
    on a Friday afternoon works 2 hours and takes the weekend."""
    keys = [
        (pool, label, agency_key(kind, pool))
        for pool in result.agencies
        for kind, label in AGENCY_TIMES
        if agency_key(kind, pool) in result.latency
    ]
    if not keys:
        return None
    with_open = any_open(result.latency[key] for _, _, key in keys)
    rows = [
        (pool, label, *stat_cells(result.latency[key], "s", with_open)) for pool, label, key in keys
    ]
    return Table(
        "Time at agency pools (clock time)",
        ("pool", "time", *stat_headers(with_open)),
        rows,
        "; ".join([AGENCY_TIMES_NOTE, *([OPEN_NOTE] if with_open else [])]),
    )


def platform_table(result: RunResult) -> Table | None:
    rows = [
        (key, *stat_cells(summary, "ms"))
        for key, summary in result.platform_ms.items()
        if not key.startswith("hop:")
    ]
    if not rows:
        return None
    return Table("Platform latency in milliseconds (wall clock)", ("latency", *STAT_COLUMNS), rows)


# -- agencies -------------------------------------------------------------------------------


def _seconds(summary: Summary | None, stat: str) -> str:
    if not summary or not (summary["count"] or summary.get("open")):
        return "-"
    text = format_seconds(float(summary[stat]))
    return f"≥ {text}" if LatencySummary.from_data(dict(summary)).at_least(stat) else text


def requests_cell(requests: Mapping[str, int]) -> str:
    return ", ".join(f"{flow_id} {n}" for flow_id, n in requests.items()) or "-"


def agencies_table(result: RunResult) -> Table:
    """One row per pool of clerks: who it serves, how far its queue grew, how long it waited."""
    own_desks = any(name != load.agency for name, load in result.agencies.items())
    rows = []
    for name, load in result.agencies.items():
        wait = result.latency.get(agency_key("wait", name))
        cells = [name, *([load.agency] if own_desks else []), str(load.servers)]
        cells += [
            requests_cell(load.requests),
            str(load.max_queue),
            str(load.queue_at_end),
            _seconds(wait, "p50"),
            _seconds(wait, "p90"),
            "; ".join(load.outages) or "-",
        ]
        rows.append(tuple(cells))
    headers = ("pool", *(("agency",) if own_desks else ()), "servers", "requests by flow")
    headers += ("max queue", "queue at end", "wait p50", "wait p90", "outages")
    note = "a pool named agency@flow is that flow's own desk at the agency" if own_desks else ""
    return Table("Agencies", headers, rows, note)


def shared_pools(result: RunResult) -> list[str]:
    return [name for name, load in result.agencies.items() if len(load.requests) > 1]


def shared_wait_table(result: RunResult) -> Table | None:
    """Each flow's share of a shared pool's wait: who queues behind whom."""
    rows = []
    for name in shared_pools(result):
        for flow_id, taken in result.agencies[name].requests.items():
            wait = result.latency.get(agency_key("wait", name, flow_id))
            rows.append(
                (
                    name,
                    flow_id,
                    str(taken),
                    _seconds(wait, "p50"),
                    _seconds(wait, "p90"),
                    _seconds(wait, "p99"),
                )
            )
    if not rows:
        return None
    return Table(
        "Wait at shared agencies, by flow",
        ("pool", "flow", "requests", "wait p50", "wait p90", "wait p99"),
        rows,
        "the same clerks serve every flow listed; wait = delivered until a clerk took it up",
    )


# -- targets and rules ----------------------------------------------------------------------


def source_word(verdict: TargetVerdict) -> str:
    return f"plan {verdict.measure}" if verdict.source == "plan" else "author"


def verdict_on(verdict: TargetVerdict) -> str:
    """What the verdict measures: `delivered police`, `case`, `span invoice-to-payment`."""
    return "case" if verdict.of == "case" else f"{verdict.of} {verdict.step}"


def target_source_lines(result: RunResult) -> list[str]:
    """The plan's own words behind each plan target, quoted once, then how each target was
    read (its note), once per target."""
    quoted: dict[tuple[str, str | None], str] = {}
    notes: dict[tuple[str, str], str] = {}
    for v in result.targets:
        if v.source == "plan" and v.quote:
            quoted[v.flow, v.measure] = v.quote
        if v.note:
            notes[v.flow, v.id] = v.note
    lines = [f"{flow_id} plan {measure}: «{quote}»" for (flow_id, measure), quote in quoted.items()]
    lines += [f"{flow_id} {target}: {note}" for (flow_id, target), note in notes.items()]
    return lines


def _value(verdict: TargetVerdict, value: float) -> str:
    if verdict.unit == "count":
        return f"{value:.0f}"
    if verdict.unit == "share":
        return f"{value * 100:.4g} %"
    if verdict.unit == "wd":
        whole = verdict.working_days == "legal" and value == round(value)
        return f"{value:.0f}wd" if whole else f"{value:.2f}wd"
    return format_seconds(value)


def observed_text(verdict: TargetVerdict) -> str:
    if verdict.observed is None:
        return "no data"
    text = ("≥ " if verdict.at_least else "") + _value(verdict, verdict.observed)
    if verdict.interval is not None:
        low, high = verdict.interval
        text += f" [{_value(verdict, low)}, {_value(verdict, high)}]"
    return text


def condition_text(verdict: TargetVerdict) -> str:
    """What the target asks, in one phrase: `p90 ≤ 3wd`, for a rate `≥ 100% acted on`, for
    exposures or a count its bound (`≤ 0`, `≥ 2000 by 2021-12-31`)."""
    if verdict.of == "rate":
        return f"{verdict.within} acted on"
    if verdict.unit == "count":
        return verdict.within
    return f"{verdict.stat} ≤ {verdict.within}"


def limit_text(verdict: TargetVerdict) -> str:
    """`3wd` (a legal deadline), `3wd office` (office time), or clock time."""
    return verdict.within + (" office" if verdict.working_days == "office" else "")


def verdict_of(verdict: TargetVerdict) -> str:
    """The verdict word, also for results written before `verdict` was kept."""
    if verdict.verdict is not None:
        return verdict.verdict
    return {True: "met", False: "missed", None: "no data"}[verdict.met]


def unchecked_text(result: RunResult) -> str:
    """The plan's numbers no target checked: a run cannot pass by leaving them out."""
    return "; ".join(
        f"{u.flow} {u.measure} {u.what} ({u.limit}" + (f", span {u.span}" if u.span else "") + ")"
        for u in result.unchecked_plan_targets
    )


def sla_summary(result: RunResult) -> str:
    """One line on all targets; a target nothing was measured for, or that open cases could
    still tip, is never counted as met; nor is a run that left a plan target unchecked."""
    total = len(result.targets)
    several = len(result.flows) > 1

    def part(verdicts: list[TargetVerdict], words: str) -> str:
        by_flow: dict[str, int] = defaultdict(int)
        for verdict in verdicts:
            by_flow[verdict.flow] += 1
        split = ", ".join(f"{flow_id} {n}" for flow_id, n in by_flow.items())
        return f"{len(verdicts)} of {total} targets {words}" + (f" ({split})" if several else "")

    parts = []
    for word, words in (
        ("missed", "MISSED"),
        ("undecided", "UNDECIDED (open cases could land either side, or the run cannot tell)"),
        ("no data", "without data (nothing measured)"),
    ):
        chosen = [v for v in result.targets if verdict_of(v) == word]
        if chosen:
            parts.append(part(chosen, words))
    if result.unchecked_plan_targets:
        parts.append(f"plan target not checked: {unchecked_text(result)}")
    if conformance_text(result):
        parts.append(conformance_text(result))
    beyond = not_checkable_text(result)
    if not parts:
        return "all targets met" + (f"; {beyond}" if beyond else "")
    return "; ".join([*parts, *([beyond] if beyond else [])])


def not_checkable_text(result: RunResult) -> str:
    """The plan's targets no run can check (go-live dates), said beside every verdict."""
    if not result.not_checkable_plan_targets:
        return ""
    return "plan target no run can check: " + "; ".join(
        f"{u.flow} {u.measure} {u.what} ({u.limit})" for u in result.not_checkable_plan_targets
    )


def verdict_word(verdict: TargetVerdict) -> str:
    return {"met": "met", "missed": "MISSED", "undecided": "UNDECIDED", "no data": "no data"}[
        verdict_of(verdict)
    ]


def reports_verdict(result: RunResult) -> bool:
    """Whether a report has a verdict line to print: targets, or plan targets left out."""
    return bool(
        result.targets
        or result.unchecked_plan_targets
        or result.not_checkable_plan_targets
        or result.conformance
    )


def targets_table(result: RunResult) -> Table:
    rows = [
        (
            verdict.flow,
            verdict.id,
            verdict_on(verdict),
            verdict.stat,
            limit_text(verdict),
            observed_text(verdict),
            verdict_word(verdict),
            source_word(verdict),
        )
        for verdict in result.targets
    ]
    notes = target_source_lines(result)
    if any(v.open for v in result.targets):
        notes.append(
            "≥ = open cases counted at their age; UNDECIDED = met only if the open ones finish "
            "in time"
        )
    if any(v.of == "rate" for v in result.targets):
        notes.append(
            "rate = cases the step was acted on ÷ cases it fell due in (rejected and cancelled "
            "count against; ≥ = cases open at the end counted as failed)"
        )
    if any(v.interval is not None for v in result.targets):
        notes.append("observed = mean over replications [95 % confidence interval]")
    notes += [f"{v.flow} {v.id} ({verdict_on(v)}): {v.reason}" for v in result.targets if v.reason]
    points = tuple(note.strip() for note in notes if note.strip())
    return Table(
        "SLA targets",
        ("flow", "target", "on", "stat", "limit", "observed", "verdict", "source"),
        rows,
        "; ".join(points),
        points,
    )


def unchecked_table(result: RunResult) -> Table | None:
    missing = result.unchecked_plan_targets
    if not missing:
        return None
    return Table(
        "The plan's targets no scenario target checked",
        ("flow", "measure", "what", "the plan's limit", "span"),
        [(u.flow, u.measure, u.what, u.limit, u.span or "-") for u in missing],
        "add a target with source: plan and this measure on this span; "
        + "; ".join(f"{u.flow} {u.measure}: «{u.quote}»" for u in missing),
    )


def not_checkable_table(result: RunResult) -> Table | None:
    beyond = result.not_checkable_plan_targets
    if not beyond:
        return None
    return Table(
        "The plan's targets no run can check",
        ("flow", "measure", "what", "the plan's words", "why not"),
        [(u.flow, u.measure, u.what, u.limit, u.reason) for u in beyond],
        "; ".join(f"{u.flow} {u.measure}: «{u.quote}»" for u in beyond),
    )


RULE_OUTCOMES = ("met", "not met", "not applicable")


def rules_table(result: RunResult) -> Table | None:
    """The plan's conditions on a case's data (e.g. a prepayment share), case by case."""
    rows = []
    for flow_id, rules in result.rules.items():
        for rule, outcomes in rules.items():
            counted = [outcomes.get(outcome, 0) for outcome in RULE_OUTCOMES]
            judged = counted[0] + counted[1]
            share = f"{100 * counted[0] / judged:.1f} %" if judged else "-"
            rows.append((flow_id, rule, *map(str, counted), share))
    if not rows:
        return None
    return Table(
        "The plan's rules on case data",
        ("flow", "rule", "met", "not met", "n/a", "met share"),
        rows,
        "met share = met / (met + not met); n/a = the rule does not concern that case",
    )


def exposures_table(result: RunResult) -> Table | None:
    """Each subscriber's checks against its table of published records: how many found a
    record, and how many found one already retracted."""
    rows = [
        (
            flow_id,
            agency,
            str(e.checks),
            str(e.found),
            str(e.exposures),
            str(e.retracted_held_at_end),
        )
        for flow_id, by_agency in result.exposures.items()
        for agency, e in by_agency.items()
    ]
    if not rows:
        return None
    return Table(
        "Published records: subscribers' checks",
        ("flow", "subscriber", "checks", "found a record", "exposures", "retracted, held at end"),
        rows,
        "an exposure is a check that found a record after its retraction; a record retracted "
        "and still held at the end could still be found",
    )


def tallies_table(result: RunResult) -> Table | None:
    """The counts the plan sets: distinct values seen, and on the last day with any new."""
    rows = [
        (flow_id, tally, str(count.counted), max(count.new_by_day, default="-"))
        for flow_id, by_name in result.tallies.items()
        for tally, count in by_name.items()
    ]
    if not rows:
        return None
    return Table("Counts", ("flow", "count", "distinct", "last new on"), rows)


def signals_table(result: RunResult) -> Table | None:
    """A scoring flow's signals by kind: what its scores were made of."""
    rows = [
        (flow_id, kind, str(n))
        for flow_id, kinds in result.signals.items()
        for kind, n in kinds.items()
    ]
    if not rows:
        return None
    return Table(
        "Signals scored",
        ("flow", "kind", "received"),
        rows,
        "a signal that weighs nothing (an inspection passed) is received, and moves no score",
    )


def items_table(result: RunResult) -> Table | None:
    """Steps done per item: in how many cases none of the items was done (F06's demands that
    got no offer)."""
    rows = []
    for key, counts in result.items_reached.items():
        flow_id, _, step = key.partition("/items:")
        cases, none = counts.get("cases", 0), counts.get("none done", 0)
        share = f"{none / cases:.1%}" if cases else "-"
        rows.append((flow_id, step, str(cases), str(cases - none), str(none), share))
    if not rows:
        return None
    return Table(
        "Steps done per item: cases with none done",
        ("flow", "step", "cases", "some item done", "none done", "share none"),
        rows,
        "completed cases the step ran in; an item rejected (a bank that declined) is not done",
    )


def dead_letters_table(result: RunResult) -> Table | None:
    """What reached the dead-letter topic during a run, and from where: counted whoever wrote
    the message (this run's agents or another producer on the same topics), so junk on a
    source topic shows in the report rather than vanishing into the topic."""
    letters = result.dead_letters
    if not letters.by_reason and not letters.by_source_topic:
        return None
    rows = [("reason", reason, str(n)) for reason, n in sorted(letters.by_reason.items())]
    topics = sorted(letters.by_source_topic.items())
    rows += [("source topic", topic, str(n)) for topic, n in topics]
    return Table(
        "Dead letters",
        ("by", "what", "messages"),
        rows,
        "every message that reached the dead-letter topic during the run, whoever wrote it",
    )


def conformance_table(result: RunResult) -> Table | None:
    """Each external agency's answers, judged: what its developer reads first."""
    rows = []
    for agency, c in result.conformance.items():
        share = c.share_valid
        invalid = ", ".join(f"{reason} {n}" for reason, n in c.invalid.items())
        rows.append(
            (
                agency,
                str(c.requests),
                str(c.valid),
                "-" if share is None else f"{share:.1%}",
                str(c.invalid_total),
                invalid or "-",
                str(c.missing),
                str(c.late),
                str(c.duplicated),
                "passed" if c.passed else "FAILED",
            )
        )
    if not rows:
        return None
    return Table(
        "External agencies: conformance",
        (
            "agency",
            "requests",
            "valid",
            "valid share",
            "invalid",
            "invalid by reason",
            "missing at end",
            "late",
            "duplicated",
            "verdict",
        ),
        rows,
        "answers from systems outside govstream, checked one by one: valid = the contract's "
        "Avro with its fingerprint, to a request sent to that agency, with the reply fields "
        "later steps read, not a repeat; late = beyond a target's limit on its step; an "
        "invalid answer is dead-lettered with its reason and its case waits on; any invalid "
        "or missing answer fails --fail-on-sla",
    )


def conformance_text(result: RunResult) -> str:
    """The external agencies whose answers fail a run, for the verdict line."""
    failed = [
        f"{agency} ({c.invalid_total} invalid, {c.missing} missing)"
        for agency, c in result.conformance.items()
        if not c.passed
    ]
    return "external agency not conformant: " + "; ".join(failed) if failed else ""


# -- all of it ------------------------------------------------------------------------------


def all_tables(result: RunResult) -> list[Table]:
    tables: list[Table | None] = [counts_table(result), conformance_table(result)]
    for flow in result.flows:
        tables += [
            latency_table(result, flow),
            working_days_table(result, flow),
            legal_days_table(result, flow),
        ]
    tables += [platform_table(result), hops_table(result), agencies_table(result)]
    tables.append(agency_times_table(result))
    tables.append(shared_wait_table(result))
    tables.append(rules_table(result))
    tables.append(exposures_table(result))
    tables.append(tallies_table(result))
    tables.append(signals_table(result))
    tables.append(items_table(result))
    tables.append(dead_letters_table(result))
    if result.targets:
        tables.append(targets_table(result))
    from govstream.report.why import why_tables  # it builds on the tables here

    tables += why_tables(result)
    tables.append(unchecked_table(result))
    tables.append(not_checkable_table(result))
    return [table for table in tables if table is not None]
