"""Declarations, the tax office's answer, reconciliation, publicity and refunds."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from collections_app import lifecycle
from collections_app.cash import selectors as cash_selectors
from collections_app.cash import services as cash_services
from collections_app.choices import LineResult, ReceiptStatus, RefundStatus
from collections_app.declarations import answers as answers
from collections_app.declarations import selectors as declaration_selectors
from collections_app.declarations import services as declaration_services
from collections_app.exports import declaration_workbook, declaration_workbook_for
from collections_app.models import Receipt, Refund
from collections_app.publicity import selectors as publicity_selectors
from collections_app.publicity import services as publicity_services
from collections_app.refunds import services as refund_services
from core import audit, idcard
from core.models import AuditEvent
from core.spreadsheets import display_width
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from subsidies.choices import RefundReason
from tests.factories.collections import certify, household_with, make_category, make_policy, pay

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def policy(regions):
    return make_policy(regions["county"])


def answer_file(rows, header=("公民身份号码", "姓名", "结果", "失败原因")):
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


@pytest.fixture
def village_paid(users, regions, policy):
    """v1: three paid persons (cash, remitted), one fully subsidised, one unpaid."""
    c = users["collector"]
    hh, m = household_with(regions["v1"], 5)
    certify(m[3], make_category(policy, code="tk", name="特困人员", amounts={1: "400.00"}))
    receipt = pay(c, hh, m[:3])
    cash_services.ledger_confirm(actor=c, day=timezone.localdate(), cash_counted="1200")
    cash_services.remittance_record(
        actor=c, collector=c, deposited_on=timezone.localdate(), amount="1200", slip_number="S1", receipts=[receipt]
    )
    return {"hh": hh, "members": m, "receipt": receipt}


def test_declaration_includes_paid_and_zero_rows(users, regions, policy, village_paid):
    m = village_paid["members"]
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    assert (d.person_count, d.zero_count, d.total) == (4, 1, Decimal("1200.00"))
    statuses = dict(Enrollment.objects.filter(year=policy.year).values_list("person_id", "status"))
    assert statuses == {m[i].pk: EnrollmentStatus.DECLARED for i in range(4)}
    zero = Enrollment.objects.get(person=m[3])
    assert zero.amount_due == Decimal("0.00") and zero.subsidy == Decimal("400.00") and zero.declared_on
    with pytest.raises(ValidationError, match="没有待申报"):
        declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    wb = load_workbook(io.BytesIO(_save(declaration_workbook_for(actor=users["clerk"], declaration=d))))
    ws = wb["缴费清册"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:6] == ("序号", "村/社区", "姓名", "公民身份号码", "缴费档次", "个人缴费金额")
    ids = {r[3] for r in rows[1:-1]}
    assert ids == {p.id_number for p in m[:4]}
    assert ws.cell(row=2, column=4).number_format == "@"
    assert rows[-1][0] == "合计" and Decimal(str(rows[-1][5])) == Decimal("1200")
    assert any(r[7] == "零申报（全额资助）" and Decimal(str(r[5])) == 0 for r in rows[1:-1])


def test_declaration_xlsx_writes_formula_like_names_as_text(users, regions, policy):
    hh, m = household_with(regions["v1"], 2)
    m[0].name = "=1+1"
    m[0].save()
    m[1].name = "@SUM(A1)"
    m[1].save()
    pay(users["collector"], hh, m)
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    ws = load_workbook(io.BytesIO(_save(declaration_workbook(d))))["缴费清册"]
    names = [ws.cell(row=i, column=3) for i in (2, 3)]
    for cell in names:
        assert cell.data_type == "s" and not str(cell.value).startswith(("=", "@"))
    assert {str(c.value).lstrip("'") for c in names} == {"=1+1", "@SUM(A1)"}


@pytest.mark.parametrize("role", ["clerk", "bureau"])
def test_declaration_xlsx_shows_18_digit_ids_in_full_and_freezes_the_header(users, regions, policy, role):
    """Full numbers (the township) and masked ones (the bureau) are both 18 characters wide;
    the totals row counts too (其中零申报…人 in the 姓名 column)."""
    hh, m = household_with(regions["v1"], 2)
    pay(users["collector"], hh, m)
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    wb = load_workbook(io.BytesIO(_save(declaration_workbook_for(actor=users[role], declaration=d))))
    ws = wb["缴费清册"]
    assert len(ws.cell(row=2, column=4).value) == 18
    assert ws.column_dimensions["D"].width >= 18, "公民身份号码 shows all 18 characters"
    assert ws.column_dimensions["C"].width >= display_width(ws.cell(row=ws.max_row, column=3).value)
    assert ws.freeze_panes == "A2" and wb["申报信息"].freeze_panes == "A2"


@pytest.mark.parametrize(
    "role, full",
    [("clerk", True), ("tax", True), ("bureau", False), ("collector", False), ("leader", False)],
)
def test_declaration_form_full_ids_only_for_the_township_and_the_tax_office(users, regions, policy, role, full):
    """The township declares and the tax office imports the form: they get full numbers. The
    bureau and collectors (who may see full IDs elsewhere) and leadership get masked ones; a form
    with full numbers is recorded as a view of full IDs."""
    hh, m = household_with(regions["v1"], 2)
    pay(users["collector"], hh, m)
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    ws = load_workbook(io.BytesIO(_save(declaration_workbook_for(actor=users[role], declaration=d))))["缴费清册"]
    ids = {r[3] for r in ws.iter_rows(min_row=2, values_only=True) if r[0] != "合计"}
    expected = {p.id_number if full else idcard.mask(p.id_number) for p in m}
    assert ids == expected
    events = AuditEvent.objects.filter(actor=users[role], object_id=str(d.pk))
    assert events.filter(action=audit.ACTION_EXPORT, detail__full_id=full).count() == 1
    assert events.filter(action=audit.ACTION_VIEW_FULL_ID).count() == (1 if full else 0)


def test_the_declaration_workbook_alone_masks_ids(users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    ws = load_workbook(io.BytesIO(_save(declaration_workbook(d))))["缴费清册"]
    assert ws.cell(row=2, column=4).value == idcard.mask(m[0].id_number)


def _save(wb):
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_declaration_scope_and_capability(users, regions, policy, village_paid):
    with pytest.raises(PermissionDenied):
        declaration_services.declaration_create(actor=users["collector"], region=regions["v1"], year=policy.year)
    with pytest.raises(PermissionDenied):
        declaration_services.declaration_create(actor=users["clerk2"], region=regions["v1"], year=policy.year)


def test_township_declaration_covers_its_villages(users, regions, policy, village_paid):
    hh, m = household_with(regions["v2"], 1)
    pay(users["clerk"], hh, m)
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["t1"], year=policy.year)
    assert d.village is None and d.person_count == 5 and d.total == Decimal("1600.00")


def test_answer_import_and_reconciliation_to_the_yuan(users, regions, policy, village_paid):
    m = village_paid["members"]
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    assert [x["kind"] for x in recon["differences"]] == ["回执"]  # waiting for the answer

    f = answer_file([(m[0].id_number, m[0].name, "成功", ""), (m[1].id_number, m[1].name, "失败", "姓名与身份证不符"),
                     (m[2].id_number, m[2].name, "成功", ""), (m[3].id_number, m[3].name, "成功", "")])
    result = answers.declaration_answer_import(actor=users["clerk"], declaration=d, fileobj=f)
    assert (result.accepted, result.failed) == (3, 1)
    d.refresh_from_db()
    assert (d.accepted_count, d.failed_count, d.confirmed_total, d.status) == (3, 1, Decimal("800.00"), "answered")
    failed = Enrollment.objects.get(person=m[1])
    assert failed.status == EnrollmentStatus.PAID and failed.declared_on is None
    assert d.lines.get(enrollment=failed).fail_reason == "姓名与身份证不符"

    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    kinds = sorted(x["kind"] for x in recon["differences"])
    assert kinds == ["回执", "申报"]  # the failed row and paid-not-declared, listed
    # the clerk fixes and re-declares; the tax office accepts
    d2 = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    assert d2.person_count == 1
    answers.declaration_answer_import(actor=users["clerk"], declaration=d2, fileobj=answer_file([(m[1].id_number, "", "成功", "")]))
    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    (row,) = [r for r in recon["rows"] if r["village"] == regions["v1"]]
    assert recon["differences"] == []
    assert row["receipts"] == row["ledger"] == row["cash"] == row["remitted"] == row["declared"] == row["confirmed"] == Decimal("1200.00")
    assert (row["declared_n"], row["confirmed_n"]) == (4, 4)


def test_answer_errors_roll_back_everything(users, regions, policy, village_paid):
    m = village_paid["members"]
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    f = answer_file([(m[0].id_number, "", "成功", ""), ("110101199003074513", "", "成功", ""), (m[1].id_number, "", "失败", ""), (m[2].id_number, "", "也许", "")])
    with pytest.raises(ValidationError) as exc:
        answers.declaration_answer_import(actor=users["clerk"], declaration=d, fileobj=f)
    text = " ".join(exc.value.messages)
    assert "第3行" in text and "不在本申报表中" in text and "第4行" in text and "失败原因" in text and "第5行" in text
    assert not d.lines.exclude(result=LineResult.PENDING).exists()
    with pytest.raises(ValidationError, match="缺少"):
        answers.declaration_answer_import(actor=users["clerk"], declaration=d, fileobj=answer_file([("x",)], header=("姓名",)))


def test_answer_file_read_through_the_one_intake_title_rows_totals_and_sheet_row_numbers(users, regions, policy, village_paid):
    """The tax office's answer as it often comes: a title, a blank row, the header on row 3 in other
    words (证件号码 / 处理结果 / 错误信息), a totals row — read like every other import, and an
    error names the row the clerk sees in Excel."""
    m = village_paid["members"]
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    wb = Workbook()
    ws = wb.active
    for row in (["某县税务局 缴费数据导入回执"], [], ["证件号码", "姓名", "处理结果", "错误信息"],
                [m[0].id_number, m[0].name, "导入成功", ""], [m[1].id_number, m[1].name, "也许", ""], ["合计", "2人", "", ""]):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    with pytest.raises(ValidationError) as exc:
        answers.declaration_answer_import(actor=users["clerk"], declaration=d, fileobj=buf)
    assert exc.value.messages == [answers.ERR_ANSWER_RESULT.format(row=5, value="也许")]
    ws.cell(row=5, column=3, value="导入失败")
    ws.cell(row=5, column=4, value="姓名不符")
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    result = answers.declaration_answer_import(actor=users["clerk"], declaration=d, fileobj=buf)
    assert (result.accepted, result.failed) == (1, 1)


def test_reconciliation_lists_voids_unremitted_and_unconfirmed_ledgers(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 2)
    r = pay(c, hh, [m[0]])
    pay(c, hh, [m[1]])
    cash_services.receipt_void(actor=users["clerk"], receipt=r, reason="收错")
    declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    (row,) = [x for x in recon["rows"] if x["village"] == regions["v1"]]
    assert row["voided"] == 1 and row["unremitted"] == Decimal("400.00")
    texts = " | ".join(d["text"] for d in recon["differences"])
    assert "台账未确认" in texts and "现金未报解" in texts
    assert declaration_selectors.reconciliation(user=users["clerk2"], region=regions["v1"], year=policy.year)["rows"] == []


def test_reconciliation_lists_a_declared_line_without_a_valid_receipt(users, regions, policy):
    """Voiding is refused once declared; a row left so by older data is still listed to the yuan."""
    from collections_app.choices import ReceiptStatus
    from collections_app.models import Receipt

    c = users["collector"]
    hh, m = household_with(regions["v1"], 1)
    r = pay(c, hh, m)
    declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    Receipt.objects.filter(pk=r.pk).update(status=ReceiptStatus.VOIDED, void_reason="旧数据")
    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    (diff,) = [d for d in recon["differences"] if d["kind"] == "票册"]
    assert "有效凭证 0" in diff["text"] and diff["amount"] == Decimal("400.00")


# --- Remittances in the reconciliation: amounts deposited, not receipts linked ---------------------


def _accept_all(users, regions, policy, members):
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    answers.declaration_answer_import(
        actor=users["clerk"], declaration=d, fileobj=answer_file([(p.id_number, p.name, "成功", "") for p in members])
    )
    d.refresh_from_db()
    return d


def _row(recon, village):
    (row,) = [r for r in recon["rows"] if r["village"] == village]
    return row


def test_under_remitting_by_100_yuan_is_a_difference(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 3)
    receipt = pay(c, hh, m)
    cash_services.ledger_confirm(actor=c, day=timezone.localdate(), cash_counted="1200")
    cash_services.remittance_record(
        actor=c, collector=c, deposited_on=timezone.localdate(), amount="1100", slip_number="S100", receipts=[receipt]
    )
    d = _accept_all(users, regions, policy, m)
    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    row = _row(recon, regions["v1"])
    assert row["cash"] == Decimal("1200.00") and row["remitted"] == Decimal("1100.00") and not row["agrees"]
    (diff,) = recon["differences"]
    assert diff["kind"] == "报解" and diff["amount"] == Decimal("-100.00")
    assert "S100" in diff["text"] and "解缴 1100.00 元" in diff["text"] and "少解 100.00 元" in diff["text"]
    (who,) = recon["collectors"]
    assert (who["deposited"], who["covered"], who["gap"]) == (Decimal("1100.00"), Decimal("1200.00"), Decimal("-100.00"))

    # the declaration's confirmation check uses the same figures
    from collections_app.declarations.views import _confirmation_check

    check = _confirmation_check(d)
    assert check["confirmed"] == check["receipted"] == check["cash"] == Decimal("1200.00")
    assert check["remitted"] == Decimal("1100.00") and not check["agrees"]
    assert [g["amount"] for g in check["gaps"]] == [Decimal("-100.00")]


def _voided_behind_the_lifecycle(receipt):
    """A receipt voided after its cash was remitted, as data from before the lifecycle allowed it."""
    Receipt.objects.filter(pk=receipt.pk).update(status=ReceiptStatus.VOIDED, void_reason="收错人", voided_at=timezone.now())
    Enrollment.objects.filter(receipt_lines__receipt=receipt).update(status=EnrollmentStatus.PENDING)


def test_voiding_a_remitted_receipt_is_refused_and_an_earlier_one_is_a_difference(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 2)
    r1, r2 = pay(c, hh, [m[0]]), pay(c, hh, [m[1]])
    cash_services.remittance_record(
        actor=c, collector=c, deposited_on=timezone.localdate(), amount="800", slip_number="S800", receipts=[r1, r2]
    )
    with pytest.raises(ValidationError) as exc:
        cash_services.receipt_void(actor=users["clerk"], receipt=r1, reason="收错人")
    assert exc.value.messages == [lifecycle.ERR_VOID_REMITTED.format(number=r1.number, slip="S800")]
    assert Receipt.objects.get(pk=r1.pk).status == ReceiptStatus.VALID
    _voided_behind_the_lifecycle(r1)
    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    row = _row(recon, regions["v1"])
    assert (row["cash"], row["remitted"]) == (Decimal("400.00"), Decimal("800.00"))
    (diff,) = [x for x in recon["differences"] if x["kind"] == "报解"]
    assert diff["amount"] == Decimal("400.00") and "多解 400.00 元" in diff["text"] and r1.number in diff["text"]
    assert "没有差异" not in " ".join(x["text"] for x in recon["differences"])

    # a later declaration of the other person: its confirmation check shows the gap too
    from collections_app.declarations.views import _confirmation_check

    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    answers.declaration_answer_import(actor=users["clerk"], declaration=d, fileobj=answer_file([(m[1].id_number, "", "成功", "")]))
    check = _confirmation_check(d)
    assert check["receipted"] == check["cash"] == Decimal("400.00") and not check["agrees"]
    assert [g["amount"] for g in check["gaps"]] == [Decimal("400.00")]


def test_remittance_exactly_covering_valid_receipts_agrees(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 2)
    r = pay(c, hh, m)
    cash_services.ledger_confirm(actor=c, day=timezone.localdate(), cash_counted="800")
    cash_services.remittance_record(actor=c, collector=c, deposited_on=timezone.localdate(), amount="800", slip_number="S", receipts=[r])
    d = _accept_all(users, regions, policy, m)
    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    assert recon["differences"] == [] and _row(recon, regions["v1"])["remitted"] == Decimal("800.00")
    from collections_app.declarations.views import _confirmation_check

    check = _confirmation_check(d)
    assert check["agrees"] and check["remitted"] == Decimal("800.00") and check["gaps"] == []


def test_a_remittance_over_two_villages_counts_once(users, regions, policy):
    clerk = users["clerk"]
    hh1, m1 = household_with(regions["v1"], 1)
    hh2, m2 = household_with(regions["v2"], 2)
    r1, r2 = pay(clerk, hh1, m1), pay(clerk, hh2, m2)
    cash_services.remittance_record(
        actor=clerk, collector=clerk, deposited_on=timezone.localdate(), amount="1150", slip_number="T1", receipts=[r1, r2]
    )
    recon = declaration_selectors.reconciliation(user=clerk, region=regions["t1"], year=policy.year)
    assert recon["totals"]["remitted"] == Decimal("1150.00") and recon["totals"]["cash"] == Decimal("1200.00")
    gaps = [x for x in recon["differences"] if x["kind"] == "报解"]
    assert [g["amount"] for g in gaps] == [Decimal("-50.00")]


def test_ledger_changed_after_confirmation_is_a_difference(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 2)
    pay(c, hh, [m[0]])
    cash_services.ledger_confirm(actor=c, day=timezone.localdate(), cash_counted="400")
    pay(c, hh, [m[1]])
    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    (diff,) = [x for x in recon["differences"] if x["kind"] == "台账"]
    assert "确认时 1 张 400.00 元" in diff["text"] and diff["amount"] == Decimal("400.00")


def test_publicity_rows_and_posting(users, regions, policy):
    hh, m = household_with(regions["v1"], 2)
    r = pay(users["collector"], hh, m)
    rows = publicity_selectors.publicity_rows(village=regions["v1"], year=policy.year)
    assert [(x["name"], x["last4"], x["amount"]) for x in rows] == [(p.name, p.id_number[-4:], Decimal("400.00")) for p in m]
    assert all(len(x["last4"]) == 4 for x in rows)
    cash_services.receipt_void(actor=users["clerk"], receipt=r, reason="x")
    assert publicity_selectors.publicity_rows(village=regions["v1"], year=policy.year) == []

    monday = date(2027, 1, 4)
    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    with pytest.raises(ValidationError, match="至少5个工作日"):
        publicity_services.publicity_record(actor=users["collector"], village=regions["v1"], year=policy.year,
                                  posted_from=monday, posted_until=monday + timedelta(days=3), photo=photo)
    with pytest.raises(ValidationError, match="JPG"):
        publicity_services.publicity_record(actor=users["collector"], village=regions["v1"], year=policy.year, posted_from=monday,
                                  posted_until=monday + timedelta(days=4), photo=SimpleUploadedFile("p.png", b"GIF89a...."))
    with pytest.raises(PermissionDenied):
        publicity_services.publicity_record(actor=users["collector"], village=regions["v3"], year=policy.year, posted_from=monday,
                                  posted_until=monday + timedelta(days=4), photo=photo)
    p = publicity_services.publicity_record(actor=users["collector"], village=regions["v1"], year=policy.year,
                                  posted_from=monday, posted_until=monday + timedelta(days=4), photo=photo)
    assert p.photo.name and p.village == regions["v1"]


def _evidence():
    return SimpleUploadedFile("death.pdf", b"%PDF-1.4 proof", content_type="application/pdf")


def test_refund_workflow(users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    e = Enrollment.objects.get(person=m[0])
    with pytest.raises(ValidationError, match="证明材料"):
        refund_services.refund_apply(actor=users["collector"], enrollment=e, reason=RefundReason.DEATH)
    with pytest.raises(ValidationError, match="退费金额"):
        refund_services.refund_apply(actor=users["collector"], enrollment=e, reason=RefundReason.DEATH, amount="500", evidence=_evidence())
    refund = refund_services.refund_apply(actor=users["collector"], enrollment=e, reason=RefundReason.DEATH, evidence=_evidence())
    assert refund.amount == Decimal("400.00") and refund.status == RefundStatus.APPLIED
    with pytest.raises(ValidationError, match="同一原因"):
        refund_services.refund_apply(actor=users["collector"], enrollment=e, reason=RefundReason.DEATH, evidence=_evidence())
    with pytest.raises(PermissionDenied):
        refund_services.refund_decide(actor=users["clerk"], refund=refund, approve=True)
    with pytest.raises(ValidationError):
        refund_services.refund_mark_paid(actor=users["tax"], refund=refund, paid_on=timezone.localdate(), voucher="T1")
    refund_services.refund_decide(actor=users["bureau"], refund=refund, approve=True, note="材料齐全")
    with pytest.raises(PermissionDenied):
        refund_services.refund_mark_paid(actor=users["bureau"], refund=refund, paid_on=timezone.localdate(), voucher="T1")
    refund_services.refund_mark_paid(actor=users["tax"], refund=refund, paid_on=timezone.localdate(), voucher="T1")
    e.refresh_from_db()
    assert e.status == EnrollmentStatus.REFUNDED and e.refunded_on == timezone.localdate()


def test_refund_refused_after_cover_started(users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    e = Enrollment.objects.get(person=m[0])
    e.benefit_start = timezone.localdate() - timedelta(days=1)
    e.save()
    with pytest.raises(ValidationError) as exc:
        refund_services.refund_apply(actor=users["collector"], enrollment=e, reason=RefundReason.EMPLOYEE, evidence=_evidence())
    assert "待遇已于" in str(exc.value) and "不能退费" in str(exc.value)


def test_refund_rejection_needs_a_reason_and_unpaid_cannot_refund(users, regions, policy):
    hh, m = household_with(regions["v1"], 2)
    pay(users["collector"], hh, [m[0]])
    e = Enrollment.objects.get(person=m[0])
    refund = refund_services.refund_apply(actor=users["clerk"], enrollment=e, reason=RefundReason.ELSEWHERE, evidence=_evidence())
    with pytest.raises(ValidationError):
        refund_services.refund_decide(actor=users["bureau"], refund=refund, approve=False, note="")
    refund_services.refund_decide(actor=users["bureau"], refund=refund, approve=False, note="未提供外地参保证明")
    from tests.factories import EnrollmentFactory

    pending = EnrollmentFactory(person=m[1], year=policy.year)
    with pytest.raises(ValidationError, match="没有已缴费"):
        refund_services.refund_apply(actor=users["clerk"], enrollment=pending, reason=RefundReason.DEATH, evidence=_evidence())


# --- Refunds: who leaves the scheme, and candidates refused directly --------------------------------


def _refund_paid(users, enrollment, reason):
    refund = refund_services.refund_apply(actor=users["collector"], enrollment=enrollment, reason=reason, evidence=_evidence())
    refund_services.refund_decide(actor=users["bureau"], refund=refund, approve=True, note="同意")
    return refund_services.refund_mark_paid(actor=users["tax"], refund=refund, paid_on=timezone.localdate(), voucher="TF1")


@pytest.mark.parametrize(
    "reason, leaves",
    [
        (RefundReason.DUPLICATE, False),
        (RefundReason.SUBSIDY_DIFFERENCE, False),
        (RefundReason.DEATH, True),
        (RefundReason.EMPLOYEE, True),
        (RefundReason.ELSEWHERE, True),
    ],
)
def test_only_leaving_the_scheme_unenrolls_on_refund(users, regions, policy, reason, leaves):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    Enrollment.objects.filter(person=m[0]).update(status=EnrollmentStatus.CONFIRMED)
    e = Enrollment.objects.get(person=m[0])
    refund = _refund_paid(users, e, reason)
    assert refund.status == RefundStatus.PAID
    e.refresh_from_db()
    if leaves:
        assert e.status == EnrollmentStatus.REFUNDED and e.refunded_on == timezone.localdate()
    else:  # the extra money goes back; the person stays enrolled (confirmed)
        assert e.status == EnrollmentStatus.CONFIRMED and e.refunded_on is None


def test_duplicate_payment_becomes_candidate_once(users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    e = Enrollment.objects.get(person=m[0])
    a = refund_services.refund_flag_duplicate(enrollment=e, amount="400", source="税务缴费明细")
    b = refund_services.refund_flag_duplicate(enrollment=e, amount="400", source="税务缴费明细")
    assert a.pk == b.pk and a.status == RefundStatus.CANDIDATE
    assert list(Refund.objects.visible_to(users["clerk2"])) == []
    applied = refund_services.refund_apply(actor=users["collector"], enrollment=e, reason=RefundReason.DUPLICATE, evidence=_evidence())
    assert applied.pk == a.pk and applied.status == RefundStatus.APPLIED


def test_bureau_refuses_a_candidate_without_an_application(users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    e = Enrollment.objects.get(person=m[0])
    candidate = refund_services.refund_flag_duplicate(enrollment=e, amount="400", source="税务缴费明细")
    with pytest.raises(PermissionDenied):
        refund_services.refund_decide(actor=users["clerk"], refund=candidate, approve=False, note="不是重复")
    with pytest.raises(ValidationError) as exc:
        refund_services.refund_decide(actor=users["bureau"], refund=candidate, approve=False, note="  ")
    assert refund_services.ERR_REFUND_DECISION_NOTE in exc.value.messages
    with pytest.raises(ValidationError) as exc:
        refund_services.refund_decide(actor=users["bureau"], refund=candidate, approve=True, note="同意")
    assert refund_services.ERR_REFUND_CANDIDATE_APPROVE in exc.value.messages
    refused = refund_services.refund_decide(actor=users["bureau"], refund=candidate, approve=False, note="税务核实为同一笔缴费")
    assert (refused.status, refused.decided_by, refused.decision_note) == (RefundStatus.REJECTED, users["bureau"], "税务核实为同一笔缴费")
    assert refund_services.refund_flag_duplicate(enrollment=e, amount="400", source="再次导入").pk == refused.pk  # not raised again
    e.refresh_from_db()
    assert e.status == EnrollmentStatus.PAID


def test_duplicates_found_by_the_tax_import_become_refund_candidates(users, regions, policy):
    from collections_app.models import TaxImport, TaxImportRow
    from core.choices import ImportStatus

    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    e = Enrollment.objects.get(person=m[0])
    ti = TaxImport.objects.create(county=regions["county"], year=policy.year, file="tax_imports/x.xlsx", status=ImportStatus.APPLIED)
    TaxImportRow.objects.create(
        tax_import=ti, row_number=7, outcome="duplicate", message="已现金缴费又线上缴费", id_number=m[0].id_number,
        amount="400.00", year=policy.year, township=regions["t1"], person=m[0], enrollment=e, refund_candidate=True,
    )
    assert refund_services.refund_candidates_sync(user=users["clerk2"]) == 0
    assert refund_services.refund_candidates_sync(user=users["clerk"]) == 1
    assert refund_services.refund_candidates_sync(user=users["bureau"]) == 0  # once only
    refund = Refund.objects.get()
    assert (refund.status, refund.reason, refund.amount) == (RefundStatus.CANDIDATE, RefundReason.DUPLICATE, Decimal("400.00"))
    assert "第7行" in refund.source


def test_a_remittance_whose_receipts_changed_is_flagged_where_remittances_are_shown(client, users, regions, policy):
    """Under-remitted by exactly the receipt voided since: the deposit matches what is left, but the
    remittance changed after it was recorded — flagged on the list, in the API and in reconciliation."""
    from rest_framework.test import APIClient

    c = users["collector"]
    hh, m = household_with(regions["v1"], 2)
    r1, r2 = pay(c, hh, [m[0]]), pay(c, hh, [m[1]])
    out = cash_services.remittance_record(
        actor=c, collector=c, deposited_on=timezone.localdate(), amount="400", slip_number="S400", receipts=[r1, r2]
    )
    rem = out.obj
    expected = cash_selectors.WARN_REMIT_CHANGED.format(
        covered="800.00", valid="400.00", voided=cash_selectors.WARN_REMIT_CHANGED_VOIDED.format(numbers=r1.number)
    )
    before = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    assert [x["text"] for x in before["differences"] if expected in x["text"]] == []
    _voided_behind_the_lifecycle(r1)

    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    (diff,) = [x for x in recon["differences"] if x["kind"] == "报解"]
    assert diff["text"] == expected and diff["amount"] == Decimal("-400.00")
    assert [g["change"] for g in recon["remittances"]] == [expected]
    (collector,) = recon["collectors"]
    assert collector["gap"] == 0 and collector["changed"] and not collector["agrees"]

    api = APIClient()
    api.force_authenticate(users["clerk"])
    body = api.get(f"/api/remittances/{rem.pk}/").json()
    assert body["covered"] == "800.00" and body["valid_covered"] == "400.00" and body["difference"] == "0.00"
    assert body["changed"] is True and body["warnings"] == [expected]
    (listed,) = api.get("/api/remittances/").json()["results"]
    assert listed["changed"] is True and listed["warnings"] == [expected]

    client.force_login(users["clerk"])
    page = client.get(reverse("collections:remittance_list")).content.decode()
    assert expected in page and "凭证有变动" in page
    page = client.get(reverse("collections:reconciliation"), {"region": regions["v1"].pk, "year": policy.year}).content.decode()
    assert expected in page and "报解后凭证有变动" in page


def test_an_unchanged_remittance_is_not_flagged(users, regions, policy):
    from rest_framework.test import APIClient

    c = users["collector"]
    hh, m = household_with(regions["v1"], 1)
    r = pay(c, hh, m)
    rem = cash_services.remittance_record(
        actor=c, collector=c, deposited_on=timezone.localdate(), amount="400", slip_number="S", receipts=[r]
    ).obj
    api = APIClient()
    api.force_authenticate(users["clerk"])
    body = api.get(f"/api/remittances/{rem.pk}/").json()
    assert body["changed"] is False and body["warnings"] == [] and body["difference"] == "0.00"
    recon = declaration_selectors.reconciliation(user=users["clerk"], region=regions["v1"], year=policy.year)
    assert [g["change"] for g in recon["remittances"]] == [""]


def test_declaring_fully_subsidised_persons_reads_the_same_for_3_or_30(users, regions, policy):
    """What each zero-amount candidate owes is asked once for all of them (a township has
    thousands): only the rows written grow with the number of persons, not the reads."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tk = make_category(policy, code="tk", name="特困人员", amounts={1: "400.00"})

    def reads_to_declare(village, n):
        hh, m = household_with(village, n)
        for p in m:
            certify(p, tk)
        with CaptureQueriesContext(connection) as ctx:
            d = declaration_services.declaration_create(actor=users["clerk"], region=village, year=policy.year)
        assert d.zero_count == n
        return sum(1 for q in ctx.captured_queries if not q["sql"].startswith("INSERT"))

    assert reads_to_declare(regions["v1"], 3) == reads_to_declare(regions["v2"], 30)


