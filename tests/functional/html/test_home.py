"""The home page shows each user their own region's figures today, and cash over the double limit."""

from datetime import timedelta

from django.utils import timezone

from collections_app.models import Receipt
from tests.factories.collections import household_with, make_policy, pay


def test_collector_home_shows_progress_and_cash_over_the_limit(client, users, regions):
    make_policy(regions["county"])
    collector = users["collector"]
    household, members = household_with(regions["v1"], 2)
    receipt = pay(collector, household, members)
    Receipt.objects.filter(pk=receipt.pk).update(issued_on=timezone.localdate() - timedelta(days=7))

    client.force_login(collector)
    page = client.get("/").content.decode()
    # A village's figures are current (reporting.current) before any snapshot exists, and say so.
    assert "（实时）" in page and 'data-figure="collected" data-value="2"' in page
    assert "800.00" in page and "双限报解超限" in page and "已超期 2 天" in page
    assert "登记解缴" in page

    from reporting import services as reporting

    today = timezone.localdate()
    reporting.snapshot_take(county=regions["county"], day=today)
    page = client.get("/").content.decode()
    assert "已收款" in page and "未报解现金" in page and "截至今日" in page and "（实时）" in page
    # The county reads the figures kept current too (never a county-wide aggregate per request).
    client.force_login(users["bureau"])
    page = client.get("/").content.decode()
    assert "（实时）" in page and "截至今日" in page and 'data-figure="collected" data-value="2"' in page

    # Another township's collector sees none of it.
    client.force_login(users["collector3"])
    page = client.get("/").content.decode()
    assert "双限报解超限" not in page and "800.00" not in page


def test_department_user_home_has_no_progress_panel(client, users, regions):
    make_policy(regions["county"])
    client.force_login(users["dept"])
    response = client.get("/")
    assert response.status_code == 200 and "未报解现金" not in response.content.decode()
