"""Services that write the cash trail. Keyword-only, atomic, scope- and capability-checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core import audit, idcard
from core.choices import RegionLevel
from core.intake import read_rows
from core.models import Region, User
from core.scoping import ERR_OUT_OF_SCOPE, ensure_visible, region_in_scope
from core.spreadsheets import UploadError
from enrollment.choices import PAID_STATUSES, EnrollmentStatus
from enrollment.models import Enrollment, Household, Person
from enrollment.owed import covers_by, identities_of, owed_by_persons
from subsidies.book import OwedBook
from subsidies.calc import to_money
from subsidies.selectors import PolicyMissing, posting_working_days

from . import lifecycle, rules
from .choices import (
    CASH_CHANNELS,
    LEAVING_REASONS,
    RECEIPT_CHANNELS,
    LineResult,
    ReceiptStatus,
    RefundReason,
    RefundStatus,
)
from .lifecycle import (  # the lifecycle's refusals, re-exported where callers and tests know them
    ERR_ALREADY_VOIDED as ERR_ALREADY_VOIDED,
)
from .lifecycle import (
    ERR_ANSWER_VOIDED as ERR_ANSWER_VOIDED,
)
from .lifecycle import ERR_REMIT_RECEIPT
from .lifecycle import (
    ERR_TAX_IMPORT_RUNNING as ERR_TAX_IMPORT_RUNNING,
)
from .lifecycle import (
    ERR_VOID_ACCEPTED as ERR_VOID_ACCEPTED,
)
from .lifecycle import (
    ERR_VOID_CONFIRMED as ERR_VOID_CONFIRMED,
)
from .lifecycle import (
    ERR_VOID_DECLARED as ERR_VOID_DECLARED,
)
from .lifecycle import (
    ERR_VOID_DECLARED_ELSEWHERE as ERR_VOID_DECLARED_ELSEWHERE,
)
from .lifecycle import (
    ERR_VOID_REMITTED as ERR_VOID_REMITTED,
)
from .models import (
    DailyLedger,
    Declaration,
    DeclarationLine,
    DoubleLimitBreach,
    PublicityPosting,
    Receipt,
    ReceiptCounter,
    ReceiptLine,
    Refund,
    Remittance,
)

ZERO = Decimal("0.00")

ERR_NO_CAPABILITY = "您的角色不能进行此操作。"
ERR_NO_PERSONS = "请至少选择一名缴费人员。"
ERR_NOT_IN_HOUSEHOLD = "{name}不是该户成员。"
ERR_ALREADY_PAID = "{name}（{id}）{year}年度已缴费{where}，不能重复收款。"
ERR_NOT_PAYABLE = "{name}（{id}）{year}年度状态为“{status}”，不能收款。"
ERR_DECEASED = "{name}（{id}）已死亡，不能收款。"
ERR_NOTHING_OWED = "{name}（{id}）个人应缴为0元（全额资助），无需收款，申报时按零申报处理。"
ERR_CHANNEL = "请选择有效的缴费方式。"
ERR_POLICY = "无法计算应缴金额：{detail}"
ERR_CONFLICT = "有人正在同时为同一人员收款，请刷新后重试。"
ERR_VOID_REASON = "作废必须填写原因。"
ERR_LEDGER_FUTURE = "不能确认今天以后的台账。"
ERR_LEDGER_CONFLICT = "该日台账正在被同时确认，请刷新页面后重试。"
ERR_REMIT_NO_RECEIPTS = "请选择本次解缴所含的收款凭证。"
ERR_REMIT_AMOUNT = "解缴金额必须大于0。"
ERR_REMIT_SLIP = "请填写银行回单号。"
ERR_REMIT_COLLECTOR = "收款人不在您的管辖范围内。"
ERR_DECLARE_REGION = "只能按村/社区或乡镇/街道申报。"
ERR_NOTHING_TO_DECLARE = "{unit}{year}年度没有待申报的人员（已收款或零申报）。"
ERR_ANSWER_COLUMNS = "回执文件缺少“公民身份号码”或“结果”列。"
ERR_ANSWER_UNKNOWN = "第{row}行：身份证号码 {id} 不在本申报表中。"
ERR_ANSWER_RESULT = "第{row}行：结果“{value}”无法识别（应为“成功”或“失败”）。"
ERR_ANSWER_REASON = "第{row}行：失败行必须写明失败原因。"
ERR_ANSWER_NONE = "回执文件中没有可导入的行。"
ERR_POSTING_TOO_SHORT = "公示期至少{days}个工作日，现为{actual}个工作日。"
ERR_POSTING_ORDER = "结束日期不能早于开始日期。"
ERR_FILE_TYPE = "只接受 JPG、PNG 图片{pdf}。"
ERR_FILE_SIZE = "文件超过 {mb} MB。"
ERR_REFUND_NOT_PAID = "{name}{year}年度没有已缴费记录，不能退费。"
ERR_REFUND_COVER_STARTED = "{name}{year}年度待遇已于{start:%Y年%-m月%-d日}开始享受，不能退费。"
ERR_REFUND_AMOUNT = "退费金额应在0.01至{max}元之间。"
ERR_REFUND_EXISTS = "该人员已有同一原因的退费申请。"
ERR_REFUND_STATE = "当前状态“{status}”下不能进行此操作。"
ERR_REFUND_EVIDENCE = "请上传证明材料。"
ERR_REFUND_DECISION_NOTE = "不予退费时必须写明理由。"
ERR_REFUND_CANDIDATE_APPROVE = "疑似重复缴费须由经办人上传证明材料提出申请后才能同意退费；核实不属实的，可直接不予退费并写明理由。"
ERR_REFUND_VOUCHER = "请填写退付凭证号。"

MSG_LEDGER_RECONFIRMED = (
    "本日台账此前已于 {at} 确认（{n} 张凭证 {total} 元，实点现金 {counted} 元），现已重新确认；"
    "此前的确认已保留，显示在台账页“此前确认”中。"
)

WARN_REMIT_OVER = "解缴金额比所含凭证多 {diff} 元（多解）。"
WARN_REMIT_UNDER = "解缴金额比所含凭证少 {diff} 元（少解）。"

MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
PDF_MAGIC = b"%PDF-"


def _require(actor, capability):
    if actor is None or not actor.is_authenticated or not actor.can(capability):
        raise PermissionDenied(ERR_NO_CAPABILITY)


def _require_region(actor, region):
    if not region_in_scope(actor, region):
        raise PermissionDenied(ERR_OUT_OF_SCOPE)


def _benefit_start(enrollment: Enrollment) -> date:
    return enrollment.benefit_start or date(enrollment.year, 1, 1)


def _receipt_number(county: Region, year: int) -> str:
    """Next number for (county, year). The counter row is locked until the issuing transaction ends."""
    ReceiptCounter.objects.get_or_create(county=county, year=year)
    counter = ReceiptCounter.objects.select_for_update().get(county=county, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{county.code}-{year}-{counter.last_number:07d}"


# --- Receipts ---------------------------------------------------------------------------------


def receipt_issue(
    *,
    actor: User,
    household: Household,
    persons,
    channel: str,
    year: int,
    tiers: dict | None = None,
    payer_name: str = "",
) -> Receipt:
    """Take payment for one or more members of a household and issue one numbered receipt.

    Amounts come from the policy (``enrollment.owed``), never from the form. Person and enrollment rows
    are locked, so two clerks paying for the same person at once: one succeeds, the other is told.
    """
    _require(actor, "payment.take")
    ensure_visible(actor, household)
    if channel not in {c for c, _ in RECEIPT_CHANNELS}:
        raise ValidationError({"channel": ERR_CHANNEL})
    person_ids = sorted({p.pk if isinstance(p, Person) else int(p) for p in persons})
    if not person_ids:
        raise ValidationError({"persons": ERR_NO_PERSONS})
    tiers = tiers or {}
    try:
        with transaction.atomic():
            return _issue_locked(actor, household, person_ids, channel, year, tiers, payer_name)
    except IntegrityError:
        # Two first payments for a person with no enrollment row raced on (person, year).
        raise ValidationError(ERR_CONFLICT) from None


def _issue_locked(actor, household, person_ids, channel, year, tiers, payer_name):
    village = Region.objects.select_related("parent__parent").get(pk=household.village_id)
    county = village.county
    locked = lifecycle.lock(county_id=county.pk, persons=person_ids).persons
    by_pk = {p.pk: p for p in locked}
    errors = []
    for pk in person_ids:
        p = by_pk.get(pk)
        if p is None or p.household_id != household.pk:
            errors.append(ERR_NOT_IN_HOUSEHOLD.format(name=p.name if p else pk))
    if errors:
        raise ValidationError(errors)
    existing = Enrollment.objects.filter(person_id__in=person_ids, year=year).values_list("pk", flat=True)
    enrollments = {e.person_id: e for e in lifecycle.lock(enrollments=list(existing)).enrollments}
    book = OwedBook(county)
    payable, lines, errors = [], [], []
    for person in locked:
        masked = idcard.mask(person.id_number)
        enrollment = enrollments.get(person.pk)
        if person.is_deceased:
            errors.append(ERR_DECEASED.format(name=person.name, id=masked))
            continue
        if enrollment is not None and enrollment.status in PAID_STATUSES:
            line = (
                ReceiptLine.objects.filter(enrollment=enrollment, receipt__status=ReceiptStatus.VALID)
                .select_related("receipt")
                .first()
            )
            where = f"（凭证号 {line.receipt.number}）" if line else f"（{enrollment.get_status_display()}）"
            errors.append(ERR_ALREADY_PAID.format(name=person.name, id=masked, year=year, where=where))
            continue
        if enrollment is not None and enrollment.status != EnrollmentStatus.PENDING:
            errors.append(
                ERR_NOT_PAYABLE.format(name=person.name, id=masked, year=year, status=enrollment.get_status_display())
            )
            continue
        payable.append((person, enrollment, int(tiers.get(person.pk) or (enrollment.tier if enrollment else 1))))
    try:
        owed_of = owed_by_persons(
            persons=[p for p, _, _ in payable], year=year, tiers={p.pk: t for p, _, t in payable},
            paid_on=timezone.localdate(), book=book,
        )
    except PolicyMissing as exc:
        raise ValidationError(ERR_POLICY.format(detail=exc)) from None
    for person, enrollment, tier in payable:
        owed = owed_of[person.pk]
        if owed.self_pay <= 0:
            errors.append(ERR_NOTHING_OWED.format(name=person.name, id=idcard.mask(person.id_number)))
            continue
        lines.append((person, enrollment, tier, owed))
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    today = timezone.localdate(now)
    receipt = Receipt(
        number=_receipt_number(county, year),
        county=county,
        village=village,
        household=household,
        year=year,
        collector=actor,
        payer_name=payer_name or locked[0].name,
        channel=channel,
        total=sum((o.self_pay for *_, o in lines), ZERO),
        issued_at=now,
        issued_on=today,
    )
    receipt.full_clean()
    receipt.save()
    # When cover starts (window, extension, waiting period after a break, newborn…): refunds
    # are refused from that day on.
    covers = covers_by(persons=[person for person, *_ in lines], year=year, paid_on=today, book=book)
    for person, enrollment, tier, owed in lines:
        if enrollment is None:
            enrollment = Enrollment(person=person, year=year, village=village)
        enrollment.tier = tier
        enrollment.status = EnrollmentStatus.PAID
        enrollment.standard = owed.standard
        enrollment.subsidy = owed.subsidy
        enrollment.amount_due = owed.self_pay
        enrollment.subsidy_category_code = owed.category.code if owed.category else ""
        enrollment.paid_on = today
        cover = covers[person.pk]
        enrollment.benefit_start = cover.start if cover else None
        enrollment.full_clean(validate_unique=False)
        enrollment.save()
        ReceiptLine.objects.create(
            receipt=receipt,
            person=person,
            enrollment=enrollment,
            name=person.name,
            id_number=person.id_number,
            tier=tier,
            standard=owed.standard,
            subsidy=owed.subsidy,
            amount=owed.self_pay,
            subsidy_category_code=enrollment.subsidy_category_code,
        )
    return receipt


def receipt_void_refusal(*, receipt: Receipt) -> str | None:
    """The check ``receipt_void`` makes, for pages to explain it before the clerk tries. Reads only."""
    if receipt.is_voided:
        return None
    ids = receipt.lines.values("enrollment_id")
    enrollments = list(Enrollment.objects.filter(pk__in=ids).select_related("person").order_by("pk"))
    return lifecycle.void_refusal(receipt, lifecycle.receipt_state(receipt, enrollments))


@transaction.atomic
def receipt_void(*, actor: User, receipt: Receipt, reason: str) -> Receipt:
    """Void a receipt (never delete or edit it); its persons' enrollments reopen to pending.
    Only a valid receipt whose cash was not remitted and whose persons the tax office has not
    seen (or answered as failed) — the lifecycle's rule, checked on the rows under lock."""
    _require(actor, "receipt.void")
    ensure_visible(actor, receipt)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ERR_VOID_REASON})
    receipt, enrollments, state = lifecycle.lock_receipt(receipt)
    refusal = lifecycle.void_refusal(receipt, state)
    if refusal:
        raise ValidationError(refusal)
    for e in enrollments:
        e.status = EnrollmentStatus.PENDING
        e.paid_on = e.benefit_start = None
        e.declared_on = None
        e.standard = e.subsidy = e.amount_due = None
        e.subsidy_category_code = ""
        e.save()
    receipt.status = ReceiptStatus.VOIDED
    receipt.voided_at = timezone.now()
    receipt.voided_by = actor
    receipt.void_reason = reason[:200]
    receipt.save()
    return receipt


