"""Journey 4: a county bureau user (内乡县医保局 — the Neixiang seed, 16 townships) opens the county
dashboard, sorts the townships by rate and drills down to the lagging township and then its
lagging village, opens the weekly ranking and downloads it as xlsx."""

import os
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone

from core.choices import Role
from core.models import Region
from enrollment import demo_data
from reporting import services as reporting
from tests.functional.journeys import data

pytestmark = pytest.mark.browser  # headless Chromium; skipped when /usr/bin/chromium is absent

COUNTY = "411325"


def pct(value) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}%"


@pytest.fixture
def neixiang():
    data.load_seeds()
    year = data.open_policy_year(COUNTY)
    county = Region.objects.get(code=COUNTY)
    data.user("bureau_wang", Role.BUREAU, COUNTY, "王建军")
    demo_data.seed_county(county=county, residents=1600, year=year, seed=7)
    today = timezone.localdate()
    # The scheduled jobs, as they would have run: daily snapshots and two weekly rankings.
    for days_ago in (21, 14, 7, 0):
        reporting.snapshot_take(county=county, day=today - timedelta(days=days_ago))
    reporting.weekly_report_publish(county=county, day=today - timedelta(days=7))
    weekly = reporting.weekly_report_publish(county=county, day=today)
    return {"year": year, "weekly": weekly}


def _first_row_after_sorting(page, header: str):
    table = page.locator("table", has=page.locator("th", has_text=header)).first
    table.locator("th", has_text="参保率").first.click()  # ascending: the lowest rate first
    assert table.locator("th", has_text="参保率").first.get_attribute("aria-sort") == "ascending"
    return table.locator("tbody tr").first


def test_bureau_dashboard(journey, neixiang):
    j = journey("bureau_dashboard")
    page = j.page
    year = neixiang["year"]
    townships = neixiang["weekly"].payload["townships"]
    bottom = max(townships, key=lambda t: t["rank"])
    top = min(townships, key=lambda t: t["rank"])

    j.login("bureau_wang")
    j.nav("进度看板")
    assert j.heading() == f"内乡县 {year}年度参保进度"
    j.see("已入库（参保）", "参保率", "乡镇进度", "周排名", top["name"], pct(top["rate"]))
    j.shot("county-dashboard")

    # --- Drill down: the lowest township, then its lowest village ------------------------------------
    row = _first_row_after_sorting(page, "乡镇")
    lowest = min(Decimal(t["rate"]) for t in townships)
    assert pct(lowest) in row.inner_text(), f"sorted by rate, the lowest ({pct(lowest)}) comes first"
    assert pct(bottom["rate"]) == pct(lowest)
    lagging = row.locator("td").first.locator("a").inner_text().strip()
    lagging_code = next(t["code"] for t in townships if t["name"] == lagging)
    j.shot("townships-sorted")
    j.follow(row.get_by_role("link", name=lagging))
    assert j.heading() == f"{lagging} {year}年度参保进度"
    j.see("内乡县", "村（社区）进度")
    j.shot("township-dashboard")
    row = _first_row_after_sorting(page, "村（社区）")
    village_name = row.locator("td").first.locator("a").inner_text().strip()
    village = Region.objects.get(name=village_name, parent__code=lagging_code)
    j.follow(row.get_by_role("link", name=village_name))
    assert j.heading() == f"{village_name} {year}年度参保进度"
    crumbs = page.locator(".breadcrumbs").inner_text()
    assert "内乡县" in crumbs and lagging in crumbs
    j.see("有缺口的户")
    assert page.locator("table tbody tr").count() >= 1, "the lagging village lists the households still to visit"
    assert village.households.exists()
    j.shot("lagging-village")

    # --- The weekly ranking, and its xlsx ----------------------------------------------------------------
    j.nav("报表")
    with page.expect_navigation():  # the select submits its form by itself
        page.get_by_label("类型").select_option(label="每周排名通报")
    assert "kind=weekly" in page.url
    today = timezone.localdate()
    title = neixiang["weekly"].title
    j.see(title, f"{today.year}年{today.month}月{today.day}日")
    j.shot("reports")
    j.follow(page.get_by_role("link", name=title))
    assert j.heading() == title
    j.see("乡镇排名", bottom["name"], "排名靠后", pct(bottom["rate"]))
    j.shot("weekly-ranking")
    j.shot_print("weekly-ranking-print")
    xlsx = j.download(lambda: page.get_by_role("link", name="下载 Excel").click())
    assert xlsx.suffix == ".xlsx"
    wb = openpyxl.load_workbook(xlsx)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert top["name"] in cells and bottom["name"] in cells
    j.assert_no_js_errors()


