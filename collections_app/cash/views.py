"""Pages of cash at the village: receipts, the daily ledger, remittances."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import disclosure
from core.access import needs
from core.choices import RegionLevel
from core.models import Region
from core.money import to_money
from core.params import query_date, query_id
from core.scoping import visible_or_404
from enrollment.choices import PAID_STATUSES, EnrollmentStatus
from enrollment.models import Household
from enrollment.owed import owed_by_persons
from enrollment.years import year_for
from subsidies.book import OwedBook
from subsidies.selectors import ERR_NO_POLICY

from .. import rules
from ..capitals import amount_in_words
from ..models import Receipt
from ..pages import add_form_errors, error_messages, household_url, page_of
from . import selectors as cash_selectors
from . import services as cash_services
from .filtersets import ReceiptFilterSet
from .forms import LedgerConfirmForm, ReceiptForm, RemittanceForm, VoidForm

MSG_ALL_PAID = "本户已全部缴费，没有需要收款的人员。"
MSG_NOTHING_TO_PAY = "本户没有需要收款的人员（全额资助、已死亡或不参保）。"
MSG_REPLAYED = "这张收款单已经提交过，凭证 {number} 已开具，没有重复收款。"
ERR_NOT_CONFIRMED = "请先核对收款信息，在核对页面确认后再开具凭证。"


@needs("roster.view")
def receipt_list(request):
    qs = Receipt.objects.visible_to(request.user).select_related("village", "collector", "household")
    f = ReceiptFilterSet(request.GET, queryset=qs, request=request)
    f.form.fields["village"].queryset = Region.objects.visible_to(request.user).villages()
    f.form.fields["collector"].queryset = cash_selectors.collectors_for(request.user)
    page = page_of(request, f.qs.order_by("-issued_at", "-id"))
    breaches = cash_selectors.double_limit_breaches(user=request.user)
    return render(
        request, "collections/receipt_list.html",
        {"filter": f, "page_obj": page, "breaches": breaches, "remit": _remit_limits(request)},
    )


def _remit_limits(request):
    """The double limit of the user's county and the year on screen (defaults without a county)."""
    county = request.user.county
    return cash_selectors.remit_limits(county=county, year=year_for(request, county))


def _owed_table(members, year, tiers, enrollments, book):
    """Each member's amount at every tier of the policy: one identities query per tier, the
    policy and its offers read once (``book``)."""
    today = timezone.localdate()
    by_tier = {t: owed_by_persons(persons=members, year=year, tiers=dict.fromkeys((m.pk for m in members), t),
                                  paid_on=today, book=book) for t in tiers or [1]}
    rows = []
    for m in members:
        e = enrollments.get(m.pk)
        row = {"person": m, "enrollment": e, "paid": e is not None and e.status in PAID_STATUSES, "options": []}
        row["blocked"] = m.is_deceased or (e is not None and e.status not in PAID_STATUSES and e.status != EnrollmentStatus.PENDING)
        current = e.tier if e else 1
        row["tier"] = current
        for t, owed in by_tier.items():
            row["options"].append({"tier": t, "owed": owed[m.pk]})
            if t == current:
                row["owed"] = owed[m.pk]
        # What the desk offers to tick: a living, unpaid member who owes something at their tier.
        row["payable"] = not row["paid"] and not row["blocked"] and bool(row.get("owed") and row["owed"].self_pay)
        rows.append(row)
    return rows


@needs("payment.take")
def receipt_create(request):
    """The cash desk: find a household, tick who pays (the total and 找零 shown as they are
    picked), check the confirmation page, then issue the receipt from it — once."""
    user = request.user
    household = None
    if household_id := query_id(request.GET, "household"):
        household = visible_or_404(user, Household.objects.select_related("village"), pk=household_id)
    if household is None:
        q = request.GET.get("q", "").strip()
        results = cash_selectors.households_found(user=user, q=q) if q else []
        return render(request, "collections/receipt_find.html", {"q": q, "results": results})

    county = household.village.county
    year = year_for(request, county)
    book = OwedBook(county)
    policy = book.policy(year)
    if policy is None:
        tiers = []
        messages.error(request, ERR_NO_POLICY.format(county=county.name, year=year))
    else:
        tiers = [(t.number, t.name) for t in sorted(policy.tiers.all(), key=lambda t: t.number)]
    members, enrollments, paid_by = cash_selectors.household_at_the_desk(household=household, year=year)
    rows = _owed_table(members, year, [t for t, _ in tiers], enrollments, book) if policy else []
    settled = bool(rows) and not any(r["payable"] for r in rows)
    # Nothing left to pay: no form, only the confirmation page sent again (it finds its receipt).
    data = request.POST if request.method == "POST" and (not settled or "confirm" in request.POST) else None
    form = ReceiptForm(
        data, members=members, tier_choices=tiers, current_tiers={pk: e.tier for pk, e in enrollments.items()}
    )
    if data is not None and "back" not in data and form.is_valid():
        if "confirm" in data:
            if (out := _issue(request, form, household, year)) is not None:
                return out
        elif (out := _confirm_page(request, form, household, year, dict(tiers))) is not None:
            return out
    disclosure.show_ids(user, rows, page="receipt_create", obj=household, number=lambda r: r["person"].id_number)
    for r in rows:
        r["receipt"] = paid_by.get(r["person"].pk)
        r["tier_field"] = form[f"tier_{r['person'].pk}"] if f"tier_{r['person'].pk}" in form.fields else None
    return render(
        request,
        "collections/receipt_create.html",
        {"household": household, "form": form, "rows": rows, "year": year, "policy": policy,
         "household_url": household_url(household.pk), **_desk_sum(rows, form),
         "settled": (MSG_ALL_PAID if any(r["paid"] for r in rows) else MSG_NOTHING_TO_PAY) if settled else ""},
    )


