"""Journey: a collector enters a new household of five from the keyboard only (红岩社区, Shizhu).

Per member: the name, Tab, the ID (checked as soon as the 18th character is typed: sex and birth
date, or what is wrong, under the box; the amount owed appears before saving), Tab, the relation
with the arrow keys, Enter for the next member. The rarely used fields wait behind 更多, so a row
has 7 Tab stops. A mistyped ID is said at once; leaving the half-filled form warns, and coming
back offers the draft. The time taken is printed (the goal, well under a minute, is read from it,
not asserted: timing belongs to the benches).
"""

import time
from datetime import date

import pytest

from core import idcard
from core.choices import Role
from enrollment.models import Household
from tests.functional.journeys import data

pytestmark = pytest.mark.browser

VILLAGE = "500240001001"  # 红岩社区
# (name, born, sex, arrow-down presses from "— 请选择 —": 1 户主, 2 配偶, 3 子女, 4 父母)
FIVE = [("冉建国", date(1978, 3, 2), 1, 1), ("向春梅", date(1980, 6, 9), 2, 2), ("冉小龙", date(2004, 9, 1), 3, 3),
        ("冉小凤", date(2010, 1, 15), 4, 3), ("冉德福", date(1950, 12, 30), 5, 4)]
TAB_STOPS = """row => Array.from(row.querySelectorAll('input, select, textarea, button, summary, a[href]')).filter(el =>
  el.type !== 'hidden' && !el.disabled && el.tabIndex >= 0 && el.checkVisibility()).length"""


@pytest.fixture
def hongyan():
    data.load_seeds()
    year = data.open_policy_year("500240")
    data.user("tan_xiaomei", Role.COLLECTOR, VILLAGE, "谭晓梅")
    return year


def test_a_household_of_five_from_the_keyboard(journey, hongyan):
    j = journey("household_keyboard")
    page = j.page
    j.login("tan_xiaomei")
    j.goto(f"/households/new/?year={hongyan}")
    ids = [idcard.make("500240", born, seq * 2 + (1 if n in (1, 3, 5) else 0)) for n, (_, born, seq, _) in enumerate(FIVE, start=1)]
    page.locator("input[name='number']").fill("0088")
    page.locator("input[name='address']").fill("红岩社区5组8号")
    first = page.locator("input[name='m-0-name']")
    first.focus()
    started = time.perf_counter()
    for n, ((name, born, _, arrows), id_number) in enumerate(zip(FIVE, ids, strict=True)):
        row = page.locator("[data-formset-row]").nth(n)
        assert row.locator("input[name$='-name']").evaluate("el => el === document.activeElement"), f"row {n + 1} starts at 姓名"
        page.keyboard.type(name)
        page.keyboard.press("Tab")
        if n == 2:  # a slip of the finger, said at once, corrected at once
            page.keyboard.type(id_number[:17] + ("0" if id_number[17] != "0" else "1"))
            hint = row.locator("[data-id-hint]")
            page.wait_for_function("el => el.textContent.includes('校验位')", arg=hint.element_handle())
            j.shot("id-said-at-once")
            page.keyboard.press("Backspace")
            page.keyboard.type(id_number[17])
        else:
            page.keyboard.type(id_number)
        hint = row.locator("[data-id-hint]")
        page.wait_for_function("el => el.textContent.includes('出生')", arg=hint.element_handle())
        assert f"{born.year}年{born.month}月{born.day}日出生" in hint.inner_text()
        page.keyboard.press("Tab")
        if n > 0:  # the first row of a new household starts as 户主
            for _ in range(arrows):
                page.keyboard.press("ArrowDown")
        owed = row.locator("[data-owed-cell]")
        page.wait_for_function("el => el.textContent.includes('元')", arg=owed.element_handle())
        assert "400.00 元" in owed.inner_text() or "380.00 元" in owed.inner_text(), owed.inner_text()
        assert row.evaluate(TAB_STOPS) == 7, "姓名, 身份证, 关系, 参保, 档次, 更多, 删除"
        if n < len(FIVE) - 1:
            page.keyboard.press("Enter")  # the next member
    j.shot("five-typed")
    for _ in range(12):  # on to 保存全户
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "保存全户":
            break
    j.settle()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    seconds = time.perf_counter() - started
    print(f"\nhousehold of five from the keyboard: {seconds:.1f} s of typing and checks (headless Chromium)")
    j.see_message("已保存0088号户及5名成员")
    household = Household.objects.get(number="0088")
    got = {p.name: p.relation for p in household.members.all()}
    assert got == {"冉建国": "head", "向春梅": "spouse", "冉小龙": "child", "冉小凤": "child", "冉德福": "parent"}
    j.shot("saved")

    # --- Leaving a half-filled form warns; coming back offers the draft --------------------------
    j.goto(f"/households/new/?year={hongyan}")
    page.locator("input[name='number']").fill("0089")
    page.locator("input[name='m-0-name']").fill("马春花")
    page.wait_for_timeout(600)  # the draft is kept after a short pause
    warned = []
    page.on("dialog", lambda d: warned.append(d.type))  # the journey's own handler accepts it
    page.goto(j.url("/roster/"))
    assert warned == ["beforeunload"], "leaving unsaved entries asks first"
    j.goto(f"/households/new/?year={hongyan}")
    page.get_by_role("button", name="恢复草稿").click()
    assert page.locator("input[name='m-0-name']").input_value() == "马春花"
    assert page.locator("input[name='number']").input_value() == "0089"
    j.shot("draft-restored")

    # --- 大字 for older eyes: one press, kept for the next page ------------------------------------
    before = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_role("button", name="大字").click()
    j.goto("/roster/")
    after = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert after >= before * 1.15 and page.get_by_role("button", name="大字").get_attribute("aria-pressed") == "true"
    j.shot("large-text")
    j.assert_no_js_errors()
