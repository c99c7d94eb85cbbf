"""The beat jobs decide per county whether a job is due; the job tasks are idempotent."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from enrollment.choices import EnrollmentStatus as S
from reporting import tasks
from reporting.models import ProgressSnapshot, Ranking, Report, ReportKind
from tests.factories import EnrollmentFactory
from tests.factories.reporting import ReportingPolicyFactory

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def at(monkeypatch):
    def set_now(*args):
        now = datetime(*args, tzinfo=SH)
        monkeypatch.setattr(tasks.timezone, "localtime", lambda *a, **k: now)
        return now

    return set_now


@pytest.fixture
def county(regions):
    ReportingPolicyFactory(county=regions["county"], ranking_weekday=1, daily_cutoff=time(17, 0))
    EnrollmentFactory(person__household__village=regions["v1"], status=S.CONFIRMED, paid_on=date(2024, 10, 1), confirmed_on=date(2024, 10, 2))
    return regions["county"]


def test_daily_snapshot_not_due_before_cutoff(county, at):
    at(2024, 10, 8, 16, 45)
    assert tasks.run_due_daily_snapshots() == []
    assert not ProgressSnapshot.objects.exists()


def test_daily_snapshot_after_cutoff_once(county, at):
    at(2024, 10, 8, 17, 0)
    assert tasks.run_due_daily_snapshots() == [county.code]
    assert ProgressSnapshot.objects.get(region=county, date=date(2024, 10, 8)).confirmed == 1
    assert Report.objects.filter(kind=ReportKind.DAILY, date=date(2024, 10, 8)).count() == 1
    at(2024, 10, 8, 17, 15)
    assert tasks.run_due_daily_snapshots() == []  # already taken today


def test_daily_snapshot_outside_season(county, at):
    at(2025, 3, 2, 18, 0)
    assert tasks.run_due_daily_snapshots() == []


def test_daily_reports_start_on_policy_date(regions, at):
    ReportingPolicyFactory(county=regions["county"], daily_reports_from=date(2024, 12, 15))  # Shizhu
    result = tasks.take_daily_snapshot(regions["county"].pk, "2024-10-08")
    assert result["rows"] == 6 and result["report"] is False
    assert tasks.take_daily_snapshot(regions["county"].pk, "2024-12-15")["report"] is True


def test_rerunning_a_day_replaces_it(county):
    tasks.take_daily_snapshot(county.pk, "2024-10-08")
    tasks.take_daily_snapshot(county.pk, "2024-10-08")
    assert ProgressSnapshot.objects.filter(date=date(2024, 10, 8)).count() == 6


def test_weekly_ranking_on_ranking_day_only(county, at):
    at(2024, 10, 8, 18, 30)  # a Tuesday
    assert tasks.run_due_weekly_rankings() == []
    at(2024, 10, 7, 18, 30)  # Monday, the county's ranking day
    assert tasks.run_due_weekly_rankings() == [f"{county.code} weekly"]
    assert Ranking.objects.filter(county=county, date=date(2024, 10, 7)).count() == 1
    assert Report.objects.filter(kind=ReportKind.WEEKLY).count() == 1
    assert tasks.run_due_weekly_rankings() == []  # done for today


def test_final_assessment_after_season(county, at):
    at(2025, 1, 3, 10, 0)
    assert tasks.run_due_weekly_rankings() == [f"{county.code} final"]
    final = Report.objects.get(kind=ReportKind.FINAL)
    assert final.date == date(2024, 12, 31) and final.year == 2025
    assert tasks.run_due_weekly_rankings() == []


def test_final_assessment_due_once_the_next_season_is_set_up(county, at):
    # The next year's policy exists before the old season's final assessment has run: the
    # ended season is still assessed, and the daily job now works for the upcoming one.
    ReportingPolicyFactory(county=county, year=2026, window_start=date(2025, 9, 1), window_end=date(2025, 12, 31))
    at(2025, 1, 3, 10, 0)
    assert tasks.run_due_weekly_rankings() == [f"{county.code} final"]
    assert Report.objects.get(kind=ReportKind.FINAL).year == 2025
    assert tasks.run_due_daily_snapshots() == []  # 2026's window opens on 2025-09-01
