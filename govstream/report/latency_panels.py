"""A flow's latency distributions as small multiples, with every latency target marked.

One plot of every step of a flow is unreadable past a dozen lines (F04 has twenty), so the
lines are split into panels of related series: steps whose ids begin with the same word
(`water-acceptance`, `water-design`) and the spans named like them share a panel, and small
groups are packed together, up to one line per colour of plotly's colourway, so no two lines
of a panel look alike.

Every latency a target is set on is drawn, and the target on it: an × at its percentile and
limit for a percentile, a dashed line at the limit for a mean or a maximum, in the colour of
the line it judges. A target in working days is not converted to clock time, as a working
day's length in clock time depends on the weekends and holidays it spans; it is drawn on a
panel of its own in working days, counted as the target counts them (as the law counts a
deadline, from the run's p50 to p99.9; or as office time, from the whole curve).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from govstream.durations import format_seconds
from govstream.pipeline.book import case_key, span_key, step_key
from govstream.report.charts import (
    COLOURS,
    NINES_TICKS,
    Figure,
    _layout,
    _percent,
    _time_axis,
    legend_height,
    nines,
)
from govstream.report.tables import (
    flow_metrics,
    limit_text,
    observed_text,
    value_text,
    verdict_word,
)
from govstream.result import FlowInfo, RunResult, TargetVerdict

Scale = Literal["s", "legal", "office"]

LEGAL_STATS = ("p50", "p90", "p99", "p99.9")
"""What a run keeps of a latency in legal working days: its summary, not a whole curve."""

WORKING_DAYS: dict[Scale, tuple[str, str]] = {
    "legal": ("in working days as the law counts a deadline", "working days (期限)"),
    "office": ("in working days as office time", "working days (office time)"),
}
"""A working-days panel's title and axis title, by how the targets on it count."""


@dataclass(frozen=True, slots=True)
class Series:
    """One line: its legend label, its metric, and the group of related lines it joins."""

    label: str
    key: str
    group: str


@dataclass(slots=True)
class Panel:
    groups: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)


def target_key(verdict: TargetVerdict) -> str | None:
    """The latency a target is on, or None for a rate, exposures or a count."""
    if verdict.unit not in ("s", "wd"):
        return None
    if verdict.of == "case":
        return case_key(verdict.flow)
    if verdict.of in ("acted", "delivered"):
        return step_key(verdict.flow, verdict.of, verdict.step)
    if verdict.of == "span":
        return span_key(verdict.flow, verdict.step)
    return None


def target_scale(verdict: TargetVerdict) -> Scale:
    if verdict.unit == "s":
        return "s"
    return "office" if verdict.working_days == "office" else "legal"


def _word(name: str) -> str:
    return name.split("-", 1)[0]


def _grouped(flow: FlowInfo, metrics: list[tuple[str, str]]) -> list[Series]:
    """Each line's group: the whole case leads; a step's is its id's first word; a span's is
    its name's first word where a step shares it, else `spans`."""
    words = {_word(step.id) for step in flow.steps}
    series = []
    for label, key in metrics:
        name = key.split(":", 1)[1].split("@", 1)[0] if ":" in key else ""
        if key == case_key(flow.id):
            group = "whole case"
        elif key.startswith(span_key(flow.id, "")):
            group = _word(name) if _word(name) in words else "spans"
        else:
            group = _word(name)
        series.append(Series(label, key, group))
    return series


def _packed(series: list[Series], most: int = len(COLOURS)) -> list[Panel]:
    """Groups in order of first appearance, packed into panels of at most `most` lines; a
    group too large for one panel is split."""
    order: dict[str, list[Series]] = {}
    for line in series:
        order.setdefault(line.group, []).append(line)
    panels: list[Panel] = []
    for group, lines in order.items():
        chunks = [lines[i : i + most] for i in range(0, len(lines), most)]
        for index, chunk in enumerate(chunks):
            name = f"{group} ({index + 1} of {len(chunks)})" if len(chunks) > 1 else group
            if panels and len(panels[-1].series) + len(chunk) <= most and len(chunks) == 1:
                panels[-1].groups.append(name)
                panels[-1].series += chunk
            else:
                panels.append(Panel([name], list(chunk)))
    return panels


def _values(result: RunResult, scale: Scale, key: str) -> list[tuple[float, float]]:
    """(percentile, value) along a latency's distribution on one scale."""
    if scale == "legal":
        summary = result.legal_working_days.get(key)
        if not summary or not summary["count"]:
            return []
        return [(float(stat[1:]), float(summary[stat])) for stat in LEGAL_STATS]
    curves = result.curves
    if curves is None:
        return []
    data = curves.latency if scale == "s" else curves.working_days
    values = data.get(key)
    if values is None:
        return []
    return [(p, values[i]) for i, p in enumerate(curves.percentiles) if p < 100.0]


def _text(scale: Scale, value: float) -> str:
    if scale == "s":
        return format_seconds(value)
    return value_text(value, "d" if scale == "legal" else "wd") + " wd"


def _line(result: RunResult, scale: Scale, line: Series, colour: str) -> dict[str, Any]:
    points = _values(result, scale, line.key)
    # a log axis cannot show 0: a latency that took no time at all leaves a gap
    ys = [v if v > 0 or scale != "s" else None for _, v in points]
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": line.label,
        "x": [nines(p) for p, _ in points],
        "y": ys,
        "customdata": [_percent(p) for p, _ in points],
        "text": [_text(scale, v) for _, v in points],
        "hovertemplate": "%{fullData.name}<br>%{customdata}: %{text}<extra></extra>",
        "line": {"width": 3 if line.group == "whole case" else 1.5, "color": colour},
        "marker": {"size": 4, "color": colour},
    }


