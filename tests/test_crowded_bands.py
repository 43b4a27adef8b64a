"""A crowded band of a latency splits a sample of its cases (`breakdown.Band`), whose parts
stand for all of them: the means a report reads stay the cases' own, however the cases change
over the run, for a small share of the splits."""

from __future__ import annotations

import random

from govstream.pipeline.breakdown import SAMPLE_FROM, Band, Tail, band_add


def test_a_crowded_band_s_means_are_its_cases_means_for_a_fraction_of_the_splits() -> None:
    rng = random.Random(3)
    band, exact, splits = Band(), {"queue:bank": 0.0, "work:bank": 0.0}, 0
    cases = 30 * SAMPLE_FROM
    for n in range(cases):
        # The first third queue behind an outage's backlog; then the queue all but empties.
        parts = {"queue:bank": rng.expovariate(1 / (3600.0 if n < cases // 3 else 60.0)),
                 "work:bank": rng.uniform(600.0, 1200.0)}  # fmt: skip
        for part, seconds in parts.items():
            exact[part] += seconds
        weight = band.weight()
        if weight:
            splits += 1
            band_add(band, parts, 0.0, weight)
    tail = Tail()
    tail.take(band)
    means = tail.means()
    assert tail.cases == cases
    # The queue's mean is an exponential's over some 3,000 splits weighted 1 to 30: its
    # relative error's sd is about 2.5 %, so 8 % is three sd. Splits left unweighted would
    # be three quarters from the backlog's third and read a mean over twice the true one.
    for part, total in exact.items():
        assert abs(means[part] - total / cases) < 0.08 * total / cases, part
    assert splits < cases / 5, "a sample, not every case"


def test_a_band_of_fewer_cases_splits_every_one_exactly() -> None:
    band = Band()
    for n in range(SAMPLE_FROM - 1):
        weight = band.weight()
        assert weight == 1
        band_add(band, {"work:bank": float(n)}, 1.0, weight)
    assert band.cases == SAMPLE_FROM - 1
    assert band.parts == {"work:bank": float(sum(range(SAMPLE_FROM - 1)))}
    assert band.earlier == SAMPLE_FROM - 1
