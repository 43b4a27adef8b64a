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