# --- Ledger ---------------------------------------------------------------------------------


@transaction.atomic
def ledger_confirm(*, actor: User, day: date, cash_counted, note: str = "") -> DailyLedger:
    """The collector confirms the day's ledger: the figures are kept as they stood, with the
    cash counted, so any later change or mismatch shows up. Confirming a day again replaces the
    current figures but keeps the earlier confirmation in the ledger's history (``replaced`` on
    the returned ledger holds what was replaced, None for a first confirmation)."""
    _require(actor, "payment.take")
    if day > timezone.localdate():
        raise ValidationError({"day": ERR_LEDGER_FUTURE})
    from .selectors import ledger_day, ledger_snapshot

    summary = ledger_day(collector=actor, day=day)
    earlier = DailyLedger.objects.select_for_update().filter(collector=actor, day=day).first()
    ledger = earlier or DailyLedger(collector=actor, day=day)
    replaced = ledger_snapshot(earlier) if earlier else None
    ledger.region = actor.region
    ledger.receipt_count = summary["count"]
    ledger.total = summary["total"]
    ledger.by_channel = {k: str(v) for k, v in summary["by_channel"].items()}
    ledger.cash_on_hand = summary["cash_on_hand"]
    ledger.cash_counted = to_money(cash_counted)
    ledger.note = (note or "")[:200]
    ledger.confirmed_at = timezone.now()
    ledger.full_clean(exclude=["by_channel"], validate_constraints=False)  # {} on a day without receipts
    try:
        with transaction.atomic():
            ledger.save()
    except IntegrityError:  # the same day's first confirmation, twice at once
        raise ValidationError(ERR_LEDGER_CONFLICT) from None
    ledger.replaced = replaced
    return ledger


