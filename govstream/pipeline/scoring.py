"""A scoring flow's scores on the sim engine: each signal weighed into its entity's windows, and
the crossing it makes, told as the flow's trigger needs it.

The arithmetic is `windows.ScoreBook`'s, which does faust's: the kafka engine's scorer keeps the
same scores in a faust windowed table (`engines/kafka/agents/scorer.py`) and decides a crossing
with the same `windows.crosses`, so both engines warn about the same entities at the same
signals. Beside the book, each entity's recent signals are kept for as long as a window can
hold them, so a warning can name the signals that made its score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govstream.pipeline.windows import Crossing, ScoreBook, WindowSpec
from processors.flow import Crossed, Scoring

Held = tuple[float, str, str]
"""A signal still in an entity's windows: its time, kind and event id."""


def held_in(window: tuple[float, float], spec: WindowSpec, held: list[Held]) -> list[Held]:
    """The signals a window holds: from its start to before its end for tumbling and hopping
    windows (`WindowSpec.ranges`: the end is a label), after its start up to its end for a
    sliding one."""
    start, end = window
    if spec.kind == "sliding":
        return [signal for signal in held if start < signal[0] <= end]
    return [signal for signal in held if start <= signal[0] < start + spec.size]


class Scorer:
    """One scoring flow's scores over a run."""

    def __init__(self, scoring: Scoring, spec: WindowSpec, threshold: float) -> None:
        self.scoring = scoring
        self.spec = spec
        self.book = ScoreBook(spec, threshold)
        self._held: dict[str, list[Held]] = {}

    def weigh(self, kind: str, signal: Mapping[str, Any]) -> float:
        return self.scoring.weight(kind, signal)

    def take(self, kind: str, signal: Mapping[str, Any], at: float) -> Crossed | None:
        """Count a signal reported at `at` (Unix seconds on the scores' clock): None, or the
        crossing it made. A signal that weighs nothing (an inspection passed) is not counted:
        it cannot move a score."""
        weight = self.weigh(kind, signal)
        if weight <= 0:
            return None
        key = self.scoring.key(signal)
        held = [item for item in self._held.get(key, ()) if item[0] > at - self.spec.size]
        held.append((at, kind, str(signal["event_id"])))
        self._held[key] = held
        crossing = self.book.add(key, at, weight)
        if crossing is None:
            return None
        return crossed(
            crossing, str(signal["company_name"]), held_in(crossing.window, self.spec, held)
        )


def crossed(crossing: Crossing, company_name: str, held: list[Held]) -> Crossed:
    return Crossed(
        crossing.key,
        company_name,
        crossing.window,
        crossing.score_after,
        crossing.threshold,
        tuple((kind, event) for _, kind, event in held),
    )
