"""Reading topics from their current ends in a thread, on this process's clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import structlog
from kafka import KafkaConsumer, TopicPartition

from govstream.engines.kafka.access import COLLECTOR, kafka_python

log = structlog.get_logger(__name__)


class TopicTail(threading.Thread):
    """Hands every record written to `topics` after construction to `take`, with the time seen.

    Start positions are fixed in the constructor, before anything is emitted, so nothing
    written afterwards can be missed; no consumer group, so nothing is committed or shared.
    A failure is kept in `error` for the owner to report: a silent reader would lie.
    """

    def __init__(
        self,
        bootstrap: str,
        topics: Iterable[str],
        *,
        name: str,
        principal: str = COLLECTOR,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.error: Exception | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._consumer = KafkaConsumer(
            **kafka_python(bootstrap, principal),
            client_id=name,
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=50,
        )
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        self._consumer.assign(partitions)
        self._consumer.seek_to_end()
        for tp in partitions:
            self._consumer.position(tp)

    @property
    def lock(self) -> threading.Lock:
        """Held while records are taken: read what `take` builds under it."""
        return self._lock

    def take(self, record: Any, seen: float) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                batches = self._consumer.poll(timeout_ms=100)
                seen = time.time()
                with self._lock:
                    for records in batches.values():
                        for record in records:
                            self.take(record, seen)
        except Exception as error:
            self.error = error
            log.error("topic reader failed", reader=self.name, error=repr(error))
        finally:
            self._consumer.close()
