"""Journey 4: a county bureau user (内乡县医保局 — the Neixiang seed, 16 townships) opens the county
dashboard, sorts the townships by rate and drills down to the lagging township and then its
lagging village, opens the weekly ranking and downloads it as xlsx."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

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
