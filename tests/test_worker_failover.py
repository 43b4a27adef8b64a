"""The consumer-group settings that move a lost worker's partitions within seconds, and the
processing guarantee, as the workers' faust app is configured.

The Kafka fault test kills a worker, checks that every case completes and prints how long the
group took to settle; whether that is fast rests on the settings checked here, without a broker
or a clock.
"""

from __future__ import annotations

from pathlib import Path

from govstream.engines.kafka.app import (
    HEARTBEAT_SECONDS,
    REBALANCE_TIMEOUT_SECONDS,
    SESSION_TIMEOUT_SECONDS,
    build_app,
)
from govstream.scenario.loader import load_scenario

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "deregistration-fanout.yaml"
NO_BROKER = "127.0.0.1:1"
"""Building the app connects to nothing; the address is never dialled."""
BROKER_MIN_SESSION_TIMEOUT_SECONDS = 6.0
"""Kafka's default `group.min.session.timeout.ms`: a shorter session timeout is refused."""


def test_a_silent_worker_is_given_up_within_seconds() -> None:
    conf = build_app(load_scenario(BASE), NO_BROKER).conf
    assert conf.broker_session_timeout == SESSION_TIMEOUT_SECONDS
    assert BROKER_MIN_SESSION_TIMEOUT_SECONDS <= SESSION_TIMEOUT_SECONDS <= 10.0
    assert conf.broker_heartbeat_interval == HEARTBEAT_SECONDS <= SESSION_TIMEOUT_SECONDS / 3
    assert conf.broker_rebalance_timeout == REBALANCE_TIMEOUT_SECONDS


def test_workers_process_at_least_once_without_waiting_for_the_work_in_hand() -> None:
    """faust's exactly_once is refused by validation; a rebalance does not wait for the clerks
    (faust's default would), since what they hold is uncommitted and is done again."""
    conf = build_app(load_scenario(BASE), NO_BROKER).conf
    assert conf.processing_guarantee.value == "at_least_once"
    assert not conf.stream_wait_empty
    assert conf.recovery_consistency_check
