"""Refunds: applied with evidence, decided by the bureau, paid by the tax office; duplicate payments
flagged as candidates."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core.access import require
from core.models import Region, User
from core.money import ZERO, to_money
from core.scoping import ensure_visible
from enrollment.choices import PAID_STATUSES, EnrollmentStatus
from enrollment.models import Enrollment
from subsidies.choices import BEFORE_COVER_REASONS, LEAVING_REASONS, NATIONAL_REFUND_REASONS, RefundReason
from subsidies.models import PolicyYear
from subsidies.selectors import PolicyMissing, policy_for

from .. import lifecycle
from ..choices import RefundStatus
from ..models import Refund
from ..tax_import.selectors import refund_candidates
from ..uploads import check_file

ERR_REFUND_NOT_PAID = "{name}{year}年度没有已缴费记录，不能退费。"
ERR_REFUND_COVER_STARTED = "{name}{year}年度待遇已于{start:%Y年%-m月%-d日}开始享受，不能退费。"
ERR_REFUND_AMOUNT = "退费金额应在0.01至{max}元之间。"
ERR_REFUND_EXISTS = "该人员已有同一原因的退费申请。"
ERR_REFUND_STATE = "当前状态“{status}”下不能进行此操作。"
ERR_REFUND_EVIDENCE = "请上传证明材料。"
ERR_REFUND_DECISION_NOTE = "不予退费时必须写明理由。"
ERR_REFUND_CANDIDATE_APPROVE = "系统提出的退费候选须由经办人上传证明材料提出申请后才能同意退费；核实不属实的，可直接不予退费并写明理由。"
ERR_REFUND_VOUCHER = "请填写退付凭证号。"
ERR_REFUND_REASON = "{county}{year}年度可办理的退费原因为：{reasons}；不受理“{reason}”。"
ERR_REFUND_DEADLINE = "{county}{year}年度退费申请的受理时限为{deadline:%Y年%-m月%-d日}前，已过受理时限，不能再申请退费。"


def benefit_start(enrollment: Enrollment) -> date:
    """When the year's cover begins: a refund is possible only before it (the seeds' 待遇享受期)."""
    return enrollment.benefit_start or date(enrollment.year, 1, 1)


def _policy_of(enrollment: Enrollment) -> PolicyYear | None:
    try:
        return policy_for(county=enrollment.village.county, year=enrollment.year)
    except PolicyMissing:
        return None


def refund_reasons_for(enrollment: Enrollment) -> list[tuple[str, str]]:
    """The refund reasons (code, label) the county accepts for the enrollment's year: the policy's
    (``PolicyYear.refund_reason_codes``), the national set where the year has no policy."""
    return _reasons(_policy_of(enrollment))


def county_refund_codes(county, year: int) -> set[str]:
    """The refund reasons ``county`` accepts for ``year`` (as ``refund_reasons_for``): what a
    department's list may propose."""
    try:
        policy = policy_for(county=county, year=year)
    except PolicyMissing:
        policy = None
    return {code for code, _ in _reasons(policy)}


def _reasons(policy: PolicyYear | None) -> list[tuple[str, str]]:
    if policy is not None:
        return policy.refund_reason_choices()
    return [(r.value, r.label) for r in NATIONAL_REFUND_REASONS]


def refund_reason_refused(enrollment: Enrollment, reason: str) -> str:
    """The message refusing ``reason`` for the enrollment (what the form and the API say)."""
    label = RefundReason(reason).label if reason in RefundReason.values else reason
    return ERR_REFUND_REASON.format(
        county=enrollment.village.county.name, year=enrollment.year, reason=label,
        reasons="、".join(name for _, name in refund_reasons_for(enrollment)),
    )


def _deadline_guard(enrollment: Enrollment, policy: PolicyYear | None, today: date):
    """Neixiang's 受理时限 (seed 000: 受理时限：2024年12月31日前): an application is accepted up
    to and including the deadline."""
    if policy is not None and policy.refund_deadline is not None and today > policy.refund_deadline:
        raise ValidationError(ERR_REFUND_DEADLINE.format(
            county=policy.county.name, year=enrollment.year, deadline=policy.refund_deadline))


def _refund_guard(enrollment: Enrollment, reason: str, today: date):
    """Refused once cover has started, for the reasons refunded only before it (a subsidy
    difference is refunded inside the benefit year: ``BEFORE_COVER_REASONS``)."""
    if reason not in BEFORE_COVER_REASONS:
        return
    start = benefit_start(enrollment)
    if today >= start:
        raise ValidationError(
            ERR_REFUND_COVER_STARTED.format(name=enrollment.person.name, year=enrollment.year, start=start)
        )


