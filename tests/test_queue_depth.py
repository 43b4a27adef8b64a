"""Rebuilding an agency's longest queue on Kafka from its requests' business marks."""

from __future__ import annotations

import random

import simpy

from govstream.engines.kafka.queue_depth import peak_queue


def test_requests_taken_up_on_arrival_never_queue() -> None:
    assert peak_queue([(float(t), float(t)) for t in range(10)]) == 0


def test_requests_behind_a_busy_clerk_queue() -> None:
    # one clerk, three requests at once, each served for 1 s in turn
    assert peak_queue([(0.0, float(i)) for i in range(3)]) == 2


def test_a_clerk_freed_as_a_request_arrives_takes_it_without_a_queue() -> None:
    # the first waits from 0 to 1; the second arrives at 1, as the first is taken up
    assert peak_queue([(0.0, 1.0), (1.0, 2.0)]) == 1


def test_no_requests_no_queue() -> None:
    assert peak_queue([]) == 0


def test_matches_a_simpy_queue_counted_the_sim_engine_way() -> None:
    """(delivered, taken up) recorded from a SimPy M/M/2 queue give its resource's peak."""
    env = simpy.Environment()
    clerks = simpy.Resource(env, capacity=2)
    rng = random.Random(3)
    waits: list[tuple[float, float]] = []
    peak = 0

    def request(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        nonlocal peak
        delivered = env.now
        with clerks.request() as clerk:
            peak = max(peak, len(clerks.queue))
            yield clerk
            waits.append((delivered, env.now))
            yield env.timeout(rng.expovariate(1.0))

    def arrivals(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(2000):
            yield env.timeout(rng.expovariate(1.8))
            env.process(request(env))

    env.process(arrivals(env))
    env.run()
    assert len(waits) == 2000
    assert peak > 3
    assert peak_queue(waits) == peak
