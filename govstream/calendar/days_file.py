"""A scenario's own holidays and make-up working days, read from a file of dates.

The holiday package learns each year's dates from the State Council's notice (国务院办公厅关于
部分节假日安排的通知) and covers only the years published when it was released. A study of a
later year, or one that must match a local closure, gives the dates itself:

    # 国务院办公厅关于2027年部分节假日安排的通知
    years: [2027]
    holidays: [2027-01-01, 2027-02-05..2027-02-11, 2027-04-05]
    workdays: [2027-02-14]          # make-up working days (调休), usually weekends

In a year listed under `years` these dates decide; every other day is a working day from
Monday to Friday. A range `a..b` includes both ends.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from govstream.calendar.working import CalendarDays

FIELDS = ("years", "holidays", "workdays")


class CalendarFileError(ValueError):
    """A calendar file that cannot be used; the message names the file, the key and the value."""


def read_calendar_days(path: str | Path) -> tuple[CalendarDays, str]:
    """The file's dates and the SHA-256 of its bytes (recorded with every result)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or error
        raise CalendarFileError(f"{path}: cannot read the file: {reason}") from None
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise CalendarFileError(f"{path}: not a YAML file of dates: {error}") from None
    return parse_calendar_days(data, str(path)), hashlib.sha256(raw).hexdigest()


def parse_calendar_days(data: Any, source: str) -> CalendarDays:
    if not isinstance(data, dict):
        raise CalendarFileError(f"{source}: write a mapping with keys {', '.join(FIELDS)}")
    unknown = [key for key in data if key not in FIELDS]
    if unknown:
        raise CalendarFileError(
            f"{source}: unknown key {', '.join(map(repr, unknown))}; allowed: {', '.join(FIELDS)}"
        )
    years = data.get("years")
    if not isinstance(years, list) or not years or not all(isinstance(y, int) for y in years):
        raise CalendarFileError(
            f"{source}: years: required, the whole years the file gives dates for, e.g. [2027]"
        )
    holidays = _dates(data.get("holidays") or [], f"{source}: holidays")
    workdays = _dates(data.get("workdays") or [], f"{source}: workdays")
    for name, days in (("holidays", holidays), ("workdays", workdays)):
        outside = sorted(d for d in days if d.year not in years)
        if outside:
            raise CalendarFileError(
                f"{source}: {name}: {outside[0].isoformat()} is not in the years the file "
                f"covers ({', '.join(map(str, years))}); add its year to years"
            )
    both = sorted(holidays & workdays)
    if both:
        raise CalendarFileError(
            f"{source}: {both[0].isoformat()} is listed both as a holiday and as a working day"
        )
    return CalendarDays(frozenset(years), frozenset(holidays), frozenset(workdays))


def _dates(items: Any, where: str) -> set[date]:
    if not isinstance(items, list):
        raise CalendarFileError(f"{where}: write a list of dates, e.g. [2027-01-01]")
    days: set[date] = set()
    for item in items:
        if isinstance(item, date):
            days.add(item)
            continue
        text = str(item)
        first, sep, last = text.partition("..")
        try:
            low = date.fromisoformat(first.strip())
            high = date.fromisoformat(last.strip()) if sep else low
        except ValueError:
            raise CalendarFileError(
                f"{where}: {text!r} is not a date; write 2027-01-01 or a range "
                "2027-02-05..2027-02-11"
            ) from None
        if high < low:
            raise CalendarFileError(f"{where}: range {text!r} ends before it starts")
        while low <= high:
            days.add(low)
            low += timedelta(days=1)
    return days
