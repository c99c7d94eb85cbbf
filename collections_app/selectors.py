"""Selectors that read the cash trail; every one goes through ``visible_to``. Plain dicts for
other apps (reports): ``cash_on_hand_by_collector`` and ``double_limit_breaches``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone

from core import idcard
from core.choices import RegionLevel
from core.formats import chinese_date
from core.models import Region, User
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from subsidies.models import PolicyYear

from . import rules
from .choices import CASH_CHANNELS, LineResult, ReceiptStatus
from .models import DailyLedger, DeclarationLine, Receipt, ReceiptLine, Remittance

ZERO = Decimal("0.00")


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
    summary["previous"] = ledger_previous(summary["confirmed"]) if summary["confirmed"] else []
    summary["flags"] = ledger_flags(summary)
    return summary


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


# --- Remittances ---------------------------------------------------------------------------------


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
    return WARN_REMIT_CHANGED.format(covered=to_yuan(covered), valid=to_yuan(valid), voided=voided)


def remittance_now(remittance) -> dict:
    """A remittance of ``remittance_list`` as it stands now: the valid receipts it covers, the
    deposit's difference from them, and the change warning."""
    valid = to_yuan(remittance.live_covered or ZERO)
    voided = [r.number for r in remittance.voided_receipts]
    return {
        "valid": valid,
        "difference": to_yuan(remittance.amount - valid),
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

DIFF_UNREMITTED = "现金未报解"
DIFF_REMIT_GAP = "回单号 {slip}（{collector}，{day}解缴）解缴 {amount} 元，所含有效凭证 {valid} 元，{word} {gap} 元"
DIFF_REMIT_VOIDED = "；其中凭证 {numbers} 报解后已作废，共 {voided} 元"
WORD_UNDER = "少解"
WORD_OVER = "多解"
DIFF_LEDGER_UNCONFIRMED = "{who} {day}的台账未确认"
DIFF_LEDGER_COUNTED = "{who} {day}实点现金与台账不符"
DIFF_LEDGER_CHANGED = "{who} {day}的台账确认时 {then_n} 张 {then} 元，现为 {now_n} 张 {now} 元"


def remittance_gaps(*, receipts) -> list[dict]:
    """Each remittance covering any of ``receipts`` (whatever their status): the amount actually
    deposited (``Remittance.amount``) against the value of the VALID receipts it covers now.
    ``gap`` < 0 is under-remitted, > 0 over-remitted (e.g. a receipt voided after its cash was
    deposited). ``valid_by`` splits the valid value by (village, year); ``home`` is the
    (village, year) the gap is listed under: the one with most of the remittance's receipts."""
    remittances = list(
        Remittance.objects.filter(pk__in=receipts.filter(remittance__isnull=False).values("remittance_id"))
        .select_related("collector")
        .order_by("deposited_on", "id")
    )
    covered = defaultdict(list)
    for r in (
        Receipt.objects.filter(remittance__in=[x.pk for x in remittances])
        .values("remittance_id", "village_id", "year", "status", "total", "number")
        .order_by("issued_at", "id")
    ):
        covered[r["remittance_id"]].append(r)
    out = []
    for rem in remittances:
        rows = covered[rem.pk]
        valid_by, weight = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
        for r in rows:
            weight[(r["village_id"], r["year"])] += r["total"]
            if r["status"] == ReceiptStatus.VALID:
                valid_by[(r["village_id"], r["year"])] += r["total"]
        valid = sum(valid_by.values(), ZERO)
        voided = [r for r in rows if r["status"] != ReceiptStatus.VALID]
        gap = rem.amount - valid
        g = {
            "remittance": rem,
            "collector_id": rem.collector_id,
            "collector": rem.collector.display_name,
            "slip_number": rem.slip_number,
            "deposited_on": rem.deposited_on,
            "amount": rem.amount,
            "valid": valid,
            "voided": sum((r["total"] for r in voided), ZERO),
            "voided_numbers": [r["number"] for r in voided],
            "gap": gap,
            "valid_by": dict(valid_by),
            "home": max(weight, key=lambda k: (weight[k], -k[0])) if weight else None,
        }
        g["text"] = _gap_text(g) if gap else ""
        g["change"] = remittance_change(covered=rem.covered, valid=valid, voided_numbers=g["voided_numbers"])
        out.append(g)
    return out


def _gap_text(g) -> str:
    text = DIFF_REMIT_GAP.format(
        slip=g["slip_number"], collector=g["collector"], day=chinese_date(g["deposited_on"]), amount=g["amount"],
        valid=g["valid"], word=WORD_UNDER if g["gap"] < 0 else WORD_OVER, gap=abs(g["gap"]),
    )
    if g["voided_numbers"]:
        text += DIFF_REMIT_VOIDED.format(numbers="、".join(g["voided_numbers"]), voided=g["voided"])
    return text


def reconciliation(*, user: User, region: Region, year: int) -> dict:
    """Receipts vs ledger vs remittances vs declared vs confirmed, per village and per collector,
    with every difference. Remitted is what was actually deposited (``Remittance.amount``), set
    against the valid receipts each remittance covers; a gap is listed to the yuan."""
    villages = list(Region.objects.visible_to(user).filter(pk__in=region.villages()).order_by("sort_order", "code"))
    rows, diffs = [], []
    receipts = Receipt.objects.filter(village__in=villages, year=year)
    lines = ReceiptLine.objects.filter(receipt__in=receipts, receipt__status=ReceiptStatus.VALID)
    collector_ids = set(receipts.values_list("collector_id", flat=True))
    who = {u.pk: u.display_name for u in User.objects.filter(pk__in=collector_ids)}
    ledgers = {
        (ld.collector_id, ld.day): ld
        for ld in DailyLedger.objects.filter(collector__in=collector_ids, day__in=receipts.values("issued_on"))
    }
    # What each confirmed collector-day holds now (all villages and years, as the ledger itself).
    now_by_day = {
        (r["collector_id"], r["issued_on"]): (r["n"], r["s"])
        for r in Receipt.objects.filter(collector__in=collector_ids, status=ReceiptStatus.VALID, issued_on__in=receipts.values("issued_on"))
        .values("collector_id", "issued_on")
        .annotate(n=Count("id"), s=Sum("total"))
        .order_by()
    }
    gaps = remittance_gaps(receipts=receipts)
    remitted_by_village = defaultdict(lambda: ZERO)
    gaps_by_village = defaultdict(list)
    for g in gaps:
        for (vid, y), amount in g["valid_by"].items():
            if y == year:
                remitted_by_village[vid] += amount
        if (g["gap"] or g["change"]) and g["home"] and g["home"][1] == year:
            remitted_by_village[g["home"][0]] += g["gap"]
            gaps_by_village[g["home"][0]].append(g)
    decl = DeclarationLine.objects.filter(village__in=villages, declaration__year=year).select_related("enrollment")
    latest = {}
    for dl in decl.order_by("declaration_id", "id"):
        latest[dl.enrollment_id] = dl
    receipt_amount_by_enr = defaultdict(lambda: ZERO)
    for enr_id, amount in lines.values_list("enrollment_id", "amount"):
        receipt_amount_by_enr[enr_id] += amount
    ctx = {"who": who, "ledgers": ledgers, "now_by_day": now_by_day, "seen_days": set(), "gaps": gaps_by_village}

    for v in villages:
        rq = receipts.filter(village=v)
        valid = rq.filter(status=ReceiptStatus.VALID)
        total = valid.aggregate(s=Sum("total"))["s"] or ZERO
        cash = valid.filter(channel__in=CASH_CHANNELS)
        cash_total = cash.aggregate(s=Sum("total"))["s"] or ZERO
        unremitted = cash.filter(remittance__isnull=True).aggregate(s=Sum("total"))["s"] or ZERO
        in_ledger = ZERO
        for r in valid.values("collector_id", "issued_on", "total"):
            if (r["collector_id"], r["issued_on"]) in ledgers:
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
            "remitted": remitted_by_village[v.pk],
            "unremitted": unremitted,
            "declared": declared,
            "declared_n": declared_n,
            "confirmed": confirmed,
            "confirmed_n": confirmed_n,
            "in_treasury": in_treasury,
        }
        row["differences"] = _village_diffs(v, year, row, rq, vlines, receipt_amount_by_enr, ctx)
        row["agrees"] = not row["differences"]
        rows.append(row)
        diffs.extend(row["differences"])
    keys = ("receipts", "receipt_count", "voided", "ledger", "cash", "remitted", "unremitted", "declared", "declared_n", "confirmed", "confirmed_n", "in_treasury")
    totals = {k: sum((r[k] for r in rows), 0) for k in keys}
    return {
        "region": region, "year": year, "rows": rows, "totals": totals, "differences": diffs,
        "collectors": _collector_rows(receipts, gaps, who), "remittances": gaps,
    }


