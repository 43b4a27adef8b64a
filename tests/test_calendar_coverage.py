"""Calendars that cover the run: checked before it starts, extendable with a file of dates.

The holiday package knows each year only once the State Council has published it. A run past
its data used to validate and then end in a traceback; it must be bad input (exit 2) naming the
years missing and how to add them, and a scenario may bring those years itself.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
import yaml
from cli_runner import ROOT, govstream

from govstream.calendar.days_file import CalendarFileError, parse_calendar_days
from govstream.calendar.working import WorkingCalendar, cn_package_years, missing_years
from govstream.result import RunResult
from govstream.scenario.loader import ScenarioError, load_scenario

EXIT_BAD_INPUT = 2
FANOUT = ROOT / "scenarios" / "deregistration-fanout.yaml"
FIRST, LAST = cn_package_years()
BEYOND = LAST + 1
LATE_START = f"start={LAST}-09-01T09:00:00+08:00"
"""The issue's reproduction: a start that runs the scenario's 250 days past the package."""

NEXT_YEAR = {
    "years": [BEYOND],
    "holidays": [f"{BEYOND}-01-01", f"{BEYOND}-02-05..{BEYOND}-02-11", f"{BEYOND}-05-01"],
    "workdays": [f"{BEYOND}-02-13"],
}


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_run_past_the_holiday_data_is_bad_input_naming_the_years(
    command: str, tmp_path: Path
) -> None:
    out = ["--out", str(tmp_path)] if command == "run" else []
    ran = govstream(command, FANOUT, "--set", LATE_START, *out)
    assert ran.returncode == EXIT_BAD_INPUT, ran.stdout + ran.stderr
    said = " ".join(ran.stderr.split())
    assert "Traceback" not in said
    assert f"missing: {BEYOND}" in said and f"{FIRST}–{LAST}" in said
    assert "calendar.days_file" in said and "pip install -U chinese-calendar" in said


def test_missing_years_covers_start_to_the_end_of_the_drain() -> None:
    scenario = load_scenario(FANOUT)
    assert missing_years(scenario.start.date(), scenario.end.date()) == []
    assert missing_years(date(LAST, 12, 1), date(BEYOND + 1, 1, 2)) == [BEYOND, BEYOND + 1]
    assert missing_years(date(LAST, 12, 1), date(BEYOND, 1, 2), holidays="none") == []


def write_days(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / f"cn-{BEYOND}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def scenario_with_days(tmp_path: Path, days: Path) -> Path:
    """The shipped scenario beside a calendar file it names by a relative path."""
    data = yaml.safe_load(FANOUT.read_text(encoding="utf-8"))
    data["calendar"]["days_file"] = days.name
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_scenario_brings_the_missing_year_and_the_result_records_it(tmp_path: Path) -> None:
    days = write_days(tmp_path, NEXT_YEAR)
    path = scenario_with_days(tmp_path, days)
    short = ["--set", LATE_START, "--set", "duration=150d", "--set", "drain=10d"]
    assert govstream("validate", path, *short).returncode == 0
    out = tmp_path / "out"
    ran = govstream("run", path, *short, "--quiet", "--out", out)
    assert ran.returncode == 0, ran.stderr
    result = RunResult.read(out / "result.json")
    calendar = result.calendar
    assert calendar is not None
    assert calendar.package is not None and calendar.package.startswith("chinese-calendar ")
    assert calendar.package_years == f"{FIRST}–{LAST}"
    assert calendar.days_sha256 == hashlib.sha256(days.read_bytes()).hexdigest()
    assert calendar.days_years == [BEYOND]


def test_the_files_dates_decide_in_its_years() -> None:
    days = parse_calendar_days(NEXT_YEAR, "test")
    cal = WorkingCalendar(load_scenario(FANOUT).start, extra_days=days)
    assert not cal.is_workday(date(BEYOND, 2, 8))  # in the listed break
    assert cal.is_workday(date(BEYOND, 2, 13))  # the make-up day, a Saturday or not
    monday = next(date(BEYOND, 3, d) for d in range(1, 8) if date(BEYOND, 3, d).weekday() == 0)
    assert cal.is_workday(monday) and not cal.is_workday(monday.replace(day=monday.day + 5))


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"holidays": ["2027-01-01"]}, "years: required"),
        ({"years": [2027], "holidays": ["2028-01-01"]}, "not in the years"),
        ({"years": [2027], "holidays": ["1 May"]}, "not a date"),
        ({"years": [2027], "holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}, "both"),
        ({"years": [2027], "holiday": []}, "unknown key"),
        ({"years": [2027], "holidays": ["2027-02-11..2027-02-05"]}, "ends before"),
    ],
)
def test_a_bad_calendar_file_says_what_is_wrong(data: dict, fragment: str) -> None:
    with pytest.raises(CalendarFileError, match=fragment):
        parse_calendar_days(data, "days.yaml")


def test_a_calendar_file_that_is_not_there_is_a_scenario_error(tmp_path: Path) -> None:
    path = scenario_with_days(tmp_path, tmp_path / "missing.yaml")
    with pytest.raises(ScenarioError, match=r"days_file: .*cannot read the file"):
        load_scenario(path)
