"""The report's charts as Plotly figures (plain data), built from a RunResult alone.

Figures are dicts of `data` and `layout` as plotly.js reads them, so no Python plotting objects
are built and the page only needs the library's JavaScript. Latencies are plotted against the
percentile on a "nines" axis (50 %, 90 %, 99 %, 99.9 %, equally spaced) with a logarithmic time
axis: a plan's targets sit in the tail, and latencies run from milliseconds to weeks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from govstream.durations import format_seconds
from govstream.pipeline.book import hop_key
from govstream.pipeline.series import (
    arrivals_name,
    busy_name,
    completions_name,
    open_name,
    queue_name,
)
from govstream.result import RunResult, TimeSeries

Figure = dict[str, Any]

DAY = 86_400.0
TIME_TICKS = (
    (0.001, "1ms"),
    (0.01, "10ms"),
    (0.1, "100ms"),
    (1.0, "1s"),
    (10.0, "10s"),
    (60.0, "1min"),
    (600.0, "10min"),
    (3600.0, "1h"),
    (6 * 3600.0, "6h"),
    (DAY, "1d"),
    (7 * DAY, "1w"),
    (30 * DAY, "30d"),
    (365 * DAY, "1y"),
)
NINES_TICKS = (0.0, 50.0, 90.0, 99.0, 99.9, 99.99)
COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
"""plotly's own colourway, set on a line where another line must share its colour."""
OUTAGE_FILL = "rgba(214, 39, 40, 0.13)"
FONT = {
    "family": "system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', 'PingFang SC', "
    "'Microsoft YaHei', 'WenQuanYi Zen Hei', sans-serif",
    "size": 13,
}


def nines(percentile: float) -> float:
    """Position on the percentile axis: 0 → 0, 90 → 1, 99 → 2, 99.9 → 3."""
    return -math.log10(max(1e-6, 1.0 - percentile / 100.0))


def _percent(p: float) -> str:
    return f"{p:g}%"


def _time_axis(values: Iterable[float | None], title: str) -> dict[str, Any]:
    shown = [v for v in values if v is not None and v > 0]
    low, high = (min(shown), max(shown)) if shown else (1.0, DAY)
    ticks = [(v, t) for v, t in TIME_TICKS if low / 10 <= v <= high * 10]
    return {
        "type": "log",
        "title": {"text": title},
        "tickvals": [v for v, _ in ticks],
        "ticktext": [t for _, t in ticks],
        "gridcolor": "#e5e5e5",
    }


LEGEND_ROW = 20
"""Pixels one legend entry takes, to make a chart tall enough for its legend."""


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    """A chart's frame, laid out so that no text can overlap another: the title sits in the
    top margin, a legend in one column right of the plot (plotly widens the right margin to
    fit it, whereas a legend under the plot lands on the x-axis title as soon as it wraps),
    and both axes push their margins out to fit their tick labels and titles."""
    layout: dict[str, Any] = {
        "title": {
            "text": title,
            "x": 0,
            "xanchor": "left",
            "xref": "container",
            "y": 1,
            "yanchor": "top",
            "yref": "container",
            "pad": {"t": 12, "l": 4},
        },
        "font": FONT,
        "height": 420,
        "margin": {"l": 70, "r": 20, "t": 56, "b": 56},
        "legend": {
            "x": 1.02,
            "xanchor": "left",
            "y": 1,
            "yanchor": "top",
            "font": {"size": 12},
            "tracegroupgap": 4,
        },
        "plot_bgcolor": "white",
        "hovermode": "closest",
    }
    layout.update(extra)
    for axis in ("xaxis", "yaxis"):
        if axis in layout:
            layout[axis] = {"automargin": True, **layout[axis]}
    return layout


def legend_height(entries: int, low: int = 420, high: int = 760) -> int:
    """A chart's height with room for a one-column legend of so many entries: past `high`
    plotly scrolls the legend instead."""
    return max(low, min(high, 140 + LEGEND_ROW * entries))


# -- over time ----------------------------------------------------------------------------------


def bin_times(series: TimeSeries) -> list[str]:
    """Each bin's start as local calendar time (plotly reads times without a zone)."""
    start = datetime.fromisoformat(series.start)
    return [
        (start + timedelta(seconds=i * series.bin_seconds)).strftime("%Y-%m-%d %H:%M:%S")
        for i in range(series.bins)
    ]


