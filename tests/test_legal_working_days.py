"""Working days as the law counts them, beside the office-time measure.

行政许可法: periods in working days exclude statutory holidays; a period starts the day after
the event and falls due at the close of its last day. So a request received on Monday 09:00
and done on Tuesday at 17:00 was done within one working day, though it spans 1.93 office
days. The dates of holidays and make-up working days below come from the holiday package's
own data, not from this project's reading of it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from govstream.calendar.working import WorkingCalendar
from govstream.pipeline.book import LatencyBook, span_key
from govstream.scenario.loader import ScenarioError, parse_scenario
from govstream.sla import evaluate_targets
from processors.flow import Span

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2021, 6, 7, 9, 0, tzinfo=TZ)  # no holiday that week


def at(cal: WorkingCalendar, moment: datetime) -> float:
    return cal.from_datetime(moment)


def test_monday_morning_to_tuesday_afternoon_is_one_working_day() -> None:
    cal = WorkingCalendar(MONDAY)
    done = MONDAY + timedelta(days=1, hours=8)  # Tuesday 17:00
    assert cal.legal_working_days(0.0, at(cal, done)) == 1
    assert cal.working_days_between(0.0, at(cal, done)) == pytest.approx(13.5 / 7)


@pytest.mark.parametrize(
    ("received", "done", "days"),
    [
        ((7, 9, 0), (7, 17, 30), 0),  # the same day, by its close
        ((7, 16, 0), (7, 17, 31), 1),  # after the close: the next working day's
        ((7, 23, 0), (8, 17, 30), 1),  # received after hours: still that day's receipt
        ((7, 9, 0), (8, 17, 31), 2),
        ((11, 16, 0), (14, 10, 0), 1),  # Friday to Monday: the weekend does not count
        ((12, 10, 0), (14, 17, 0), 1),  # received on a Saturday, done Monday
        ((12, 10, 0), (12, 11, 0), 0),  # received and done on the same Saturday
    ],
)
def test_a_deadline_counts_whole_working_days_after_the_day_of_receipt(
    received: tuple[int, int, int], done: tuple[int, int, int], days: int
) -> None:
    cal = WorkingCalendar(MONDAY)
    start = datetime(2021, 6, received[0], received[1], received[2], tzinfo=TZ)
    end = datetime(2021, 6, done[0], done[1], done[2], tzinfo=TZ)
    assert cal.legal_working_days(at(cal, start), at(cal, end)) == days


def spring_festival(year: int) -> tuple[list[date], list[date]]:
    """The Spring Festival break and the make-up working days around it, from the package."""
    days = [d for d in chinese_calendar.holidays if d.year == year and d.month in (1, 2, 3)]
    names = {d: chinese_calendar.get_holiday_detail(d)[1] for d in days}
    festival = sorted(d for d, name in names.items() if name == "Spring Festival")
    make_up = sorted(
        d
        for d in chinese_calendar.workdays
        if d.weekday() >= 5 and abs((d - festival[0]).days) <= 14
    )
    return festival, make_up


def test_a_request_across_the_spring_festival_counts_its_make_up_saturday() -> None:
    festival, make_up = spring_festival(2021)
    assert len(festival) == 7 and make_up, (festival, make_up)
    saturday = next(d for d in make_up if d > festival[-1])  # worked after the break
    # Received on the last working day before the break.
    eve = festival[0] - timedelta(days=1)
    while not chinese_calendar.is_workday(eve):
        eve -= timedelta(days=1)
    received = datetime.combine(eve, datetime.min.time(), TZ).replace(hour=10)
    cal = WorkingCalendar(received)
    # The working days after it, from the package: the break is skipped, the Saturday counted.
    after = []
    day = eve
    while len(after) < 5:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            after.append(day)
    assert saturday in after and not set(festival) & set(after)
    for n, due_day in enumerate(after, start=1):
        due = cal.legal_deadline(0.0, n)
        assert cal.to_datetime(due) == datetime.combine(due_day, datetime.min.time(), TZ).replace(
            hour=17, minute=30
        )
        assert cal.legal_working_days(0.0, due) == n
        assert cal.legal_working_days(0.0, due + 1) == n + 1
    # Done on the make-up Saturday by its close: that Saturday is the n-th working day.
    n_saturday = after.index(saturday) + 1
    on_saturday = cal.from_datetime(
        datetime.combine(saturday, datetime.min.time(), TZ).replace(hour=11)
    )
    assert cal.legal_working_days(0.0, on_saturday) == n_saturday
    # The office-time measure skips the break too, and counts the Saturday's morning hours:
    # 6 h on the eve (from 10:00), two full days, then 09:00-11:00 on the Saturday.
    assert cal.working_days_between(0.0, on_saturday) == pytest.approx((6 + 7 + 7 + 2) / 7)


def test_a_one_working_day_target_is_met_for_monday_to_tuesday_afternoon() -> None:
    """The issue's reproduction: 1.93 office days, but done within one working day."""
    scenario = parse_scenario(
        """
name: one-working-day
flow: F14
start: 2021-06-07T09:00:00+08:00
duration: 1d
arrivals: {rate: 1/d}
agencies: {hrss: {servers: 1, calendar: office, service_time: {dist: constant, value: 1h}}}
targets:
  - {id: legal, of: span, span: claim-decided, stat: max, within: 1wd, source: plan,
     measure: M40}
  - {id: office, of: span, span: claim-decided, stat: max, within: 1wd, working_days: office,
     source: author}
"""
    )
    cal = WorkingCalendar(scenario.start)
    book = LatencyBook(cal, {"F14": [Span("claim-decided", "trigger", "x")]})
    book._both(span_key("F14", "claim-decided"), 0.0, at(cal, MONDAY + timedelta(hours=32)))
    summaries = {
        name: {key: s.to_data() for key, s in table.summaries().items()}
        for name, table in (
            ("latency", book.latency),
            ("office", book.working_days),
            ("legal", book.legal_days),
        )
    }
    legal, office = evaluate_targets(
        scenario, summaries["latency"], summaries["office"], summaries["legal"]
    )
    assert (legal.observed, legal.verdict, legal.working_days) == (1.0, "met", "legal")
    assert office.observed == pytest.approx(1.93, abs=0.01)
    assert (office.verdict, office.working_days) == ("missed", "office")


def test_office_time_within_n_days_implies_the_legal_deadline() -> None:
    """Why the office-time measure is the stricter one: whatever the hour of receipt, N days
    of office time end before the close of the N-th working day after it."""
    cal = WorkingCalendar(MONDAY)
    hour = 3600.0
    for start in [i * 1.5 * hour for i in range(60)]:
        for n in (1, 2, 5):
            end = cal.deadline(start, n)
            assert cal.legal_working_days(start, end) <= n


def test_a_deadline_in_part_of_a_working_day_is_bad_input() -> None:
    """Half a working day is office time; a deadline counts whole days."""
    text = """
name: half-a-day
flow: F14
duration: 1d
arrivals: {rate: 1/d}
agencies: {hrss: {servers: 1, service_time: {dist: constant, value: 1h}}}
targets:
  - {id: half, of: case, stat: p90, within: 0.5wd, source: author}
"""
    with pytest.raises(ScenarioError, match="whole working days"):
        parse_scenario(text)
    counted = parse_scenario(text.replace("source: author", "working_days: office, source: author"))
    assert counted.targets[0].working_days == "office"