def _collector_rows(receipts, gaps, who) -> list[dict]:
    """Per collector: valid cash taken, not yet remitted, deposited, valid receipts the deposits cover, gap."""
    cash = receipts.filter(status=ReceiptStatus.VALID, channel__in=CASH_CHANNELS)
    out = {}
    for r in cash.values("collector_id").annotate(s=Sum("total"), u=Sum("total", filter=Q(remittance__isnull=True))).order_by():
        out[r["collector_id"]] = {"collector_id": r["collector_id"], "collector": who.get(r["collector_id"], ""),
                                  "cash": r["s"] or ZERO, "unremitted": r["u"] or ZERO, "deposited": ZERO, "covered": ZERO, "gap": ZERO}
    for g in gaps:
        row = out.setdefault(g["collector_id"], {"collector_id": g["collector_id"], "collector": g["collector"], "cash": ZERO,
                                                 "unremitted": ZERO, "deposited": ZERO, "covered": ZERO, "gap": ZERO})
        row["deposited"] += g["amount"]
        row["covered"] += g["valid"]
        row["gap"] += g["gap"]
        row["changed"] = row.get("changed", False) or bool(g["change"])
    for row in out.values():
        row["abs_gap"] = abs(row["gap"])
        row["agrees"] = not row["gap"] and not row["unremitted"] and not row.get("changed")
    return sorted(out.values(), key=lambda r: r["collector"])


