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

    def split(self, start: float, end: float) -> tuple[float, float, float]:
        """`[start, end]` as (open, closed, in an outage): where a request's time at the
        agency went. Outage time is counted as such whether or not the office would have been
        open then; closed time is outside office hours (nights, lunch, holidays)."""
        if end <= start:
            return 0.0, 0.0, 0.0
        if not self._outages:
            open_ = self._open(start, end)
            return open_, max(0.0, end - start - open_), 0.0
        outage = open_in_outage = 0.0
        for first, last in self._outages:
            lo, hi = max(first, start), min(last, end)
            if hi > lo:
                outage += hi - lo
                open_in_outage += self._open(lo, hi)
        open_ = self._open(start, end) - open_in_outage
        return open_, max(0.0, end - start - open_ - outage), outage

    def _open(self, start: float, end: float) -> float:
        if self.calendar is None:
            return end - start
        return self.calendar.working_seconds_between(start, end)

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
