"""Pages of publicity: the list to post, the posting and its photo."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from core.access import needs
from core.models import Region
from core.scoping import visible_or_404
from enrollment.years import year_for
from subsidies.selectors import posting_working_days

from ..choices import ReceiptStatus
from ..models import PublicityPosting, ReceiptLine
from ..pages import add_form_errors
from . import selectors as publicity_selectors
from . import services as publicity_services
from .forms import PostingForm


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
            add_form_errors(form, exc)
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
