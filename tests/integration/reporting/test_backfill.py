from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from enrollment.choices import EnrollmentStatus as S
from reporting.models import ProgressSnapshot, Ranking, Report, ReportKind
from tests.factories import EnrollmentFactory
from tests.factories.reporting import ReportingPolicyFactory


def test_backfill_builds_a_season_with_a_trend(regions, capsys):
    ReportingPolicyFactory(county=regions["county"], window_start=date(2024, 9, 1), window_end=date(2024, 9, 30), ranking_weekday=1)
    for day in (3, 10, 17, 24):
        EnrollmentFactory(person__household__village=regions["v1"], status=S.CONFIRMED, paid_on=date(2024, 9, day), confirmed_on=date(2024, 9, day))
    call_command("backfill_snapshots", "--county", regions["county"].code)
    county = ProgressSnapshot.objects.filter(region=regions["county"]).order_by("date")
    assert county.count() == 30
    assert [s.confirmed for s in county.filter(date__in=[date(2024, 9, 2), date(2024, 9, 10), date(2024, 9, 30)])] == [0, 2, 4]
    assert Ranking.objects.filter(kind="weekly").count() == 5  # Mondays 2, 9, 16, 23, 30 September
    assert Report.objects.filter(kind=ReportKind.FINAL).count() == 1
    assert Report.objects.filter(kind=ReportKind.DAILY).count() == 30
    call_command("backfill_snapshots", "--county", regions["county"].code, "--if-empty")
    assert "跳过" in capsys.readouterr().out
    assert ProgressSnapshot.objects.filter(region=regions["county"]).count() == 30


def test_backfill_unknown_county(db):
    with pytest.raises(CommandError):
        call_command("backfill_snapshots", "--county", "999999")
