from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.shortcuts import redirect, render
from django.urls import reverse

from core.access import needs
from core.choices import RegionLevel
from core.spreadsheets import xlsx_response

from .. import selectors
from ..choices import PAID_STATUSES
from ..exports import roster_workbook_for
from ..filtersets import PersonFilterSet
from ..forms import CarryOverForm
from ..models import Household, HouseholdNotice
from ..services import RosterInvalid, carry_over, require_edit
from .common import page_year, picked_regions

PAGE_SIZE = 50
EXPORT_LIMIT = 200_000
ERR_EXPORT_TOO_BIG = "要导出的记录超过{limit}条，请按乡镇或村分批导出。"


def _roster_scope(request):
    """The township and village picked on the page, the benefit year, and the persons (with this
    year's status) they cover — the same for the roster page and its export."""
    township, village = picked_regions(request)
    year = page_year(request, village or township or request.user.region)
    qs = selectors.persons_with_status(user=request.user, year=year)
    if village is not None:
        qs = qs.filter(household__village=village)
    elif township is not None:
        qs = qs.filter(household__village__parent=township)
    return township, village, year, qs


@needs("roster.view")
def roster(request):
    """Village roster: search, filter by status and gaps, page. A township clerk picks a village;
    a county user picks a township, then a village. A search runs across everything visible."""
    user = request.user
    township, village, year, qs = _roster_scope(request)
    filterset = PersonFilterSet(request.GET, queryset=qs, request=request)
    searching = village is not None or any(request.GET.get(k) for k in ("q", "status"))
    ctx = {"year": year, "township": township, "village": village, "filterset": filterset, "searching": searching}
    if searching:
        people = filterset.qs.order_by("household__number", "household_id", "id")
        page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
        ctx.update(page_obj=page, people=page.object_list)
    elif township is not None:
        ctx["villages"] = selectors.villages_for(user, township=township)
    else:
        ctx["townships"] = selectors.townships_for(user).annotate(village_count=Count("children"))
    ctx["can_edit"] = user.can("roster.edit")
    ctx["can_import"] = user.can("roster.import")
    return render(request, "enrollment/roster.html", ctx)


@needs("roster.view")
def roster_export(request):
    """The roster as it is filtered on screen, as xlsx. IDs are masked unless a role that needs
    them asks for full numbers; every export is recorded."""
    user = request.user
    township, village, year, qs = _roster_scope(request)
    people = PersonFilterSet(request.GET, queryset=qs, request=request).qs.order_by("household__village_id", "household__number", "id")
    total = people.count()
    if total > EXPORT_LIMIT:
        messages.error(request, ERR_EXPORT_TOO_BIG.format(limit=EXPORT_LIMIT))
        return redirect(f"{reverse('enrollment:roster')}?{request.GET.urlencode()}")
    # Full numbers only when asked for, by a role that may see them; birth dates as the rule says.
    wb = roster_workbook_for(
        actor=user, people=people, year=year, full_ids=request.GET.get("full_id") == "1", obj=village or township,
        detail={"rows": total, "filters": request.GET.dict()},
    )
    name = (village or township or user.region)
    return xlsx_response(wb, f"花名册-{name.name if name else '全部'}-{year}.xlsx")


@needs("roster.edit")
def carry_over_view(request):
    """Carry last year's roster into the new benefit year in one action, and say what was done."""
    user = request.user
    township, village = picked_regions(request)
    year = page_year(request, village or township or user.region)
    villages = selectors.villages_for(user, township=township if not (user.region and user.region.level == RegionLevel.VILLAGE) else None)
    initial = {"village": village, "from_year": year - 1, "to_year": year}
    form = CarryOverForm(request.POST or None, villages=villages, initial=initial)
    report = None
    if request.method == "POST" and form.is_valid():
        require_edit(user)
        try:
            report = carry_over(
                actor=user, village=form.cleaned_data["village"], from_year=form.cleaned_data["from_year"],
                to_year=form.cleaned_data["to_year"],
            )
        except RosterInvalid as exc:
            form.add_error(None, exc.as_text())
        else:
            messages.success(request, report.summary())
    return render(request, "enrollment/carry_over.html", {"form": form, "report": report, "year": year, "village": village})


@needs("roster.view")
def notice_list(request):
    """Unpaid households of a village and whether their notice receipt and pledge letter are in."""
    user = request.user
    township, village = picked_regions(request)
    year = page_year(request, village or township or user.region)
    ctx = {"year": year, "village": village, "township": township}
    if village is None:
        ctx["villages"] = selectors.villages_for(user, township=township)
        return render(request, "enrollment/notice_list.html", ctx)
    notice = HouseholdNotice.objects.filter(household=OuterRef("pk"), year=year)
    households = (
        Household.objects.visible_to(user)
        .filter(village=village)
        .annotate(
            paid=Count("members__enrollments", filter=Q(members__enrollments__year=year, members__enrollments__status__in=PAID_STATUSES)),
            member_count=Count("members", distinct=True),
            receipt=Subquery(notice.values("notice_receipt")[:1]),
            pledge=Subquery(notice.values("pledge_letter")[:1]),
        )
        .filter(paid=0)
        .order_by("number")
    )
    missing = request.GET.get("missing") == "1"
    if missing:
        households = households.filter(Q(receipt__isnull=True) | Q(receipt=False) | Q(pledge=False))
    page = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    ctx.update(page_obj=page, households=page.object_list, missing=missing)
    return render(request, "enrollment/notice_list.html", ctx)
