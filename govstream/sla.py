"""Checking a run's latencies against the scenario's targets, and saying where each came from.

A verdict is `met` only if it holds whatever the cases still open at the end turn out to take,
`missed` if it fails even with them counted at their age, and `undecided` in between: the run
ended before it could tell. Over replications the same three words come from the 95 %
confidence interval of the statistic instead of one run's value.

A rate target (`of: rate`) is judged the same way over counts: the share of the cases a step fell
due in that it was acted on is met only if it holds with every case still open at the cut-off
counted as failed, missed if it fails even with them all counted as done, undecided in between.
On a step done per item the counts are its items' (`Ledger.rates`).

On Kafka a statistic is also only as exact as the order requests reached their pools in: a
request that came after one later on the business clock, and waited, may have waited for the
wrong one (`Ledger.resolution`). Where that could move the statistic across its limit the
verdict is undecided at the run's speedup, never missed, and says the largest speedup that
could decide it: the uncertainty grows with the speedup, which scales the platform's jitter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govstream.durations import format_seconds
from govstream.metrics import LatencySummary
from govstream.pipeline.book import case_key, rate_key, span_key, step_key
from govstream.result import Exposures, Interval, Summary, TallyCount, TargetVerdict, Verdict
from govstream.scenario.model import LATENCY_TARGETS, Scenario, Target
from processors import FLOWS

DAY = 86400.0
SCALES = ("latency", "working_days", "legal_working_days")
"""Clock seconds; working days as office time; working days as the law counts them."""


def target_metrics(scenario: Scenario, target: Target) -> list[tuple[str, str]]:
    """(what the verdict is on, the metric it reads) for each verdict a latency or a rate
    target yields; none for a target on exposures or a count."""
    flow_id = scenario.target_flow(target)
    if target.of == "rate":
        return [(target.step, rate_key(flow_id, target.step))]
    if target.of not in LATENCY_TARGETS:
        return []
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
    if target.of == "rate":
        return "rates"
    if not target.limit.is_working_days:
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


def judge_rate(done: int, failed: int, open_: int, limit: float) -> Verdict:
    """A share of at least `limit`: met only if `done` alone reaches it with every `open` case
    counted as failed; missed if even with them all done it falls short."""
    due = done + failed + open_
    if due == 0:
        return "no data"
    if done >= limit * due:
        return "met"
    if done + open_ < limit * due:
        return "missed"
    return "undecided"


def rate_verdict(
    target: Target, flow_id: str, on: str, counts: Mapping[str, int] | None
) -> TargetVerdict:
    """A rate target's verdict from the cases its step fell due in (`Ledger.rates`)."""
    limit = float(target.at_least or 0.0)
    done, failed, open_ = (int((counts or {}).get(key, 0)) for key in ("done", "failed", "open"))
    due = done + failed + open_
    verdict = judge_rate(done, failed, open_, limit)
    quotes = {t.measure: t.quote_zh for t in FLOWS[flow_id].plan_targets}
    return TargetVerdict(
        **_about(target, flow_id, quotes, verdict),
        step=on,
        stat="rate",
        within=f"≥ {limit * 100:g}%",
        unit="share",
        limit=limit,
        observed=done / due if due else None,
        open=open_,
        at_least=open_ > 0,
        upper=(done + open_) / due if due else None,
        due=due,
    )


