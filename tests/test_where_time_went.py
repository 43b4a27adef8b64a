"""Where a case's time went, on cases worked out by hand: the parts add up to the latency and
each lands where the calendar and the queue put it.

The clerk keeps office hours 09:00-12:00 and 13:30-17:30 on Chinese working days; every hop of
the exchange takes 10 s, so a case spends 30 s in transport: its trigger to the platform, the
request to the agency, the answer back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import case_key
from govstream.pipeline.breakdown import Leg, Trail, walk
from govstream.result import RunResult
from govstream.scenario.loader import parse_scenario

HOUR = 3600.0
TRANSPORT = {
    "transport:trigger-to-orchestrator": 10.0,
    "transport:orchestrator-to-agency": 10.0,
    "transport:outcome-return": 10.0,
}
BY_HAND = """
start: 2021-06-01T00:00:00+08:00
duration: 30d
drain: 10d
arrivals: {process: replay, file: arrivals.csv}
platform: {servers: 1, service_time: {dist: constant, value: 0}}
transport: {latency: {dist: constant, value: 10s}}
"""
"""A month of the arrivals in `arrivals.csv`, no platform time, 10 s a hop."""
POLICE_ONLY = (
    BY_HAND
    + """
name: police-by-hand
flow: F03
population: {bank_account_weights: [1, 0, 0, 0], housing_fund_probability: 0}
agencies:
  police: {servers: 1, calendar: office, service_time: {dist: constant, value: 2h}}
  bank: {servers: 1, calendar: office, service_time: {dist: constant, value: 2h}}
  housing-fund: {servers: 1, calendar: office, service_time: {dist: constant, value: 2h}}
targets:
  - {id: same-day, of: case, stat: max, within: 4h, source: author}
"""
)


def run(tmp_path: Path, text: str, *arrivals: str) -> RunResult:
    (tmp_path / "arrivals.csv").write_text("\n".join(arrivals) + "\n", encoding="utf-8")
    return SimEngine(parse_scenario(text, base=tmp_path)).run()


def only_case(result: RunResult, metric: str) -> dict[str, float]:
    breakdown = result.breakdowns[metric]
    assert breakdown.cases == 1
    assert sum(breakdown.parts.values()) == pytest.approx(breakdown.seconds)
    assert breakdown.seconds == pytest.approx(result.latency[metric]["max"], abs=1e-3)
    return breakdown.parts


def test_a_request_before_lunch_is_worked_either_side_of_it(tmp_path: Path) -> None:
    # Thursday 11:00: delivered 11:00:20, worked to 12:00, lunch, worked 13:30 to 14:30:20.
    result = run(tmp_path, POLICE_ONLY, "2021-06-03T11:00:00+08:00")
    parts = only_case(result, case_key("F03"))
    assert parts == pytest.approx(
        {**TRANSPORT, "work:police": 2 * HOUR, "closed:police (in work)": 1.5 * HOUR}
    )


def test_a_request_before_a_holiday_waits_out_the_long_weekend(tmp_path: Path) -> None:
    # Friday 11 June 2021, 17:00; Monday 14 June is the Dragon Boat Festival. Delivered
    # 17:00:20, worked to 17:30, then from Tuesday 09:00 for the 1 h 30 min 20 s left.
    result = run(tmp_path, POLICE_ONLY, "2021-06-11T17:00:00+08:00")
    parts = only_case(result, case_key("F03"))
    closed = (6.5 + 24 * 3 + 9) * HOUR  # Friday 17:30 to Tuesday 09:00
    assert parts == pytest.approx(
        {**TRANSPORT, "work:police": 2 * HOUR, "closed:police (in work)": closed}
    )
    assert result.latency[case_key("F03")]["max"] == pytest.approx(2 * HOUR + closed + 30)


SHARED_BANK = """
name: shared-bank-by-hand
start: 2021-06-01T00:00:00+08:00
duration: 30d
drain: 10d
platform: {servers: 4, service_time: {dist: constant, value: 0}}
transport: {latency: {dist: constant, value: 10s}}
flows:
  F01:
    arrivals: {process: replay, file: arrivals-f01.csv}
  F03:
    arrivals: {process: replay, file: arrivals.csv}
    population: {bank_account_weights: [0, 1, 0, 0], housing_fund_probability: 0}
