"""A verdict on Kafka at a speedup: what the run's compression can and cannot decide.

A run at speedup S carries S times the real load through the platform, so the platform's own
wall-clock time on a path is at most what it would be in real time plus its queueing under the
compressed load. A clock-time target missed only by that time is undecided at S; one met with
it stays met, and one missed without it stays missed.
"""

from __future__ import annotations

import pytest

from govstream.metrics import LatencyRecorder
from govstream.result import TargetVerdict
from govstream.sla import Resolution, _resolved

KEY = "F01/delivered:bank-reservation"


def missed(observed: float, verdict: str = "missed") -> TargetVerdict:
    return TargetVerdict(
        id="reservation-request-in-real-time",
        flow="F01",
        of="delivered",
        step="bank-reservation",
        stat="p99",
        within="5s",
        unit="s",
        limit=5.0,
        observed=observed,
        met={"met": True, "missed": False}.get(verdict),
        source="plan",
        verdict=verdict,
    )


def resolution(platform_ms: float, speedup: float = 20_000.0) -> Resolution:
    recorder = LatencyRecorder()
    for _ in range(100):
        recorder.record(platform_ms)
    return Resolution({}, speedup, 8 * 3600.0, {KEY: recorder.summary()})


@pytest.mark.parametrize(
    ("observed", "platform_ms", "verdict"),
    [
        (7.0, 2500.0, "undecided"),  # 7 s, of which the platform's 2.5 s: 4.5 s without it
        (7.0, 1500.0, "missed"),  # 5.5 s without the platform's share: missed at any load
        (7.0, 0.0, "missed"),  # nothing measured on the platform
    ],
)
def test_a_miss_on_the_clock_is_undecided_only_where_the_platforms_own_time_made_it(
    observed: float, platform_ms: float, verdict: str
) -> None:
    resolved = _resolved(missed(observed), KEY, "latency", resolution(platform_ms))
    assert resolved.verdict == verdict
    if verdict == "undecided":
        assert resolved.met is None
        assert resolved.reason is not None and "speedup 20000" in resolved.reason
        assert "p99" in resolved.reason


def test_a_met_target_stays_met_however_long_the_platform_took() -> None:
    resolved = _resolved(missed(4.0, "met"), KEY, "latency", resolution(3900.0))
    assert resolved.verdict == "met"


def test_a_target_in_working_days_is_not_read_against_the_platforms_clock() -> None:
    verdict = missed(3.0).model_copy(update={"unit": "wd", "limit": 2.0})
    resolved = _resolved(verdict, KEY, "legal_working_days", resolution(10_000_000.0))
    assert resolved.verdict == "missed"


# -- requests out of business order ---------------------------------------------------------


def ordered(seconds: float, speedup: float = 50.0) -> Resolution:
    """A run whose order of requests may have moved the statistic by `seconds` at `speedup`."""
    return Resolution({KEY: seconds}, speedup, 8 * 3600.0)


@pytest.mark.parametrize(
    ("observed", "verdict", "after"),
    [
        (4.0, "met", "met"),  # 1 s under a limit the order can move it 0.5 s from: decided
        (4.5, "met", "met"),  # at limit - margin: the order cannot carry it past the limit
        (4.6, "met", "undecided"),
        (5.0, "met", "undecided"),  # at the limit itself
        (5.5, "missed", "undecided"),  # at limit + margin: the order could have made the miss
        (5.6, "missed", "missed"),
    ],
)
def test_a_statistic_the_order_of_requests_could_carry_across_its_limit_is_undecided(
    observed: float, verdict: str, after: str
) -> None:
    resolved = _resolved(missed(observed, verdict), KEY, "latency", ordered(0.5))
    assert resolved.verdict == after
    if after == "undecided":
        assert resolved.met is None
        assert resolved.reason is not None
        assert "undecided at speedup 50" in resolved.reason
        assert "out of business order" in resolved.reason and "500ms" in resolved.reason
    else:
        assert (resolved.met, resolved.reason) == (after == "met", None)


def test_the_reason_says_the_speedup_that_could_decide_it() -> None:
    """0.5 s of uncertainty at speedup 50 against a value 0.2 s from its limit: a run at
    speedup 50 × 0.2 / 0.5 = 20 would be exact enough."""
    resolved = _resolved(missed(4.8, "met"), KEY, "latency", ordered(0.5))
    assert resolved.reason is not None and "speedup 20 or less could decide it" in resolved.reason
    at_limit = _resolved(missed(5.0, "met"), KEY, "latency", ordered(0.5))
    assert at_limit.reason is not None and "requests kept in order" in at_limit.reason


def test_an_exact_order_or_an_undecided_verdict_is_left_alone() -> None:
    assert _resolved(missed(5.0, "met"), KEY, "latency", ordered(0.0)).verdict == "met"
    other = _resolved(missed(5.0, "met"), "F01/case", "latency", ordered(0.5))
    assert other.verdict == "met"  # the uncertainty is another metric's
    undecided = missed(5.0, "undecided")
    assert _resolved(undecided, KEY, "latency", ordered(0.5)) == undecided
    no_data = missed(5.0, "no data").model_copy(update={"observed": None})
    assert _resolved(no_data, KEY, "latency", ordered(0.5)) == no_data


def test_in_working_days_the_order_moves_a_statistic_by_office_days() -> None:
    """Two office hours of uncertainty are a quarter of an 8-hour office day; a legal count
    of whole days may move by one day for any shift (a case carried past a closing time)."""
    verdict = missed(1.8, "met").model_copy(update={"unit": "wd", "limit": 2.0})
    office = _resolved(verdict, KEY, "working_days", ordered(2 * 3600.0))
    assert office.verdict == "undecided"
    assert office.reason is not None and "(0.25wd)" in office.reason
    far = missed(1.7, "met").model_copy(update={"unit": "wd", "limit": 2.0})
    assert _resolved(far, KEY, "working_days", ordered(2 * 3600.0)).verdict == "met"
    legal = missed(2.0, "met").model_copy(update={"unit": "wd", "limit": 2.0})
    assert _resolved(legal, KEY, "legal_working_days", ordered(60.0)).verdict == "undecided"
    assert _resolved(legal, KEY, "legal_working_days", ordered(0.0)).verdict == "met"
    a_day_under = missed(1.0, "met").model_copy(update={"unit": "wd", "limit": 2.0})
    assert _resolved(a_day_under, KEY, "legal_working_days", ordered(60.0)).verdict == "met"
