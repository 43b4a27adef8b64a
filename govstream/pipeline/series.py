"""Time series of a run in fixed bins, for charts: queues, busy clerks, arrivals, completions.

A reviewer of an outage study wants to see the backlog build and drain, which a run's max queue
and queue at the end cannot show. Recording every event would grow with the run, so both engines
feed the same fixed bins instead: a level (requests queued, clerks busy) is added as the
intervals it held, so each bin keeps the time-weighted mean over it, and a count (arrivals,
completions) adds one to the bin it falls in. Intervals and counts may come in any order, which
the kafka collector needs: answers arrive long after the moments they report.

Memory is bounded by `max_bins` per series, whatever the run's length: the bins cover the
expected horizon, and a run that outlasts it merges neighbouring bins (twice as wide) instead
of adding more.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime

from govstream.result import TimeSeries, Window

MAX_BINS = 720
"""A year in half-day bins; a month in one-hour bins."""


def queue_name(pool: str) -> str:
    """Requests at a pool that no clerk is working on yet (`queue:bank`): delivered, and not
    yet started, whether waiting for a free clerk or for the office to open. Its time integral
    is the pool's summed wait (`wait:bank`)."""
    return f"queue:{pool}"


def busy_name(pool: str) -> str:
    """Clerks of a pool working on a request (`busy:bank`), from the start of the work to the
    outcome; a service that runs past closing time holds its clerk until it is done."""
    return f"busy:{pool}"


def arrivals_name(flow_id: str) -> str:
    return f"{flow_id}/arrivals"


def completions_name(flow_id: str) -> str:
    return f"{flow_id}/completions"


def open_name(flow_id: str) -> str:
    """Cases of a flow started and not yet complete, at the end of each bin."""
    return f"{flow_id}/open"


class SeriesBook:
    """Fixed-width bins from business time 0; widths double when the run outlasts them."""

    def __init__(self, horizon: float, max_bins: int = MAX_BINS) -> None:
        if max_bins < 2:
            raise ValueError("max_bins must be at least 2")
        self.max_bins = max_bins
        self.width = max(float(horizon), 1.0) / max_bins
        self._levels: dict[str, list[float]] = {}
        """Per bin, the integral of the level over the bin (level × seconds)."""
        self._counts: dict[str, list[int]] = {}
        self._open: dict[Hashable, tuple[str, float]] = {}
        self.end = 0.0

    # -- what the engines call ----------------------------------------------------------------

    def count(self, name: str, at: float, n: int = 1) -> None:
        at = max(0.0, at)
        if at > self.end:
            self._reach(at)
        bins = self._counts.get(name)
        if bins is None:
            bins = self._counts[name] = []
        index = self._index(at)
        if len(bins) <= index:
            _grow(bins, index + 1, 0)
        bins[index] += n

    def interval(self, name: str, start: float, end: float, weight: float = 1.0) -> None:
        """The level `name` was raised by `weight` from `start` until `end`."""
        start = max(0.0, start)
        if end <= start:
            return
        if end > self.end:
            self._reach(end)
        bins = self._levels.get(name)
        if bins is None:
            bins = self._levels[name] = []
        width = self.width
        first, last = self._index(start), self._index(end)
        if len(bins) <= last:
            _grow(bins, last + 1, 0.0)
        if first == last and end <= (last + 1) * width:
            # Most intervals (a request's queueing or work) fall within one bin.
            bins[first] += weight * (end - start)
            return
        for index in range(first, last + 1):
            low = max(start, index * width)
            high = min(end, (index + 1) * width)
            if high > low:
                bins[index] += weight * (high - low)

    def begin(self, key: Hashable, name: str, at: float) -> None:
        """An interval whose end is not known yet (a request joins a queue)."""
        self._open[key] = (name, at)

    def finish(self, key: Hashable, at: float) -> None:
        name, start = self._open.pop(key)
        self.interval(name, start, at)

    def close_open(self, at: float) -> None:
        """Whatever is still queued or held at the end counts until the end."""
        for name, start in self._open.values():
            self.interval(name, start, at)
        self._open.clear()

    # -- the result -----------------------------------------------------------------------------

    def data(
        self,
        end: float,
        *,
        start: datetime,
        flows: Iterable[str] = (),
        windows: Mapping[str, list[Window]] | None = None,
    ) -> TimeSeries:
        """The bins up to `end` (business seconds): levels as time-weighted means per bin,
        counts per bin, and each flow's open cases at the end of every bin."""
        end = max(end, self.end, 1e-9)
        self._reach(end)
        bins = max(1, math.ceil(end / self.width - 1e-9))
        spans = [min(self.width, end - index * self.width) for index in range(bins)]
        levels = {
            name: [
                round(total / span, 6) if span > 0 else 0.0
                for total, span in zip(_padded(values, bins, 0.0), spans, strict=True)
            ]
            for name, values in sorted(self._levels.items())
        }
        counts = {name: _padded(values, bins, 0) for name, values in sorted(self._counts.items())}
        for flow_id in flows:
            arrived = counts.get(arrivals_name(flow_id), [0] * bins)
            completed = counts.get(completions_name(flow_id), [0] * bins)
            running, open_cases = 0, []
            for a, c in zip(arrived, completed, strict=True):
                running += a - c
                open_cases.append(float(running))
            levels[open_name(flow_id)] = open_cases
        return TimeSeries(
            start=start.isoformat(),
            bin_seconds=self.width,
            bins=bins,
            levels=levels,
            counts=counts,
            windows=dict(windows or {}),
        )

    # -- bins -----------------------------------------------------------------------------------

    def _index(self, at: float) -> int:
        return min(int(at // self.width), self.max_bins - 1)

    def _reach(self, at: float) -> None:
        """Widen the bins until `at` falls inside the last one."""
        self.end = max(self.end, at)
        while at > self.width * self.max_bins:
            self._coarsen()

    def _coarsen(self) -> None:
        self.width *= 2
        for store in (self._levels, self._counts):
            for name, values in store.items():
                store[name] = [sum(values[i : i + 2]) for i in range(0, len(values), 2)]


def _grow(values: list, size: int, fill: float | int) -> None:  # type: ignore[type-arg]
    if len(values) < size:
        values.extend([fill] * (size - len(values)))


def _padded(values: list, size: int, fill: float | int) -> list:  # type: ignore[type-arg]
    return [*values[:size], *([fill] * max(0, size - len(values)))]
