"""Factories for the reporting tests: a county policy year and stored snapshots."""

from datetime import date, time
from decimal import Decimal

import factory

from reporting.models import ProgressSnapshot
from subsidies.models import PolicyYear, PrizeGrade


class ReportingPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyYear
        django_get_or_create = ("county", "year")

    year = 2025
    window_start = date(2024, 9, 1)
    window_end = date(2024, 12, 31)
    daily_cutoff = time(17, 0)
    ranking_weekday = 1
    ranking_every_days = 7
    bottom_group_size = 1
    interview_after_weeks = 2


class PrizeGradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrizeGrade

    rank = 1
    name = "一等奖"
    count = 1
    amount = Decimal("30000.00")


class SnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressSnapshot

    year = 2025
    level = factory.LazyAttribute(lambda o: o.region.level)