def _desk_sum(rows, form) -> dict:
    """The figures under the table before any script runs (cash-desk.js keeps them live): the
    total of the ticked members at their chosen tiers, and 找零 for the 实收 typed."""
    ticked = set(form.data.getlist("persons")) if form.is_bound else None
    total, count = Decimal("0.00"), 0
    for r in rows:
        if not r["payable"] or (ticked is not None and str(r["person"].pk) not in ticked):
            continue
        tier = form[f"tier_{r['person'].pk}"].value() if r["tier_field"] is not None else r["tier"]
        owed = {str(o["tier"]): o["owed"].self_pay for o in r["options"]}
        total += owed.get(str(tier), r["owed"].self_pay)
        count += 1
    tendered = None
    if form.is_bound:
        form.is_valid()  # cleaned_data for what was typed; the errors stay on the form
        tendered = form.cleaned_data.get("tendered")
    return {"total": total, "ticked": count, "change": rules.change_due(total=total, tendered=tendered)}


def _confirm_page(request, form, household, year, tier_names):
    """Step 1 → the confirmation page: what the receipt will hold, as the policy says, and the
    form again as hidden fields with a fresh request key. ``None`` (errors on ``form``) if refused."""
    try:
        quote = cash_services.receipt_quote(
            actor=request.user, household=household, persons=form.cleaned_data["persons"], year=year, tiers=form.tiers()
        )
        quote.check_tendered(form.cleaned_data["tendered"])
    except ValidationError as exc:
        add_form_errors(form, exc)
        return None
    lines = [{"person": p, "tier": tier, "tier_name": tier_names.get(tier, f"{tier}档"), "owed": owed}
             for p, _e, tier, owed in quote.lines]
    disclosure.show_ids(request.user, lines, page="receipt_confirm", obj=household, number=lambda r: r["person"].id_number)
    hidden = [(k, v) for k in form.data for v in form.data.getlist(k) if k not in ("csrfmiddlewaretoken", "request_key")]
    return render(
        request,
        "collections/receipt_confirm.html",
        {"household": household, "year": year, "lines": lines, "quote": quote, "hidden": hidden,
         "request_key": uuid.uuid4().hex, "tendered": form.cleaned_data["tendered"],
         "change": quote.change(form.cleaned_data["tendered"]),
         "channel": dict(form.fields["channel"].choices).get(form.cleaned_data["channel"]),
         "payer_name": form.cleaned_data["payer_name"] or quote.lines[0][0].name,
         "household_url": household_url(household.pk)},
    )


def _issue(request, form, household, year):
    """Step 2: issue from the confirmation page; the same page sent again lands on its receipt."""
    key = form.cleaned_data["request_key"]
    if not key:
        form.add_error(None, ERR_NOT_CONFIRMED)
        return None
    tendered = form.cleaned_data["tendered"]
    try:
        receipt = cash_services.receipt_issue(
            actor=request.user,
            household=household,
            persons=form.cleaned_data["persons"],
            channel=form.cleaned_data["channel"],
            year=year,
            tiers=form.tiers(),
            payer_name=form.cleaned_data["payer_name"],
            tendered=tendered,
            request_key=key,
        )
    except ValidationError as exc:
        add_form_errors(form, exc)
        return None
    if receipt.replayed:
        messages.info(request, MSG_REPLAYED.format(number=receipt.number))
    else:
        change = rules.change_due(total=receipt.total, tendered=tendered)
        paid = f"实收 {to_money(tendered)} 元，找零 {change} 元，" if change is not None else ""
        messages.success(request, f"已收款 {receipt.total} 元，{paid}凭证号 {receipt.number}。请打印收款凭证。")
    return redirect("collections:receipt_detail", pk=receipt.pk)


def _receipt(request, pk):
    qs = Receipt.objects.select_related("village__parent", "collector", "household", "voided_by", "remittance")
    return visible_or_404(request.user, qs, pk=pk)


@needs("roster.view")
def receipt_detail(request, pk):
    receipt = _receipt(request, pk)
    lines = list(receipt.lines.all())
    disclosure.show_ids(request.user, lines, page="receipt_detail", obj=receipt)
    can_void = request.user.can("receipt.void")
    return render(
        request,
        "collections/receipt_detail.html",
        {"receipt": receipt, "lines": lines, "words": amount_in_words(receipt.total), "void_form": VoidForm(),
         "household_url": household_url(receipt.household_id), "can_void": can_void,
         "void_refusal": cash_services.receipt_void_refusal(receipt=receipt) if can_void else None,
         "remit": cash_selectors.remit_limits(county=receipt.county_id, year=receipt.year)},
    )


