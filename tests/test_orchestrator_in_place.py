"""The orchestrator's two shortcuts, on every flow of the plan: an answer that changes the state
in place (the sim engine's) and a fan-out's answer that skips the walk of the graph.

Each flow's cases are walked twice, by a copying orchestrator and an in-place one, answered
alike (some rejected, in an order that is not the order the requests went out); every
transition, request, completion, hand-over and mark must be the same, and the copying one must
leave every state it was given as it was.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any

import pytest

from govstream.pipeline.schedule import case_id
from processors import FLOWS
from processors.agency import outcome_for
from processors.events import Emit
from processors.orchestrator import Orchestrator, Progress, case_marks

DAY = dt.date(2021, 6, 1)
CASES = 40


def _seen(progress: Progress) -> tuple[Any, ...]:
    completion = progress.completion
    return (
        progress.transition,
        [(e.topic, e.key, e.step, e.recipient, dict(e.value)) for e in progress.emits],
        None if completion is None else (completion.rejected, completion.emit.value),
        [(s.flow, s.emit.key, dict(s.emit.value), s.at) for s in progress.started],
    )


def _walk(orchestrator: Orchestrator, trigger: dict[str, Any], seed: str) -> list[tuple[Any, ...]]:
    """One case answered to the end; what each transition did, and the marks at the end."""
    rng, order = random.Random(f"answers:{seed}"), random.Random(f"order:{seed}")
    progress = orchestrator.open(None, trigger, opened_at=0.0, now=0.0)
    seen, pending, clock = [_seen(progress)], list(progress.emits), 0.0
    while pending and progress.completion is None:
        emit: Emit = pending.pop(order.randrange(len(pending)))
        step = orchestrator.flow.step(str(emit.step))
        reason = "refused" if order.random() < 0.2 else None
        outcome = outcome_for(orchestrator.flow, step, emit.value, rng, rejected_reason=reason)
        value = dict(outcome.value)
        given = progress.state
        before = None if orchestrator.in_place else copy.deepcopy(given)
        clock += 1.0
        progress = orchestrator.record(given, value, clock, clock - 0.5)
        if before is not None:
            assert given == before, "a copying orchestrator never changes the state it is given"
        seen.append(_seen(progress))
        pending += [e for e in progress.emits if not e.value.get("withdrawn")]
    seen.append(tuple(sorted(case_marks(progress.state).items())))
    return seen


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_an_answer_in_place_does_what_a_copy_does(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    generator = flow.source.make(random.Random(f"in-place:{flow_id}"), {})
    walked = 0
    for number in range(1, CASES + 1):
        trigger = generator.generate(case_id(flow_id, number), DAY)
        copying = _walk(Orchestrator(flow), copy.deepcopy(trigger), str(number))
        in_place = _walk(Orchestrator(flow, in_place=True), copy.deepcopy(trigger), str(number))
        assert in_place == copying
        walked += len(copying) > 2
    assert walked, "no case had an answer to record"


def test_a_fan_outs_answers_skip_the_walk_of_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    """F03's steps all fall due as its case opens: only the opening walks the graph."""
    walks: list[str] = []
    walk = Orchestrator._advance

    def counted(self: Orchestrator, state: Any, *args: Any, **kwargs: Any) -> Progress:
        walks.append(self.flow.id)
        return walk(self, state, *args, **kwargs)

    monkeypatch.setattr(Orchestrator, "_advance", counted)
    flows = {"F03": FLOWS["F03"], "F01": FLOWS["F01"]}
    answers: dict[str, int] = {}
    for flow_id, flow in flows.items():
        generator = flow.source.make(random.Random(f"walks:{flow_id}"), {})
        trigger = generator.generate(case_id(flow_id, 1), DAY)
        answers[flow_id] = len(_walk(Orchestrator(flow, in_place=True), trigger, "1")) - 2
    assert answers["F03"] >= 2 and walks.count("F03") == 1
    # a flow with steps after others walks the graph at each answer
    assert walks.count("F01") == 1 + answers["F01"]
