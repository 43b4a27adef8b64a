"""Thresholds on a comparison: `--fail-if 'F03/case.p90 > +10%'` and the like.

A reviewer gating a change wants one line per promise: "the case's p90 may not grow by more
than 10 %", "the bank's wait p99 may not pass 2 h", "the case may not grow by half a working
day". A threshold names the metric, the statistic and the change it tolerates:

    [wd:]METRIC.STAT OP CHANGE

- METRIC: a latency name as result.json and `compare` show it (`F03/case`, `F03/acted:bank`,
  `F17/span:invoice-to-payment`, `wait:bank`); the `F03/` may be left out when the two runs
  share one flow (`case.p90`). `wd:` reads the metric in working days (see CHANGE).
- STAT: count, mean, p50, p90, p99, p99.9 or max.
- OP: `>`, `>=`, `<` or `<=`; the threshold is crossed when the comparison holds.
- CHANGE, how the second run's value compares with the first's:
  - `+10%` / `-5%`: relative change;
  - `1.5x`: ratio second / first;
  - `+30min`, `-2h`, `+0.5wd`: absolute change (a `wd` change reads working days);
  - `2h`, `3wd`, or a bare number for `count`: the second run's own value.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from govstream.durations import format_seconds, parse_duration
from govstream.report.tables import Table
from govstream.result import RunResult, Summary

STATS = ("count", "mean", "p50", "p90", "p99.9", "p99", "max")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
SYNTAX = (
    "[wd:]METRIC.STAT OP CHANGE, e.g. 'F03/case.p90 > +10%', 'wait:bank.p99 > 2h', "
    "'case.p90 > 1.5x', 'wd:F03/case.p99 > +0.5wd'; STAT is one of "
    + ", ".join(STATS)
    + "; OP one of > >= < <=; CHANGE a relative change (+10%), a ratio (1.5x), an absolute "
    "change (+30min, +0.5wd) or the second run's own value (2h, 3wd)"
)

_THRESHOLD = re.compile(
    r"^\s*(?P<wd>wd:)?(?P<metric>.+?)\.(?P<stat>count|mean|p50|p90|p99\.9|p99|max)"
    r"\s*(?P<op>>=|<=|>|<)\s*(?P<change>\S+)\s*$"
)
_RELATIVE = re.compile(r"^(?P<number>[+-]\d+(?:\.\d+)?)%$")
_RATIO = re.compile(r"^(?P<number>\d+(?:\.\d+)?)x$")


class ThresholdError(ValueError):
    """A threshold that cannot be read, or names what the runs do not both have."""


@dataclass(frozen=True, slots=True)
class Threshold:
    text: str
    metric: str
    stat: str
    op: str
    kind: str
    """`relative` (percent), `ratio`, `delta` (absolute change) or `level` (second's value)."""
    amount: float
    """Percent, ratio, seconds or working days, or a count."""
    working_days: bool


@dataclass(frozen=True, slots=True)
class Crossing:
    """A threshold evaluated on two runs."""

    threshold: Threshold
    metric: str
    """The metric as resolved in the runs (`F03/case` for `case`)."""
    first: float
    second: float
    crossed: bool

    def value_text(self, value: float) -> str:
        if self.threshold.stat == "count":
            return f"{value:g}"
        if self.threshold.working_days:
            return f"{value:.2f}wd"
        return format_seconds(value)

    @property
    def change_text(self) -> str:
        a, b = self.first, self.second
        if self.threshold.stat == "count":
            delta = f"{b - a:+g}"
        elif self.threshold.working_days:
            delta = f"{b - a:+.2f}wd"
        else:
            delta = ("+" if b >= a else "-") + format_seconds(abs(b - a))
        if a > 0:
            return f"{delta} ({100 * (b - a) / a:+.1f} %, {b / a:.2f}×)"
        return delta

    @property
    def statement(self) -> str:
        """`F03/case.p90 went from 2.7d to 5.9d, +3.2d (+121.7 %, 2.22×); threshold ...`."""
        scale = "wd:" if self.threshold.working_days else ""
        return (
            f"{scale}{self.metric}.{self.threshold.stat} went from {self.value_text(self.first)} "
            f"to {self.value_text(self.second)}, {self.change_text}; threshold "
            f"'{self.threshold.text.strip()}'"
        )


def parse_threshold(text: str) -> Threshold:
    match = _THRESHOLD.match(text)
    if match is None:
        raise ThresholdError(f"cannot read threshold {text!r}: write {SYNTAX}")
    metric, stat, op, change = (match[name] for name in ("metric", "stat", "op", "change"))
    working_days = bool(match["wd"])
    if relative := _RELATIVE.match(change):
        return Threshold(
            text, metric, stat, op, "relative", float(relative["number"]), working_days
        )
    if ratio := _RATIO.match(change):
        return Threshold(text, metric, stat, op, "ratio", float(ratio["number"]), working_days)
    signed = change[0] in "+-"
    body = change[1:] if signed else change
    if stat == "count":
        try:
            amount = float(body)
        except ValueError:
            raise ThresholdError(
                f"threshold {text!r}: a count changes by a number (+100, -5%), not {change!r}"
            ) from None
    else:
        try:
            duration = parse_duration(body)
        except ValueError as error:
            raise ThresholdError(f"threshold {text!r}: {error}") from None
        if duration.is_working_days:
            working_days, amount = True, float(duration.working_days or 0.0)
        elif working_days:
            raise ThresholdError(
                f"threshold {text!r}: 'wd:' reads working days, so write the change in working "
                f"days (e.g. +0.5wd), not {change!r}"
            )
        else:
            amount = duration.clock_seconds()
    if signed and change[0] == "-":
        amount = -amount
    return Threshold(text, metric, stat, op, "delta" if signed else "level", amount, working_days)


def _data(run: RunResult, working_days: bool) -> dict[str, Summary]:
    return run.working_days if working_days else run.latency


def resolve_metric(threshold: Threshold, first: RunResult, second: RunResult) -> str:
    """The metric's full name in both runs; `case` means `F03/case` when F03 is their one
    shared flow."""
    a, b = _data(first, threshold.working_days), _data(second, threshold.working_days)
    if threshold.metric in a and threshold.metric in b:
        return threshold.metric
    shared = [flow_id for flow_id in first.flow_ids if flow_id in second.flow_ids]
    if "/" not in threshold.metric.split(":", 1)[0]:
        candidates = [f"{flow_id}/{threshold.metric}" for flow_id in shared]
        found = [name for name in candidates if name in a and name in b]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ThresholdError(
                f"threshold {threshold.text!r}: {threshold.metric!r} is in several flows of "
                f"both runs; name one: {', '.join(found)}"
            )
    scale = "working days" if threshold.working_days else "clock time"
    lacking = [name for name, data in (("first", a), ("second", b)) if threshold.metric not in data]
    both = sorted(set(a) & set(b))
    close = difflib.get_close_matches(threshold.metric, both, n=4, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ThresholdError(
        f"threshold {threshold.text!r}: no latency {threshold.metric!r} ({scale}) in the "
        f"{' and the '.join(lacking)} run{hint} (metrics of both runs: `govstream compare` "
        "lists them)"
    )


def evaluate(threshold: Threshold, first: RunResult, second: RunResult) -> Crossing:
    metric = resolve_metric(threshold, first, second)
    a = float(_data(first, threshold.working_days)[metric][threshold.stat])
    b = float(_data(second, threshold.working_days)[metric][threshold.stat])
    compare = OPERATORS[threshold.op]
    if threshold.kind == "level":
        crossed = compare(b, threshold.amount)
    elif threshold.kind == "delta":
        crossed = compare(b - a, threshold.amount)
    elif threshold.kind == "ratio":
        ratio = b / a if a > 0 else (math.inf if b > 0 else 1.0)
        crossed = compare(ratio, threshold.amount)
    else:
        percent = 100 * (b - a) / a if a > 0 else (math.inf if b > 0 else 0.0)
        crossed = compare(percent, threshold.amount)
    return Crossing(threshold, metric, a, b, bool(crossed))


def thresholds_table(crossings: list[Crossing]) -> Table:
    rows = [
        (
            crossing.threshold.text.strip(),
            ("wd:" if crossing.threshold.working_days else "") + crossing.metric,
            crossing.value_text(crossing.first),
            crossing.value_text(crossing.second),
            crossing.change_text,
            "CROSSED" if crossing.crossed else "ok",
        )
        for crossing in crossings
    ]
    return Table(
        "Thresholds (--fail-if)",
        ("threshold", "metric", "first", "second", "change", "verdict"),
        rows,
        "a crossed threshold makes `compare` exit 3",
    )