def test_county_leader_reads_the_dashboard_on_a_phone(journey, neixiang):
    """Leadership reads the same figures on a phone: nothing scrolls the page sideways, the wide
    tables scroll inside their frame, the ranking is there."""
    from tests.functional.journeys.conftest import PHONE

    j = journey("bureau_dashboard_phone", viewport=PHONE)
    data.user("leader_li", Role.LEADERSHIP, COUNTY, "李县长")
    j.login("leader_li")
    j.nav("进度看板")
    assert j.heading() == f"内乡县 {neixiang['year']}年度参保进度"
    top = min(neixiang["weekly"].payload["townships"], key=lambda t: t["rank"])
    j.see("已入库（参保）", "周排名", top["name"])
    j.assert_fits_width()
    j.shot("county-dashboard")
    j.assert_no_js_errors()


# --- Issue 18: figures that agree, the special-group list, the phone view ----------------------------

ISSUE18 = Path(__file__).resolve().parents[3] / "test-artifacts" / "issue18"


def evidence(j, name: str, full_page: bool = False):
    """Before/after screens of issue 18 (``CANBAO_ISSUE18=before`` on the old code)."""
    folder = ISSUE18 / os.environ.get("CANBAO_ISSUE18", "after")
    folder.mkdir(parents=True, exist_ok=True)
    j.page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


def figure(page, name: str, scope: str = "main") -> int:
    """A figure as the page states it (its ``data-figure`` element's raw value)."""
    loc = page.locator(f"{scope} [data-figure={name}]").first
    assert loc.count(), f"{page.url} states no {name} figure"
    return int(loc.get_attribute("data-value"))


def _paid_household(village, year, collector):
    """A household of five registered and paid in cash today (the issue's case)."""
    from collections_app.cash.services import receipt_issue

    today = timezone.localdate()
    hh = data.household(village.code, "9901", f"{village.name}新登记9901号")
    born = [40, 38, 12, 9, 70]
    members = [data.person(hh, f"周{n}", today.replace(year=today.year - age), area=COUNTY, year=year) for n, age in zip("一二三四五", born)]
    receipt_issue(actor=collector, household=hh, persons=members, channel="cash", year=year)
    return hh


@pytest.fixture
def agreed(neixiang):
    from core.choices import RegionLevel
    from reporting.models import ProgressSnapshot

    year = neixiang["year"]
    town = Region.objects.filter(parent__code=COUNTY, level=RegionLevel.TOWNSHIP).order_by("sort_order", "code").first()
    village = Region.objects.filter(parent=town).order_by("sort_order", "code").first()
    data.user("clerk_zhao", Role.TOWNSHIP, town.code, "赵晓丽")
    collector = data.user("liu_collector", Role.COLLECTOR, village.code, "刘桂芳")
    before = ProgressSnapshot.objects.get(region=town, date=timezone.localdate())
    hh = _paid_household(village, year, collector)
    return {**neixiang, "town": town, "village": village, "household": hh, "snapshot": before}


def test_figures_agree_after_a_payment(journey, agreed):
    """A household of five pays; the township clerk's home page, the township and village
    dashboards, the roster and the gap list then say the same, live; nothing mixes live and
    snapshot figures on one card."""
    j = journey("issue18_figures")
    page = j.page
    town, village, year = agreed["town"], agreed["village"], agreed["year"]
    snap = agreed["snapshot"]
    j.login("clerk_zhao")
    evidence(j, "01-township-home")
    home = {k: figure(page, k) for k in ("confirmed", "collected", "gaps")}
    j.see("实时")
    assert home["collected"] == snap.collected + 5, "the home page shows the payment just made"

    j.goto(f"/progress/?region={town.code}")
    evidence(j, "02-township-dashboard")
    j.see("实时")
    dash = {k: figure(page, k, ".stats") for k in ("confirmed", "collected", "gaps")}
    assert dash == home, "home page and dashboard state the same figures"

    j.goto(f"/progress/?region={village.code}")
    evidence(j, "03-village-dashboard-gaps", full_page=True)
    gaps, gap_households = figure(page, "gaps", ".stats"), figure(page, "gap_households", ".stats")
    listed = figure(page, "gap_list")
    assert listed == gap_households, "the gap list holds as many households as the card says"
    assert agreed["household"].number not in page.locator("#gap-list").inner_text(), "a paid household is no gap"

    j.goto(f"/roster/?village={village.pk}&year={year}&status=gap")
    evidence(j, "04-roster-gaps")
    assert figure(page, "roster_count") == gaps, "the roster's 缺口 filter counts the gaps the dashboard states"
    j.assert_no_js_errors()


def test_county_figures_say_their_time_on_home_and_dashboard(journey, agreed):
    """The county reads today's stored figures (reporting.current: fast at 600,000 residents,
    refreshed at most a minute apart) and says their time, on the home page and the dashboard
    alike: the same figures, the same label."""
    j = journey("issue18_county")
    page = j.page
    j.login("bureau_wang")
    evidence(j, "05-county-home")
    home = {k: figure(page, k) for k in ("confirmed", "collected")}
    label = page.locator("[data-as-of]").first.inner_text()
    assert "截至今日" in label and ("（实时）" in label or "（每分钟更新）" in label)
    j.goto(f"/progress/?region={COUNTY}")
    evidence(j, "06-county-dashboard")
    assert {k: figure(page, k, ".stats") for k in ("confirmed", "collected")} == home
    assert page.locator("[data-as-of]").first.inner_text() == label


