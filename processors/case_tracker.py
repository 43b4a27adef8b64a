"""Case tracking: a case is complete when every recipient it concerns has acted.

State is a plain dict per case so it can live in a faust Table as well as in a Python dict; the
functions never mutate their input, which keeps changelog-backed tables honest. Outcomes may
arrive before the trigger (they travel on different topics), so the state accepts either first.
Times are whatever clock the engine measures on (virtual seconds or wall seconds); the tracker
only subtracts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from processors.events import Emit, Record
from processors.flow import FlowSpec

CaseState = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CaseCompletion:
    """What finishing a case tells the metrics: latency per recipient and for the whole case."""

    case_id: str
    opened_at: float
    completed_at: float
    recipient_latency: Mapping[str, float]
    rejected: tuple[str, ...]
    emit: Emit

    @property
    def latency(self) -> float:
        return self.completed_at - self.opened_at


@dataclass(frozen=True, slots=True)
class TrackResult:
    state: CaseState
    completion: CaseCompletion | None = None
    duplicate: bool = False
    unexpected: bool = False


class CaseTracker:
    """Pure transitions over one case's state; the engine owns storage and clocks."""

    def __init__(self, flow: FlowSpec) -> None:
        self.flow = flow
        self.name = f"{flow.id.lower()}-case-tracker"

    def open(
        self, state: CaseState | None, case_id: str, expected: Iterable[str], opened_at: float
    ) -> TrackResult:
        current = _copy(state)
        if current.get("expected") is not None:
            return TrackResult(current, duplicate=True)
        current["case_id"] = case_id
        current["expected"] = sorted(expected)
        current["opened_at"] = opened_at
        # Outcomes that arrived before the trigger from agencies this case does not concern
        # were held without judgement; now they can be judged, and are not silently kept.
        strays = [r for r in current["acted"] if r not in current["expected"]]
        for recipient in strays:
            del current["acted"][recipient]
        result = self._maybe_complete(current)
        if strays:
            return TrackResult(result.state, result.completion, unexpected=True)
        return result

    def record(self, state: CaseState | None, outcome: Record, acted_at: float) -> TrackResult:
        current = _copy(state)
        recipient = str(outcome["recipient"])
        current.setdefault("case_id", str(outcome["case_id"]))
        acted = current["acted"]
        if recipient in acted or current.get("completed_at") is not None:
            return TrackResult(current, duplicate=True)
        expected = current.get("expected")
        if expected is not None and recipient not in expected:
            return TrackResult(current, unexpected=True)
        acted[recipient] = {"at": acted_at, "status": str(outcome["status"])}
        return self._maybe_complete(current)

    def _maybe_complete(self, state: CaseState) -> TrackResult:
        expected = state.get("expected")
        if expected is None or state.get("completed_at") is not None:
            return TrackResult(state)
        acted = state["acted"]
        if any(recipient not in acted for recipient in expected):
            return TrackResult(state)
        opened_at = float(state["opened_at"])
        completed_at = max((acted[r]["at"] for r in expected), default=opened_at)
        state["completed_at"] = completed_at
        rejected = tuple(r for r in expected if acted[r]["status"] != "COMPLETED")
        case_id = str(state["case_id"])
        emit = Emit(
            self.flow.completed_topic,
            case_id,
            {
                "case_id": case_id,
                "flow": self.flow.id,
                "recipients": list(expected),
                "rejected": list(rejected),
            },
        )
        completion = CaseCompletion(
            case_id=case_id,
            opened_at=opened_at,
            completed_at=completed_at,
            recipient_latency={r: acted[r]["at"] - opened_at for r in expected},
            rejected=rejected,
            emit=emit,
        )
        return TrackResult(state, completion)


def _copy(state: CaseState | None) -> CaseState:
    if state is None:
        return {"acted": {}}
    copied = dict(state)
    copied["acted"] = dict(state.get("acted", {}))
    return copied
