"""The plan's time targets as `govstream flows` and `validate` show them."""

from __future__ import annotations

from rich.table import Table

from govstream.engines.results import not_checkable_info, unchecked_info
from govstream.plan.targets import plan_target_rows
from govstream.report.console import escape
from govstream.scenario.model import Scenario


def plan_targets_table() -> Table:
    """Every time target of the plan, as the data that checks `source: plan` targets."""
    table = Table(
        title="The plan's time targets: a target with source: plan is checked against these",
        title_justify="left",
        caption="WD = working days (工作日), counted as a legal deadline; days = calendar days "
        "(日); where the plan gives a word, a scenario reads it as a number and says how in "
        "its target's note",
        caption_justify="left",
    )
    for column in ("flow", "measure", "what", "target", "span"):
        table.add_column(column)
    table.add_column("the plan's words", overflow="fold")
    for row in plan_target_rows():
        table.add_row(*(escape(cell) for cell in row))
    return table


def unchecked_lines(scenario: Scenario) -> list[str]:
    """What `validate` says of the plan's numbers no target of the scenario checks."""
    return [
        f"plan target not checked: {u.flow} {u.measure} {u.what} ({u.limit}, span {u.span}): "
        "a run will say so, and --fail-on-sla exits 3"
        for u in unchecked_info(scenario)
    ]


def not_checkable_lines(scenario: Scenario) -> list[str]:
    """What `validate` says of the plan's targets no run can check (go-live dates)."""
    return [
        f"plan target no run can check: {u.flow} {u.measure} {u.what} ({u.limit}): {u.reason}"
        for u in not_checkable_info(scenario)
    ]
