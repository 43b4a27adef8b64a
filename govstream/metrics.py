"""Latency recording: HdrHistogram for percentiles, exact running sums for the mean.

Values are recorded in microseconds so one histogram type serves both a platform hop of a few
milliseconds and a business case that waits over a holiday week. The mean is kept exactly
(not from histogram buckets) because the queueing-theory checks compare means to a few percent.
"""

from __future__ import annotations

from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

MICROS = 1_000_000
LOWEST_MICROS = 1
HIGHEST_MICROS = 400 * 86_400 * MICROS  # 400 days: a year of backlog still fits
SIGNIFICANT_DIGITS = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """One row of every report, in the recorder's unit (seconds or working days)."""

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    clamped: int = 0

    def stat(self, name: str) -> float:
        by_name = {"mean": self.mean, "p50": self.p50, "p90": self.p90, "p99": self.p99}
        by_name.update({"p99.9": self.p999, "max": self.max})
        return by_name[name]

    def to_data(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "p99.9": self.p999,
            "max": self.max,
            "clamped": self.clamped,
        }

    @classmethod
    def from_data(cls, data: dict[str, float | int]) -> LatencySummary:
        return cls(
            count=int(data["count"]),
            mean=float(data["mean"]),
            p50=float(data["p50"]),
            p90=float(data["p90"]),
            p99=float(data["p99"]),
            p999=float(data["p99.9"]),
            max=float(data["max"]),
            clamped=int(data.get("clamped", 0)),
        )


class LatencyRecorder:
    """Records non-negative durations; values past the histogram's range are clamped (counted)."""

    __slots__ = ("_histogram", "_max", "clamped", "count", "total")

    def __init__(self) -> None:
        self._histogram = HdrHistogram(LOWEST_MICROS, HIGHEST_MICROS, SIGNIFICANT_DIGITS)
        self.count = 0
        self.total = 0.0
        self._max = 0.0
        self.clamped = 0

    def record(self, value: float) -> None:
        if value < 0:
            raise ValueError(f"latency cannot be negative: {value}")
        self.count += 1
        self.total += value
        if value > self._max:
            self._max = value
        micros = round(value * MICROS)
        if micros > HIGHEST_MICROS:
            self.clamped += 1
            micros = HIGHEST_MICROS
        self._histogram.record_value(micros)

    def summary(self) -> LatencySummary:
        if not self.count:
            return LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        values = self._histogram.get_percentile_to_value_dict(list(PERCENTILES.values()))
        at = {name: values[p] / MICROS for name, p in PERCENTILES.items()}
        return LatencySummary(
            count=self.count,
            mean=self.total / self.count,
            p50=at["p50"],
            p90=at["p90"],
            p99=at["p99"],
            p999=at["p99.9"],
            max=self._max,
            clamped=self.clamped,
        )


CURVE_PERCENTILES = (
    0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 95.0, 97.0, 98.0,
    99.0, 99.5, 99.9, 99.95, 99.99, 100.0,
)  # fmt: skip
"""Where a latency's distribution is sampled for percentile plots: dense in the tail."""


def curve(recorder: LatencyRecorder, percentiles: tuple[float, ...]) -> list[float]:
    """The recorder's values at `percentiles` (0 is the smallest, 100 the exact largest)."""
    if not recorder.count:
        return [0.0] * len(percentiles)
    histogram = recorder._histogram
    inner = [p for p in percentiles if 0.0 < p < 100.0]
    values = histogram.get_percentile_to_value_dict(inner) if inner else {}
    smallest = histogram.get_min_value() / MICROS
    out = []
    for p in percentiles:
        if p <= 0.0:
            value = smallest
        elif p >= 100.0:
            value = recorder._max
        else:
            value = values[p] / MICROS
        out.append(round(min(value, recorder._max), 6))
    return out


class RecorderSet:
    """Named recorders created on first use, so engines name what they measure as they go."""

    def __init__(self) -> None:
        self._recorders: dict[str, LatencyRecorder] = {}

    def __getitem__(self, name: str) -> LatencyRecorder:
        recorder = self._recorders.get(name)
        if recorder is None:
            recorder = self._recorders[name] = LatencyRecorder()
        return recorder

    def summaries(self) -> dict[str, LatencySummary]:
        return {name: rec.summary() for name, rec in sorted(self._recorders.items())}

    def curves(self, percentiles: tuple[float, ...] = CURVE_PERCENTILES) -> dict[str, list[float]]:
        return {name: curve(rec, percentiles) for name, rec in sorted(self._recorders.items())}
