"""The tax office's answer to a declaration (回执): which lines were imported and which failed."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from core import audit, idcard
from core.access import require
from core.intake import Columns, data_rows, find_header, read_rows
from core.models import User
from core.money import ZERO
from core.scoping import ensure_visible
from core.spreadsheets import UploadError
from enrollment.choices import EnrollmentStatus

from .. import lifecycle
from ..choices import LineResult, ReceiptStatus
from ..models import Declaration, ReceiptLine

ERR_ANSWER_COLUMNS = "回执文件缺少“公民身份号码”或“结果”列。"
ERR_ANSWER_UNKNOWN = "第{row}行：身份证号码 {id} 不在本申报表中。"
ERR_ANSWER_RESULT = "第{row}行：结果“{value}”无法识别（应为“成功”或“失败”）。"
ERR_ANSWER_REASON = "第{row}行：失败行必须写明失败原因。"
ERR_ANSWER_NONE = "回执文件中没有可导入的行。"


@dataclass
class AnswerResult:
    accepted: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)


ANSWER_ID_HEADERS = ("公民身份号码", "身份证号码", "身份证号", "证件号码")
ANSWER_RESULT_HEADERS = ("结果", "导入结果", "处理结果", "状态")
ANSWER_REASON_HEADERS = ("失败原因", "原因", "错误信息", "备注")
RESULT_OK = {"成功", "导入成功", "正常", "ok", "success", "是"}
RESULT_FAIL = {"失败", "导入失败", "错误", "fail", "failed", "否"}
COLUMNS = Columns(
    aliases={"id_number": ANSWER_ID_HEADERS, "result": ANSWER_RESULT_HEADERS, "reason": ANSWER_REASON_HEADERS},
    required=("id_number", "result"),
)


@transaction.atomic
def declaration_answer_import(*, actor: User, declaration: Declaration, fileobj) -> AnswerResult:
    """Import the tax office's answer to a declaration: which rows were imported and which failed
    (with reasons). Failed rows go back to the clerk (enrollment back to paid) to fix and re-declare.
    Any error in the file rolls the whole import back."""
    require(actor, "declaration.manage")
    ensure_visible(actor, declaration)
    try:
        rows = read_rows(fileobj, name=getattr(fileobj, "name", ""), keep_lines=True)
    except UploadError as exc:
        raise ValidationError(exc.message) from None
    numbered = iter(list(enumerate(rows, start=1)))  # row numbers as the sheet shows them
    header = find_header(numbered, COLUMNS)
    if header is None:
        raise ValidationError(ERR_ANSWER_COLUMNS)
    c_id, c_res, c_reason = header.columns["id_number"], header.columns["result"], header.columns.get("reason")
    # The lifecycle's order: the persons' valid receipts, their enrollments, then the lines.
    enrollment_ids = declaration.lines.values("enrollment_id")
    receipt_ids = ReceiptLine.objects.filter(enrollment__in=enrollment_ids, receipt__status=ReceiptStatus.VALID).values("receipt_id")
    held = {e.pk: e for e in lifecycle.lock(receipts=receipt_ids, enrollments=enrollment_ids).enrollments}
    lines = {}
    for ln in declaration.lines.select_for_update(of=("self",)).order_by("pk"):
        ln.enrollment = held[ln.enrollment_id]
        lines[ln.id_number] = ln
    result = AnswerResult()
    decisions = []
    for n, row in data_rows(numbered, header, COLUMNS):
        cells = list(row) + [None] * 3
        raw_id = cells[c_id]
        try:
            number = idcard.normalize(raw_id)
        except idcard.IdNumberError as exc:
            result.errors.append(f"第{n}行：{exc.message}")
            continue
        line = lines.get(number)
        if line is None:
            result.errors.append(ERR_ANSWER_UNKNOWN.format(row=n, id=idcard.mask(number)))
            continue
        value = str(cells[c_res] or "").strip()
        reason = str(cells[c_reason] or "").strip() if c_reason is not None else ""
        if value.lower() in RESULT_OK:
            refusal = lifecycle.answer_refusal(line, line.enrollment, row=n)
            if refusal:
                result.errors.append(refusal)
                continue
            decisions.append((line, LineResult.ACCEPTED, ""))
        elif value.lower() in RESULT_FAIL:
            if not reason:
                result.errors.append(ERR_ANSWER_REASON.format(row=n))
                continue
            decisions.append((line, LineResult.FAILED, reason))
        else:
            result.errors.append(ERR_ANSWER_RESULT.format(row=n, value=value))
    if result.errors:
        raise ValidationError(result.errors)
    if not decisions:
        raise ValidationError(ERR_ANSWER_NONE)
    for line, outcome, reason in decisions:
        first_time = line.result == LineResult.PENDING
        line.result, line.fail_reason = outcome, reason[:200]
        line.save(update_fields=["result", "fail_reason"])
        e = line.enrollment
        if outcome == LineResult.ACCEPTED and e.status == EnrollmentStatus.PAID:
            # A failed answer corrected to accepted: declared again, not left to be declared twice.
            e.status = EnrollmentStatus.DECLARED
            e.declared_on = timezone.localdate(declaration.created_at)
            e.save()
        if outcome == LineResult.FAILED and first_time and e.status == EnrollmentStatus.DECLARED:
            has_receipt = e.receipt_lines.filter(receipt__status=ReceiptStatus.VALID).exists()
            e.status = EnrollmentStatus.PAID if has_receipt else EnrollmentStatus.PENDING
            e.declared_on = None
            e.save()
    agg = declaration.lines.values("result").annotate(n=Count("id"), amount=Sum("amount"))
    by = {a["result"]: a for a in agg}
    declaration.accepted_count = by.get(LineResult.ACCEPTED, {}).get("n") or 0
    declaration.failed_count = by.get(LineResult.FAILED, {}).get("n") or 0
    declaration.confirmed_total = by.get(LineResult.ACCEPTED, {}).get("amount") or ZERO
    declaration.status = "answered"
    declaration.answered_at = timezone.now()
    declaration.save()
    result.accepted = sum(1 for _, o, _ in decisions if o == LineResult.ACCEPTED)
    result.failed = sum(1 for _, o, _ in decisions if o == LineResult.FAILED)
    audit.record(actor=actor, action=audit.ACTION_IMPORT, obj=declaration, detail={
        "kind": "declaration_answer", "file": getattr(fileobj, "name", ""), "accepted": result.accepted, "failed": result.failed,
    })
    return result
