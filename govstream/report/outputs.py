"""The files a run leaves beside its result.json, rendered from that result alone.

`govstream run` writes them after a run and `govstream report` writes them again from a
result.json, so a report of an old run can be regenerated (or restyled) without running it.
"""

from __future__ import annotations

from pathlib import Path

from govstream.report.html import render_html
from govstream.report.markdown import HTML_NAME, render_markdown
from govstream.result import RunResult

SUMMARY_NAME = "summary.md"


def write_renderings(result: RunResult, out_dir: Path) -> tuple[Path, Path]:
    """summary.md and report.html in `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path = out_dir / SUMMARY_NAME
    html_path = out_dir / HTML_NAME
    md_path.write_text(render_markdown(result), encoding="utf-8")
    html_path.write_text(render_html(result), encoding="utf-8")
    return md_path, html_path
