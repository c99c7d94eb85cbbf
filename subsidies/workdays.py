"""Working days (工作日): Monday–Friday less statutory holidays, plus make-up workdays (调休).

One owner for every count of working days in the portal (a posting's minimum period, …).
Holidays come from the chinese-calendar library, which carries the State Council's schedule for
the years it was released with; a ``CalendarDay`` row overrides it for its date, so next year's
schedule can be entered before the library knows it. For a year with neither, days are counted
Monday–Friday and the count says so (``Workdays.warnings``), for the page to show.

``WorkCalendar`` is the pure rule over plain values; ``working_days`` and ``schedule_warnings``
read the entered days first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import chinese_calendar

from .models import CalendarDay

WARN_NO_SCHEDULE = "{year}年法定节假日安排尚未录入，工作日按周一至周五计算"


@cache
def library_knows(year: int) -> bool:
    """Whether the installed chinese-calendar has the holiday schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class Workdays:
    """A count of working days, and the years in it counted Monday–Friday for want of a schedule."""

    count: int
    unscheduled_years: tuple[int, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(WARN_NO_SCHEDULE.format(year=y) for y in self.unscheduled_years)


@dataclass(frozen=True)
class WorkCalendar:
    """``overrides``: date → is a workday, as entered (CalendarDay); ``entered_years``: the years
    with at least one entered day (their schedule counts as known)."""

    overrides: Mapping[date, bool] = field(default_factory=dict)
    entered_years: frozenset[int] = frozenset()

    @classmethod
    def of_days(cls, days: Iterable[tuple[date, bool]]) -> WorkCalendar:
        overrides = dict(days)
        return cls(overrides=overrides, entered_years=frozenset(d.year for d in overrides))

    def scheduled(self, year: int) -> bool:
        return year in self.entered_years or library_knows(year)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if library_knows(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def count(self, start: date, end: date) -> Workdays:
        """Working days from ``start`` to ``end``, both included (0 when ``end`` is earlier)."""
        if end < start:
            return Workdays(0)
        n, day = 0, start
        while day <= end:
            n += self.is_workday(day)
            day += timedelta(days=1)
        unscheduled = tuple(y for y in range(start.year, end.year + 1) if not self.scheduled(y))
        return Workdays(n, unscheduled)

    def warnings(self, years: Iterable[int]) -> tuple[str, ...]:
        return tuple(WARN_NO_SCHEDULE.format(year=y) for y in sorted(set(years)) if not self.scheduled(y))


def calendar_for(years: Iterable[int]) -> WorkCalendar:
    """The calendar of ``years`` with the days entered for them (one query)."""
    years = sorted(set(years))
    if not years:
        return WorkCalendar()
    rows = CalendarDay.objects.filter(date__gte=date(years[0], 1, 1), date__lte=date(years[-1], 12, 31))
    return WorkCalendar.of_days((d.date, d.is_workday) for d in rows if d.date.year in years)


@dataclass(frozen=True)
class ScheduleDay:
    """A day the schedule makes differ from Monday–Friday (a holiday on a weekday, a weekend
    workday), or one the bureau entered; ``entered``: from a CalendarDay row, not the library."""

    day: date
    is_workday: bool
    name: str
    entered: bool


_HOLIDAY_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday}


def year_schedule(year: int) -> list[ScheduleDay]:
    """The holiday schedule of ``year`` in effect: entered days first, then the library's."""
    entered = {d.date: d for d in CalendarDay.objects.filter(date__year=year)}
    cal = WorkCalendar.of_days((d, row.is_workday) for d, row in entered.items())
    days, day = [], date(year, 1, 1)
    while day.year == year:
        row = entered.get(day)
        workday = cal.is_workday(day)
        if row is not None:
            days.append(ScheduleDay(day, workday, row.name, True))
        elif workday != (day.weekday() < 5):
            name = chinese_calendar.get_holiday_detail(day)[1] if library_knows(year) else None
            days.append(ScheduleDay(day, workday, _HOLIDAY_NAMES.get(name, name or ""), False))
        day += timedelta(days=1)
    return days


def working_days(start: date, end: date) -> Workdays:
    """Working days from ``start`` to ``end`` inclusive, as the entered schedule and the library say."""
    if end < start:
        return Workdays(0)
    return calendar_for(range(start.year, end.year + 1)).count(start, end)


def schedule_warnings(years: Iterable[int]) -> tuple[str, ...]:
    """What a page says about the years whose holiday schedule nobody has entered yet."""
    years = set(years)
    return calendar_for(years).warnings(years)