@needs("roster.view")
def receipt_print(request, pk):
    receipt = _receipt(request, pk)
    lines = list(receipt.lines.all())
    for ln in lines:
        ln.masked = disclosure.MASKED.id_number(ln.id_number)
        ln.words = amount_in_words(ln.amount)
    size = "A5" if request.GET.get("size", "").upper() == "A5" else "A4"
    parts = [("第一联", "缴费人留存"), ("第二联", "经办人留存（乡镇社保中心存档2年）")]
    return render(
        request,
        "collections/receipt_print.html",
        {"receipt": receipt, "lines": lines, "words": amount_in_words(receipt.total), "size": size, "parts": parts},
    )


@require_POST
@needs("receipt.void")
def receipt_void(request, pk):
    receipt = _receipt(request, pk)
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, "作废必须填写原因。")
        return redirect("collections:receipt_detail", pk=pk)
    try:
        cash_services.receipt_void(actor=request.user, receipt=receipt, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        for m in error_messages(exc):
            messages.error(request, m)
    else:
        messages.success(request, f"凭证 {receipt.number} 已作废，相关人员恢复为待缴费。")
    return redirect("collections:receipt_detail", pk=pk)

@needs("payment.take")
def ledger(request):
    user = request.user
    today = timezone.localdate()
    day = min(query_date(request.GET, "day") or today, today)  # no ledger of a day still to come
    form = LedgerConfirmForm(request.POST or None, initial={"day": day})
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = cash_services.ledger_confirm(
                actor=user, day=form.cleaned_data["day"], cash_counted=form.cleaned_data["cash_counted"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            if confirmed.replaced:
                messages.info(request, cash_services.ledger_reconfirmed_message(confirmed))
            summary = cash_selectors.ledger_day(collector=user, day=form.cleaned_data["day"])
            if summary["flags"]:
                messages.warning(request, "台账已确认，但有不符：" + "；".join(summary["flags"]))
            else:
                messages.success(request, "台账已确认，账实相符。")
            return redirect(f"{reverse('collections:ledger')}?day={form.cleaned_data['day']:%Y-%m-%d}")
    mine = cash_selectors.ledger_day_blind(cash_selectors.ledger_day(collector=user, day=day))
    others = []
    if user.region_id and user.region.level != RegionLevel.VILLAGE:
        others = [s for s in cash_selectors.ledgers_for_township(user=user, day=day) if s["collector"].pk != user.pk]
    # A blind count: the form is not pre-filled and the expected cash is withheld until the
    # collector has typed what they counted (ledger_day_blind); the difference is said after (the flags).
    breaches = cash_selectors.double_limit_breaches(user=user)
    return render(
        request,
        "collections/ledger.html",
        {"day": day, "mine": mine, "others": others, "form": form, "breaches": breaches,
         "prev": date.fromordinal(day.toordinal() - 1), "next": date.fromordinal(day.toordinal() + 1) if day < today else None},
    )

@needs("remittance.record")
def remittance_list(request):
    user = request.user
    page = page_of(request, cash_selectors.remittance_list(user=user).order_by("-deposited_on", "-id"))
    for r in page:
        now = cash_selectors.remittance_now(r)
        r.live, r.diff, r.change = now["valid"], now["difference"], now["change"]
        r.abs_diff = abs(r.diff)
    return render(
        request,
        "collections/remittance_list.html",
        {"page_obj": page, "on_hand": cash_selectors.cash_on_hand_by_collector(user=user), "remit": _remit_limits(request)},
    )


@needs("remittance.record")
def remittance_create(request):
    user = request.user
    collectors = cash_selectors.collectors_for(user)
    collector = None
    if collector_id := query_id(request.GET, "collector"):
        collector = visible_or_404(user, collectors, pk=collector_id)
    elif collectors.count() == 1:
        collector = collectors.first()
    if collector is None:
        return render(request, "collections/remittance_pick.html", {"on_hand": cash_selectors.cash_on_hand_by_collector(user=user)})
    receipts = list(cash_selectors.remittable_receipts(user=user, collector=collector))
    total = sum((r.total for r in receipts), Decimal("0.00"))
    initial = {"receipts": [r.pk for r in receipts], "amount": total}
    form = RemittanceForm(request.POST or None, receipts=receipts, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            out = cash_services.remittance_record(actor=user, collector=collector, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                raise
            add_form_errors(form, exc)
        else:
            messages.success(request, f"已登记解缴 {out.obj.amount} 元（回单号 {out.obj.slip_number}）。")
            for w in out.warnings:
                messages.warning(request, w)
            return redirect("collections:remittance_list")
    return render(request, "collections/remittance_form.html", {"form": form, "collector": collector, "receipts": receipts, "total": total})
