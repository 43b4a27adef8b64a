"""Checking a run's latencies against the scenario's targets, and saying where each came from."""

from __future__ import annotations

from collections.abc import Mapping

from govstream.metrics import LatencySummary
from govstream.result import Summary, TargetVerdict
from govstream.scenario.model import Scenario, Target
from processors.flow import FlowSpec


def metric_key(of: str, recipient: str | None = None) -> str:
    """The name a latency is stored under in result.json: `case`, `acted:police`, ..."""
    return of if of == "case" else f"{of}:{recipient}"


def evaluate_targets(
    scenario: Scenario,
    flow: FlowSpec,
    latency: Mapping[str, Summary],
    working_days: Mapping[str, Summary],
) -> list[TargetVerdict]:
    verdicts: list[TargetVerdict] = []
    quotes = {target.measure: target.quote_zh for target in flow.plan_targets}
    for target in scenario.targets:
        if target.of == "case":
            recipients: tuple[str | None, ...] = (None,)
        elif target.recipient == "all":
            recipients = flow.recipients
        else:
            recipients = (target.recipient,)
        for recipient in recipients:
            verdicts.append(_verdict(target, recipient, latency, working_days, quotes))
    return verdicts


def _verdict(
    target: Target,
    recipient: str | None,
    latency: Mapping[str, Summary],
    working_days: Mapping[str, Summary],
    quotes: Mapping[str, str],
) -> TargetVerdict:
    in_working_days = target.within.is_working_days
    table = working_days if in_working_days else latency
    limit = target.within.working_days if in_working_days else target.within.clock_seconds()
    data = table.get(metric_key(target.of, recipient))
    observed: float | None = None
    if data and data["count"]:
        observed = LatencySummary.from_data(data).stat(target.stat)
    return TargetVerdict(
        id=target.id,
        of=target.of,
        recipient=recipient or "case",
        stat=target.stat,
        within=str(target.within),
        unit="wd" if in_working_days else "s",
        limit=float(limit or 0.0),
        observed=observed,
        met=None if observed is None else observed <= float(limit or 0.0),
        source=target.source,
        measure=target.measure,
        quote=quotes.get(target.measure or "") if target.source == "plan" else None,
        note=target.note,
    )
