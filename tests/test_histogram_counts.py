"""The recorders' sparse counts read back exactly what an HdrHistogram of the same values reads.

The recorders keep HdrHistogram's counts themselves (faster to record, smaller to hold) and
rebuild the HdrHistogram only to encode it; every percentile, the smallest value and the
encoding must be the library's own, or results would move with the implementation.
"""

from __future__ import annotations

import random

import pytest
from hdrh.histogram import HdrHistogram

from govstream.metrics import BATCH, HIGHEST_MICROS, Counts, LatencyRecorder, counts_index

EDGES = (0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 10**6, HIGHEST_MICROS)
PERCENTILES = [0.0, 0.5, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0]


def reference() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_MICROS, 3)


def draws(rng: random.Random, n: int) -> list[int]:
    values = []
    for _ in range(n):
        if rng.random() < 0.1:
            values.append(rng.choice(EDGES))
        else:
            spread = rng.lognormvariate(rng.uniform(0, 25), rng.uniform(0.1, 4))
            values.append(min(HIGHEST_MICROS, int(spread)))
    return values


@pytest.mark.parametrize("n", [1, 2, 7, 300, 5000])
def test_counts_read_back_what_hdrhistogram_reads(n: int) -> None:
    rng = random.Random(n)
    for _ in range(5):
        library, ours = reference(), Counts()
        for value in draws(rng, n):
            assert counts_index(value) == library._counts_index_for(value), value
            library.record_value(value)
            ours.add(value)
        assert ours.percentile_values(PERCENTILES) == library.get_percentile_to_value_dict(
            PERCENTILES
        )
        for p in [*PERCENTILES, rng.uniform(0, 100)]:
            assert ours.value_at_percentile(p) == library.get_value_at_percentile(p), p
        assert ours.min_value() == library.get_min_value()
        assert ours.histogram().encode() == library.encode()
        decoded = Counts.of(HdrHistogram.decode(library.encode()))
        assert list(decoded.nonzero()) == list(ours.nonzero())


def test_merged_counts_are_the_values_together() -> None:
    rng = random.Random(3)
    first, second = draws(rng, 400), draws(rng, 300)
    a, b, both = Counts(), Counts(), Counts()
    for value in first:
        a.add(value)
        both.add(value)
    for value in second:
        b.add(value)
        both.add(value)
    a.merge(b)
    assert list(a.nonzero()) == list(both.nonzero()) and a.total == both.total == 700


def test_a_recorder_holds_only_the_chunks_its_values_fall_in() -> None:
    recorder = LatencyRecorder()
    for seconds in (0.15, 0.16, 0.2):
        recorder.record(seconds)
    assert recorder.summary().count == 3
    assert sum(chunk is not None for chunk in recorder._counts.chunks) == 1


@pytest.mark.parametrize("n", [1, BATCH - 1, BATCH, 3 * BATCH + 5])
def test_values_counted_in_batches_land_where_one_at_a_time_puts_them(n: int) -> None:
    rng = random.Random(n)
    seconds = [micros / 1e6 for micros in draws(rng, n)]
    seconds += [HIGHEST_MICROS / 1e6 * 3, 0.0000005, 0.0000015, 2.5e-6]  # clamped, halves
    recorder = LatencyRecorder()
    one_by_one = Counts()
    total, clamped = 0.0, 0
    for value in seconds:
        recorder.record(value)
        micros = round(value * 1_000_000)
        clamped += micros > HIGHEST_MICROS
        one_by_one.add(min(micros, HIGHEST_MICROS))
        total += value
    summary = recorder.summary()
    assert list(recorder._counts.nonzero()) == list(one_by_one.nonzero())
    assert (summary.count, summary.clamped, summary.max) == (len(seconds), clamped, max(seconds))
    assert summary.mean == total / len(seconds)


def test_a_bad_value_is_refused() -> None:
    recorder = LatencyRecorder()
    with pytest.raises(ValueError, match="negative"):
        recorder.record(-0.5)
    recorder.record(float("nan"))
    with pytest.raises(ValueError, match="finite"):
        recorder.summary()
