"""Checking a run's latencies against the scenario's targets, and saying where each came from.

A verdict is `met` only if it holds whatever the cases still open at the end turn out to take,
`missed` if it fails even with them counted at their age, and `undecided` in between: the run
ended before it could tell. Over replications the same three words come from the 95 %
confidence interval of the statistic instead of one run's value.
"""

from __future__ import annotations

from collections.abc import Mapping

from govstream.metrics import LatencySummary
from govstream.pipeline.book import case_key, span_key, step_key
from govstream.result import Interval, Summary, TargetVerdict, Verdict
from govstream.scenario.model import Scenario, Target
from processors import FLOWS

SCALES = ("latency", "working_days", "legal_working_days")
"""Clock seconds; working days as office time; working days as the law counts them."""


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


def target_scale(target: Target) -> str:
    """Which of the run's tables a target reads."""
    if not target.within.is_working_days:
        return "latency"
    return "working_days" if target.working_days == "office" else "legal_working_days"


def judge(lower: float, upper: float | None, limit: float) -> Verdict:
    """`lower`: the statistic with open values at their age; `upper`: with them never ending
    (None: unbounded). Met only if even the upper holds; missed if even the lower fails."""
    if lower > limit:
        return "missed"
    if upper is not None and upper <= limit:
        return "met"
    return "undecided"


def evaluate_targets(
    scenario: Scenario,
    latency: Mapping[str, Summary],
    working_days: Mapping[str, Summary],
    legal_days: Mapping[str, Summary] | None = None,
    intervals: Mapping[str, Mapping[str, Mapping[str, Interval]]] | None = None,
) -> list[TargetVerdict]:
    tables = {
        "latency": latency,
        "working_days": working_days,
        "legal_working_days": legal_days or {},
    }
    verdicts: list[TargetVerdict] = []
    for target in scenario.targets:
        flow_id = scenario.target_flow(target)
        quotes = {t.measure: t.quote_zh for t in FLOWS[flow_id].plan_targets}
        scale = target_scale(target)
        for on, key in target_metrics(scenario, target):
            interval = None
            if intervals is not None:
                interval = intervals.get(scale, {}).get(key, {}).get(target.stat)
            verdicts.append(_verdict(target, flow_id, on, tables[scale].get(key), interval, quotes))
    return verdicts


def _verdict(
    target: Target,
    flow_id: str,
    on: str,
    data: Summary | None,
    interval: Interval | None,
    quotes: Mapping[str, str],
) -> TargetVerdict:
    in_working_days = target.within.is_working_days
    limit = float(
        (target.within.working_days if in_working_days else target.within.clock_seconds()) or 0.0
    )
    summary = LatencySummary.from_data(dict(data)) if data else None
    observed: float | None = None
    upper: float | None = None
    at_least = False
    verdict: Verdict = "no data"
    bounds: list[float] | None = None
    if interval is not None:
        observed, at_least = interval.mean, interval.at_least
        upper = interval.upper_high if at_least else interval.high
        bounds = [interval.low, interval.high]
        verdict = judge(interval.low, upper, limit)
    elif summary is not None and summary.total:
        observed = summary.stat(target.stat)
        upper = summary.upper_of(target.stat)
        at_least = summary.at_least(target.stat)
        verdict = judge(observed, upper, limit)
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
        met={"met": True, "missed": False}.get(verdict),
        source=target.source,
        measure=target.measure,
        quote=quotes.get(target.measure or "") if target.source == "plan" else None,
        note=target.note,
        verdict=verdict,
        working_days=target.working_days if in_working_days else None,
        open=summary.open if summary is not None else 0,
        at_least=at_least,
        upper=upper,
        interval=bounds,
    )
