"""Pages of publicity: the list to post, the posting and its photo."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from core.access import needs
from core.models import Region
from core.params import query_ids
from core.scoping import visible_or_404
from enrollment.years import year_for
from subsidies import workdays
from subsidies.choices import PublicityPayers
from subsidies.postings import schedule_years
from subsidies.selectors import posting_rules

from ..models import PublicityPosting
from ..pages import add_form_errors
from . import selectors as publicity_selectors
from . import services as publicity_services
from .forms import PostingForm


@needs("publicity.manage", "report.view")
def publicity_list(request):
    user = request.user
    year = year_for(request)
    overview = publicity_selectors.publicity_overview(user=user, year=year, today=timezone.localdate())
    return render(request, "collections/publicity_list.html", {
        **overview, "year": year, "can_manage": user.can("publicity.manage"),
    })


def _village(request, pk):
    return visible_or_404(request.user, Region.objects.villages().select_related("parent"), pk=pk)


@needs("publicity.manage", "report.view")
def publicity_print(request, village_pk):
    village = _village(request, village_pk)
    year = year_for(request, village.county)
    sheet = publicity_selectors.publicity_sheet(village=village, year=year)
    return render(request, "collections/publicity_print.html", {
        "village": village, "year": year, "sheet": sheet, "rows": sheet.rows, "total": sheet.total,
        "posting_days": sheet.rules.min_working_days if sheet.rules else None,
    })


BATCH_MAX_VILLAGES = 100  # a township's villages, with room
ERR_NO_VILLAGES = "请在公示页勾选要打印的村/社区。"


@needs("publicity.manage", "report.view")
def publicity_print_batch(request):
    """The lists to post of several villages (those ticked on the publicity page), each on its
    own page: a township prints its villages in one go."""
    ids = query_ids(request.GET, "village", limit=BATCH_MAX_VILLAGES)
    villages = Region.objects.visible_to(request.user).villages().filter(pk__in=ids).select_related("parent")
    villages = sorted(villages, key=lambda v: (v.parent.name, v.name))
    year = year_for(request, villages[0].county if villages else request.user.county)
    sheets = []
    for village in villages:
        sheet = publicity_selectors.publicity_sheet(village=village, year=year)
        sheets.append({"village": village, "sheet": sheet, "rows": sheet.rows, "total": sheet.total,
                       "posting_days": sheet.rules.min_working_days if sheet.rules else None})
    return render(request, "collections/publicity_print_batch.html", {
        "sheets": sheets, "year": year, "error": None if sheets else ERR_NO_VILLAGES})


@needs("publicity.manage")
def publicity_posting(request, village_pk):
    village = _village(request, village_pk)
    year = year_for(request, village.county)
    rules = posting_rules(village.county, year)
    posting_days = rules.min_working_days if rules else None
    form = PostingForm(request.POST or None, request.FILES or None, min_days=posting_days)
    if request.method == "POST" and form.is_valid():
        try:
            posting = publicity_services.publicity_record(actor=request.user, village=village, year=year, **form.cleaned_data)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"已登记{village.name}公示张贴记录（{posting.get_payers_display()}，{posting.person_count}人）。")
            for warning in workdays.working_days(posting.posted_from, posting.posted_until).warnings:
                messages.warning(request, warning)
            return redirect(f"{reverse('collections:publicity_list')}?year={year}")
    years = schedule_years(rules) if rules else set()
    return render(request, "collections/publicity_form.html", {
        "form": form, "village": village, "year": year, "posting_days": posting_days, "rules": rules,
        "payers_label": PublicityPayers(publicity_selectors.payers_of(rules)).label,
        "warnings": workdays.schedule_warnings(years | {timezone.localdate().year}),
    })


@needs("publicity.manage", "report.view")
def publicity_photo(request, pk):
    p = visible_or_404(request.user, PublicityPosting, pk=pk)
    if not p.photo:
        raise Http404
    return FileResponse(p.photo.open("rb"), filename=p.photo.name.rsplit("/", 1)[-1])