def _target(verdict: TargetVerdict, colour: str, name: str, floor: float) -> dict[str, Any]:
    """An × at a percentile target's place; a line across the panel at a mean's or a
    maximum's limit, as neither has a percentile of its own. A limit of nothing at all (`max
    ≤ 0s`) is drawn at `floor`, the foot of a log axis, which has no 0."""
    limit = verdict.limit if verdict.limit > 0 or verdict.unit != "s" else floor
    hover = (
        f"target {verdict.id}: {verdict.stat} ≤ {limit_text(verdict)}<br>"
        f"observed {observed_text(verdict)}: {verdict_word(verdict)}<extra></extra>"
    )
    trace: dict[str, Any] = {
        "type": "scatter",
        "name": name,
        "hovertemplate": hover,
        "meta": {"target": verdict.id, "flow": verdict.flow, "on": target_key(verdict)},
    }
    if verdict.stat.startswith("p"):
        trace |= {
            "mode": "markers",
            "x": [nines(float(verdict.stat[1:]))],
            "y": [limit],
            "marker": {"symbol": "x-thin", "size": 16, "line": {"width": 3, "color": colour}},
        }
    else:
        ends = [nines(NINES_TICKS[0]), nines(NINES_TICKS[-1])]
        trace |= {
            "mode": "lines",
            "x": ends,
            "y": [limit, limit],
            "line": {"dash": "dash", "width": 2, "color": colour},
        }
    return trace


def _target_name(verdict: TargetVerdict, repeated: bool) -> str:
    on = f" on {verdict.step}" if repeated else ""
    return f"target {verdict.id}{on}: {verdict.stat} ≤ {limit_text(verdict)}"


def _figure(
    result: RunResult,
    scale: Scale,
    title: str,
    panel: Panel,
    targets: Mapping[str, list[TargetVerdict]],
    repeated: set[str],
) -> Figure:
    data = [
        _line(result, scale, line, COLOURS[index % len(COLOURS)])
        for index, line in enumerate(panel.series)
    ]
    shown = [y for trace in data for y in trace["y"] if y]
    floor = min(shown, default=1.0) / 3
    for index, line in enumerate(panel.series):
        colour = COLOURS[index % len(COLOURS)]
        data += [
            _target(v, colour, _target_name(v, v.id in repeated), floor)
            for v in targets.get(line.key, [])
        ]
    xaxis = {
        "title": {"text": "percentile", "standoff": 8},
        "tickvals": [nines(p) for p in NINES_TICKS],
        "ticktext": [_percent(p) for p in NINES_TICKS],
        "range": [-0.1, nines(NINES_TICKS[-1]) + 0.1],
        "gridcolor": "#e5e5e5",
        "zeroline": False,
    }
    if scale == "s":
        values = [y for trace in data for y in trace["y"]]
        yaxis = _time_axis(values, "latency (log scale)")
    else:
        yaxis = {
            "title": {"text": WORKING_DAYS[scale][1]},
            "rangemode": "tozero",
            "gridcolor": "#e5e5e5",
        }
    layout = _layout(title, height=legend_height(len(data), 360, 620), xaxis=xaxis, yaxis=yaxis)
    return {"data": data, "layout": layout}


def _chart_id(flow: FlowInfo, scale: Scale, index: int) -> str:
    """`latency-F04` for a flow's first panel, then `latency-F04-2`, `latency-F04-legal`."""
    base = f"latency-{flow.id}" + ("" if scale == "s" else f"-{scale}")
    return base if index == 0 else f"{base}-{index + 1}"


def latency_figures(result: RunResult, flow: FlowInfo) -> list[tuple[str, Figure]]:
    """A flow's panels in clock time, then one in working days for each way its working-day
    targets count; (chart id, figure)."""
    curves = result.curves
    if curves is None:
        return []
    by_scale: dict[Scale, dict[str, list[TargetVerdict]]] = {"s": {}, "legal": {}, "office": {}}
    ids: dict[str, int] = {}
    for verdict in result.targets:
        key = target_key(verdict)
        if verdict.flow == flow.id and key is not None:
            by_scale[target_scale(verdict)].setdefault(key, []).append(verdict)
            ids[verdict.id] = ids.get(verdict.id, 0) + 1
    repeated = {target for target, n in ids.items() if n > 1}
    figures = []
    marks = ("delivered", "acted")
    clock = [
        (label, key)
        for label, key in flow_metrics(flow, curves.latency, marks)
        if "/delivered:" not in key or key in by_scale["s"]
    ]
    panels = _packed(_grouped(flow, clock))
    for index, panel in enumerate(panels):
        title = f"{flow.id}: latency from the intended emit time, " + ", ".join(panel.groups)
        figure = _figure(result, "s", title, panel, by_scale["s"], repeated)
        figures.append((_chart_id(flow, "s", index), figure))
    for scale in ("legal", "office"):
        targets = by_scale[scale]
        data = result.legal_working_days if scale == "legal" else curves.working_days
        lines = [(label, key) for label, key in flow_metrics(flow, data, marks) if key in targets]
        chunks = _packed([Series(label, key, "") for label, key in lines])
        for index, panel in enumerate(chunks):
            part = f" ({index + 1} of {len(chunks)})" if len(chunks) > 1 else ""
            title = f"{flow.id}: the latencies its targets count {WORKING_DAYS[scale][0]}{part}"
            figure = _figure(result, scale, title, panel, targets, repeated)
            figures.append((_chart_id(flow, scale, index), figure))
    return figures