@transaction.atomic
def refund_apply(
    *, actor: User, enrollment: Enrollment, reason: str, amount=None, evidence=None, note: str = ""
) -> Refund:
    """Apply for a refund with evidence, for one of the reasons the county accepts that year.
    Refused once cover has started (but for a subsidy difference), or after the policy's
    acceptance deadline, with the reason."""
    require(actor, "refund.apply")
    ensure_visible(actor, enrollment)
    (enrollment,) = lifecycle.lock(enrollments=[enrollment.pk]).enrollments
    if enrollment.status not in PAID_STATUSES:
        raise ValidationError(ERR_REFUND_NOT_PAID.format(name=enrollment.person.name, year=enrollment.year))
    policy = _policy_of(enrollment)
    if reason not in {code for code, _ in _reasons(policy)}:
        raise ValidationError({"reason": refund_reason_refused(enrollment, reason)})
    today = timezone.localdate()
    _refund_guard(enrollment, reason, today)
    candidate = Refund.objects.filter(enrollment=enrollment, reason=reason, status=RefundStatus.CANDIDATE).first()
    if candidate is None:
        # The deadline is the time allowed to accept a resident's application (受理时限). A candidate
        # the system raised itself (a duplicate in the tax files, a department's departures list, a
        # subsidy difference on an identity list) is the bureau's own finding, proposed for it to
        # decide: neither raising it nor completing it with the evidence is bound by the deadline
        # (the cover-start guard above still is).
        _deadline_guard(enrollment, policy, today)
    paid = enrollment.amount_due or ZERO
    amount = to_money(amount) if amount not in (None, "") else paid
    if amount <= 0 or amount > paid:
        raise ValidationError({"amount": ERR_REFUND_AMOUNT.format(max=paid)})
    if not evidence:
        raise ValidationError({"evidence": ERR_REFUND_EVIDENCE})
    check_file(evidence, allow_pdf=True)
    refund = candidate or Refund(enrollment=enrollment, village=enrollment.village, reason=reason)
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


def refund_flag_duplicates(candidates) -> int:
    """Many duplicate payments at once (a tax filing of a county): see ``refund_flag_candidates``."""
    return refund_flag_candidates(candidates, reason=RefundReason.DUPLICATE)


@transaction.atomic
def refund_flag_candidates(candidates, *, reason: str) -> int:
    """Refund candidates for the bureau to decide, many at once: ``candidates`` are (enrollment
    id, amount, source, note); the first of each enrollment counts, an enrollment flagged for
    ``reason`` before is skipped. A few queries per 5,000 enrollments, not several per candidate.
    Returns how many refund candidates were created."""
    first: dict[int, tuple] = {}
    for enrollment_id, amount, source, note in candidates:
        first.setdefault(enrollment_id, (amount, source, note))
    ids = list(first)
    flagged, villages = set(), {}
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        flagged.update(
            Refund.objects.filter(enrollment_id__in=part, reason=reason).values_list("enrollment_id", flat=True)
        )
        villages.update(Enrollment.objects.filter(pk__in=part).values_list("id", "village_id"))
    new = [
        Refund(
            enrollment_id=eid, village_id=villages[eid], reason=reason, amount=max(to_money(amount), ZERO),
            status=RefundStatus.CANDIDATE, source=source[:100], note=note[:300],
        )
        for eid, (amount, source, note) in first.items()
        if eid not in flagged and eid in villages
    ]
    if new:
        bulk_create_with_history(new, Refund, batch_size=1000)
    return len(new)


def _decide(actor, refund, capability, allowed):
    require(actor, capability)
    ensure_visible(actor, refund)
    refund = Refund.objects.select_for_update().select_related("enrollment__person").get(pk=refund.pk)
    if refund.status not in allowed:
        raise ValidationError(ERR_REFUND_STATE.format(status=refund.get_status_display()))
    return refund


@transaction.atomic
def refund_decide(*, actor: User, refund: Refund, approve: bool, note: str = "") -> Refund:
    """The bureau approves or refuses an application. A candidate (a duplicate payment found by
    an import) may be refused directly, with a reason; approving one needs an application first.
    Approval is refused once cover has started (but for a subsidy difference)."""
    refund = _decide(actor, refund, "refund.approve", (RefundStatus.APPLIED, RefundStatus.CANDIDATE))
    if approve:
        if refund.status == RefundStatus.CANDIDATE:
            raise ValidationError(ERR_REFUND_CANDIDATE_APPROVE)
        _refund_guard(refund.enrollment, refund.reason, timezone.localdate())
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
