"""Which windows an event counts in, and when an entity's score reaches its threshold.

Flow F13 (plan measure 33) gathers court judgments, dishonesty records, inspection results and
complaints at the supervision platform, keyed by market entity; each adds a weight to the
entity's risk score over a window, and a score that reaches the threshold raises a risk warning
and sends a lead to an enforcement agency. The kafka engine keeps the scores in a faust windowed
table, so faust decides which windows an event counts in; the sim engine asks this module, which
does faust's arithmetic without faust, or the two engines would warn about different entities on
different days. The tests hold these ranges against faust's own.

Event times are seconds since an epoch (the run's start, or Unix time on Kafka), never negative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

WindowKind = Literal["tumbling", "hopping", "sliding"]
Range = tuple[float, float]
"""A window as faust names it: (start, end label); see `WindowSpec.ranges`."""

_END_GAP = 0.1
"""faust ends a window's label this far before the next window's start."""


@dataclass(frozen=True)
class WindowSpec:
    """A window as a faust table declares it, `.tumbling(size)` or `.hopping(size, step)`, or a
    sliding window, which faust's tables cannot keep (see `slide`). Sizes are in seconds."""

    kind: WindowKind
    size: float
    step: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("tumbling", "hopping", "sliding"):
            raise ValueError(
                f"a window is tumbling, hopping or sliding, not {self.kind!r}",
            )
        if not (math.isfinite(self.size) and self.size > 0):
            raise ValueError(
                f"a window's size must be a positive number of seconds, not {self.size}"
            )
        if self.kind == "hopping":
            if self.step is None:
                raise ValueError("a hopping window needs a step")
            if not (math.isfinite(self.step) and 0 < self.step <= self.size):
                raise ValueError(
                    f"a hopping window's step must be more than 0 and at most its size "
                    f"({self.size}), not {self.step}"
                )
        elif self.step is not None:
            raise ValueError(
                "only a hopping window has a step; a tumbling window moves by its size"
                if self.kind == "tumbling"
                else "only a hopping window has a step; a sliding window moves with each event"
            )
        if self.kind != "sliding":
            # faust steps through a window's starts with `range(int(first), int(t) + 1,
            # int(step))`: a fractional step or size would be truncated and the ranges would
            # miss the event (or, under a second, fail).
            for name, value in (("size", self.size), ("step", self._step)):
                if not float(value).is_integer():
                    raise ValueError(
                        f"a {self.kind} window's {name} must be whole seconds, as faust counts "
                        f"them, not {value}"
                    )
        object.__setattr__(self, "size", float(self.size))
        if self.step is not None:
            object.__setattr__(self, "step", float(self.step))

    @property
    def _step(self) -> float:
        return self.size if self.step is None else self.step

    def ranges(self, timestamp: float) -> list[Range]:
        """The windows an event at `timestamp` counts in, oldest first, as faust's
        `TumblingWindow(size).ranges` and `HoppingWindow(size, step).ranges` give them.

        faust (`faust/_cython/windows.pyx`, `HoppingWindow.ranges`; the same in
        `faust/windows.py` through `WindowRange_from_start` in `faust/types/windows.py`) starts
        at `floor(t / step) * step - size + step`, steps by `step` while the start is at most
        `int(t)`, and names each window `(start, start + size - 0.1)`. The table keys its scores
        by that pair, so the sim engine must name windows the same way, to the bit.

        The end is a label, not a bound: a window holds `[start, start + size)`. The `- 0.1`
        keeps one window's label from ending where the next one's starts, but membership is
        decided by the floor above, so an event at 9.95 in tumbling windows of 10 counts in
        `(0.0, 9.9)` and one at 10 in `(10.0, 19.9)`. The first start is below zero for events
        earlier than `size`, and when `size` is not a multiple of `step` the starts sit off the
        step grid, shifted back by the remainder (size 10, step 3: -1, 2, 5, 8): faust's
        windows, so ours.

        A sliding window is the one ending at the event, `(t - size, t)`: it holds the events
        after its start and up to and including `t`. An event exactly `size` earlier is out, as
        two events `size` apart never share a tumbling or hopping window (an event at
        `start + size` opens the next one): "within 30 days" means less than 30 days apart
        whichever kind of window a scenario chooses.
        """
        _check_time(timestamp)
        if self.kind == "sliding":
            return [(timestamp - self.size, timestamp)]
        first = self._first_start(timestamp)
        return [
            (float(start), start + self.size - _END_GAP)
            for start in range(int(first), int(timestamp) + 1, int(self._step))
        ]

    def current(self, timestamp: float) -> Range:
        """The latest-starting window holding `timestamp`: what faust's `WindowSet.current()`
        and `.value()` read for an event at that time (`HoppingWindow.current`), and so what a
        score is read from. The newest window has the fewest events, which is faust's choice;
        a sliding window has one window per time, the one ending there.

        faust finds it by `floor((t - first) / step)` rather than from `ranges`: a time one ulp
        short of a step's edge rounds up to it and gets the window opening there, which does
        not hold it (and holds nothing yet). The same arithmetic here reads the same window."""
        _check_time(timestamp)
        if self.kind == "sliding":
            return (timestamp - self.size, timestamp)
        step = self._step
        first = self._first_start(timestamp)
        start = first + step * math.floor((timestamp - first) / step)
        return (start, start + self.size - _END_GAP)

    def _first_start(self, timestamp: float) -> float:
        # faust's `_start_initial_range`, in the compiled module's order of operations. (That
        # module holds `floor(t / step)` in a C int, which overflows past 2**31 steps, 2038 for
        # one-second steps of Unix time; a window of days is far from it.)
        step = self._step
        return math.floor(timestamp / step) * step - self.size + step


