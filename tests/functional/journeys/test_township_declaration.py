"""Journey 2: a township clerk (江南镇, 临湘市 — the Jiangnan seed) declares a village to the tax
office: previews, confirms, generates and downloads the declaration form, imports the tax office's answer with one
failed row, fixes that resident's ID number on the household page, re-declares him, and prints
the village's publicity list (names with the last four ID digits only)."""

from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from collections_app.cash import services as cash_services
from core import idcard
from core.choices import Role
from enrollment.choices import EnrollmentStatus, Relation
from enrollment.models import Enrollment, Person
from tests.functional.journeys import data

pytestmark = pytest.mark.browser  # headless Chromium; skipped when /usr/bin/chromium is absent

TOWNSHIP = "430682101"  # 江南镇
VILLAGE = "430682101001"  # 鸭栏村
FAIL_REASON = "身份证号码与公安户籍信息不一致"


@pytest.fixture
def yalan():
    data.load_seeds()
    year = data.open_policy_year("430682")
    clerk = data.user("zhou_wenhua", Role.TOWNSHIP, TOWNSHIP, "周文华")
    collector = data.user("liu_chunlan", Role.COLLECTOR, VILLAGE, "刘春兰")
    today = timezone.localdate()
    right_id = idcard.make("430682", date(1982, 3, 15), 131)
    wrong_id = idcard.make("430682", date(1982, 5, 13), 131)  # typed from a blurred copy: month/day swapped

    h1 = data.household(VILLAGE, "0101", "鸭栏村五组8号")
    liu = data.person(h1, "刘志强", date(1982, 5, 13), Relation.HEAD, area="430682", year=year)
    Person.objects.filter(pk=liu.pk).update(id_number=wrong_id, sex="M")
    zhou = data.person(h1, "周红梅", date(1984, 9, 2), Relation.SPOUSE, area="430682", year=year, sex="F")
    yang = data.person(h1, "刘洋", date(2010, 6, 30), Relation.CHILD, area="430682", year=year)
    h2 = data.household(VILLAGE, "0102", "鸭栏村二组3号")
    gui = data.person(h2, "张桂芳", date(1958, 1, 20), Relation.HEAD, area="430682", year=year, sex="F")
    jian = data.person(h2, "张建国", date(1986, 11, 11), Relation.CHILD, area="430682", year=year, sex="M")
    data.identity(gui, year, "dibao")  # 城乡低保对象: 400 − 200 = 200
    h3 = data.household(VILLAGE, "0103", "鸭栏村一组1号")
    granny = data.person(h3, "李翠英", date(1940, 2, 2), Relation.HEAD, area="430682", year=year, sex="F")
    data.identity(granny, year, "tekun")  # 特困人员: full subsidy → zero declaration

    liu.refresh_from_db()
    r1 = cash_services.receipt_issue(actor=collector, household=h1, persons=[liu, zhou, yang], channel="cash", year=year)
    r2 = cash_services.receipt_issue(actor=collector, household=h2, persons=[gui, jian], channel="cash", year=year)
    cash_services.remittance_record(
        actor=collector, collector=collector, deposited_on=today, amount=r1.total + r2.total,
        slip_number="JN-0001", receipts=[r1.pk, r2.pk],
    )
    assert r1.total + r2.total == Decimal("1800.00")
    return {"year": year, "right_id": right_id, "wrong_id": wrong_id, "clerk": clerk}


def _answer_file(path, declared_rows, failed_id):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["公民身份号码", "姓名", "结果", "失败原因"])
    for number, name in declared_rows:
        cell_id = str(number)
        ws.append([cell_id, name, "失败" if cell_id == failed_id else "成功", FAIL_REASON if cell_id == failed_id else ""])
    for row in ws.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "@"
    wb.save(path)
    return path


