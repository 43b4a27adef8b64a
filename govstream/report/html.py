"""report.html: the run for a reviewer, top to bottom, from result.json alone.

Verdicts come first (plan against author targets, each with its measure and the plan's words),
then the inputs that produced them, the latency distributions, the agencies' queues and the open
cases over time with outages shaded, the per-hop split and, on Kafka, the platform's own
latencies; every table of the Markdown summary follows.
"""

from __future__ import annotations

from typing import Any

from govstream.report import charts, why
from govstream.report.html_page import (
    badge,
    chart_html,
    esc,
    heading_html,
    note_html,
    page,
    plotly_version,
    table_html,
    verdict_cells,
)
from govstream.report.inputs import input_tables
from govstream.report.latency_panels import latency_figures
from govstream.report.tables import (
    all_tables,
    condition_text,
    heading,
    observed_text,
    sla_summary,
    verdict_on,
    verdict_word,
)
from govstream.result import RunResult, TargetVerdict

Figure = dict[str, Any]

LATENCY_CAPTION = (
    "Business latency from each case's intended emit time to each step's outcome, to the "
    "whole case and over each span, by percentile, a flow's lines split into panels of "
    "related steps. Every latency a target is set on is drawn with its target in the line's "
    "colour: × at the target's percentile and limit, or a dashed line at the limit of a mean "
    "or a maximum. Targets in working days are not converted to clock time, since a working "
    "day's length in hours depends on the weekends and holidays it spans: they are drawn on a "
    "panel of their own, in working days counted as the target counts them (as the law counts "
    "a deadline, whole working days after the day of receipt, at the run's p50, p90, p99 and "
    "p99.9; or as office time)."
)


def _verdict_row(verdict: TargetVerdict, quoted: set[tuple[str, str, str]]) -> str:
    """One verdict; the plan's words and the author's note only where they first appear, as a
    target on every step gives one verdict per step."""
    source = f"plan {esc(verdict.measure)}" if verdict.source == "plan" else "the scenario's author"
    words = []
    if verdict.quote and ("quote", verdict.flow, verdict.quote) not in quoted:
        quoted.add(("quote", verdict.flow, verdict.quote))
        words.append(f"<blockquote>«{esc(verdict.quote)}»</blockquote>")
    if verdict.note and ("note", verdict.flow, verdict.id) not in quoted:
        quoted.add(("note", verdict.flow, verdict.id))
        words.append(note_html(verdict.note))
    cells = [
        badge(verdict_word(verdict)),
        esc(verdict.flow),
        esc(verdict.id),
        esc(
            f"{verdict.stat} of {verdict_on(verdict)} ≤ {verdict.within}"
            if verdict.unit in ("s", "wd")
            else f"{verdict.step} {condition_text(verdict)}"
        ),
        esc(observed_text(verdict)),
        source + "".join(words),
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def verdicts_html(result: RunResult) -> list[str]:
    """Plan targets first, then the author's: a reviewer reads what the plan demands first."""
    if not result.targets:
        return ["<h2>Verdicts</h2>", "<p>This scenario sets no targets.</p>"]
    ok = result.targets_met
    kind = "good" if ok else "bad"
    parts = [
        "<h2>Verdicts</h2>",
        f'<div class="banner {kind}">SLA: {esc(sla_summary(result))}</div>',
    ]
    quoted: set[tuple[str, str, str]] = set()
    for source, title in (("plan", "Targets the plan sets"), ("author", "The author's targets")):
        verdicts = [v for v in result.targets if v.source == source]
        if not verdicts:
            continue
        parts += [
            f"<h3>{title}</h3>",
            "<table><thead><tr><th>verdict</th><th>flow</th><th>target</th><th>measure</th>"
            "<th>observed</th><th>source</th></tr></thead><tbody>",
            *(_verdict_row(v, quoted) for v in verdicts),
            "</tbody></table>",
        ]
    return parts


def _charts(figures: dict[str, Figure], items: list[tuple[str, Figure | None]]) -> list[str]:
    parts = []
    for chart_id, figure in items:
        if figure is not None:
            figures[chart_id] = figure
            parts.append(chart_html(chart_id))
    return parts


def why_html(figures: dict[str, Figure], result: RunResult) -> list[str]:
    """A stacked bar per target: where its deciding cases' time went (the tables with every
    latency's parts and what would have to shrink are with all figures, below)."""
    chart = _charts(figures, [("why", why.why_figure(result))])
    if not chart:
        return []
    return [
        "<h2>Where the time went</h2>",
        f'<p class="note">{esc(why.NOTE)}. What a missed target would need, and every '
        "latency's slowest tenth, are in the tables under All figures.</p>",
        *chart,
    ]


def render_html(result: RunResult) -> str:
    figures: dict[str, Figure] = {}
    description = str(result.scenario.get("description") or "").strip()
    body = [f"<h1>govstream run: {esc(result.scenario_name)}</h1>"]
    if description:
        body.append(f'<p class="lede">{esc(description)}</p>')
    body.append(heading_html(heading(result)))
    body += verdicts_html(result)
    body += why_html(figures, result)

    body.append("<h2>Inputs</h2>")
    body += [table_html(table) for table in input_tables(result)]

    body.append("<h2>Latency distributions</h2>")
    body.append(f'<p class="note">{esc(LATENCY_CAPTION)}</p>')
    latency = []
    for flow in result.flows:
        panels = _charts(figures, list(latency_figures(result, flow)))
        if panels:
            latency += [f"<h3>{esc(flow.id)}: {esc(flow.title)}</h3>", *panels]
    body += latency or ["<p>No latency was recorded.</p>"]

    body.append("<h2>Over time</h2>")
    if result.series is None:
        body.append("<p>This result has no time series (written by an older govstream).</p>")
    else:
        hours = result.series.bin_seconds / 3600
        body.append(
            f'<p class="note">In bins of {hours:.3g} h of business time; outage windows are '
            "shaded. A request is queued from its delivery until a clerk starts on it (waiting "
            "for a free clerk or for the office to open), then keeps its clerk busy until its "
            "outcome; work that runs past closing time keeps the clerk until it is done.</p>"
        )
        body += _charts(
            figures,
            [
                ("queue", charts.queue_figure(result)),
                ("open-cases", charts.open_cases_figure(result)),
                ("rates", charts.rates_figure(result)),
                ("busy", charts.busy_figure(result)),
            ],
        )

    body.append("<h2>Per-hop split</h2>")
    body += _charts(figures, [("hops", charts.hops_figure(result))]) or [
        "<p>No hop was measured.</p>"
    ]
    platform = _charts(figures, [("platform", charts.platform_figure(result))])
    if platform:
        body += ["<h2>Platform latency (Kafka)</h2>", *platform]

    body.append("<h2>All figures</h2>")
    body += [table_html(table, cell_html=verdict_cells) for table in all_tables(result)]
    versions = ", ".join(f"{k} {v}" for k, v in result.engine.versions.items())
    body.append(
        f"<footer>Rendered from result.json ({esc(result.result_schema)}); {esc(versions)}; "
        f"charts by plotly.js from plotly {esc(plotly_version())}, inlined.</footer>"
    )
    return page(f"govstream: {result.scenario_name}", body, figures)
