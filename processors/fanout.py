"""Fan-out: one trigger in, one minimised request out per recipient that this case concerns."""

from __future__ import annotations

from processors.events import Emit, Record
from processors.flow import FlowSpec


class FanOut:
    """Projects a flow's trigger onto each recipient's contract.

    Which recipients a case has is decided here, from the trigger alone, and the case tracker
    asks the same question through `expected_recipients` so both always agree.
    """

    def __init__(self, flow: FlowSpec) -> None:
        self.flow = flow
        self.name = f"{flow.id.lower()}-fanout"
        self.input_topic = flow.source_topic

    def process(self, trigger: Record) -> list[Emit]:
        case_id = str(trigger["case_id"])
        emits: list[Emit] = []
        for route in self.flow.routes:
            request = route.project(trigger)
            if request is not None:
                emits.append(Emit(route.topic, case_id, request, route.recipient))
        return emits

    def expected_recipients(self, trigger: Record) -> frozenset[str]:
        return frozenset(emit.recipient for emit in self.process(trigger) if emit.recipient)
