"""Dashboards and report pages: scope, roles, bounded queries."""

import io
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from enrollment.choices import EnrollmentStatus as S
from reporting import services
from reporting.models import Report, WeeklyNote
from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory
from tests.factories.reporting import ReportingPolicyFactory

DASH = reverse("reporting:dashboard")


@pytest.fixture
def season(regions):
    r = regions
    today = services.local_today()
    ReportingPolicyFactory(county=r["county"], window_start=today - timedelta(days=60), window_end=today + timedelta(days=30))
    for i, v in enumerate([r["v1"], r["v2"], r["v3"]]):
        EnrollmentFactory.create_batch(i + 2, person__household__village=v, status=S.CONFIRMED, paid_on=today - timedelta(days=3), confirmed_on=today - timedelta(days=2))
        EnrollmentFactory(person__household__village=v, status=S.PENDING)
    for back in (14, 7, 0):
        services.snapshot_take(county=r["county"], day=today - timedelta(days=back))
    return today


def test_county_dashboard_for_bureau(client, users, regions, season, django_assert_max_num_queries):
    client.force_login(users["bureau"])
    client.get(DASH)  # the day's first read stores the current figures (test_current.py counts it)
    with django_assert_max_num_queries(25):
        resp = client.get(DASH)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "甲镇" in html and "乙镇" in html
    assert 'id="chart-data"' in html and "echarts.min.js" in html
    assert "<script>" not in html  # CSP: no inline script


def test_dashboard_queries_do_not_grow_with_units(client, users, regions, season, django_assert_max_num_queries):
    from tests.factories import TownshipFactory, VillageFactory

    for n in range(8):
        t = TownshipFactory(parent=regions["county"], name=f"新镇{n}")
        v = VillageFactory(parent=t)
        EnrollmentFactory(person__household__village=v, status=S.CONFIRMED, confirmed_on=season)
    services.snapshot_take(county=regions["county"], day=season)
    client.force_login(users["bureau"])
    client.get(DASH)  # the day's first read stores the current figures
    with django_assert_max_num_queries(25):
        assert client.get(DASH).status_code == 200


def test_drill_down_township_and_village(client, users, regions, season):
    client.force_login(users["bureau"])
    town = client.get(DASH, {"region": regions["t1"].code}).content.decode()
    assert "甲一村" in town and "乙一村" not in town
    village = client.get(DASH, {"region": regions["v1"].code}).content.decode()
    assert "有缺口的户" in village


def test_clerk_sees_own_township_only(client, users, regions, season):
    client.force_login(users["clerk"])
    assert client.get(DASH).status_code == 200
    assert client.get(DASH, {"region": regions["t2"].code}).status_code == 404
    assert client.get(DASH, {"region": regions["v3"].code}).status_code == 404
    assert client.get(DASH, {"region": regions["county"].code}).status_code == 404


def test_user_without_region_sees_nothing(client, users, season):
    client.force_login(users["nobody"])
    assert client.get(DASH).status_code == 404


def test_department_staff_may_not_view(client, users, season):
    client.force_login(users["dept"])
    assert client.get(DASH).status_code == 403


def test_leadership_reads_but_cannot_run_jobs(client, users, regions, season):
    client.force_login(users["leader"])
    assert client.get(DASH).status_code == 200
    resp = client.post(reverse("reporting:run_job"), {"what": "daily", "day": season.isoformat()})
    assert resp.status_code == 403
    assert "立即生成" not in client.get(reverse("reporting:report_list")).content.decode()


def test_bureau_runs_daily_report_and_downloads_xlsx(client, users, regions, season):
    client.force_login(users["bureau"])
    resp = client.post(reverse("reporting:run_job"), {"what": "daily", "day": season.isoformat()})
    report = Report.objects.get(kind="daily", date=season)
    assert resp.status_code == 302 and resp["Location"] == reverse("reporting:report_detail", args=[report.pk])
    # the dashboard announces the new report until it is read
    assert report.title in client.get(DASH).content.decode()
    page = client.get(reverse("reporting:report_detail", args=[report.pk]))
    assert page.status_code == 200 and "甲一村" in page.content.decode()
    assert report.title not in client.get(DASH).content.decode()
    xlsx = client.get(reverse("reporting:report_xlsx", args=[report.pk]))
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames[:2] == ["乡镇", "村（社区）"]
    assert wb["乡镇"]["B2"].value in {"甲镇", "乙镇"}


def test_clerk_reads_county_report_without_other_townships_villages(client, users, regions, season):
    report = services.daily_report_publish(county=regions["county"], day=season)
    client.force_login(users["clerk"])
    html = client.get(reverse("reporting:report_detail", args=[report.pk])).content.decode()
    assert "乙镇" in html  # township ranking is announced to everyone in the county
    assert "甲一村" in html and "乙一村" not in html
    wb = load_workbook(io.BytesIO(client.get(reverse("reporting:report_xlsx", args=[report.pk])).content))
    villages = [row[1].value for row in wb["村（社区）"].iter_rows(min_row=2)]
    assert "乙一村" not in villages and "甲一村" in villages


def test_weekly_report_prints_notes(client, users, regions, season):
    client.force_login(users["clerk"])
    resp = client.post(reverse("reporting:note_edit"), {"good_practices": "党员包户上门", "problems": "外出务工人员多", "suggestions": "延长线上缴费"})
    assert resp.status_code == 302
    note = WeeklyNote.objects.get(township=regions["t1"])
    report = services.weekly_report_publish(county=regions["county"], day=note.date)
    client.force_login(users["leader"])
    html = client.get(reverse("reporting:report_detail", args=[report.pk])).content.decode()
    assert "党员包户上门" in html and "未报送" in html  # 乙镇 sent none
    wb = load_workbook(io.BytesIO(client.get(reverse("reporting:report_xlsx", args=[report.pk])).content))
    assert "乡镇周报" in wb.sheetnames


