"""The consumer-group settings that move a lost worker's partitions within seconds, and the
processing guarantee a scenario asks for, as the workers' faust app is configured.

The Kafka fault test kills a worker, checks that every case completes and prints how long the
group took to settle; whether that is fast rests on the settings checked here, without a broker
or a clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govstream.engines.kafka.app import (
    HEARTBEAT_SECONDS,
    REBALANCE_TIMEOUT_SECONDS,
    SESSION_TIMEOUT_SECONDS,
    app_id,
    build_app,
)
from govstream.scenario.loader import load_scenario

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "deregistration-fanout.yaml"
NO_BROKER = "127.0.0.1:1"
"""Building the app connects to nothing; the address is never dialled."""
BROKER_MIN_SESSION_TIMEOUT_SECONDS = 6.0
"""Kafka's default `group.min.session.timeout.ms`: a shorter session timeout is refused."""


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_a_silent_worker_is_given_up_within_seconds(guarantee: str) -> None:
    scenario = load_scenario(BASE, [f"kafka.guarantee={guarantee}"])
    conf = build_app(scenario, NO_BROKER).conf
    assert conf.broker_session_timeout == SESSION_TIMEOUT_SECONDS
    assert BROKER_MIN_SESSION_TIMEOUT_SECONDS <= SESSION_TIMEOUT_SECONDS <= 10.0
    assert conf.broker_heartbeat_interval == HEARTBEAT_SECONDS <= SESSION_TIMEOUT_SECONDS / 3
    assert conf.broker_rebalance_timeout == REBALANCE_TIMEOUT_SECONDS
    assert conf.processing_guarantee.value == guarantee


def test_exactly_once_runs_in_a_consumer_group_of_its_own() -> None:
    plain = load_scenario(BASE)
    eos = load_scenario(BASE, ["kafka.guarantee=exactly_once"])
    assert app_id(eos) == f"{app_id(plain)}-eos"
    assert build_app(eos, NO_BROKER).conf.stream_wait_empty
    assert not build_app(plain, NO_BROKER).conf.stream_wait_empty
