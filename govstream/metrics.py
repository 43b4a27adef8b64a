"""Latency recording: HdrHistogram for percentiles, exact running sums for the mean.

Values are recorded in microseconds so one histogram type serves both a platform hop of a few
milliseconds and a business case that waits over a holiday week. The mean is kept exactly
(not from histogram buckets) because the queueing-theory checks compare means to a few percent.
The histograms are HdrHistogram's, counted by `Counts` (the same buckets and the same
percentile walk, cheaper to record into and holding only the buckets in use); the library
itself encodes and decodes them for merging replications.

A case or request still open when a run ends is not dropped: it is recorded as right-censored
at its age ("at least this long"), in a histogram of its own. Statistics are taken over the
finished and the open together, the open counted at their age, which makes each one a lower
bound wherever an open value reaches it. Dropping them instead made a run with half its cases
stuck behind an outage report the quick half as if it were everything.
"""

from __future__ import annotations

import ctypes
import math
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

MICROS = 1_000_000
LOWEST_MICROS = 1
HIGHEST_MICROS = 400 * 86_400 * MICROS  # 400 days: a year of backlog still fits
SIGNIFICANT_DIGITS = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}
STAT_NAMES = ("mean", "p50", "p90", "p99", "p99.9", "max")


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """One row of every report, in the recorder's unit (seconds or working days).

    `count` values finished; `open` more were still open at the end and are counted at their
    age, so each statistic is what the run shows so far. `upper` holds, per statistic, what it
    would be if every open value never finished (None: unbounded), so a verdict can tell a
    target the open ones cannot change from one they still could.
    """

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    clamped: int = 0
    open: int = 0
    open_min: float | None = None
    """The youngest open value's age: every statistic at or above it may still grow."""
    upper: dict[str, float | None] | None = None

    def stat(self, name: str) -> float:
        by_name = {"mean": self.mean, "p50": self.p50, "p90": self.p90, "p99": self.p99}
        by_name.update({"p99.9": self.p999, "max": self.max})
        return by_name[name]

    @property
    def total(self) -> int:
        """Every value that started: finished and open."""
        return self.count + self.open

    @property
    def open_share(self) -> float:
        return self.open / self.total if self.total else 0.0

    def at_least(self, name: str) -> bool:
        """Whether the statistic is only a lower bound: an open value could still move it."""
        if not self.open:
            return False
        if name in ("mean", "max"):
            return True
        return self.open_min is not None and self.open_min <= self.stat(name)

    def upper_of(self, name: str) -> float | None:
        """The statistic if every open value never finished; None when that is unbounded."""
        if not self.open:
            return self.stat(name)
        return (self.upper or {}).get(name)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "count": self.count,
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "p99.9": self.p999,
            "max": self.max,
            "clamped": self.clamped,
            "open": self.open,
        }
        if self.open:
            data["open_min"] = self.open_min
            data["upper"] = dict(self.upper or {})
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LatencySummary:
        upper = data.get("upper")
        return cls(
            count=int(data["count"]),
            mean=float(data["mean"]),
            p50=float(data["p50"]),
            p90=float(data["p90"]),
            p99=float(data["p99"]),
            p999=float(data["p99.9"]),
            max=float(data["max"]),
            clamped=int(data.get("clamped", 0)),
            open=int(data.get("open", 0)),
            open_min=None if data.get("open_min") is None else float(data["open_min"]),
            upper=None if upper is None else {k: _maybe(v) for k, v in upper.items()},
        )


def _maybe(value: Any) -> float | None:
    return None if value is None else float(value)


def _histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_MICROS, HIGHEST_MICROS, SIGNIFICANT_DIGITS)


def _micros(value: float) -> tuple[int, bool]:
    micros = round(value * MICROS)
    if micros > HIGHEST_MICROS:
        return HIGHEST_MICROS, True
    return micros, False


