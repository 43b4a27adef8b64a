"""Deciding that a freshly started cluster is ready for clients.

An open port is not enough: a KRaft broker accepts connections before it has registered with the
controller quorum, and a client that creates a replicated topic then fails with too few brokers.
Ready means a metadata request succeeds and reports every node as an unfenced broker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from govstream.broker.clients import ClientSettings
from govstream.broker.config import ClusterSpec
from govstream.broker.net import port_answers

POLL_INTERVAL_S = 0.5


def probe(spec: ClusterSpec, settings: ClientSettings | None = None) -> str | None:
    """None when the cluster is ready, else why it is not yet.

    A secure cluster is probed with ``settings`` (the launcher's admin principal).
    """
    closed = [p for p in spec.client_ports if not port_answers(p, spec.host)]
    if closed:
        return f"ports {closed} not accepting connections yet"
    # Imported here: kafka-python is heavy to import and only this probe needs it.
    from kafka import KafkaAdminClient

    admin: KafkaAdminClient | None = None
    kafka_logger = logging.getLogger("kafka")
    level = kafka_logger.level
    # kafka-python logs every refused early connection at ERROR; they are expected here.
    kafka_logger.setLevel(logging.CRITICAL)
    try:
        admin = KafkaAdminClient(
            client_id="govstream-launcher",
            request_timeout_ms=5000,
            **(settings or ClientSettings(spec.bootstrap)).kafka_python(),
        )
        described = admin.describe_cluster()
    except Exception as exc:  # any client failure only means "not yet"
        return f"metadata request failed: {type(exc).__name__}: {exc}"
    finally:
        if admin is not None:
            admin.close()
        kafka_logger.setLevel(level)
    brokers = [b for b in described.get("brokers", []) if not b.get("is_fenced", False)]
    if len(brokers) < spec.nodes:
        return f"{len(brokers)} of {spec.nodes} brokers registered"
    return None


def wait_ready(
    spec: ClusterSpec,
    timeout: float,
    check_alive: Callable[[], None],
    settings: ClientSettings | None = None,
) -> None:
    """Poll until :func:`probe` says ready; ``check_alive`` raises if a node died meanwhile.

    Raises TimeoutError carrying the last reason the cluster was not ready.
    """
    deadline = time.monotonic() + timeout
    while True:
        check_alive()
        reason = probe(spec, settings)
        if reason is None:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(reason)
        time.sleep(POLL_INTERVAL_S)
