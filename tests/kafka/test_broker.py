"""The broker the kafka engine relies on: both Python clients against it, and the launcher itself.

These prove the pinned Kafka release works with kafka-python (producers) and aiokafka (faust's
transport), and that a 3-node cluster really replicates with ``min.insync.replicas=2``.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from govstream.broker import BrokerError, ClusterInfo, down, status, up
from govstream.broker.net import free_ports, port_answers

pytestmark = pytest.mark.kafka

MESSAGES = 100
CONSUME_TIMEOUT_S = 60.0


def _topic(prefix: str) -> str:
    return f"gs-test-{prefix}-{uuid.uuid4().hex[:8]}"


def _create_topic(bootstrap: str, name: str, partitions: int, replication: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=replication)],
            timeout_ms=30000,
        )
    finally:
        admin.close()


def _produce(bootstrap: str, topic: str, count: int) -> list[tuple[int, int]]:
    """Send ``count`` keyed messages idempotently with acks=all; return (partition, offset)s."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    try:
        futures = [
            producer.send(topic, key=f"case-{i % 7}".encode(), value=f"event-{i}".encode())
            for i in range(count)
        ]
        producer.flush(timeout=30)
        return [(m.partition, m.offset) for m in (f.get(timeout=30) for f in futures)]
    finally:
        producer.close(timeout=10)


def test_kafka_python_idempotent_roundtrip(kafka_bootstrap: str) -> None:
    topic = _topic("kp")
    _create_topic(kafka_bootstrap, topic, partitions=3, replication=1)

    placed = _produce(kafka_bootstrap, topic, MESSAGES)
    assert len(set(placed)) == MESSAGES, "each message must land at its own offset"

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topic}-readers",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    received: list[tuple[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + CONSUME_TIMEOUT_S
        while len(received) < MESSAGES and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                received.extend((r.key, r.value) for r in records)
        consumer.commit()
    finally:
        consumer.close()

    expected = {(f"case-{i % 7}".encode(), f"event-{i}".encode()) for i in range(MESSAGES)}
    assert len(received) == MESSAGES
    assert set(received) == expected


def test_aiokafka_consumer_group_roundtrip(kafka_bootstrap: str) -> None:
    topic = _topic("aio")
    _create_topic(kafka_bootstrap, topic, partitions=3, replication=1)
    count = 50

    async def roundtrip() -> tuple[list[bytes], int]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for i in range(count):
                await producer.send_and_wait(topic, key=str(i).encode(), value=f"a-{i}".encode())
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=f"{topic}-group",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        values: list[bytes] = []
        try:
            deadline = time.monotonic() + CONSUME_TIMEOUT_S
            while len(values) < count and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                values.extend(r.value for records in batches.values() for r in records)
            await consumer.commit()
            committed = 0
            for p in range(3):
                committed += await consumer.committed(TopicPartition(topic, p)) or 0
        finally:
            await consumer.stop()
        return values, committed

    values, committed = asyncio.run(roundtrip())
    assert sorted(values) == sorted(f"a-{i}".encode() for i in range(count))
    assert committed == count, "the group's committed offsets must cover every message"


def test_three_node_cluster_replicates(kafka_cluster3: ClusterInfo) -> None:
    bootstrap = kafka_cluster3.bootstrap
    assert kafka_cluster3.nodes == 3
    assert len(bootstrap.split(",")) == 3
    topic = _topic("rf3")
    _create_topic(bootstrap, topic, partitions=3, replication=3)

    placed = _produce(bootstrap, topic, 30)
    assert len(placed) == 30

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        brokers = admin.describe_cluster()["brokers"]
        (described,) = admin.describe_topics([topic])
        configs = admin.describe_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, topic, configs={"min.insync.replicas": None}
                )
            ],
            config_filter="all",
        )
    finally:
        admin.close()

    assert len(brokers) == 3
    partitions = described["partitions"]
    assert len(partitions) == 3
    for partition in partitions:
        assert sorted(partition["replica_nodes"]) == [0, 1, 2]
        assert sorted(partition["isr_nodes"]) == [0, 1, 2]
    assert configs["topic"][topic]["min.insync.replicas"]["value"] == "2"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def test_launcher_reports_reuses_and_stops(tmp_path: Path, kafka_cluster3: ClusterInfo) -> None:
    """``up`` twice gives one cluster; ``down`` leaves no broker process behind.

    Requests ``kafka_cluster3`` only so that it is skipped or failed the same way when the
    launcher cannot run here, and so that two clusters side by side are shown not to mix up.
    """
    client_port, controller_port = free_ports(2)
    try:
        first = up(1, port=client_port, controller_port=controller_port, state_dir=tmp_path)
        assert first.running
        assert first.bootstrap == f"127.0.0.1:{client_port}"
        pids = first.pids
        assert len(pids) == 1

        seen = status(tmp_path)
        assert seen is not None and seen.running
        assert seen.pids == pids and seen.cluster_id == first.cluster_id

        again = up(1, port=client_port, controller_port=controller_port, state_dir=tmp_path)
        assert again.pids == pids, "a second up must not start another broker"
        assert again.cluster_id == first.cluster_id

        with pytest.raises(BrokerError, match="already running"):
            up(3, port=client_port, state_dir=tmp_path)

        assert set(pids).isdisjoint(kafka_cluster3.pids)
        assert down(tmp_path) is True
    finally:
        down(tmp_path)

    for pid in pids:
        assert not _pid_exists(pid), f"broker {pid} survived down()"
    assert not port_answers(client_port)
    assert status(tmp_path) is None
    assert not list(tmp_path.glob("node-*/kafka.pid"))
    assert down(tmp_path) is False
    assert kafka_cluster3.pids and all(_pid_exists(p) for p in kafka_cluster3.pids)
