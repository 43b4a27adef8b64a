"""Where the time went, in every report: each target's deciding cases split into parts, and
for a miss, what would have to shrink (`pipeline.breakdown`, `pipeline.why`)."""

from __future__ import annotations

from typing import Any

from govstream.durations import format_seconds
from govstream.pipeline.breakdown import IN_WORK, KINDS, part_kind, part_place
from govstream.report.tables import Table
from govstream.result import Breakdown, RunResult, TargetBreakdown

Figure = dict[str, Any]

KIND_WORDS = {
    "transport": "transport",
    "queue": "queue at",
    "work": "work at",
    "closed": "closed hours at",
    "outage": "outage at",
    "wait": "waiting on",
    "untraced": "untraced",
}
KIND_COLOURS = {
    "transport": "#9e9e9e",
    "queue": "#ff7f0e",
    "work": "#1f77b4",
    "closed": "#5b4a8b",
    "closed-in-work": "#a99bd1",
    "outage": "#d62728",
    "wait": "#8c6d31",
    "untraced": "#cccccc",
}
GROUP_WORDS = {
    "transport": "transport",
    "queue": "queue (open, waiting for a clerk)",
    "work": "work",
    "closed": "closed hours, before work",
    "closed-in-work": "closed hours, work paused",
    "outage": "outage",
    "wait": "waiting outside any agency",
    "untraced": "untraced",
}
"""The chart's legend: one entry and one colour per kind of part; each bar's segments are
its places (the hover names them)."""
SHOWN_PARTS = 3
"""Parts a table row names; `--why` lists every one."""

NOTE = (
    "the cases that decide a statistic (for a percentile those at or beyond it, for a mean "
    "all), their time split along the path each case waited on: transport, queue (office "
    "open, waiting for a clerk), work, closed hours (nights, weekends, holidays, lunch), "
    "outages, waits outside any agency; the parts of each case add up to its latency. "
    "earlier = of it, before the request that ended the latency went out. Finished cases only"
)


def colour_group(part: str) -> str:
    kind = part_kind(part)
    if kind == "closed" and part.endswith(IN_WORK):
        return "closed-in-work"
    return kind if kind in KIND_COLOURS else "untraced"


def part_label(part: str) -> str:
    """`queue:hrss` -> `queue at hrss`; `transport:outcome-return` -> `transport outcome-return`."""
    kind, place = part_kind(part), part_place(part)
    return f"{KIND_WORDS.get(kind, kind)} {place}".strip()


def share(seconds: float, of: float) -> str:
    return f"{100 * seconds / of:.0f} %" if of > 0 else "-"


def parts_text(breakdown: Breakdown, limit: int | None = SHOWN_PARTS) -> str:
    """`closed hours at hrss 94 %, queue at hrss 4 %, …`: the largest parts with their shares."""
    parts = list(breakdown.parts.items())
    shown = parts if limit is None else parts[:limit]
    text = ", ".join(f"{part_label(p)} {share(s, breakdown.seconds)}" for p, s in shown)
    return text + (", …" if len(parts) > len(shown) else "")


def deciding_text(breakdown: Breakdown) -> str:
    """Which cases decide the statistic, in words."""
    text = (
        f"all {breakdown.cases} cases"
        if breakdown.stat == "mean"
        else f"the {breakdown.cases} cases at or beyond {breakdown.stat}"
    )
    if not breakdown.complete:
        text += " (of them, those split)"
    return text


def value_text(value: float, scale: str) -> str:
    if scale == "latency":
        return format_seconds(value)
    return f"{value:.0f} wd" if scale == "legal_working_days" else f"{value:.2f} wd"


def shrink_text(found: TargetBreakdown, limit_text: str) -> str:
    """For a miss: which part would have to shrink, and by how much."""
    shrink = found.shrink
    if shrink is None:
        return ""
    needed = format_seconds(shrink.needed) if shrink.unit == "s" else f"{shrink.needed:.2f} wd"
    if found.stat == "mean":
        which, them = "every case on average", "the largest part of all"
    else:
        which = f"the {shrink.cases} cases at {found.stat}"
        them = "their largest part"
    text = (
        f"to meet {limit_text}, {which} must end {needed} sooner; {them} is "
        f"{part_label(shrink.part)}, {format_seconds(shrink.part_seconds)} on average"
    )
    if shrink.needed_seconds is None:
        return text
    if shrink.needed_seconds > shrink.part_seconds:
        return text + f": more than all of it ({format_seconds(shrink.needed_seconds)} needed)"
    cut = share(shrink.needed_seconds, shrink.part_seconds)
    return text + f", which would have to shrink by {cut} ({format_seconds(shrink.needed_seconds)})"


def _limit_text(result: RunResult, found: TargetBreakdown) -> str:
    for verdict in result.targets:
        if verdict.id == found.target and verdict.step == found.step:
            return verdict.within
    return "the limit"