agencies:
  bank: {servers: 1, calendar: always, service_time: {dist: constant, value: 1h}}
  police: {servers: 1, calendar: always, service_time: {dist: constant, value: 0}}
  hrss: {servers: 1, calendar: always, service_time: {dist: constant, value: 0}}
  tax: {servers: 1, calendar: always, service_time: {dist: constant, value: 0}}
  housing-fund: {servers: 1, calendar: always, service_time: {dist: constant, value: 0}}
"""


def test_a_request_behind_another_flows_work_at_a_shared_pool_queues(tmp_path: Path) -> None:
    # F01's bank reservation reaches the one bank clerk at 10:00:20 and holds it until
    # 11:00:20; F03's closure, delivered at 10:30:20, queues the 30 minutes left, then is
    # worked for its hour: the F03 case is police (no time) beside the bank, the bank last.
    (tmp_path / "arrivals-f01.csv").write_text("2021-06-03T10:00:00+08:00\n", encoding="utf-8")
    result = run(tmp_path, SHARED_BANK, "2021-06-03T10:30:00+08:00")
    parts = only_case(result, case_key("F03"))
    assert parts == pytest.approx({**TRANSPORT, "queue:bank": 0.5 * HOUR, "work:bank": HOUR})
    assert result.agencies["bank"].requests == {"F01": 1, "F03": 1}


def test_a_walk_crosses_a_hand_over_into_the_case_that_started_it() -> None:
    """An upstream case answered at 100 s and handed over; the downstream case's own request
    went out at 105 s and was answered at 160 s: a span from the upstream trigger (0 s) to the
    downstream answer walks through both."""
    upstream = Trail(0.0)
    upstream.legs["a"] = Leg(sent=5.0, cause=None, wait="applicant", answered=100.0)
    downstream = Trail(100.0, before=(upstream, "a", 100.0))
    downstream.legs["b"] = Leg(
        sent=105.0,
        cause=None,
        delivered=110.0,
        pool="desk",
        started=110.0,
        done=150.0,
        work=40.0,
        answered=160.0,
    )

    class AlwaysOpen:
        def split(self, start: float, end: float) -> tuple[float, float, float]:
            return end - start, 0.0, 0.0

    parts = walk(downstream, "b", 160.0, 0.0, lambda _: AlwaysOpen())  # type: ignore[arg-type,return-value]
    assert parts == {
        "transport:trigger-to-orchestrator": 10.0,  # 0-5 upstream, 100-105 downstream
        "wait:applicant": 95.0,
        "transport:orchestrator-to-agency": 5.0,
        "work:desk": 40.0,
        "transport:outcome-return": 10.0,
    }
    assert sum(parts.values()) == 160.0
    # a span starting mid-way through the upstream wait is cut there
    assert walk(downstream, "b", 160.0, 50.0, lambda _: AlwaysOpen())["wait:applicant"] == 50.0  # type: ignore[arg-type,return-value]


def test_behind_a_request_across_the_holiday_the_wait_is_queue_and_closed_hours(
    tmp_path: Path,
) -> None:
    # A second request at 17:10 on the same Friday waits for the one clerk, who finishes the
    # first on Tuesday at 10:30:20. Of its wait, the office was open 17:10:20-17:30 and
    # 09:00-10:30:20 (queue) and closed the 87.5 h between; its own 2 h of work then pause
    # for lunch.
    result = run(tmp_path, POLICE_ONLY, "2021-06-11T17:00:00+08:00", "2021-06-11T17:10:00+08:00")
    slowest = result.breakdowns[case_key("F03")]
    assert slowest.cases == 1  # the p90 of two cases is the slower one's
    closed = (6.5 + 24 * 3 + 9) * HOUR
    expected = {
        **TRANSPORT,
        "queue:police": (19 * 60 + 40) + HOUR + 30 * 60 + 20,
        "closed:police": closed,
        "work:police": 2 * HOUR,
        "closed:police (in work)": 1.5 * HOUR,
    }
    assert slowest.parts == pytest.approx(expected)
    assert slowest.seconds == pytest.approx(result.latency[case_key("F03")]["max"], abs=1e-3)
    # the pool's own table agrees: its wait is the queue and the closed hours before work
    assert result.latency["F03/wait:police"]["max"] == pytest.approx(
        expected["queue:police"] + closed, abs=1e-3
    )


def test_a_missed_target_names_the_part_that_would_have_to_shrink(tmp_path: Path) -> None:
    # The holiday case misses "max within 4h" by 85.5 h 30 s; the largest part of its time is
    # the 87.5 h its work was paused over the holiday, which would have to shrink by as much.
    result = run(tmp_path, POLICE_ONLY, "2021-06-11T17:00:00+08:00")
    (found,) = result.target_breakdowns
    assert (found.target, found.verdict) == ("same-day", "missed")
    shrink = found.shrink
    assert shrink is not None
    assert shrink.part == "closed:police (in work)"
    assert shrink.part_seconds == pytest.approx(87.5 * HOUR)
    assert shrink.needed == pytest.approx(85.5 * HOUR + 30)
    assert shrink.needed_seconds == pytest.approx(85.5 * HOUR + 30)


def test_why_prints_one_targets_parts_and_names_the_targets_when_unknown(tmp_path: Path) -> None:
    from cli_runner import govstream

    (tmp_path / "arrivals.csv").write_text("2021-06-11T17:00:00+08:00\n", encoding="utf-8")
    scenario = tmp_path / "holiday.yaml"
    scenario.write_text(POLICE_ONLY, encoding="utf-8")
    out = tmp_path / "out"
    ran = govstream("run", scenario, "--out", out, "--why", "same-day")
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("same-day (F03 case): max")
    assert "missed" in lines[0]
    assert any("closed hours at police (in work)" in line and "98 %" in line for line in lines)
    assert "Where the time went" not in ran.stdout  # only the target, no report
    again = govstream("report", out, "--why", "same-day")
    assert again.returncode == 0 and again.stdout == ran.stdout
    unknown = govstream("report", out, "--why", "same-dya")
    assert unknown.returncode == 2
    assert "same-dya" in unknown.stderr and "same-day" in unknown.stderr
    before = govstream("run", scenario, "--out", tmp_path / "never", "--why", "same-dya")
    assert before.returncode == 2 and "same-day" in before.stderr
    assert not (tmp_path / "never").exists()  # refused before the run


def test_every_report_shows_where_the_time_went(tmp_path: Path) -> None:
    from govstream.report.markdown import render_markdown

    result = run(tmp_path, POLICE_ONLY, "2021-06-11T17:00:00+08:00")
    summary = render_markdown(result)
    assert "## Where the time went: targets" in summary
    assert "closed hours at police (in work) 98 %" in summary
    assert "## Where the time went: each latency's slowest tenth" in summary
    again = RunResult.model_validate_json(result.to_json())
    assert again.target_breakdowns == result.target_breakdowns
    assert again.breakdowns == result.breakdowns


def test_a_span_is_split_along_its_own_path(tmp_path: Path) -> None:
    # F09: the tax certificate, then the registration; the span counter-wait runs from the
    # application to the registration done, so it crosses both agencies' time
    text = (
        BY_HAND
        + """
name: f09-by-hand
flow: F09
agencies:
  tax: {servers: 1, calendar: always, service_time: {dist: constant, value: 5min}}
  real-estate: {servers: 1, calendar: office, service_time: {dist: constant, value: 1h}}
"""
    )
    # Thursday 16:50: the certificate by 16:55:30, the registration from 16:55:40, 34 min 20 s
    # before the close, the rest from Friday 09:00
    result = run(tmp_path, text, "2021-06-03T16:50:00+08:00")
    parts = only_case(result, "F09/span:counter-wait")
    assert parts == pytest.approx(
        {
            "transport:trigger-to-orchestrator": 10.0,
            "transport:orchestrator-to-agency": 20.0,
            "transport:outcome-return": 20.0,
            "work:tax": 5 * 60.0,
            "work:real-estate": HOUR,
            "closed:real-estate (in work)": 15.5 * HOUR,  # Thursday 17:30 to Friday 09:00
        }
    )