def test_posting_minimum_is_the_countys(users, regions, policy):
    """Neixiang's plan: at least 5 working days; Shizhu's sets none: a shorter posting is recorded."""
    monday = date(2027, 1, 4)
    photo = lambda: SimpleUploadedFile("p.png", PNG, content_type="image/png")  # noqa: E731
    policy.posting_working_days = 7
    policy.save()
    with pytest.raises(ValidationError, match="至少7个工作日，现为5个工作日"):
        publicity_services.publicity_record(actor=users["collector"], village=regions["v1"], year=policy.year,
                                  posted_from=monday, posted_until=monday + timedelta(days=4), photo=photo())
    policy.posting_working_days = None
    policy.save()
    p = publicity_services.publicity_record(actor=users["collector"], village=regions["v1"], year=policy.year,
                                  posted_from=monday, posted_until=monday, photo=photo())
    assert p.posted_until == monday


def test_no_double_limit_where_the_plan_sets_none(users, regions, policy):
    """Qinshui's, Gaoyang's and Jiangnan's plans set no 双限报解: old cash is listed, never flagged,
    and the pages say the policy sets no limit instead of showing 5 days and 10,000 yuan."""
    policy.remit_days, policy.remit_amount = None, None
    policy.save()
    hh, m = household_with(regions["v1"], 2)
    r = pay(users["collector"], hh, m)
    Receipt.objects.filter(pk=r.pk).update(issued_on=timezone.localdate() - timedelta(days=40))
    rows = cash_selectors.double_limit_for_queryset(Receipt.objects.all())
    assert len(rows) == 1 and rows[0]["amount"] == Decimal("800.00") and not rows[0]["breached"]
    limits = cash_selectors.remit_limits(county=regions["county"], year=policy.year)
    assert limits["set"] is False
    assert cash_selectors.remit_limits(county=regions["county"], year=policy.year + 5)["set"] is False  # no policy
    browser = Client()
    browser.force_login(users["clerk"])
    html = browser.get(reverse("collections:remittance_list")).content.decode()
    assert "未设置双限报解" in html and "10000元" not in html