def test_only_township_clerks_write_notes(client, users, season):
    for who in ("leader", "bureau", "collector"):
        client.force_login(users[who])
        assert client.get(reverse("reporting:note_edit")).status_code == 403


def test_special_group_missing_list_is_scoped(client, users, regions, season):
    client.force_login(users["clerk"])
    assert client.get(reverse("reporting:special_missing"), {"region": regions["t1"].code}).status_code == 200
    assert client.get(reverse("reporting:special_missing"), {"region": regions["t2"].code}).status_code == 404


def test_collector_sees_village_households(client, users, regions, season):
    HouseholdFactory(village=regions["v1"], number="990001")
    client.force_login(users["collector"])
    html = client.get(DASH).content.decode()
    assert "有缺口的户" in html
    assert client.get(DASH, {"region": regions["v2"].code}).status_code == 404


def test_past_day_without_snapshot_carries_previous(client, users, regions, season):
    client.force_login(users["bureau"])
    html = client.get(DASH, {"date": (season - timedelta(days=3)).isoformat()}).content.decode()
    assert "沿用前次数据" in html or "此前最近一次" in html


def test_reports_of_other_counties_are_invisible(client, users, season):
    from tests.factories import CountyFactory

    other = CountyFactory(code="500240", name="石柱县")
    report = Report.objects.create(kind="daily", county=other, date=date(2024, 10, 8), year=2025, title="别县日报", payload={})
    client.force_login(users["bureau"])
    assert client.get(reverse("reporting:report_detail", args=[report.pk])).status_code == 404
    assert "别县日报" not in client.get(reverse("reporting:report_list")).content.decode()


def test_after_the_season_the_dashboard_shows_its_last_day(client, users, regions):
    ReportingPolicyFactory(county=regions["county"], window_start=date(2024, 9, 1), window_end=date(2024, 12, 31))
    EnrollmentFactory(person__household__village=regions["v1"], status=S.CONFIRMED, confirmed_on=date(2024, 11, 2))
    services.snapshot_take(county=regions["county"], day=date(2024, 12, 31))
    client.force_login(users["bureau"])
    html = client.get(DASH).content.decode()
    assert 'value="2024-12-31"' in html and "实时汇总" not in html


def test_the_run_now_form_has_a_date_the_browser_keeps(client, users):
    """An <input type="date"> drops a value not written yyyy-MM-dd (zh-hans would render 2026/12/05)."""
    client.force_login(users["bureau"])
    html = client.get(reverse("reporting:report_list")).content.decode()
    assert re.search(r'name="day"[^>]*value="\d{4}-\d{2}-\d{2}"|value="\d{4}-\d{2}-\d{2}"[^>]*name="day"', html), html[:3000]


def test_the_gap_list_is_the_rosters_rule(client, users, regions):
    """A household whose members paid (or are excluded with a reason) is no gap; one with a member
    registered and not paid, or with no record, is."""
    client.force_login(users["bureau"])
    year = client.get(DASH, {"region": regions["v1"].code}).context["year"]
    paid, pending, settled, unrecorded = (HouseholdFactory(village=regions["v1"]) for _ in range(4))
    EnrollmentFactory(person__household=paid, year=year, status=S.PAID)
    EnrollmentFactory(person__household=paid, year=year, status=S.DECLARED)
    EnrollmentFactory(person__household=pending, year=year, status=S.CONFIRMED)
    EnrollmentFactory(person__household=pending, year=year, status=S.PENDING)
    EnrollmentFactory(person__household=settled, year=year, status=S.EXCLUDED, exclusion_reason="employee")
    PersonFactory(household=unrecorded)
    PersonFactory(household=settled, is_deceased=True, deceased_on=date(2024, 3, 1))
    resp = client.get(DASH, {"region": regions["v1"].code})
    assert sorted(h.pk for h in resp.context["households"]) == sorted([pending.pk, unrecorded.pk])


def test_a_refusal_is_a_page_in_chinese_with_a_way_back(client, users):
    client.force_login(users["collector"])
    resp = client.get(reverse("collections:departure_import"))
    html = resp.content.decode()
    assert resp.status_code == 403 and "无权访问" in html and "您的角色不能导入部门名单" in html and 'href="/"' in html


def test_only_this_weeks_unread_reports_are_new_and_run_now_has_todays_date(client, users, regions, season):
    """Issue 18: 新 marks only the newest unread report of each kind (of the last week), not every
    report never opened; 立即生成's date box holds today as yyyy-MM-dd, which <input type=date> accepts."""
    old = services.daily_report_publish(county=regions["county"], day=season - timedelta(days=14))
    unread = services.daily_report_publish(county=regions["county"], day=season - timedelta(days=2))
    read = services.daily_report_publish(county=regions["county"], day=season)
    fresh_weekly = services.weekly_report_publish(county=regions["county"], day=season)
    read.read_by.add(users["bureau"])
    client.force_login(users["bureau"])
    html = client.get(reverse("reporting:report_list")).content.decode()
    reports = (old, unread, read, fresh_weekly)
    badged = {r.pk for r in reports if re.search(re.escape(r.title) + r"</a> <span class=\"badge badge-ok\">新</span>", html)}
    assert badged == {unread.pk, fresh_weekly.pk}, [r.title for r in reports]
    assert f'type="date" name="day" value="{season:%Y-%m-%d}"' in html
