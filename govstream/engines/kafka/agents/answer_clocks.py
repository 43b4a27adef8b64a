"""The clock a step goes on from when it follows several answers.

Answers reach the orchestrator in wall-clock order, which is business order only up to the
platform's lag times the speedup: under load, a bank that froze late on the business clock may
answer before one that froze early. A step that joins several answers (`after` several steps,
or the items of a step done per item) starts when the last of them is in, but on the business
clock it starts when the latest of them was done, whichever arrived last. So the orchestrator
keeps each answer's case clock, and a request that follows several answers carries the latest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from govstream.engines.kafka import headers as h
from processors.flow import FlowSpec, unit_step

Clocks = dict[str, dict[str, str]]
"""Each answered unit of a case (a step, or a step's item) -> the case clock its answer carried."""


def clock_marks(trace: Mapping[str, str]) -> dict[str, str]:
    return {key: trace[key] for key in h.CASE_CLOCK if key in trace}


def ahead(marks: Mapping[str, str]) -> float:
    """How far a clock's business time runs ahead of the case's wall clock: the business time
    its stays at agencies stood for, less the wall time they took, plus the exchange's delays."""
    return (
        (h.mark(marks, h.AGENCY_BUSINESS) or 0.0)
        - (h.mark(marks, h.AGENCY_WALL) or 0.0)
        + (h.mark(marks, h.EXCHANGE) or 0.0)
    )


def latest(trace: Mapping[str, str], clocks: Clocks, units: Iterable[str]) -> dict[str, str]:
    """`trace` on the latest business clock among the answers of `units` (itself if none)."""
    candidates = [clocks[unit] for unit in units if unit in clocks]
    if not candidates:
        return dict(trace)
    return {**trace, **max(candidates, key=ahead)}


def joined_units(flow: FlowSpec, step_id: str, clocks: Clocks) -> list[str]:
    """The answered units a step follows: those of the steps it depends on."""
    after = set(flow.step(step_id).after)
    return [unit for unit in clocks if unit_step(unit) in after]


def step_units(step_id: str, clocks: Clocks) -> list[str]:
    """The answered units of one step: itself, or its items."""
    return [unit for unit in clocks if unit_step(unit) == step_id]