def _check_time(timestamp: float) -> None:
    # faust truncates times toward zero (`int(t)`), which for a negative fractional time puts
    # an event in a tumbling window it does not belong to, besides its own.
    if not (math.isfinite(timestamp) and timestamp >= 0):
        raise ValueError(f"an event time is seconds since an epoch, never negative: {timestamp}")


def _check_weight(weight: float) -> None:
    # With weights never below zero a window's score only rises while it is open, so it crosses
    # the threshold once at most and the book keeps no flag to say it has warned.
    if not (math.isfinite(weight) and weight >= 0):
        raise ValueError(f"an event's weight must be zero or more, not {weight}")


def crosses(before: float, after: float, threshold: float) -> bool:
    """Whether an event took a score to the threshold: reaching it warns, as does passing it;
    a score already there does not warn again. Both engines decide with this."""
    return before < threshold <= after


def sliding_score(recent: Sequence[tuple[float, float]], at: float, size: float) -> float:
    """The score of the sliding window ending at `at`: the weights of the events after
    `at - size` (see `WindowSpec.ranges`). Summed exactly (`math.fsum`), so the score does not
    depend on which events were dropped before or in what order they were summed."""
    start = at - size
    return math.fsum(weight for time, weight in recent if start < time <= at)


class Slide(NamedTuple):
    """One event added to a sliding window."""

    recent: list[tuple[float, float]]
    """The events still in the window, this one last: what to keep for the entity."""
    before: float
    """The score of the window ending at the event, without it."""
    after: float
    """The same window's score with it."""


def slide(recent: Sequence[tuple[float, float]], at: float, weight: float, size: float) -> Slide:
    """Add an event to an entity's sliding window.

    faust's `SlidingWindow(before, after)` names one range per event, `(t - before,
    t + after)`, so a table keyed by it holds each event's own value and never a sum over the
    others: a faust table cannot keep a sliding score. The kafka engine keeps instead, in a
    plain table keyed by entity, the entity's recent `(time, weight)` pairs, and calls this on
    each event; the sim engine's `ScoreBook` calls it too. Pairs older than the window are
    dropped here, so what is kept stays one window long however long the run.

    An entity's events come in time order (Kafka delivers one key's messages in order); an
    event earlier than the last one kept is refused rather than scored against a window it
    does not end.
    """
    _check_time(at)
    _check_weight(weight)
    if recent and at < recent[-1][0]:
        raise ValueError(
            f"an entity's events must come in time order: one at {at} after one at {recent[-1][0]}"
        )
    start = at - size
    kept = [(time, held) for time, held in recent if time > start]
    before = sliding_score(kept, at, size)
    kept.append((at, weight))
    return Slide(kept, before, sliding_score(kept, at, size))


@dataclass(frozen=True)
class Crossing:
    """An event that took an entity's score to the threshold: a risk warning, and its lead."""

    key: str
    """The market entity (its USCC)."""
    at: float
    window: Range
    """The window that reached the threshold, named as `WindowSpec.ranges` names it."""
    score_before: float
    score_after: float
    threshold: float


class _Entity:
    """What one entity's later events can still count against."""

    __slots__ = ("last", "recent", "windows")

    def __init__(self, at: float) -> None:
        self.last = at
        self.windows: dict[float, float] = {}
        """Tumbling or hopping: each open window's score, by its start."""
        self.recent: list[tuple[float, float]] = []
        """Sliding: the events still in the window."""


