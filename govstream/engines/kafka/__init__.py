"""The kafka engine: the same processors as faust agents on a real Apache Kafka cluster."""

from govstream.engines.kafka.engine import run_on_kafka

__all__ = ["run_on_kafka"]
