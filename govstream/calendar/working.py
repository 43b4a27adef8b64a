"""Office hours on Chinese working days, on the simulation's clock (float seconds from start).

Agencies only make progress on a case while they are open, and the plan states its targets in
working days (工作日), so both the simulated service and the SLA check need the same calendar:
public holidays closed, make-up working days (调休) open, lunch break closed.

Each date's open intervals are computed once, as absolute simulation seconds, and cached; the
queries then walk whole days rather than minutes, so a service spanning weeks costs a few dozen
dictionary look-ups.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property, lru_cache
from typing import Literal

import chinese_calendar
from pydantic_core import TzInfo

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "CalendarDays",
    "CalendarError",
    "HolidayRule",
    "OfficeHours",
    "WorkingCalendar",
    "cn_package_years",
    "missing_years",
]

HolidayRule = Literal["cn", "none"]

_ONE_DAY = timedelta(days=1)
_FIXED_ZONES = (timezone, TzInfo)
"""Time zones that are one offset from UTC all year: a scenario's `+08:00` comes as either,
from YAML or from pydantic."""
_EPOCH = date(1970, 1, 1)
_MIDNIGHT_MARGIN = 1e-3
"""How near midnight a time is taken through the exact date arithmetic rather than the
current day's bounds: far wider than a float's error on a run's timestamps."""
_SPAN_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class CalendarError(ValueError):
    """A calendar that cannot be built or a date it cannot answer for."""


def _seconds_of_day(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True)
class OfficeHours:
    """The daily open intervals of an office, in local time, sorted and not overlapping.

    The default is the usual Chinese government office day: 09:00–12:00 and 13:30–17:30,
    seven working hours.
    """

    intervals: tuple[tuple[time, time], ...] = (
        (time(9, 0), time(12, 0)),
        (time(13, 30), time(17, 30)),
    )

    def __post_init__(self) -> None:
        intervals = tuple((a, b) for a, b in self.intervals)
        object.__setattr__(self, "intervals", intervals)
        if not intervals:
            raise CalendarError("office hours need at least one open interval")
        previous_end: time | None = None
        for opens, closes in intervals:
            if opens >= closes:
                raise CalendarError(
                    f"office interval {opens:%H:%M}-{closes:%H:%M} must open before it closes "
                    "(intervals cannot run past midnight; use always_open for 24/7 services)"
                )
            if previous_end is not None and opens < previous_end:
                raise CalendarError(
                    f"office interval {opens:%H:%M}-{closes:%H:%M} overlaps or precedes the one "
                    f"ending {previous_end:%H:%M}: list intervals in order, without overlap"
                )
            previous_end = closes

    @classmethod
    def from_strings(cls, spans: Iterable[str]) -> OfficeHours:
        """Read ``["09:00-12:00", "13:30-17:30"]`` as written in scenario YAML."""
        if isinstance(spans, str):
            spans = [spans]
        intervals: list[tuple[time, time]] = []
        for span in spans:
            match = _SPAN_RE.match(span) if isinstance(span, str) else None
            if match is None:
                raise CalendarError(
                    f"{span!r} is not an office interval: write HH:MM-HH:MM, e.g. '09:00-12:00'"
                )
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            try:
                intervals.append((time(h1, m1), time(h2, m2)))
            except ValueError:
                raise CalendarError(
                    f"{span!r} has an impossible time of day: hours 0-23, minutes 0-59"
                ) from None
        return cls(tuple(intervals))

    @cached_property
    def spans_seconds(self) -> tuple[tuple[int, int], ...]:
        """Intervals as seconds after local midnight."""
        return tuple((_seconds_of_day(a), _seconds_of_day(b)) for a, b in self.intervals)

    @cached_property
    def open_seconds(self) -> float:
        """Length of one full working day, the unit of "working days"."""
        return float(sum(b - a for a, b in self.spans_seconds))

    def __str__(self) -> str:
        return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in self.intervals)


DEFAULT_OFFICE_HOURS = OfficeHours()


@lru_cache(maxsize=1)
def _cn_supported_range() -> tuple[int, int]:
    known = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return min(known).year, max(known).year