_LAYOUT = _histogram()
"""The layout every recorder shares, and the reference its index arithmetic must agree with."""
_SUB_HALF_MAGNITUDE = _LAYOUT.sub_bucket_half_count_magnitude
_SUB_BUCKET_MASK = _LAYOUT.sub_bucket_mask
_SUB_HALF_COUNT = _LAYOUT.sub_bucket_half_count
_BUCKET_SHIFT = _SUB_HALF_MAGNITUDE + 1
assert _LAYOUT.unit_magnitude == 0, "the index arithmetic below assumes a lowest value of 1"
_NUMBERS = (_SUB_BUCKET_MASK, _BUCKET_SHIFT, _SUB_HALF_MAGNITUDE, _SUB_HALF_COUNT)
assert _NUMBERS == (2047, 11, 10, 1024), "LatencyRecorder._settle writes these numbers in"
CHUNK_BITS = 10
CHUNK = 1 << CHUNK_BITS
_CHUNK_MASK = CHUNK - 1
_CHUNKS = -(-_LAYOUT.counts_len // CHUNK)
_ZEROS = array("q", bytes(8 * CHUNK))
BATCH = 2048
"""Values a recorder holds before counting them (`LatencyRecorder._settle`)."""


def _view(chunk: array[int]) -> np.ndarray:
    """A chunk's counters as a numpy array over the same memory."""
    return np.frombuffer(chunk, dtype=np.int64)


def counts_index(micros: int) -> int:
    """HdrHistogram's counts index of a value, as `HdrHistogram._counts_index_for` computes it
    (with a lowest trackable value of 1): the bucket is the value's bit length past the
    sub-bucket's, the sub-bucket its top bits."""
    bucket = (micros | _SUB_BUCKET_MASK).bit_length() - _BUCKET_SHIFT
    return ((bucket + 1) << _SUB_HALF_MAGNITUDE) + (micros >> bucket) - _SUB_HALF_COUNT


class Counts:
    """HdrHistogram's counts array, kept sparse: chunks of 1024 counters made on first use.

    A run records tens of values per case into a few hundred histograms. HdrHistogram's own
    `record_value` costs several Python calls per value and each histogram holds 290 KiB of
    counters from the start, most of them never touched; here a value is one index computation
    and one increment, and a histogram holds only the chunks its values fall in. Percentiles
    read back exactly what HdrHistogram reads (the same index arithmetic, the same walk), and
    `histogram()` rebuilds the HdrHistogram itself for encoding, so results do not change.
    """

    __slots__ = ("chunks",)

    def __init__(self) -> None:
        self.chunks: list[array[int] | None] = [None] * _CHUNKS

    @property
    def total(self) -> int:
        """Values counted: summed when read, so that counting one costs one increment."""
        return sum(int(_view(chunk).sum()) for chunk in self.chunks if chunk is not None)

    def add(self, micros: int, n: int = 1) -> None:
        self.add_at(counts_index(micros), n)

    def add_at(self, index: int, n: int) -> None:
        chunk = self.chunks[index >> CHUNK_BITS]
        if chunk is None:
            chunk = self.chunks[index >> CHUNK_BITS] = array("q", _ZEROS)
        chunk[index & _CHUNK_MASK] += n

    def merge(self, other: Counts) -> None:
        """Add another's counters to these, a chunk at a time in numpy: a study merges a few
        hundred histograms per run where it was started, and adding counter by counter in
        Python made that merge a serial share every run added to."""
        for number, theirs in enumerate(other.chunks):
            if theirs is None:
                continue
            ours = self.chunks[number]
            if ours is None:
                self.chunks[number] = array("q", theirs)
            else:
                view = _view(ours)
                view += _view(theirs)

    def nonzero(self) -> Iterator[tuple[int, int]]:
        """(index, count) of every counter above zero, in index order."""
        for number, chunk in enumerate(self.chunks):
            if chunk is None:
                continue
            base = number << CHUNK_BITS
            for offset in np.flatnonzero(_view(chunk)).tolist():
                yield base + offset, chunk[offset]

    def first_index(self) -> int:
        return next(index for index, _ in self.nonzero())

    def _index_reaching(self, targets: list[int]) -> list[int]:
        """For each target count (ascending), the first index at which the running count
        reaches it: the walk HdrHistogram's percentile queries make."""
        found: list[int] = []
        if not targets:
            return found
        running = 0
        want = 0
        for number, chunk in enumerate(self.chunks):
            if chunk is None:
                continue
            cumulative = np.cumsum(_view(chunk)) + running
            running = int(cumulative[-1])
            reached = want
            while reached < len(targets) and targets[reached] <= running:
                reached += 1
            if reached > want:
                offsets = np.searchsorted(cumulative, targets[want:reached], side="left")
                found += [(number << CHUNK_BITS) + offset for offset in offsets.tolist()]
                want = reached
            if want == len(targets):
                break
        return found

    def percentile_values(self, percentiles: Iterable[float]) -> dict[float, int]:
        """`HdrHistogram.get_percentile_to_value_dict`, on these counts."""
        ordered = sorted(set(percentiles))
        kept = []
        for p in ordered:
            if p > 100:
                break
            kept.append(p)
        total = self.total
        targets = [_target_count(p, total) for p in kept]
        indexes = self._index_reaching(targets)
        return {p: _value_at(index, p) for p, index in zip(kept, indexes, strict=False)}

    def value_at_percentile(self, percentile: float) -> int:
        """`HdrHistogram.get_value_at_percentile`, on these counts."""
        found = self._index_reaching([_target_count(min(percentile, 100.0), self.total)])
        return _value_at(found[0], percentile) if found else 0

    def min_value(self) -> int:
        """`HdrHistogram.get_min_value`: the lowest value of the lowest bucket in use."""
        if self.total == 0:
            return 0
        return int(_LAYOUT.get_value_from_index(self.first_index()))

    def histogram(self) -> HdrHistogram:
        """The HdrHistogram these counts stand for, for encoding."""
        histogram = _histogram()
        for index, n in self.nonzero():
            histogram.record_value(_LAYOUT.get_value_from_index(index), n)
        return histogram

    @classmethod
    def of(cls, histogram: HdrHistogram) -> Counts:
        """The counts of a (decoded) HdrHistogram, read a chunk at a time from its array."""
        counts = cls()
        if not histogram.get_total_count():
            return counts
        raw = histogram.counts
        length = min(len(raw), histogram.counts_len, _LAYOUT.counts_len)
        if ctypes.sizeof(raw._type_) != 8:  # narrower counters: read them one by one
            for index in range(length):
                if raw[index]:
                    counts.add_at(index, int(raw[index]))
            return counts
        # Which chunks hold a count is asked of numpy at once, and only those are copied: a
        # decoded histogram has every counter, and a study merges hundreds per run.
        values = np.zeros(-(-length // CHUNK) * CHUNK, dtype=np.int64)
        values[:length] = np.frombuffer(raw, dtype=np.int64, count=length)
        rows = values.reshape(-1, CHUNK)
        for number in np.flatnonzero(rows.any(axis=1)).tolist():
            chunk = array("q")
            chunk.frombytes(rows[number].tobytes())
            counts.chunks[number] = chunk
        return counts


def _target_count(percentile: float, total: int) -> int:
    return max(int((percentile * total / 100) + 0.5), 1)


def _value_at(index: int, percentile: float) -> int:
    value = _LAYOUT.get_value_from_index(index)
    if percentile:
        return int(_LAYOUT.get_highest_equivalent_value(value))
    return int(_LAYOUT.get_lowest_equivalent_value(value))


def _within(value: float, lowest: float, highest: float) -> float:
    """A percentile inside the values recorded: HdrHistogram reads one back as its bucket's
    highest equivalent value, which for the largest values lies above the largest of them
    (a p99.9 over the max); no percentile is outside the smallest and the largest value."""
    return min(max(value, lowest), highest)


class LatencyRecorder:
    """Records non-negative durations; values past the histogram's range are clamped (counted).

    Finished values and open (right-censored) ages go to separate histograms so that the
    bounds of each statistic can be told apart, and so replications can be merged exactly.
    """

    __slots__ = (
        "_chunks",
        "_counts",
        "_max",
        "_min",
        "_open_counts",
        "_pending",
        "clamped",
        "count",
        "integers",
        "open_count",
        "open_max",
        "open_min",
        "open_total",
        "total",
    )

    def __init__(self, integers: bool = False) -> None:
        self.integers = integers
        """Values are whole numbers (legal working days): percentiles are read back as the
        whole number their histogram bucket holds, not the bucket's upper edge."""
        self._counts = Counts()
        self._chunks = self._counts.chunks
        self._open_counts: Counts | None = None
        self._pending: list[float] = []
        self.count = 0
        self.total = 0.0
        self._max = 0.0
        self._min = math.inf
        self.clamped = 0
        self.open_count = 0
        self.open_total = 0.0
        self.open_min = math.inf
        self.open_max = 0.0

    def record(self, value: float) -> None:
        if value < 0:
            raise ValueError(f"latency cannot be negative: {value}")
        pending = self._pending
        pending.append(value)
        if len(pending) >= BATCH:
            self._settle()

    def _settle(self) -> None:
        """Count the values recorded since the last time, all at once.

        A run records tens of values per case; counting each as it comes costs a dozen
        Python operations, counting a batch with numpy a few nanoseconds a value. Anything
        that reads the recorder settles it first. The sum is a running sum in recording order
        (`cumsum`, not numpy's pairwise `sum`), so the mean does not depend on where the
        batches fall.
        """
        pending = self._pending
        if not pending:
            return
        values = np.array(pending, dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"latency must be finite: {values[~np.isfinite(values)][0]}")
        top = max(pending)  # as given: legal working days stay whole numbers
        bottom = min(pending)
        pending.clear()
        self.count += len(values)
        self.total = float(np.cumsum(np.concatenate(([self.total], values)))[-1])
        if top > self._max:
            self._max = top
        if bottom < self._min:
            self._min = bottom
        scaled = np.rint(values * MICROS)  # round(value * MICROS): both round half to even
        over = scaled > HIGHEST_MICROS
        if over.any():
            self.clamped += int(over.sum())
            scaled[over] = HIGHEST_MICROS
        micros = scaled.astype(np.int64)
        # counts_index, for every value at once: frexp's exponent of a whole number below
        # 2**53 is its bit length.
        bucket = np.frexp((micros | 2047).astype(np.float64))[1].astype(np.int64) - 11
        index = ((bucket + 1) << 10) + (micros >> bucket) - 1024
        numbers = index >> CHUNK_BITS
        chunks = self._chunks
        for number in np.unique(numbers).tolist():
            chunk = chunks[number]
            if chunk is None:
                chunk = chunks[number] = array("q", _ZEROS)
            offsets = index[numbers == number] & _CHUNK_MASK
            _view(chunk)[:] += np.bincount(offsets, minlength=CHUNK)

    def record_open(self, age: float) -> None:
        """A value still open at the end of the run, `age` old so far (right-censored)."""
        if age < 0:
            raise ValueError(f"an open value's age cannot be negative: {age}")
        if self._open_counts is None:
            self._open_counts = Counts()
        self.open_count += 1
        self.open_total += age
        self.open_min = min(self.open_min, age)
        self.open_max = max(self.open_max, age)
        micros, clamped = _micros(age)
        self.clamped += clamped
        self._open_counts.add(micros)

    def summary(self) -> LatencySummary:
        self._settle()
        total = self.count + self.open_count
        if not total:
            return LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        everything = self._counts
        if self._open_counts is not None and self.open_count:
            everything = Counts()
            everything.merge(self._counts)
            everything.merge(self._open_counts)
        values = everything.percentile_values(list(PERCENTILES.values()))
        lowest = min(self._min, self.open_min)
        highest = max(self._max, self.open_max)
        at = {
            name: _within(self._read(values[p]), lowest, highest) for name, p in PERCENTILES.items()
        }
        upper: dict[str, float | None] | None = None
        if self.open_count:
            upper = {"mean": None, "max": None}
            for name, p in PERCENTILES.items():
                bound = self._finished_rank_value(math.ceil(p / 100 * total))
                # Never below the statistic with the open values at their age, which each
                # clamp to its own range could otherwise put it under.
                upper[name] = None if bound is None else max(bound, at[name])
        return LatencySummary(
            count=self.count,
            mean=(self.total + self.open_total) / total,
            p50=at["p50"],
            p90=at["p90"],
            p99=at["p99"],
            p999=at["p99.9"],
            max=highest,
            clamped=self.clamped,
            open=self.open_count,
            open_min=self.open_min if self.open_count else None,
            upper=upper,
        )

    def value_at(self, percentile: float) -> float:
        """Any percentile of the finished values (0 to 100), e.g. to bound a sampling error."""
        self._settle()
        if not self.count:
            raise ValueError("no finished values recorded")
        clipped = min(100.0, max(0.0, percentile))
        return _within(self._read(self._counts.value_at_percentile(clipped)), self._min, self._max)

    def _finished_rank_value(self, rank: int) -> float | None:
        """The rank-th smallest finished value: the percentile if no open value ever ends."""
        rank = max(1, rank)
        if rank > self.count:
            return None
        value = self._read(self._counts.value_at_percentile(100.0 * rank / self.count))
        return _within(value, self._min, self._max)

    def _read(self, micros: int) -> float:
        value = micros / MICROS
        return float(round(value)) if self.integers else value

    # -- merging replications -----------------------------------------------------------------

    def encode(self) -> dict[str, Any]:
        """Everything needed to merge this recorder with another later, as JSON data."""
        self._settle()
        data: dict[str, Any] = {
            "count": self.count,
            "total": self.total,
            "max": self._max,
            "clamped": self.clamped,
            "histogram": self._counts.histogram().encode().decode("ascii"),
        }
        if self.open_count and self._open_counts is not None:
            data["open"] = {
                "count": self.open_count,
                "total": self.open_total,
                "min": self.open_min,
                "max": self.open_max,
                "histogram": self._open_counts.histogram().encode().decode("ascii"),
            }
        return data

    @classmethod
    def decode(cls, data: dict[str, Any]) -> LatencyRecorder:
        recorder = cls()
        recorder.merge_data(data)
        return recorder

    def merge_data(self, data: dict[str, Any]) -> None:
        """Add an encoded recorder's values to this one (HdrHistograms add exactly)."""
        self._settle()
        self.count += int(data["count"])
        self.total += float(data["total"])
        self._max = max(self._max, float(data["max"]))
        self.clamped += int(data.get("clamped", 0))
        if int(data["count"]):
            counts = Counts.of(HdrHistogram.decode(data["histogram"].encode("ascii")))
            # The encoding keeps no exact smallest value: the lowest bucket's floor is at most it.
            self._min = min(self._min, counts.min_value() / MICROS)
            self._counts.merge(counts)
        opened = data.get("open")
        if opened:
            if self._open_counts is None:
                self._open_counts = Counts()
            self.open_count += int(opened["count"])
            self.open_total += float(opened["total"])
            self.open_min = min(self.open_min, float(opened["min"]))
            self.open_max = max(self.open_max, float(opened["max"]))
            decoded = HdrHistogram.decode(opened["histogram"].encode("ascii"))
            self._open_counts.merge(Counts.of(decoded))


CURVE_PERCENTILES = (
    0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 95.0, 97.0, 98.0,
    99.0, 99.5, 99.9, 99.95, 99.99, 100.0,
)  # fmt: skip
"""Where a latency's distribution is sampled for percentile plots: dense in the tail."""


def curve(recorder: LatencyRecorder, percentiles: tuple[float, ...]) -> list[float]:
    """The recorder's values at `percentiles` (0 is the smallest, 100 the exact largest)."""
    recorder._settle()
    if not recorder.count:
        return [0.0] * len(percentiles)
    counts = recorder._counts
    inner = [p for p in percentiles if 0.0 < p < 100.0]
    values = counts.percentile_values(inner) if inner else {}
    smallest = counts.min_value() / MICROS
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

    def __init__(self, integers: bool = False) -> None:
        self.integers = integers
        self._recorders: dict[str, LatencyRecorder] = {}

    def __getitem__(self, name: str) -> LatencyRecorder:
        recorder = self._recorders.get(name)
        if recorder is None:
            recorder = self._recorders[name] = LatencyRecorder(self.integers)
        return recorder

    def summaries(self) -> dict[str, LatencySummary]:
        return {name: rec.summary() for name, rec in sorted(self._recorders.items())}

    def curves(self, percentiles: tuple[float, ...] = CURVE_PERCENTILES) -> dict[str, list[float]]:
        return {name: curve(rec, percentiles) for name, rec in sorted(self._recorders.items())}

    def encode(self) -> dict[str, dict[str, Any]]:
        return {name: rec.encode() for name, rec in sorted(self._recorders.items())}

    def merge_data(self, encoded: dict[str, dict[str, Any]]) -> None:
        for name, data in encoded.items():
            self[name].merge_data(data)
