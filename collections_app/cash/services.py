"""Cash at the village: receipts (one lifecycle, see ..lifecycle), the daily ledger, remittances
and the double limit (双限). Keyword-only, atomic, scope- and capability-checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import idcard
from core.access import require
from core.choices import RegionLevel
from core.models import Region, User
from core.money import ZERO, to_money
from core.scoping import ensure_visible, region_in_scope
from enrollment.choices import PAID_STATUSES, EnrollmentStatus
from enrollment.models import Enrollment, Household, Person
from enrollment.owed import covers_by, owed_by_persons
from subsidies.benefit import BIRTH_YEAR_MUST_PAY
from subsidies.book import OwedBook
from subsidies.selectors import PolicyMissing

from .. import lifecycle, rules
from ..choices import CASH_CHANNELS, RECEIPT_CHANNELS, ReceiptStatus
from ..lifecycle import ERR_REMIT_RECEIPT
from ..models import DailyLedger, DoubleLimitBreach, Receipt, ReceiptCounter, ReceiptLine, Remittance
from .selectors import double_limit_for_queryset, ledger_day, ledger_snapshot

ERR_NO_PERSONS = "请至少选择一名缴费人员。"
ERR_NOT_IN_HOUSEHOLD = "{name}不是该户成员。"
ERR_ALREADY_PAID = "{name}（{id}）{year}年度已缴费{where}，不能重复收款。"
ERR_NOT_PAYABLE = "{name}（{id}）{year}年度状态为“{status}”，不能收款。"
ERR_DECEASED = "{name}（{id}）已死亡，不能收款。"
ERR_NOTHING_OWED = "{name}（{id}）个人应缴为0元（全额资助），无需收款，申报时按零申报处理。"
ERR_CHANNEL = "请选择有效的缴费方式。"
ERR_BIRTH_YEAR_FIRST = (
    "{name}（{id}）出生于{prior}年、跨年度登记：按规定须同时缴纳{prior}年度的个人缴费{amount}，才能分别享受两个年度的待遇。"
    "请先为其开具{prior}年度的收据（在收款页把待遇年度改为{prior}），再收{year}年度。"
)
ERR_POLICY = "无法计算应缴金额：{detail}"
ERR_CONFLICT = "有人正在同时为同一人员收款，请刷新后重试。"
ERR_TENDERED_SHORT = "实收 {tendered} 元少于应收合计 {total} 元，不能开具凭证。请核对收到的现金。"
ERR_VOID_REASON = "作废必须填写原因。"
ERR_LEDGER_FUTURE = "不能确认今天以后的台账。"
ERR_LEDGER_CONFLICT = "该日台账正在被同时确认，请刷新页面后重试。"
ERR_REMIT_NO_RECEIPTS = "请选择本次解缴所含的收款凭证。"
ERR_REMIT_AMOUNT = "解缴金额必须大于0。"
ERR_REMIT_SLIP = "请填写银行回单号。"
ERR_REMIT_COLLECTOR = "收款人不在您的管辖范围内。"
MSG_LEDGER_RECONFIRMED = (
    "本日台账此前已于 {at} 确认（{n} 张凭证 {total} 元，实点现金 {counted} 元），现已重新确认；"
    "此前的确认已保留，显示在台账页“此前确认”中。"
)
WARN_REMIT_OVER = "解缴金额比所含凭证多 {diff} 元（多解）。"
WARN_REMIT_UNDER = "解缴金额比所含凭证少 {diff} 元（少解）。"
def _receipt_number(county: Region, year: int) -> str:
    """Next number for (county, year). The counter row is locked until the issuing transaction ends."""
    ReceiptCounter.objects.get_or_create(county=county, year=year)
    counter = ReceiptCounter.objects.select_for_update().get(county=county, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{county.code}-{year}-{counter.last_number:07d}"


@dataclass(frozen=True)
class Quote:
    """What a receipt for some members takes: each line (person, enrollment or None, tier, owed)
    as the policy says, and their total. Read by the desk's confirmation page and by the issue."""

    lines: list
    total: object

    def change(self, tendered):
        """找零 for the cash handed over (``None`` when nothing was typed)."""
        return rules.change_due(total=self.total, tendered=tendered)

    def check_tendered(self, tendered) -> None:
        """Refuse 实收 short of the total (nothing typed: not checked)."""
        change = self.change(tendered)
        if change is not None and change < 0:
            raise ValidationError({"tendered": ERR_TENDERED_SHORT.format(tendered=to_money(tendered), total=self.total)})


def _person_ids(persons) -> list[int]:
    person_ids = sorted({p.pk if isinstance(p, Person) else int(p) for p in persons})
    if not person_ids:
        raise ValidationError({"persons": ERR_NO_PERSONS})
    return person_ids


def receipt_quote(*, actor: User, household: Household, persons, year: int, tiers: dict | None = None) -> Quote:
    """What ``receipt_issue`` would take for these members now, read without locks or writes: the
    desk's confirmation page shows it. Refused exactly as the issue would be (same messages)."""
    require(actor, "payment.take")
    ensure_visible(actor, household)
    person_ids = _person_ids(persons)
    county = Region.objects.select_related("parent__parent").get(pk=household.village_id).county
    found = list(Person.objects.filter(pk__in=person_ids).order_by("pk"))
    enrollments = {e.person_id: e for e in Enrollment.objects.filter(person_id__in=person_ids, year=year)}
    return _quote(household, person_ids, found, enrollments, year, tiers or {}, OwedBook(county))


