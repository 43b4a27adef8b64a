"""Work time and elapsed time at an agency, reported apart.

On an office calendar a 2-hour job taken up on Friday at 16:00 is worked for 2 hours and done
on Monday at 09:30: `service-work` says the first, `service-elapsed` the second. One name for
both used to report the 65.5 hours as the clerk's service time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import agency_key
from govstream.scenario.loader import parse_scenario

HOUR = 3600.0
FRIDAY_JOB = """
name: friday-afternoon
flow: F03
start: 2021-06-04T09:00:00+08:00    # a Friday; the Monday after is a working day
duration: 1d
drain: 5d
arrivals: {process: replay, file: friday.csv}
population: {bank_account_weights: [1, 0, 0, 0], housing_fund_probability: 0}
platform: {servers: 1, service_time: {dist: constant, value: 0}}
agencies:
  police: {servers: 1, calendar: office, service_time: {dist: constant, value: 2h}}
  bank: {servers: 1, calendar: office, service_time: {dist: constant, value: 2h}}
  housing-fund: {servers: 1, calendar: office, service_time: {dist: constant, value: 2h}}
"""


def test_a_friday_afternoon_job_works_two_hours_and_takes_the_weekend(tmp_path: Path) -> None:
    (tmp_path / "friday.csv").write_text("2021-06-04T16:00:00+08:00\n", encoding="utf-8")
    result = SimEngine(parse_scenario(FRIDAY_JOB, base=tmp_path)).run()
    assert result.counts.cases_completed == 1
    work = result.latency[agency_key("service-work", "police")]
    elapsed = result.latency[agency_key("service-elapsed", "police")]
    assert work["count"] == elapsed["count"] == 1
    assert work["max"] == pytest.approx(2 * HOUR)
    # 16:00-17:30 on Friday, then 09:00-09:30 on Monday
    assert elapsed["max"] == pytest.approx(65.5 * HOUR)
    assert agency_key("service", "police") not in result.latency
    sojourn = result.latency[agency_key("sojourn", "police")]["max"]
    wait = result.latency[agency_key("wait", "police")]["max"]
    assert sojourn == pytest.approx(wait + elapsed["max"])


def test_without_a_calendar_work_and_elapsed_agree() -> None:
    scenario = parse_scenario(
        FRIDAY_JOB.replace("calendar: office", "calendar: always").replace(
            "{process: replay, file: friday.csv}", "{rate: 20/d}"
        )
    )
    result = SimEngine(scenario).run()
    work = result.latency[agency_key("service-work", "police")]
    elapsed = result.latency[agency_key("service-elapsed", "police")]
    assert work["count"] == elapsed["count"] > 5
    assert work["mean"] == pytest.approx(elapsed["mean"])