def _local(series: TimeSeries, seconds: float) -> str:
    start = datetime.fromisoformat(series.start)
    return (start + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def outage_shapes(series: TimeSeries) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A shaded band per outage across the whole plot, labelled with its pool."""
    shapes, notes = [], []
    for pool, windows in series.windows.items():
        for window in windows:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": _local(series, window.start),
                    "x1": _local(series, window.end),
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": OUTAGE_FILL,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
            notes.append(
                {
                    "xref": "x",
                    "yref": "paper",
                    "x": _local(series, window.start),
                    "y": 1,
                    "yanchor": "bottom",
                    "xanchor": "left",
                    "text": f"{pool} outage" + (f": {window.label}" if window.label else ""),
                    "showarrow": False,
                    "font": {"color": "#b22222", "size": 11},
                }
            )
    return shapes, notes


def _time_figure(
    series: TimeSeries, title: str, yaxis: str, traces: list[dict[str, Any]]
) -> Figure | None:
    if not traces:
        return None
    shapes, notes = outage_shapes(series)
    layout = _layout(
        title,
        height=legend_height(len(traces)),
        xaxis={"type": "date", "title": {"text": "business time"}, "gridcolor": "#e5e5e5"},
        yaxis={"title": {"text": yaxis}, "rangemode": "tozero", "gridcolor": "#e5e5e5"},
        shapes=shapes,
        annotations=notes,
        hovermode="x unified",
    )
    return {"data": traces, "layout": layout}


def _line(name: str, x: list[str], y: list[float], **extra: Any) -> dict[str, Any]:
    trace = {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": x,
        "y": y,
        "line": {"shape": "hv", "width": 1.5},
    }
    trace.update(extra)
    return trace


def level_figure(
    result: RunResult, title: str, yaxis: str, names: Mapping[str, str]
) -> Figure | None:
    """Levels (label → series name) over time, outages shaded."""
    series = result.series
    if series is None:
        return None
    x = bin_times(series)
    traces = [
        _line(label, x, series.levels[name])
        for label, name in names.items()
        if name in series.levels
    ]
    return _time_figure(series, title, yaxis, traces)


def queue_figure(result: RunResult) -> Figure | None:
    names = {pool: queue_name(pool) for pool in result.agencies}
    return level_figure(
        result,
        "Queue at each agency pool: requests delivered, not yet worked on (mean over each bin)",
        "requests waiting",
        names,
    )


def busy_figure(result: RunResult) -> Figure | None:
    names = {
        f"{pool} ({load.servers} clerks)": busy_name(pool) for pool, load in result.agencies.items()
    }
    return level_figure(
        result,
        "Busy clerks at each agency pool (mean over each bin)",
        "clerks at work",
        names,
    )


def open_cases_figure(result: RunResult) -> Figure | None:
    names = {flow_id: open_name(flow_id) for flow_id in result.flow_ids}
    return level_figure(
        result, "Open cases (at the end of each bin)", "cases started, not complete", names
    )


def rates_figure(result: RunResult) -> Figure | None:
    """Cases per day, over groups of bins at least a day long: agencies close at night, so
    completions per hour would only show the office hours."""
    series = result.series
    if series is None:
        return None
    group = max(1, math.ceil(DAY / series.bin_seconds - 1e-9))
    x = bin_times(series)[::group]
    per_day = DAY / (series.bin_seconds * group)
    traces = []
    for index, flow_id in enumerate(result.flow_ids):
        colour = COLOURS[index % len(COLOURS)]
        for label, name, dash in (
            ("arrivals", arrivals_name(flow_id), "solid"),
            ("completions", completions_name(flow_id), "dot"),
        ):
            counts = series.counts.get(name)
            if counts is not None:
                rates = [
                    round(sum(counts[i : i + group]) * per_day, 3)
                    for i in range(0, len(counts), group)
                ]
                # a flow's arrivals and completions in one colour, toggled together
                line = {"shape": "hv", "dash": dash, "color": colour}
                traces.append(_line(f"{flow_id} {label}", x, rates, line=line, legendgroup=flow_id))
    days = group * series.bin_seconds / DAY
    return _time_figure(
        series, f"Arrivals and completions per day (over {days:.3g} d)", "cases per day", traces
    )


# -- hops and platform --------------------------------------------------------------------------

BAR_STATS = ("p50", "p90", "p99")


def _bars(
    labels: list[str], summaries: list[Mapping[str, float | int]], scale: float, unit: str
) -> list[dict[str, Any]]:
    traces = []
    for stat in BAR_STATS:
        values = [float(s[stat]) for s in summaries]
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": stat,
                "y": labels,
                "x": [v if v > 0 else None for v in values],
                "text": [
                    format_seconds(v * scale) if unit == "s" else f"{v:.3g} ms" for v in values
                ],
                "textposition": "none",
                "hovertemplate": "%{y} " + stat + ": %{text}<extra></extra>",
            }
        )
    return traces


def _bar_figure(title: str, labels: list[str], traces: list[dict[str, Any]], axis: dict) -> Figure:
    layout = _layout(
        title,
        barmode="group",
        height=max(280, 120 + 55 * len(labels)),
        xaxis=axis,
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    return {"data": traces, "layout": layout}


def hops_figure(result: RunResult) -> Figure | None:
    """Where a request's time goes between agencies and the platform (business seconds)."""
    keys = [key for key in result.latency if key.startswith(hop_key(""))]
    keys = [key for key in keys if result.latency[key]["count"]]
    if not keys:
        return None
    summaries = [result.latency[key] for key in keys]
    labels = [key.removeprefix(hop_key("")) for key in keys]
    values = [float(s[stat]) for s in summaries for stat in BAR_STATS]
    return _bar_figure(
        "Per-hop split (business time)",
        labels,
        _bars(labels, summaries, 1.0, "s"),
        _time_axis(values, "seconds (log scale)"),
    )


def platform_figure(result: RunResult) -> Figure | None:
    """On Kafka: what the platform really took, in wall-clock milliseconds, end to end and per
    hop."""
    keys = [key for key, s in result.platform_ms.items() if s["count"]]
    if not keys:
        return None
    summaries = [result.platform_ms[key] for key in keys]
    values = [float(s[stat]) for s in summaries for stat in BAR_STATS]
    positive = [v for v in values if v > 0] or [1.0]
    return _bar_figure(
        "Platform latency (wall clock, milliseconds)",
        keys,
        _bars(keys, summaries, 1.0, "ms"),
        {
            "type": "log",
            "title": {"text": "milliseconds (log scale)"},
            "range": [math.log10(min(positive)) - 0.3, math.log10(max(positive)) + 0.3],
            "gridcolor": "#e5e5e5",
        },
    )