def receipt_issue(
    *,
    actor: User,
    household: Household,
    persons,
    channel: str,
    year: int,
    tiers: dict | None = None,
    payer_name: str = "",
    tendered=None,
    request_key: str = "",
) -> Receipt:
    """Take payment for one or more members of a household and issue one numbered receipt.

    Amounts come from the policy (``enrollment.owed``), never from the form. Person and enrollment rows
    are locked, so two clerks paying for the same person at once: one succeeds, the other is told.
    ``tendered`` (实收, cash handed over), when given, must cover the total. A ``request_key`` the
    actor already issued a receipt under returns that receipt (``replayed`` set), nothing taken again.
    """
    require(actor, "payment.take")
    ensure_visible(actor, household)
    if channel not in {c for c, _ in RECEIPT_CHANNELS}:
        raise ValidationError({"channel": ERR_CHANNEL})
    person_ids = _person_ids(persons)
    tiers = tiers or {}
    try:
        with transaction.atomic():
            return _issue_locked(actor, household, person_ids, channel, year, tiers, payer_name, tendered, request_key)
    except IntegrityError:
        # Two first payments for a person with no enrollment row raced on (person, year), or the
        # same confirmation form twice at once (the request key).
        if request_key and (done := _issued_under(actor, request_key)) is not None:
            return done
        raise ValidationError(ERR_CONFLICT) from None


def _issued_under(actor, request_key: str) -> Receipt | None:
    receipt = Receipt.objects.filter(request_key=request_key, collector=actor).first()
    if receipt is not None:
        receipt.replayed = True
    return receipt


def _quote(household, person_ids, persons, enrollments, year, tiers, book) -> Quote:
    """The one check of who may be paid for and what each owes (``persons`` as read, by pk)."""
    by_pk = {p.pk: p for p in persons}
    errors = []
    for pk in person_ids:
        p = by_pk.get(pk)
        if p is None or p.household_id != household.pk:
            errors.append(ERR_NOT_IN_HOUSEHOLD.format(name=p.name if p else pk))
    if errors:
        raise ValidationError(errors)
    payable, lines, errors = [], [], []
    for person in persons:
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
    errors += _birth_years_unpaid([p for p, *_ in lines], year, book)
    if errors:
        raise ValidationError(errors)
    return Quote(lines=lines, total=sum((o.self_pay for *_, o in lines), ZERO))


def _birth_years_unpaid(persons, year: int, book) -> list[str]:
    """Gaoyang (seed 004: 新生儿从出生之日起到办理参保登记及缴费日，跨两个年度的，按规定标准缴纳两个年度的个人缴费
    部分后，分别按两个年度享受): a newborn of ``year − 1`` paying for ``year`` after the window pays its
    birth year first (``Cover.birth_year`` says "must"; Shizhu's "may" is the family's choice)."""
    if not persons:
        return []
    today = timezone.localdate()
    covers = covers_by(persons=persons, year=year, paid_on=today, book=book)
    due = [p for p in persons if covers.get(p.pk) is not None and covers[p.pk].birth_year == BIRTH_YEAR_MUST_PAY]
    if not due:
        return []
    paid = set(Enrollment.objects.filter(person__in=due, year=year - 1, status__in=PAID_STATUSES).values_list("person_id", flat=True))
    errors = []
    for p in due:
        if p.pk in paid:
            continue
        try:
            amount = f"{owed_by_persons(persons=[p], year=year - 1, paid_on=today, book=book)[p.pk].self_pay}元"
        except PolicyMissing:
            amount = ""
        errors.append(ERR_BIRTH_YEAR_FIRST.format(name=p.name, id=idcard.mask(p.id_number), prior=year - 1, year=year, amount=amount))
    return errors


def _issue_locked(actor, household, person_ids, channel, year, tiers, payer_name, tendered, request_key):
    village = Region.objects.select_related("parent__parent").get(pk=household.village_id)
    county = village.county
    locked = lifecycle.lock(county_id=county.pk, persons=person_ids).persons
    # Read under the persons' locks: a second submission of the same form waits for the first.
    if request_key and (done := _issued_under(actor, request_key)) is not None:
        return done
    existing = Enrollment.objects.filter(person_id__in=person_ids, year=year).values_list("pk", flat=True)
    enrollments = {e.person_id: e for e in lifecycle.lock(enrollments=list(existing)).enrollments}
    book = OwedBook(county)
    quote = _quote(household, person_ids, locked, enrollments, year, tiers, book)
    lines = quote.lines
    quote.check_tendered(tendered)

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
        total=quote.total,
        issued_at=now,
        request_key=request_key,
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
    receipt.replayed = False
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
    require(actor, "receipt.void")
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

@transaction.atomic
def ledger_confirm(*, actor: User, day: date, cash_counted, note: str = "") -> DailyLedger:
    """The collector confirms the day's ledger: the figures are kept as they stood, with the
    cash counted, so any later change or mismatch shows up. Confirming a day again replaces the
    current figures but keeps the earlier confirmation in the ledger's history (``replaced`` on
    the returned ledger holds what was replaced, None for a first confirmation)."""
    require(actor, "payment.take")
    if day > timezone.localdate():
        raise ValidationError({"day": ERR_LEDGER_FUTURE})
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
    require(actor, "remittance.record")
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

@transaction.atomic
def double_limit_record(*, now=None) -> dict:
    """Check every collector in every county against the double limit and keep one open breach
    row per collector up to date. Idempotent: running it twice changes nothing more."""
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
