"""Where the time went: a latency's cases split into named parts, from their own marks.

The books keep, for each request a case sent (a leg), when it went out and which answer sent
it, when it reached its agency, when a clerk started and finished it, and when its answer was
recorded. A latency ends at a mark one leg set. Walking back from that leg to the leg whose
answer sent it, and so on to the case's opening (and through a hand-over into the case that
started it), covers the latency with no gap and no overlap: it is the path the case waited on.
Each stretch of that path is one part:

- `transport:<hop>`: the trigger reaching the platform and being opened there, a request
  reaching its agency, an answer returning to the platform and being recorded;
- `queue:<pool>`: at the pool while it was open, waiting for a clerk;
- `work:<pool>`: the office time a clerk worked on it;
- `closed:<pool>`: at the pool while its office was closed (nights, weekends, holidays,
  lunch), before a clerk began; `closed:<pool> (in work)` once begun: work paused by a close;
- `outage:<pool>`: at the pool during one of its outages;
- `wait:<step>`: a step that waits outside any agency (an applicant, a deadline).

So the parts of one case add up to its latency. A statistic is decided by some of the cases:
for a percentile those at or beyond it, for a mean all of them. Each latency's parts are summed
by band of the latency (`Tails`), so the end of a run reads the parts of any tail without
keeping a case.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govstream.calendar.agency_hours import AgencyHours

TO_PLATFORM = "transport:trigger-to-orchestrator"
TO_AGENCY = "transport:orchestrator-to-agency"
BACK = "transport:outcome-return"
IN_WORK = " (in work)"
"""Closed hours a clerk's work was paused by, beside those a request waited for the opening."""
UNTRACED = "untraced"
"""Time the books hold no leg for (a request told answered without its times at the pool)."""

KINDS = ("transport", "queue", "work", "closed", "outage", "wait", "untraced")
"""The kinds of part, in the order reports list them."""


def part_kind(part: str) -> str:
    return part.partition(":")[0]


def part_place(part: str) -> str:
    """The pool, hop or wait step a part is at; empty for an untraced one."""
    return part.partition(":")[2]


@dataclass(slots=True)
class Leg:
    """One request of a case, or one wait outside any agency, from going out to its answer."""

    sent: float
    cause: str | None
    """The unit whose answer sent it; None when the case's opening did."""
    wait: str | None = None
    """For a wait outside any agency, its step."""
    delivered: float | None = None
    pool: str | None = None
    started: float | None = None
    done: float | None = None
    work: float = 0.0
    answered: float | None = None
    whole: Parts | None = None
    """Its parts from going out to its answer, found once: most walks cross a leg whole."""
    through: Parts | None = None
    """The parts from its case's opening to its answer, found once (`from_opening`). Parts
    are kept as dicts of names to seconds, which the cyclic collector never has to scan."""


@dataclass(slots=True)
class Trail:
    """One case's legs and what its marks were set by, kept until every latency that ends in
    it has been split."""

    opened_at: float
    """The trigger's intended time: where the case's latencies start."""
    legs: dict[str, Leg] = field(default_factory=dict)
    set_by: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Mark -> the unit that set it, and whether by its delivery (else by its answer)."""
    last: str | None = None
    """The unit answered last: the case completed with it."""
    before: tuple[Trail, str | None, float] | None = None
    """For a case a hand-over started: the upstream case's trail, the unit whose answer
    handed over (None: its opening), and when."""


Parts = dict[str, float]
Hours = Callable[[str], AgencyHours]
"""A pool's opening hours and outages, by pool name."""


def add(parts: Parts, part: str, seconds: float) -> None:
    """Add a part's seconds; under a microsecond is rounding in the calendar's sums."""
    if seconds > 1e-6:
        parts[part] = parts.get(part, 0.0) + seconds


