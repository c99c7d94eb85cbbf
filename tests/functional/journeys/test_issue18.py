"""Journey 5 (issue 18): the small traps, as their users meet them.

A collector closes the day by a blind count (实点现金 starts empty, the expected cash is said only
after, with the difference) and cannot page into days still to come; the roster's search box shows
its whole hint; a township clerk filters receipts by the collector's name, 未报解现金 starts at 全部 and
the date range is one line. On the demo county (内乡县, as `make demo` seeds it), the tax office
previews the sample filing — it finds demo residents, warns of the row dated in last year's season,
and the banner says the preview is done; the bureau finds the row that names no township on the
county's list, reads the import in the audit trail in Chinese, and runs a report with today's date
already in the box; money on a township's dashboard reads to the yuan.

Screenshots: test-artifacts/journeys/issue18_*/ (copied to test-artifacts/issue18/after/).
ISSUE18_BEFORE=1 only takes the screenshots (for the "before" set on the old code), asserting nothing.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from collections_app.cash import services as cash_services
from core.choices import Role
from core.models import Region
from enrollment import demo, demo_data
from enrollment.choices import PaymentChannel, Relation
from reporting import demo as season_demo
from reporting import services as reporting
from tests.functional.journeys import data

pytestmark = pytest.mark.browser  # headless Chromium; skipped when /usr/bin/chromium is absent

BEFORE = bool(os.environ.get("ISSUE18_BEFORE"))
SAMPLE = Path(__file__).resolve().parents[3] / "fixtures" / "sample_tax_filing.xlsx"
VILLAGE, TOWNSHIP = "500240001001", "500240001"  # 红岩社区, 下路街道
DEMO_YEAR = 2027  # the sample's benefit year (reporting/demo_filing.py)


def expect(condition, message=""):
    if not BEFORE:
        assert condition, message


@pytest.fixture
def hongyan():
    data.load_seeds()
    year = data.open_policy_year("500240")
    collector = data.user("tan_xiaomei", Role.COLLECTOR, VILLAGE, "谭晓梅")
    data.user("tan_li", Role.TOWNSHIP, TOWNSHIP, "谭丽")
    hh = data.household(VILLAGE, "0012", "红岩社区3组12号")
    today = timezone.localdate()
    members = [
        data.person(hh, "王大山", today.replace(year=today.year - 40), Relation.HEAD, year=year, sex="M"),
        data.person(hh, "李秀英", today.replace(year=today.year - 36) - timedelta(days=40), Relation.SPOUSE, year=year, sex="F"),
    ]
    cash_services.receipt_issue(actor=collector, household=hh, persons=[m.pk for m in members], channel=PaymentChannel.CASH, year=year)
    return {"year": year}


def test_collector_blind_count_and_clerk_receipt_filters(journey, hongyan):
    j = journey("issue18_collector")
    page = j.page
    j.login("tan_xiaomei")

    # --- The ledger: a blind count -----------------------------------------------------------------
    j.nav("现金台账")
    counted = page.get_by_label("实点现金（元）")
    expect(counted.input_value() == "", "实点现金 must start empty: the collector types what she counted")
    expect("确认后显示" in j.body_text())
    expect(page.get_by_role("link", name="后一天").count() == 0, "no link into a day still to come")
    j.shot("ledger-before-count")
    counted.fill("790.00")
    j.follow(page.get_by_role("button", name="确认台账"))
    body = j.body_text()
    expect("差额 -10.00 元" in j.messages(), j.messages())
    expect("800.00" in body and "-10.00" in body and "确认后显示" not in body, body[:800])
    j.shot("ledger-after-count")

    # --- The roster's search box shows its whole hint ------------------------------------------------
    j.nav("花名册")
    box = page.get_by_label("姓名/身份证号/户号")
    room = box.evaluate(
        """el => { const s = getComputedStyle(el); const c = document.createElement('canvas').getContext('2d');
        c.font = s.font; return el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)
        - c.measureText(el.placeholder).width; }"""
    )
    expect(room >= 0, f"the placeholder is cut off by {-room:.0f}px")
    j.shot("roster-search")

    # --- The township clerk's receipt list --------------------------------------------------------------
    k = journey("issue18_clerk")
    page = k.page
    k.login("tan_li")
    k.nav("收款开票")
    collector = page.get_by_label("收款人")
    options = collector.locator("option").all_inner_texts()
    expect("谭晓梅" in options and "tan_xiaomei" not in options, f"collectors by name: {options}")
    unremitted = page.get_by_label("未报解现金")
    expect(unremitted.locator("option:checked").inner_text() == "全部", "未报解现金 starts at 全部")
    start, end = page.locator("input[name=issued_on_after]"), page.locator("input[name=issued_on_before]")
    expect(start.get_attribute("type") == "date" and end.get_attribute("type") == "date")
    a, b = start.bounding_box(), end.bounding_box()
    expect(abs(a["y"] - b["y"]) < 2 and b["x"] > a["x"], f"the date range on one line: {a} {b}")
    k.shot("receipts-filters")
    if not BEFORE:
        k.assert_no_js_errors()


@pytest.fixture
def demo_county():
    """内乡县 as `make demo` seeds it for the sample's benefit year, with the demo accounts."""
    call_command("load_localities", stdout=open(os.devnull, "w"))
    county = Region.objects.get(code="411325")
    season_demo.open_policy(county, DEMO_YEAR)
    demo_data.seed_county(county=county, residents=3000, year=DEMO_YEAR)
    demo.ensure_demo_accounts()
    season_demo.take_demo_cash(county, DEMO_YEAR)
    today = timezone.localdate()
    for back in (2, 1, 0):
        reporting.snapshot_take(county=county, day=today - timedelta(days=back))
        reporting.daily_report_publish(county=county, day=today - timedelta(days=back))
    return county


