"""Reads of the cash trail: unremitted cash, the daily ledger, cash on hand against the double
limit, remittances. Every one goes through ``visible_to``; plain dicts for other apps (reports)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone

from core.choices import RegionLevel
from core.models import Region, User
from core.money import ZERO, to_money
from enrollment.models import Enrollment, Household, Person
from enrollment.selectors import roster_search
from subsidies.models import PolicyYear

from .. import rules
from ..choices import CASH_CHANNELS, ReceiptStatus
from ..models import DailyLedger, Receipt, ReceiptLine, Remittance


def unremitted_cash(qs, *, as_of: date | None = None):
    """Cash receipts not (yet) remitted: now, or as they stood at the close of ``as_of`` (taken by
    then, remitted and voided only later), so a past day's report shows that day's cash."""
    if as_of is None:
        return qs.filter(status=ReceiptStatus.VALID, channel__in=CASH_CHANNELS, remittance__isnull=True)
    return qs.filter(
        Q(status=ReceiptStatus.VALID) | Q(voided_at__date__gt=as_of),
        Q(remittance__isnull=True) | Q(remittance__deposited_on__gt=as_of),
        channel__in=CASH_CHANNELS,
        issued_on__lte=as_of,
    )

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
    summary["previous"] = ledger_previous(summary["confirmed"]) if summary["confirmed"] else []
    summary["flags"] = ledger_flags(summary)
    return summary


def ledger_day_blind(summary: dict) -> dict:
    """The counter's own view of a day (page and API alike): a blind count. Until the day is
    confirmed, the expected cash (``cash_on_hand``) is withheld (None), so the count is what was
    counted, not a copy of the figure; once confirmed, both and the difference are said."""
    if summary.get("confirmed") is not None:
        return summary
    return {**summary, "cash_on_hand": None}


def ledger_snapshot(ledger) -> dict:
    """The figures of one confirmation (a ledger or one of its history rows)."""
    return {
        "confirmed_at": ledger.confirmed_at,
        "receipt_count": ledger.receipt_count,
        "total": ledger.total,
        "by_channel": dict(ledger.by_channel or {}),
        "cash_on_hand": ledger.cash_on_hand,
        "cash_counted": ledger.cash_counted,
        "note": ledger.note,
    }


def ledger_previous(ledger) -> list[dict]:
    """Earlier confirmations of the same collector and day, newest first (from the history)."""
    seen, out = {ledger.confirmed_at}, []
    for h in ledger.history.order_by("-history_date", "-history_id"):
        if h.confirmed_at in seen:
            continue
        seen.add(h.confirmed_at)
        out.append(ledger_snapshot(h))
    return out


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
        if ledger.difference:
            flags.append(
                ERR_LEDGER_COUNTED.format(
                    counted=ledger.cash_counted, expected=ledger.cash_on_hand, diff=ledger.difference
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

def _limits(county_id: int, year: int, cache: dict):
    key = (county_id, year)
    if key not in cache:
        p = PolicyYear.objects.filter(county_id=county_id, year=year).values("remit_days", "remit_amount").first()
        # No policy of the year, or a plan without the rule: no limit is applied (none is made up).
        cache[key] = (p["remit_days"], p["remit_amount"]) if p else (None, None)
    return cache[key]


def _amount_text(amount) -> str:
    amount = Decimal(amount)
    return str(int(amount)) if amount == amount.to_integral_value() else f"{amount:.2f}"


def remit_limits(*, county, year: int) -> dict:
    """The county policy's double limit (报解期限 and 额度) for a benefit year, for page texts:
    ``set`` is False when there is no policy of the year or its plan sets no limit."""
    days, amount = _limits(getattr(county, "pk", county), year, {}) if county else (None, None)
    return {
        "set": days is not None or amount is not None,
        "days": days,
        "amount": amount,
        "amount_text": _amount_text(amount) if amount is not None else "",
        "year": year,
    }


def double_limit_for_queryset(receipts, *, on: date | None = None) -> list[dict]:
    """Per collector: unremitted cash from ``receipts`` measured against the county policy's limits."""
    on = on or timezone.localdate()
    grouped = (
        unremitted_cash(receipts, as_of=on)
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

WARN_REMIT_CHANGED = (
    "报解登记后所含凭证有变动：登记时凭证 {covered} 元，现有效凭证 {valid} 元{voided}。"
    "请乡镇与收款人核对这笔报解，按实存金额补解或退回。"
)
WARN_REMIT_CHANGED_VOIDED = "（凭证 {numbers} 在报解后作废）"


def remittance_list(*, user: User):
    """Remittances in the user's scope with what their receipts hold now (``remittance_now``)."""
    return (
        Remittance.objects.visible_to(user)
        .select_related("collector", "region", "created_by")
        .annotate(
            live_covered=Sum("receipts__total", filter=Q(receipts__status=ReceiptStatus.VALID)),
            receipt_count=Count("receipts"),
        )
        .prefetch_related(
            Prefetch(
                "receipts",
                queryset=Receipt.objects.filter(status=ReceiptStatus.VOIDED).only("id", "number", "remittance_id").order_by("id"),
                to_attr="voided_receipts",
            )
        )
    )


def remittance_change(*, covered, valid, voided_numbers) -> str:
    """The warning for a remittance whose receipts changed after it was recorded (a receipt voided
    or taken off since, so the receipts recorded no longer add up to what it covers now); "" if none."""
    if covered == valid and not voided_numbers:
        return ""
    voided = WARN_REMIT_CHANGED_VOIDED.format(numbers="、".join(voided_numbers)) if voided_numbers else ""
    return WARN_REMIT_CHANGED.format(covered=to_money(covered), valid=to_money(valid), voided=voided)


def remittance_now(remittance) -> dict:
    """A remittance of ``remittance_list`` as it stands now: the valid receipts it covers, the
    deposit's difference from them, and the change warning."""
    valid = to_money(remittance.live_covered or ZERO)
    voided = [r.number for r in remittance.voided_receipts]
    return {
        "valid": valid,
        "difference": to_money(remittance.amount - valid),
        "change": remittance_change(covered=remittance.covered, valid=valid, voided_numbers=voided),
    }


def remittable_receipts(*, user: User, collector: User):
    return unremitted_cash(Receipt.objects.visible_to(user).filter(collector=collector)).order_by("issued_at")


def collectors_for(user: User):
    """Users whose cash the user may record remittances for."""
    if user.can("payment.take") and user.region_id and user.region.level == RegionLevel.VILLAGE:
        return User.objects.filter(pk=user.pk)
    regions = Region.objects.visible_to(user)
    return User.objects.filter(region__in=regions, role__in=["collector", "township"], is_active=True).order_by("username")


# --- The cash desk ---------------------------------------------------------------------------------


def households_found(*, user: User, q: str):
    """Households the cash desk finds (at most 30): by household number, or holding a member the
    roster's search finds for ``q`` (``enrollment.selectors.roster_search``: a name, a full ID
    number, its last digits) — the same inputs as the roster, ID numbers as far as ``user`` may see."""
    members = roster_search(Person.objects.visible_to(user), q, viewer=user).values("household_id")
    return (
        Household.objects.visible_to(user)
        .filter(Q(number=q) | Q(pk__in=members))
        .select_related("village")
        .annotate(n=Count("members", distinct=True))
        .distinct()
        .order_by("village__code", "number")[:30]
    )


def household_at_the_desk(*, household, year: int) -> tuple[list, dict, dict]:
    """A household's members, their ``year`` enrollments by person id, and the valid receipt that
    already paid each person this year, by person id (three queries)."""
    members = list(household.members.order_by("id"))
    enrollments = {e.person_id: e for e in Enrollment.objects.filter(person__in=members, year=year)}
    paid = ReceiptLine.objects.filter(person__in=members, receipt__year=year, receipt__status=ReceiptStatus.VALID)
    return members, enrollments, {ln.person_id: ln.receipt for ln in paid.select_related("receipt")}
