"""Rebuilding an agency's queue on Kafka from its requests' delivered / taken / acted marks."""

from __future__ import annotations

import random

import simpy

from govstream.engines.kafka.queue_depth import RequestSpan, peak_queue


def test_idle_clerks_mean_no_queue_despite_scheduling_gaps() -> None:
    # each request waits a millisecond for the event loop, but a clerk is always free
    spans = [RequestSpan(t, t + 0.001, t + 0.5) for t in range(10)]
    assert peak_queue(spans, clerks=1) == 0


def test_requests_behind_a_busy_clerk_queue() -> None:
    # one clerk, three requests at once, each served for 1 s in turn
    spans = [RequestSpan(0.0, float(i), float(i + 1)) for i in range(3)]
    assert peak_queue(spans, clerks=1) == 2
    assert peak_queue(spans, clerks=3) == 0


def test_a_clerk_freed_as_a_request_arrives_takes_it_without_a_queue() -> None:
    spans = [RequestSpan(0.0, 0.0, 1.0), RequestSpan(1.0, 1.0, 2.0)]
    assert peak_queue(spans, clerks=1) == 0


def test_no_requests_no_queue() -> None:
    assert peak_queue([], clerks=4) == 0


def test_matches_a_simpy_queue_counted_the_sim_engine_way() -> None:
    """Spans recorded from a SimPy M/M/2 queue give the same peak as its resource queue."""
    env = simpy.Environment()
    clerks = simpy.Resource(env, capacity=2)
    rng = random.Random(3)
    spans: list[RequestSpan] = []
    peak = 0

    def request(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        nonlocal peak
        delivered = env.now
        with clerks.request() as clerk:
            peak = max(peak, len(clerks.queue))
            yield clerk
            taken = env.now
            yield env.timeout(rng.expovariate(1.0))
            spans.append(RequestSpan(delivered, taken, env.now))

    def arrivals(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(2000):
            yield env.timeout(rng.expovariate(1.8))
            env.process(request(env))

    env.process(arrivals(env))
    env.run()
    assert len(spans) == 2000
    assert peak > 3
    assert peak_queue(spans, clerks=2) == peak
