"""The government data exchange: how long a message takes between an agency and the platform.

The scenario models it (`transport.latency`). Each crossing's delay is drawn from what the
message is, its flow, its case's number, its step and its direction, rather than from a stream
shared with every other message, so both engines draw the same delay for the same message
whatever order things happen in. The sim engine waits it out; the kafka engine adds it to the
hop it measured, so a run on Kafka judges the network the sim engine judged plus what the real
platform took. `transport: measured` leaves the model out on Kafka and judges the real network
alone.
"""

from __future__ import annotations

from enum import StrEnum
from hashlib import blake2b

from govstream.distributions import Constant
from govstream.scenario.model import Scenario

_UNIT = 2.0**-53


class Crossing(StrEnum):
    """The three ways a message crosses the exchange."""

    TRIGGER = "trigger"
    """The source agency's trigger, to the platform."""
    REQUEST = "request"
    """A step's request, from the platform to its agency."""
    OUTCOME = "outcome"
    """The agency's answer, back to the platform."""


def run_free(case_id: str) -> str:
    """A case's id without the run id the kafka engine puts in it (`F03-<run>-0000001` and
    `F03-0000001` are the same case of the schedule)."""
    flow_id, *_, number = case_id.split("-")
    return f"{flow_id}-{number}"


class Exchange:
    """The drawn delay of each crossing, in business seconds."""

    def __init__(self, scenario: Scenario) -> None:
        transport = scenario.transport
        self.measured = transport.measured
        """No model: the kafka engine's measured hops are the whole transport."""
        latency = transport.latency
        self._constant = latency.value.seconds if isinstance(latency, Constant) else None
        self._quantile = latency.quantile()
        self._salt = f"{scenario.seed}:exchange:".encode()

    def delay(self, crossing: Crossing, case_id: str, step: str = "") -> float:
        if self.measured:
            return 0.0
        if self._constant is not None:
            return self._constant
        key = f"{crossing}:{run_free(case_id)}:{step}".encode()
        drawn = int.from_bytes(blake2b(self._salt + key, digest_size=8).digest(), "little")
        # 53 bits of the hash, centred in their interval: never 0 or 1.
        return self._quantile(((drawn >> 11) + 0.5) * _UNIT)
