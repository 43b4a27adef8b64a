"""Time series in fixed bins: exact levels and counts, bounded memory, and what the sim engine
records for the outage study (the bank's backlog builds in the outage and drains after)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.series import SeriesBook
from govstream.result import RunResult
from govstream.scenario.loader import load_scenario

T0 = datetime(2021, 6, 1, tzinfo=UTC)
DAY = 86_400.0
OUTAGE = "scenarios/deregistration-bank-outage.yaml"


def integral(result: RunResult, name: str) -> float:
    """A level's time integral (level × seconds), from its per-bin means."""
    series = result.series
    assert series is not None
    width, total = series.bin_seconds, 0.0
    for index, mean in enumerate(series.levels[name]):
        span = min(width, result.business_seconds - index * width)
        total += mean * span
    return total


def test_an_interval_is_split_across_bins_as_time_weighted_means() -> None:
    book = SeriesBook(horizon=100.0, max_bins=10)  # 10-second bins
    book.interval("queue:x", 5.0, 25.0)  # half of bin 0, all of bin 1, half of bin 2
    book.interval("queue:x", 12.0, 14.0, weight=3.0)
    data = book.data(30.0, start=T0)
    assert data.bin_seconds == 10.0
    assert data.bins == 3
    assert data.levels["queue:x"] == [0.5, pytest.approx(1.6), 0.5]


def test_counts_and_intervals_may_come_in_any_order() -> None:
    forward, backward = SeriesBook(100.0, max_bins=10), SeriesBook(100.0, max_bins=10)
    events = [(3.0, 31.0), (44.0, 47.5), (0.0, 99.0), (61.0, 62.0)]
    for start, end in events:
        forward.interval("busy:x", start, end)
        forward.count("F03/arrivals", start)
    for start, end in reversed(events):
        backward.interval("busy:x", start, end)
        backward.count("F03/arrivals", start)
    assert forward.data(100.0, start=T0) == backward.data(100.0, start=T0)


def test_open_cases_are_arrivals_less_completions_at_the_end_of_each_bin() -> None:
    book = SeriesBook(40.0, max_bins=4)
    for at in (1.0, 2.0, 11.0, 12.0, 13.0):
        book.count("F03/arrivals", at)
    for at in (5.0, 25.0, 26.0, 39.0):
        book.count("F03/completions", at)
    data = book.data(40.0, start=T0, flows=["F03"])
    assert data.counts["F03/arrivals"] == [2, 3, 0, 0]
    assert data.levels["F03/open"] == [1.0, 4.0, 2.0, 1.0]


def test_a_run_past_the_horizon_merges_bins_and_keeps_its_totals() -> None:
    book = SeriesBook(horizon=10.0, max_bins=8)
    for second in range(1000):
        book.count("F03/arrivals", second + 0.5)
        book.interval("queue:x", second, second + 0.25)
    data = book.data(1000.0, start=T0)
    assert data.bins <= 8
    assert sum(data.counts["F03/arrivals"]) == 1000
    assert data.bin_seconds * data.bins >= 1000.0
    assert all(mean == pytest.approx(0.25) for mean in data.levels["queue:x"][:-1])


def test_intervals_still_open_at_the_end_count_until_the_end() -> None:
    book = SeriesBook(horizon=20.0, max_bins=2)
    book.begin("r1", "queue:x", 5.0)
    book.begin("r2", "queue:x", 8.0)
    book.finish("r2", 9.0)
    book.close_open(20.0)
    assert book.data(20.0, start=T0).levels["queue:x"] == [pytest.approx(0.6), 1.0]


@pytest.fixture(scope="module")
def outage() -> RunResult:
    return SimEngine(load_scenario(OUTAGE), scenario_file=OUTAGE).run()


def test_the_series_accounts_for_every_case(outage: RunResult) -> None:
    series = outage.series
    assert series is not None
    assert sum(series.counts["F03/arrivals"]) == outage.counts.cases_started
    assert sum(series.counts["F03/completions"]) == outage.counts.cases_completed
    assert series.levels["F03/open"][-1] == outage.counts.cases_open
    assert series.bins * series.bin_seconds >= outage.business_seconds
    assert series.start == load_scenario(OUTAGE).start.isoformat()


def test_the_queue_is_every_request_s_wait_and_busy_clerks_their_service(
    outage: RunResult,
) -> None:
    """A request is queued from delivery until a clerk starts on it (the pool's wait) and
    holds the clerk until it is acted on (its service): the two levels' time integrals are the
    pool's summed wait and summed service exactly."""
    assert outage.series is not None
    for pool, load in outage.agencies.items():
        for level, latency in (("queue", "wait"), ("busy", "service-elapsed")):
            summary = outage.latency[f"{latency}:{pool}"]
            total = summary["mean"] * summary["count"]
            assert integral(outage, f"{level}:{pool}") == pytest.approx(total, rel=1e-5)
        assert max(outage.series.levels[f"busy:{pool}"]) <= load.servers + 1e-9


def test_the_bank_queue_rises_in_the_outage_and_drains_after(outage: RunResult) -> None:
    series = outage.series
    assert series is not None
    (window,) = series.windows["bank"]
    width = series.bin_seconds
    queue = series.levels["queue:bank"]

    def mean_between(start: float, end: float) -> float:
        values = [q for i, q in enumerate(queue) if start <= i * width < end]
        return sum(values) / len(values)

    before = mean_between(window.start - 7 * DAY, window.start)
    during = mean_between(window.start, window.end)
    # the backlog peaks at the end of the outage, then clears within a working week
    peak_bin = max(range(len(queue)), key=lambda i: queue[i] if i * width < 26 * DAY else 0)
    assert window.start < peak_bin * width < window.end + 3 * DAY
    assert during > 2 * before
    after = mean_between(window.end + 6 * DAY, window.end + 8 * DAY)
    assert after < queue[peak_bin] / 4
    assert series.windows["bank"][0].label == "core-banking migration"
    assert "police" not in series.windows
