"""Creating the catalog's topics on a cluster, and reading how far consumers have got."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterable

import structlog
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic, OffsetSpec
from kafka.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    KafkaError,
    NotCoordinatorError,
    TopicAlreadyExistsError,
)
from kafka.partitioner.default import murmur2

from govstream.contracts.catalog import Catalog
from govstream.engines.kafka.access import ADMIN, access_for, kafka_python

log = structlog.get_logger(__name__)


Changelog = tuple[str, int, dict[str, str]]
"""A table's changelog topic: its name, partitions and topic configs."""


class BrokerUnavailable(RuntimeError):
    """No broker answered at the given address; the message says how to get one."""


def entity_partition(entity: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a message keyed by `entity`: a record
    keyed by entity and record goes where the entity's own checks go, so a subscriber's table
    and its checks of an entity meet on one worker."""
    return (murmur2(entity.encode()) & 0x7FFFFFFF) % partitions


def answers(address: str, timeout: float = 3.0) -> bool:
    """Whether `host:port` accepts a TCP connection: a broker process listening there."""
    host, _, port = address.strip().rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout):
            return True
    except (OSError, ValueError):
        return False


def admin_client(bootstrap: str, timeout_ms: int = 10_000) -> KafkaAdminClient:
    if not any(answers(address) for address in bootstrap.split(",")):
        raise BrokerUnavailable(
            f"no Kafka broker answers at {bootstrap}: start one with `govstream kafka up`, "
            "or pass --bootstrap HOST:PORT of a running cluster"
        )
    try:
        return KafkaAdminClient(
            client_id="govstream-admin",
            request_timeout_ms=timeout_ms,
            **kafka_python(bootstrap, ADMIN),
        )
    except (KafkaError, OSError) as error:
        raise BrokerUnavailable(
            f"no Kafka broker answers at {bootstrap} ({error.__class__.__name__}): start one "
            "with `govstream kafka up`, or pass --bootstrap HOST:PORT of a running cluster"
            + (
                ""
                if access_for(bootstrap).secure
                else "; if it is a secure cluster (`kafka up --secure`), point "
                "GOVSTREAM_KAFKA_HOME at the state dir it was started with"
            )
        ) from None


def broker_count(admin: KafkaAdminClient) -> int:
    return len(admin.describe_cluster().get("brokers", [])) or 1


def ensure_topics(admin: KafkaAdminClient, catalog: Catalog, topics: Iterable[str]) -> int:
    """Creates missing topics with the catalog's partitions; returns the replication factor."""
    replication = min(3, broker_count(admin))
    config = {"min.insync.replicas": "2"} if replication >= 3 else {}
    wanted = []
    for name in topics:
        if name == catalog.dead_letter_topic:
            partitions, compacted = catalog.dead_letter_partitions, False
        else:
            spec = catalog.topic(name)
            partitions, compacted = spec.partitions, spec.compacted
        own = {**config, **({"cleanup.policy": "compact"} if compacted else {})}
        wanted.append(NewTopic(name, partitions, replication, topic_configs=own))
    existing = set(admin.list_topics())
    missing = [topic for topic in wanted if topic.name not in existing]
    if missing:
        with contextlib.suppress(TopicAlreadyExistsError):  # another worker was quicker
            admin.create_topics(missing, timeout_ms=30_000)
        log.info("created topics", topics=[t.name for t in missing], replication=replication)
    return replication


def ensure_changelogs(
    admin: KafkaAdminClient, changelogs: Iterable[Changelog], replication: int
) -> None:
    """Creates the workers' table changelogs that are missing, before any worker starts.

    faust would create them itself as a worker starts, after its consumer has fetched the
    cluster's metadata: until that metadata is next refreshed (minutes later) the consumer
    sees a changelog of 0 partitions, and each write to the table fails faust's check that
    the changelog has its source topic's partitions. On a fresh cluster a run's first signals
    and records were dead-lettered so, and its cases waited on. Created here, they are in the
    metadata a worker fetches first."""
    existing = set(admin.list_topics())
    missing = [
        NewTopic(name, partitions, replication, topic_configs=dict(config))
        for name, partitions, config in changelogs
        if name not in existing
    ]
    if missing:
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(missing, timeout_ms=30_000)
        log.info("created changelogs", topics=[t.name for t in missing])


def consumer_lag(bootstrap: str, group: str, topics: Iterable[str]) -> int:
    """Messages on `topics` the group has not committed yet: 0 means its workers are idle."""
    return sum(_group_lag(bootstrap, group, list(topics)).values())


def skip_stale(bootstrap: str, group: str, topics: Iterable[str]) -> int:
    """Moves an idle group past everything on `topics`; returns how many messages it skipped."""
    lag = _group_lag(bootstrap, group, list(topics))
    behind = {tp: count for tp, count in lag.items() if count}
    if not behind:
        return 0
    admin = admin_client(bootstrap)
    try:
        admin.reset_group_offsets(group, dict.fromkeys(behind, OffsetSpec.LATEST))
    except KafkaError as error:  # workers started elsewhere are consuming: leave it to them
        log.warning("stale messages kept", group=group, reason=repr(error))
        return 0
    finally:
        admin.close()
    log.info("skipped stale messages", group=group, messages=sum(behind.values()))
    return sum(behind.values())


def _group_lag(
    bootstrap: str, group: str, topics: list[str], attempts: int = 60
) -> dict[TopicPartition, int]:
    """Per partition. A new cluster has no group coordinator until the first group request
    creates the offsets topic, a new coordinator loads the offsets before it answers, and a
    coordinator moves while a group's members (or the brokers) come and go; all three
    answers are waited out."""
    for attempt in range(attempts):
        try:
            return _lag_once(bootstrap, group, topics)
        except (
            CoordinatorLoadInProgressError,
            CoordinatorNotAvailableError,
            NotCoordinatorError,
        ):
            if attempt == attempts - 1:
                raise
            time.sleep(1.0)
    return {}


def _lag_once(bootstrap: str, group: str, topics: list[str]) -> dict[TopicPartition, int]:
    admin = admin_client(bootstrap)
    consumer = KafkaConsumer(client_id="govstream-lag", **kafka_python(bootstrap, ADMIN))
    try:
        committed = admin.list_group_offsets(group).get(group, {})
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(partitions)
        lag = {}
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag[tp] = max(0, ends[tp] - done)
        return lag
    finally:
        consumer.close()
        admin.close()
