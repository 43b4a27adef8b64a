"""The comparison as one self-contained HTML page: the gate's outcome, the tables, and the two
runs' latency curves and queues drawn over each other."""

from __future__ import annotations

from typing import Any

from govstream.durations import format_seconds
from govstream.pipeline.series import queue_name
from govstream.report.charts import (
    DAY,
    NINES_TICKS,
    _layout,
    _percent,
    _time_axis,
    nines,
)
from govstream.report.compare import describe
from govstream.report.html_page import (
    chart_html,
    esc,
    heading_html,
    page,
    table_html,
    verdict_cells,
)
from govstream.report.tables import Table, flow_metrics
from govstream.result import FlowInfo, RunResult

Figure = dict[str, Any]
RUN_DASH = {"first": "solid", "second": "dash"}
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
"""plotly's default colours, fixed per line so a step has one colour in both runs."""


def _curve_traces(run: RunResult, label: str, flow: FlowInfo) -> list[dict[str, Any]]:
    curves = run.curves
    if curves is None:
        return []
    points = [(i, p) for i, p in enumerate(curves.percentiles) if p < 100.0]
    traces = []
    for index, (name, key) in enumerate(flow_metrics(flow, curves.latency, ("acted",))):
        values = curves.latency[key]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{name} ({label})",
                "legendgroup": name,
                "x": [nines(p) for _, p in points],
                "y": [values[i] if values[i] > 0 else None for i, _ in points],
                "text": [format_seconds(values[i]) for i, _ in points],
                "customdata": [_percent(p) for _, p in points],
                "hovertemplate": "%{fullData.name}<br>%{customdata}: %{text}<extra></extra>",
                "line": {
                    "dash": RUN_DASH[label],
                    "width": 2.5 if index == 0 else 1.5,
                    "color": PALETTE[index % len(PALETTE)],
                },
            }
        )
    return traces


def latency_overlay(first: RunResult, second: RunResult, flow_id: str) -> Figure | None:
    flow = next(f for f in first.flows if f.id == flow_id)
    data = _curve_traces(first, "first", flow) + _curve_traces(second, "second", flow)
    if not data:
        return None
    values = [y for trace in data for y in trace["y"]]
    layout = _layout(
        f"{flow_id}: latency by percentile, first run solid, second dashed",
        xaxis={
            "title": {"text": "percentile"},
            "tickvals": [nines(p) for p in NINES_TICKS],
            "ticktext": [_percent(p) for p in NINES_TICKS],
            "gridcolor": "#e5e5e5",
            "zeroline": False,
        },
        yaxis=_time_axis(values, "business latency (log scale)"),
    )
    return {"data": data, "layout": layout}


def queue_overlay(first: RunResult, second: RunResult) -> Figure | None:
    """Each pool both runs have, by days since each run's start (the starts may differ)."""
    if first.series is None or second.series is None:
        return None
    data = []
    pools = [pool for pool in first.agencies if pool in second.agencies]
    for index, pool in enumerate(pools):
        for label, run in (("first", first), ("second", second)):
            series = run.series
            assert series is not None
            levels = series.levels.get(queue_name(pool))
            if levels is None:
                continue
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{pool} ({label})",
                    "legendgroup": pool,
                    "x": [round(i * series.bin_seconds / DAY, 4) for i in range(series.bins)],
                    "y": levels,
                    "line": {
                        "shape": "hv",
                        "dash": RUN_DASH[label],
                        "width": 1.5,
                        "color": PALETTE[index % len(PALETTE)],
                    },
                }
            )
    if not data:
        return None
    layout = _layout(
        "Queue at each agency pool, first run solid, second dashed",
        xaxis={"title": {"text": "days since the run's start"}, "gridcolor": "#e5e5e5"},
        yaxis={"title": {"text": "requests waiting"}, "rangemode": "tozero"},
        hovermode="x unified",
    )
    return {"data": data, "layout": layout}


def render_comparison(
    first: RunResult,
    second: RunResult,
    tables: list[Table],
    warnings: list[str],
    failures: list[str],
) -> str:
    figures: dict[str, Figure] = {}
    body = [
        f"<h1>govstream compare: {esc(first.scenario_name)} → {esc(second.scenario_name)}</h1>",
        heading_html([("first", describe(first)), ("second", describe(second))]),
    ]
    body += [f'<div class="banner warn">WARNING: {esc(w)}</div>' for w in warnings]
    if failures:
        body += [f'<div class="banner bad">FAILED {esc(f)}</div>' for f in failures]
    body += [table_html(table, title_level=2, cell_html=verdict_cells) for table in tables]
    body.append("<h2>Latency distributions</h2>")
    shared = [f for f in first.flow_ids if f in second.flow_ids]
    for flow_id in shared:
        figure = latency_overlay(first, second, flow_id)
        if figure is not None:
            figures[f"latency-{flow_id}"] = figure
            body.append(chart_html(f"latency-{flow_id}"))
    queue = queue_overlay(first, second)
    if queue is not None:
        body.append("<h2>Over time</h2>")
        figures["queue"] = queue
        body.append(chart_html("queue"))
    return page(f"govstream compare: {first.scenario_name} → {second.scenario_name}", body, figures)