def test_demo_filing_preview_county_list_audit_and_reports(journey, demo_county):
    j = journey("issue18_tax")
    page = j.page
    j.login("tax_neixiang", password=demo.DEMO_PASSWORD)
    j.nav("税务数据导入")
    page.get_by_label("缴费/入库明细文件").set_input_files(str(SAMPLE))
    page.get_by_label("待遇年度").fill(str(DEMO_YEAR))
    j.follow(page.get_by_role("button", name="上传并预检"))
    messages = j.messages()
    expect("正在预检" not in messages and "预检完成" in messages, f"the banner after a finished preview: {messages!r}")

    def stat(label):
        loc = page.locator(".stat", has=page.locator(".label", has_text=label)).locator(".value")
        return loc.first.inner_text().strip() if loc.count() else ""

    expect(stat("确认入库") == "7", f"confirmable rows of the demo sample: {stat('确认入库')}")
    expect(f"不在{DEMO_YEAR}年度征缴期" in j.body_text(), "a date outside the benefit year's season is warned")
    j.shot("taximport-preview", full_page=False)
    if page.get_by_role("button", name="确认导入").count():
        j.follow(page.get_by_role("button", name="确认导入"))
    j.shot("taximport-applied", full_page=False)

    b = journey("issue18_bureau")
    page = b.page
    b.login("bureau_neixiang", password=demo.DEMO_PASSWORD)
    toggle = page.locator("#mainnav").get_by_role("link", name="税务导入问题", exact=True)
    expect(toggle.count() == 1, "the county has a list of problem rows no township owns")
    if toggle.count():
        b.nav("税务导入问题")
        b.see("未归属乡镇", "吴春梅")
        b.shot("county-problem-list")
    b.nav("审计记录")
    body = b.body_text()
    expect("步骤：确认导入" in body and "读取12行" in body and "rows_read" not in body, body[:1500])
    b.shot("audit", full_page=False)
    b.nav("报表")
    day_box = page.locator("input[type=date][name=day]").first
    expect(day_box.input_value() == timezone.localdate().isoformat(), f"立即生成's date: {day_box.input_value()!r}")
    badges = page.locator("table tbody .badge", has_text="新").count()
    rows = page.locator("table tbody tr").count()
    expect(0 < badges < rows or rows == 1, f"新 on {badges} of {rows} reports")
    b.shot("reports")
    b.nav("进度看板")
    b.shot("county-dashboard", full_page=False)

    c = journey("issue18_township")
    page = c.page
    c.login("clerk_neixiang01", password=demo.DEMO_PASSWORD)
    c.nav("进度看板")
    money = page.locator(".stat", has=page.locator(".label", has_text="已收金额")).locator(".value").first.inner_text().strip()
    expect("万" not in money and money.endswith(".00"), f"a township's money to the yuan: {money!r}")
    c.shot("township-dashboard", full_page=False)
