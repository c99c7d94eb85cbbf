"""The daily report carries each collector's unremitted cash against the double limit, as it
stood at that day's close, cut to the reader's region like the rest of the report."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from collections_app.cash import services as cash_services
from collections_app.models import Receipt
from reporting import reports, services
from tests.factories.collections import household_with, make_policy, pay

pytestmark = pytest.mark.django_db


def _aged(receipt, days):
    Receipt.objects.filter(pk=receipt.pk).update(issued_on=timezone.localdate() - timedelta(days=days))


def test_daily_report_lists_cash_over_the_double_limit(users, regions):
    make_policy(regions["county"])
    today = timezone.localdate()
    hh, members = household_with(regions["v1"], 2)
    _aged(pay(users["collector"], hh, members), 7)  # 800 yuan held 7 days: over the 5-day limit
    hh3, members3 = household_with(regions["v3"], 1)
    fresh = pay(users["collector3"], hh3, members3)

    report = services.daily_report_publish(county=regions["county"], day=today)
    rows = {c["collector"]: c for c in report.payload["cash"]}
    late = rows[users["collector"].display_name]
    assert (late["amount"], late["breached"], late["over_days"], late["days_overdue"]) == ("800.00", True, True, 2)
    assert rows[users["collector3"].display_name]["breached"] is False
    assert report.payload["cash"][0]["collector"] == users["collector"].display_name  # breaches first

    # Each reader sees their own region's collectors only.
    assert [c["collector"] for c in reports.scoped_payload(users["clerk2"], report)["cash"]] == [users["collector3"].display_name]
    assert [c["collector"] for c in reports.scoped_payload(users["collector"], report)["cash"]] == [users["collector"].display_name]
    assert len(reports.scoped_payload(users["bureau"], report)["cash"]) == 2

    buf = io.BytesIO()
    reports.workbook_for(report, report.payload).save(buf)
    sheet = load_workbook(io.BytesIO(buf.getvalue()))["现金与双限"]
    assert [c.value for c in sheet[2]][:4] == [users["collector"].display_name, regions["t1"].name, regions["v1"].name, 800]

    # Remitted today: yesterday's report still shows the cash that was on hand yesterday.
    cash_services.remittance_record(
        actor=users["collector3"], collector=users["collector3"], deposited_on=today, amount=fresh.total,
        slip_number="B1", receipts=[fresh],
    )
    Receipt.objects.filter(pk=fresh.pk).update(issued_on=today - timedelta(days=1))
    yesterday = services.daily_report_publish(county=regions["county"], day=today - timedelta(days=1))
    assert {c["collector"]: Decimal(c["amount"]) for c in yesterday.payload["cash"]} == {
        users["collector"].display_name: Decimal("800.00"), users["collector3"].display_name: fresh.total
    }
    today_report = services.daily_report_publish(county=regions["county"], day=today)
    assert [c["collector"] for c in today_report.payload["cash"]] == [users["collector"].display_name]


def test_daily_report_page_shows_the_breach(client, users, regions):
    from django.urls import reverse

    make_policy(regions["county"])
    hh, members = household_with(regions["v1"], 1)
    _aged(pay(users["collector"], hh, members), 8)
    report = services.daily_report_publish(county=regions["county"], day=timezone.localdate())
    client.force_login(users["clerk"])
    page = client.get(reverse("reporting:report_detail", args=[report.pk])).content.decode()
    assert "现金与双限报解" in page and "超期 3 天（期限 5 日）" in page and users["collector"].display_name in page


def test_the_dashboard_notice_counts_only_this_weeks_unread_reports(client, users, regions):
    from django.urls import reverse

    make_policy(regions["county"])
    today = timezone.localdate()
    for days_ago in (20, 10, 3, 0):  # a backfilled season: old reports are history, not news
        services.daily_report_publish(county=regions["county"], day=today - timedelta(days=days_ago))
    client.force_login(users["bureau"])
    page = client.get(reverse("reporting:dashboard")).content.decode()
    assert "有 2 份新报表" in page
    latest = services.daily_report_publish(county=regions["county"], day=today)
    client.get(reverse("reporting:report_detail", args=[latest.pk]))  # opening a report marks it read
    assert "有 1 份新报表" in client.get(reverse("reporting:dashboard")).content.decode()
