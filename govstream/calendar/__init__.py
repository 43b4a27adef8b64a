"""Calendars: when offices are open and what a working day is.

- `working`: office hours on Chinese working days (holidays, make-up working days), and the
  two ways of counting working days the plan's deadlines use;
- `days_file`: holidays and make-up working days a scenario supplies for a year the holiday
  package lacks;
- `agency_hours`: when one agency can work, its calendar and its outages together.
"""
