"""Working days read the holiday schedule the bureau entered (CalendarDay) before the library."""

from datetime import date

import pytest

from subsidies import workdays
from subsidies.models import CalendarDay
from subsidies.workdays import WARN_NO_SCHEDULE
from tests.unit.subsidies.test_workdays import NO_DATA_YEAR

pytestmark = pytest.mark.django_db


def test_working_days_reads_the_entered_schedule():
    start, end = date(NO_DATA_YEAR, 2, 2), date(NO_DATA_YEAR, 2, 13)  # Monday to Friday of the next week
    assert workdays.working_days(start, end).count == 10
    assert workdays.schedule_warnings([NO_DATA_YEAR]) == (WARN_NO_SCHEDULE.format(year=NO_DATA_YEAR),)
    CalendarDay.objects.bulk_create([
        CalendarDay(date=date(NO_DATA_YEAR, 2, d), is_workday=False, name="春节") for d in range(9, 14)
    ] + [CalendarDay(date=date(NO_DATA_YEAR, 2, 7), is_workday=True, name="春节调休")])
    got = workdays.working_days(date(NO_DATA_YEAR, 2, 2), date(NO_DATA_YEAR, 2, 13))
    assert (got.count, got.warnings) == (6, ())
    assert workdays.schedule_warnings([NO_DATA_YEAR]) == ()
    # An entered day beats the library in a year it knows.
    CalendarDay.objects.create(date=date(2026, 11, 4), is_workday=False, name="测试")
    assert workdays.working_days(date(2026, 11, 2), date(2026, 11, 6)).count == 4