class ScoreBook:
    """Every entity's risk score over one kind of window, and the events that take it to the
    threshold.

    A tumbling or hopping window's score is the sum of the weights of its events, added in
    arrival order as faust's table adds them (every range of `ranges(at)` gets the weight). A
    sliding score is the sum over the window ending at the event. The book keeps only what an
    entity's later events can still count against: an event closes the entity's windows that
    end by its time (a sliding window drops events `size` or more older), and `expire_before`
    drops what entities that have gone quiet still hold, so a year of events over the
    district's entities holds at most a window's worth each.

    An entity's events come in time order, as Kafka delivers one key's messages; the book
    refuses an earlier one (its windows may be gone) instead of reordering.
    """

    def __init__(self, spec: WindowSpec, threshold: float) -> None:
        if not (math.isfinite(threshold) and threshold > 0):
            # An empty window scores 0: a threshold at or below it would stand crossed before
            # any event, and no event could cross it.
            raise ValueError(f"a threshold must be more than 0, not {threshold}")
        self.spec = spec
        self.threshold = threshold
        self._entities: dict[str, _Entity] = {}
        self._horizon = -math.inf

    def add(self, key: str, at: float, weight: float) -> Crossing | None:
        """Count an event, and say whether it took a window of its entity to the threshold.

        Of several hopping windows that cross at the same event, the earliest-starting one is
        the warning: one event, one warning, one lead about the entity. The later ones have
        reached the threshold too and will not warn for it again. A sliding score warns again
        only after an event finds it below the threshold, which is `crosses` itself: the score
        before the event must be under it.
        """
        _check_time(at)
        _check_weight(weight)
        entity = self._entities.get(key)
        self._check_order(key, at, entity)
        if entity is None:
            entity = self._entities[key] = _Entity(at)
        entity.last = at
        threshold, size = self.threshold, self.spec.size
        if self.spec.kind == "sliding":
            slid = slide(entity.recent, at, weight, size)
            entity.recent = slid.recent
            if crosses(slid.before, slid.after, threshold):
                return Crossing(key, at, (at - size, at), slid.before, slid.after, threshold)
            return None
        windows = {start: score for start, score in entity.windows.items() if start + size > at}
        crossing = None
        for window in self.spec.ranges(at):
            start = window[0]
            before = windows.get(start, 0.0)
            after = windows[start] = before + weight
            if crossing is None and crosses(before, after, threshold):
                crossing = Crossing(key, at, window, before, after, threshold)
        entity.windows = windows
        return crossing

    def score(self, key: str, at: float) -> float:
        """An entity's score at `at`, its last event's time or later: the window faust's
        `.current()` reads (`WindowSpec.current`), or the sliding window ending at `at`. Earlier
        times are refused, their windows may be gone."""
        entity = self._entities.get(key)
        self._check_order(key, at, entity)
        if self.spec.kind == "sliding":
            _check_time(at)
            return sliding_score(entity.recent, at, self.spec.size) if entity else 0.0
        start = self.spec.current(at)[0]
        return entity.windows.get(start, 0.0) if entity else 0.0

    def expire_before(self, t: float) -> None:
        """Forget what no event at `t` or later can count in: tumbling and hopping windows that
        end by `t` (`start + size <= t`; the end, not faust's label, see `WindowSpec.ranges`),
        sliding events at `t - size` or earlier, and entities left with nothing. Events before
        `t` are refused from then on."""
        self._horizon = max(self._horizon, t)
        size = self.spec.size
        for key in list(self._entities):
            entity = self._entities[key]
            entity.windows = {
                start: score for start, score in entity.windows.items() if start + size > t
            }
            entity.recent = [(time, weight) for time, weight in entity.recent if time > t - size]
            if not (entity.windows or entity.recent):
                del self._entities[key]

    def __len__(self) -> int:
        """Scores and events held: tumbling or hopping windows, or sliding events."""
        return sum(len(entity.windows) + len(entity.recent) for entity in self._entities.values())

    def __contains__(self, key: object) -> bool:
        """Whether the book holds anything for an entity."""
        return key in self._entities

    def _check_order(self, key: str, at: float, entity: _Entity | None) -> None:
        if entity is not None and at < entity.last:
            raise ValueError(
                f"{key}'s events must come in time order: {at} is before its event at {entity.last}"
            )
        if at < self._horizon:
            raise ValueError(
                f"the book has forgotten what came before {self._horizon} (expire_before): "
                f"{key} at {at} cannot be counted"
            )
