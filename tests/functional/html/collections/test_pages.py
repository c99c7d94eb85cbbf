"""The collector's day and the township's declaration, in the browser (Django test client)."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from collections_app import lifecycle
from collections_app.cash import services as cash_services
from collections_app.declarations import services as declaration_services
from collections_app.models import DailyLedger, Declaration, PublicityPosting, Receipt, Refund, Remittance
from collections_app.refunds import services as refund_services
from core.models import AuditEvent
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from tests.factories.collections import confirmed, declare_on_page, household_with, make_policy, pay


@pytest.fixture
def policy(regions):
    return make_policy(regions["county"])


def test_collector_takes_cash_prints_closes_day_and_remits(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 3)
    client.force_login(users["collector"])
    find = client.get(reverse("collections:receipt_create"), {"q": hh.number})
    assert find.status_code == 200 and f"?household={hh.pk}" in find.content.decode()
    page = client.get(reverse("collections:receipt_create"), {"household": hh.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert m[0].name in html and "400.00" in html
    resp = client.post(
        f"{reverse('collections:receipt_create')}?household={hh.pk}",
        {"persons": [m[0].pk, m[1].pk], "channel": "cash", "payer_name": "", "total": "1", **confirmed()},
    )
    receipt = Receipt.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("collections:receipt_detail", args=[receipt.pk])
    assert receipt.total == Decimal("800.00")  # the posted "total" is ignored: amounts come from policy
    detail = client.get(resp["Location"]).content.decode()
    assert receipt.number in detail and "捌佰元整" in detail and "已收款" in detail

    printed = client.get(reverse("collections:receipt_print", args=[receipt.pk]), {"size": "A5"}).content.decode()
    assert printed.count("城乡居民医疗保险费现金收款凭证") == 2
    assert "缴费人留存" in printed and "经办人留存" in printed and "size: A5" in printed
    assert "捌佰元整" in printed and "肆佰元整" in printed and regions["v1"].name in printed
    assert m[0].id_number not in printed and m[0].id_number[-4:] in printed  # masked
    assert "<script>" not in printed.replace('<script src=', '')

    again = client.post(f"{reverse('collections:receipt_create')}?household={hh.pk}", {"persons": [m[0].pk], "channel": "cash"})
    assert again.status_code == 200 and "已缴费" in again.content.decode() and Receipt.objects.count() == 1

    ledger = client.get(reverse("collections:ledger"))
    assert "800.00" in ledger.content.decode() and "当天台账尚未确认" in ledger.content.decode()
    # A blind count: nothing typed for the collector, the expected cash said only after the count.
    assert ledger.context["form"]["cash_counted"].value() is None and "确认后显示" in ledger.content.decode()
    wrong = client.post(reverse("collections:ledger"), {"day": timezone.localdate().isoformat(), "cash_counted": "790.00"}, follow=True)
    assert "差额 -10.00 元" in wrong.content.decode() and "确认后显示" not in wrong.content.decode()
    resp = client.post(reverse("collections:ledger"), {"day": timezone.localdate().isoformat(), "cash_counted": "800.00"}, follow=True)
    assert "账实相符" in resp.content.decode()
    assert DailyLedger.objects.get().cash_counted == Decimal("800.00")

    form = client.get(reverse("collections:remittance_create"))
    assert receipt.number in form.content.decode()
    resp = client.post(
        reverse("collections:remittance_create"),
        {"deposited_on": timezone.localdate().isoformat(), "amount": "800.00", "slip_number": "YH0001", "receipts": [receipt.pk]},
        follow=True,
    )
    assert "已登记解缴 800.00 元" in resp.content.decode()
    assert Remittance.objects.get().receipts.get() == receipt


def test_under_remittance_is_flagged(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    r = pay(users["collector"], hh, m)
    client.force_login(users["collector"])
    resp = client.post(
        reverse("collections:remittance_create"),
        {"deposited_on": timezone.localdate().isoformat(), "amount": "300", "slip_number": "YH2", "receipts": [r.pk]},
        follow=True,
    )
    html = resp.content.decode()
    assert "少解 100.00 元" in html or "少 100.00 元" in html
    assert "少解 100.00" in client.get(reverse("collections:remittance_list")).content.decode()


def test_clerk_voids_with_reason_and_void_shows_everywhere(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    r = pay(users["collector"], hh, m)
    client.force_login(users["collector"])
    assert client.post(reverse("collections:receipt_void", args=[r.pk]), {"reason": "x"}).status_code == 403
    client.force_login(users["clerk2"])
    assert client.post(reverse("collections:receipt_void", args=[r.pk]), {"reason": "x"}).status_code == 404
    client.force_login(users["clerk"])
    detail = client.get(reverse("collections:receipt_detail", args=[r.pk])).content.decode()
    assert "作废凭证" in detail
    resp = client.post(reverse("collections:receipt_void", args=[r.pk]), {"reason": "金额收错"}, follow=True)
    html = resp.content.decode()
    assert "已作废" in html and "金额收错" in html
    assert Enrollment.objects.get(person=m[0]).status == EnrollmentStatus.PENDING
    assert "作废" in client.get(reverse("collections:receipt_print", args=[r.pk])).content.decode()
    assert 'class="voided"' in client.get(reverse("collections:receipt_list")).content.decode()
    client.force_login(users["collector"])
    assert "已作废" in client.get(reverse("collections:ledger")).content.decode()


def test_breaches_show_on_collector_and_township_pages(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    r = pay(users["collector"], hh, m)
    Receipt.objects.filter(pk=r.pk).update(issued_on=timezone.localdate() - timedelta(days=8))
    for key in ("collector", "clerk"):
        client.force_login(users[key])
        for name in ("collections:receipt_list", "collections:ledger"):
            html = client.get(reverse(name)).content.decode()
            assert "双限报解超限" in html and "已超期 3 天" in html, (key, name)
    client.force_login(users["clerk2"])
    assert "双限报解超限" not in client.get(reverse("collections:receipt_list")).content.decode()


def _answer(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["公民身份号码", "结果", "失败原因"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("answer.xlsx", buf.getvalue())


def test_township_declares_imports_answer_and_village_reconciles(client, users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 2)
    r = pay(c, hh, m)
    client.force_login(c)
    client.post(reverse("collections:ledger"), {"day": timezone.localdate().isoformat(), "cash_counted": "800"})
    client.post(reverse("collections:remittance_create"),
                {"deposited_on": timezone.localdate().isoformat(), "amount": "800", "slip_number": "S", "receipts": [r.pk]})
    client.force_login(users["clerk"])
    page = client.get(reverse("collections:declaration_list"))
    assert page.status_code == 200 and "生成申报表" in page.content.decode()
    resp = declare_on_page(client, regions["v1"], policy.year)
    d = Declaration.objects.get()
    assert resp.status_code == 302 and d.total == Decimal("800.00")
    x = client.get(reverse("collections:declaration_export", args=[d.pk]))
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(x.content)).active
    assert {ws.cell(row=i, column=4).value for i in (2, 3)} == {p.id_number for p in m}
    assert AuditEvent.objects.filter(action="export").exists()
    resp = client.post(reverse("collections:declaration_detail", args=[d.pk]),
                       {"file": _answer([[p.id_number, "成功", ""] for p in m])}, follow=True)
    assert "成功 2 人，失败 0 人" in resp.content.decode()
    assert AuditEvent.objects.filter(action="import", object_id=str(d.pk), detail__kind="declaration_answer").count() == 1
    # The form's page showed the township its full numbers: one recorded view per page shown.
    assert AuditEvent.objects.filter(action="view_full_id", object_id=str(d.pk), detail__page="declaration_detail").exists()
    assert "一致" in resp.content.decode()
    recon = client.get(reverse("collections:reconciliation"), {"region": regions["v1"].pk, "year": policy.year}).content.decode()
    assert "没有差异：钱、票、册一致" in recon
    assert recon.count("800.00") >= 6
    # the other township sees none of it
    client.force_login(users["clerk2"])
    assert client.get(reverse("collections:declaration_detail", args=[d.pk])).status_code == 404
    assert client.get(reverse("collections:declaration_export", args=[d.pk])).status_code == 404
    assert client.get(reverse("collections:reconciliation"), {"region": regions["v1"].pk}).status_code == 404


def test_bad_answer_file_keeps_page_and_explains(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    client.force_login(users["clerk"])
    declare_on_page(client, regions["v1"], policy.year)
    d = Declaration.objects.get()
    resp = client.post(reverse("collections:declaration_detail", args=[d.pk]), {"file": _answer([["110101199003074513", "成功", ""]])})
    assert resp.status_code == 200 and "不在本申报表中" in resp.content.decode()
    resp = client.post(reverse("collections:declaration_detail", args=[d.pk]), {"file": SimpleUploadedFile("a.xlsx", b"not a sheet\x00")})
    assert resp.status_code == 200 and "不是有效的" in resp.content.decode()


def test_publicity_print_and_posting(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 2)
    pay(users["collector"], hh, m)
    client.force_login(users["collector"])
    listing = client.get(reverse("collections:publicity_list"), {"year": policy.year}).content.decode()
    assert "登记张贴" in listing and regions["v3"].name not in listing
    printed = client.get(reverse("collections:publicity_print", args=[regions["v1"].pk]), {"year": policy.year}).content.decode()
    assert m[0].name in printed and m[0].id_number[-4:] in printed and m[0].id_number not in printed
    assert "400.00" in printed and "800.00" in printed
    assert client.get(reverse("collections:publicity_print", args=[regions["v3"].pk])).status_code == 404
    url = f"{reverse('collections:publicity_posting', args=[regions['v1'].pk])}?year={policy.year}"
    monday = date(2027, 1, 4)
    short = client.post(url, {"posted_from": monday, "posted_until": monday + timedelta(days=2),
                              "photo": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n0000")})
    assert short.status_code == 200 and "至少5个工作日" in short.content.decode()
    ok = client.post(url, {"posted_from": monday, "posted_until": monday + timedelta(days=7),
                           "photo": SimpleUploadedFile("a.jpg", b"\xff\xd8\xff\xe0jpeg")}, follow=True)
    assert "已登记" in ok.content.decode()
    p = PublicityPosting.objects.get()
    assert p.person_count == 2
    photo = client.get(reverse("collections:publicity_photo", args=[p.pk]))
    assert photo.status_code == 200
    client.force_login(users["collector3"])
    assert client.get(reverse("collections:publicity_photo", args=[p.pk])).status_code == 404


def test_refund_pages_apply_approve_pay(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    e = Enrollment.objects.get(person=m[0])
    client.force_login(users["collector"])
    find = client.get(reverse("collections:refund_create"), {"q": m[0].name}).content.decode()
    assert f"?enrollment={e.pk}" in find
    resp = client.post(f"{reverse('collections:refund_create')}?enrollment={e.pk}",
                       {"reason": "death", "evidence": SimpleUploadedFile("d.pdf", b"%PDF-1.4 x"), "note": "已死亡"})
    refund = Refund.objects.get()
    assert resp.status_code == 302
    client.force_login(users["bureau"])
    page = client.get(reverse("collections:refund_detail", args=[refund.pk])).content.decode()
    assert "医保局审批" in page
    client.post(reverse("collections:refund_detail", args=[refund.pk]), {"action": "decide", "d-approve": "1", "d-note": "同意"})
    client.force_login(users["tax"])
    resp = client.post(reverse("collections:refund_detail", args=[refund.pk]),
                       {"action": "pay", "p-paid_on": timezone.localdate().isoformat(), "p-voucher": "TF01"}, follow=True)
    assert "已登记退付" in resp.content.decode()
    e.refresh_from_db()
    assert e.status == EnrollmentStatus.REFUNDED
    assert client.get(reverse("collections:refund_evidence", args=[refund.pk])).status_code == 200


ROUTES = [
    ("collections:receipt_list", None),
    ("collections:receipt_create", None),
    ("collections:ledger", None),
    ("collections:remittance_list", None),
    ("collections:remittance_create", None),
    ("collections:declaration_list", None),
    ("collections:reconciliation", None),
    ("collections:publicity_list", None),
    ("collections:refund_list", None),
    ("collections:refund_create", None),
]


def test_every_page_answers_each_role_without_error(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    for key in ["bureau", "tax", "leader", "dept", "clerk", "collector", "nobody"]:
        client.force_login(users[key])
        for name, _ in ROUTES:
            resp = client.get(reverse(name))
            assert resp.status_code in (200, 403), (key, name, resp.status_code)


@pytest.mark.parametrize("key", ["collector3", "clerk2"])
def test_objects_of_other_regions_are_404(client, users, regions, policy, key):
    hh, m = household_with(regions["v1"], 1)
    r = pay(users["collector"], hh, m)
    client.force_login(users[key])
    for url in (
        reverse("collections:receipt_detail", args=[r.pk]),
        reverse("collections:receipt_print", args=[r.pk]),
        f"{reverse('collections:receipt_create')}?household={hh.pk}",
        reverse("collections:publicity_print", args=[regions["v1"].pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert r.number not in client.get(reverse("collections:receipt_list")).content.decode()


def test_nobody_sees_nothing(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    r = pay(users["collector"], hh, m)
    client.force_login(users["nobody"])
    assert r.number not in client.get(reverse("collections:receipt_list")).content.decode()
    assert client.get(reverse("collections:receipt_detail", args=[r.pk])).status_code == 404


def test_list_page_query_counts_are_pinned(client, users, regions, policy, django_assert_max_num_queries):
    for _ in range(6):
        hh, m = household_with(regions["v1"], 2)
        pay(users["collector"], hh, m)
    client.force_login(users["clerk"])
    with django_assert_max_num_queries(20):
        assert client.get(reverse("collections:receipt_list")).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("collections:remittance_list")).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("collections:declaration_list")).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("collections:refund_list")).status_code == 200


def test_collector_chooses_the_tier_and_the_amount_follows(client, users, regions):
    policy = make_policy(regions["county"], tier2="775.00")
    hh, m = household_with(regions["v1"], 2)
    client.force_login(users["collector"])
    url = f"{reverse('collections:receipt_create')}?household={hh.pk}"
    page = client.get(url).content.decode()
    assert f'name="tier_{m[0].pk}"' in page and "775.00" in page
    client.post(url, {"persons": [m[0].pk, m[1].pk], "channel": "pos", f"tier_{m[0].pk}": "2", f"tier_{m[1].pk}": "1", **confirmed()})
    receipt = Receipt.objects.get()
    assert receipt.total == Decimal("1175.00") and receipt.get_channel_display() == "POS机刷卡"
    assert Enrollment.objects.get(person=m[0], year=policy.year).tier == 2


# --- Audit fixes --------------------------------------------------------------------------------


def test_double_limit_text_follows_the_county_policy(client, users, regions):
    make_policy(regions["county"], remit_days=3, remit_amount="5000.00")
    hh, m = household_with(regions["v1"], 1)
    r = pay(users["collector"], hh, m)
    client.force_login(users["collector"])
    for url in (reverse("collections:receipt_list"), reverse("collections:receipt_detail", args=[r.pk]), reverse("collections:remittance_list")):
        html = client.get(url).content.decode()
        assert "3日内或满5000元" in html, url
        assert "5日内" not in html and "满1万元" not in html and "满10000元" not in html, url


def test_reconfirming_the_ledger_says_so_and_shows_the_earlier_figures(client, users, regions, policy):

    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    client.force_login(users["collector"])
    day = timezone.localdate().isoformat()
    first = client.post(reverse("collections:ledger"), {"day": day, "cash_counted": "350.00", "note": "少点了"}, follow=True).content.decode()
    assert "ledger-previous" not in first
    again = client.post(reverse("collections:ledger"), {"day": day, "cash_counted": "400.00"}, follow=True).content.decode()
    assert "重新确认" in again and "此前的确认已保留" in again
    section = again.split('class="ledger-previous"', 1)[1]
    assert "此前确认（1 次" in section
    assert "350.00" in section and "少点了" in section
    assert DailyLedger.objects.get().cash_counted == Decimal("400.00")
    assert cash_services.MSG_LEDGER_RECONFIRMED.split("{")[0] in again


def test_declaration_page_shows_an_under_remittance(client, users, regions, policy):

    c = users["collector"]
    hh, m = household_with(regions["v1"], 1)
    r = pay(c, hh, m)
    cash_services.remittance_record(actor=c, collector=c, deposited_on=timezone.localdate(), amount="300", slip_number="YH3", receipts=[r])
    client.force_login(users["clerk"])
    declare_on_page(client, regions["v1"], policy.year)
    d = Declaration.objects.get()
    resp = client.post(reverse("collections:declaration_detail", args=[d.pk]), {"file": _answer([[m[0].id_number, "成功", ""]])}, follow=True)
    html = resp.content.decode()
    assert "不一致" in html and "少解 100.00 元" in html and "已解缴 300.00" in html
    recon = client.get(reverse("collections:reconciliation"), {"region": regions["v1"].pk, "year": policy.year}).content.decode()
    assert "没有差异" not in recon and "少解 100.00 元" in recon and "YH3" in recon


def test_receipt_page_explains_why_a_declared_receipt_cannot_be_voided(client, users, regions, policy):

    hh, m = household_with(regions["v1"], 1)
    r = pay(users["collector"], hh, m)
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    client.force_login(users["clerk"])
    detail = client.get(reverse("collections:receipt_detail", args=[r.pk])).content.decode()
    expected = lifecycle.ERR_VOID_DECLARED.format(name=m[0].name, declaration=d.pk)
    assert expected.split("，")[0] in detail and "void-form" not in detail
    resp = client.post(reverse("collections:receipt_void", args=[r.pk]), {"reason": "收错"}, follow=True)
    assert "等待税务" in resp.content.decode()
    assert Receipt.objects.get(pk=r.pk).status == "valid"


def test_bureau_refuses_a_duplicate_candidate_on_its_page(client, users, regions, policy):

    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    candidate = refund_services.refund_flag_duplicate(enrollment=Enrollment.objects.get(person=m[0]), amount="400", source="税务缴费明细")
    client.force_login(users["bureau"])
    page = client.get(reverse("collections:refund_detail", args=[candidate.pk])).content.decode()
    assert "不予退费" in page and 'name="d-note"' in page
    empty = client.post(reverse("collections:refund_detail", args=[candidate.pk]), {"action": "decide", "d-approve": "0", "d-note": ""}, follow=True)
    assert refund_services.ERR_REFUND_DECISION_NOTE in empty.content.decode()
    resp = client.post(reverse("collections:refund_detail", args=[candidate.pk]),
                       {"action": "decide", "d-approve": "0", "d-note": "核实为同一笔"}, follow=True)
    assert resp.status_code == 200
    candidate.refresh_from_db()
    assert candidate.status == "rejected" and candidate.decision_note == "核实为同一笔"
    client.force_login(users["collector"])
    page = client.get(reverse("collections:refund_detail", args=[candidate.pk])).content.decode()
    assert "核实为同一笔" in page and 'name="d-note"' not in page


def test_a_remitted_receipt_page_and_api_refuse_the_void_and_say_what_to_do(client, users, regions, policy):
    from rest_framework.test import APIClient


    c = users["collector"]
    hh, m = household_with(regions["v1"], 1)
    r = pay(c, hh, m)
    cash_services.remittance_record(actor=c, collector=c, deposited_on=timezone.localdate(), amount="400", slip_number="YH9", receipts=[r])
    expected = lifecycle.ERR_VOID_REMITTED.format(number=r.number, slip="YH9")
    client.force_login(users["clerk"])
    detail = client.get(reverse("collections:receipt_detail", args=[r.pk])).content.decode()
    assert expected in detail and "void-form" not in detail
    resp = client.post(reverse("collections:receipt_void", args=[r.pk]), {"reason": "收错"}, follow=True)
    assert expected in resp.content.decode()
    api = APIClient()
    api.force_authenticate(users["clerk"])
    resp = api.post(f"/api/receipts/{r.pk}/void/", {"reason": "收错"}, format="json")
    assert resp.status_code == 400 and expected in str(resp.json())
    assert Receipt.objects.get(pk=r.pk).status == "valid"
    assert Enrollment.objects.get(person=m[0]).status == EnrollmentStatus.PAID


def test_cash_page_and_issue_read_the_same_for_2_or_6_members(client, users, regions):
    """The amounts of every member at every tier, and when their cover starts, come from one
    book: a bigger household means more rows written and validated, not more reads."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_policy(regions["county"], tier2="775.00")
    client.force_login(users["collector"])

    def reads(ctx):
        # full_clean's existence and constraint checks of each row written are the write's own cost
        validation = ('SELECT 1 AS "a" ', 'SELECT 1 AS "_check" ')
        return sum(1 for q in ctx.captured_queries if q["sql"].startswith("SELECT") and not q["sql"].startswith(validation))

    def page_and_issue(n):
        hh, m = household_with(regions["v1"], n)
        url = f"{reverse('collections:receipt_create')}?household={hh.pk}"
        with CaptureQueriesContext(connection) as page:
            assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as issue:
            assert client.post(url, {"persons": [p.pk for p in m], "channel": "cash", **confirmed()}).status_code == 302
        return reads(page), reads(issue)

    assert page_and_issue(2) == page_and_issue(6)


def test_receipt_filters_read_as_a_clerk_reads_them(client, users, regions, policy):
    """Issue 18: collectors by their names, 未报解现金 starts at 全部, the date range is one line of date boxes."""
    users["collector"].first_name = "谭晓梅"
    users["collector"].save()
    client.force_login(users["clerk"])
    html = client.get(reverse("collections:receipt_list")).content.decode()
    assert f'<option value="{users["collector"].pk}">谭晓梅</option>' in html and ">collector<" not in html
    assert '<option value="unknown" selected>全部</option>' in html and "未知" not in html
    assert '<span class="date-range"><input type="date" name="issued_on_after"' in html and "至" in html


def test_the_ledger_never_opens_a_day_still_to_come(client, users, regions, policy):
    client.force_login(users["collector"])
    today = timezone.localdate()
    page = client.get(reverse("collections:ledger"))
    assert page.context["next"] is None and "后一天</span>" in page.content.decode()
    future = client.get(reverse("collections:ledger"), {"day": (today + timedelta(days=3)).isoformat()})
    assert future.context["day"] == today
    past = client.get(reverse("collections:ledger"), {"day": (today - timedelta(days=2)).isoformat()})
    assert past.context["next"] == today - timedelta(days=1)
