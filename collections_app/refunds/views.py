"""Pages of refunds: apply with evidence, decide, mark paid."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render

from core import disclosure
from core.access import needs
from core.models import Region
from core.params import query_id
from core.scoping import visible_or_404
from enrollment.choices import PAID_STATUSES
from enrollment.models import Enrollment
from subsidies.choices import LEAVING_REASONS

from ..choices import RefundStatus
from ..models import Refund
from ..pages import add_form_errors, error_messages, page_of
from . import services as refund_services
from .filtersets import RefundFilterSet
from .forms import RefundDecisionForm, RefundForm, RefundPaidForm


@needs("refund.apply", "refund.approve", "refund.pay")
def refund_list(request):
    user = request.user
    if refund_services.refund_candidates_sync(user=user):
        messages.info(request, "税务数据导入发现的重复缴费已列为“待核实”退费。")
    qs = Refund.objects.visible_to(user).select_related("enrollment__person", "village")
    f = RefundFilterSet(request.GET, queryset=qs)
    f.form.fields["village"].queryset = Region.objects.visible_to(user).villages()
    page = page_of(request, f.qs)
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
    form = RefundForm(request.POST or None, request.FILES or None, reasons=refund_services.refund_reasons_for(enrollment))
    if request.method == "POST" and form.is_valid():
        try:
            refund = refund_services.refund_apply(actor=user, enrollment=enrollment, **form.cleaned_data)
        except ValidationError as exc:
            add_form_errors(form, exc)
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
            for m in error_messages(exc):
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
