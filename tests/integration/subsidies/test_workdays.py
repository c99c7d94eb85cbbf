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


def test_the_bureau_enters_next_years_schedule_on_its_page(client, users):
    """The State Council's 2026 notice (春节：2月15日至23日放假调休，共9天；2月14日（周六）、2月28日（周六）上班)
    entered by hand for a year the library does not know, then counted."""
    from django.urls import reverse

    url = reverse("subsidies:calendar") + f"?year={NO_DATA_YEAR}"
    client.force_login(users["bureau"])
    page = client.get(url).content.decode()
    assert WARN_NO_SCHEDULE.format(year=NO_DATA_YEAR) in page
    resp = client.post(url, {"step": "set", "start": f"{NO_DATA_YEAR}-02-09", "end": f"{NO_DATA_YEAR}-02-13", "is_workday": "0", "name": "春节"})
    assert resp.status_code == 302
    client.post(url, {"step": "set", "start": f"{NO_DATA_YEAR}-02-07", "is_workday": "1", "name": "春节调休"})
    assert workdays.working_days(date(NO_DATA_YEAR, 2, 2), date(NO_DATA_YEAR, 2, 13)).count == 6
    page = client.get(url).content.decode()
    assert page.count("本系统录入") == 6 and "春节调休" in page
    assert CalendarDay.history.filter(history_user=users["bureau"]).count() == 6  # who entered what
    resp = client.post(url, {"step": "set", "start": f"{NO_DATA_YEAR}-03-01", "end": f"{NO_DATA_YEAR}-02-01", "is_workday": "0"})
    assert "结束日期不能早于开始日期。" in resp.content.decode()
    client.post(url, {"step": "remove", "day": f"{NO_DATA_YEAR}-02-07"})
    assert not CalendarDay.objects.filter(date=date(NO_DATA_YEAR, 2, 7)).exists()
    # The library's schedule shows for a year it knows, in Chinese.
    assert "春节" in client.get(reverse("subsidies:calendar") + "?year=2026").content.decode()
    for who in ("clerk", "leader", "collector"):
        client.force_login(users[who])
        assert client.get(url).status_code == 403
        assert client.post(url, {"step": "set", "start": f"{NO_DATA_YEAR}-05-01", "is_workday": "0"}).status_code == 403
