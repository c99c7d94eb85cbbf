"""Selectors that read the cash trail; every one goes through ``visible_to``. Plain dicts for
other apps (reports): ``cash_on_hand_by_collector`` and ``double_limit_breaches``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from enrollment import idcard
from enrollment.choices import EnrollmentStatus, RegionLevel
from enrollment.formats import chinese_date
from enrollment.models import Enrollment, Region, User
from subsidies.models import PolicyYear

from . import rules
from .choices import CASH_CHANNELS, LineResult, ReceiptStatus
from .models import DailyLedger, DeclarationLine, Receipt, ReceiptLine, Remittance

ZERO = Decimal("0.00")
DEFAULT_REMIT_DAYS = 5
DEFAULT_REMIT_AMOUNT = Decimal("10000.00")


def unremitted_cash(qs):
    return qs.filter(status=ReceiptStatus.VALID, channel__in=CASH_CHANNELS, remittance__isnull=True)


# --- Ledger --------------------------------------------------------------------------------------


def ledger_day(*, collector: User, day: date) -> dict:
    """One collector's cash ledger for one day: receipts (voided ones listed too), totals by
    channel, and the cash on hand at the end of the day (collected, not yet remitted)."""
    receipts = list(
        Receipt.objects.filter(collector=collector, issued_on=day)
        .select_related("village", "household")
        .prefetch_related("lines")
        .order_by("issued_at", "id")
    )
    valid = [r for r in receipts if r.status == ReceiptStatus.VALID]
    by_channel = defaultdict(lambda: ZERO)
    for r in valid:
        by_channel[r.channel] += r.total
    on_hand = (
        Receipt.objects.filter(
            collector=collector, status=ReceiptStatus.VALID, channel__in=CASH_CHANNELS, issued_on__lte=day
        )
        .filter(Q(remittance__isnull=True) | Q(remittance__deposited_on__gt=day))
        .aggregate(s=Sum("total"))["s"]
        or ZERO
    )
    summary = {
        "collector": collector,
        "day": day,
        "receipts": receipts,
        "count": len(valid),
        "voided": len(receipts) - len(valid),
        "total": sum((r.total for r in valid), ZERO),
        "by_channel": dict(by_channel),
        "cash_on_hand": on_hand,
    }
    summary["confirmed"] = DailyLedger.objects.filter(collector=collector, day=day).first()
    summary["flags"] = ledger_flags(summary)
    return summary


ERR_LEDGER_COUNTED = "实点现金 {counted} 元与台账应有现金 {expected} 元不符，差额 {diff} 元。"
ERR_LEDGER_CHANGED = "确认后凭证有变动：确认时 {then_n} 张 {then} 元，现为 {now_n} 张 {now} 元。"
ERR_LEDGER_VOIDED = "当天有 {n} 张凭证已作废。"
ERR_LEDGER_UNCONFIRMED = "当天台账尚未确认。"


def ledger_flags(summary: dict) -> list[str]:
    flags = []
    ledger = summary.get("confirmed")
    if ledger is None:
        if summary["count"] or summary["voided"]:
            flags.append(ERR_LEDGER_UNCONFIRMED)
    else:
        if ledger.cash_counted != ledger.cash_on_hand:
            flags.append(
                ERR_LEDGER_COUNTED.format(
                    counted=ledger.cash_counted, expected=ledger.cash_on_hand, diff=ledger.cash_counted - ledger.cash_on_hand
                )
            )
        if ledger.total != summary["total"] or ledger.receipt_count != summary["count"]:
            flags.append(
                ERR_LEDGER_CHANGED.format(
                    then_n=ledger.receipt_count, then=ledger.total, now_n=summary["count"], now=summary["total"]
                )
            )
    if summary["voided"]:
        flags.append(ERR_LEDGER_VOIDED.format(n=summary["voided"]))
    return flags


def ledgers_for_township(*, user: User, day: date) -> list[dict]:
    """Every collector in the user's scope who took money that day or confirmed a ledger."""
    visible = Receipt.objects.visible_to(user).filter(issued_on=day)
    collector_ids = set(visible.values_list("collector_id", flat=True)) | set(
        DailyLedger.objects.visible_to(user).filter(day=day).values_list("collector_id", flat=True)
    )
    return [ledger_day(collector=c, day=day) for c in User.objects.filter(pk__in=collector_ids).order_by("username")]


# --- Cash on hand and the double limit --------------------------------------------------------------


def _limits(county_id: int, year: int, cache: dict):
    key = (county_id, year)
    if key not in cache:
        p = PolicyYear.objects.filter(county_id=county_id, year=year).values("remit_days", "remit_amount").first()
        cache[key] = (p["remit_days"], p["remit_amount"]) if p else (DEFAULT_REMIT_DAYS, DEFAULT_REMIT_AMOUNT)
    return cache[key]


