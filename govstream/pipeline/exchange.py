"""The government data exchange: how long a message takes between an agency and the platform.

The scenario models it (`transport.latency`). Each crossing's delay is drawn from what the
message is (its case, its step and its direction; see `draws`), so both engines draw the same
delay for the same message whatever order things happen in. The sim engine waits it out; the
kafka engine adds it to the hop it measured, so a run on Kafka judges the network the sim engine
judged plus what the real platform took. `transport: measured` leaves the model out on Kafka and
judges the real network alone.
"""

from __future__ import annotations

from enum import StrEnum

from govstream.distributions import Constant
from govstream.pipeline.draws import KeyedDraws
from govstream.scenario.model import Scenario


class Crossing(StrEnum):
    """The three ways a message crosses the exchange."""

    TRIGGER = "trigger"
    """The source agency's trigger, to the platform."""
    REQUEST = "request"
    """A step's request, from the platform to its agency."""
    OUTCOME = "outcome"
    """The agency's answer, back to the platform."""


class Exchange:
    """The drawn delay of each crossing, in business seconds."""

    def __init__(self, scenario: Scenario) -> None:
        transport = scenario.transport
        self.measured = transport.measured
        """No model: the kafka engine's measured hops are the whole transport."""
        latency = transport.latency
        self._constant = latency.value.seconds if isinstance(latency, Constant) else None
        self._quantile = latency.quantile()
        self._draws = KeyedDraws(scenario.seed, "exchange")

    def delay(self, crossing: Crossing, case_id: str, step: str = "") -> float:
        if self.measured:
            return 0.0
        if self._constant is not None:
            return self._constant
        return self._quantile(self._draws.uniform(case_id, step, crossing))
