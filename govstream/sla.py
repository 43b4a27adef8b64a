"""Checking a run's latencies against the scenario's targets, and saying where each came from."""

from __future__ import annotations

from collections.abc import Mapping

from govstream.metrics import LatencySummary
from govstream.pipeline.book import case_key, span_key, step_key
from govstream.result import Summary, TargetVerdict
from govstream.scenario.model import Scenario, Target
from processors import FLOWS


def target_metrics(scenario: Scenario, target: Target) -> list[tuple[str, str]]:
    """(what the verdict is on, the metric it reads) for each verdict the target yields."""
    flow_id = scenario.target_flow(target)
    if target.of == "case":
        return [("case", case_key(flow_id))]
    if target.of == "span":
        return [(target.span_id, span_key(flow_id, target.span_id))]
    flow = FLOWS[flow_id]
    if target.step == "all":
        steps = [step.id for step in flow.steps if not step.is_wait]
    else:
        steps = [target.step]
    return [(step, step_key(flow_id, target.of, step)) for step in steps]


def evaluate_targets(
    scenario: Scenario,
    latency: Mapping[str, Summary],
    working_days: Mapping[str, Summary],
) -> list[TargetVerdict]:
    verdicts: list[TargetVerdict] = []
    for target in scenario.targets:
        flow_id = scenario.target_flow(target)
        quotes = {t.measure: t.quote_zh for t in FLOWS[flow_id].plan_targets}
        for on, key in target_metrics(scenario, target):
            verdicts.append(_verdict(target, flow_id, on, key, latency, working_days, quotes))
    return verdicts


def _verdict(
    target: Target,
    flow_id: str,
    on: str,
    key: str,
    latency: Mapping[str, Summary],
    working_days: Mapping[str, Summary],
    quotes: Mapping[str, str],
) -> TargetVerdict:
    in_working_days = target.within.is_working_days
    table = working_days if in_working_days else latency
    limit = float(
        (target.within.working_days if in_working_days else target.within.clock_seconds()) or 0.0
    )
    data = table.get(key)
    observed: float | None = None
    if data and data["count"]:
        observed = LatencySummary.from_data(data).stat(target.stat)
    return TargetVerdict(
        id=target.id,
        flow=flow_id,
        of=target.of,
        step=on,
        stat=target.stat,
        within=str(target.within),
        unit="wd" if in_working_days else "s",
        limit=limit,
        observed=observed,
        met=None if observed is None else observed <= limit,
        source=target.source,
        measure=target.measure,
        quote=quotes.get(target.measure or "") if target.source == "plan" else None,
        note=target.note,
    )
