"""Identity lists from departments: the list, and the upload that starts an import run."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from core.access import needs
from core.imports import flow
from core.imports import views as import_views
from core.spreadsheets import UploadError
from subsidies import selectors as subsidy_selectors
from subsidies.models import PolicyYear

from .. import importers, selectors
from ..filtersets import IdentityFilterSet
from ..forms import IdentityImportForm

ERR_NO_VIEW = "您的角色不能查看此页面。"


@needs("identity.import", "roster.view", message=ERR_NO_VIEW)
def identity_list(request):
    qs = selectors.identities_visible_to(request.user)
    f = IdentityFilterSet(request.GET or None, queryset=qs, request=request)
    f.form.fields["category"].widget.attrs["data-autosubmit"] = ""
    page = Paginator(f.qs, 50).get_page(request.GET.get("page"))
    categories = subsidy_selectors.categories_visible_to(request.user).order_by("-policy__year", "sort_order")
    return render(request, "enrollment/identity_list.html", {
        "filter": f, "page": page, "categories": categories, "can_import": request.user.can("identity.import"),
    })


@needs("identity.import", message=ERR_NO_VIEW)
def identity_import(request):
    """The upload page of a department's list: the file goes to the one import flow
    (``core.imports``), whose run page previews it row by row and confirms it."""
    policies = PolicyYear.objects.visible_to(request.user).select_related("county")
    form = IdentityImportForm(request.POST or None, request.FILES or None, policies=policies)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        policy = form.cleaned_data["policy"]
        options = {"policy": policy.pk, "source_list": form.cleaned_data["source_list"] or upload.name}
        try:
            run = flow.import_upload(actor=request.user, kind=importers.IDENTITY_LIST.kind, region=policy.county,
                                     year=policy.year, upload=upload, options=options)
        except UploadError as exc:
            form.add_error("file", exc.message)
        else:
            return import_views.start(request, run)
    return render(request, "enrollment/identity_import.html", {"form": form})
