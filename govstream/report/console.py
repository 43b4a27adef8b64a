"""The console report, drawn with rich from the shared tables."""

from __future__ import annotations

import os

from rich.console import Console
from rich.table import Table as RichTable

from govstream.report.tables import Table, all_tables, heading, reports_verdict, sla_summary
from govstream.result import RunResult


def _rich(table: Table) -> RichTable:
    drawn = RichTable(
        title=table.title,
        title_justify="left",
        caption=escape(table.note) if table.note else None,
        caption_justify="left",
    )
    for index, header in enumerate(table.headers):
        right = index > 0 and table.numeric(index)
        # A value too long for its column folds onto the next line rather than end in "…":
        # a table is read for its values, and a narrow terminal must not hide them.
        drawn.add_column(
            header, justify="right" if right else "left", no_wrap=index == 0, overflow="fold"
        )
    for row in table.rows:
        drawn.add_row(*(_style(cell) for cell in row))
    return drawn


def _style(cell: str) -> str:
    if cell in ("MISSED", "UNDECIDED"):
        return f"[bold red]{cell}[/]"
    if cell == "met":
        return "[green]met[/]"
    return escape(cell)


def escape(text: str) -> str:
    """Text shown as written: a `[` in a scenario name or note is not rich markup."""
    return text.replace("[", "\\[")


def report_console() -> Console:
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160  # files and pipes have no width of their own; do not fold tables
    return console


def print_tables(tables: list[Table], console: Console) -> None:
    for table in tables:
        console.print(_rich(table))


def print_report(result: RunResult, console: Console | None = None) -> None:
    console = console or report_console()
    for label, value in heading(result):
        console.print(f"[bold]{escape(label)}[/]: {escape(value)}")
    print_tables(all_tables(result), console)
    if reports_verdict(result):
        style = "bold" if result.targets_met else "bold red"
        console.print(f"[{style}]{sla_summary(result)}[/]")
