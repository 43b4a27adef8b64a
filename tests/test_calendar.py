import math
import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from pydantic_core import TzInfo

from govstream.calendar.working import CalendarError, OfficeHours, WorkingCalendar

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2021, 6, 1, 9, 0, tzinfo=TZ)  # a Tuesday
HOUR = 3600.0


def at(cal: WorkingCalendar, *args: int) -> float:
    return cal.from_datetime(datetime(*args, tzinfo=TZ))


def when(cal: WorkingCalendar, t: float) -> datetime:
    return cal.to_datetime(t).replace(microsecond=0)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(START)


# -- office hours -------------------------------------------------------------------------


def test_default_office_day_is_seven_hours() -> None:
    hours = OfficeHours()
    assert hours.intervals == ((time(9), time(12)), (time(13, 30), time(17, 30)))
    assert hours.open_seconds == 7 * HOUR


def test_office_hours_from_strings() -> None:
    hours = OfficeHours.from_strings(["08:30-12:00", "14:00-18:00"])
    assert hours.intervals == ((time(8, 30), time(12)), (time(14), time(18)))
    assert hours.open_seconds == 7.5 * HOUR


@pytest.mark.parametrize(
    ("spans", "fragment"),
    [
        (["9-12"], "HH:MM-HH:MM"),
        (["12:00-09:00"], "open before it closes"),
        (["09:00-12:00", "11:00-13:00"], "overlap"),
        (["13:00-14:00", "09:00-12:00"], "in order"),
        (["25:00-26:00"], "impossible time"),
        ([], "at least one"),
    ],
)
def test_office_hours_errors(spans: list[str], fragment: str) -> None:
    with pytest.raises(CalendarError, match=fragment):
        OfficeHours.from_strings(spans)


# -- holidays -----------------------------------------------------------------------------


def test_chinese_calendar_knows_national_day_2021() -> None:
    for day in range(1, 8):
        assert chinese_calendar.is_holiday(date(2021, 10, day))
    assert chinese_calendar.is_workday(date(2021, 9, 18))  # Saturday, 调休 for Mid-Autumn
    assert chinese_calendar.is_workday(date(2021, 10, 9))  # Saturday, 调休 for National Day
    assert date(2021, 9, 18).weekday() == 5
    assert date(2021, 10, 9).weekday() == 5


def test_national_day_week_is_closed(cal: WorkingCalendar) -> None:
    for day in range(1, 8):
        assert not cal.is_open(at(cal, 2021, 10, day, 10, 0)), f"Oct {day} should be closed"
    assert cal.is_open(at(cal, 2021, 9, 30, 10, 0))
    assert cal.is_open(at(cal, 2021, 10, 8, 10, 0))


def test_make_up_saturdays_are_open(cal: WorkingCalendar) -> None:
    assert cal.is_open(at(cal, 2021, 9, 18, 10, 0))
    assert cal.is_open(at(cal, 2021, 10, 9, 10, 0))
    assert not cal.is_open(at(cal, 2021, 10, 10, 10, 0))  # ordinary Sunday
    assert not cal.is_open(at(cal, 2021, 9, 25, 10, 0))  # ordinary Saturday


def test_holidays_none_is_plain_monday_to_friday() -> None:
    cal = WorkingCalendar(START, holidays="none")
    assert cal.is_open(at(cal, 2021, 10, 4, 10, 0))  # Monday of National Day week
    assert not cal.is_open(at(cal, 2021, 10, 9, 10, 0))  # make-up Saturday ignored


def test_next_open_skips_national_day(cal: WorkingCalendar) -> None:
    t = cal.next_open(at(cal, 2021, 9, 30, 18, 0))
    assert when(cal, t) == datetime(2021, 10, 8, 9, 0, tzinfo=TZ)


