"""A replayed message on the Kafka engine: the orchestrator's stored case state names the
message whose handling wrote it, so a replay of that very message (after a worker was lost)
can be told from any other duplicate and send again what the state says is outstanding.
"""

from __future__ import annotations

from pathlib import Path

from govstream.contracts.catalog import load_catalog
from govstream.contracts.codec import AvroCodec
from govstream.engines.kafka.agents.orchestrator import WRITTEN_BY, TableCodec, position
from govstream.pipeline.schedule import trigger_makers
from govstream.scenario.loader import load_scenario
from processors import FLOWS
from processors.orchestrator import Orchestrator

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "deregistration-fanout.yaml"


def test_a_stored_case_names_the_message_that_wrote_it_and_loads_as_it_was() -> None:
    """The mark is kept beside the state and never reaches the orchestrator, and what is
    outstanding on a fresh case is what opening it sent."""

    class Message:
        topic, partition, offset = "amr.company-deregistered.v1", 3, 1234

    scenario = load_scenario(BASE)
    orchestrator = Orchestrator(FLOWS["F03"])
    trigger = trigger_makers(scenario)["F03"]("F03-0000001-r", scenario.start.date())
    state = orchestrator.open(None, trigger, 0.0, 0.0).state
    codec = TableCodec(AvroCodec(load_catalog()))
    stored = codec.dump("F03", state, position(Message))
    assert stored[WRITTEN_BY] == "amr.company-deregistered.v1/3/1234"
    loaded = codec.load(stored)
    assert loaded == state
    assert orchestrator.outstanding(loaded) == orchestrator.open(None, trigger, 0.0, 0.0).emits
