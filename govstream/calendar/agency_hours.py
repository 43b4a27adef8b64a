"""When an agency can work: office calendar and outage windows, on business seconds.

Shared by the sim engine's stations and the kafka engine's agency endpoints, so an outage or a
holiday means the same on both engines.
"""

from __future__ import annotations

from govstream.calendar.working import WorkingCalendar
from govstream.scenario.model import Agency, Outage

DAY = 86400.0


class AgencyHours:
    """Opening rules of one agency; an outage stops new work, work already begun is finished."""

    def __init__(self, spec: Agency, calendar: WorkingCalendar | None) -> None:
        self.calendar = calendar
        self._outages = sorted(
            (o.start.clock_seconds(), o.end.clock_seconds()) for o in spec.outages
        )

    def next_available(self, t: float) -> float:
        """The first moment at or after t when the agency is open and not in an outage."""
        while True:
            moved = t
            for start, end in self._outages:
                if start <= moved < end:
                    moved = end
            if self.calendar is not None:
                moved = self.calendar.next_open(moved)
            if moved == t:
                return t
            t = moved

    def finish_time(self, start: float, work: float) -> float:
        """Work under an office calendar only progresses while the office is open."""
        if self.calendar is None:
            return start + work
        return self.calendar.finish_time(start, work)


def describe_outage(outage: Outage) -> str:
    """Both ends in whole days when they are, so 14d–17d does not read as 2w–17d."""
    reason = f" ({outage.reason})" if outage.reason else ""
    start, end = outage.start.clock_seconds(), outage.end.clock_seconds()
    if start % DAY == 0 and end % DAY == 0:
        return f"{start / DAY:.0f}d–{end / DAY:.0f}d{reason}"
    return f"{outage.start}–{outage.end}{reason}"