def test_work_pauses_over_national_day(cal: WorkingCalendar) -> None:
    t = cal.finish_time(at(cal, 2021, 9, 30, 16, 30), 2 * HOUR)
    assert when(cal, t) == datetime(2021, 10, 8, 10, 0, tzinfo=TZ)
    # Oct 8 (Fri) and Oct 9 (make-up Sat) are both working days after the holiday.
    t = cal.finish_time(at(cal, 2021, 10, 8, 9, 0), 8 * HOUR)
    assert when(cal, t) == datetime(2021, 10, 9, 10, 0, tzinfo=TZ)


def test_working_days_across_mid_autumn(cal: WorkingCalendar) -> None:
    # Sat 18 (make-up, open), Sun 19, Mon 20 and Tue 21 (holidays): one working day.
    wd = cal.working_days_between(at(cal, 2021, 9, 18, 9, 0), at(cal, 2021, 9, 22, 9, 0))
    assert wd == pytest.approx(1.0)


def test_unknown_year_raises_calendar_error(cal: WorkingCalendar) -> None:
    with pytest.raises(CalendarError) as info:
        cal.is_open(at(cal, 2031, 3, 4, 10, 0))
    assert "2031-03-04" in str(info.value)
    assert "2004" in str(info.value)


# -- office day shape ---------------------------------------------------------------------


def test_lunch_break(cal: WorkingCalendar) -> None:
    assert cal.is_open(at(cal, 2021, 6, 2, 11, 59))
    assert not cal.is_open(at(cal, 2021, 6, 2, 12, 0))
    assert not cal.is_open(at(cal, 2021, 6, 2, 13, 29))
    assert cal.is_open(at(cal, 2021, 6, 2, 13, 30))
    assert not cal.is_open(at(cal, 2021, 6, 2, 17, 30))
    t = cal.finish_time(at(cal, 2021, 6, 2, 11, 30), HOUR)
    assert when(cal, t) == datetime(2021, 6, 2, 14, 0, tzinfo=TZ)
    assert cal.next_open(at(cal, 2021, 6, 2, 12, 15)) == at(cal, 2021, 6, 2, 13, 30)


def test_work_ending_at_closing_time_ends_then(cal: WorkingCalendar) -> None:
    t = cal.finish_time(at(cal, 2021, 6, 2, 11, 0), HOUR)
    assert when(cal, t) == datetime(2021, 6, 2, 12, 0, tzinfo=TZ)


def test_ten_hours_from_friday_afternoon_end_tuesday(cal: WorkingCalendar) -> None:
    # Fri 4 June 16:00-17:30 = 1.5h, Mon 7 June = 7h, Tue 8 June 09:00 + 1.5h = 10:30.
    t = cal.finish_time(at(cal, 2021, 6, 4, 16, 0), 10 * HOUR)
    assert when(cal, t) == datetime(2021, 6, 8, 10, 30, tzinfo=TZ)


def test_work_started_while_closed_waits_for_opening(cal: WorkingCalendar) -> None:
    t = cal.finish_time(at(cal, 2021, 6, 5, 3, 0), 30 * 60)  # Saturday night
    assert when(cal, t) == datetime(2021, 6, 7, 9, 30, tzinfo=TZ)


def test_zero_work_and_negative_work(cal: WorkingCalendar) -> None:
    t = at(cal, 2021, 6, 5, 3, 0)
    assert cal.finish_time(t, 0.0) == t
    with pytest.raises(ValueError):
        cal.finish_time(t, -1.0)


def test_working_days_in_a_plain_week(cal: WorkingCalendar) -> None:
    a, b = at(cal, 2021, 6, 7, 9, 0), at(cal, 2021, 6, 14, 9, 0)  # Mon 14 June: Dragon Boat
    assert cal.working_days_between(a, b) == pytest.approx(5.0)
    assert cal.working_days_between(a, at(cal, 2021, 6, 15, 9, 0)) == pytest.approx(5.0)
    assert cal.working_seconds_between(a, at(cal, 2021, 6, 7, 14, 0)) == pytest.approx(3.5 * HOUR)


