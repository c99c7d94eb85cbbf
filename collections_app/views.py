"""Pages of the cash trail. Thin: forms in, services/selectors out, messages after every action."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import disclosure
from core.access import needs
from core.choices import RegionLevel
from core.models import Region
from core.params import query_date, query_id
from core.scoping import visible_or_404
from core.spreadsheets import xlsx_response
from enrollment.choices import PAID_STATUSES, EnrollmentStatus
from enrollment.models import Enrollment, Household
from enrollment.owed import owed_by_persons
from enrollment.years import year_for
from subsidies.book import OwedBook
from subsidies.models import SubsidyCategory
from subsidies.selectors import ERR_NO_POLICY, posting_working_days

from .capitals import amount_in_words
from .cash import selectors as cash_selectors
from .cash import services as cash_services
from .choices import LEAVING_REASONS, ReceiptStatus, RefundStatus
from .declarations import answers
from .declarations import selectors as declaration_selectors
from .declarations import services as declaration_services
from .exports import declaration_workbook_for
from .filtersets import DeclarationFilterSet, ReceiptFilterSet, RefundFilterSet
from .forms import (
    AnswerForm,
    DeclarationForm,
    LedgerConfirmForm,
    PostingForm,
    ReceiptForm,
    RefundDecisionForm,
    RefundForm,
    RefundPaidForm,
    RemittanceForm,
    VoidForm,
)
from .models import Declaration, PublicityPosting, Receipt, ReceiptLine, Refund
from .publicity import selectors as publicity_selectors
from .publicity import services as publicity_services
from .refunds import services as refund_services

PAGE_SIZE = 50


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _form_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for fld, errs in exc.message_dict.items():
            form.add_error(fld if fld in form.fields else None, errs)
    else:
        for m in exc.messages:
            form.add_error(None, m)


def household_url(pk) -> str:
    try:
        return reverse("enrollment:household_detail", args=[pk])
    except NoReverseMatch:
        return f"/households/{pk}/"


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- Receipts ---------------------------------------------------------------------------------


@needs("roster.view")
def receipt_list(request):
    qs = Receipt.objects.visible_to(request.user).select_related("village", "collector", "household")
    f = ReceiptFilterSet(request.GET, queryset=qs, request=request)
    f.form.fields["village"].queryset = Region.objects.visible_to(request.user).villages()
    f.form.fields["collector"].queryset = cash_selectors.collectors_for(request.user)
    page = _page(request, f.qs.order_by("-issued_at", "-id"))
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
        rows.append(row)
    return rows


@needs("payment.take")
def receipt_create(request):
    user = request.user
    household = None
    if household_id := query_id(request.GET, "household"):
        household = visible_or_404(user, Household.objects.select_related("village"), pk=household_id)
    if household is None:
        q = request.GET.get("q", "").strip()
        results = []
        if q:
            results = (
                Household.objects.visible_to(user)
                .filter(Q(number=q) | Q(members__name__contains=q) | Q(members__id_number=q.upper()))
                .select_related("village")
                .annotate(n=Count("members", distinct=True))
                .distinct()
                .order_by("village__code", "number")[:30]
            )
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
    members = list(household.members.order_by("id"))
    enrollments = {e.person_id: e for e in Enrollment.objects.filter(person__in=members, year=year)}
    paid_by = {
        ln.person_id: ln.receipt
        for ln in ReceiptLine.objects.filter(person__in=members, receipt__year=year, receipt__status=ReceiptStatus.VALID).select_related("receipt")
    }
    form = ReceiptForm(
        request.POST or None, members=members, tier_choices=tiers, current_tiers={pk: e.tier for pk, e in enrollments.items()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            receipt = cash_services.receipt_issue(
                actor=user,
                household=household,
                persons=form.cleaned_data["persons"],
                channel=form.cleaned_data["channel"],
                year=year,
                tiers=form.tiers(),
                payer_name=form.cleaned_data["payer_name"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已收款 {receipt.total} 元，凭证号 {receipt.number}。请打印收款凭证。")
            return redirect("collections:receipt_detail", pk=receipt.pk)
    rows = _owed_table(members, year, [t for t, _ in tiers], enrollments, book) if policy else []
    disclosure.show_ids(user, rows, page="receipt_create", obj=household, number=lambda r: r["person"].id_number)
    for r in rows:
        r["receipt"] = paid_by.get(r["person"].pk)
        r["tier_field"] = form[f"tier_{r['person'].pk}"] if f"tier_{r['person'].pk}" in form.fields else None
    return render(
        request,
        "collections/receipt_create.html",
        {"household": household, "form": form, "rows": rows, "year": year, "policy": policy, "household_url": household_url(household.pk)},
    )


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
        for m in _errors(exc):
            messages.error(request, m)
    else:
        messages.success(request, f"凭证 {receipt.number} 已作废，相关人员恢复为待缴费。")
    return redirect("collections:receipt_detail", pk=pk)


# --- Ledger ---------------------------------------------------------------------------------


@needs("payment.take")
def ledger(request):
    user = request.user
    day = query_date(request.GET, "day") or timezone.localdate()
    form = LedgerConfirmForm(request.POST or None, initial={"day": day})
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = cash_services.ledger_confirm(
                actor=user, day=form.cleaned_data["day"], cash_counted=form.cleaned_data["cash_counted"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if confirmed.replaced:
                messages.info(request, cash_services.ledger_reconfirmed_message(confirmed))
            summary = cash_selectors.ledger_day(collector=user, day=form.cleaned_data["day"])
            if summary["flags"]:
                messages.warning(request, "台账已确认，但有不符：" + "；".join(summary["flags"]))
            else:
                messages.success(request, "台账已确认，账实相符。")
            return redirect(f"{reverse('collections:ledger')}?day={form.cleaned_data['day']:%Y-%m-%d}")
    mine = cash_selectors.ledger_day(collector=user, day=day)
    others = []
    if user.region_id and user.region.level != RegionLevel.VILLAGE:
        others = [s for s in cash_selectors.ledgers_for_township(user=user, day=day) if s["collector"].pk != user.pk]
    if not form.is_bound:
        form.initial["cash_counted"] = Decimal(mine["cash_on_hand"]).quantize(Decimal("0.01"))  # 840.00, not 840 (SQLite sums)
    breaches = cash_selectors.double_limit_breaches(user=user)
    return render(
        request,
        "collections/ledger.html",
        {"day": day, "mine": mine, "others": others, "form": form, "breaches": breaches,
         "prev": date.fromordinal(day.toordinal() - 1), "next": date.fromordinal(day.toordinal() + 1)},
    )


# --- Remittances ---------------------------------------------------------------------------------


@needs("remittance.record")
def remittance_list(request):
    user = request.user
    page = _page(request, cash_selectors.remittance_list(user=user).order_by("-deposited_on", "-id"))
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
            _form_errors(form, exc)
        else:
            messages.success(request, f"已登记解缴 {out.obj.amount} 元（回单号 {out.obj.slip_number}）。")
            for w in out.warnings:
                messages.warning(request, w)
            return redirect("collections:remittance_list")
    return render(request, "collections/remittance_form.html", {"form": form, "collector": collector, "receipts": receipts, "total": total})


# --- Declarations and reconciliation -------------------------------------------------------------------


def _declarable_regions(user):
    regions = Region.objects.visible_to(user).filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE])
    out = []
    for t in regions.filter(level=RegionLevel.TOWNSHIP).order_by("sort_order", "code"):
        out.append(t)
        out.extend(regions.filter(parent=t).order_by("sort_order", "code"))
    return out


@needs("declaration.manage", "report.view")
def declaration_list(request):
    user = request.user
    year = year_for(request)
    qs = Declaration.objects.visible_to(user).select_related("township", "village", "created_by")
    f = DeclarationFilterSet(request.GET, queryset=qs)
    form = None
    if user.can("declaration.manage"):
        form = DeclarationForm(request.POST or None, regions=_declarable_regions(user), initial={"year": year})
        if request.method == "POST" and form.is_valid():
            region = visible_or_404(user, Region, pk=form.cleaned_data["region"])
            try:
                d = declaration_services.declaration_create(actor=user, region=region, year=form.cleaned_data["year"])
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, f"已生成{d.unit_name}申报表：{d.person_count}人（零申报{d.zero_count}人），合计{d.total}元。请下载xlsx报送税务。")
                return redirect("collections:declaration_detail", pk=d.pk)
    elif request.method == "POST":
        raise PermissionDenied
    page = _page(request, f.qs)
    return render(request, "collections/declaration_list.html", {"filter": f, "page_obj": page, "form": form, "year": year})


def _declaration(request, pk):
    return visible_or_404(request.user, Declaration.objects.select_related("township", "village", "created_by"), pk=pk)


@needs("declaration.manage", "report.view")
def declaration_detail(request, pk):
    d = _declaration(request, pk)
    lines = list(d.lines.select_related("village", "enrollment__person").order_by("result", "village__code", "id"))
    # Plain names for the subsidy category codes (城乡低保对象, not "dibao").
    category_names = dict(
        SubsidyCategory.objects.filter(policy__county_id=d.township.parent_id, policy__year=d.year).values_list("code", "name")
    )
    # The form's full numbers are for the township that declares and the tax office only.
    disclosure.show_ids(request.user, lines, page="declaration_detail", obj=d, full_ids=disclosure.DECLARATION_ID_FULL)
    for ln in lines:
        ln.category_name = category_names.get(ln.subsidy_category_code, ln.subsidy_category_code)
    form = AnswerForm()
    result = None
    if request.method == "POST":
        if not request.user.can("declaration.manage"):
            raise PermissionDenied
        form = AnswerForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = answers.declaration_answer_import(actor=request.user, declaration=d, fileobj=form.cleaned_data["file"])
            except ValidationError as exc:
                for m in _errors(exc):
                    form.add_error("file", m)
                messages.error(request, "回执未导入，文件中有错误（见下方），请改正后重新上传。")
            else:
                messages.success(request, f"回执已导入：成功 {result.accepted} 人，失败 {result.failed} 人。失败人员已退回待修正后重新申报。")
                return redirect("collections:declaration_detail", pk=d.pk)
    remitted = _confirmation_check(d)
    return render(
        request, "collections/declaration_detail.html", {"d": d, "lines": lines, "form": form, "check": remitted, "can_manage": request.user.can("declaration.manage")},
    )


def _confirmation_check(d):
    """Confirmation (缴费确认单) = accepted persons × amount, checked against receipts and the cash
    actually deposited, with the reconciliation's figures."""
    return declaration_selectors.confirmation_check(declaration=d)


