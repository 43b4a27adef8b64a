"""The platform's agent for what happens beside the cases: subscribers' accounts of their
checks, and the counts the plan sets.

A subscriber tells the platform what its checks found on its own topic, which on a secure
cluster only it may write; the platform passes each on to the run's books, refusing one that
speaks for another subscriber. A counted event (an entity adopting the credit code) is counted
once per value: the platform keeps the values it has counted in a table keyed like the events,
and writes each the first time it is seen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import faust

from govstream.contracts.codec import AvroCodec, CodecError
from govstream.engines.kafka import headers as h
from govstream.engines.kafka.agents.shared import Outbox, about_case
from processors.flow import FlowSpec, Subscriber, Tally

NOT_ITS_OWN = "not-its-own-check"
"""Dead-letter reason for a subscriber's account that names another subscriber."""


class ForeignCheck(CodecError):
    reason = NOT_ITS_OWN


@dataclass
class BesideDeps:
    """The run's flows, the table of values counted (`<run>:<flow>:<count>:<value>` -> True; a
    faust Table, any mapping will do; it outlives a run, which counts its own), and where the
    platform sends."""

    flows: Mapping[str, FlowSpec]
    counted: MutableMapping[str, Any]
    outbox: Outbox
    codec: AvroCodec
    uses: dict[str, tuple[FlowSpec, Subscriber]] = field(init=False)
    tallies: dict[str, tuple[FlowSpec, Tally]] = field(init=False)

    def __post_init__(self) -> None:
        self.uses = {
            s.uses: (flow, s)
            for flow in self.flows.values()
            if flow.publication is not None
            for s in flow.publication.subscribers
        }
        self.tallies = {t.topic: (flow, t) for flow in self.flows.values() for t in flow.tallies}

    @property
    def topics(self) -> list[str]:
        return [*self.uses, *self.tallies]


def beside(deps: BesideDeps) -> Callable[[faust.StreamT], Awaitable[None]]:
    """The agent function, for ``app.agent(topics, name="beside")``."""

    async def take_all(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await take(deps, event)

    return take_all


async def take(deps: BesideDeps, event: faust.EventT) -> None:
    topic = event.message.topic
    with about_case(event) as trace:
        try:
            value = deps.codec.decode(event.value, expected_topic=topic).value
            if topic in deps.uses:
                flow, subscriber = deps.uses[topic]
                if value["subscriber"] != subscriber.agency:
                    raise ForeignCheck(
                        f"{subscriber.agency} told of a check by {value['subscriber']!r}",
                        topic=topic,
                    )
                assert flow.publication is not None
                told = flow.publication.uses_told
                await deps.outbox.record(told, str(value["uscc"]), value, h.carry(trace))
                return
            flow, tally = deps.tallies[topic]
            counted = tally.distinct(value)
            key = f"{trace.get(h.RUN, '')}:{flow.id}:{tally.id}:{counted}"
            if key not in deps.counted:
                deps.counted[key] = True
                record = {"count": tally.id, "value": counted}
                await deps.outbox.record(tally.counted, counted, record, h.carry(trace))
        except CodecError as error:
            await deps.outbox.dead_letter(event, error.reason, error)