def test_deadline_counts_working_days(cal: WorkingCalendar) -> None:
    # 9 WD from Tue 1 June 09:00: June 1-4, 7-11 are nine working days -> Fri 11 June 17:30.
    t = cal.deadline(0.0, 9)
    assert when(cal, t) == datetime(2021, 6, 11, 17, 30, tzinfo=TZ)


def test_long_work_spans_many_days(cal: WorkingCalendar) -> None:
    work = 400 * 7 * HOUR
    end = cal.finish_time(0.0, work)
    assert cal.working_seconds_between(0.0, end) == pytest.approx(work)
    assert cal.to_datetime(end).year == 2023


# -- consistency --------------------------------------------------------------------------


def test_finish_time_and_working_seconds_are_inverse(cal: WorkingCalendar) -> None:
    rng = random.Random(20210601)
    for _ in range(2000):
        t = rng.uniform(0.0, 200 * 86400.0)
        work = rng.choice([rng.uniform(0, 3 * HOUR), rng.uniform(0, 30 * 7 * HOUR)])
        end = cal.finish_time(t, work)
        assert end >= t
        assert cal.working_seconds_between(t, end) == pytest.approx(work, abs=1e-6)
        if work > 0:
            # the last stretch of work happened while open, so it did not end later than needed
            assert cal.is_open(end - 1e-3)


def test_next_open_is_the_first_open_moment(cal: WorkingCalendar) -> None:
    rng = random.Random(7)
    for _ in range(1000):
        t = rng.uniform(0.0, 150 * 86400.0)
        nxt = cal.next_open(t)
        assert cal.is_open(nxt)
        assert cal.working_seconds_between(t, nxt) == 0.0
        if cal.is_open(t):
            assert nxt == t


def test_datetime_round_trip(cal: WorkingCalendar) -> None:
    dt = datetime(2021, 10, 9, 14, 15, 30, tzinfo=TZ)
    assert cal.to_datetime(cal.from_datetime(dt)) == dt
    assert cal.from_datetime(START) == 0.0
    assert cal.to_datetime(HOUR) == datetime(2021, 6, 1, 10, 0, tzinfo=TZ)


def test_naive_start_rejected() -> None:
    with pytest.raises(CalendarError, match="time zone"):
        WorkingCalendar(datetime(2021, 6, 1, 9, 0))


# -- always open --------------------------------------------------------------------------


def test_always_open_works_around_the_clock() -> None:
    cal = WorkingCalendar.always(START)
    sunday_night = at(cal, 2021, 10, 3, 3, 0)
    assert cal.is_open(sunday_night)
    assert cal.next_open(sunday_night) == sunday_night
    assert cal.finish_time(sunday_night, 5 * HOUR) == sunday_night + 5 * HOUR
    assert cal.working_seconds_between(0.0, 86400.0) == 86400.0


def test_always_open_counts_working_days_on_the_office_reference() -> None:
    cal = WorkingCalendar.always(START)
    # Holiday days count for nothing; Oct 8 (a full office day) counts for one.
    a, b = at(cal, 2021, 10, 2, 0, 0), at(cal, 2021, 10, 8, 23, 0)
    assert cal.working_days_between(a, b) == pytest.approx(1.0)
    assert cal.working_day_seconds == 7 * HOUR


def test_always_open_with_explicit_sla_reference() -> None:
    reference = WorkingCalendar(START, holidays="none")
    cal = WorkingCalendar.always(START, sla_reference=reference)
    a, b = at(cal, 2021, 10, 4, 9, 0), at(cal, 2021, 10, 5, 9, 0)
    assert cal.working_days_between(a, b) == pytest.approx(1.0)


