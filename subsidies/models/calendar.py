"""The State Council's holiday schedule, where the bundled calendar has no data yet."""

from django.db import models
from simple_history.models import HistoricalRecords


class CalendarDay(models.Model):
    """One day of the national holiday schedule (法定节假日 / 调休上班日).

    The working-day count (``subsidies.workdays``) takes holidays and make-up workdays from the
    chinese-calendar library, which knows the years it was released with; a day listed here
    overrides it, so the bureau can enter next year's schedule as soon as the State Council
    publishes it (usually in November). A day not listed follows the library, or Monday–Friday
    for a year the library does not know. Nationwide data: edited by superusers in the admin."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("上班", help_text="法定节假日不勾选；周末调休上班日勾选")
    name = models.CharField("名称", max_length=30, blank=True, help_text="如 春节、国庆节调休")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "法定节假日安排"
        verbose_name_plural = "法定节假日安排"
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {'上班' if self.is_workday else '休息'}{f'（{self.name}）' if self.name else ''}"