@dataclass(frozen=True, slots=True)
class Resolution:
    """How far a run's latencies may be off (business seconds, by metric) at its speedup."""

    by_metric: Mapping[str, float]
    speedup: float
    office_day: float
    """Seconds of one office day, to put an uncertainty in working days."""
    platform: Mapping[str, LatencySummary] = field(default_factory=dict)
    """By metric, the platform's own wall-clock share of its values, in milliseconds."""

    def platform_seconds(self, key: str, stat: str) -> float:
        """The platform's own share of the statistic, in seconds (0 where not measured)."""
        summary = self.platform.get(key)
        return summary.stat(stat) / 1000 if summary is not None and summary.count else 0.0

    def compressed(self, stat: str, observed: float, limit: float, platform: float) -> str:
        """Why a miss on the clock is undecided: the platform's own time made it, measured
        under the load of business time compressed by the speedup."""
        return (
            f"undecided at speedup {_round(self.speedup)}: the platform's own time on this "
            f"path ({stat} {format_seconds(platform)}) was measured carrying business time "
            f"{_round(self.speedup)} times faster than real, and without it the statistic "
            f"({format_seconds(observed - platform)}) is within {format_seconds(limit)}; a run "
            f"nearer real time could decide it"
        )

    def margin(self, key: str, scale: str) -> float:
        """How far the statistic may move, in the target's unit."""
        seconds = self.by_metric.get(key, 0.0)
        if seconds <= 0:
            return 0.0
        if scale == "latency":
            return seconds
        if scale == "working_days":
            return seconds / self.office_day
        # Whole working days: any shift may carry a case across one closing time.
        return 1.0 + math.floor(seconds / DAY)

    def reason(self, key: str, observed: float, limit: float, margin: float, unit: str) -> str:
        seconds = self.by_metric[key]
        largest = max(1.0, self.speedup * abs(observed - limit) / margin)
        decide = (
            f"a run at speedup {_round(largest)} or less could decide it"
            if observed != limit
            else "a value at its limit is decided only by a run with requests kept in order"
        )
        return (
            f"undecided at speedup {_round(self.speedup)}: requests reached a busy pool out of "
            f"business order, so this statistic may be off by {format_seconds(seconds)}"
            f"{'' if unit == 's' else f' ({margin:.2g}wd)'}; {decide}"
        )


def _round(value: float) -> str:
    return f"{float(f'{value:.2g}'):g}"


@dataclass(frozen=True, slots=True)
class Beside:
    """What targets on checks and counts read: a run's exposures and counts, and the business
    day its books were cut off on (ISO date)."""

    exposures: Mapping[str, Mapping[str, Exposures]]
    tallies: Mapping[str, Mapping[str, TallyCount]]
    ended_on: str


def evaluate_targets(
    scenario: Scenario,
    latency: Mapping[str, Summary],
    working_days: Mapping[str, Summary],
    legal_days: Mapping[str, Summary] | None = None,
    intervals: Mapping[str, Mapping[str, Mapping[str, Interval]]] | None = None,
    resolution: Resolution | None = None,
    beside: Beside | None = None,
    rates: Mapping[str, Mapping[str, int]] | None = None,
) -> list[TargetVerdict]:
    """Every target's verdicts; `rates` are the run's counts of the steps rate targets are on
    (`Ledger.rates`), which neither replications' intervals nor the resolution touch: a count
    is exact at any speedup."""
    tables = {
        "latency": latency,
        "working_days": working_days,
        "legal_working_days": legal_days or {},
    }
    verdicts: list[TargetVerdict] = []
    for target in scenario.targets:
        flow_id = scenario.target_flow(target)
        if target.of == "rate":
            for on, key in target_metrics(scenario, target):
                verdicts.append(rate_verdict(target, flow_id, on, (rates or {}).get(key)))
            continue
        quotes = {t.measure: t.quote_zh for t in FLOWS[flow_id].plan_targets}
        if target.of not in LATENCY_TARGETS:
            verdicts.append(beside_verdict(target, flow_id, beside, quotes))
            continue
        scale = target_scale(target)
        for on, key in target_metrics(scenario, target):
            interval = None
            if intervals is not None:
                interval = intervals.get(scale, {}).get(key, {}).get(target.stat)
            verdict = _verdict(target, flow_id, on, tables[scale].get(key), interval, quotes)
            if resolution is not None:
                verdict = _resolved(verdict, key, scale, resolution)
            verdicts.append(verdict)
    return verdicts