def ledger_reconfirmed_message(ledger: DailyLedger) -> str:
    """What the collector is told after confirming a day that was confirmed before."""
    then = ledger.replaced
    return MSG_LEDGER_RECONFIRMED.format(
        at=timezone.localtime(then["confirmed_at"]).strftime("%H:%M"),
        n=then["receipt_count"], total=then["total"], counted=then["cash_counted"],
    )


# --- Remittance ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    obj: object
    warnings: list = field(default_factory=list)


@transaction.atomic
def remittance_record(
    *, actor: User, collector: User, deposited_on: date, amount, slip_number: str, receipts, note: str = ""
) -> Outcome:
    """Record cash deposited to the township/tax account and the receipts it covers.
    Over- and under-remittance are allowed but flagged (returned as warnings, shown everywhere)."""
    _require(actor, "remittance.record")
    if collector.region_id is None or not region_in_scope(actor, collector.region):
        raise PermissionDenied(ERR_REMIT_COLLECTOR)
    amount = to_money(amount)
    if amount <= 0:
        raise ValidationError({"amount": ERR_REMIT_AMOUNT})
    if not (slip_number or "").strip():
        raise ValidationError({"slip_number": ERR_REMIT_SLIP})
    ids = sorted({r.pk if isinstance(r, Receipt) else int(r) for r in receipts})
    if not ids:
        raise ValidationError({"receipts": ERR_REMIT_NO_RECEIPTS})
    visible = set(Receipt.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    locked = lifecycle.lock(receipts=ids).receipts
    for pk in ids:
        r = locked.get(pk)
        if (
            r is None
            or pk not in visible
            or r.collector_id != collector.pk
            or r.channel not in CASH_CHANNELS
            or not lifecycle.remit_allowed(r)
        ):
            raise ValidationError({"receipts": ERR_REMIT_RECEIPT.format(number=r.number if r else pk)})
    covered = sum((locked[pk].total for pk in ids), ZERO)
    remittance = Remittance(
        collector=collector,
        region=collector.region,
        deposited_on=deposited_on,
        amount=amount,
        slip_number=slip_number.strip(),
        covered=covered,
        note=note[:200],
        created_by=actor,
    )
    remittance.full_clean()
    remittance.save()
    Receipt.objects.filter(pk__in=ids).update(remittance=remittance)
    return Outcome(remittance, remittance_warnings(remittance.amount, covered))


def remittance_warnings(amount, covered) -> list[str]:
    diff = to_money(rules.remittance_difference(amount, covered))
    if diff > 0:
        return [WARN_REMIT_OVER.format(diff=diff)]
    if diff < 0:
        return [WARN_REMIT_UNDER.format(diff=-diff)]
    return []


# --- Double limit ---------------------------------------------------------------------------------


@transaction.atomic
def double_limit_record(*, now=None) -> dict:
    """Check every collector in every county against the double limit and keep one open breach
    row per collector up to date. Idempotent: running it twice changes nothing more."""
    from .selectors import double_limit_for_queryset

    now = now or timezone.now()
    today = timezone.localdate(now)
    seen = set()
    counts = {"checked": 0, "breaches": 0, "resolved": 0}
    for county in Region.objects.filter(level=RegionLevel.COUNTY):
        rows = double_limit_for_queryset(Receipt.objects.filter(county=county), on=today)
        for row in rows:
            counts["checked"] += 1
            if not row["breached"]:
                continue
            seen.add(row["collector_id"])
            counts["breaches"] += 1
            figures = {
                "region_id": row["region_id"],
                "last_seen": now,
                **{k: row[k] for k in ("amount", "oldest", "days_overdue", "over_amount", "over_days")},
            }
            DoubleLimitBreach.objects.update_or_create(
                collector_id=row["collector_id"],
                resolved_at__isnull=True,
                defaults=figures,
                create_defaults={**figures, "first_seen": now},
            )
    counts["resolved"] = (
        DoubleLimitBreach.objects.filter(resolved_at__isnull=True).exclude(collector_id__in=seen).update(resolved_at=now)
    )
    return counts


# --- Declarations ---------------------------------------------------------------------------------


@transaction.atomic
def declaration_create(*, actor: User, region: Region, year: int) -> Declaration:
    """Declare a village's (or a whole township's) paid and fully subsidised persons to the tax office.
    Paid enrollments become declared; fully subsidised persons get a zero-amount row (零申报)."""
    _require(actor, "declaration.manage")
    _require_region(actor, region)
    if region.level == RegionLevel.VILLAGE:
        township, villages = region.parent, [region]
    elif region.level == RegionLevel.TOWNSHIP:
        township, villages = region, list(region.villages())
    else:
        raise ValidationError(ERR_DECLARE_REGION)
    today = timezone.localdate()
    # The lifecycle's order: the paid persons' valid receipts, then the persons' enrollments, each
    # by primary key; the status read again under the lock (a receipt voided meanwhile is skipped).
    paid_q = Q(village__in=villages, year=year, status=EnrollmentStatus.PAID)
    book = OwedBook(township.county)
    zero_persons = _zero_amount_candidates(villages, year, book)
    held = lifecycle.lock(
        receipts=ReceiptLine.objects.filter(
            enrollment__in=Enrollment.objects.filter(paid_q).values("pk"), receipt__status=ReceiptStatus.VALID
        ).values("receipt_id"),
        enrollments=Enrollment.objects.filter(paid_q | Q(person__in=zero_persons.values("pk"), year=year)).values("pk"),
    )
    paid = sorted(
        (e for e in held.enrollments if e.status == EnrollmentStatus.PAID), key=lambda e: (e.village_id, e.person_id)
    )
    zero = _zero_amount_enrollments(zero_persons, year, {e.person_id: e for e in held.enrollments}, book)
    if not paid and not zero:
        raise ValidationError(ERR_NOTHING_TO_DECLARE.format(unit=region.name, year=year))
    declaration = Declaration.objects.create(
        township=township,
        village=region if region.level == RegionLevel.VILLAGE else None,
        year=year,
        created_by=actor,
    )
    total = ZERO
    rows = paid + zero
    for e in rows:
        e.status = EnrollmentStatus.DECLARED
        e.declared_on = today
        e.save()
        amount = e.amount_due or ZERO
        total += amount
        DeclarationLine.objects.create(
            declaration=declaration,
            enrollment=e,
            village_id=e.village_id,
            name=e.person.name,
            id_number=e.person.id_number,
            tier=e.tier,
            amount=amount,
            subsidy_category_code=e.subsidy_category_code,
        )
    declaration.person_count = len(rows)
    declaration.zero_count = sum(1 for e in rows if not e.amount_due)
    declaration.total = total
    declaration.save()
    return declaration


def _zero_amount_candidates(villages, year, book: OwedBook):
    """Persons who may owe nothing after subsidy: those holding an identity that counts for the
    year (this year's, or last year's certified after last year's window)."""
    policy = book.policy(year)
    if policy is None:
        return Person.objects.none()
    living = Person.objects.filter(household__village__in=villages, is_deceased=False)
    holding = identities_of(persons=living.values("pk"), policy=policy).values("person_id")
    return living.filter(pk__in=holding).select_related("household").order_by("household__village_id", "pk")


def _zero_amount_enrollments(candidates, year, existing: dict, book: OwedBook) -> list[Enrollment]:
    """Persons owing nothing after subsidy who are not yet declared: their enrollment set up for
    零申报. ``existing`` holds their enrollments of the year, locked, by person id. What each owes
    is asked once for all of them (a township's candidates are thousands)."""
    pending = [
        (person, existing.get(person.pk))
        for person in candidates
        if existing.get(person.pk) is None or existing[person.pk].status == EnrollmentStatus.PENDING
    ]
    tiers = {person.pk: e.tier for person, e in pending if e is not None}
    try:
        owed_of = owed_by_persons(persons=[p for p, _ in pending], year=year, tiers=tiers, book=book)
    except PolicyMissing:
        return []
    out = []
    for person, e in pending:
        owed = owed_of[person.pk]
        if owed.self_pay > 0:
            continue
        if e is None:
            e = Enrollment(person=person, year=year, village_id=person.household.village_id, tier=1)
        e.person = person
        e.standard, e.subsidy, e.amount_due = owed.standard, owed.subsidy, ZERO
        e.subsidy_category_code = owed.category.code if owed.category else ""
        out.append(e)
    return out


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


def _find_col(header, names):
    for i, h in enumerate(header):
        if str(h or "").strip() in names:
            return i
    return None


@transaction.atomic
def declaration_answer_import(*, actor: User, declaration: Declaration, fileobj) -> AnswerResult:
    """Import the tax office's answer to a declaration: which rows were imported and which failed
    (with reasons). Failed rows go back to the clerk (enrollment back to paid) to fix and re-declare.
    Any error in the file rolls the whole import back."""
    _require(actor, "declaration.manage")
    ensure_visible(actor, declaration)
    try:
        rows = read_rows(fileobj, name=getattr(fileobj, "name", ""))
    except UploadError as exc:
        raise ValidationError(exc.message) from None
    header_at = next(
        (i for i, r in enumerate(rows[:10]) if _find_col(r, ANSWER_ID_HEADERS) is not None), None
    )
    if header_at is None or _find_col(rows[header_at], ANSWER_RESULT_HEADERS) is None:
        raise ValidationError(ERR_ANSWER_COLUMNS)
    header = rows[header_at]
    c_id, c_res = _find_col(header, ANSWER_ID_HEADERS), _find_col(header, ANSWER_RESULT_HEADERS)
    c_reason = _find_col(header, ANSWER_REASON_HEADERS)
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
    for n, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = list(row) + [None] * 3
        raw_id = cells[c_id]
        if raw_id in (None, "") and all(c in (None, "") for c in row):
            continue
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


# --- Publicity ---------------------------------------------------------------------------------


def check_file(upload, *, allow_pdf: bool = False):
    """Photos and evidence: by content (JPG/PNG, optionally PDF) and size, never by extension."""
    if upload is None:
        return
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError(ERR_FILE_SIZE.format(mb=MAX_PHOTO_BYTES // (1024 * 1024)))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    ok = head.startswith(PHOTO_MAGIC) or (allow_pdf and head.startswith(PDF_MAGIC))
    if not ok:
        raise ValidationError(ERR_FILE_TYPE.format(pdf="或 PDF 文件" if allow_pdf else ""))


@transaction.atomic
def publicity_record(
    *, actor: User, village: Region, year: int, posted_from: date, posted_until: date, photo, note: str = ""
) -> PublicityPosting:
    """Record that the paid list was posted, with a photo of the posting: for at least the
    policy's working days where the county's plan sets a minimum."""
    _require(actor, "publicity.manage")
    _require_region(actor, village)
    if posted_until < posted_from:
        raise ValidationError({"posted_until": ERR_POSTING_ORDER})
    days = rules.working_days(posted_from, posted_until)
    minimum = posting_working_days(village.county, year)
    if minimum and days < minimum:
        raise ValidationError({"posted_until": ERR_POSTING_TOO_SHORT.format(days=minimum, actual=days)})
    check_file(photo)
    from .selectors import publicity_rows

    posting = PublicityPosting(
        village=village,
        year=year,
        posted_from=posted_from,
        posted_until=posted_until,
        photo=photo,
        note=note[:200],
        person_count=len(publicity_rows(village=village, year=year)),
        created_by=actor,
    )
    posting.full_clean()
    posting.save()
    return posting


# --- Refunds ---------------------------------------------------------------------------------


def _refund_guard(enrollment: Enrollment, today: date):
    start = _benefit_start(enrollment)
    if today >= start:
        raise ValidationError(
            ERR_REFUND_COVER_STARTED.format(name=enrollment.person.name, year=enrollment.year, start=start)
        )


@transaction.atomic
def refund_apply(
    *, actor: User, enrollment: Enrollment, reason: str, amount=None, evidence=None, note: str = ""
) -> Refund:
    """Apply for a refund with evidence. Refused once cover has started, with the reason."""
    _require(actor, "refund.apply")
    ensure_visible(actor, enrollment)
    (enrollment,) = lifecycle.lock(enrollments=[enrollment.pk]).enrollments
    if enrollment.status not in PAID_STATUSES:
        raise ValidationError(ERR_REFUND_NOT_PAID.format(name=enrollment.person.name, year=enrollment.year))
    _refund_guard(enrollment, timezone.localdate())
    paid = enrollment.amount_due or ZERO
    amount = to_money(amount) if amount not in (None, "") else paid
    if amount <= 0 or amount > paid:
        raise ValidationError({"amount": ERR_REFUND_AMOUNT.format(max=paid)})
    if not evidence:
        raise ValidationError({"evidence": ERR_REFUND_EVIDENCE})
    check_file(evidence, allow_pdf=True)
    refund = Refund.objects.filter(
        enrollment=enrollment, reason=reason, status=RefundStatus.CANDIDATE
    ).first() or Refund(enrollment=enrollment, village=enrollment.village, reason=reason)
    if refund.pk is None and Refund.objects.filter(enrollment=enrollment, reason=reason).exclude(
        status=RefundStatus.REJECTED
    ).exists():
        raise ValidationError(ERR_REFUND_EXISTS)
    refund.amount = amount
    refund.evidence = evidence
    refund.note = note[:300]
    refund.status = RefundStatus.APPLIED
    refund.applied_by = actor
    refund.applied_at = timezone.now()
    refund.full_clean()
    refund.save()
    return refund


@transaction.atomic
def refund_flag_duplicate(*, enrollment: Enrollment, amount, source: str, note: str = "") -> Refund:
    """A duplicate payment found anywhere (receipts, tax files) becomes a refund candidate.
    Idempotent: the same enrollment is flagged once (a refused one is not raised again)."""
    refund_flag_duplicates([(enrollment.pk, amount, source, note)])
    return Refund.objects.filter(enrollment=enrollment, reason=RefundReason.DUPLICATE).order_by("-id").first()


@transaction.atomic
def refund_flag_duplicates(candidates) -> int:
    """Many duplicate payments at once (a tax filing of a county): ``candidates`` are
    (enrollment id, amount, source, note); the first of each enrollment counts, an enrollment
    flagged before is skipped. A few queries per 5,000 enrollments, not several per candidate.
    Returns how many refund candidates were created."""
    first: dict[int, tuple] = {}
    for enrollment_id, amount, source, note in candidates:
        first.setdefault(enrollment_id, (amount, source, note))
    ids = list(first)
    flagged, villages = set(), {}
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        flagged.update(
            Refund.objects.filter(enrollment_id__in=part, reason=RefundReason.DUPLICATE).values_list("enrollment_id", flat=True)
        )
        villages.update(Enrollment.objects.filter(pk__in=part).values_list("id", "village_id"))
    new = [
        Refund(
            enrollment_id=eid, village_id=villages[eid], reason=RefundReason.DUPLICATE, amount=max(to_money(amount), ZERO),
            status=RefundStatus.CANDIDATE, source=source[:100], note=note[:300],
        )
        for eid, (amount, source, note) in first.items()
        if eid not in flagged and eid in villages
    ]
    if new:
        bulk_create_with_history(new, Refund, batch_size=1000)
    return len(new)


def _decide(actor, refund, capability, allowed):
    _require(actor, capability)
    ensure_visible(actor, refund)
    refund = Refund.objects.select_for_update().select_related("enrollment__person").get(pk=refund.pk)
    if refund.status not in allowed:
        raise ValidationError(ERR_REFUND_STATE.format(status=refund.get_status_display()))
    return refund


@transaction.atomic
def refund_decide(*, actor: User, refund: Refund, approve: bool, note: str = "") -> Refund:
    """The bureau approves or refuses an application. A candidate (a duplicate payment found by
    an import) may be refused directly, with a reason; approving one needs an application first.
    Approval is refused once cover has started."""
    refund = _decide(actor, refund, "refund.approve", (RefundStatus.APPLIED, RefundStatus.CANDIDATE))
    if approve:
        if refund.status == RefundStatus.CANDIDATE:
            raise ValidationError(ERR_REFUND_CANDIDATE_APPROVE)
        _refund_guard(refund.enrollment, timezone.localdate())
        refund.status = RefundStatus.APPROVED
    else:
        if not (note or "").strip():
            raise ValidationError({"note": ERR_REFUND_DECISION_NOTE})
        refund.status = RefundStatus.REJECTED
    refund.decided_by = actor
    refund.decided_at = timezone.now()
    refund.decision_note = (note or "").strip()[:300]
    refund.save()
    return refund


@transaction.atomic
def refund_mark_paid(*, actor: User, refund: Refund, paid_on: date, voucher: str) -> Refund:
    """The tax office marks an approved refund as paid. Death, employee insurance and enrolment
    elsewhere take the person out (enrollment refunded); a duplicate payment or a subsidy
    difference only returns the extra money, and the person stays enrolled as they were."""
    refund = _decide(actor, refund, "refund.pay", (RefundStatus.APPROVED,))
    if not (voucher or "").strip():
        raise ValidationError({"voucher": ERR_REFUND_VOUCHER})
    refund.status = RefundStatus.PAID
    refund.paid_by = actor
    refund.paid_on = paid_on
    refund.paid_voucher = voucher.strip()[:50]
    refund.save()
    if refund.reason in LEAVING_REASONS:
        # Refunded is final: the county's tax filing must not confirm the person meanwhile.
        county_id = Region.objects.select_related("parent__parent").get(pk=refund.village_id).county.pk
        (e,) = lifecycle.lock(county_id=county_id, enrollments=[refund.enrollment_id]).enrollments
        e.status = EnrollmentStatus.REFUNDED
        e.refunded_on = paid_on
        e.save()
    return refund


def refund_candidates_sync(*, user: User) -> int:
    """Duplicate payments the tax-file importer found (rows marked as refund candidates) become
    refund candidates here, once each. Returns how many were new."""
    try:
        from .tax_import.selectors import refund_candidates
    except ImportError:  # the importer is not installed
        return 0
    candidates = []
    for row in refund_candidates(user=user).filter(enrollment__isnull=False).select_related("enrollment"):
        amount = row.owed
        if amount is None:
            try:
                amount = to_money(str(row.amount).replace(",", "").strip() or "0")
            except Exception:  # a free-text amount in the tax file
                amount = row.enrollment.amount_due or ZERO
        candidates.append((row.enrollment_id, amount, f"税务数据导入#{row.tax_import_id} 第{row.row_number}行", row.message))
    return refund_flag_duplicates(candidates)