@pytest.mark.parametrize("hours", [8, -5, 0])
@pytest.mark.parametrize("zone", ["datetime", "pydantic"])
def test_the_date_of_a_moment_is_the_one_datetime_gives_even_a_microsecond_from_midnight(
    hours: int, zone: str
) -> None:
    """Dates are worked out by arithmetic under a fixed offset; they must be exactly the dates
    `datetime.fromtimestamp` gives, rounding to the microsecond included."""
    offset = timezone(timedelta(hours=hours)) if zone == "datetime" else TzInfo(hours * 3600)
    start = datetime(2021, 6, 1, 9, tzinfo=offset)
    calendar = WorkingCalendar(start, holidays="none")
    assert calendar._offset == hours * 3600
    rng = random.Random(hours)
    origin = start.timestamp()
    for _ in range(20_000):
        days = rng.randint(-800, 800)
        midnight = (math.floor((origin + hours * 3600) / 86_400) + days) * 86_400 - hours * 3600
        near = rng.choice([0.0, 1e-7, 4.9e-7, 5e-7, 5.1e-7, 1e-6, rng.uniform(0, 1e-4)])
        for t in (midnight - origin + near, midnight - origin - near, rng.uniform(-3e7, 3e7)):
            assert calendar._date_of(t) == calendar.to_datetime(t).date(), t


@pytest.mark.parametrize("always", [False, True])
def test_both_working_day_measures_at_once_are_the_two_asked_apart(always: bool) -> None:
    calendar = WorkingCalendar.always(START) if always else WorkingCalendar(START)
    rng = random.Random(5)
    for _ in range(3_000):
        a = rng.uniform(0, 200 * 86_400)
        b = a + rng.choice([0.0, rng.uniform(0, 3_600), rng.uniform(0, 40 * 86_400)])
        both = calendar.working_days_both(a, b)
        assert both == (calendar.working_days_between(a, b), calendar.legal_working_days(a, b))
    with pytest.raises(ValueError):
        calendar.working_days_both(10.0, 5.0)


def _open_day_by_day(calendar: WorkingCalendar, a: float, b: float) -> float:
    """Open seconds within [a, b], summed over each date's office intervals in turn."""
    total, day, last = 0.0, calendar.to_datetime(a).date(), calendar.to_datetime(b).date()
    while day <= last:
        for opens, closes in calendar.office_hours.intervals if calendar.is_workday(day) else ():
            zone = calendar.start.tzinfo
            lo = calendar.from_datetime(datetime.combine(day, opens, tzinfo=zone))
            hi = calendar.from_datetime(datetime.combine(day, closes, tzinfo=zone))
            total += max(0.0, min(hi, b) - max(lo, a))
        day += timedelta(days=1)
    return total


@pytest.mark.parametrize("zone", [TZ, timezone(timedelta(hours=8))], ids=["zoneinfo", "fixed"])
def test_open_time_across_days_is_each_days_open_time_summed(zone: timezone | ZoneInfo) -> None:
    """Across days, open time comes from running totals kept from the calendar's first day;
    spans before that day, across National Day and a make-up Saturday, and ending a
    microsecond either side of midnight give what walking day by day gives."""
    calendar = WorkingCalendar(START.replace(tzinfo=zone))
    origin = calendar.from_datetime(datetime(2021, 9, 25, tzinfo=zone))
    rng = random.Random(11)
    for _ in range(3_000):
        a = origin + rng.uniform(-140 * 86_400, 60 * 86_400)  # from before the first day
        b = a + rng.choice([rng.uniform(0, 86_400), rng.uniform(0, 30 * 86_400)])
        if rng.random() < 0.2:  # end on a midnight, give or take a microsecond
            b = origin + 86_400 * math.ceil((b - origin) / 86_400) + rng.choice([-1e-6, 0, 1e-6])
        expected = _open_day_by_day(calendar, a, b)
        assert calendar.working_seconds_between(a, b) == pytest.approx(expected, abs=1e-6)
        working, _ = calendar.working_days_both(a, b)
        assert working == pytest.approx(expected / calendar.working_day_seconds, abs=1e-9)
