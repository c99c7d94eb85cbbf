"""Pages of declarations for the tax office and the reconciliation of money, receipts and forms."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from core import disclosure
from core.access import needs
from core.choices import RegionLevel
from core.models import Region
from core.params import query_id
from core.scoping import visible_or_404
from core.spreadsheets import xlsx_response
from enrollment.years import year_for
from subsidies.models import SubsidyCategory

from ..exports import declaration_workbook_for
from ..models import Declaration
from ..pages import add_form_errors, error_messages, page_of
from . import answers
from . import selectors as declaration_selectors
from . import services as declaration_services
from .filtersets import DeclarationFilterSet
from .forms import AnswerForm, DeclarationForm


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
            if (out := _generate(request, form, region, form.cleaned_data["year"])) is not None:
                return out
    elif request.method == "POST":
        raise PermissionDenied
    page = page_of(request, f.qs)
    return render(request, "collections/declaration_list.html", {"filter": f, "page_obj": page, "form": form, "year": year})


def _generate(request, form, region, year):
    """Declaring moves people to 已申报: the first POST shows what the form will hold; only the
    confirmation (carrying that preview's fingerprint) generates it. ``None``: errors on ``form``."""
    user = request.user
    try:
        if "confirm" in request.POST:
            try:
                d = declaration_services.declaration_create(
                    actor=user, region=region, year=year, expect=request.POST.get("expect", "")
                )
            except ValidationError as exc:
                if declaration_services.ERR_PREVIEW_CHANGED not in error_messages(exc):
                    raise
                messages.warning(request, declaration_services.ERR_PREVIEW_CHANGED)
            else:
                messages.success(request, f"已生成{d.unit_name}申报表：{d.person_count}人（零申报{d.zero_count}人），合计{d.total}元。请下载xlsx报送税务。")
                return redirect("collections:declaration_detail", pk=d.pk)
        preview = declaration_services.declaration_preview(actor=user, region=region, year=year)
    except ValidationError as exc:
        add_form_errors(form, exc)
        return None
    lines = declaration_selectors.preview_lines(user, preview)
    return render(
        request, "collections/declaration_preview.html",
        {"preview": preview, "lines": lines, "unit": region.full_name if region.level == RegionLevel.TOWNSHIP else region.name,
         "more": preview.person_count - len(lines), "form": form},
    )


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
                for m in error_messages(exc):
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
