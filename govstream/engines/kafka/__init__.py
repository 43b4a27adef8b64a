"""The kafka engine: the same processors as faust agents on a real Apache Kafka cluster.

Import `govstream.engines.kafka.engine` for `run_on_kafka`; this package stays light so the
CLI can register its commands without loading faust.
"""
