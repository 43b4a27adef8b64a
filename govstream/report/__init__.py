"""Renderings of a RunResult: a console table and a Markdown summary, from the same rows."""

from govstream.report.console import print_report
from govstream.report.markdown import render_markdown

__all__ = ["print_report", "render_markdown"]
