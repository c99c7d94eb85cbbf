"""Journey 1: a village collector's day (红岩社区, 下路街道, 石柱县 — the Xialu seed).

Logs in, finds a household, adds a newborn (first with a mistyped ID number: the error shows next
to the field and nothing typed is lost; Enter in the last row adds a row), finds the household at
the cash desk by the last four ID digits, takes cash for three members (one on 低保 owes 40 yuan:
400 − 360) with the total and 找零 shown as she picks and a confirmation page before the receipt,
sees 本户已全部缴费 through 为本户收款, prints the receipt, closes the day's ledger and records
the remittance. Run on the office screen (1366×768) and on a phone (390×844).
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from core import idcard
from core.choices import Role
from enrollment.choices import Relation
from tests.functional.journeys import data
from tests.functional.journeys.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser  # headless Chromium; skipped when /usr/bin/chromium is absent

VILLAGE = "500240001001"  # 红岩社区
TOWNSHIP = "500240001"  # 下路街道


@pytest.fixture
def hongyan():
    data.load_seeds()
    year = data.open_policy_year("500240")
    collector = data.user("tan_xiaomei", Role.COLLECTOR, VILLAGE, "谭晓梅")
    hh = data.household(VILLAGE, "0012", "红岩社区3组12号")
    today = timezone.localdate()
    data.person(hh, "王大山", today.replace(year=today.year - 40), Relation.HEAD, year=year, sex="M")
    spouse = data.person(hh, "李秀英", today.replace(year=today.year - 36) - timedelta(days=40), Relation.SPOUSE, year=year, sex="F")
    grandma = data.person(hh, "陈桂兰", today.replace(year=today.year - 78) - timedelta(days=100), Relation.PARENT, year=year, sex="F")
    data.identity(spouse, year, "09")  # 城乡低保对象: 一档 subsidy 360 → owes 40
    data.identity(grandma, year, "10")  # 特困人员: full subsidy → zero declaration
    # Neighbours, so that finding the household is a real search.
    for n, (name, addr) in enumerate([("冉光明", "1组3号"), ("马春花", "2组7号"), ("谭德福", "4组1号")], start=1):
        other = data.household(VILLAGE, f"00{n:02d}", f"红岩社区{addr}")
        data.person(other, name, today.replace(year=today.year - 50 - n), Relation.HEAD, year=year)
    newborn_id = idcard.make("500240", today - timedelta(days=20), 512)
    return {"year": year, "collector": collector, "household": hh, "newborn_id": newborn_id}


def _bad_check_digit(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["office-1366x768", "phone-390x844"])
def test_collector_day(journey, hongyan, viewport):
    phone = viewport is PHONE
    j = journey("collector_day_phone" if phone else "collector_day", viewport=viewport)
    year = hongyan["year"]
    page = j.page

    # --- Log in; the landing page lists the collector's work in plain words -----------------
    j.login("tan_xiaomei", shot=True)
    j.see("您好，谭晓梅", "村级协办员", "红岩社区", "花名册", "收款开票", "现金台账", "报解", "公示")
    j.assert_fits_width()
    j.shot("home", help=False)

    # --- Find the household in the roster -------------------------------------------------------
    j.nav("花名册")
    assert j.heading() == f"{year}年度花名册 · 红岩社区"
    page.get_by_label("姓名/身份证号/户号").fill("王大山")
    with page.expect_navigation():
        page.get_by_label("姓名/身份证号/户号").press("Enter")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1, j.body_text()
    j.see("王大山", "0012", "户主")
    j.assert_fits_width()
    j.shot("roster-found")
    j.follow(page.locator("table tbody tr").first.get_by_role("link", name="0012"))
    assert j.heading() == "0012号户 · 户主 王大山"
    # Help for the rule: why 李秀英 owes 40 yuan.
    j.see("40.00", "城乡低保对象资助360.00")
    j.shot("household")

    # --- Add the newborn: keyboard-friendly rows, errors next to the field ------------------------
    before = page.locator("[data-formset-row]").count()
    page.get_by_role("button", name="＋ 添加成员").click()
    row = page.locator("[data-formset-row]").last
    assert page.locator("[data-formset-row]").count() == before + 1
    name_box = row.locator("input[name$='-name']")
    assert name_box.evaluate("el => el === document.activeElement"), "the new row's first box should have the cursor"
    name_box.fill("王小宝")
    name_box.press("Tab")
    assert row.locator("input[name$='-id_number']").evaluate("el => el === document.activeElement"), "Tab goes name → ID"
    page.keyboard.type(_bad_check_digit(hongyan["newborn_id"]))
    page.wait_for_function("el => el.textContent.includes('校验位')", arg=row.locator("[data-id-hint]").element_handle())  # said at once
    row.locator("select[name$='-relation']").select_option(Relation.CHILD.value)
    # Enter in the last row adds another row (left blank, it is ignored when saving).
    row.locator("select[name$='-relation']").press("Enter")
    assert page.locator("[data-formset-row]").count() == before + 2, "Enter in the last row adds a member row"
    j.settle()
    j.follow(page.get_by_role("button", name="保存全户"))
    j.see_message("没有保存")
    bad = page.locator("[data-formset-row]").filter(has=page.locator("td.has-error"))
    assert bad.count() == 1
    assert bad.locator(".error").first.inner_text().strip(), "the ID error is written next to the field"
    assert bad.locator("input[name$='-name']").input_value() == "王小宝", "what was typed is kept"
    assert bad.locator("input[name$='-id_number']").evaluate("el => el === document.activeElement"), "the cursor is on the wrong field"
    j.shot("newborn-id-error")

    bad.locator("input[name$='-id_number']").fill(hongyan["newborn_id"])
    page.wait_for_function("el => el.textContent.includes('出生')", arg=bad.locator("[data-id-hint]").element_handle())
    j.settle()
    j.follow(page.get_by_role("button", name="保存全户"))
    j.see_message("已保存0012号户及4名成员")
    j.see("王小宝")
    j.shot("newborn-saved")

    # --- Take cash for three members -------------------------------------------------------------
    # The household page offers the desk for this household; the collector starts from the desk's
    # own search here, by the last four digits of the head's ID number (as on the roster).
    hh = hongyan["household"]
    assert page.locator(".page-actions").get_by_role("link", name="为本户收款").count() == 1
    head_id = hh.members.get(name="王大山").id_number
    j.nav("收款开票")
    j.follow(page.locator(".page-actions").get_by_role("link", name="收款开票"))
    page.get_by_label("户号 / 姓名 / 身份证号码").fill(head_id[-4:])
    j.follow(page.get_by_role("button", name="查找"))
    j.see("0012", "红岩社区3组12号")
    j.shot("find-by-last-four")
    j.follow(page.get_by_role("link", name="为该户收款"))
    j.see("全额资助·零申报")  # 陈桂兰, 特困人员
    checked = page.locator("input[name=persons]:checked")
    assert checked.count() == 3, "the three members who owe money are ticked"
    j.see("400.00", "40.00")
    # The total follows the ticks (server amounts, added up as she picks), 找零 follows 实收.
    total = page.locator("#pay-total")
    assert total.inner_text() == "840.00"
    page.locator("tr", has_text="王小宝").locator("input[name=persons]").uncheck()
    assert total.inner_text() == "440.00"
    page.locator("tr", has_text="王小宝").locator("input[name=persons]").check()
    assert total.inner_text() == "840.00"
    page.get_by_label("实收（元）").fill("800")
    j.see("实收 800.00 元少于应收合计 840.00 元，不能开票")
    assert page.get_by_role("button", name="核对收款").is_disabled()
    page.get_by_label("实收（元）").fill("1000")
    assert page.locator("#pay-change").inner_text().strip() == "找零 160.00 元"
    j.assert_fits_width()
    j.shot("take-cash")
    # A receipt can never be deleted: first a confirmation page, nothing issued yet.
    j.follow(page.get_by_role("button", name="核对收款"))
    assert j.heading() == "核对收款 · 红岩社区 0012号户"
    j.see("王大山", "李秀英", "王小宝", "840.00", "找零", "160.00")
    assert "陈桂兰" not in page.locator("#confirm-lines").inner_text()
    assert not hh.receipts.exists()
    j.assert_fits_width()
    j.shot("confirm-cash")
    j.follow(page.get_by_role("button", name="确认收款并开具凭证"))
    j.see_message(r"已收款 840\.00 元，实收 1000\.00 元，找零 160\.00 元，凭证号 \S+")
    number = re.search(r"凭证号 (\S+?)。", j.messages()).group(1)
    j.see("840.00 元", "捌佰肆拾元整", "王大山", "李秀英", "王小宝")
    j.assert_fits_width()
    j.shot("receipt")
    receipt_url = page.url

    # --- 为本户收款 from the household page: nothing is left to pay ---------------------------------
    j.goto(f"/households/{hh.pk}/")
    j.follow(page.locator(".page-actions").get_by_role("link", name="为本户收款"))
    assert j.heading() == "收款开票 · 红岩社区 0012号户"
    j.see("本户已全部缴费")
    assert page.locator("input[name=persons]").count() == 0, "no empty form when nothing remains to pay"
    j.shot("household-all-paid")
    j.goto(receipt_url)

    # --- Print the receipt (two parts, IDs masked to the last four digits) ----------------------------
    j.follow(page.get_by_role("link", name="打印（A4）"))
    j.see("城乡居民医疗保险费现金收款凭证", "第一联", "第二联", number, "捌佰肆拾元整")
    assert idcard.mask(hongyan["newborn_id"]) in j.body_text()
    assert hongyan["newborn_id"] not in j.body_text(), "the printed receipt never shows a full ID number"
    j.shot_print("receipt-print")

    # --- Close the day's ledger ----------------------------------------------------------------------
    j.goto("/")
    j.nav("现金台账")
    today = timezone.localdate()
    assert j.heading() == f"现金台账 · {today.year}年{today.month}月{today.day}日"
    j.see(number, "840.00", "未确认")
    assert page.get_by_label("实点现金（元）").input_value() == ""  # a blind count: she types what she counted
    j.see("确认后显示")
    page.get_by_label("实点现金（元）").fill("840.00")
    j.follow(page.get_by_role("button", name="确认台账"))
    j.see_message("台账已确认，账实相符")
    j.see("已确认")
    j.assert_fits_width()
    j.shot("ledger-closed")

    # --- Record the remittance -----------------------------------------------------------------------
    j.nav("报解")
    j.see("未解缴现金", "840.00", "正常")
    j.follow(page.get_by_role("link", name="登记解缴").first)
    j.see("未解缴现金合计 840.00 元", number)
    page.get_by_label("银行回单号").fill("HY20241105-01")
    j.shot("remittance-form")
    j.follow(page.get_by_role("button", name="保存解缴记录"))
    j.see_message(r"已登记解缴 840\.00 元（回单号 HY20241105-01）")
    j.see("没有未解缴的现金", "HY20241105-01")
    j.assert_fits_width()
    j.shot("remitted")
    j.assert_no_js_errors()
