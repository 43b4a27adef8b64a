"""summary.md: the report for a pull request or a review, from the shared tables."""

from __future__ import annotations

from govstream.report.inputs import input_tables
from govstream.report.tables import Table, all_tables, heading, reports_verdict, sla_summary
from govstream.result import RunResult

HTML_NAME = "report.html"
"""The HTML report a run writes beside summary.md, which links it."""


def _pipe(cell: str) -> str:
    return cell.replace("|", "\\|")


def _markdown_table(table: Table) -> list[str]:
    lines = [f"## {table.title}", ""]
    lines.append("| " + " | ".join(table.headers) + " |")
    aligns = ["---:" if i > 0 and table.numeric(i) else "---" for i in range(len(table.headers))]
    lines.append("|" + "|".join(aligns) + "|")
    lines.extend("| " + " | ".join(_pipe(c) for c in row) + " |" for row in table.rows)
    if table.note:
        lines += ["", f"_{table.note}_"]
    return [*lines, ""]


def render_markdown(result: RunResult) -> str:
    lines = [f"# govstream run: {result.scenario_name}", ""]
    lines.extend(f"- **{label}**: {_pipe(value)}" for label, value in heading(result))
    versions = ", ".join(f"{k} {v}" for k, v in result.engine.versions.items())
    lines += [f"- **versions**: {versions}", ""]
    if reports_verdict(result):
        lines += [f"**SLA: {sla_summary(result)}.**", ""]
    lines += [
        f"Charts (latency distributions, queues and open cases over time, outages shaded): "
        f"[{HTML_NAME}]({HTML_NAME}).",
        "",
    ]
    for table in [*input_tables(result), *all_tables(result)]:
        lines.extend(_markdown_table(table))
    return "\n".join(lines)