def targets_parts_table(result: RunResult) -> Table | None:
    """One row per latency verdict: its deciding cases, their largest parts, and for a miss
    what would have to shrink."""
    if not result.target_breakdowns:
        return None
    rows = []
    for found in result.target_breakdowns:
        breakdown = found.breakdown
        rows.append(
            (
                f"{found.target} ({found.flow} {found.step})",
                (found.verdict or "-").upper() if found.verdict != "met" else "met",
                deciding_text(breakdown),
                format_seconds(breakdown.seconds),
                parts_text(breakdown),
                share(breakdown.earlier, breakdown.seconds),
                shrink_text(found, _limit_text(result, found)),
            )
        )
    return Table(
        "Where the time went: targets",
        (
            "target",
            "verdict",
            "deciding cases",
            "their mean",
            "largest parts",
            "earlier",
            "to meet it",
        ),
        rows,
        NOTE,
    )


def latencies_parts_table(result: RunResult) -> Table | None:
    """Every latency's slowest tenth, split."""
    if not result.breakdowns:
        return None
    rows = [
        (
            metric,
            str(breakdown.cases),
            format_seconds(breakdown.seconds),
            parts_text(breakdown),
            share(breakdown.earlier, breakdown.seconds),
        )
        for metric, breakdown in result.breakdowns.items()
    ]
    return Table(
        "Where the time went: each latency's slowest tenth (p90 and beyond)",
        ("latency", "cases", "their mean", "largest parts", "earlier"),
        rows,
        NOTE,
    )


def why_tables(result: RunResult) -> list[Table]:
    return [t for t in (targets_parts_table(result), latencies_parts_table(result)) if t]


def matching(result: RunResult, target: str) -> list[TargetBreakdown]:
    """The verdicts `--why` names: by target id, or `id/step` for one of a target's steps."""
    wanted, _, step = target.partition("/")
    return [
        found
        for found in result.target_breakdowns
        if found.target == wanted and (not step or found.step == step)
    ]


def why_lines(result: RunResult, target: str) -> list[str]:
    """`--why TARGET`: every part of the target's deciding cases, and what would have to
    shrink. Raises KeyError naming the targets there are when none matches."""
    found = matching(result, target)
    if not found:
        there = sorted({f.target for f in result.target_breakdowns})
        raise KeyError(
            f"no latency target {target!r} in this run; targets: {', '.join(there) or 'none'}"
        )
    lines = []
    for one in found:
        breakdown = one.breakdown
        limit = _limit_text(result, one)
        lines.append(
            f"{one.target} ({one.flow} {one.step}): {one.stat} "
            f"{value_text(breakdown.value, breakdown.scale)} against {limit}: {one.verdict}"
        )
        lines.append(
            f"  decided by {deciding_text(breakdown)}, "
            f"{format_seconds(breakdown.seconds)} on average:"
        )
        for part, seconds in breakdown.parts.items():
            lines.append(
                f"    {part_label(part):<40} {format_seconds(seconds):>10}  "
                f"{share(seconds, breakdown.seconds):>5}"
            )
        lines.append(
            f"  of it before the last request went out (earlier steps): "
            f"{format_seconds(breakdown.earlier)} ({share(breakdown.earlier, breakdown.seconds)})"
        )
        text = shrink_text(one, limit)
        if text:
            lines.append(f"  {text}")
    return lines


def why_figure(result: RunResult) -> Figure | None:
    """A stacked bar per latency verdict: the mean time of its deciding cases, by part, as
    shares (targets run from seconds to weeks; the hover and the label give the time)."""
    found = result.target_breakdowns
    if not found:
        return None
    labels = [
        f"{f.target} · {f.flow} {f.step} ({f.stat}, {f.verdict}, "
        f"mean {format_seconds(f.breakdown.seconds)})"
        for f in found
    ]
    parts = sorted(
        {p for f in found for p in f.breakdown.parts},
        key=lambda p: (KINDS.index(part_kind(p)) if part_kind(p) in KINDS else 99, p),
    )
    traces = []
    in_legend: set[str] = set()
    for part in parts:
        seconds = [f.breakdown.parts.get(part, 0.0) for f in found]
        if not any(seconds):
            continue
        group = colour_group(part)
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": GROUP_WORDS[group],
                "legendgroup": group,
                "showlegend": group not in in_legend,
                "y": labels,
                "x": [
                    round(100 * v / f.breakdown.seconds, 2) if f.breakdown.seconds else 0.0
                    for v, f in zip(seconds, found, strict=True)
                ],
                "marker": {"color": KIND_COLOURS[group]},
                "text": [
                    f"{part_label(part)}: {format_seconds(v)} ({share(v, f.breakdown.seconds)})"
                    for v, f in zip(seconds, found, strict=True)
                ],
                "textposition": "none",
                "hovertemplate": "%{text}<extra></extra>",
            }
        )
        in_legend.add(group)
    return {
        "data": traces,
        "layout": {
            "title": {"text": "Where the time went: each target's deciding cases", "x": 0},
            "barmode": "stack",
            "height": max(300, 120 + 34 * len(labels)),
            "margin": {"l": 20, "r": 20, "t": 60, "b": 40},
            "xaxis": {
                "title": {"text": "share of the deciding cases' mean time (%)"},
                "range": [0, 100],
                "gridcolor": "#e5e5e5",
            },
            "yaxis": {"automargin": True, "autorange": "reversed"},
            "legend": {"orientation": "v", "x": 1.02, "y": 1},
            "plot_bgcolor": "white",
        },
    }
