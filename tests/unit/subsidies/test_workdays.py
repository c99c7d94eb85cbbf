"""Working days: Monday–Friday less statutory holidays, plus make-up workdays (subsidies.workdays).

Holiday figures are the State Council's 2026 schedule (春节 2月15日–23日休，2月14日、28日（周六）上班；
国庆节、中秋节 10月1日–7日休，9月20日（周日）、10月10日（周六）上班), as chinese-calendar carries it."""

from datetime import date

import pytest

from subsidies import workdays
from subsidies.workdays import WARN_NO_SCHEDULE, WorkCalendar

NO_DATA_YEAR = 2099  # a year neither the library nor the bureau has a schedule for


def count(start, end, calendar=WorkCalendar()):
    return calendar.count(start, end).count


def test_the_no_data_year_is_unknown_to_the_library():
    assert workdays.library_knows(2026) and not workdays.library_knows(NO_DATA_YEAR)


@pytest.mark.parametrize(
    "start, end, n",
    [
        (date(2026, 11, 2), date(2026, 11, 6), 5),  # Monday to Friday
        (date(2026, 11, 4), date(2026, 11, 10), 5),  # across a weekend
        (date(2026, 11, 4), date(2026, 11, 9), 4),
        (date(2026, 11, 7), date(2026, 11, 8), 0),  # a weekend
        (date(2026, 11, 9), date(2026, 11, 2), 0),  # end before start
    ],
)
def test_ordinary_weeks(start, end, n):
    assert count(start, end) == n


@pytest.mark.parametrize(
    "start, end, n, monday_to_friday",
    [
        # Posted Sunday 15 February to Friday 27 February: 10 weekdays, 4 working days (24–27).
        (date(2026, 2, 15), date(2026, 2, 27), 4, 10),
        # From the Friday before, the Saturday make-up day 14 February included: 13, 14, 24, 25, 26.
        (date(2026, 2, 13), date(2026, 2, 26), 5, 10),
        # Saturday 28 February is a make-up workday.
        (date(2026, 2, 24), date(2026, 2, 28), 5, 4),
        # The holiday itself: no working day at all.
        (date(2026, 2, 15), date(2026, 2, 23), 0, 6),
    ],
)
def test_spring_festival_2026(start, end, n, monday_to_friday):
    assert count(start, end) == n
    assert sum(1 for d in range((end - start).days + 1) if date.fromordinal(start.toordinal() + d).weekday() < 5) == monday_to_friday


@pytest.mark.parametrize(
    "start, end, n",
    [
        (date(2026, 9, 28), date(2026, 10, 9), 5),  # 28, 29, 30 September, 8, 9 October
        (date(2026, 9, 28), date(2026, 10, 10), 6),  # Saturday 10 October is a make-up workday
        (date(2026, 10, 1), date(2026, 10, 7), 0),  # the Golden Week
        (date(2026, 9, 20), date(2026, 9, 26), 5),  # Sunday 20 September works, Friday 25 (Mid-Autumn) does not
    ],
)
def test_national_day_2026(start, end, n):
    assert count(start, end) == n


def test_known_years_give_no_warning():
    assert WorkCalendar().count(date(2026, 2, 13), date(2026, 2, 26)).warnings == ()


def test_a_year_without_a_schedule_counts_monday_to_friday_and_says_so():
    got = WorkCalendar().count(date(NO_DATA_YEAR, 1, 1), date(NO_DATA_YEAR, 1, 31))
    assert got.count == 22  # 1 January 2099 is a Thursday: no New Year's Day off without a schedule
    assert got.unscheduled_years == (NO_DATA_YEAR,)
    assert got.warnings == (f"{NO_DATA_YEAR}年法定节假日安排尚未录入，工作日按周一至周五计算",)
    assert WARN_NO_SCHEDULE.format(year=NO_DATA_YEAR) in got.warnings


def test_a_posting_across_the_new_year_warns_for_each_unknown_year():
    got = WorkCalendar().count(date(NO_DATA_YEAR - 1, 12, 28), date(NO_DATA_YEAR, 1, 2))
    assert got.count == 5 and got.unscheduled_years == (NO_DATA_YEAR - 1, NO_DATA_YEAR)
    calendar = WorkCalendar.of_days([(date(NO_DATA_YEAR - 1, 12, 31), False)])
    assert calendar.count(date(NO_DATA_YEAR - 1, 12, 28), date(NO_DATA_YEAR, 1, 2)).unscheduled_years == (NO_DATA_YEAR,)


def test_entered_days_override_the_library_and_make_their_year_known():
    # A day the library calls a workday entered as a holiday, and a Saturday entered as a workday.
    calendar = WorkCalendar.of_days([(date(2026, 11, 4), False), (date(2026, 11, 7), True)])
    assert count(date(2026, 11, 2), date(2026, 11, 8), calendar) == 5
    # One entered day of a year the library does not know: the year counts as scheduled.
    calendar = WorkCalendar.of_days([(date(NO_DATA_YEAR, 1, 1), False)])
    got = calendar.count(date(NO_DATA_YEAR, 1, 1), date(NO_DATA_YEAR, 1, 31))
    assert (got.count, got.warnings) == (21, ())