def test_township_declaration(journey, yalan):
    j = journey("township_declaration")
    page = j.page
    year = yalan["year"]

    j.login("zhou_wenhua")
    j.see("乡镇经办员", "江南镇", "申报与对账", "公示")
    j.nav("申报与对账")
    j.see("申报表（缴费清册）", "还没有申报表")
    j.shot("declarations-empty")

    # --- Generate the village's declaration form and download it -----------------------------
    page.get_by_label("申报单位").select_option(label="　鸭栏村")
    j.follow(page.get_by_role("button", name="生成申报表"))
    # Declaring moves people to 已申报: first a preview of what the form will hold.
    assert j.heading() == f"核对申报表 · 鸭栏村 {year}年度"
    j.see("6人（其中零申报1人）", "1800.00", "刘志强", "李翠英", "零申报")
    assert not Enrollment.objects.filter(status=EnrollmentStatus.DECLARED).exists()
    j.shot("declaration-preview")
    j.follow(page.get_by_role("button", name="确认生成申报表（6人，1800.00元）"))
    j.see_message(r"已生成鸭栏村申报表：6人（零申报1人），合计1800\.00元")
    j.see("刘志强", "零申报", "1800.00")
    j.shot("declaration")
    xlsx = j.download(lambda: page.get_by_role("link", name="下载申报表（xlsx）").click())
    ws = openpyxl.load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    assert header[:4] == ["序号", "村/社区", "姓名", "公民身份号码"]
    assert ws.freeze_panes == "A2" and ws.column_dimensions["D"].width >= 18, "18-digit IDs show in full"
    declared = [(r[3], r[2]) for r in ws.iter_rows(min_row=2, values_only=True) if isinstance(r[0], int)]
    assert len(declared) == 6
    assert (yalan["wrong_id"], "刘志强") in declared, "ID numbers go to the tax office as text, all 18 characters"

    # --- Import the tax office's answer: one failed row ---------------------------------------------
    answer = _answer_file(j.dir / "税务回执.xlsx", declared, yalan["wrong_id"])
    page.get_by_label("税务回执文件（xlsx/csv）").set_input_files(str(answer))
    j.follow(page.get_by_role("button", name="导入回执"))
    j.see_message("回执已导入：成功 5 人，失败 1 人")
    j.see(FAIL_REASON, "导入失败", "缴费确认单核对")
    # Confirmation = accepted persons × amount: 1800 − 400 for 刘志强.
    j.see("确认金额 1400.00 元")
    j.shot("answer-imported")

    # --- Money, receipts and roster: what still differs after the answer ------------------------------
    j.follow(page.locator(".page-actions").get_by_role("link", name="对账"))
    assert j.heading() == f"钱、票、册对账 · 鸭栏村 {year}年度"
    row = page.locator("table.recon tbody tr", has_text="鸭栏村")
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == "1800.00" and cells[6] == "1800.00", "receipts and remitted cash: 1800.00"
    assert cells[9] == "1400.00" and cells[10] == "5", "confirmed by the tax office: 5 persons, 1400.00"
    assert "处差异" in cells[-1], "the failed row is a difference until it is re-declared"
    j.shot("reconciliation")
    page.go_back(wait_until="load")

    # --- Fix the ID number on the household page (against the ID card) --------------------------------
    j.follow(page.get_by_role("link", name="去户页面改正"))
    assert j.heading().startswith("0101号户")
    box = page.locator(f"input[name$='-id_number'][value='{yalan['wrong_id']}']")
    box.fill(yalan["right_id"])
    j.shot("fix-id")
    j.follow(page.get_by_role("button", name="保存全户"))
    j.see_message("已保存0101号户及3名成员")
    assert Person.objects.get(name="刘志强").id_number == yalan["right_id"]

    # --- Re-declare: only the corrected resident goes again ------------------------------------------
    j.nav("申报与对账")
    page.get_by_label("申报单位").select_option(label="　鸭栏村")
    j.follow(page.get_by_role("button", name="生成申报表"))
    j.see("1人（其中零申报0人）", "400.00", "刘志强")
    j.follow(page.get_by_role("button", name="确认生成申报表（1人，400.00元）"))
    j.see_message(r"已生成鸭栏村申报表：1人（零申报0人），合计400\.00元")
    j.see("刘志强")
    assert idcard.mask(yalan["right_id"]) in j.body_text() or yalan["right_id"] in j.body_text()
    j.shot("redeclared")
    j.nav("申报与对账")
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    j.shot("declarations")

    # --- Print the village publicity list ------------------------------------------------------------
    j.nav("公示")
    j.see(f"缴费公示 · {year}年度", "鸭栏村")
    j.shot("publicity-villages")
    j.follow(page.locator("tr", has_text="鸭栏村").get_by_role("link", name="打印公示名单"))
    text = j.body_text()
    for name in ("刘志强", "周红梅", "刘洋", "张桂芳", "张建国"):
        assert name in text
    assert yalan["right_id"][-4:] in text and yalan["right_id"] not in text, "only the last four ID digits are posted"
    assert "1800.00" in text
    j.shot_print("publicity-print")

    # --- Several villages in one go: tick them all, one page each ------------------------------------
    j.goto(f"/publicity/?year={year}")
    page.get_by_label("全选").check()
    ticked = page.locator("input[name='village']:checked").count()
    assert ticked == page.locator("input[name='village']").count() and ticked >= 1
    j.shot("publicity-ticked")
    j.follow(page.get_by_role("button", name="打印所选村的公示名单"))
    assert page.locator(".batch-item").count() == ticked
    j.see(f"打印{ticked}个村的公示名单", "刘志强")
    j.shot("publicity-batch", help=False)
    j.assert_no_js_errors()
