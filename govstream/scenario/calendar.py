"""The scenario's working calendar: its start, office hours, holidays and extra days."""

from __future__ import annotations

from govstream.calendar.working import OfficeHours, WorkingCalendar
from govstream.scenario.model import Scenario


def scenario_calendar(scenario: Scenario) -> WorkingCalendar:
    """The scenario's office calendar, the one both engines' agencies and working days use."""
    return WorkingCalendar(
        start=scenario.start,
        office_hours=OfficeHours.from_strings(scenario.calendar.office_hours),
        holidays=scenario.calendar.holidays,
        extra_days=scenario.calendar.extra_days(),
        weekdays_past_data=True,
    )