@needs("declaration.manage", "report.view")
def declaration_export(request, pk):
    d = _declaration(request, pk)
    return xlsx_response(declaration_workbook_for(actor=request.user, declaration=d), f"缴费清册_{d.unit_name}_{d.year}_{d.pk}.xlsx")


@needs("declaration.manage", "report.view", "payment.take")
def reconciliation(request):
    user = request.user
    regions = _declarable_regions(user)
    if user.region_id and user.region.level == RegionLevel.VILLAGE:
        regions = [user.region]
    if not regions:
        return render(request, "collections/reconciliation.html", {"data": None, "regions": []})
    region = regions[0]
    if region_id := query_id(request.GET, "region"):
        region = visible_or_404(user, Region.objects.exclude(level=RegionLevel.COUNTY), pk=region_id)
    year = year_for(request, region.county)
    data = declaration_selectors.reconciliation(user=user, region=region, year=year)
    return render(request, "collections/reconciliation.html", {"data": data, "regions": regions, "region": region, "year": year})


# --- Publicity ---------------------------------------------------------------------------------


@needs("publicity.manage", "report.view")
def publicity_list(request):
    user = request.user
    year = year_for(request)
    villages = Region.objects.visible_to(user).villages().order_by("parent__code", "sort_order", "code")
    counts = dict(
        ReceiptLine.objects.filter(receipt__village__in=villages, receipt__year=year, receipt__status=ReceiptStatus.VALID)
        .values_list("receipt__village_id")
        .annotate(n=Count("id"))
    )
    postings = {}
    for p in PublicityPosting.objects.visible_to(user).filter(year=year).order_by("posted_from"):
        postings.setdefault(p.village_id, []).append(p)
    rows = [{"village": v, "count": counts.get(v.pk, 0), "postings": postings.get(v.pk, [])} for v in villages]
    return render(request, "collections/publicity_list.html", {
        "rows": rows, "year": year, "can_manage": user.can("publicity.manage"),
        "posting_days": posting_working_days(user.county, year),
    })