def test_special_missing_one_row_per_person(journey, agreed):
    """重点人群未入库: a 乡镇 column, one row per person (categories in one cell), people insured
    elsewhere left out, and as many rows as the dashboard's 缺 N 人."""
    from enrollment.choices import EnrollmentStatus, ExclusionReason
    from enrollment.models import Enrollment
    from reporting import services as reporting_services
    from subsidies.models import SubsidyCategory

    year, village, town = agreed["year"], agreed["village"], agreed["town"]
    cats = list(SubsidyCategory.objects.filter(policy__county__code=COUNTY, policy__year=year, is_special_group=True).order_by("sort_order")[:2])
    today = timezone.localdate()
    hh = data.household(village.code, "9902", f"{village.name}9902号")
    twice = data.person(hh, "钱多类", today.replace(year=today.year - 50), area=COUNTY, year=year)
    away = data.person(hh, "孙外地", today.replace(year=today.year - 30), area=COUNTY, year=year)
    Enrollment.objects.filter(person=away, year=year).update(status=EnrollmentStatus.EXCLUDED, exclusion_reason=ExclusionReason.ENROLLED_ELSEWHERE)
    for cat in cats:
        data.identity(twice, year, cat.code)
    data.identity(away, year, cats[0].code)
    reporting_services.snapshot_take(county=town.county, day=today)

    j = journey("issue18_special")
    page = j.page
    j.login("bureau_wang")
    j.goto(f"/progress/special/?region={COUNTY}")
    evidence(j, "07-special-missing")
    headers = page.locator("table thead").inner_text()
    assert "乡镇" in headers
    body = page.locator("table tbody").inner_text()
    assert body.count("钱多类") == 1, "one row per person"
    row = page.locator("table tbody tr", has_text="钱多类")
    assert all(c.name in row.inner_text() for c in cats) and town.name in row.inner_text()
    assert "孙外地" not in body, "insured elsewhere is not missing"
    listed = figure(page, "special_list")
    j.goto(f"/progress/?region={COUNTY}")
    assert figure(page, "special_missing", ".stats") == listed


def test_leader_on_a_phone_sees_who_is_behind(journey, neixiang):
    """390×844: the ranking's 参保率 is on screen without sideways scrolling, names stay on one
    line, and the page is a few screens long, not 10,000 px."""
    from tests.functional.journeys.conftest import PHONE

    j = journey("issue18_phone", viewport=PHONE)
    page = j.page
    data.user("leader_zhou", Role.LEADERSHIP, COUNTY, "周县长")
    j.login("leader_zhou")
    j.goto(f"/progress/?region={COUNTY}")
    evidence(j, "08-phone-county-dashboard", full_page=True)
    page.locator("#ranking").scroll_into_view_if_needed()
    evidence(j, "09-phone-ranking")
    j.assert_fits_width()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 4 * PHONE["height"], f"the phone dashboard is {height}px long"
    for table in ("#ranking", "#behind"):
        wrap = page.locator(f"{table} .table-wrap").first
        assert page.evaluate("(el) => el.scrollWidth - el.clientWidth", wrap.element_handle()) <= 1, f"{table} scrolls sideways"
        rows = page.locator(f"{table} tbody tr")
        assert rows.count() == 16
        for i in range(rows.count()):
            rate = rows.nth(i).locator("[data-col=rate]").bounding_box()
            assert rate and rate["x"] + rate["width"] <= PHONE["width"], f"参保率 of row {i} is off-screen"
            name = rows.nth(i).locator("[data-col=name] a").bounding_box()
            assert name and name["height"] < 32, f"row {i}'s name wraps ({name})"
    behind = page.locator("#behind tbody tr").first.inner_text()
    assert "差" in behind, "the first unit is the one furthest behind, with how many people it lacks"

    # The published weekly ranking reads the same way on the phone.
    j.goto(f"/reports/{neixiang['weekly'].pk}/")
    evidence(j, "10-phone-weekly-report")
    j.assert_fits_width()
    table = page.locator("table.rank-table").first
    wrap = page.locator(".table-wrap", has=table).first
    assert page.evaluate("(el) => el.scrollWidth - el.clientWidth", wrap.element_handle()) <= 1, "the ranking scrolls sideways"
    rows = table.locator("tbody tr")
    assert rows.count() == 16
    for i in range(rows.count()):
        rate = rows.nth(i).locator("[data-col=rate]").bounding_box()
        assert rate and rate["x"] + rate["width"] <= PHONE["width"], f"参保率 of row {i} is off-screen"
        assert rows.nth(i).locator("[data-col=name]").evaluate("(el) => el.scrollHeight <= parseFloat(getComputedStyle(el).lineHeight) * 1.5 + 16")
    j.assert_no_js_errors()
