"""Why a statistic is what it is: the parts of the cases that decide it, and for a missed
target, the part that would have to shrink and by how much (`breakdown` has the parts)."""

from __future__ import annotations

from collections.abc import Mapping

from govstream.pipeline.book import case_key, span_key, step_key
from govstream.pipeline.breakdown import Tail, Tails
from govstream.result import Breakdown, Shrink, Summary, TargetBreakdown, TargetVerdict

HEADLINE = "p90"
"""The statistic every latency's parts are given for: its slowest tenth."""


def deciding(tails: Tails, metric: str, scale: str, stat: str, value: float) -> Tail:
    """The cases that decide `stat`: all of them for a mean, else those at or beyond it."""
    return tails.beyond(metric, scale, None if stat == "mean" else value)


def breakdown_of(tail: Tail, stat: str, scale: str, value: float) -> Breakdown | None:
    if not tail.cases:
        return None
    return Breakdown(
        stat=stat,
        scale=scale,  # type: ignore[arg-type]
        value=value,
        cases=tail.cases,
        seconds=tail.seconds / tail.cases,
        parts=tail.means(),
        earlier=tail.earlier / tail.cases,
        complete=tail.complete,
    )


def latency_breakdowns(tails: Tails, latency: Mapping[str, Summary]) -> dict[str, Breakdown]:
    """Every latency split for its headline statistic, on the clock."""
    found: dict[str, Breakdown] = {}
    for metric in tails.metrics():
        data = latency.get(metric)
        if not data or not data.get("count"):
            continue
        value = float(data[HEADLINE])
        tail = deciding(tails, metric, "latency", HEADLINE, value)
        breakdown = breakdown_of(tail, HEADLINE, "latency", value)
        if breakdown is not None:
            found[metric] = breakdown
    return found


def verdict_metric(verdict: TargetVerdict) -> str | None:
    """The latency a verdict reads; None for a rate, exposures or a count."""
    if verdict.of == "case":
        return case_key(verdict.flow)
    if verdict.of == "span":
        return span_key(verdict.flow, verdict.step)
    if verdict.of in ("delivered", "acted"):
        return step_key(verdict.flow, verdict.of, verdict.step)
    return None


def verdict_scale(verdict: TargetVerdict) -> str:
    if verdict.unit != "wd":
        return "latency"
    return "working_days" if verdict.working_days == "office" else "legal_working_days"


def target_breakdowns(
    tails: Tails, verdicts: list[TargetVerdict], office_day: float
) -> list[TargetBreakdown]:
    """Each latency verdict's deciding cases split; for a miss, what would have to shrink.
    `office_day`: the open seconds of one office working day."""
    found = []
    for verdict in verdicts:
        metric = verdict_metric(verdict)
        if metric is None or verdict.observed is None:
            continue
        scale = verdict_scale(verdict)
        tail = deciding(tails, metric, scale, verdict.stat, verdict.observed)
        breakdown = breakdown_of(tail, verdict.stat, scale, verdict.observed)
        if breakdown is None:
            continue
        shrink = None
        if verdict.verdict == "missed":
            shrink = _shrink(tails, metric, scale, verdict, office_day)
        found.append(
            TargetBreakdown(
                target=verdict.id,
                flow=verdict.flow,
                step=verdict.step,
                stat=verdict.stat,
                verdict=verdict.verdict,
                breakdown=breakdown,
                shrink=shrink,
            )
        )
    return found


def _shrink(
    tails: Tails, metric: str, scale: str, verdict: TargetVerdict, office_day: float
) -> Shrink | None:
    """For a percentile (or the largest value) to come within the limit, the cases at it must
    end the excess sooner, and the part named is the largest in them; for a mean, every case
    by the excess on average, the part the largest in all."""
    observed, limit = verdict.observed or 0.0, verdict.limit
    if verdict.stat == "mean":
        over = tails.beyond(metric, scale, None)
    else:
        over = tails.at(metric, scale, observed)
    means = over.means()
    if not means:  # no case took any time
        return None
    part, part_seconds = next(iter(means.items()))
    needed = observed - limit
    if verdict.unit == "s":
        needed_seconds: float | None = needed
    elif scale == "working_days":
        needed_seconds = needed * office_day
    else:
        needed_seconds = None  # a legal day is passed by ending before a close, at any hour
    return Shrink(
        part=part,
        part_seconds=part_seconds,
        needed=needed,
        unit="wd" if verdict.unit == "wd" else "s",
        needed_seconds=needed_seconds,
        cases=over.cases,
    )
