"""The kafka engine: the same processors as faust agents on a real Apache Kafka cluster.

This package stays light so the CLI can list engines and register commands without loading
faust; `engine.run_on_kafka` does the work.
"""

from __future__ import annotations

from govstream.engines import RunSettings
from govstream.result import RunResult
from govstream.scenario.model import Scenario


class _Kafka:
    name = "kafka"
    summary = "the same step graphs as faust agents on a real Apache Kafka cluster"

    def run(self, scenario: Scenario, settings: RunSettings) -> RunResult:
        from govstream.engines.kafka.engine import run_on_kafka

        return run_on_kafka(scenario, settings)


ENGINE = _Kafka()