def double_limit_for_queryset(receipts, *, on: date | None = None) -> list[dict]:
    """Per collector: unremitted cash from ``receipts`` measured against the county policy's limits."""
    on = on or timezone.localdate()
    grouped = (
        unremitted_cash(receipts)
        .values("collector_id", "county_id", "issued_on", "year")
        .annotate(amount=Sum("total"), n=Count("id"))
        .order_by()
    )
    per = defaultdict(list)
    for g in grouped:
        per[g["collector_id"]].append(g)
    users = {u.pk: u for u in User.objects.filter(pk__in=per).select_related("region", "region__parent")}
    cache, out = {}, []
    for cid, groups in per.items():
        u = users[cid]
        days, amount = _limits(groups[0]["county_id"], max(g["year"] for g in groups), cache)
        state = rules.double_limit(
            [(g["issued_on"], g["amount"]) for g in groups], today=on, remit_days=days, remit_amount=amount
        )
        region = u.region
        out.append(
            {
                "collector_id": cid,
                "collector": u.display_name,
                "region_id": region.pk if region else None,
                "village": region.name if region and region.level == RegionLevel.VILLAGE else "",
                "township": (region.parent.name if region and region.level == RegionLevel.VILLAGE else getattr(region, "name", "")),
                "amount": state.amount,
                "receipts": sum(g["n"] for g in groups),
                "oldest": state.oldest,
                "days_held": state.days_held,
                "days_overdue": state.days_overdue,
                "over_amount": state.over_amount,
                "over_days": state.over_days,
                "breached": state.breached,
                "remit_days": days,
                "remit_amount": amount,
            }
        )
    out.sort(key=lambda r: (not r["breached"], -r["days_overdue"], -r["amount"]))
    return out


def cash_on_hand_by_collector(*, user: User, county: Region | None = None, on: date | None = None) -> list[dict]:
    """Unremitted cash per collector in the user's scope (plain dicts: collector, village, amount …)."""
    qs = Receipt.objects.visible_to(user)
    if county is not None:
        qs = qs.filter(county=county)
    return double_limit_for_queryset(qs, on=on)


def double_limit_breaches(*, user: User, on: date | None = None, county: Region | None = None) -> list[dict]:
    """Collectors over the double limit: amount, days overdue, collector, village."""
    return [r for r in cash_on_hand_by_collector(user=user, county=county, on=on) if r["breached"]]


# --- Remittances ---------------------------------------------------------------------------------


def remittance_list(*, user: User):
    return (
        Remittance.objects.visible_to(user)
        .select_related("collector", "region", "created_by")
        .annotate(
            live_covered=Sum("receipts__total", filter=Q(receipts__status=ReceiptStatus.VALID)),
            receipt_count=Count("receipts"),
        )
    )


def remittable_receipts(*, user: User, collector: User):
    return unremitted_cash(Receipt.objects.visible_to(user).filter(collector=collector)).order_by("issued_at")


def collectors_for(user: User):
    """Users whose cash the user may record remittances for."""
    if user.can("payment.take") and user.region_id and user.region.level == RegionLevel.VILLAGE:
        return User.objects.filter(pk=user.pk)
    regions = Region.objects.visible_to(user)
    return User.objects.filter(region__in=regions, role__in=["collector", "township"], is_active=True).order_by("username")


# --- Publicity ---------------------------------------------------------------------------------


def publicity_rows(*, village: Region, year: int) -> list[dict]:
    """The paid list of a village: name, last 4 ID digits, tier, amount (valid receipts only)."""
    lines = (
        ReceiptLine.objects.filter(receipt__village=village, receipt__year=year, receipt__status=ReceiptStatus.VALID)
        .order_by("receipt__issued_at", "id")
        .values("name", "id_number", "person__id_number", "tier", "amount", "receipt__issued_on")
    )
    # The person's current ID number: a number corrected after payment (a failed declaration
    # row fixed against the ID card) is posted as corrected, not as typed on the receipt.
    return [
        {
            "name": ln["name"],
            "last4": idcard.last4(ln["person__id_number"] or ln["id_number"]),
            "tier": ln["tier"],
            "amount": ln["amount"],
            "paid_on": ln["receipt__issued_on"],
        }
        for ln in lines
    ]


# --- Reconciliation ---------------------------------------------------------------------------------