def walk(
    trail: Trail,
    unit: str | None,
    end: float,
    start: float,
    hours: Hours,
) -> Parts:
    """The parts of `[start, end]` on the path back from `unit` (the leg whose delivery or
    answer is at `end`; None: the case's opening)."""
    parts: Parts = {}
    at = end
    while True:
        while unit is not None:
            leg = trail.legs.get(unit)
            if leg is None:
                break
            answered = leg.answered
            if answered is not None and answered <= at and start <= leg.sent:
                add(parts, BACK, at - answered)  # the platform recording it, on Kafka
                for part, seconds in whole(leg, hours).items():
                    parts[part] = parts.get(part, 0.0) + seconds
                if leg.sent <= start:
                    return parts
            elif _leg(leg, at, start, hours, parts):
                return parts
            at, unit = min(at, leg.sent), leg.cause
        if unit is None:
            add(parts, TO_PLATFORM, at - max(trail.opened_at, start))
            at = min(at, trail.opened_at)
        if at <= start:
            return parts
        if unit is not None or trail.before is None:
            add(parts, UNTRACED, at - start)
            return parts
        trail, unit, handed = trail.before
        add(parts, TO_PLATFORM, at - max(handed, start))
        at = min(at, handed)


def whole(leg: Leg, hours: Hours) -> Parts:
    """An answered leg's parts, from going out to its answer (not to be changed)."""
    found = leg.whole
    if found is None:
        found = leg.whole = {}
        _leg(leg, leg.answered or leg.sent, leg.sent, hours, found)
    return found


def from_opening(trail: Trail, unit: str, by_delivery: bool, hours: Hours) -> Parts:
    """The parts from the case's opening to the leg's answer (or its delivery): what most
    latencies are. Each leg's is found once, from the leg whose answer sent it, so a case's
    latencies share their walks (not to be changed)."""
    leg = trail.legs[unit]
    if by_delivery:
        parts = _before(trail, leg, hours)
        add(parts, TO_AGENCY, (leg.delivered or leg.sent) - leg.sent)
        return parts
    found = leg.through
    if found is None:
        found = leg.through = _before(trail, leg, hours)
        for part, seconds in whole(leg, hours).items():
            found[part] = found.get(part, 0.0) + seconds
    return found


def _before(trail: Trail, leg: Leg, hours: Hours) -> Parts:
    """The parts from the case's opening to the leg going out, in a new dict."""
    cause = trail.legs.get(leg.cause) if leg.cause is not None else None
    if cause is None or cause.answered is None:
        parts: Parts = {}
        # sent by the opening, or by an answer the books hold no leg for
        add(parts, TO_PLATFORM if leg.cause is None else UNTRACED, leg.sent - trail.opened_at)
        return parts
    parts = dict(from_opening(trail, str(leg.cause), False, hours))
    add(parts, BACK, leg.sent - cause.answered)
    return parts


def _leg(leg: Leg, end: float, start: float, hours: Hours, parts: Parts) -> bool:
    """Add the leg's parts within `[start, end]`, latest first; True when the leg began at or
    before `start` (the walk is over)."""
    answered = end if leg.answered is None else min(leg.answered, end)
    if leg.wait is not None:
        add(parts, f"wait:{leg.wait}", answered - max(leg.sent, start))
        return leg.sent <= start
    if leg.delivered is None:
        add(parts, TO_AGENCY, answered - max(leg.sent, start))
        return leg.sent <= start
    if leg.done is None or leg.started is None or leg.pool is None:
        add(parts, UNTRACED, answered - max(leg.delivered, start))
    else:
        add(parts, BACK, answered - max(leg.done, start))
        if leg.done <= start:
            return True
        _at_pool(leg, min(leg.done, end), start, hours(leg.pool), parts)
        if leg.started <= start:
            return True
    if leg.delivered <= start:
        return True
    add(parts, TO_AGENCY, min(leg.delivered, end) - max(leg.sent, start))
    return leg.sent <= start


def _at_pool(leg: Leg, end: float, start: float, hours: AgencyHours, parts: Parts) -> None:
    """A request's time at its pool up to `end`: waiting (open: queue; closed; outage), then
    worked (the office time worked, the rest closed: work begun goes on through an outage)."""
    pool = leg.pool
    started, done = leg.started or 0.0, leg.done or 0.0
    lo, hi = max(started, start), min(done, end)
    if hi > lo:
        elapsed = hi - lo
        worked = min(elapsed, leg.work)
        add(parts, f"work:{pool}", worked)
        add(parts, f"closed:{pool}{IN_WORK}", elapsed - worked)
    lo, hi = max(leg.delivered or 0.0, start), min(started, end)
    if hi > lo:
        open_, closed, outage = hours.split(lo, hi)
        add(parts, f"queue:{pool}", open_)
        add(parts, f"closed:{pool}", closed)
        add(parts, f"outage:{pool}", outage)


