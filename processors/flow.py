"""A flow of the plan as data: its trigger topic, and for each recipient a projection.

Keeping a flow declarative lets the fan-out, the case tracker, the catalog checks and the
reports all read the same description, so they cannot disagree about who receives what.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from processors.events import Record

Projection = Callable[[Record], Record | None]
"""Builds a recipient's request from the trigger, or None when this case has nothing for it."""


@dataclass(frozen=True, slots=True)
class Route:
    """Where one recipient's share of a case goes, and what it may see."""

    recipient: str
    topic: str
    project: Projection


@dataclass(frozen=True, slots=True)
class PlanTarget:
    """A time target as the plan states it, kept verbatim so reports can quote the source."""

    measure: str
    quote_zh: str
    meaning: str


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """One information-sharing flow: trigger, routes to recipients, and where outcomes land."""

    id: str
    title: str
    measures: tuple[str, ...]
    source_agency: str
    source_topic: str
    outcome_topic: str
    completed_topic: str
    routes: tuple[Route, ...]
    plan_targets: tuple[PlanTarget, ...] = field(default=())

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(route.recipient for route in self.routes)

    def route(self, recipient: str) -> Route:
        for candidate in self.routes:
            if candidate.recipient == recipient:
                return candidate
        raise KeyError(f"{self.id} has no recipient {recipient!r}; it has {self.recipients}")


def request_id(case_id: str, recipient: str) -> str:
    """Deterministic, so a redelivered trigger yields the same request and duplicates show."""
    return f"{case_id}/{recipient}"