def reconciliation(*, user: User, region: Region, year: int) -> dict:
    """Receipts vs ledger vs remittances vs declared vs confirmed, per village, with every difference."""
    villages = list(Region.objects.visible_to(user).filter(pk__in=region.villages()).order_by("sort_order", "code"))
    rows, diffs = [], []
    receipts = Receipt.objects.filter(village__in=villages, year=year)
    lines = ReceiptLine.objects.filter(receipt__in=receipts, receipt__status=ReceiptStatus.VALID)
    confirmed_days = set(DailyLedger.objects.filter(collector__in=receipts.values("collector_id")).values_list("collector_id", "day"))
    ledger_bad = {
        (ld.collector_id, ld.day): ld
        for ld in DailyLedger.objects.filter(collector__in=receipts.values("collector_id")).exclude(cash_counted=F("cash_on_hand"))
    }
    decl = DeclarationLine.objects.filter(village__in=villages, declaration__year=year).select_related("enrollment")
    latest = {}
    for dl in decl.order_by("declaration_id", "id"):
        latest[dl.enrollment_id] = dl
    receipt_amount_by_enr = defaultdict(lambda: ZERO)
    for enr_id, amount in lines.values_list("enrollment_id", "amount"):
        receipt_amount_by_enr[enr_id] += amount

    for v in villages:
        rq = receipts.filter(village=v)
        valid = rq.filter(status=ReceiptStatus.VALID)
        total = valid.aggregate(s=Sum("total"))["s"] or ZERO
        cash = valid.filter(channel__in=CASH_CHANNELS)
        cash_total = cash.aggregate(s=Sum("total"))["s"] or ZERO
        remitted = cash.filter(remittance__isnull=False).aggregate(s=Sum("total"))["s"] or ZERO
        in_ledger = ZERO
        for r in valid.values("collector_id", "issued_on", "total", "number"):
            if (r["collector_id"], r["issued_on"]) in confirmed_days:
                in_ledger += r["total"]
        vlines = [dl for dl in latest.values() if dl.village_id == v.pk]
        declared = sum((dl.amount for dl in vlines if dl.result != LineResult.FAILED), ZERO)
        declared_n = sum(1 for dl in vlines if dl.result != LineResult.FAILED)
        confirmed = sum((dl.amount for dl in vlines if dl.result == LineResult.ACCEPTED), ZERO)
        confirmed_n = sum(1 for dl in vlines if dl.result == LineResult.ACCEPTED)
        in_treasury = Enrollment.objects.filter(village=v, year=year, status=EnrollmentStatus.CONFIRMED).count()
        row = {
            "village": v,
            "receipts": total,
            "receipt_count": valid.count(),
            "voided": rq.filter(status=ReceiptStatus.VOIDED).count(),
            "ledger": in_ledger,
            "cash": cash_total,
            "remitted": remitted,
            "declared": declared,
            "declared_n": declared_n,
            "confirmed": confirmed,
            "confirmed_n": confirmed_n,
            "in_treasury": in_treasury,
        }
        row["differences"] = _village_diffs(v, year, row, valid, vlines, receipt_amount_by_enr, confirmed_days, ledger_bad)
        row["agrees"] = not row["differences"]
        rows.append(row)
        diffs.extend(row["differences"])
    keys = ("receipts", "receipt_count", "voided", "ledger", "cash", "remitted", "declared", "declared_n", "confirmed", "confirmed_n", "in_treasury")
    totals = {k: sum((r[k] for r in rows), 0) for k in keys}
    return {"region": region, "year": year, "rows": rows, "totals": totals, "differences": diffs}


def _village_diffs(v, year, row, valid, vlines, receipt_amount_by_enr, confirmed_days, ledger_bad) -> list[dict]:
    out = []

    def add(kind, text, amount=None):
        out.append({"village": v.name, "kind": kind, "text": text, "amount": amount})

    seen_days = set()
    for r in valid.values("collector_id", "collector__username", "collector__first_name", "issued_on").distinct():
        key = (r["collector_id"], r["issued_on"])
        if key in seen_days:
            continue
        seen_days.add(key)
        who = r["collector__first_name"] or r["collector__username"]
        if key not in confirmed_days:
            add("台账", f"{who} {chinese_date(r['issued_on'])}的台账未确认")
        elif key in ledger_bad:
            ld = ledger_bad[key]
            add("台账", f"{who} {r['issued_on']:%Y-%m-%d} 实点现金与台账不符", ld.cash_counted - ld.cash_on_hand)
    unremitted = row["cash"] - row["remitted"]
    if unremitted:
        add("报解", "现金未报解", unremitted)
    declared_ids = {dl.enrollment_id for dl in vlines if dl.result != LineResult.FAILED}
    paid_not_declared = Enrollment.objects.filter(village=v, year=year, status=EnrollmentStatus.PAID).select_related("person")
    for e in paid_not_declared:
        add("申报", f"{e.person.name}（{idcard.last4(e.person.id_number)}）已收款未申报", e.amount_due)
    for dl in vlines:
        if dl.result == LineResult.FAILED:
            if dl.enrollment.status != EnrollmentStatus.DECLARED:
                add("回执", f"{dl.name}（{idcard.last4(dl.id_number)}）税务导入失败：{dl.fail_reason}", dl.amount)
            continue
        receipted = receipt_amount_by_enr.get(dl.enrollment_id, ZERO)
        if dl.amount != receipted and dl.enrollment_id in declared_ids:
            add("票册", f"{dl.name}（{idcard.last4(dl.id_number)}）申报 {dl.amount} 元，有效凭证 {receipted} 元", dl.amount - receipted)
    waiting = [dl for dl in vlines if dl.result == LineResult.PENDING]
    if waiting:
        add("回执", f"{len(waiting)} 人已申报，待税务回执", sum((dl.amount for dl in waiting), ZERO))
    return out