# -- summed by band ------------------------------------------------------------------------


def band_of(scale: str, value: float) -> int:
    """A latency's band: about 2 % wide on a continuous scale, one working day on the legal
    one (whose values are whole)."""
    if scale == "legal_working_days":
        return int(value)
    return int(math.log1p(max(0.0, value) * (1.0 if scale == "latency" else 86400.0)) * 50)


class Band:
    """The cases of one band of a latency: how many, and their parts summed.

    A band that has held `SAMPLE_FROM` cases goes on splitting a systematic sample of the
    next ones, as a tracer keeps a sample of its traces: from its k-th thousand of cases on,
    one in k, each standing for the k cases it was drawn from. Its sums are then estimates of
    the sums over all its cases, and the means a report reads from them are the cases' own
    (exact while a band holds fewer). Most of a long run's cases fall in a few crowded bands
    (a legal working day holds every case answered on it); each is a thousand or so splits
    rather than tens of thousands."""

    __slots__ = ("cases", "earlier", "parts", "seconds")

    def __init__(self) -> None:
        self.cases = 0
        self.seconds = 0.0
        self.earlier = 0.0
        self.parts: Parts = {}

    def weight(self) -> int:
        """Counts one more case; how many cases its split stands for (0: not split)."""
        self.cases = cases = self.cases + 1
        stride = 1 + cases // SAMPLE_FROM
        return stride if cases % stride == 0 else 0


@dataclass(slots=True)
class Tail:
    """The parts of the cases in some bands of a latency, summed."""

    cases: int = 0
    seconds: float = 0.0
    earlier: float = 0.0
    parts: Parts = field(default_factory=dict)
    complete: bool = True
    """Whether every case in these bands was split (`Tails`)."""

    def take(self, band: Band) -> None:
        self.cases += band.cases
        self.seconds += band.seconds
        self.earlier += band.earlier
        for part, seconds in band.parts.items():
            self.parts[part] = self.parts.get(part, 0.0) + seconds

    def means(self) -> Parts:
        """Each part's mean over the cases, largest first."""
        if not self.cases:
            return {}
        ordered = sorted(self.parts.items(), key=lambda item: (-item[1], item[0]))
        return {part: seconds / self.cases for part, seconds in ordered}


KEEP = 85.0
"""By default a latency's cases are split from its 85th percentile up: the slowest tenth a
report reads starts above it."""
RECOUNT = 1024
"""Values told between two readings of a latency's floor, once it has that many; before, at
every doubling from `FIRST_COUNT`; past four times as many, at every quarter more (a floor
read from tens of thousands of values moves little with the next thousand)."""
FIRST_COUNT = 256
SAMPLE_FROM = 1000
"""Cases a band splits every one of before it samples them (`Band`)."""

Floor = Callable[[str, str, float], float]
"""A latency's value at a percentile so far, on a scale (the latency book's)."""


