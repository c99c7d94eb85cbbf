"""Pages: import history + upload, preview/result with progress, confirm, problem rows as xlsx. Thin."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import disclosure
from core.access import needs, require
from core.choices import RUNNING_IMPORT_STATUSES, ImportStatus, RegionLevel
from core.params import query_id
from core.scoping import visible_or_404
from core.spreadsheets import xlsx_response

from ..models.tax_imports import PROBLEM_OUTCOMES, RowOutcome
from . import progress, selectors, services
from .dates import WARN_BEFORE_CONFIRM
from .exports import problems_workbook_for
from .forms import TaxImportUploadForm
from .tasks import ERR_QUEUE, queue_tax_import

log = logging.getLogger(__name__)

MSG_UPLOADED = "文件已上传，正在预检。预检不会修改任何数据。"
MSG_PREVIEWED = "预检完成：请核对各项数量和问题行，确认无误后点“确认导入”。"
MSG_APPLYING = "正在导入，请稍候。"
MSG_APPLIED = "导入完成：确认入库 {confirmed} 人。问题行可下载后交乡镇核实。"
MSG_CANCELLED = "已放弃该批次，数据未做修改。"
MSG_RESUMED = "已重新开始，请稍候。"
ERR_NO_REGION = "您的账户没有绑定县/区，不能导入。"
PAGE_ROWS = 200


@needs("taximport.run", "refund.approve")
def taximport_list(request):
    form = TaxImportUploadForm()
    if request.method == "POST":
        require(request.user, "taximport.run", message=services.ERR_NO_PERMISSION)
        form = TaxImportUploadForm(request.POST, request.FILES)
        county = request.user.county
        if county is None:
            form.add_error(None, ERR_NO_REGION)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                ti = services.tax_import_create(
                    actor=request.user, county=county, upload=upload, name=upload.name, year=form.cleaned_data["year"]
                )
            except services.ImportFailed as exc:
                form.add_error("file", exc.message)
            else:
                if _start(request, ti, apply=False):
                    ti.refresh_from_db()
                    _say_where_it_is(request, ti)
                return redirect("collections:taximport_detail", pk=ti.pk)
    imports = selectors.tax_import_list(user=request.user)
    page = Paginator(imports, 30).get_page(request.GET.get("page"))
    for ti in page:
        ti.interrupted = progress.tax_import_is_interrupted(ti)
        ti.status_label = progress.status_label(ti, interrupted=ti.interrupted)
    return render(
        request, "collections/taximport_list.html", {"form": form, "page_obj": page, "can_run": request.user.can("taximport.run")}
    )


def _say_where_it_is(request, ti) -> None:
    """The banner after an upload says what has happened by now: a worker that ran at once (eager
    Celery, a small file) has already finished the preview, which must not still read 正在预检."""
    if ti.status == ImportStatus.PREVIEWED:
        messages.success(request, MSG_PREVIEWED)
    elif ti.status == ImportStatus.FAILED:
        messages.error(request, ti.error or ERR_QUEUE)
    else:
        messages.info(request, MSG_UPLOADED)


def _start(request, ti, *, apply: bool, previous: str | None = None) -> bool:
    if queue_tax_import(ti, actor=request.user, apply=apply, previous=previous):
        return True
    messages.error(request, ERR_QUEUE)
    return False


def _get(request, pk):
    require(request.user, "taximport.run", "refund.approve")
    return visible_or_404(request.user, selectors.tax_import_list(user=request.user), pk=pk)


@login_required
def taximport_detail(request, pk):
    ti = _get(request, pk)
    if request.GET.get("done"):
        if ti.status == ImportStatus.APPLIED:
            messages.success(request, MSG_APPLIED.format(confirmed=(ti.result or {}).get("confirmed", 0)))
        elif ti.status == ImportStatus.PREVIEWED:
            messages.success(request, MSG_PREVIEWED)
    outcome = request.GET.get("outcome") or None
    if outcome not in dict(RowOutcome.choices):
        outcome = None
    rows = selectors.tax_import_rows(user=request.user, tax_import=ti, outcome=outcome)
    page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
    shown = list(page)
    disclosure.show_ids(request.user, shown, page="tax_import_problems", obj=ti)
    interrupted = progress.tax_import_is_interrupted(ti)
    summary = ti.summary
    counts = [
        (key, label, summary.get(key, 0)) for key, label in RowOutcome.choices
    ] if summary else []
    return render(
        request,
        "collections/taximport_detail.html",
        {
            "ti": ti, "page_obj": page, "rows": shown, "counts": counts, "summary": summary, "outcome": outcome,
            "running": ti.status in RUNNING_IMPORT_STATUSES and not interrupted, "interrupted": interrupted,
            "interrupted_message": progress.interrupted_message(ti) if interrupted else "",
            "status_label": progress.status_label(ti, interrupted=interrupted),
            "problem_outcomes": [(k, RowOutcome(k).label) for k in PROBLEM_OUTCOMES],
            "can_run": request.user.can("taximport.run"),
            "can_confirm": bool(ti.preview) and ti.status in (ImportStatus.PREVIEWED, ImportStatus.FAILED),
            "unowned": rows.filter(township__isnull=True).count() if summary else 0,
            "confirm_dates": WARN_BEFORE_CONFIRM,
        },
    )


@login_required
@require_POST
def taximport_confirm(request, pk):
    ti = _get(request, pk)
    require(request.user, "taximport.run", message=services.ERR_NO_PERMISSION)
    previous = ti.status
    # Shown as running at once (progress bar, no second 确认 button) while the job waits for a worker.
    if not services.tax_import_mark_applying(actor=request.user, tax_import=ti):
        if ti.status == ImportStatus.APPLIED:
            messages.error(request, "该批次已导入。")
        elif ti.status == ImportStatus.APPLYING:
            messages.info(request, services.ERR_RUNNING)
        else:
            messages.error(request, services.ERR_NOT_PREVIEWED)
        return redirect("collections:taximport_detail", pk=ti.pk)
    if not _start(request, ti, apply=True, previous=previous):
        return redirect("collections:taximport_detail", pk=ti.pk)
    ti.refresh_from_db()
    if ti.status == ImportStatus.APPLIED:
        messages.success(request, MSG_APPLIED.format(confirmed=ti.result.get("confirmed", 0)))
    elif ti.status == ImportStatus.FAILED:
        messages.error(request, ti.error or ERR_QUEUE)
    else:
        messages.info(request, MSG_APPLYING)
    return redirect("collections:taximport_detail", pk=ti.pk)


@login_required
@require_POST
def taximport_resume(request, pk):
    """Rerun the preview or the apply of an interrupted import."""
    ti = _get(request, pk)
    require(request.user, "taximport.run", message=services.ERR_NO_PERMISSION)
    if not services.tax_import_resume(actor=request.user, tax_import=ti):
        messages.error(request, services.ERR_NOT_INTERRUPTED)
        return redirect("collections:taximport_detail", pk=ti.pk)
    if not _start(request, ti, apply=ti.status == ImportStatus.APPLYING):
        return redirect("collections:taximport_detail", pk=ti.pk)
    ti.refresh_from_db()
    if ti.status == ImportStatus.FAILED:
        messages.error(request, ti.error or ERR_QUEUE)
    elif ti.status == ImportStatus.APPLIED:
        messages.success(request, MSG_APPLIED.format(confirmed=ti.result.get("confirmed", 0)))
    elif ti.status == ImportStatus.PREVIEWED:
        messages.success(request, MSG_PREVIEWED)
    else:
        messages.info(request, MSG_RESUMED)
    return redirect("collections:taximport_detail", pk=ti.pk)


@login_required
@require_POST
def taximport_cancel(request, pk):
    ti = _get(request, pk)
    services.tax_import_cancel(actor=request.user, tax_import=ti)
    messages.success(request, MSG_CANCELLED)
    return redirect("collections:taximport_list")


@login_required
def taximport_progress(request, pk):
    ti = _get(request, pk)
    interrupted = progress.tax_import_is_interrupted(ti)
    done = ti.status not in RUNNING_IMPORT_STATUSES or interrupted
    last = progress.get_progress(ti.pk) or {}
    percent = 100 if done else last.get("percent", 0)
    if interrupted:
        message = progress.interrupted_message(ti)
    elif ti.status == ImportStatus.FAILED:
        message = ti.error
    else:
        message = last.get("message") or ti.get_status_display()
    return JsonResponse(
        {
            "percent": percent, "message": message, "done": done, "status": ti.status, "interrupted": interrupted,
            # ?done=1: the page says what happened when a worker (not this request) did the job.
            "redirect": reverse("collections:taximport_detail", args=[ti.pk]) + "?done=1" if done else None,
        }
    )


@login_required
def taximport_problems(request, pk):
    """The problem rows with their reasons, for the township to fix."""
    ti = _get(request, pk)
    rows = selectors.tax_import_rows(user=request.user, tax_import=ti)
    wb = problems_workbook_for(actor=request.user, rows=rows, obj=ti, detail={"export": "tax_import_problems"})
    return xlsx_response(wb, f"税务导入问题行_{ti.pk}.xlsx")


# --- The township's side: the problem rows of its own persons (and of rows whose 参保地 names one
# of its villages), from the applied imports of its county. ------------------------------------------
def _township_filters(request):
    # Township clerks (申报与对账: they fix the rows the tax office could not take); the county
    # (bureau, tax office) for the rows that name no township.
    if selectors.problem_owner(request.user) is None:
        raise PermissionDenied
    import_id = query_id(request.GET, "import")
    outcome = request.GET.get("outcome") or None
    if outcome not in PROBLEM_OUTCOMES:
        outcome = None
    return import_id, outcome


@login_required
def taximport_township(request):
    import_id, outcome = _township_filters(request)
    rows = selectors.township_problem_rows(user=request.user, tax_import_id=import_id, outcome=outcome)
    page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
    shown = list(page)
    # Township clerks see full numbers: they fix the rows against the ID card.
    disclosure.show_ids(request.user, shown, page="tax_import_township_problems")
    return render(
        request,
        "collections/taximport_township.html",
        {
            "page_obj": page, "rows": shown, "imports": selectors.township_imports(user=request.user),
            "import_id": import_id, "outcome": outcome, "township": request.user.region,
            "county_list": request.user.region.level == RegionLevel.COUNTY,
            "problem_outcomes": [(k, RowOutcome(k).label) for k in PROBLEM_OUTCOMES],
            "query": request.GET.urlencode(),
        },
    )


@login_required
def taximport_township_problems(request):
    """The same rows as xlsx (the filters of the page apply)."""
    import_id, outcome = _township_filters(request)
    rows = selectors.township_problem_rows(user=request.user, tax_import_id=import_id, outcome=outcome)
    wb = problems_workbook_for(
        actor=request.user, rows=rows, with_import=True,
        detail={"export": "tax_import_township_problems", "import": import_id, "outcome": outcome or ""},
    )
    suffix = "_未归属乡镇" if request.user.region.level == RegionLevel.COUNTY else ""
    return xlsx_response(wb, f"税务导入问题行_{request.user.region.name}{suffix}.xlsx")