def _resolved(
    verdict: TargetVerdict, key: str, scale: str, resolution: Resolution
) -> TargetVerdict:
    """Undecided where the run's order of requests could move the statistic past its limit,
    or where a miss on the clock is the platform's own time under the compressed load.

    The platform's share can only shrink with the load: a target met with it stays met, and
    one missed without it stays missed."""
    observed = verdict.observed
    if observed is None or verdict.verdict not in ("met", "missed"):
        return verdict
    margin = resolution.margin(key, scale)
    if margin > 0 and verdict.limit - margin < observed <= verdict.limit + margin:
        reason = resolution.reason(key, observed, verdict.limit, margin, verdict.unit)
        return verdict.model_copy(update={"verdict": "undecided", "met": None, "reason": reason})
    platform = resolution.platform_seconds(key, verdict.stat) if scale == "latency" else 0.0
    if verdict.verdict == "missed" and platform > 0 and observed - platform <= verdict.limit:
        reason = resolution.compressed(verdict.stat, observed, verdict.limit, platform)
        return verdict.model_copy(update={"verdict": "undecided", "met": None, "reason": reason})
    return verdict


def _verdict(
    target: Target,
    flow_id: str,
    on: str,
    data: Summary | None,
    interval: Interval | None,
    quotes: Mapping[str, str],
) -> TargetVerdict:
    within = target.limit
    in_working_days = within.is_working_days
    limit = float((within.working_days if in_working_days else within.clock_seconds()) or 0.0)
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
        **_about(target, flow_id, quotes, verdict),
        step=on,
        stat=target.stat,
        within=str(target.within),
        unit="wd" if in_working_days else "s",
        limit=limit,
        observed=observed,
        working_days=target.working_days if in_working_days else None,
        open=summary.open if summary is not None else 0,
        at_least=at_least,
        upper=upper,
        interval=bounds,
    )


def beside_verdict(
    target: Target, flow_id: str, beside: Beside | None, quotes: Mapping[str, str]
) -> TargetVerdict:
    """A target on exposures or on a count: a number of events, not a latency.

    Exposures only grow: a run over the limit has missed it, and one within it has met it
    only if no retracted record was left in a table for later checks to find. A count is met
    once it reaches its number, missed if the day it was due has passed short of it (the
    run's end, when no day is given), and undecided if the run ended before that day.
    """
    observed: int | None = None
    held = 0
    verdict: Verdict = "no data"
    if target.of == "exposures":
        assert target.at_most is not None
        limit, on, within = target.at_most, target.subscriber, f"≤ {target.at_most}"
        found = (beside.exposures if beside else {}).get(flow_id, {})
        chosen = [e for agency, e in found.items() if on in ("all", agency)]
        if chosen:
            observed = sum(e.exposures for e in chosen)
            held = sum(e.retracted_held_at_end for e in chosen)
            verdict = judge(observed, observed if held == 0 else None, limit)
    else:
        assert target.at_least is not None and target.count is not None
        limit, on = target.at_least, target.count
        within = f"≥ {target.at_least}" + (f" by {target.by}" if target.by else "")
        tally = (beside.tallies if beside else {}).get(flow_id, {}).get(target.count)
        if tally is not None and beside is not None:
            due = target.by.isoformat() if target.by else beside.ended_on
            observed = tally.by(due)
            if observed >= limit:
                verdict = "met"
            else:
                verdict = "missed" if beside.ended_on > due or not target.by else "undecided"
    return TargetVerdict(
        **_about(target, flow_id, quotes, verdict),
        step=on,
        stat="count",
        within=within,
        unit="count",
        limit=float(limit),
        observed=None if observed is None else float(observed),
        open=held,
    )


def _about(
    target: Target, flow_id: str, quotes: Mapping[str, str], verdict: Verdict
) -> dict[str, Any]:
    """What every verdict says of its target: which it is, where it comes from, and the word."""
    return {
        "id": target.id,
        "flow": flow_id,
        "of": target.of,
        "source": target.source,
        "measure": target.measure,
        "quote": quotes.get(target.measure or "") if target.source == "plan" else None,
        "note": target.note,
        "verdict": verdict,
        "met": {"met": True, "missed": False}.get(verdict),
    }