def _village(request, pk):
    return visible_or_404(request.user, Region.objects.villages().select_related("parent"), pk=pk)


@needs("publicity.manage", "report.view")
def publicity_print(request, village_pk):
    village = _village(request, village_pk)
    year = year_for(request, village.county)
    rows = publicity_selectors.publicity_rows(village=village, year=year)
    total = sum((r["amount"] for r in rows), Decimal("0.00"))
    return render(request, "collections/publicity_print.html", {
        "village": village, "year": year, "rows": rows, "total": total,
        "posting_days": posting_working_days(village.county, year),
    })


@needs("publicity.manage")
def publicity_posting(request, village_pk):
    village = _village(request, village_pk)
    year = year_for(request, village.county)
    posting_days = posting_working_days(village.county, year)
    form = PostingForm(request.POST or None, request.FILES or None, min_days=posting_days)
    if request.method == "POST" and form.is_valid():
        try:
            publicity_services.publicity_record(actor=request.user, village=village, year=year, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已登记{village.name}公示张贴记录。")
            return redirect(f"{reverse('collections:publicity_list')}?year={year}")
    return render(request, "collections/publicity_form.html", {"form": form, "village": village, "year": year, "posting_days": posting_days})


@needs("publicity.manage", "report.view")
def publicity_photo(request, pk):
    p = visible_or_404(request.user, PublicityPosting, pk=pk)
    if not p.photo:
        raise Http404
    return FileResponse(p.photo.open("rb"), filename=p.photo.name.rsplit("/", 1)[-1])


# --- Refunds ---------------------------------------------------------------------------------


@needs("refund.apply", "refund.approve", "refund.pay")
def refund_list(request):
    user = request.user
    if refund_services.refund_candidates_sync(user=user):
        messages.info(request, "税务数据导入发现的重复缴费已列为“待核实”退费。")
    qs = Refund.objects.visible_to(user).select_related("enrollment__person", "village")
    f = RefundFilterSet(request.GET, queryset=qs)
    f.form.fields["village"].queryset = Region.objects.visible_to(user).villages()
    page = _page(request, f.qs)
    return render(request, "collections/refund_list.html", {"filter": f, "page_obj": page, "q": request.GET.get("q", "")})


@needs("refund.apply")
def refund_create(request):
    user = request.user
    enrollment = None
    if enrollment_id := query_id(request.GET, "enrollment"):
        enrollment = visible_or_404(user, Enrollment.objects.select_related("person", "village"), pk=enrollment_id)
    if enrollment is None:
        q = request.GET.get("q", "").strip()
        results = []
        if q:
            results = (
                Enrollment.objects.visible_to(user)
                .filter(status__in=PAID_STATUSES)
                .filter(Q(person__name__contains=q) | Q(person__id_number=q.upper()))
                .select_related("person", "village")[:30]
            )
        return render(request, "collections/refund_find.html", {"q": q, "results": results})
    form = RefundForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            refund = refund_services.refund_apply(actor=user, enrollment=enrollment, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已提交{enrollment.person.name}的退费申请，等待医保局审批。")
            return redirect("collections:refund_detail", pk=refund.pk)
    return render(request, "collections/refund_form.html", {"form": form, "enrollment": enrollment})


@needs("refund.apply", "refund.approve", "refund.pay")
def refund_detail(request, pk):
    user = request.user
    refund = visible_or_404(user, Refund.objects.select_related("enrollment__person", "village"), pk=pk)
    decide = RefundDecisionForm(prefix="d")
    paid = RefundPaidForm(prefix="p")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "decide":
                decide = RefundDecisionForm(request.POST, prefix="d")
                if decide.is_valid():
                    refund_services.refund_decide(actor=user, refund=refund, **decide.cleaned_data)
                    messages.success(request, "审批结果已保存。")
                    return redirect("collections:refund_detail", pk=pk)
            elif action == "pay":
                paid = RefundPaidForm(request.POST, prefix="p")
                if paid.is_valid():
                    refund = refund_services.refund_mark_paid(actor=user, refund=refund, **paid.cleaned_data)
                    e = refund.enrollment
                    if refund.reason in LEAVING_REASONS:
                        messages.success(request, f"已登记退付，{e.person.name}{e.year}年度参保状态改为“已退费”。")
                    else:
                        messages.success(request, f"已登记退付。退还的是多缴的款项，{e.person.name}{e.year}年度仍为参保。")
                    return redirect("collections:refund_detail", pk=pk)
            else:
                raise Http404
        except ValidationError as exc:
            for m in _errors(exc):
                messages.error(request, m)
    person = refund.enrollment.person
    disclosure.show_ids(user, [person], page="refund_detail", obj=refund)
    return render(
        request,
        "collections/refund_detail.html",
        {"refund": refund, "decide": decide, "paid": paid, "id_shown": person.id_shown,
         "can_decide": user.can("refund.approve") and refund.status == RefundStatus.APPLIED,
         "can_refuse_candidate": user.can("refund.approve") and refund.status == RefundStatus.CANDIDATE,
         "can_pay": user.can("refund.pay") and refund.status == RefundStatus.APPROVED,
         "can_apply": user.can("refund.apply") and refund.status == RefundStatus.CANDIDATE},
    )


@needs("refund.apply", "refund.approve", "refund.pay")
def refund_evidence(request, pk):
    user = request.user
    refund = visible_or_404(user, Refund, pk=pk)
    if not refund.evidence:
        raise Http404
    return FileResponse(refund.evidence.open("rb"), filename=refund.evidence.name.rsplit("/", 1)[-1])