def cn_package_years() -> tuple[int, int]:
    """The first and last year the chinese-calendar package has the State Council's dates for."""
    return _cn_supported_range()


@dataclass(frozen=True)
class CalendarDays:
    """Holidays and make-up working days a scenario supplies itself, for whole years.

    The holiday package covers each year only once the State Council has published its
    notice; a study of a later year (or a correction) gives that year's dates here. In a year
    listed in `years` these dates decide, and every other day is a working day from Monday to
    Friday.
    """

    years: frozenset[int]
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def is_workday(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day in self.workdays or day.weekday() < 5


def missing_years(
    first: date, last: date, holidays: str = "cn", extra: CalendarDays | None = None
) -> list[int]:
    """The years from `first` to `last` that neither the package nor `extra` has dates for."""
    if holidays != "cn":
        return []
    low, high = _cn_supported_range()
    own = extra.years if extra is not None else frozenset()
    return [
        year
        for year in range(first.year, last.year + 1)
        if not (low <= year <= high) and year not in own
    ]


@lru_cache(maxsize=8192)
def _cn_is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        first, last = _cn_supported_range()
        raise CalendarError(
            f"no Chinese holiday data for {day.isoformat()}: the chinese_calendar package covers "
            f"{first}-{last}; keep the scenario inside those years, upgrade chinese-calendar, "
            "or use holidays: none (Monday to Friday)"
        ) from None


class _DayTotals:
    """A value of each day summed from a first day: `before(day)` is its sum over the days
    from the first up to ``day`` (negative, over those from ``day`` up to the first, before
    it), kept in running tables, so that a span of months costs two look-ups."""

    __slots__ = ("_backward", "_first", "_forward", "_of_day")

    def __init__(self, first: date, of_day: Callable[[date], float]) -> None:
        self._first, self._of_day = first, of_day
        self._forward: list[float] = [0]
        self._backward: list[float] = [0]

    def before(self, day: date) -> float:
        first = self._first
        offset = (day - first).days
        if offset >= 0:
            table = self._forward
            while len(table) <= offset:
                table.append(table[-1] + self._of_day(first + timedelta(days=len(table) - 1)))
            return table[offset]
        back = self._backward
        while len(back) <= -offset:
            back.append(back[-1] + self._of_day(first - timedelta(days=len(back))))
        return -back[-offset]


# (open intervals as absolute sim seconds, total open seconds that day)
_DayPlan = tuple[tuple[tuple[float, float], ...], float]


@dataclass(eq=False)
class WorkingCalendar:
    """When an agency is open, on simulation seconds counted from ``start``.

    ``holidays="cn"`` follows the State Council holiday schedule (holidays closed, 调休 weekend
    days open); ``"none"`` is plain Monday to Friday. ``always_open`` serves automated 24/7
    systems, whose work never pauses.

    Working days are a unit of the plan, not of the agency: ``working_days_between`` and
    ``deadline`` are measured on ``sla_reference``, which is the calendar itself for an office
    calendar and the default Chinese office calendar for an always-open one (pass the scenario's
    SLA calendar to override). A bank system that answers at 03:00 on a Sunday has therefore spent
    zero working days, just as the plan would count it.
    """

    start: datetime
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS
    holidays: HolidayRule = "cn"
    always_open: bool = False
    sla_reference: WorkingCalendar | None = None
    extra_days: CalendarDays | None = None
    """A scenario's own holidays and make-up working days, for the years they name."""
    weekdays_past_data: bool = False
    """Past the last year of the holiday data (the package's and `extra_days`), open Monday to
    Friday instead of raising. A run's scenario is validated to lie inside the data from its
    start to the end of its drain; only work that would end after the run does (a long service
    begun near its end) reaches past it, and no figure of the run is taken there."""
    _start_ts: float = field(init=False, repr=False)
    _days: dict[date, _DayPlan] = field(init=False, repr=False, default_factory=dict)
    _offset: int | None = field(init=False, repr=False, default=None)
    """The time zone's fixed offset from UTC in seconds, when it has one (dates by arithmetic)."""
    _dates: dict[int, date] = field(init=False, repr=False, default_factory=dict)
    _today: tuple[float, float, date] = field(
        init=False, repr=False, default=(math.inf, -math.inf, _EPOCH)
    )
    """The sim seconds of the date last looked up, a margin inside its midnights, and the date:
    the latencies of a case mostly start and end on one day."""
    _anchor: date = field(init=False, repr=False, default=_EPOCH)
    """The date of ``start``: where the running counts of days begin."""
    _open_seconds: _DayTotals = field(init=False, repr=False)
    """Open seconds summed day by day from ``start``'s date (`_open_until`)."""
    _workdays: _DayTotals = field(init=False, repr=False)
    """Working days counted day by day from ``start``'s date (`_workday_ordinal`)."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise CalendarError(
                f"calendar start {self.start.isoformat()} has no time zone: give one, "
                "e.g. 2021-06-01T09:00+08:00"
            )
        if self.holidays not in ("cn", "none"):
            raise CalendarError(f"holidays must be 'cn' or 'none', not {self.holidays!r}")
        self._start_ts = self.start.timestamp()
        self._anchor = self.start.date()
        self._open_seconds = _DayTotals(self._anchor, lambda day: self._day(day)[1])
        self._workdays = _DayTotals(self._anchor, self.is_workday)
        zone = self.start.tzinfo
        if isinstance(zone, _FIXED_ZONES):
            offset = zone.utcoffset(None)
            if offset is not None and offset.microseconds == 0:
                self._offset = int(offset.total_seconds())
        if self.sla_reference is None and self.always_open:
            self.sla_reference = WorkingCalendar(
                self.start,
                self.office_hours,
                self.holidays,
                extra_days=self.extra_days,
                weekdays_past_data=self.weekdays_past_data,
            )

    @classmethod
    def always(
        cls, start: datetime, sla_reference: WorkingCalendar | None = None
    ) -> WorkingCalendar:
        """A 24/7 calendar; working days still count on ``sla_reference`` (see class doc)."""
        return cls(start, always_open=True, sla_reference=sla_reference)

    # -- conversions -----------------------------------------------------------------------

    def to_datetime(self, t: float) -> datetime:
        return datetime.fromtimestamp(self._start_ts + t, tz=self.start.tzinfo)

    def from_datetime(self, dt: datetime) -> float:
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise CalendarError(f"{dt.isoformat()} has no time zone")
        return dt.timestamp() - self._start_ts

    def _date_of(self, t: float) -> date:
        """The local date at ``t``: ``to_datetime(t).date()``.

        Every latency recorded asks for a date or two, so with a fixed UTC offset (the
        scenario's ``+08:00``) the date is worked out by arithmetic: the day last found answers
        at once, and within a millisecond of midnight the timestamp is first rounded to the
        microsecond exactly as ``datetime.fromtimestamp`` does (half to even). A time zone with
        daylight saving goes through ``datetime``.
        """
        low, high, day = self._today
        if low <= t < high:
            return day
        offset = self._offset
        if offset is None:
            return self.to_datetime(t).date()
        local = self._start_ts + t + offset
        number = int(local // 86_400)
        since_midnight = local - number * 86_400
        if not _MIDNIGHT_MARGIN <= since_midnight < 86_400 - _MIDNIGHT_MARGIN:
            fraction, whole = math.modf(self._start_ts + t)
            micros = round(fraction * 1e6)
            if micros >= 1_000_000:
                whole += 1.0
            elif micros < 0:
                whole -= 1.0
            number = (int(whole) + offset) // 86_400
        day = self._dates.get(number)
        if day is None:
            day = self._dates[number] = _EPOCH + timedelta(days=number)
        midnight = number * 86_400 - offset - self._start_ts
        self._today = (midnight + _MIDNIGHT_MARGIN, midnight + 86_400 - _MIDNIGHT_MARGIN, day)
        return day

    # -- days ------------------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        """Whether the office opens at all on ``day`` (local date)."""
        if self.always_open:
            return True
        if self.extra_days is not None and day.year in self.extra_days.years:
            return self.extra_days.is_workday(day)
        if self.holidays == "cn":
            if self.weekdays_past_data and day.year > _cn_supported_range()[1]:
                return day.weekday() < 5
            return _cn_is_workday(day)
        return day.weekday() < 5

    def _day(self, day: date) -> _DayPlan:
        plan = self._days.get(day)
        if plan is None:
            plan = self._build_day(day)
            self._days[day] = plan
        return plan

    def _build_day(self, day: date) -> _DayPlan:
        tz = self.start.tzinfo
        if self.always_open:
            a = datetime.combine(day, time(0), tzinfo=tz).timestamp() - self._start_ts
            b = datetime.combine(day + _ONE_DAY, time(0), tzinfo=tz).timestamp() - self._start_ts
            return ((a, b),), b - a
        if not self.is_workday(day):
            return (), 0.0
        intervals = tuple(
            (
                datetime.combine(day, opens, tzinfo=tz).timestamp() - self._start_ts,
                datetime.combine(day, closes, tzinfo=tz).timestamp() - self._start_ts,
            )
            for opens, closes in self.office_hours.intervals
        )
        return intervals, sum(b - a for a, b in intervals)

    # -- queries ---------------------------------------------------------------------------

    def is_open(self, t: float) -> bool:
        if self.always_open:
            return True
        return any(a <= t < b for a, b in self._day(self._date_of(t))[0])

    def next_open(self, t: float) -> float:
        """``t`` if open, else the next opening time."""
        if self.always_open:
            return t
        day = self._date_of(t)
        while True:
            for a, b in self._day(day)[0]:
                if t < b:
                    return max(a, t)
            day += _ONE_DAY

    def finish_time(self, t: float, work_seconds: float) -> float:
        """When ``work_seconds`` of work started at ``t`` is done, working only while open.

        Work that ends exactly at a closing time ends then (not at the next opening). Zero work
        finishes at ``t`` even when closed: nothing has to wait for the office.
        """
        if not (work_seconds >= 0 and math.isfinite(work_seconds)):
            raise ValueError(f"work_seconds must be finite and >= 0, not {work_seconds}")
        if self.always_open or work_seconds == 0:
            return t + work_seconds
        remaining = work_seconds
        day = self._date_of(t)
        while True:
            intervals, total = self._day(day)
            if intervals and t <= intervals[0][0] and remaining > total:
                remaining -= total  # the whole day is ahead of us and is not enough
            else:
                for a, b in intervals:
                    if b <= t:
                        continue
                    begin = a if a > t else t
                    available = b - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += _ONE_DAY

    def working_seconds_between(self, a: float, b: float) -> float:
        """Open time within ``[a, b]``."""
        if b < a:
            raise ValueError(f"interval end {b} is before its start {a}")
        if self.always_open:
            return b - a
        return self._open_between(a, b, self._date_of(a), self._date_of(b))

    def _open_between(self, a: float, b: float, day: date, last: date) -> float:
        """Open time within ``[a, b]``, which fall on the dates ``day`` and ``last``: within
        one day from its intervals, across days from the open seconds before each."""
        if day != last:
            return self._open_until(b, last) - self._open_until(a, day)
        intervals, day_total = self._day(day)
        if intervals and a <= intervals[0][0] and intervals[-1][1] <= b:
            return day_total
        total = 0.0
        for lo, hi in intervals:
            lo, hi = max(lo, a), min(hi, b)
            if hi > lo:
                total += hi - lo
        return total

    def _open_until(self, t: float, day: date) -> float:
        """Open seconds from the start of the calendar's first day to ``t``, on ``day``."""
        total = self._open_seconds.before(day)
        intervals, day_total = self._day(day)
        if intervals and t >= intervals[-1][1]:
            return total + day_total
        for lo, hi in intervals:
            if t <= lo:
                break
            total += (hi if hi < t else t) - lo
        return total

    @property
    def working_day_seconds(self) -> float:
        """Open seconds in one standard working day of the SLA reference (7h by default)."""
        return self._reference().office_hours.open_seconds

    def _reference(self) -> WorkingCalendar:
        return self.sla_reference if self.sla_reference is not None else self

    def working_days_between(self, a: float, b: float) -> float:
        """The plan's working days elapsed in ``[a, b]``, counted on the SLA reference."""
        reference = self._reference()
        return reference.working_seconds_between(a, b) / reference.office_hours.open_seconds

    def deadline(self, t: float, working_days: float) -> float:
        """When ``working_days`` of the plan's working time, counted from ``t``, run out."""
        reference = self._reference()
        return reference.finish_time(t, working_days * reference.office_hours.open_seconds)

    # -- working days as the law counts them ---------------------------------------------------
    #
    # 行政许可法 art. 82: periods in working days exclude statutory holidays; a period starts
    # counting the day after the event (民法典 art. 201), and falls due at the end of its last
    # day, which for an office is its closing time. So a request received on day D and due in
    # N working days is due by the close of office on the N-th working day after D, whatever
    # the hour it came in.

    def closing_time(self, day: date) -> float:
        """When the office closes on ``day`` (sim seconds); the day's end if it does not open."""
        reference = self._reference()
        intervals = reference._day(day)[0]
        if intervals:
            return intervals[-1][1]
        tz = self.start.tzinfo
        return datetime.combine(day + _ONE_DAY, time(0), tzinfo=tz).timestamp() - self._start_ts

    def legal_deadline(self, t: float, working_days: int) -> float:
        """Received at ``t``: due by the close of office on the N-th working day after that day.

        With N = 0, the close of the day of receipt (the end of that day if it is no working
        day): done "the same day".
        """
        if working_days < 0 or int(working_days) != working_days:
            raise ValueError(
                f"a legal period is a whole number of working days, not {working_days}"
            )
        reference = self._reference()
        day = self._date_of(t)
        if working_days == 0:
            return self.closing_time(day)
        counted = 0
        while counted < working_days:
            day += _ONE_DAY
            if reference.is_workday(day):
                counted += 1
        return self.closing_time(day)

    def legal_working_days(self, a: float, b: float) -> int:
        """The least N for which a request received at ``a`` and done at ``b`` met an
        N-working-day deadline: the working days after the day of receipt, up to the one by
        whose close it was done. Monday 09:00 to Tuesday 17:00 is 1."""
        if b < a:
            raise ValueError(f"interval end {b} is before its start {a}")
        return self._legal_days(b, self._date_of(a), self._date_of(b))

    def working_days_both(self, a: float, b: float) -> tuple[float, int]:
        """``(working_days_between(a, b), legal_working_days(a, b))``, finding the dates of
        ``a`` and ``b`` once: the latency book asks for both of every span it records."""
        reference = self._reference()
        if reference is not self or self.always_open:
            return self.working_days_between(a, b), self.legal_working_days(a, b)
        if b < a:
            raise ValueError(f"interval end {b} is before its start {a}")
        first, last = self._date_of(a), self._date_of(b)
        working = self._open_between(a, b, first, last) / self.office_hours.open_seconds
        if first == last:  # as most latencies are: done by the day's close is 0 legal days
            intervals = self._day(first)[0]
            if not intervals or b <= intervals[-1][1]:
                return working, 0
        return working, self._legal_days(b, first, last)

    def _legal_days(self, b: float, received: date, done: date) -> int:
        """`legal_working_days` of a span received on ``received`` and ending at ``b``, on
        the date ``done``."""
        if b <= self.closing_time(received):
            return 0
        reference = self._reference()
        if not (reference.is_workday(done) and b <= self.closing_time(done)):
            done += _ONE_DAY
            while not reference.is_workday(done):
                done += _ONE_DAY
        return reference._workday_ordinal(done) - reference._workday_ordinal(received)

    def _workday_ordinal(self, day: date) -> int:
        """A running count of working days such that ``ordinal(E) - ordinal(D)`` is the number
        of working days in (D, E]."""
        return int(self._workdays.before(day + _ONE_DAY))