class Latency:
    """One latency on one scale: its bands, the value under which a case is not split, and
    the largest value left unsplit. The books hold on to it, so a case is told in one call."""

    __slots__ = (
        "bands",
        "floor",
        "keep",
        "metric",
        "read_floor",
        "recount",
        "scale",
        "told",
        "unsplit",
    )

    def __init__(self, metric: str, scale: str, keep: float, read_floor: Floor | None) -> None:
        self.metric = metric
        self.scale = scale
        self.bands: dict[int, Band] = {}
        self.keep = keep
        self.read_floor = read_floor
        self.floor = -math.inf
        self.told = 0
        self.recount = FIRST_COUNT if keep > 0 and read_floor is not None else -1
        """The count at which the floor is read next."""
        self.unsplit = -math.inf

    def band(self, value: float) -> Band | None:
        """The band a case of `value` falls in (the caller counts it there, `Band.weight`,
        and adds its parts if it is split), or None when it is under the floor."""
        self.told = told = self.told + 1
        if told == self.recount:
            assert self.read_floor is not None
            self.floor = self.read_floor(self.metric, self.scale, self.keep)
            self.recount = told + min(told, max(RECOUNT, told // 4))
        if value < self.floor:
            if value > self.unsplit:
                self.unsplit = value
            return None
        index = band_of(self.scale, value)
        band = self.bands.get(index)
        if band is None:
            band = self.bands[index] = Band()
        return band


class Tails:
    """Each latency's parts, summed over its cases by band of the latency on each scale it is
    judged on (`latency`: clock seconds; `working_days`, `legal_working_days`).

    A case is split only from a floor up: the latency's value, so far, at the percentile kept
    (`KEEP`, or under a target's statistic; 0 for a mean, which every case decides). Most
    cases of most latencies are far from any tail a report reads, and splitting them would
    slow every run. Should a latency's values fall over a run (an outage's backlog cleared), a
    tail may reach below a floor held earlier: it is then not `complete`, and reports say so."""

    def __init__(
        self, floor: Floor | None = None, keep: Mapping[tuple[str, str], float] | None = None
    ) -> None:
        self._latencies: dict[tuple[str, str], Latency] = {}
        self._floor = floor
        self._keep = dict(keep or {})

    def of(self, metric: str, scale: str) -> Latency:
        """The latency `metric` on `scale`, made on first use."""
        key = (metric, scale)
        latency = self._latencies.get(key)
        if latency is None:
            keep = self._keep.get(key, KEEP)
            latency = self._latencies[key] = Latency(metric, scale, keep, self._floor)
        return latency

    def metrics(self, scale: str = "latency") -> list[str]:
        return sorted(metric for metric, on in self._latencies if on == scale)

    def beyond(self, metric: str, scale: str, value: float | None) -> Tail:
        """The cases at or beyond `value` (every case, for None). A percentile read back a
        little over the largest value (as a histogram's bucket may) still has that value's
        cases beyond it."""
        tail = Tail()
        latency = self._latencies.get((metric, scale))
        if latency is None:
            return tail
        bands = latency.bands
        first = None if value is None or not bands else min(band_of(scale, value), max(bands))
        for index, band in bands.items():
            if first is None or index >= first:
                tail.take(band)
        lowest = -math.inf if first is None else first
        tail.complete = latency.unsplit == -math.inf or band_of(scale, latency.unsplit) < lowest
        return tail

    def at(self, metric: str, scale: str, value: float) -> Tail:
        """The cases in the band of `value`: those at a statistic, to the band's width."""
        tail = Tail()
        latency = self._latencies.get((metric, scale))
        if latency is None or not latency.bands:
            return tail
        index = min(band_of(scale, value), max(latency.bands))
        band = latency.bands.get(index)
        if band is not None:
            tail.take(band)
        return tail

    # -- carried between processes (replications) -----------------------------------------------

    def encode(self) -> list[dict[str, Any]]:
        return [
            {
                "metric": metric,
                "scale": scale,
                "unsplit": latency.unsplit if latency.unsplit > -math.inf else None,
                "bands": [
                    [index, band.cases, band.seconds, band.earlier, band.parts]
                    for index, band in latency.bands.items()
                ],
            }
            for (metric, scale), latency in self._latencies.items()
        ]

    def merge(self, encoded: Iterable[Mapping[str, Any]]) -> None:
        for row in encoded:
            key = (row["metric"], row["scale"])
            latency = self._latencies.get(key)
            if latency is None:
                latency = self._latencies[key] = Latency(*key, KEEP, None)
            if row["unsplit"] is not None:
                latency.unsplit = max(latency.unsplit, row["unsplit"])
            for index, cases, seconds, earlier, parts in row["bands"]:
                band = latency.bands.get(index)
                if band is None:
                    band = latency.bands[index] = Band()
                band.cases += cases
                band.seconds += seconds
                band.earlier += earlier
                for part, part_seconds in parts.items():
                    band.parts[part] = band.parts.get(part, 0.0) + part_seconds


def band_add(band: Band, parts: Parts, earlier: float, weight: int = 1) -> None:
    """A split case's parts into its band (after `Band.weight` counted it), for `weight`
    cases."""
    band.earlier += earlier * weight
    sums = band.parts
    for part, seconds in parts.items():
        seconds *= weight
        band.seconds += seconds
        sums[part] = sums.get(part, 0.0) + seconds