def _village_diffs(v, year, row, rq, vlines, receipt_amount_by_enr, ctx) -> list[dict]:
    out = []

    def add(kind, text, amount=None):
        out.append({"village": v.name, "kind": kind, "text": text, "amount": amount})

    # 台账: every collector-day of this village's receipts, confirmed, counted and unchanged since.
    days = rq.values_list("collector_id", "issued_on", "status").distinct().order_by("issued_on", "collector_id")
    has_valid = {(c, d) for c, d, st in days if st == ReceiptStatus.VALID}
    for key in dict.fromkeys((c, d) for c, d, _ in days):
        who, day = ctx["who"].get(key[0], ""), chinese_date(key[1])
        ld = ctx["ledgers"].get(key)
        if ld is None:
            if key in has_valid:
                add("台账", DIFF_LEDGER_UNCONFIRMED.format(who=who, day=day))
            continue
        if key in ctx["seen_days"]:  # a collector-day spanning villages is listed once
            continue
        ctx["seen_days"].add(key)
        if ld.cash_counted != ld.cash_on_hand:
            add("台账", DIFF_LEDGER_COUNTED.format(who=who, day=day), ld.cash_counted - ld.cash_on_hand)
        now_n, now = ctx["now_by_day"].get(key, (0, ZERO))
        now = now or ZERO
        if ld.receipt_count != now_n or ld.total != now:
            add("台账", DIFF_LEDGER_CHANGED.format(who=who, day=day, then_n=ld.receipt_count, then=ld.total, now_n=now_n, now=to_yuan(now)),
                now - ld.total)
    # 报解: cash still held, and every remittance whose deposit differs from its valid receipts.
    if row["unremitted"]:
        add("报解", DIFF_UNREMITTED, row["unremitted"])
    # A remittance whose receipts changed after it was recorded is listed even when the deposit
    # happens to match what is left (e.g. under-remitted by exactly the receipt voided since).
    for g in ctx["gaps"].get(v.pk, []):
        text = "；".join(t for t in (g["text"], g["change"]) if t)
        add("报解", text, g["gap"] if g["gap"] else g["valid"] - g["remittance"].covered)
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


def to_yuan(amount) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.01"))


# --- The confirmation (缴费确认单) of one declaration ------------------------------------------------


def confirmation_check(*, declaration) -> dict:
    """Confirmation = accepted persons × amount, checked against their valid receipts and against
    the cash actually deposited for them, with the reconciliation's figures (``remittance_gaps``):
    ``remitted`` is the remitted receipts' value corrected by each remittance's gap."""
    accepted = declaration.lines.filter(result=LineResult.ACCEPTED)
    receipt_lines = ReceiptLine.objects.filter(enrollment__in=accepted.values("enrollment_id"), receipt__status=ReceiptStatus.VALID)
    receipted = receipt_lines.aggregate(s=Sum("amount"))["s"] or ZERO
    cash = receipt_lines.filter(receipt__channel__in=CASH_CHANNELS)
    cash_total = cash.aggregate(s=Sum("amount"))["s"] or ZERO
    unremitted = cash.filter(receipt__remittance__isnull=True).aggregate(s=Sum("amount"))["s"] or ZERO
    gaps = [g for g in remittance_gaps(receipts=Receipt.objects.filter(pk__in=cash.values("receipt_id"))) if g["gap"]]
    remitted = cash_total - unremitted + sum((g["gap"] for g in gaps), ZERO)
    return {
        "confirmed": declaration.confirmed_total,
        "receipted": receipted,
        "cash": cash_total,
        "remitted": remitted,
        "unremitted": unremitted,
        "gaps": [{"text": g["text"], "amount": g["gap"]} for g in gaps],
        "agrees": declaration.confirmed_total == receipted and not unremitted and not gaps,
    }
