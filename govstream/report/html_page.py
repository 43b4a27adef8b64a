"""One self-contained HTML page: styles, tables, and Plotly charts with the library inlined.

The page must open from a mail attachment or an air-gapped review machine, so nothing is
fetched: plotly.js is read from the `plotly` wheel's package data and written into the page.
Figures are passed as JSON and drawn when the page loads; the body's `data-charts` attribute
turns `drawn` once every chart has rendered (or `failed`), which the browser test waits for.
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
from collections.abc import Iterable, Mapping
from importlib import metadata
from importlib.resources import files
from typing import Any

from govstream.report.tables import Table

STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC",
  "Microsoft YaHei", "WenQuanYi Zen Hei", sans-serif; margin: 0 auto;
  max-width: 1180px; padding: 24px 28px 60px; color: #1d1d1f; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; margin-top: 40px; border-bottom: 2px solid #e5e5e5; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 22px 0 6px; }
.lede { color: #444; margin-top: 0; }
dl.heading { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dl.heading dt { font-weight: 600; }
dl.heading dd { margin: 0; }
table { border-collapse: collapse; margin: 8px 0 4px; font-size: 13.5px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 4px 10px; text-align: left;
  vertical-align: top; }
th { background: #f5f5f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { color: #555; font-size: 13px; margin: 2px 0 12px; }
ul.note { padding-left: 20px; }
ul.note li { margin: 2px 0; }
ul.note ul { margin: 0; padding-left: 18px; }
td ul.note { margin: 2px 0 0; padding-left: 16px; }
.subject { font-weight: 600; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600;
  font-size: 12.5px; }
.met { background: #e3f4e6; color: #17692b; }
.missed { background: #fde4e4; color: #a4161a; }
.nodata { background: #fff3d6; color: #8a5a00; }
.banner { padding: 10px 14px; border-radius: 6px; margin: 14px 0; font-weight: 600; }
.banner.bad { background: #fde4e4; color: #a4161a; }
.banner.good { background: #e3f4e6; color: #17692b; }
.banner.warn { background: #fff3d6; color: #8a5a00; }
.chart { width: 100%; min-height: 260px; margin: 10px 0 18px; }
blockquote { margin: 4px 0; padding-left: 10px; border-left: 3px solid #ccc; color: #333; }
footer { margin-top: 40px; color: #666; font-size: 12.5px; }
"""

DRAW = """
(function () {
  const figures = JSON.parse(document.getElementById("figures").textContent);
  const drawn = Object.entries(figures).map(([id, fig]) =>
    Plotly.newPlot(id, fig.data, fig.layout, {displaylogo: false, responsive: true}));
  Promise.all(drawn).then(
    () => { document.body.dataset.charts = "drawn"; },
    (error) => { document.body.dataset.charts = "failed"; throw error; });
})();
"""

NUMERIC_CLASS = ' class="num"'


@functools.cache
def plotly_js() -> str:
    """plotly.js as shipped inside the plotly wheel (its package data), read once."""
    return files("plotly").joinpath("package_data", "plotly.min.js").read_text(encoding="utf-8")


def plotly_version() -> str:
    try:
        return metadata.version("plotly")
    except metadata.PackageNotFoundError:
        return "unknown"


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def badge(word: str) -> str:
    kind = {"met": "met", "MISSED": "missed"}.get(word, "nodata")
    return f'<span class="badge {kind}">{esc(word)}</span>'


def table_html(table: Table, *, title_level: int = 3, cell_html: Any = None) -> str:
    """A report table; `cell_html(column, text)` may render a cell as markup instead of text."""
    parts = [f"<h{title_level}>{esc(table.title)}</h{title_level}>", "<table>", "<thead><tr>"]
    parts += [f"<th>{esc(header)}</th>" for header in table.headers]
    parts.append("</tr></thead><tbody>")
    numeric = [index > 0 and table.numeric(index) for index in range(len(table.headers))]
    for row in table.rows:
        cells = []
        for index, cell in enumerate(row):
            inner = cell_html(table.headers[index], cell) if cell_html else None
            css = NUMERIC_CLASS if numeric[index] else ""
            cells.append(f"<td{css}>{inner if inner is not None else esc(cell)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    if table.points:
        parts.append(points_html(table.points))
    elif table.note:
        parts.append(f'<p class="note">{esc(table.note)}</p>')
    return "\n".join(parts)


OPENING = {"(": ")", "[": "]", "«": "»", "“": "”", "（": "）"}
SUBJECT = re.compile(r"(F\d\d [^:;«(]{1,80}?): (.+)", re.S)
"""`F04 water-within-9wd: the plan says …`: a point about one flow's target or measure."""


def clauses(text: str) -> list[str]:
    """A note's clauses: authors join separate points with `; `, so split there, but never
    inside brackets or quotes, where a `;` belongs to what is quoted."""
    parts, depth, start = [], [], 0
    for index, char in enumerate(text):
        if char in OPENING:
            depth.append(OPENING[char])
        elif depth and char == depth[-1]:
            depth.pop()
        elif char == ";" and not depth and text[index + 1 : index + 2] == " ":
            parts.append(text[start:index].strip())
            start = index + 2
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def _clauses_html(text: str) -> str:
    found = clauses(text)
    if len(found) == 1:
        return esc(found[0])
    return "<ul>" + "".join(f"<li>{esc(clause)}</li>" for clause in found) + "</ul>"


def points_html(points: Iterable[str]) -> str:
    """A note of many points as a list, one item per point: a point about a target (`F04
    water-within-9wd: …`) leads with the target, and its clauses, where it has several,
    are a list of their own, as one long paragraph of them cannot be read."""
    items = []
    for point in points:
        subject = SUBJECT.fullmatch(point)
        if subject:
            head, body = subject.groups()
            found = clauses(body)
            sep = "" if len(found) > 1 else ": "
            items.append(
                f'<li><span class="subject">{esc(head)}</span>{sep}{_clauses_html(body)}</li>'
            )
        else:
            items += [f"<li>{esc(clause)}</li>" for clause in clauses(point)]
    return '<ul class="note">' + "".join(items) + "</ul>"


def note_html(text: str) -> str:
    """One target's note: its clauses as a list where it has several."""
    return '<ul class="note">' + "".join(f"<li>{esc(c)}</li>" for c in clauses(text)) + "</ul>"


def verdict_cells(header: str, cell: str) -> str | None:
    """Verdict words as coloured badges wherever a table shows them."""
    if cell in ("met", "MISSED", "no data"):
        return badge(cell)
    for word in ("MISSED", "met", "no data"):
        if cell.startswith(word + " ("):
            return badge(word) + " " + esc(cell[len(word) :].strip())
    return None


def heading_html(items: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in items)
    return f'<dl class="heading">{rows}</dl>'


def chart_html(chart_id: str) -> str:
    return f'<div class="chart" id="{esc(chart_id)}"></div>'


def _finite(data: Any) -> Any:
    """NaN and infinities become null: JSON.parse refuses them, and a chart shows a gap."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no `</` can close it early."""
    text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def page(title: str, body: Iterable[str], figures: Mapping[str, Any]) -> str:
    """The whole document: styles, body, figures as JSON, plotly.js and the drawing script."""
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            '<body data-charts="pending">',
            *body,
            f'<script type="application/json" id="figures">{_script_json(dict(figures))}</script>',
            f"<script>{plotly_js()}</script>",
            f"<script>{DRAW}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )
