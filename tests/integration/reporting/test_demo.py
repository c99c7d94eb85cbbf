"""demo_season: the season `make run` shows is the one being collected today, with cash and rankings."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.utils import timezone

from collections_app.models import DoubleLimitBreach, Receipt
from core.localities import load_localities
from core.models import User
from enrollment.models import Enrollment
from reporting import demo
from reporting.models import ProgressSnapshot, Ranking
from subsidies.models import PolicyYear
from subsidies.policies import load_policies

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("today", "year"), [(date(2026, 12, 1), 2027), (date(2026, 7, 1), 2027), (date(2027, 2, 10), 2027), (date(2027, 6, 30), 2027)]
)
def test_collecting_year(today, year):
    assert demo.collecting_year(today) == year


def test_demo_season_opens_todays_policy_and_leaves_cash_to_remit():
    load_localities()
    load_policies()
    out = io.StringIO()
    call_command("demo_season", county="500240", residents=400, if_empty=True, stdout=out)
    year = demo.collecting_year(timezone.localdate())

    seed = PolicyYear.objects.get(county__code="500240", year=2025)
    opened = PolicyYear.objects.get(county__code="500240", year=year)
    assert opened.window_end == date(seed.window_end.year + year - 2025, 12, 31)
    assert [t.standard for t in opened.tiers.order_by("number")] == [t.standard for t in seed.tiers.order_by("number")]
    assert seed.window_end == date(2024, 12, 31)  # the seed's own figures are untouched

    assert Enrollment.objects.filter(year=year, village__parent__parent__code="500240").count() == 400
    collector = User.objects.get(username="collector_hongyan")
    receipts = Receipt.objects.filter(collector=collector, year=year)
    n_receipts = receipts.count()
    assert 1 <= n_receipts <= len(demo.RECEIPT_AGES)
    assert all(r.total > 0 and r.lines.exists() for r in receipts)
    # The first receipt is the oldest, past the 5-day limit: one open breach for the collector.
    assert DoubleLimitBreach.objects.filter(collector=collector, resolved_at__isnull=True).count() == 1
    assert ProgressSnapshot.objects.filter(region__code="500240", year=year).exists()
    assert Ranking.objects.filter(county__code="500240").exists() or timezone.localdate() < opened.window_start
    assert "演示征缴期" in out.getvalue()

    # --if-empty: a second run changes nothing.
    call_command("demo_season", county="500240", residents=400, if_empty=True, stdout=io.StringIO())
    assert Enrollment.objects.filter(year=year, village__parent__parent__code="500240").count() == 400
    assert Receipt.objects.filter(collector=collector).count() == n_receipts
