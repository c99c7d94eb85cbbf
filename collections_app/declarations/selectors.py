"""Reads of declarations: reconciliation (钱、票、册) and one declaration's confirmation (缴费确认单)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q, Sum

from core import disclosure, idcard
from core.formats import chinese_date
from core.models import Region, User
from core.money import ZERO, to_money
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment

from ..cash.selectors import remittance_change
from ..choices import CASH_CHANNELS, LineResult, ReceiptStatus
from ..models import DailyLedger, DeclarationLine, Receipt, ReceiptLine, Remittance

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
            add("台账", DIFF_LEDGER_CHANGED.format(who=who, day=day, then_n=ld.receipt_count, then=ld.total, now_n=now_n, now=to_money(now)),
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


def preview_lines(user: User, preview) -> list[dict]:
    """The first rows of a declaration preview as the page and the API show them to ``user``
    (IDs as the declaration's own rule lets them see, the view recorded where full)."""
    rows = list(preview.first)
    villages = dict(Region.objects.filter(pk__in={e.village_id for e in rows}).values_list("pk", "name"))
    lines = [{"village": villages.get(e.village_id, ""), "name": e.person.name, "id_number": e.person.id_number,
              "tier": e.tier, "amount": e.amount_due or ZERO, "zero": not e.amount_due} for e in rows]
    disclosure.show_ids(user, lines, page="declaration_preview", obj=preview.region,
                        full_ids=disclosure.DECLARATION_ID_FULL, number=lambda r: r["id_number"])
    return lines
