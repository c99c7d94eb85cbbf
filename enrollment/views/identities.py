"""Identity lists from departments: the list, and upload → preview (nothing written) → confirm."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from core import disclosure
from core.access import needs
from core.scoping import visible_or_404
from core.spreadsheets import UploadError
from subsidies import selectors as subsidy_selectors
from subsidies.models import PolicyYear

from .. import identity_lists, selectors
from ..filtersets import IdentityFilterSet
from ..forms import IdentityImportForm

MSG_IMPORTED = "导入完成：新增{created}条，更新{updated}条，无变化{unchanged}条，跳过有错误的{skipped}行。"
MSG_PREVIEW_GONE = "预览已过期，请重新上传名单。"
ERR_NO_VIEW = "您的角色不能查看此页面。"
SESSION_KEY = "identity_import"


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
    policies = PolicyYear.objects.visible_to(request.user).select_related("county")
    form = IdentityImportForm(request.POST or None, request.FILES or None, policies=policies)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        policy = form.cleaned_data["policy"]
        try:
            rows = identity_lists.read_rows(upload.file, name=upload.name)
            identity_lists.check_rows(actor=request.user, policy=policy, rows=rows)
        except UploadError as exc:
            form.add_error("file", exc.message)
        else:
            token = uuid.uuid4().hex
            request.session[SESSION_KEY] = {
                "token": token, "policy": policy.pk, "rows": identity_lists.to_plain(rows),
                "source_list": form.cleaned_data["source_list"] or upload.name, "file": upload.name,
            }
            return redirect("enrollment:identity_import_preview")
    return render(request, "enrollment/identity_import.html", {"form": form})


@needs("identity.import", message=ERR_NO_VIEW)
def identity_import_preview(request):
    stash = request.session.get(SESSION_KEY)
    if not stash:
        messages.warning(request, MSG_PREVIEW_GONE)
        return redirect("enrollment:identity_import")
    policy = visible_or_404(request.user, PolicyYear, pk=stash["policy"])
    checked = identity_lists.check_rows(actor=request.user, policy=policy, rows=stash["rows"])
    if request.method == "POST":
        if request.POST.get("token") != stash["token"]:
            messages.warning(request, MSG_PREVIEW_GONE)
            return redirect("enrollment:identity_import")
        result = identity_lists.identity_import(
            actor=request.user, policy=policy, rows=checked, source_list=stash["source_list"], file=stash["file"],
        )
        del request.session[SESSION_KEY]
        messages.success(request, imports_message(result))
        return redirect("enrollment:identity_list")
    for r in checked:
        r.masked_id = disclosure.MASKED.id_number(r.id_number)
    counts = {"ok": sum(1 for r in checked if not r.errors), "errors": sum(1 for r in checked if r.errors)}
    for key in (identity_lists.STATUS_NEW, identity_lists.STATUS_SAME, identity_lists.STATUS_CHANGED):
        counts[key] = sum(1 for r in checked if r.status == key)
    return render(request, "enrollment/identity_preview.html", {
        "policy": policy, "rows": checked, "counts": counts, "token": stash["token"], "stash": stash,
        "status_labels": identity_lists.STATUS_LABELS,
    })


def imports_message(result) -> str:
    return MSG_IMPORTED.format(created=result.created, updated=result.updated, unchanged=result.unchanged, skipped=result.skipped)
